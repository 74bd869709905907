package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/masspayout/masspayout/batch"
)

// cmdReport writes a batch's reconciliation report from the ledger: to -o PATH (with a .json
// summary beside it), to stdout with -o -, by default to RESULTS_DIR/<batch>.csv.
func cmdReport(ctx context.Context, e env) error {
	fs := newFlagSet(e, "report", "report [-o PATH] BATCH")
	out := fs.String("o", "", "where to write the CSV; - for standard output (default RESULTS_DIR/<batch>.csv)")
	args, err := parseInterleaved(fs, e.args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		fs.Usage()
		return usageErrorf("report needs exactly one BATCH")
	}
	a, err := newApp(ctx, e, appNeeds{}, "report")
	if err != nil {
		return err
	}
	defer a.close()
	id := args[0]
	if _, err := a.store.Get(ctx, id); errors.Is(err, batch.ErrNotFound) {
		return fmt.Errorf("batch %s not found: check the batch ID", id)
	}
	if *out == "-" {
		_, err := a.store.WriteReport(ctx, id, e.stdout)
		return err
	}
	path := *out
	if path == "" {
		path = filepath.Join(a.cfg.ResultsDir, id+".csv")
	}
	path, _, err = a.store.WriteReportFiles(ctx, id, path)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, path)
	return nil
}
