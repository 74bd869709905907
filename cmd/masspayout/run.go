package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/iyzico"
)

// cmdRun submits a file and processes it in this process until every chunk has its init outcome
// (and, with APPROVAL=auto, is authorized; --wait-final waits for the bank's final statuses),
// then writes the report and prints the summary.
func cmdRun(ctx context.Context, e env) error {
	fs := newFlagSet(e, "run", "run [flags] FILE")
	var sf submitFlags
	sf.register(fs)
	report := fs.String("report", "", "where to write the report CSV (default RESULTS_DIR/<batch>.csv; a .json summary goes beside it)")
	waitFinal := fs.Bool("wait-final", false, "keep the workers running until the bank's final status of every item")
	args, err := parseInterleaved(fs, e.args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		fs.Usage()
		return usageErrorf("run needs exactly one FILE")
	}
	a, err := newApp(ctx, e, appNeeds{embeddedRedisOK: true, iyzico: true}, "run")
	if err != nil {
		return err
	}
	defer a.close()
	// The workers live as long as this batch: an idle one checks often, so the finalize task
	// starts at once and stopping (which waits out an idle check) is quick.
	stop, err := a.startWorkers(50 * time.Millisecond)
	if err != nil {
		return err
	}
	defer stop()

	bar := newProgressBar(e.stderr)
	res, err := sf.submit(ctx, a, e, args[0], func(p batch.SubmitProgress) {
		bar.show(fmt.Sprintf("submitting: %d rows read, %d chunks", p.Rows, p.Chunks), -1)
	})
	if err != nil {
		return err
	}
	id := res.Batch.ID
	if res.AlreadySubmitted {
		fmt.Fprintf(e.stdout, "batch %s was already submitted with this file and these options: nothing new was sent\n", id)
	}
	b, err := waitBatch(ctx, a.store, id, bar, func(b *batch.Batch) bool {
		if b.ReportStatus != b.Status {
			return false // the finalize task has not caught up
		}
		switch {
		case b.Final, b.Status == batch.StatusNeedsReconcile:
			return true
		case *waitFinal:
			return false
		case a.cfg.AutoApprove():
			// Every chunk authorized (or settled): no row waits for init or auth any more.
			return b.SubmitDone && b.Counts[batch.RowPending] == 0 && b.Counts[iyzico.ItemInit] == 0
		}
		return b.Status == batch.StatusAwaitingApproval
	})
	bar.done()
	if err != nil {
		return err
	}
	path := *report
	if path == "" {
		path = filepath.Join(a.cfg.ResultsDir, id+".csv")
	}
	// The finalize task has written the report for this status; write it again only elsewhere.
	sum, err := readSummary(path, b)
	if err != nil {
		if path, sum, err = a.store.WriteReportFiles(ctx, id, path); err != nil {
			return err
		}
	}
	printSummary(e.stdout, b, sum)
	fmt.Fprintf(e.stdout, "report: %s (summary: %s)\n", path, strings.TrimSuffix(path, filepath.Ext(path))+".json")
	if b.Status == batch.StatusNeedsReconcile {
		return fmt.Errorf("batch %s: %s", id, batch.NextStep(b))
	}
	if b.Status == batch.StatusAwaitingApproval {
		if a.cfg.EmbeddedRedis() {
			fmt.Fprintln(e.stdout, "the batch awaits approval, but its ledger lives in this process's embedded Redis and ends with it: set REDIS_URL to approve later, or run with APPROVAL=auto")
		} else {
			fmt.Fprintf(e.stdout, "next: masspayout approve %s\n", id)
		}
	}
	return nil
}

// waitBatch polls the batch until done says so, showing progress.
func waitBatch(ctx context.Context, s *batch.Store, id string, bar *progressBar, done func(*batch.Batch) bool) (*batch.Batch, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		b, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		frac := -1.0
		if total := max(b.ChunksTotal, b.ChunksSeen); total > 0 {
			frac = float64(b.InitDone+b.Settled) / float64(2*total)
		}
		bar.show(fmt.Sprintf("%s: rows %s", b.Status, formatStates(b.Counts)), frac)
		if done(b) {
			return b, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("batch %s: stopped while %s; the ledger keeps its state: %w", id, b.Status, ctx.Err())
		case <-tick.C:
		}
	}
}

func formatStates(states map[string]int) string {
	keys := make([]string, 0, len(states))
	for k := range states {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, states[k]))
	}
	return strings.Join(parts, ", ")
}

// printSummary prints a batch summary: first paid, not paid, pending and unknown rows and amounts
// per currency, then rows and amounts per status, commission, and what needs a person now.
func printSummary(w io.Writer, b *batch.Batch, sum *batch.Summary) {
	fmt.Fprintf(w, "batch %s: %s\n", b.ID, b.Status)
	fmt.Fprintf(w, "rows %d: %d valid, %d rejected; %s\n", b.Rows, b.Valid, b.Rejected, plural(b.ChunksTotal, "chunk"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "outcome\trows\tamount\t")
	for _, p := range sum.Paid {
		fmt.Fprintf(tw, "%s\t%d\t%s\t\n", paidLabel[p.Status], p.Rows, formatCurrencyAmounts(p.Amounts))
	}
	fmt.Fprintln(tw, "\t\t\t")
	fmt.Fprintln(tw, "status\trows\tamount\t")
	for _, st := range sum.ByStatus {
		fmt.Fprintf(tw, "%s\t%d\t%s\t\n", st.Status, st.Rows, formatCurrencyAmounts(st.Amounts))
	}
	fmt.Fprintf(tw, "total\t%d\t%s\t\n", sum.Rows, formatCurrencyAmounts(sum.Totals))
	tw.Flush()
	if len(sum.Commission) > 0 {
		fmt.Fprintf(w, "commission on paid rows: %s\n", formatCurrencyAmounts(sum.Commission))
	}
	if len(sum.CommissionRefunded) > 0 {
		fmt.Fprintf(w, "commission refunded with failed rows: %s\n", formatCurrencyAmounts(sum.CommissionRefunded))
	}
	if sum.Unreadable > 0 {
		fmt.Fprintf(w, "%d rejected rows have no readable amount and are not in the totals\n", sum.Unreadable)
	}
	for _, a := range sum.Alarms {
		fmt.Fprintf(w, "ALARM: %s\n", a)
	}
}

// paidLabel names the report's paid classes for people.
var paidLabel = map[string]string{batch.PaidYes: "paid", batch.PaidNo: "not paid", batch.PaidPending: "pending", batch.PaidUnknown: "unknown"}

func formatCurrencyAmounts(m map[string]string) string {
	curs := make([]string, 0, len(m))
	for c := range m {
		curs = append(curs, c)
	}
	sort.Strings(curs)
	parts := make([]string, 0, len(curs))
	for _, c := range curs {
		parts = append(parts, m[c]+" "+c)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// progressBar draws a one-line progress bar on a terminal and nothing elsewhere.
type progressBar struct {
	w    io.Writer
	on   bool
	last string
}

func newProgressBar(w io.Writer) *progressBar { return &progressBar{w: w, on: isTerminal(w)} }

// show draws text with a bar for frac in [0,1] (frac < 0: text only).
func (p *progressBar) show(text string, frac float64) {
	if !p.on {
		return
	}
	line := text
	if frac >= 0 {
		n := int(frac * 30)
		line = fmt.Sprintf("[%s%s] %3.0f%% %s", strings.Repeat("#", n), strings.Repeat(".", 30-n), frac*100, text)
	}
	if line == p.last {
		return
	}
	p.last = line
	fmt.Fprintf(p.w, "\r\033[K%s", line)
}

func (p *progressBar) done() {
	if p.on && p.last != "" {
		fmt.Fprintln(p.w)
	}
}

// readSummary returns the summary beside the report at path when the batch's finalize task wrote
// that report for the batch's current status.
func readSummary(path string, b *batch.Batch) (*batch.Summary, error) {
	if b.ReportPath != path || b.ReportStatus != b.Status {
		return nil, errors.New("report not current")
	}
	raw, err := os.ReadFile(strings.TrimSuffix(path, filepath.Ext(path)) + ".json")
	if err != nil {
		return nil, err
	}
	var sum batch.Summary
	if err := json.Unmarshal(raw, &sum); err != nil {
		return nil, err
	}
	if sum.Batch != b.ID || sum.Status != b.Status {
		return nil, errors.New("report not current")
	}
	return &sum, nil
}
