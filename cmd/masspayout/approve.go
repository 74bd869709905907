package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/masspayout/masspayout/batch"
)

// cmdApprove releases a batch awaiting approval: one auth per initialized chunk.
func cmdApprove(ctx context.Context, e env) error {
	fs := newFlagSet(e, "approve", "approve [--as NAME] BATCH")
	as := fs.String("as", "", "your name, recorded in the audit list and checked by the four-eyes rule (default: $USER)")
	args, err := parseInterleaved(fs, e.args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		fs.Usage()
		return usageErrorf("approve needs exactly one BATCH")
	}
	a, err := newApp(ctx, e, appNeeds{}, "approve")
	if err != nil {
		return err
	}
	defer a.close()
	ap, err := a.store.Approve(ctx, args[0], identity(e, *as), a.cfg.ApprovalFourEyes, a.queue, a.taskOptions())
	if err != nil {
		return twoPhaseError(err)
	}
	if ap.Repeated {
		fmt.Fprintf(e.stdout, "batch %s: already approved (approval %d by %s at %s); nothing new awaits approval; follow it with: masspayout status --watch %s\n",
			args[0], ap.N, ap.Who, ap.At.Format(time.RFC3339), args[0])
		return nil
	}
	fmt.Fprintf(e.stdout, "batch %s: approval %d by %s released %s (%d rows, %s) for payment; follow it with: masspayout status --watch %s\n",
		args[0], ap.N, ap.Who, plural(len(ap.Chunks), "chunk"), ap.Rows, formatCurrencyAmounts(ap.Totals), args[0])
	return nil
}

// cmdCancel cancels a batch awaiting approval: its chunks still in INIT are canceled at iyzico.
func cmdCancel(ctx context.Context, e env) error {
	fs := newFlagSet(e, "cancel", "cancel [--as NAME] BATCH")
	as := fs.String("as", "", "your name, recorded in the audit list (default: $USER)")
	args, err := parseInterleaved(fs, e.args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		fs.Usage()
		return usageErrorf("cancel needs exactly one BATCH")
	}
	a, err := newApp(ctx, e, appNeeds{}, "cancel")
	if err != nil {
		return err
	}
	defer a.close()
	b, err := a.store.Cancel(ctx, args[0], identity(e, *as), a.queue, a.taskOptions())
	if err != nil {
		return twoPhaseError(err)
	}
	fmt.Fprintf(e.stdout, "batch %s: cancel requested by %s; its chunks in INIT are being canceled at iyzico\n", b.ID, b.CanceledBy)
	return nil
}

// identity is who runs a command: --as, else $USER, else "cli".
func identity(e env, as string) string {
	for _, v := range []string{as, e.getenv("USER")} {
		if v != "" {
			return v
		}
	}
	return "cli"
}

// twoPhaseError gives refusals exit code 1 with their message, and unknown batches a hint.
func twoPhaseError(err error) error {
	if errors.Is(err, batch.ErrNotFound) {
		return fmt.Errorf("%w: check the batch ID", err)
	}
	return err
}
