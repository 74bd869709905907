//go:build linux

package payoutfile

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestPeakRSS measures the peak resident memory of reading and validating generated payrolls. It
// runs only when MASSPAYOUT_RSS_ROWS lists row counts, for example
//
//	MASSPAYOUT_RSS_ROWS=100000,1000000 go test -run TestPeakRSS -v ./payoutfile/
//
// For each count it writes the file, then re-executes this test binary to read it (so nothing of
// the generation counts) and reports the child's maximum RSS from getrusage: for payoutfile with
// unique item external IDs, without IDs (no duplicate set), for the plain encoding/csv loop, and
// for a child that reads nothing (the test binary's own footprint).
func TestPeakRSS(t *testing.T) {
	list := os.Getenv("MASSPAYOUT_RSS_ROWS")
	if list == "" {
		t.Skip("set MASSPAYOUT_RSS_ROWS=100000,1000000 to measure peak RSS")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	child := func(mode, path string) int64 {
		cmd := exec.Command(exe, "-test.run=^TestPeakRSSChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "MASSPAYOUT_RSS_CHILD="+mode, "MASSPAYOUT_RSS_FILE="+path)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child %s: %v\n%s", mode, err, out)
		}
		return cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
	}
	t.Logf("baseline (test binary, reads nothing): %d KiB", child("none", ""))
	for _, s := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			t.Fatalf("MASSPAYOUT_RSS_ROWS: %v", err)
		}
		dir := t.TempDir()
		withIDs := writeBenchCSV(t, dir, n, true)
		fi, _ := os.Stat(withIDs)
		noIDsDir := t.TempDir()
		noIDs := writeBenchCSV(t, noIDsDir, n, false)
		t.Logf("%d rows (%d MiB): payoutfile %d KiB, payoutfile without item IDs %d KiB, plain encoding/csv loop %d KiB",
			n, fi.Size()>>20, child("payoutfile", withIDs), child("payoutfile", noIDs), child("plain", withIDs))
	}
}

// TestPeakRSSChild is the child process of TestPeakRSS.
func TestPeakRSSChild(t *testing.T) {
	mode := os.Getenv("MASSPAYOUT_RSS_CHILD")
	path := os.Getenv("MASSPAYOUT_RSS_FILE")
	switch mode {
	case "":
		t.Skip("child of TestPeakRSS")
	case "payoutfile":
		rows, valid := readWithPayoutfile(t, path)
		fmt.Println(rows, valid)
	case "plain":
		fmt.Println(readPlain(t, path))
	}
}
