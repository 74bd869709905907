package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// options are the run's flags, with what -short changes already applied.
type options struct {
	bin     string
	seeds   []uint64
	rows    int
	chunk   int
	workers int
	dialect string
	timeout time.Duration
	keep    bool
	short   bool
	plan    planSpec
}

// planSpec is how much chaos one seed gets: how many of each action before the first approval
// (chunks being initialized) and after it (auths and polls in flight).
type planSpec struct {
	init, auth map[action]int
	stopFor    time.Duration // how long a stopped worker stays stopped
}

// planFor is the chaos of the full run, or of -short. The short one fits the CI budget: a task
// that a killed or stopped worker held, or whose state a Redis crash rolled back, stays active at
// asynq until its recoverer takes it back, 60-120s later (the 30s lease, the recoverer's 30s
// allowance for clock skew, its 1-minute period). Chaos in both phases could stall the batch
// twice in a row, so the short run's all goes where the money moves: among the auths, right
// after the first approval.
func planFor(short bool) planSpec {
	if short {
		return planSpec{
			auth:    map[action]int{killWorker: 2, crashRedis: 1, stopWorker: 1},
			stopFor: 35 * time.Second,
		}
	}
	return planSpec{
		init:    map[action]int{killWorker: 3, killRedis: 1, crashRedis: 1, stopWorker: 1},
		auth:    map[action]int{killWorker: 3, killRedis: 1, crashRedis: 1},
		stopFor: 35 * time.Second,
	}
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("mpchaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	fs.StringVar(&o.bin, "bin", "bin/masspayout", "the masspayout binary to run (make chaos builds it)")
	seeds := fs.String("seeds", "1,2,3", "comma-separated seeds: each a fresh Redis, sandbox, payroll file and batch")
	fs.IntVar(&o.rows, "rows", 20000, "rows in the generated payroll file")
	fs.IntVar(&o.chunk, "chunk", 100, "CHUNK_SIZE")
	fs.IntVar(&o.workers, "workers", 3, "masspayout worker processes")
	fs.StringVar(&o.dialect, "dialect", "foreign", "sandbox dialect: ours or foreign")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "per seed: the batch must be final within this")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (logs, Redis AOF, report) even when every invariant holds")
	fs.BoolVar(&o.short, "short", false, "the CI form: 1 seed, 3000 rows, timeout 160s, the chaos only among the auths")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mpchaos [flags]\n\nRuns masspayout workers against a real redis-server and the sandbox under chaos and checks the invariants.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, &usageError{fmt.Sprintf("unexpected arguments %q: mpchaos takes flags only", fs.Args())}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.plan = planFor(o.short)
	if o.short {
		defaults := map[string]func(){
			"seeds":   func() { *seeds = "1" },
			"rows":    func() { o.rows = 3000 },
			"timeout": func() { o.timeout = 160 * time.Second },
		}
		for name, apply := range defaults {
			if !set[name] {
				apply()
			}
		}
	}
	var err error
	if o.seeds, err = parseSeeds(*seeds); err != nil {
		return nil, &usageError{err.Error()}
	}
	return o, o.validate()
}

func (o *options) validate() error {
	switch {
	case o.rows < 1:
		return &usageError{fmt.Sprintf("-rows %d: want at least 1", o.rows)}
	case o.chunk < 1:
		return &usageError{fmt.Sprintf("-chunk %d: want at least 1", o.chunk)}
	case o.workers < 2:
		return &usageError{fmt.Sprintf("-workers %d: want at least 2 (one is killed or stopped at a time)", o.workers)}
	case o.dialect != "ours" && o.dialect != "foreign":
		return &usageError{fmt.Sprintf("-dialect %q: want ours or foreign", o.dialect)}
	case o.timeout < 30*time.Second:
		return &usageError{fmt.Sprintf("-timeout %s: want at least 30s", o.timeout)}
	}
	return nil
}

func parseSeeds(s string) ([]uint64, error) {
	var out []uint64
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("-seeds %q: want comma-separated whole numbers, like 1,2,3", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// checkBinary fails with what to do when the masspayout binary is missing.
func (o *options) checkBinary() error {
	st, err := os.Stat(o.bin)
	if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("masspayout binary %s not found or not executable: build it first (make build, or make chaos which does), or pass -bin PATH", o.bin)
	}
	o.bin, err = filepath.Abs(o.bin)
	return err
}
