package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/masspayout/masspayout/internal/redistest"
)

// readCSV reads a CSV file whole.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

// TestRepayAndResubmit: a month-end run with bank failures and invalid rows; repay writes exactly
// the rows the report says are not paid, from the original file only; the corrected repay file
// pays them; an edited original pays only its new row, every other row refused as ALREADY_PAID.
func TestRepayAndResubmit(t *testing.T) {
	rs := redistest.Start(t)
	dir := t.TempDir()
	c := &cli{t: t, env: map[string]string{"REDIS_URL": rs.URL, "APPROVAL": "auto", "POLL_INTERVAL": "50ms",
		"RESULTS_DIR": dir, "CHUNK_SIZE": "50", "IYZICO_RATE_LIMIT": "0"}}
	ctx := context.Background()
	path, tot := writePayroll(t, 300, 29, 7)
	report := filepath.Join(dir, "nov.csv")
	c.must(ctx, "run", "--wait-final", "--report", report, "--batch-id", "nov", path)
	rep := readCSV(t, report)
	paidCol := -1
	for i, h := range rep[0] {
		if h == "paid" {
			paidCol = i
		}
	}
	notPaid := 0 // and definitively so: DEPOSIT_FAIL is an alarm, not a row to pay again
	for _, r := range rep[1:] {
		if r[paidCol] == "no" && !strings.Contains(strings.Join(r, ","), "DEPOSIT_FAIL") {
			notPaid++
		}
	}
	if notPaid <= tot.Invalid {
		t.Fatalf("%d rows not paid, %d invalid: the bank failed none", notPaid, tot.Invalid)
	}

	// Another file is refused: recipient details come only from the original.
	other, _ := writePayroll(t, 300, 29, 8)
	if _, errs, code := c.run(ctx, "repay", "--file", other, "nov"); code != exitUsage || !strings.Contains(errs, "not the batch's original file") {
		t.Fatalf("repay from another file: exit %d %s", code, errs)
	}
	repay := filepath.Join(dir, "repay.csv")
	_, errs, code := c.run(ctx, "repay", "--file", path, "-o", repay, "nov")
	if code != 0 || !strings.Contains(errs, "not paid, written to "+repay) {
		t.Fatalf("repay: exit %d %s", code, errs)
	}
	rows := readCSV(t, repay)
	if len(rows)-1 != notPaid || rows[0][len(rows[0])-1] != "reason" {
		t.Fatalf("repay file has %d rows (header %v), the report %d not paid\n%s", len(rows)-1, rows[0], notPaid, errs)
	}

	// The clerk corrects the amounts the sandbox's bank fails (.99 refunded; .98 would be lost) and submits the repay file.
	fixed := filepath.Join(dir, "repay-fixed.csv")
	b, _ := os.ReadFile(repay)
	if err := os.WriteFile(fixed, bytes.ReplaceAll(b, []byte(".99,"), []byte(".97,")), 0o600); err != nil {
		t.Fatal(err)
	}
	out := c.must(ctx, "run", "--wait-final", "--batch-id", "nov-repay", fixed)
	if !strings.Contains(out, "COMPLETED_WITH_ERRORS") || !strings.Contains(out, "SUCCESS") {
		t.Errorf("repay batch: %s", out)
	}
	// The repay rows are not in the file twice, and nothing from nov was paid again.
	repayRep := readCSV(t, filepath.Join(dir, "nov-repay.csv"))
	if len(repayRep)-1 != notPaid {
		t.Errorf("the repay batch's report has %d rows, want %d", len(repayRep)-1, notPaid)
	}

	// The original, edited (one new row), pays only the new row.
	edited := filepath.Join(dir, "edited.csv")
	b, _ = os.ReadFile(path)
	b = append(b, []byte("emp-new,MEMBER_ID,2228853,Ali Kaya,100.00,TRY,Maaş farkı\n")...)
	if err := os.WriteFile(edited, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out = c.must(ctx, "run", "--wait-final", "--batch-id", "nov-edit", edited)
	editRep := readCSV(t, filepath.Join(dir, "nov-edit.csv"))
	paid, already := 0, 0
	for _, r := range editRep[1:] {
		if r[paidCol] == "yes" {
			paid++
		}
		if strings.Contains(strings.Join(r, ","), "ALREADY_PAID") {
			already++
		}
	}
	if paid != 1 || already != tot.Valid {
		t.Errorf("edited original: %d paid (want 1), %d ALREADY_PAID (want %d)\n%s", paid, already, tot.Valid, out)
	}
}
