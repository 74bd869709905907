package batch

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"strings"
	"testing"
	"time"
)

// csvWriterLine is what encoding/csv writes for the row: the reference appendCSV must match.
func csvWriterLine(t testing.TB, r *ReportRow) string {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	rec := []string{itoa(r.Row), r.ItemExternalID, r.RecipientType, r.RecipientInfoMasked, r.Amount, r.Currency,
		r.Status, r.ErrorCode, r.ErrorMessage, r.ExternalID, r.RequestID, r.ReferenceCode, r.CommissionAmount}
	for i := 1; i < len(rec); i++ {
		rec[i] = safeCell(rec[i])
	}
	rec = append(rec, Paid(r.Status))
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	return buf.String()
}

func TestAppendCSVMatchesEncodingCSV(t *testing.T) {
	for _, f := range []string{"", "plain", "a,b", `say "hi"`, "line\nbreak", "cr\rhere", " leading space", "\u00a0nbsp",
		"\tTAB", `\.`, `\.x`, "=SUM(1)", "-1", "Şükrü Öztürk", `""`, "trailing ", "\x85next-line"} {
		r := &ReportRow{Row: 7, ItemExternalID: f, RecipientInfoMasked: f, ErrorMessage: f, Amount: "1.00", Currency: "TRY", Status: "INIT"}
		if got, want := string(r.appendCSV(nil)), csvWriterLine(t, r); got != want {
			t.Errorf("field %q: appendCSV wrote %q, encoding/csv %q", f, got, want)
		}
	}
}

func FuzzAppendCSV(f *testing.F) {
	f.Add("a,b", `q"uote`, " sp")
	f.Add("=1", "\r\n", `\.`)
	f.Fuzz(func(t *testing.T, a, b, c string) {
		r := &ReportRow{Row: 1, ItemExternalID: a, RecipientInfoMasked: b, ErrorMessage: c, ReferenceCode: a + b}
		if got, want := string(r.appendCSV(nil)), csvWriterLine(t, r); got != want {
			t.Fatalf("appendCSV wrote %q, encoding/csv %q", got, want)
		}
	})
}

// TestReportRowOrderAcrossParts: a report of many parts (chunks are rendered a window at a time
// on several goroutines) keeps every row once, in file order, with rejected rows in their places:
// first and last rows, runs of them, and at part boundaries.
func TestReportRowOrderAcrossParts(t *testing.T) {
	s, q := newStore(t)
	const rows, chunk = 400, 3 // 16 chunks of 3 per part: parts of 48 valid rows
	rejected := map[int]bool{1: true, 2: true, 49: true, 50: true, 51: true, 100: true, 101: true, 250: true, 399: true, 400: true}
	var file strings.Builder
	file.WriteString(header)
	for r := 1; r <= rows; r++ {
		if rejected[r] {
			file.WriteString("r" + itoa(r) + ",IBAN,TR00,,1.00,TRY\n")
		} else {
			file.WriteString("r" + itoa(r) + ",MEMBER_ID,2228853,,1.00,TRY\n")
		}
	}
	res, err := submitBytes(t, s, q, "order", "csv", file.String(), chunk)
	if err != nil {
		t.Fatal(err)
	}
	if parts := (res.Batch.ChunksTotal + reportWindowSize - 1) / reportWindowSize; parts < 5 {
		t.Fatalf("only %d parts; the test needs several", parts)
	}
	var out bytes.Buffer
	numbers := RowFormat{Sep: "|", Row: func(b []byte, r *ReportRow) []byte {
		b = append(b, itoa(r.Row)...)
		if r.Status == RowRejected {
			b = append(b, 'x')
		}
		return b
	}}
	b, err := s.Get(context.Background(), "order")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := s.WriteRows(context.Background(), b, &out, numbers)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for r := 1; r <= rows; r++ {
		if rejected[r] {
			want = append(want, itoa(r)+"x")
		} else {
			want = append(want, itoa(r))
		}
	}
	if got := out.String(); got != strings.Join(want, "|") {
		t.Errorf("rows written:\n%s\nwant\n%s", got, strings.Join(want, "|"))
	}
	if sum.Rows != rows || sum.Totals["TRY"] != "400.00" {
		t.Errorf("summary: %d rows, totals %v", sum.Rows, sum.Totals)
	}
	for _, st := range sum.ByStatus {
		if (st.Status == RowRejected && st.Rows != len(rejected)) || (st.Status == RowPending && st.Rows != rows-len(rejected)) {
			t.Errorf("summary %s: %d rows", st.Status, st.Rows)
		}
	}
}

// TestReportStopsOnWriteError: a failing writer ends the report with its error, and no rendering
// goroutine is left behind.
func TestReportStopsOnWriteError(t *testing.T) {
	s, q := newStore(t)
	var file strings.Builder
	file.WriteString(header)
	for r := 1; r <= 4000; r++ {
		file.WriteString("r" + itoa(r) + ",MEMBER_ID,2228853,,1.00,TRY\n")
	}
	if _, err := submitBytes(t, s, q, "werr", "csv", file.String(), 2); err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	_, err := s.WriteReport(context.Background(), "werr", failingWriter{})
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("WriteReport = %v, want the writer's error", err)
	}
	time.Sleep(50 * time.Millisecond)
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("%d goroutines before the report, %d after", before, after)
	}
}

var errDiskFull = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestPaidColumn(t *testing.T) {
	for st, want := range map[string]string{
		"SUCCESS": PaidYes, "REJECTED": PaidNo, "INVALID": PaidNo, "ERROR": PaidNo, "MASS_PAYOUT_CANCELED": PaidNo,
		"FAILED": PaidNo, "DEPOSIT_SUCCESS": PaidNo, "DEPOSIT_FAIL": PaidNo,
		"PENDING": PaidPending, "INIT": PaidPending, "QUEUED": PaidPending, "PROCESSING": PaidPending, "UNKNOWN": PaidUnknown,
	} {
		if got := Paid(st); got != want {
			t.Errorf("Paid(%s) = %s, want %s", st, got, want)
		}
	}
}

// TestSummaryLeadsWithPaid: the summary says paid, not paid, pending and unknown first, keeps paid
// and refunded commission apart, and raises an alarm for DEPOSIT_FAIL and UNKNOWN rows.
func TestSummaryLeadsWithPaid(t *testing.T) {
	s, q := newStore(t)
	body := header + "a1,MEMBER_ID,2228853,,10.00,TRY\na2,MEMBER_ID,2228853,,20.00,TRY\na3,MEMBER_ID,2228853,,30.00,TRY\na4,MEMBER_ID,2228853,,40.00,TRY\nbad,IBAN,TR00,,5,TRY\n"
	if _, err := submitBytes(t, s, q, "paid", "csv", body, 10); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cl, err := s.Claim(ctx, "paid", 1, StepReconcile, time.Minute, ChunkStatesAll, false)
	if err != nil {
		t.Fatal(err)
	}
	out := []Outcome{{Status: "SUCCESS", Commission: "1.00"}, {Status: "DEPOSIT_SUCCESS", Commission: "1.00"}, {Status: "DEPOSIT_FAIL", Commission: "1.00"}, {Status: RowUnknown}}
	if _, err := cl.Commit(ctx, Change{Event: EvSeenLost, Outcomes: out}); err != nil {
		t.Fatal(err)
	}
	sum, err := s.Summary(ctx, "paid")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range sum.Paid {
		got[p.Status] = fmt.Sprintf("%d %s", p.Rows, p.Amounts["TRY"])
	}
	want := map[string]string{PaidYes: "1 10.00", PaidNo: "3 55.00", PaidUnknown: "1 40.00"}
	if !maps.Equal(got, want) || sum.Paid[0].Status != PaidYes {
		t.Errorf("paid %v, want %v in the order yes, no, unknown", got, want)
	}
	if sum.Commission["TRY"] != "1.00" || sum.CommissionRefunded["TRY"] != "1.00" {
		t.Errorf("commission %v, refunded %v", sum.Commission, sum.CommissionRefunded)
	}
	if len(sum.Alarms) != 2 || !strings.Contains(sum.Alarms[0], "DEPOSIT_FAIL") || !strings.Contains(sum.Alarms[1], "UNKNOWN") {
		t.Errorf("alarms %q", sum.Alarms)
	}
	var buf bytes.Buffer
	if _, err := s.WriteReport(ctx, "paid", &buf); err != nil {
		t.Fatal(err)
	}
	recs, _ := csv.NewReader(&buf).ReadAll()
	if recs[0][len(recs[0])-1] != "paid" || recs[1][13] != PaidYes || recs[5][13] != PaidNo || recs[4][13] != PaidUnknown {
		t.Errorf("report paid column: %v", recs)
	}
}
