package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/payoutfile"
)

// cmdRepay writes the rows of a batch that are definitively not paid, read from the batch's
// original file, as a CSV file to correct and submit again (batch/repay.go).
func cmdRepay(ctx context.Context, e env) error {
	fs := newFlagSet(e, "repay", "repay --file ORIGINAL [-o FILE] BATCH")
	file := fs.String("file", "", "the file the batch was submitted from, unchanged (masspayout keeps no recipient details once iyzico holds a payout)")
	out := fs.String("o", "", "write the repay file here (default: standard output)")
	args, err := parseInterleaved(fs, e.args)
	if err != nil {
		return err
	}
	if len(args) != 1 || *file == "" {
		fs.Usage()
		return usageErrorf("repay needs --file ORIGINAL and exactly one BATCH")
	}
	f, err := os.Open(*file)
	if err != nil {
		return withExit(exitUsage, fmt.Errorf("open the original file: %w", err))
	}
	defer f.Close()
	a, err := newApp(ctx, e, appNeeds{}, "repay")
	if err != nil {
		return err
	}
	defer a.close()
	limits := payoutfile.Options{MaxFileBytes: a.cfg.MaxFileBytes, MaxFieldBytes: a.cfg.MaxFieldBytes, MaxRows: a.cfg.MaxRows, MaxAmount: a.cfg.MaxItemAmount}
	var sum *batch.RepaySummary
	write := func(w io.Writer) error {
		sum, err = a.store.WriteRepay(ctx, args[0], f, limits, w)
		return err
	}
	if *out == "" {
		err = write(e.stdout)
	} else {
		err = batch.WriteAtomic(*out, write)
	}
	switch {
	case errors.Is(err, batch.ErrNotOriginal):
		return withExit(exitUsage, err)
	case err != nil:
		return twoPhaseError(err)
	}
	fmt.Fprintln(e.stderr, repayLine(sum, *out))
	return nil
}

// repayLine says what a repay file holds and what it left out.
func repayLine(s *batch.RepaySummary, path string) string {
	var b strings.Builder
	where := "written"
	if path != "" {
		where = "written to " + path
	}
	fmt.Fprintf(&b, "batch %s: %s not paid, %s", s.Batch, plural(s.Rows, "row"), where)
	curs := make([]string, 0, len(s.Amounts))
	for c := range s.Amounts {
		curs = append(curs, c)
	}
	slices.Sort(curs)
	for _, c := range curs {
		fmt.Fprintf(&b, ", %s %s", s.Amounts[c], c)
	}
	b.WriteString("; correct them and submit the file as a new batch (rows are checked against this batch, so nothing paid is paid again)")
	if s.StillOpen > 0 {
		fmt.Fprintf(&b, "\n  %s may still be paid (pending, UNKNOWN or FAILED in a payout not final) and %s left out: run repay again once the batch is final",
			plural(s.StillOpen, "row"), isAre(s.StillOpen))
	}
	if s.DepositFail > 0 {
		fmt.Fprintf(&b, "\n  ALARM: %s with DEPOSIT_FAIL (money neither paid nor back) %s left out: resolve them with iyzico first", plural(s.DepositFail, "row"), isAre(s.DepositFail))
	}
	if s.PaidElsewhere > 0 {
		fmt.Fprintf(&b, "\n  %s rejected because another batch pays them %s left out: re-pay them from that batch", plural(s.PaidElsewhere, "row"), isAre(s.PaidElsewhere))
	}
	return b.String()
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}
