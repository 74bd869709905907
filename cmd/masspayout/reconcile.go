package main

import (
	"context"
	"fmt"
)

// cmdReconcile re-reads every chunk of a batch from iyzico and repairs the ledger, printing each
// change. Safe to run any time, any number of times.
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
	for _, c := range changes {
		fmt.Fprintln(e.stdout, c)
	}
	if err != nil {
		return twoPhaseError(err)
	}
	if len(changes) == 0 {
		fmt.Fprintf(e.stdout, "batch %s: no changes: the ledger agrees with iyzico\n", args[0])
		return nil
	}
	fmt.Fprintf(e.stdout, "batch %s: %d chunks repaired; workers carry on from here\n", args[0], len(changes))
	return nil
}
