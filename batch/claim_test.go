package batch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/internal/redistest"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/tasks"
	"github.com/shopspring/decimal"
)

func TestCommitCountsOnceUnderClaim(t *testing.T) {
	s, q := newStore(t)
	body := header + "a1,IDENTITY_NUMBER,17291716060,,200.25,TRY\na2,MEMBER_ID,2228853,,7000,TRY\n"
	if _, err := submitBytes(t, s, q, "b3", "csv", body, 10); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cl, err := s.Claim(ctx, "b3", 1, StepInit, time.Minute, []string{ChunkPending}, false)
	if err != nil {
		t.Fatal(err)
	}
	if cl.SentBefore || cl.Nth != 1 {
		t.Errorf("first claim: sent before %v, nth %d", cl.SentBefore, cl.Nth)
	}
	// A second execution of the same step cannot claim the chunk while the first holds it.
	if _, err := s.Claim(ctx, "b3", 1, StepInit, time.Minute, []string{ChunkPending}, false); !errors.Is(err, ErrBusy) {
		t.Fatalf("second claim = %v, want ErrBusy", err)
	}
	ch := Change{Event: EvInitAccepted, RequestID: "req-1", Outcomes: []Outcome{{Status: iyzico.ItemInit}, {Status: iyzico.ItemInvalid, Code: "X"}}}
	prog, err := cl.Commit(ctx, ch)
	if err != nil || prog.Pending != 0 || prog.Init != 1 || prog.InitWaiting != 1 || !prog.InitPhaseDone() || !prog.Quiet() {
		t.Fatalf("Commit = %+v, %v", prog, err)
	}
	// The claim is released by the commit: committing with it again is refused, nothing counted.
	if _, err := cl.Commit(ctx, Change{Event: EvSeenInit, Outcomes: ch.Outcomes}); !errors.Is(err, ErrClaimLost) {
		t.Fatalf("commit after release = %v, want ErrClaimLost", err)
	}
	b, _ := s.Get(ctx, "b3")
	if b.Counts[iyzico.ItemInit] != 1 || b.Counts[iyzico.ItemInvalid] != 1 || b.Counts[RowPending] != 0 || b.InitDone != 1 {
		t.Errorf("counts %v init_done %d", b.Counts, b.InitDone)
	}
	if got := b.Amounts[iyzico.ItemInit]["TRY"]; !got.Equal(decimal.RequireFromString("200.25")) {
		t.Errorf("INIT TRY = %s", got)
	}
	if b.Status != StatusAwaitingApproval || b.Chunks[ChunkInit] != 1 || b.InitWaiting != 1 {
		t.Errorf("status %s, chunks %v, waiting %d", b.Status, b.Chunks, b.InitWaiting)
	}
	// An init claim on a chunk no longer PENDING is refused with its state.
	var se *StateError
	if _, err := s.Claim(ctx, "b3", 1, StepInit, time.Minute, []string{ChunkPending}, false); !errors.As(err, &se) || se.State != ChunkInit {
		t.Fatalf("init claim of an INIT chunk = %v", err)
	}
	// Auth needs an approval.
	if _, err := s.Claim(ctx, "b3", 1, StepAuth, time.Minute, []string{ChunkInit}, true); !errors.Is(err, ErrUnapproved) {
		t.Fatalf("auth claim before approval = %v, want ErrUnapproved", err)
	}
	// A recorded requestId never changes.
	cl, err = s.Claim(ctx, "b3", 1, StepReconcile, time.Minute, ChunkStatesAll, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Commit(ctx, Change{Event: EvSeenInit, RequestID: "req-2"}); err == nil {
		t.Fatal("a commit replacing the recorded requestId was accepted")
	}
	// An illegal transition is refused before anything is written.
	if _, err := cl.Commit(ctx, Change{Event: EvInitAccepted}); !errors.Is(err, ErrIllegalTransition) {
		t.Fatalf("INIT on init-accepted = %v, want ErrIllegalTransition", err)
	}
	cl.Release(ctx)
}

func TestClaimExpiresAndFencesTheLoser(t *testing.T) {
	s, q := newStore(t)
	if _, err := submitBytes(t, s, q, "exp", "csv", header+"a1,MEMBER_ID,2228853,,10,TRY\n", 10); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, err := s.Claim(ctx, "exp", 1, StepInit, 300*time.Millisecond, []string{ChunkPending}, false)
	if err != nil {
		t.Fatal(err)
	}
	var busy *BusyError
	if _, err := s.Claim(ctx, "exp", 1, StepInit, time.Minute, []string{ChunkPending}, false); !errors.As(err, &busy) || busy.Step != StepInit || busy.Left <= 0 {
		t.Fatalf("claim while held = %v", err)
	}
	time.Sleep(400 * time.Millisecond)
	second, err := s.Claim(ctx, "exp", 1, StepInit, time.Minute, []string{ChunkPending}, false)
	if err != nil {
		t.Fatalf("claim after expiry: %v", err)
	}
	if !second.SentBefore || second.Nth != 2 {
		t.Errorf("second claim: sent before %v (the first marked it), nth %d", second.SentBefore, second.Nth)
	}
	// The first execution woke up late: its commit and its failure record are refused.
	if _, err := first.Commit(ctx, Change{Event: EvInitRefused}); !errors.Is(err, ErrClaimLost) {
		t.Fatalf("late commit = %v, want ErrClaimLost", err)
	}
	if _, err := first.Fail(ctx, Failure{Err: errors.New("late"), Counted: true}); !errors.Is(err, ErrClaimLost) {
		t.Fatalf("late failure = %v, want ErrClaimLost", err)
	}
	// A release with a lost claim does not free the winner's.
	first.Release(ctx)
	if _, err := s.Claim(ctx, "exp", 1, StepInit, time.Minute, []string{ChunkPending}, false); !errors.Is(err, ErrBusy) {
		t.Fatalf("claim after the loser released = %v, want ErrBusy", err)
	}
	// Failures count towards the budget; a known-unsent call clears the sent mark.
	n, err := second.Fail(ctx, Failure{Err: errors.New("dial refused"), Counted: true, NotSent: true, Keep: true})
	if err != nil || n != 1 {
		t.Fatalf("Fail = %d, %v", n, err)
	}
	n, err = second.Fail(ctx, Failure{Err: errors.New("429"), Counted: false})
	if err != nil || n != 1 {
		t.Fatalf("uncounted Fail = %d, %v", n, err)
	}
	third, err := s.Claim(ctx, "exp", 1, StepInit, time.Minute, []string{ChunkPending}, false)
	if err != nil || third.SentBefore || third.Chunk.Attempts != 1 {
		t.Fatalf("third claim: %+v, %v; want not sent before, 1 attempt", third, err)
	}
}

// TestOverlappingClaimsOneWinner: many executions of one step race for a chunk; exactly one wins.
func TestOverlappingClaimsOneWinner(t *testing.T) {
	s, q := newStore(t)
	if _, err := submitBytes(t, s, q, "race", "csv", header+"a1,MEMBER_ID,2228853,,10,TRY\n", 10); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Claim(context.Background(), "race", 1, StepInit, time.Minute, []string{ChunkPending}, false); err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d executions won the claim, want 1", won)
	}
}

func TestApproveBindsToTheChunksItSaw(t *testing.T) {
	s, q := newStore(t)
	body := header + "a1,MEMBER_ID,2228853,,10.50,TRY\na2,MEMBER_ID,2228853,,20,TRY\na3,MEMBER_ID,2228853,,5,USD\n"
	if _, err := submitBytes(t, s, q, "ap", "csv", body, 1); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	commit := func(seq int, ev Event, st string) {
		t.Helper()
		cl, err := s.Claim(ctx, "ap", seq, StepReconcile, time.Minute, ChunkStatesAll, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cl.Commit(ctx, Change{Event: ev, RequestID: "r" + itoa(seq), Outcomes: []Outcome{{Status: st}}}); err != nil {
			t.Fatal(err)
		}
	}
	commit(1, EvInitAccepted, iyzico.ItemInit)
	commit(2, EvInitAccepted, iyzico.ItemInit)
	commit(3, EvBudgetSpent, RowUnknown)
	b, _ := s.Get(ctx, "ap")
	if b.Status != StatusAwaitingApproval {
		t.Fatalf("status %s", b.Status)
	}
	a, err := s.Approve(ctx, "ap", "alice", ApproveOptions{}, q, testTaskOptions)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Chunks) != 2 || a.Rows != 2 || a.Totals["TRY"] != "30.50" || a.Totals["USD"] != "" {
		t.Fatalf("approval %+v", a)
	}
	// The UNKNOWN chunk is repaired into INIT later: it waits for an approval of its own.
	commit(3, EvSeenInit, iyzico.ItemInit)
	b, _ = s.Get(ctx, "ap")
	if b.Status != StatusAwaitingApproval || b.InitWaiting != 1 {
		t.Fatalf("after repair: status %s, waiting %d", b.Status, b.InitWaiting)
	}
	if _, err := s.Claim(ctx, "ap", 3, StepAuth, time.Minute, []string{ChunkInit}, true); !errors.Is(err, ErrUnapproved) {
		t.Fatalf("auth claim of the repaired chunk = %v, want ErrUnapproved", err)
	}
	a2, err := s.Approve(ctx, "ap", "bob", ApproveOptions{}, q, testTaskOptions)
	if err != nil || len(a2.Chunks) != 1 || a2.Chunks[0] != 3 || a2.Totals["USD"] != "5.00" {
		t.Fatalf("second approval %+v, %v", a2, err)
	}
	// Nothing awaits approval any more: approving again repeats the last approval, approves nothing.
	if a3, err := s.Approve(ctx, "ap", "carol", ApproveOptions{}, q, testTaskOptions); err != nil || !a3.Repeated || a3.N != 2 || a3.Who != "bob" {
		t.Fatalf("third approval = %+v, %v; want approval 2 repeated", a3, err)
	}
	all, err := s.Approvals(ctx, "ap")
	if err != nil || len(all) != 2 || all[0].Who != "alice" || all[1].Who != "bob" {
		t.Fatalf("approvals %+v, %v", all, err)
	}
}

// TestClaimFencedAfterRedisRestart: a chunk last written by an earlier Redis process (it
// restarted, and may have lost a claim) is not claimed until one claim lifetime after the restart;
// a chunk written since is.
func TestClaimFencedAfterRedisRestart(t *testing.T) {
	srv := redistest.Start(t, redistest.WithAOF())
	if !srv.Real() {
		t.Skip("needs a real redis-server")
	}
	rdb := srv.Client()
	s := NewStore(rdb, time.Hour)
	q := &recorder{client: asynq.NewClientFromRedisClient(rdb), count: map[string]int{}}
	if _, err := submitBytes(t, s, q, "fence", "csv", header+"a1,MEMBER_ID,2228853,,10,TRY\na2,MEMBER_ID,2228853,,20,TRY\n", 1); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	srv.Restart()
	var busy *BusyError
	if _, err := s.Claim(ctx, "fence", 1, StepInit, time.Minute, []string{ChunkPending}, false); !errors.As(err, &busy) || busy.Step != "redis restart" {
		t.Fatalf("claim right after a restart = %v, want busy until the fence ends", err)
	}
	// A claim lifetime shorter than Redis's uptime is not fenced.
	time.Sleep(1100 * time.Millisecond)
	cl, err := s.Claim(ctx, "fence", 1, StepInit, time.Second, []string{ChunkPending}, false)
	if err != nil {
		t.Fatalf("claim once the fence ended: %v", err)
	}
	cl.Release(ctx)
	// Written since the restart: no fence for this chunk, even with a long lifetime.
	if _, err := s.Claim(ctx, "fence", 1, StepInit, time.Hour, []string{ChunkPending}, false); err != nil {
		t.Fatalf("claim of a chunk written since the restart: %v", err)
	}
	if _, err := s.Claim(ctx, "fence", 2, StepInit, time.Hour, []string{ChunkPending}, false); !errors.Is(err, ErrBusy) {
		t.Fatalf("claim of an untouched chunk with a long lifetime = %v, want busy", err)
	}
}

// TestSubmitRefusesTotalsTheLedgerCannotCount: with no item limit, 100 rows of
// 999,999,999,999,999.99 TRY add up beyond what the ledger's counters hold: the submission stops
// with an error instead of wrapping (it once showed a total of −84,467,440,737,095,517.16 TRY).
func TestSubmitRefusesTotalsTheLedgerCannotCount(t *testing.T) {
	s, q := newStore(t)
	body := header + strings.Repeat("a,MEMBER_ID,2228853,,999999999999999.99,TRY\n", 1)
	var rows strings.Builder
	rows.WriteString(header)
	for i := range 100 {
		fmt.Fprintf(&rows, "a%d,MEMBER_ID,2228853,,999999999999999.99,TRY\n", i)
	}
	_, err := submitBytes(t, s, q, "huge", "csv", rows.String(), 10)
	if err == nil || !strings.Contains(err.Error(), "too large for the ledger's counters") {
		t.Fatalf("submit = %v, want a refusal", err)
	}
	// One such row fits.
	if _, err := submitBytes(t, s, q, "one-huge", "csv", body, 10); err != nil {
		t.Fatal(err)
	}
	b, _ := s.Get(context.Background(), "one-huge")
	if got := b.Amounts[RowPending]["TRY"]; got.String() != "999999999999999.99" {
		t.Errorf("PENDING TRY = %s", got)
	}
}

// TestEmptySubmissionIsRetired: a submission that stored nothing and whose submitter went away is
// SUBMIT_FAILED and can be taken up again.
func TestEmptySubmissionIsRetired(t *testing.T) {
	s, q := newStore(t)
	if _, err := submitBytes(t, s, q, "ghost", "csv", "", 10); err == nil {
		t.Fatal("empty file accepted")
	}
	b, err := s.Get(context.Background(), "ghost")
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != StatusSubmitFailed {
		t.Fatalf("status %s, want SUBMIT_FAILED", b.Status)
	}
	if ids, _ := s.Active(context.Background()); slices.Contains(ids, "ghost") {
		t.Error("a failed submission is still active")
	}
	if ttl := s.rdb.TTL(context.Background(), batchKey("ghost")).Val(); ttl <= 0 {
		t.Errorf("TTL %s on a failed submission, want the ledger TTL", ttl)
	}
}

// TestNamesAreNormalised: the ledger keeps people's names in one form, so a look-alike does not
// pass the four-eyes rule and an invisible character is refused.
func TestNamesAreNormalised(t *testing.T) {
	s, q := newStore(t)
	ctx := context.Background()
	res, err := s.Submit(ctx, SubmitRequest{File: strings.NewReader(header + "a1,MEMBER_ID,2228853,,10,TRY\n"), BatchID: "names",
		Options: Options{Format: "csv", ChunkSize: 10}, Submitter: "  Alice "}, q, testTaskOptions)
	if err != nil {
		t.Fatal(err)
	}
	if res.Batch.Submitter != "alice" {
		t.Errorf("submitter stored as %q", res.Batch.Submitter)
	}
	cl, err := s.Claim(ctx, "names", 1, StepInit, time.Minute, []string{ChunkPending}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Commit(ctx, Change{Event: EvInitAccepted, RequestID: "r1", Outcomes: []Outcome{{Status: iyzico.ItemInit}}}); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"ALICE", "ＡＬＩＣＥ", "alice "} {
		if _, err := s.Approve(ctx, "names", who, ApproveOptions{FourEyes: true}, q, testTaskOptions); !errors.Is(err, ErrFourEyes) {
			t.Errorf("approve as %q under four-eyes = %v, want ErrFourEyes", who, err)
		}
	}
	for _, who := range []string{"alice\u200b", "al\u00adice", "\u3164", ""} {
		if _, err := s.Approve(ctx, "names", who, ApproveOptions{FourEyes: true}, q, testTaskOptions); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("approve as %q = %v, want ErrInvalidOptions", who, err)
		}
	}
	a, err := s.Approve(ctx, "names", "Bob", ApproveOptions{FourEyes: true}, q, testTaskOptions)
	if err != nil || a.Who != "bob" {
		t.Fatalf("approve as Bob = %+v, %v", a, err)
	}
	log, _ := s.AuditLog(ctx, "names")
	if last := log[len(log)-1]; last.Who != "bob" || last.Action != "approved" {
		t.Errorf("audit %+v", last)
	}
}

// TestFileFieldsAreCheckedLikeFlags: what a JSON file sets for the batch (purpose, externalId as
// the batch ID, conversationId) is checked as if a flag gave it.
func TestFileFieldsAreCheckedLikeFlags(t *testing.T) {
	s, q := newStore(t)
	item := `{"itemExternalId":"a1","recipientType":"MEMBER_ID","recipientInfo":"2228853","amount":{"value":10,"currency":"TRY"}}`
	for _, tc := range []struct{ name, file string }{
		{"purpose", `{"externalId":"js-1","purpose":"<script>alert(1)</script>","items":[` + item + `]}`},
		{"lower-case purpose", `{"externalId":"js-2","purpose":"salary","items":[` + item + `]}`},
		{"batch ID ..", `{"externalId":"..","items":[` + item + `]}`},
		{"conversationId", `{"externalId":"js-3","conversationId":"a b\n","items":[` + item + `]}`},
	} {
		_, err := s.Submit(context.Background(), SubmitRequest{File: strings.NewReader(tc.file), Submitter: "t", Options: Options{Format: "json", ChunkSize: 10}}, q, testTaskOptions)
		if !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%s: submit = %v, want ErrInvalidOptions", tc.name, err)
		}
	}
	for _, id := range []string{".", "..", "---", "_", "a/b", strings.Repeat("a", 65)} {
		if ValidBatchID.MatchString(id) {
			t.Errorf("batch ID %q accepted", id)
		}
	}
	for _, id := range []string{"a", "pay-2026.11", "mp-1f2e", "..a"} {
		if !ValidBatchID.MatchString(id) {
			t.Errorf("batch ID %q refused", id)
		}
	}
}

// TestBodyDeletedOnceIyzicoHoldsIt: a chunk's stored request body (full IBANs, identity numbers,
// names) is deleted once iyzico holds the payout; its SHA-256 keeps guarding resubmission, and a
// resumed submission does not store it again.
func TestBodyDeletedOnceIyzicoHoldsIt(t *testing.T) {
	s, q := newStore(t)
	ctx := context.Background()
	body := header + "a1,MEMBER_ID,2228853,,10,TRY\na2,MEMBER_ID,2228853,,20,TRY\n"
	if _, err := submitBytes(t, s, q, "min", "csv", body, 1); err != nil {
		t.Fatal(err)
	}
	for seq, ev := range map[int]Event{1: EvInitAccepted, 2: EvBudgetSpent} {
		cl, err := s.Claim(ctx, "min", seq, StepInit, time.Minute, []string{ChunkPending}, false)
		if err != nil {
			t.Fatal(err)
		}
		st := iyzico.ItemInit
		rid := "r1"
		if ev == EvBudgetSpent {
			st, rid = RowUnknown, ""
		}
		if _, err := cl.Commit(ctx, Change{Event: ev, RequestID: rid, Outcomes: []Outcome{{Status: st}}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.rdb.Exists(ctx, chunkBodyKey("min", 1)).Val(); n != 0 {
		t.Error("the body of a chunk iyzico holds is still stored")
	}
	if n := s.rdb.Exists(ctx, chunkBodyKey("min", 2)).Val(); n != 1 {
		t.Error("the body of an UNKNOWN chunk iyzico never confirmed was deleted: it may have to be sent")
	}
	c, err := s.GetChunk(ctx, "min", 1)
	if err != nil || c.State != ChunkInit || len(c.Body) != 0 {
		t.Fatalf("GetChunk without body = %+v, %v", c, err)
	}
	// Resubmitting the same file finds the chunk and stores no body again.
	if res, err := submitBytes(t, s, q, "min", "csv", body, 1); err != nil || !res.AlreadySubmitted {
		t.Fatalf("resubmit = %+v, %v", res, err)
	}
	if err := s.rdb.HSet(ctx, batchKey("min"), "submit_done", "0").Err(); err != nil { // as if interrupted
		t.Fatal(err)
	}
	if _, err := submitBytes(t, s, q, "min", "csv", body, 1); err != nil {
		t.Fatal(err)
	}
	if n := s.rdb.Exists(ctx, chunkBodyKey("min", 1)).Val(); n != 0 {
		t.Error("a resumed submission stored the body of a chunk iyzico holds again")
	}
}

// TestDiscardOnlyWhatNeverReachedIyzico: a batch nothing of which was sent is removed whole, its
// file free again; one with a chunk that may be at iyzico is refused.
func TestDiscardOnlyWhatNeverReachedIyzico(t *testing.T) {
	s, q := newStore(t)
	ctx := context.Background()
	body := header + "a1,MEMBER_ID,2228853,,10,TRY\na2,MEMBER_ID,2228853,,20,TRY\n"
	if _, err := submitBytes(t, s, q, "unsent", "csv", body, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Discard(ctx, "unsent", "ops"); err != nil {
		t.Fatalf("discard of an unsent batch: %v", err)
	}
	if keys := s.rdb.Keys(ctx, "mp:{unsent}:*").Val(); len(keys) != 0 {
		t.Errorf("keys left: %v", keys)
	}
	if ids, _ := s.List(ctx, 0, 10); slices.Contains(ids, "unsent") {
		t.Error("a discarded batch is still listed")
	}
	if n, _ := s.inspector.GetQueueInfo(tasks.DefaultQueue); n != nil && n.Pending != 0 {
		t.Errorf("%d init tasks left", n.Pending)
	}
	// The file is free: the same content may be submitted again.
	if _, err := submitBytes(t, s, q, "again", "csv", body, 1); err != nil {
		t.Fatalf("resubmit after discard: %v", err)
	}
	// An init was claimed (it may have been sent): refused.
	cl, err := s.Claim(ctx, "again", 2, StepInit, time.Minute, []string{ChunkPending}, false)
	if err != nil {
		t.Fatal(err)
	}
	cl.Release(ctx)
	if err := s.Discard(ctx, "again", "ops"); !errors.Is(err, ErrReachedIyzico) {
		t.Fatalf("discard after an init claim = %v, want ErrReachedIyzico", err)
	}
	if _, err := s.Get(ctx, "again"); err != nil {
		t.Fatalf("the refused discard removed something: %v", err)
	}
}
