package batch

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/masspayout/masspayout/payoutfile"
	"github.com/masspayout/masspayout/tasks"
)

// setOutcomes writes chunk seq's item statuses as if iyzico had answered (the counters are not
// the point here).
func setOutcomes(t *testing.T, s *Store, id string, seq int, statuses ...string) {
	t.Helper()
	oc := make([]Outcome, len(statuses))
	for i, st := range statuses {
		oc[i] = Outcome{Status: st}
	}
	if err := s.rdb.HSet(context.Background(), chunkKey(id, seq), "outcomes", encodeOutcomes(oc)).Err(); err != nil {
		t.Fatal(err)
	}
}

// rejectedRows returns the batch's rejected rows by row number.
func rejectedRows(t *testing.T, s *Store, id string) map[int]RejectedRow {
	t.Helper()
	out := map[int]RejectedRow{}
	it := &rejectedIter{s: s, ctx: context.Background(), id: id, pages: 1 << 20}
	for {
		r, err := it.peek()
		if err != nil {
			t.Fatal(err)
		}
		if r == nil {
			return out
		}
		out[r.Row] = *r
		it.pop()
	}
}

// TestEditedFilePaysOnlyWhatWasNotPaid: a re-submitted, edited payroll pays its new and its
// not-paid rows, and refuses every row another batch paid or is paying, by ID and, for rows
// without one, by recipient, amount and description.
func TestEditedFilePaysOnlyWhatWasNotPaid(t *testing.T) {
	s, q := newStore(t)
	ctx := context.Background()
	first := header +
		"p1,MEMBER_ID,2228853,,100,TRY\n" + // paid
		"p2,MEMBER_ID,2228854,,200,TRY\n" + // failed at the bank and refunded
		"p3,MEMBER_ID,2228855,,300,TRY\n" + // still INIT
		"p4,MEMBER_ID,2228856,,400,TRY\n" + // UNKNOWN
		",MEMBER_ID,2228857,,500,TRY\n" + // paid, no ID
		",MEMBER_ID,2228858,,600,TRY\n" // FAILED, its payout not final yet, no ID
	if _, err := submitBytes(t, s, q, "nov", "csv", first, 3); err != nil {
		t.Fatal(err)
	}
	setOutcomes(t, s, "nov", 1, "SUCCESS", "DEPOSIT_SUCCESS", "INIT")
	setOutcomes(t, s, "nov", 2, RowUnknown, "SUCCESS", "FAILED")

	edited := header +
		"p1,MEMBER_ID,2228853,,100,TRY\n" +
		"p2,MEMBER_ID,2228854,,200,TRY\n" +
		"p3,MEMBER_ID,2228855,,300,TRY\n" +
		"p4,MEMBER_ID,2228856,,400,TRY\n" +
		",MEMBER_ID,2228857,,500,TRY\n" +
		",MEMBER_ID,2228858,,600,TRY\n" +
		",MEMBER_ID,2228857,,501,TRY\n" + // another amount: another payment
		"p9,MEMBER_ID,2228859,,900,TRY\n"
	res, err := submitBytes(t, s, q, "nov-fix", "csv", edited, 10)
	if err != nil {
		t.Fatal(err)
	}
	if b := res.Batch; b.Valid != 3 || b.Rejected != 5 {
		t.Fatalf("valid %d rejected %d, want 3 and 5", b.Valid, b.Rejected)
	}
	rej := rejectedRows(t, s, "nov-fix")
	want := map[int]struct{ code, says string }{
		1: {CodeAlreadyPaid, "was already paid in batch nov (row 1)"},
		3: {CodeAlreadyPaid, "is in flight in batch nov (row 3, INIT)"},
		4: {CodeAlreadyPaid, "may have been paid in batch nov (row 4, UNKNOWN"},
		5: {CodePossibleDuplicate, "was already paid in batch nov (row 5)"},
		6: {CodePossibleDuplicate, "failed in batch nov (row 6) but its payout is not final"},
	}
	for row, w := range want {
		r, ok := rej[row]
		if !ok || r.Code != w.code || !strings.Contains(r.Message, w.says) {
			t.Errorf("row %d: %+v, want %s saying %q", row, r, w.code, w.says)
		}
	}
	for _, row := range []int{2, 7, 8} {
		if r, ok := rej[row]; ok {
			t.Errorf("row %d (not paid before, or a new payment) was rejected: %+v", row, r)
		}
	}

	// The rows taken over now belong to nov-fix: a third submission is refused for them, naming
	// nov-fix, while they are in flight there.
	third := header + "p2,MEMBER_ID,2228854,,200,TRY\n,MEMBER_ID,2228857,,501,TRY\n"
	if _, err := submitBytes(t, s, q, "nov-again", "csv", third, 10); err != nil {
		t.Fatal(err)
	}
	rej = rejectedRows(t, s, "nov-again")
	if len(rej) != 2 || !strings.Contains(rej[1].Message, "batch nov-fix (row 2, PENDING)") || !strings.Contains(rej[2].Message, "batch nov-fix (row 7, PENDING)") {
		t.Errorf("third submission: %+v", rej)
	}

	// --allow-repeat pays them again and the audit says so.
	res, err = s.Submit(ctx, SubmitRequest{File: bytes.NewReader([]byte(third + "\n")), Source: "again.csv", BatchID: "nov-repeat",
		Options: Options{Format: "csv", ChunkSize: 10, AllowRepeat: true}, Submitter: "tester"}, q, tasks.Options{MaxRetry: 3})
	if err != nil || res.Batch.Valid != 2 {
		t.Fatalf("allow repeat: %+v, %v", res, err)
	}
	audit, _ := s.AuditLog(ctx, "nov-repeat")
	found := false
	for _, e := range audit {
		found = found || (e.Action == "repeat-allowed" && strings.Contains(e.Detail, "nov-fix (2)"))
	}
	if !found {
		t.Errorf("audit of an allowed repeat: %+v", audit)
	}
}

// TestRepeatCheckSurvivesResumeAndDiscard: a resumed submission rejects the same rows and builds
// the same chunks; a discarded batch frees its rows.
func TestRepeatCheckSurvivesResumeAndDiscard(t *testing.T) {
	s, q := newStore(t)
	ctx := context.Background()
	a := header + "r1,MEMBER_ID,2228853,,100,TRY\nr2,MEMBER_ID,2228854,,200,TRY\n"
	if _, err := submitBytes(t, s, q, "ra", "csv", a, 10); err != nil {
		t.Fatal(err)
	}
	b := header + "r0,MEMBER_ID,2228852,,50,TRY\nr1,MEMBER_ID,2228853,,100,TRY\nr3,MEMBER_ID,2228855,,300,TRY\n"
	if _, err := submitBytes(t, s, q, "rb", "csv", b, 1); err != nil {
		t.Fatal(err)
	}
	// Batch ra is discarded (nothing of it was sent), so r1 would be free now; rb's resumed
	// submission still rejects it, or its chunk 2 would hold another row than before.
	if err := s.Discard(ctx, "ra", "tester"); err != nil {
		t.Fatal(err)
	}
	if err := s.rdb.HSet(ctx, batchKey("rb"), "submit_done", "0").Err(); err != nil {
		t.Fatal(err)
	}
	res, err := submitBytes(t, s, q, "rb", "csv", b, 1)
	if err != nil || !res.Resumed || res.Batch.Valid != 2 || res.Batch.Rejected != 1 {
		t.Fatalf("resume = %+v, %v", res, err)
	}
	// A new batch gets r1: its earlier batch is gone.
	res, err = submitBytes(t, s, q, "rc", "csv", header+"r1,MEMBER_ID,2228853,,100,TRY\n", 10)
	if err != nil || res.Batch.Valid != 1 {
		t.Fatalf("after discard: %+v, %v", res, err)
	}
}

// TestConcurrentSubmissionsPayARowOnce: two files holding the same rows, submitted at once, pay
// each row in exactly one batch.
func TestConcurrentSubmissionsPayARowOnce(t *testing.T) {
	s, q := newStore(t)
	var body strings.Builder
	body.WriteString(header)
	const rows = 2500
	for i := range rows {
		body.WriteString("c" + itoa(i) + ",MEMBER_ID,2228853,,1" + itoa(i%100) + ",TRY\n")
	}
	var wg sync.WaitGroup
	ids := []string{"con-1", "con-2", "con-3"}
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Different chunk sizes make different files' blocks interleave differently.
			if _, err := s.Submit(context.Background(), SubmitRequest{File: bytes.NewReader([]byte(body.String() + strings.Repeat("\n", i))),
				Source: id, BatchID: id, Options: Options{Format: "csv", ChunkSize: 7 + i}, Submitter: "t"}, q, tasks.Options{MaxRetry: 3}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	valid := 0
	for _, id := range ids {
		b, err := s.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		valid += b.Valid
		if b.Valid+b.Rejected != rows {
			t.Errorf("%s: %d valid + %d rejected of %d rows", id, b.Valid, b.Rejected, rows)
		}
	}
	if valid != rows {
		t.Errorf("%d rows paid over three batches, want each of %d rows once", valid, rows)
	}
}

// TestRepayWritesWhatIsNotPaidForGood: the repay file holds, from the original file, the rows
// that are definitively not paid with their reasons; rows still open, DEPOSIT_FAIL and rows paid
// elsewhere are left out and counted; another file is refused; the repay file, submitted, pays
// its rows (their earlier rows are not paid) and nothing else.
func TestRepayWritesWhatIsNotPaidForGood(t *testing.T) {
	s, q := newStore(t)
	ctx := context.Background()
	orig := header +
		"m1,MEMBER_ID,2228853,,100,TRY\n" + // SUCCESS
		"m2,MEMBER_ID,2228854,Şule Koç,200.5,TRY\n" + // refunded
		"m3,MEMBER_ID,2228855,,300,TRY\n" + // FAILED, payout final
		"m4,MEMBER_ID,2228856,,400,TRY\n" + // FAILED, payout still processing: may still come back
		"m5,MEMBER_ID,2228857,,12.345,TRY\n" + // rejected: three decimals
		"m6,MEMBER_ID,2228858,,600,TRY\n" + // DEPOSIT_FAIL
		"m7,MEMBER_ID,2228859,,700,TRY\n" // still INIT
	if _, err := submitBytes(t, s, q, "dec", "csv", orig, 1); err != nil {
		t.Fatal(err)
	}
	for seq, st := range []string{"SUCCESS", "DEPOSIT_SUCCESS", "FAILED", "FAILED", "DEPOSIT_FAIL", "INIT"} {
		setOutcomes(t, s, "dec", seq+1, st)
	}
	if err := s.rdb.HSet(ctx, chunkKey("dec", 3), "payout_status", "COMPLETED").Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.rdb.HSet(ctx, chunkKey("dec", 4), "payout_status", "PROCESSING").Err(); err != nil {
		t.Fatal(err)
	}
	limits := payoutfile.Options{MaxFileBytes: 1 << 20}
	if _, err := s.WriteRepay(ctx, "dec", bytes.NewReader([]byte(orig+"\n")), limits, io.Discard); !errors.Is(err, ErrNotOriginal) {
		t.Fatalf("repay from another file = %v, want ErrNotOriginal", err)
	}
	var out bytes.Buffer
	sum, err := s.WriteRepay(ctx, "dec", bytes.NewReader([]byte(orig)), limits, &out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if lines[0] != strings.Join(RepayHeader, ",") {
		t.Errorf("header %q", lines[0])
	}
	want := []string{
		"m2,MEMBER_ID,2228854,Şule Koç,200.50,TRY,,,DEPOSIT_SUCCESS: the bank did not pay it and the money came back",
		"m3,MEMBER_ID,2228855,,300.00,TRY,,,FAILED: the bank did not pay it",
		`m5,MEMBER_ID,2228857,,12.345,TRY,,,"AMOUNT_SCALE: row 5 (line 6, ID m5), amount: ""12.345"" has 3 decimals`,
	}
	if len(lines) != 1+len(want) {
		t.Fatalf("repay file:\n%s", out.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[1+i], w) {
			t.Errorf("line %d = %q, want it to start with %q", i+1, lines[1+i], w)
		}
	}
	if sum.Rows != 3 || sum.StillOpen != 2 || sum.DepositFail != 1 || sum.Amounts["TRY"] != "512.845" {
		t.Errorf("summary %+v", sum)
	}

	// Re-submitted (m5 corrected), the repay file pays its rows: their earlier rows are not paid.
	fixed := strings.Replace(out.String(), "12.345", "12.35", 1)
	res, err := submitBytes(t, s, q, "dec-repay", "csv", fixed, 10)
	if err != nil || res.Batch.Valid != 3 || res.Batch.Rejected != 0 {
		t.Fatalf("repay submitted: %+v, %v", res.Batch, err)
	}
	// The original once more under another name: every row is refused or paid elsewhere now.
	res, err = submitBytes(t, s, q, "dec-again", "csv", orig+"\n", 10)
	if err != nil || res.Batch.Valid != 0 {
		t.Fatalf("original again: valid %d, %v", res.Batch.Valid, err)
	}
}

func TestNotPaidForGood(t *testing.T) {
	for _, tc := range []struct {
		status, payout string
		want           bool
	}{
		{"SUCCESS", "COMPLETED", false},
		{"INIT", "", false},
		{RowPending, "", false},
		{RowUnknown, "", false},
		{"DEPOSIT_FAIL", "COMPLETED", false}, // money neither paid nor back
		{"FAILED", "PROCESSING", false},      // may still become DEPOSIT_FAIL
		{"FAILED", "COMPLETED", true},
		{"DEPOSIT_SUCCESS", "PROCESSING", true},
		{"INVALID", "", true},
		{RowRejected, "", true},
		{RowError, "", true},
		{"MASS_PAYOUT_CANCELED", "CANCELED", true},
	} {
		if got := NotPaidForGood(tc.status, tc.payout); got != tc.want {
			t.Errorf("NotPaidForGood(%s, %s) = %v, want %v", tc.status, tc.payout, got, tc.want)
		}
	}
}
