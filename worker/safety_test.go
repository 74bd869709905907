package worker_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/internal/redistest"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/iyzico/sandbox"
	"github.com/masspayout/masspayout/tasks"
)

// initAll runs the init step of every chunk of a batch in this goroutine, without workers.
func (r *rig) initAll(id string, chunks int) {
	r.t.Helper()
	p := r.pipeline()
	for seq := 1; seq <= chunks; seq++ {
		if err := p.Init(context.Background(), chunkRef(id, seq)); err != nil {
			r.t.Fatalf("init chunk %d: %v", seq, err)
		}
	}
}

// overlap runs step twice at once on one chunk and returns both results.
func overlap(step func(context.Context, tasks.Chunk) error, ref tasks.Chunk) [2]error {
	var wg sync.WaitGroup
	var errs [2]error
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = step(context.Background(), ref)
		}()
		time.Sleep(20 * time.Millisecond) // the second starts while the first's call is in flight
	}
	wg.Wait()
	return errs
}

// oneBusy checks that of two overlapping executions one did the step and the other found the
// chunk claimed.
func oneBusy(t *testing.T, what string, errs [2]error) {
	t.Helper()
	if errs[0] != nil || !errors.Is(errs[1], batch.ErrBusy) {
		t.Errorf("%s twice at once: %v, %v; want nil and a busy claim", what, errs[0], errs[1])
	}
}

// TestOverlappingExecutionsOfEveryStep runs each step twice at once on one chunk, with iyzico slow
// enough that the two overlap: one execution calls iyzico, the other finds the chunk claimed.
func TestOverlappingExecutionsOfEveryStep(t *testing.T) {
	forDialects(t, func(t *testing.T, d rigOption) {
		r := setup(t, d, withSandbox(func(o *sandbox.Options) {
			o.Faults = sandbox.Faults{LatencyRate: 1, Latency: 200 * time.Millisecond}
			o.SettleDelay = time.Hour // the poll below finds the items at the bank
		}))
		path, tot := r.payroll(100, 0, 30)
		b := r.mustSubmit(path, "twice", 50)
		p := r.pipeline()
		ref := chunkRef(b.ID, 1)

		oneBusy(t, "init", overlap(p.Init, ref))
		if err := p.Init(context.Background(), chunkRef(b.ID, 2)); err != nil {
			t.Fatal(err)
		}
		r.approve(b.ID, "ayse")
		oneBusy(t, "auth", overlap(p.Auth, ref))
		oneBusy(t, "poll", overlap(p.Poll, ref))
		errs := overlap(func(ctx context.Context, c tasks.Chunk) error {
			if p.ReconcileChunk(ctx, c).Busy {
				return batch.ErrBusy
			}
			return nil
		}, ref)
		oneBusy(t, "reconcile", errs)

		st := r.sandbox.Stats()
		if st.InitAttempts["twice-00001"] != 1 || st.AuthCalls[mustChunk(t, r, b.ID, 1).RequestID] != 1 {
			t.Errorf("init calls %v, auth calls %v: want exactly one each", st.InitAttempts, st.AuthCalls)
		}

		// Cancel, on a batch of its own.
		path2, _ := r.payroll(50, 0, 31)
		b2 := r.mustSubmit(path2, "cancel-twice", 50)
		r.initAll(b2.ID, 1)
		if _, err := r.store.Cancel(context.Background(), b2.ID, "ops", r.queue, r.topts); err != nil {
			t.Fatal(err)
		}
		oneBusy(t, "cancel", overlap(p.Cancel, chunkRef(b2.ID, 1)))
		if st := r.sandbox.Stats(); len(st.CancelCalls) != 1 || st.CancelCommits != 1 {
			t.Errorf("cancel calls %v, commits %d: want one", st.CancelCalls, st.CancelCommits)
		}
		_ = tot
	})
}

func mustChunk(t *testing.T, r *rig, id string, seq int) *batch.Chunk {
	t.Helper()
	c, err := r.store.GetChunk(context.Background(), id, seq)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestReconcileAndSecondApproveDuringAuth: while auth calls hang at iyzico, reconcile runs and
// the batch is approved again; every payout still gets exactly one auth.
func TestReconcileAndSecondApproveDuringAuth(t *testing.T) {
	forDialects(t, func(t *testing.T, d rigOption) {
		r := setup(t, d, withSandbox(func(o *sandbox.Options) {
			o.Faults = sandbox.Faults{LatencyRate: 1, Latency: 400 * time.Millisecond, Endpoints: []string{sandbox.EndpointAuth}}
		}))
		b, _ := r.awaitingApproval(100)
		r.approve(b.ID, "ayse")
		deadline := time.Now().Add(10 * time.Second)
		for r.sandbox.Stats().Requests[sandbox.EndpointAuth] == 0 {
			if time.Now().After(deadline) {
				t.Fatal("no auth reached the sandbox")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if _, err := r.pipeline().Reconcile(context.Background(), b.ID); err != nil {
			t.Fatal(err)
		}
		if a, err := r.store.Approve(context.Background(), b.ID, "ayse", batch.ApproveOptions{}, r.queue, r.topts); err != nil || !a.Repeated {
			t.Fatalf("second approve = %+v, %v; want the first approval again", a, err)
		}
		b = r.waitFor(b.ID, 60*time.Second, "final", finalReported)
		r.checkInvariants(b.ID, r.tot)
		if st := r.sandbox.Stats(); len(st.AuthCommits) != b.ChunksTotal || len(st.AuthCalls) != b.ChunksTotal {
			t.Errorf("auth calls %v, commits %v for %d chunks", st.AuthCalls, st.AuthCommits, b.ChunksTotal)
		}
	})
}

// TestRedisLosesItsLastWrites: Redis comes back from an AOF copy taken after approval but before
// the auths went out, with the auths done at iyzico since: the auth tasks of the copy run again,
// read iyzico back, and adopt; no payout is authorized twice.
func TestRedisLosesItsLastWrites(t *testing.T) {
	forDialects(t, func(t *testing.T, d rigOption) {
		r := setup(t, d, withRedis(redistest.WithAOF()), withClientTimeout(time.Second))
		if !r.redis.Real() {
			t.Skip("needs a real redis-server")
		}
		path, tot := r.payroll(300, 0, 32)
		b := r.mustSubmit(path, "lost-writes", 100)
		r.initAll(b.ID, b.ChunksTotal)
		r.approve(b.ID, "ayse") // the auth tasks wait on the queue
		restore := r.redis.Snapshot()
		stop := r.startWorkers(3)
		r.waitFor(b.ID, 30*time.Second, "final", finalReported)
		stop()
		restore() // the ledger is back at INIT, approved, auth tasks pending
		if got, _ := r.store.Get(context.Background(), b.ID); got.Chunks[batch.ChunkInit] != b.ChunksTotal {
			t.Fatalf("after restore: chunks %v", got.Chunks)
		}
		r.startWorkers(3)
		b = r.waitFor(b.ID, 60*time.Second, "final again", finalReported)
		r.checkInvariants(b.ID, tot)
		if st := r.sandbox.Stats(); len(st.AuthCommits) != b.ChunksTotal {
			t.Errorf("%d payouts authorized for %d chunks", len(st.AuthCommits), b.ChunksTotal)
		}
	})
}

// TestWipedLedgerResubmitted: the ledger is lost after a batch was paid, and the same file is
// submitted again: the inits go to payouts iyzico holds (unavoidable: the ledger forgot them), are
// read back, and nothing is authorized twice.
func TestWipedLedgerResubmitted(t *testing.T) {
	forDialects(t, func(t *testing.T, d rigOption) {
		r := setup(t, d, withAutoApprove())
		r.initToExisting = true
		path, tot := r.payroll(300, 0, 33)
		b := r.mustSubmit(path, "wiped", 100)
		stop := r.startWorkers(3)
		r.waitFor(b.ID, 30*time.Second, "final", finalReported)
		stop()
		if err := r.rdb.FlushAll(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
		b = r.mustSubmit(path, "wiped", 100)
		r.startWorkers(3)
		b = r.waitFor(b.ID, 60*time.Second, "final again", finalReported)
		st := r.checkInvariants(b.ID, tot)
		if st[iyzico.ItemInit]+st[batch.RowUnknown]+st[batch.RowPending] != 0 {
			t.Errorf("statuses %v", st)
		}
		stats := r.sandbox.Stats()
		if len(stats.InitToExisting) != b.ChunksTotal || len(stats.AuthCommits) != b.ChunksTotal {
			t.Errorf("inits to held payouts %v, authorized %v, for %d chunks", stats.InitToExisting, stats.AuthCommits, b.ChunksTotal)
		}
	})
}

// TestRateLimitsNeverSpendTheBudget: with a budget of 2, a 5xx followed by a storm of 429s does not
// make the chunk UNKNOWN: 429s are not failures.
func TestRateLimitsNeverSpendTheBudget(t *testing.T) {
	forDialects(t, func(t *testing.T, d rigOption) {
		r := setup(t, d, withMaxRetry(2), withSandbox(func(o *sandbox.Options) { o.Faults.RetryAfter = time.Millisecond }))
		path, tot := r.payroll(50, 0, 34)
		b := r.mustSubmit(path, "slow-down", 50)
		r.sandbox.FailNext(sandbox.EndpointInit, sandbox.FaultServerError, 1)
		r.sandbox.FailNext(sandbox.EndpointInit, sandbox.FaultRateLimit, 3)
		r.sandbox.FailNext(sandbox.EndpointRetrieve, sandbox.FaultRateLimit, 3)
		r.startWorkers(2)
		b = r.waitFor(b.ID, 60*time.Second, "awaiting approval", initPhaseReported)
		if st := r.checkInvariants(b.ID, tot); st[iyzico.ItemInit] != tot.Valid {
			t.Errorf("statuses %v", st)
		}
		if f := r.sandbox.Stats().Faults["rate_limit"]; f != 6 {
			t.Errorf("%d 429s answered, want 6", f)
		}
	})
}

// TestJanitorRecreatesLostTasks: the queue loses every task at each phase (finalize, auth, polls);
// the janitor puts them back and the batch ends.
func TestJanitorRecreatesLostTasks(t *testing.T) {
	r := setup(t, withSandbox(func(o *sandbox.Options) { o.SettleDelay = 500 * time.Millisecond }))
	path, tot := r.payroll(200, 0, 35)
	b := r.mustSubmit(path, "janitor", 50)
	r.initAll(b.ID, b.ChunksTotal)
	if _, err := r.inspect.DeleteAllPendingTasks(tasks.DefaultQueue); err != nil { // the finalize among them
		t.Fatal(err)
	}
	stop := r.startWorkers(2)
	r.waitFor(b.ID, 10*time.Second, "the janitor's finalize", initPhaseReported)
	stop()
	r.approve(b.ID, "ayse")
	if n, err := r.inspect.DeleteAllPendingTasks(tasks.DefaultQueue); err != nil || n != b.ChunksTotal {
		t.Fatalf("deleted %d auth tasks (%v), want %d", n, err, b.ChunksTotal)
	}
	stop = r.startWorkers(2)
	r.waitFor(b.ID, 10*time.Second, "authorized", func(b *batch.Batch) bool { return b.Chunks[batch.ChunkAuthorized] == b.ChunksTotal })
	stop()
	if _, err := r.inspect.DeleteAllScheduledTasks(tasks.DefaultQueue); err != nil { // the polls
		t.Fatal(err)
	}
	r.startWorkers(2)
	b = r.waitFor(b.ID, 20*time.Second, "final", finalReported)
	r.checkInvariants(b.ID, tot)
	if !containsLog(r, "janitor re-created lost step tasks") {
		t.Error("the janitor did not say what it repaired")
	}
}

// TestRefusedCancelIsRetried: iyzico refuses a cancel (with a code nobody knows) while the payout
// is still INIT: the chunk stays INIT, unpaid, and the cancel is tried again until it goes through.
func TestRefusedCancelIsRetried(t *testing.T) {
	forDialects(t, func(t *testing.T, d rigOption) {
		r := setup(t, d)
		b, _ := r.awaitingApproval(100)
		r.sandbox.FailNext(sandbox.EndpointCancel, sandbox.FaultRefuse, 4)
		if _, err := r.store.Cancel(context.Background(), b.ID, "ops", r.queue, r.topts); err != nil {
			t.Fatal(err)
		}
		b = r.waitFor(b.ID, 30*time.Second, "final", finalReported)
		st := r.checkInvariants(b.ID, r.tot)
		if b.Status != batch.StatusCanceled || st[iyzico.ItemMassPayoutCanceled] != r.tot.Valid {
			t.Errorf("batch %s, statuses %v", b.Status, st)
		}
		if f := r.sandbox.Stats().Faults["refuse"]; f != 4 {
			t.Errorf("%d refusals answered, want 4", f)
		}
	})
}

// TestInitRefusedButDoneIsAdopted: iyzico answers an init with a failure although it created the
// payout: the refusal is read back before anything is marked ERROR, and the payout is adopted.
func TestInitRefusedButDoneIsAdopted(t *testing.T) {
	forDialects(t, func(t *testing.T, d rigOption) {
		r := setup(t, d)
		path, tot := r.payroll(150, 0, 36)
		b := r.mustSubmit(path, "liar", 50)
		r.sandbox.FailNext(sandbox.EndpointInit, sandbox.FaultCommitThenRefuse, 2)
		r.sandbox.FailNext(sandbox.EndpointInit, sandbox.FaultRefuse, 1)
		r.startWorkers(1)
		b = r.waitFor(b.ID, 30*time.Second, "init phase", func(b *batch.Batch) bool { return b.Progress().InitPhaseDone() && b.ReportStatus == b.Status })
		st := r.checkInvariants(b.ID, tot)
		// Two were created despite the refusal (adopted); the third was refused for real (ERROR).
		if st[iyzico.ItemInit] != 100 || st[batch.RowError] != 50 || b.Chunks[batch.ChunkError] != 1 {
			t.Errorf("statuses %v, chunks %v", st, b.Chunks)
		}
		if n := r.sandbox.Stats().CommittedPayouts; n != 2 {
			t.Errorf("%d payouts committed, want 2", n)
		}
	})
}

// TestLostInitAnswerWithoutRequestIDStaysUnknown: iyzico created the payout but the answer was
// lost, and neither retrieve nor the item detail says its requestId: the chunk is UNKNOWN (it
// cannot be authorized) and init is not sent to it again.
func TestLostInitAnswerWithoutRequestIDStaysUnknown(t *testing.T) {
	d := sandbox.DialectForeign()
	r := setup(t, withDialect(d), withSandbox(func(o *sandbox.Options) { o.OmitRequestIDInItem = true }))
	path, tot := r.payroll(50, 0, 37)
	b := r.mustSubmit(path, "no-id", 50)
	r.sandbox.FailNext(sandbox.EndpointInit, sandbox.FaultCommitThenDrop, 1)
	r.startWorkers(1)
	b = r.waitFor(b.ID, 30*time.Second, "needs reconcile", func(b *batch.Batch) bool { return b.Status == batch.StatusNeedsReconcile })
	r.checkInvariants(b.ID, tot)
	c := mustChunk(t, r, b.ID, 1)
	if c.State != batch.ChunkUnknown || c.RequestID != "" || !containsLog(r, "says no requestId") {
		t.Errorf("chunk %s requestId %q, last error %q", c.State, c.RequestID, c.LastError)
	}
	if n := r.sandbox.Stats().InitAttempts["no-id-00001"]; n != 1 {
		t.Errorf("%d inits sent, want 1", n)
	}
}

// TestReadBackNamingAnotherRequestID: iyzico shows the payout under a requestId other than the
// recorded one: the chunk is UNKNOWN, and no auth goes out.
func TestReadBackNamingAnotherRequestID(t *testing.T) {
	forDialects(t, func(t *testing.T, d rigOption) {
		r := setup(t, d)
		path, tot := r.payroll(50, 0, 38)
		b := r.mustSubmit(path, "other-id", 50)
		r.initAll(b.ID, 1)
		if err := r.rdb.HSet(context.Background(), "mp:{other-id}:c:1", "request_id", "00000000-0000-4000-8000-000000000000").Err(); err != nil {
			t.Fatal(err)
		}
		r.approve(b.ID, "ayse")
		if err := r.pipeline().Auth(context.Background(), chunkRef(b.ID, 1)); err != nil {
			t.Fatal(err)
		}
		c := mustChunk(t, r, b.ID, 1)
		if c.State != batch.ChunkUnknown || len(r.sandbox.Stats().AuthCalls) != 0 {
			t.Errorf("chunk %s, auth calls %v; want UNKNOWN and none", c.State, r.sandbox.Stats().AuthCalls)
		}
		_ = tot
	})
}

// TestPollForExpiryNeedsReconcile: the bank's answers do not come within POLL_FOR: the chunks are
// UNKNOWN and the batch NEEDS_RECONCILE (never FAILED: money may be at the bank), without a final
// callback or ledger expiry; once the bank answers, reconcile makes it final.
func TestPollForExpiryNeedsReconcile(t *testing.T) {
	forDialects(t, func(t *testing.T, d rigOption) {
		var mu sync.Mutex
		now := time.Now()
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		r := setup(t, d, withAutoApprove(), withSandbox(func(o *sandbox.Options) { o.Clock = clock; o.SettleDelay = time.Hour }))
		path, tot := r.payroll(100, 0, 39)
		b := r.mustSubmit(path, "slow-bank", 50)
		p := r.pipeline()
		p.PollFor = 300 * time.Millisecond
		for seq := 1; seq <= b.ChunksTotal; seq++ {
			for _, step := range []func(context.Context, tasks.Chunk) error{p.Init, p.Auth} {
				if err := step(context.Background(), chunkRef(b.ID, seq)); err != nil {
					t.Fatal(err)
				}
			}
		}
		time.Sleep(400 * time.Millisecond)
		for seq := 1; seq <= b.ChunksTotal; seq++ {
			if err := p.Poll(context.Background(), chunkRef(b.ID, seq)); err != nil {
				t.Fatal(err)
			}
		}
		b, _ = r.store.Get(context.Background(), b.ID)
		if b.Status != batch.StatusNeedsReconcile || b.Chunks[batch.ChunkUnknown] != b.ChunksTotal || b.Final {
			t.Fatalf("after POLL_FOR: %s, chunks %v, final %v", b.Status, b.Chunks, b.Final)
		}
		if c := mustChunk(t, r, b.ID, 1); c.AuthorizedAt.IsZero() {
			t.Error("no authorization time recorded")
		}
		mu.Lock()
		now = now.Add(3 * time.Hour) // the bank answers
		mu.Unlock()
		changes, err := p.Reconcile(context.Background(), b.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range changes {
			if c.To != batch.ChunkDone {
				t.Errorf("reconcile: %s", c)
			}
		}
		r.startWorkers(1)
		b = r.waitFor(b.ID, 30*time.Second, "final", finalReported)
		r.checkInvariants(b.ID, tot)
	})
}

// TestApprovalBindsToWhatWasApproved: a chunk UNKNOWN at approval time and repaired by the janitor
// afterwards waits for an approval of its own: the first approval does not authorize it.
func TestApprovalBindsToWhatWasApproved(t *testing.T) {
	forDialects(t, func(t *testing.T, d rigOption) {
		r := setup(t, d, withMaxRetry(1))
		path, tot := r.payroll(150, 0, 40)
		b := r.mustSubmit(path, "bound", 50)
		r.sandbox.FailNext(sandbox.EndpointInit, sandbox.FaultServerError, 1) // the first chunk's init
		r.initAll(b.ID, b.ChunksTotal)
		b, _ = r.store.Get(context.Background(), b.ID)
		if b.Chunks[batch.ChunkUnknown] != 1 || b.Status != batch.StatusAwaitingApproval {
			t.Fatalf("setup: %s, chunks %v", b.Status, b.Chunks)
		}
		a := r.approve(b.ID, "ayse")
		if len(a.Chunks) != 2 || a.Rows != 100 {
			t.Fatalf("approval %+v", a)
		}
		r.startWorkers(2) // the janitor reconciles the UNKNOWN chunk: iyzico never saw it, so it is sent
		b = r.waitFor(b.ID, 30*time.Second, "the repaired chunk awaiting approval", func(b *batch.Batch) bool {
			return b.Status == batch.StatusAwaitingApproval && b.Chunks[batch.ChunkDone] == 2 && b.InitWaiting == 1
		})
		time.Sleep(500 * time.Millisecond)
		if n := len(r.sandbox.Stats().AuthCalls); n != 2 {
			t.Fatalf("%d payouts got auth; the repaired one must wait", n)
		}
		if a := r.approve(b.ID, "mehmet"); len(a.Chunks) != 1 || a.Chunks[0] != 1 {
			t.Fatalf("second approval %+v", a)
		}
		b = r.waitFor(b.ID, 30*time.Second, "final", finalReported)
		r.checkInvariants(b.ID, tot)
	})
}

func containsLog(r *rig, s string) bool { return strings.Contains(r.logs.String(), s) }

// TestInvalidItemsKeepTheirCode: an item iyzico refuses at init (here a currency our file allows
// and iyzico does not) keeps iyzico's error code through the polls, whose item details carry none.
func TestInvalidItemsKeepTheirCode(t *testing.T) {
	forDialects(t, func(t *testing.T, d rigOption) {
		r := setup(t, d, withAutoApprove())
		path := filepath.Join(t.TempDir(), "gbp.csv")
		body := "item_external_id,recipient_type,recipient_info,amount,currency\n" +
			"t1,MEMBER_ID,2228853,10.00,TRY\ng1,MEMBER_ID,2228853,5.00,GBP\nt2,MEMBER_ID,2228853,20.00,TRY\n"
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		res, err := r.submitOptions(context.Background(), path, "gbp", batch.Options{Format: "csv", ChunkSize: 10, Currencies: []string{"TRY", "GBP"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.startWorkers(1)
		b := r.waitFor(res.Batch.ID, 30*time.Second, "final", finalReported)
		rows := r.reportRows(b.ID)
		if rows[2][6] != iyzico.ItemInvalid || rows[2][7] != string(sandbox.CodeUnsupportedCurrency) {
			t.Errorf("GBP row: status %s code %q; want INVALID %s", rows[2][6], rows[2][7], sandbox.CodeUnsupportedCurrency)
		}
		if polls := r.sandbox.Stats().Requests[sandbox.EndpointRetrieve]; polls < 2 {
			t.Errorf("%d retrieves: the chunk was not polled", polls)
		}
	})
}
