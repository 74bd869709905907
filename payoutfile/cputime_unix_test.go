//go:build unix

package payoutfile

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user + system) the process has used, GC workers included. On a
// shared machine it is steadier than wall time for comparing two loops.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
