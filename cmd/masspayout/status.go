package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/masspayout/masspayout/batch"
)

// cmdStatus prints a batch's progress and what it waits for; --watch refreshes it with a progress
// bar until the batch is final or waits for a person (approval, reconcile).
func cmdStatus(ctx context.Context, e env) error {
	fs := newFlagSet(e, "status", "status [--watch] BATCH")
	watch := fs.Bool("watch", false, "refresh until the batch is final or waits for a person (approval, reconcile)")
	args, err := parseInterleaved(fs, e.args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		fs.Usage()
		return usageErrorf("status needs exactly one BATCH")
	}
	a, err := newApp(ctx, e, appNeeds{}, "status")
	if err != nil {
		return err
	}
	defer a.close()
	id := args[0]
	b, err := a.store.Get(ctx, id)
	if errors.Is(err, batch.ErrNotFound) {
		return fmt.Errorf("batch %s not found: check the ID with the API's GET /v1/batches or your enqueue output", id)
	}
	if err != nil {
		return err
	}
	if *watch {
		bar := newProgressBar(e.stderr)
		b, err = waitBatch(ctx, a.store, id, bar, func(b *batch.Batch) bool {
			return b.Final || batch.NextStep(b) != "" && b.Status != batch.StatusSubmitting
		})
		bar.done()
		if err != nil {
			return err
		}
	}
	sum, err := a.store.Summary(ctx, id)
	if err != nil {
		return err
	}
	printSummary(e.stdout, b, sum)
	fmt.Fprintf(e.stdout, "chunks: %s\n", batch.DescribeChunkStates(b.Chunks))
	if next := batch.NextStep(b); next != "" {
		fmt.Fprintf(e.stdout, "next: %s\n", next)
	}
	switch {
	case b.ReportPath != "" && b.ReportStatus == b.Status:
		fmt.Fprintf(e.stdout, "report: %s\n", b.ReportPath)
	case b.ReportPath != "":
		fmt.Fprintf(e.stdout, "report: %s, written when the batch was %s; the next is written on the next change of status (masspayout report %s writes one now)\n", b.ReportPath, b.ReportStatus, b.ID)
	}
	return nil
}
