package main

import (
	"context"
	"fmt"
)

// cmdReconcile re-reads every chunk of a batch from iyzico and repairs the ledger, printing what
// it found for each chunk; it exits 1 when chunks remain unresolved. Safe to run any time, any
// number of times.
func cmdReconcile(ctx context.Context, e env) error {
	fs := newFlagSet(e, "reconcile", "reconcile BATCH")
	args, err := parseInterleaved(fs, e.args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		fs.Usage()
		return usageErrorf("reconcile needs exactly one BATCH")
	}
	a, err := newApp(ctx, e, appNeeds{iyzico: true}, "reconcile")
	if err != nil {
		return err
	}
	defer a.close()
	changes, err := a.pipeline().Reconcile(ctx, args[0])
	repaired, unresolved := 0, 0
	for _, c := range changes {
		fmt.Fprintln(e.stdout, c)
		if c.Changed {
			repaired++
		}
		if c.Unresolved {
			unresolved++
		}
	}
	if err != nil {
		return twoPhaseError(err)
	}
	switch {
	case unresolved > 0:
		fmt.Fprintf(e.stdout, "batch %s: %d of %d chunks repaired; workers carry on from here\n", args[0], repaired, len(changes))
		return fmt.Errorf("batch %s: %s still unresolved (UNKNOWN, or iyzico could not be asked): the janitor retries them; if they stay, ask iyzico support about their externalIds", args[0], plural(unresolved, "chunk"))
	case repaired == 0:
		fmt.Fprintf(e.stdout, "batch %s: no changes: the ledger agrees with iyzico\n", args[0])
	default:
		fmt.Fprintf(e.stdout, "batch %s: %d of %d chunks repaired; workers carry on from here\n", args[0], repaired, len(changes))
	}
	return nil
}
