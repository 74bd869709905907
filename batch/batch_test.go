package batch

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/internal/redistest"
	"github.com/masspayout/masspayout/tasks"
	"github.com/shopspring/decimal"
)

// recorder is an Enqueuer over a real asynq client that also counts what was enqueued per type.
type recorder struct {
	mu     sync.Mutex
	client *asynq.Client
	count  map[string]int
}

func (r *recorder) EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	info, err := r.client.EnqueueContext(ctx, t, opts...)
	if err == nil {
		r.mu.Lock()
		r.count[t.Type()]++
		r.mu.Unlock()
	}
	return info, err
}

func (r *recorder) types() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.count {
		out[k] = v
	}
	return out
}

func newStore(t testing.TB) (*Store, *recorder) {
	t.Helper()
	rdb := redistest.Start(t).Client()
	return NewStore(rdb, time.Hour), &recorder{client: asynq.NewClientFromRedisClient(rdb), count: map[string]int{}}
}

func submitBytes(t *testing.T, s *Store, q Enqueuer, id, format, body string, chunk int) (*SubmitResult, error) {
	t.Helper()
	return s.Submit(context.Background(), SubmitRequest{
		File: bytes.NewReader([]byte(body)), Source: "test." + format, BatchID: id,
		Options: Options{Format: format, ChunkSize: chunk}, Submitter: "tester",
	}, q, tasks.Options{MaxRetry: 3})
}

const header = "item_external_id,recipient_type,recipient_info,recipient_name,amount,currency\n"

func TestSubmitSplitsIntoDeterministicChunks(t *testing.T) {
	s, q := newStore(t)
	body := header +
		"a1,IBAN,TR330006100519786457841326,Ayşe Yılmaz,100.50,TRY\n" +
		"a2,IDENTITY_NUMBER,17291716060,,200,TRY\n" +
		"a3,IBAN,TR330006100519786457841327,Bad Check,5,TRY\n" + // rejected: mod-97
		"a4,PHONE,05321234567,,10.99,USD\n" +
		",MEMBER_ID,2228853,,7000,TRY\n"
	res, err := submitBytes(t, s, q, "b1", "csv", body, 2)
	if err != nil {
		t.Fatal(err)
	}
	b := res.Batch
	if b.Rows != 5 || b.Valid != 4 || b.Rejected != 1 || b.ChunksTotal != 2 || !b.SubmitDone || b.Status != StatusProcessing {
		t.Fatalf("batch = %+v", b)
	}
	if got := q.types(); got[tasks.TypeInit] != 2 || len(got) != 1 {
		t.Errorf("enqueued %v, want 2 init tasks", got)
	}
	c, err := s.GetChunk(context.Background(), "b1", 2)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"externalId":"b1-00002","conversationId":"b1-00002","items":[` +
		`{"itemExternalId":"a4","recipientType":"PHONE","recipientInfo":"+905321234567","amount":{"value":10.99,"currency":"USD"}},` +
		`{"itemExternalId":"b1-r5","recipientType":"MEMBER_ID","recipientInfo":"2228853","amount":{"value":7000,"currency":"TRY"}}]}`
	if string(c.Body) != want {
		t.Errorf("chunk body\n got %s\nwant %s", c.Body, want)
	}
	if len(c.Rows) != 2 || c.Rows[0] != 4 || c.Rows[1] != 5 || c.State != ChunkPending {
		t.Errorf("chunk rows %v state %s", c.Rows, c.State)
	}
	if b.Counts[RowPending] != 4 || b.Counts[RowRejected] != 1 {
		t.Errorf("counts %v", b.Counts)
	}
	if got := b.Amounts[RowPending]["TRY"]; !got.Equal(decimal.RequireFromString("7300.50")) {
		t.Errorf("pending TRY = %s", got)
	}
	if got := b.Amounts[RowRejected]["TRY"]; !got.Equal(decimal.RequireFromString("5")) {
		t.Errorf("rejected TRY = %s", got)
	}
}

func TestSubmitIdempotentAndConflicts(t *testing.T) {
	s, q := newStore(t)
	body := header + "a1,IDENTITY_NUMBER,17291716060,,200,TRY\n"
	if _, err := submitBytes(t, s, q, "b2", "csv", body, 10); err != nil {
		t.Fatal(err)
	}
	res, err := submitBytes(t, s, q, "b2", "csv", body, 10)
	if err != nil || !res.AlreadySubmitted {
		t.Fatalf("identical resubmit = %+v, %v", res, err)
	}
	if n := q.types()[tasks.TypeInit]; n != 1 {
		t.Errorf("%d tasks after an identical resubmit, want 1", n)
	}
	_, err = submitBytes(t, s, q, "b2", "csv", body+"a2,IDENTITY_NUMBER,17291716060,,1,TRY\n", 10)
	if !errors.Is(err, ErrBatchConflict) {
		t.Errorf("changed content = %v", err)
	}
	_, err = submitBytes(t, s, q, "b2", "csv", body, 11)
	if !errors.Is(err, ErrBatchConflict) {
		t.Errorf("changed options = %v", err)
	}
	if _, err := submitBytes(t, s, q, "bad id!", "csv", body, 10); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("bad batch ID = %v", err)
	}
}

func TestSubmitDerivesBatchIDs(t *testing.T) {
	s, q := newStore(t)
	res, err := submitBytes(t, s, q, "", "csv", header+"a1,IDENTITY_NUMBER,17291716060,,200,TRY\n", 10)
	if err != nil || !strings.HasPrefix(res.Batch.ID, "mp-") || len(res.Batch.ID) != 19 {
		t.Fatalf("derived ID = %+v, %v", res, err)
	}
	js := `{"items":[{"itemExternalId":"j1","recipientType":"MEMBER_ID","recipientInfo":"2228853","amount":{"value":7000,"currency":"TRY"}}],` +
		`"externalId":"payroll-json-1","conversationId":"conv-9","purpose":"SALARY"}`
	res, err = submitBytes(t, s, q, "", "json", js, 10)
	if err != nil || res.Batch.ID != "payroll-json-1" {
		t.Fatalf("JSON externalId as batch ID: %+v, %v", res, err)
	}
	c, _ := s.GetChunk(context.Background(), "payroll-json-1", 1)
	if !strings.Contains(string(c.Body), `"conversationId":"conv-9","purpose":"SALARY"`) {
		t.Errorf("JSON defaults not in body: %s", c.Body)
	}
}

func TestReportIsInjectionSafeAndOrdered(t *testing.T) {
	s, q := newStore(t)
	triggers := []string{"=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(1+1)", "\tTAB", "\rCR"}
	var b strings.Builder
	b.WriteString(header)
	for i, tr := range triggers {
		q := `"` + strings.ReplaceAll(tr, `"`, `""`) + `"`
		if i%2 == 0 {
			b.WriteString(q + ",IDENTITY_NUMBER,17291716060,,1,TRY\n") // maybe valid, maybe not
		} else {
			b.WriteString(q + ",IBAN,TR00,,1,TRY\n") // rejected
		}
	}
	res, err := submitBytes(t, s, q, "inj", "csv", b.String(), 2)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sum, err := s.WriteReport(context.Background(), res.Batch.ID, &out)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != strings.Join(ReportColumns, ",") {
		t.Errorf("header %v", recs[0])
	}
	if len(recs)-1 != len(triggers) || sum.Rows != len(triggers) {
		t.Fatalf("%d report rows, summary %d, want %d", len(recs)-1, sum.Rows, len(triggers))
	}
	for i, rec := range recs[1:] {
		if rec[0] != itoa(i+1) {
			t.Errorf("row %d is %s", i+1, rec[0])
		}
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("row %d: cell %q starts with a formula trigger", i+1, cell)
			}
		}
		if rec[1] != "" && strings.TrimPrefix(rec[1], "'") != triggers[i] && !strings.Contains(triggers[i], strings.TrimPrefix(rec[1], "'")) {
			t.Errorf("row %d item id %q does not round-trip %q", i+1, rec[1], triggers[i])
		}
	}
}

func itoa(n int) string { return decimal.NewFromInt(int64(n)).String() }

func TestSubmitWithoutValidRowsFinalizesAtOnce(t *testing.T) {
	s, q := newStore(t)
	res, err := submitBytes(t, s, q, "none", "csv", header+"a1,IBAN,TR00,,1,TRY\n", 10)
	if err != nil {
		t.Fatal(err)
	}
	if res.Batch.ChunksTotal != 0 || q.types()[tasks.TypeFinalize] != 1 {
		t.Errorf("chunks %d, tasks %v; want a finalize task at once", res.Batch.ChunksTotal, q.types())
	}
}

func TestSumIsExact(t *testing.T) {
	var s sum
	terms := []string{"100.50", "0.01", "999999999999999.99", "999999999999999.99", "1.005", "7", "-0.5", "1e2"}
	want := decimal.Zero
	for _, term := range terms {
		if !s.add(term) {
			t.Fatalf("add(%q) refused", term)
		}
		want = want.Add(decimal.RequireFromString(term))
	}
	if !s.value().Equal(want) {
		t.Errorf("sum = %s, want %s", s.value(), want)
	}
	if s.add("1,5") || s.add("abc") || s.add("") {
		t.Error("unreadable amounts accepted")
	}
	var big sum
	for range 3 {
		big.add("9000000000000000000")
	}
	if want := decimal.RequireFromString("27000000000000000000"); !big.value().Equal(want) {
		t.Errorf("overflowing sum = %s", big.value())
	}
}

func TestSumMixedScalesStaysExact(t *testing.T) {
	var s sum
	want := decimal.Zero
	for _, term := range []string{"10.5", "0.125", "3", "1.10", "0.001"} {
		s.add(term)
		want = want.Add(decimal.RequireFromString(term))
	}
	if s.useBig || !s.value().Equal(want) {
		t.Errorf("sum = %s (big %v), want %s on the int64 path", s.value(), s.useBig, want)
	}
}

// TestSumMergeIsExact: summing parts and merging them equals summing every term in one, on the
// int64 path, across scales, and past int64.
func TestSumMergeIsExact(t *testing.T) {
	parts := [][]string{{"10.5", "0.125"}, {}, {"3", "1e2"}, {"9000000000000000000", "9000000000000000000"}, {"0.001", "-0.5"}}
	for n := 1; n <= len(parts); n++ {
		var merged, whole sum
		for _, part := range parts[:n] {
			var p sum
			for _, term := range part {
				p.add(term)
				whole.add(term)
			}
			merged.merge(&p)
		}
		if !merged.value().Equal(whole.value()) || merged.set != whole.set {
			t.Errorf("%d parts: merged %s (set %v), summed %s (set %v)", n, merged.value(), merged.set, whole.value(), whole.set)
		}
	}
}

// TestFinalBatchExpiresWhole: when a batch becomes final, every key of its ledger (the batch, its
// counts, audit, rejected pages, and each chunk's hash, body and items) gets the ledger TTL, so
// nothing of it outlives the rest.
func TestFinalBatchExpiresWhole(t *testing.T) {
	s, q := newStore(t)
	body := header + "a1,IDENTITY_NUMBER,17291716060,,200.25,TRY\na2,MEMBER_ID,2228853,,7000,TRY\nbad,IBAN,TR00,,1,TRY\na3,MEMBER_ID,2228853,,1,TRY\n"
	if _, err := submitBytes(t, s, q, "ttl", "csv", body, 2); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b, err := s.Get(ctx, "ttl")
	if err != nil {
		t.Fatal(err)
	}
	if won, err := s.MarkFinal(ctx, b, StatusCanceled); err != nil || !won {
		t.Fatalf("MarkFinal = %v, %v", won, err)
	}
	if won, err := s.MarkFinal(ctx, b, StatusCanceled); err != nil || won {
		t.Fatalf("second MarkFinal = %v, %v; want false (final already)", won, err)
	}
	keys, err := s.rdb.Keys(ctx, "mp:{ttl}:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) < 9 { // batch, counts, audit, rejected page, 2 chunks × 3
		t.Fatalf("only %d ledger keys: %v", len(keys), keys)
	}
	keys = append(keys, contentKey(b.ContentHash)) // the file index entry goes with the batch
	for _, k := range keys {
		if ttl := s.rdb.PTTL(ctx, k).Val(); ttl <= 0 || ttl > time.Hour {
			t.Errorf("%s: TTL %v, want the ledger TTL (1h)", k, ttl)
		}
	}
}

// TestGeneratedItemIDsCannotCollide: a row whose own ID has the form given to rows without one
// (<batch>-r<row>) is rejected, so no two items of a batch share an itemExternalId.
func TestGeneratedItemIDsCannotCollide(t *testing.T) {
	s, q := newStore(t)
	body := header + ",MEMBER_ID,2228853,,1,TRY\ngen-r1,MEMBER_ID,2228853,,2,TRY\ngen-r1x,MEMBER_ID,2228853,,3,TRY\ngen-r,MEMBER_ID,2228853,,4,TRY\n"
	res, err := submitBytes(t, s, q, "gen", "csv", body, 10)
	if err != nil {
		t.Fatal(err)
	}
	if res.Batch.Rejected != 1 || res.Batch.Valid != 3 {
		t.Fatalf("valid %d, rejected %d; want row 2 alone rejected", res.Batch.Valid, res.Batch.Rejected)
	}
	var out bytes.Buffer
	if _, err := s.WriteReport(context.Background(), "gen", &out); err != nil {
		t.Fatal(err)
	}
	recs, _ := csv.NewReader(&out).ReadAll()
	ids := map[string]int{}
	for _, rec := range recs[1:] {
		if rec[6] != RowRejected {
			ids[rec[1]]++
		}
		if rec[0] == "2" && (rec[6] != RowRejected || rec[7] != "RESERVED_ITEM_EXTERNAL_ID") {
			t.Errorf("row 2: %v", rec)
		}
	}
	if ids["gen-r1"] != 1 || len(ids) != 3 {
		t.Errorf("item IDs sent: %v", ids)
	}
}

// TestSameFileUnderAnotherBatchID: a file held by one batch is refused under another batch ID
// (it would be paid twice) before anything is stored, unless AllowDuplicate says so; a refused
// submission claims nothing, and a file whose batch is gone may be submitted again.
func TestSameFileUnderAnotherBatchID(t *testing.T) {
	s, q := newStore(t)
	ctx := context.Background()
	fileA := header + "a1,MEMBER_ID,2228853,,10,TRY\na2,MEMBER_ID,2228853,,20,TRY\n"
	fileB := header + "b1,MEMBER_ID,2228853,,30,TRY\n"
	if _, err := submitBytes(t, s, q, "jan", "csv", fileA, 10); err != nil {
		t.Fatal(err)
	}
	tasksBefore := q.types()[tasks.TypeInit]

	_, err := submitBytes(t, s, q, "feb", "csv", fileA, 10)
	var dup *DuplicateContentError
	if !errors.As(err, &dup) || dup.Existing != "jan" || !errors.Is(err, ErrBatchConflict) || !errors.Is(err, ErrDuplicateContent) {
		t.Fatalf("same file as feb = %v, want a DuplicateContentError naming jan", err)
	}
	if _, err := s.Get(ctx, "feb"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the refused batch was stored: %v", err)
	}
	if n := q.types()[tasks.TypeInit]; n != tasksBefore {
		t.Errorf("%d init tasks after the refusal, want %d", n, tasksBefore)
	}
	// The same file and ID again is the idempotent replay, not a duplicate.
	if res, err := submitBytes(t, s, q, "jan", "csv", fileA, 10); err != nil || !res.AlreadySubmitted {
		t.Errorf("replay of jan = %+v, %v", res, err)
	}

	// A submission refused for another reason (jan holds other content) releases its claim.
	if _, err := submitBytes(t, s, q, "jan", "csv", fileB, 10); !errors.Is(err, ErrBatchConflict) || errors.Is(err, ErrDuplicateContent) {
		t.Fatalf("file B as jan = %v, want a batch conflict", err)
	}
	if _, err := submitBytes(t, s, q, "mar", "csv", fileB, 10); err != nil {
		t.Fatalf("file B as mar after the refused claim: %v", err)
	}

	// Allowed on purpose: submitted, and the audit says so.
	res, err := s.Submit(ctx, SubmitRequest{File: bytes.NewReader([]byte(fileA)), Source: "again.csv", BatchID: "jan-again",
		Options: Options{Format: "csv", ChunkSize: 10}, Submitter: "ayse", AllowDuplicate: true}, q, tasks.Options{MaxRetry: 3})
	if err != nil || res.Batch.Valid != 2 {
		t.Fatalf("AllowDuplicate: %+v, %v", res, err)
	}
	audit, _ := s.AuditLog(ctx, "jan-again")
	if !slices.ContainsFunc(audit, func(e AuditEntry) bool { return e.Action == "duplicate-allowed" && strings.Contains(e.Detail, "jan") }) {
		t.Errorf("audit %+v does not record the allowed duplicate", audit)
	}

	// Once jan's ledger is gone, the file is free again.
	keys, _ := s.rdb.Keys(ctx, "mp:{jan}:*").Result()
	s.rdb.Del(ctx, keys...)
	if _, err := submitBytes(t, s, q, "apr", "csv", fileA, 10); err != nil {
		t.Errorf("file A as apr after jan expired: %v", err)
	}
}

func TestIsGeneratedItemID(t *testing.T) {
	for id, want := range map[string]bool{"b-r1": true, "b-r0042": true, "b-r": false, "b-r1x": false, "-r1": false, "b-x1": false, "bb-r1": false, "b-r-1": false, "": false} {
		if got := isGeneratedItemID("b", id); got != want {
			t.Errorf("isGeneratedItemID(b, %q) = %v, want %v", id, got, want)
		}
	}
}
