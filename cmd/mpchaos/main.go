// Command mpchaos is masspayout's chaos run (issue "Money-safety core v2", item 14), run by
// `make chaos`. For each seed it starts a private redis-server with AOF (appendfsync everysec),
// the iyzico sandbox in-process on loopback (the foreign dialect by default) with random 5xx,
// 429, latency past the client timeout and commit-then-drop faults, and several real
// `masspayout worker` processes; it submits a generated payroll file with `masspayout enqueue`
// and, while the batch is in flight, kills workers with SIGKILL (starting new ones in their
// place), kills redis-server with SIGKILL and starts it again from its AOF, stops a worker with
// SIGSTOP for longer than asynq's 30s lease, and approves like a person (`masspayout approve`
// whenever the batch awaits approval; right after the first approval `masspayout reconcile` and
// a second `approve` while the auths are in flight). Once the batch is final it prints every
// invariant ("Invariants" in docs/design.md) with its figures, checked against the
// sandbox's counters and the ledger's report.
//
// It builds nothing itself: the masspayout binary comes from -bin (`make chaos` builds it).
//
// Usage:
//
//	go run ./cmd/mpchaos [-bin bin/masspayout] [-seeds 1,2,3] [-rows 20000] [-chunk 100]
//	                     [-workers 3] [-dialect foreign|ours] [-timeout 10m] [-keep] [-short]
//
// A Redis kill is either a plain kill -9, which loses nothing Redis acknowledged (it writes its
// AOF before it replies), or a host crash: the AOF rolled back by up to a second, as a power cut
// leaves it under appendfsync everysec.
//
// -short is the CI form (about 1-2 minutes): one seed, 3000 rows, and all the chaos right after
// the first approval, among the auths: two worker kills, one Redis host crash, one SIGSTOP and the
// approve/reconcile/approve sequence. Exit status: 0 when every invariant holds for every seed, 1
// when one is violated (or the run could not be made), 2 for bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mpchaos:", err)
		os.Exit(exitCode(err))
	}
}

// errViolated: some invariant did not hold for some seed.
var errViolated = errors.New("invariants violated")

// usageError is bad usage: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func exitCode(err error) int {
	if _, ok := errors.AsType[*usageError](err); ok {
		return 2
	}
	return 1
}

// run is the whole program: one chaos run per seed, then the verdict.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if err := o.checkBinary(); err != nil {
		return err
	}
	violated := 0
	for _, seed := range o.seeds {
		res, err := runSeed(ctx, o, seed, stdout)
		if err != nil {
			return fmt.Errorf("seed %d: %w", seed, err)
		}
		if !res.ok() {
			violated++
		}
	}
	if violated > 0 {
		fmt.Fprintf(stdout, "\nmpchaos: %d of %d seeds VIOLATED an invariant\n", violated, len(o.seeds))
		return errViolated
	}
	fmt.Fprintf(stdout, "\nmpchaos: every invariant held for every seed (%d)\n", len(o.seeds))
	return nil
}
