//go:build unix

package httpapi

import "syscall"

// openFileLimit returns the process's open-file limit (RLIMIT_NOFILE, soft).
func openFileLimit() (uint64, bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, false
	}
	return uint64(rl.Cur), true
}

// freeDisk returns the bytes an unprivileged process may still write on dir's file system.
func freeDisk(dir string) (int64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), true
}
