package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/masspayout/masspayout/batch"
)

// cmdDiscard removes a batch that never reached iyzico (its submission failed, or nothing of it was
// sent yet), so that its file can be submitted again.
func cmdDiscard(ctx context.Context, e env) error {
	fs := newFlagSet(e, "discard", "discard [--as NAME] BATCH")
	as := fs.String("as", "", "your name, recorded with the discard (default: your OS user)")
	args, err := parseInterleaved(fs, e.args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		fs.Usage()
		return usageErrorf("discard needs exactly one BATCH")
	}
	a, err := newApp(ctx, e, appNeeds{}, "discard")
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.store.Discard(ctx, args[0], identity(e, *as)); err != nil {
		if errors.Is(err, batch.ErrReachedIyzico) {
			return withExit(exitFailed, err)
		}
		return twoPhaseError(err)
	}
	fmt.Fprintf(e.stdout, "batch %s discarded: nothing of it had reached iyzico; its file may be submitted again\n", args[0])
	return nil
}
