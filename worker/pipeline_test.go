package worker_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/internal/redistest"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/iyzico/sandbox"
)

func TestPipelineInitPhaseManualApproval(t *testing.T) {
	forDialects(t, testPipelineInitPhaseManualApproval)
}

func testPipelineInitPhaseManualApproval(t *testing.T, d rigOption) {
	r := setup(t, d)
	path, tot := r.payroll(1200, 37, 1)
	b := r.mustSubmit(path, "pay-2026-11", 100)
	if b.Rows != tot.Rows || b.Valid != tot.Valid || b.Rejected != tot.Invalid || b.ChunksTotal != (tot.Valid+99)/100 {
		t.Fatalf("submit counts %+v, file %+v", b, tot)
	}
	r.startWorkers(4)
	b = r.waitFor(b.ID, 30*time.Second, "awaiting approval", initPhaseReported)
	if b.Status != batch.StatusAwaitingApproval {
		t.Fatalf("status = %s, want %s", b.Status, batch.StatusAwaitingApproval)
	}
	st := r.checkInvariants(b.ID, tot)
	if st[iyzico.ItemInit] != tot.Valid || st[batch.RowRejected] != tot.Invalid {
		t.Errorf("statuses %v, want %d INIT and %d REJECTED", st, tot.Valid, tot.Invalid)
	}
	stats := r.sandbox.Stats()
	if stats.CommittedPayouts != b.ChunksTotal || stats.CommittedItems != tot.Valid || len(stats.AuthCalls) != 0 {
		t.Errorf("sandbox committed %d payouts / %d items, %d auth calls; want %d / %d / 0", stats.CommittedPayouts, stats.CommittedItems, len(stats.AuthCalls), b.ChunksTotal, tot.Valid)
	}
	if b.Counts[iyzico.ItemInit] != tot.Valid {
		t.Errorf("ledger counters: %v", b.Counts)
	}
	// The report file and its summary were written by the finalize task.
	if !strings.HasPrefix(b.ReportPath, r.results) {
		t.Errorf("report path %q not under RESULTS_DIR %q", b.ReportPath, r.results)
	}
}

func TestPipelineAutoApprovalToFinalStatuses(t *testing.T) {
	forDialects(t, func(t *testing.T, d rigOption) {
		r := setup(t, withAutoApprove(), d)
		path, tot := r.payroll(400, 0, 2)
		b := r.mustSubmit(path, "auto-1", 50)
		r.startWorkers(4)
		b = r.waitFor(b.ID, 60*time.Second, "final", finalReported)
		st := r.checkInvariants(b.ID, tot)
		// The foreign dialect leaves failed items FAILED under a final payout status.
		if st[iyzico.ItemSuccess]+st[iyzico.ItemDepositSuccess]+st[iyzico.ItemDepositFail]+st[iyzico.ItemFailed] != tot.Valid || st[iyzico.ItemSuccess] == 0 {
			t.Errorf("statuses %v: want every row with the bank's final status", st)
		}
		if want := finalStatusFor(st, tot.Rows); b.Status != want {
			t.Errorf("batch status %s, want %s", b.Status, want)
		}
		if stats := r.sandbox.Stats(); len(stats.AuthCommits) != b.ChunksTotal {
			t.Errorf("%d payouts authorized for %d chunks", len(stats.AuthCommits), b.ChunksTotal)
		}
	})
}

// finalStatusFor is the status a final batch with this status histogram has: an authorized batch
// is never FAILED.
func finalStatusFor(st map[string]int, rows int) string {
	if st[iyzico.ItemSuccess] == rows {
		return batch.StatusCompleted
	}
	return batch.StatusCompletedWithErrors
}

func TestPipelineUnderFaults(t *testing.T) {
	forDialects(t, testPipelineUnderFaults)
}

func testPipelineUnderFaults(t *testing.T, d rigOption) {
	r := setup(t, d, withClientTimeout(400*time.Millisecond), withSandbox(func(o *sandbox.Options) {
		o.Faults = sandbox.Faults{
			ServerErrorRate: 0.15, RateLimitRate: 0.15, RetryAfter: 10 * time.Millisecond,
			LatencyRate: 0.1, Latency: time.Second, // beyond the client timeout: ambiguous
			CommitThenDropRate: 0.2,
		}
	}))
	path, tot := r.payroll(1500, 29, 3)
	b := r.mustSubmit(path, "faulty", 50)
	r.startWorkers(8)
	b = r.waitFor(b.ID, 90*time.Second, "awaiting approval", initPhaseReported)
	st := r.checkInvariants(b.ID, tot)
	if st[iyzico.ItemInit] != tot.Valid {
		t.Errorf("statuses %v, want all %d valid rows INIT despite faults", st, tot.Valid)
	}
	stats := r.sandbox.Stats()
	if stats.Faults["commit_then_drop"] == 0 || stats.Faults["server_error"] == 0 || stats.Faults["rate_limit"] == 0 || stats.Faults["latency"] == 0 {
		t.Errorf("faults not all exercised: %v", stats.Faults)
	}
	if stats.CommittedPayouts != b.ChunksTotal {
		t.Errorf("sandbox committed %d payouts for %d chunks", stats.CommittedPayouts, b.ChunksTotal)
	}
}

// TestWorkerStoppedMidCall shuts a worker down while its init calls hang at iyzico (which commits
// them), then starts a new one: the redelivered tasks read back and adopt, nothing is sent twice.
func TestWorkerStoppedMidCall(t *testing.T) {
	forDialects(t, testWorkerStoppedMidCall)
}

func testWorkerStoppedMidCall(t *testing.T, d rigOption) {
	r := setup(t, d, withSandbox(func(o *sandbox.Options) {
		o.Faults = sandbox.Faults{CommitThenDropRate: 1, LatencyRate: 1, Latency: 300 * time.Millisecond, Endpoints: []string{sandbox.EndpointInit}}
	}))
	path, tot := r.payroll(300, 0, 4)
	b := r.mustSubmit(path, "killed", 50)
	stop := r.startWorkers(3)
	deadline := time.Now().Add(10 * time.Second)
	for r.sandbox.Stats().Requests[sandbox.EndpointInit] == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no init reached the sandbox")
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop() // handlers are cancelled mid-call; asynq requeues their tasks
	r.sandbox.SetFaults(sandbox.Faults{})
	r.startWorkers(3)
	b = r.waitFor(b.ID, 60*time.Second, "awaiting approval", initPhaseReported)
	st := r.checkInvariants(b.ID, tot)
	if st[iyzico.ItemInit] != tot.Valid {
		t.Errorf("statuses %v", st)
	}
	if stats := r.sandbox.Stats(); stats.CommittedPayouts != b.ChunksTotal {
		t.Errorf("committed %d payouts for %d chunks", stats.CommittedPayouts, b.ChunksTotal)
	}
}

func TestResubmission(t *testing.T) {
	r := setup(t)
	path, _ := r.payroll(250, 0, 5)
	b := r.mustSubmit(path, "again", 100)
	r.startWorkers(2)
	r.waitFor(b.ID, 30*time.Second, "awaiting approval", initPhaseReported)
	before, tasksBefore := r.sandbox.Stats().Requests[sandbox.EndpointInit], r.chunkTasks()

	res, err := r.submit(context.Background(), path, "again", 100)
	if err != nil || !res.AlreadySubmitted {
		t.Fatalf("identical resubmit = %+v, %v; want AlreadySubmitted", res, err)
	}
	time.Sleep(200 * time.Millisecond)
	if after := r.sandbox.Stats().Requests[sandbox.EndpointInit]; after != before {
		t.Errorf("identical resubmit sent %d more inits", after-before)
	}
	if n := r.chunkTasks(); n != tasksBefore {
		t.Errorf("identical resubmit changed the queue: %d tasks, was %d", n, tasksBefore)
	}

	other, _ := r.payroll(250, 0, 6)
	_, err = r.submit(context.Background(), other, "again", 100)
	var ce *batch.ConflictError
	if !errors.Is(err, batch.ErrBatchConflict) || !errors.As(err, &ce) || ce.What != "content" {
		t.Fatalf("changed content = %v, want a content ErrBatchConflict", err)
	}
	_, err = r.submit(context.Background(), path, "again", 50)
	if !errors.As(err, &ce) || ce.What != "options" {
		t.Fatalf("changed chunk size = %v, want an options ErrBatchConflict", err)
	}
	if after := r.sandbox.Stats().Requests[sandbox.EndpointInit]; after != before {
		t.Errorf("conflicting resubmits sent %d inits", after-before)
	}
}

// TestInterruptedSubmitResumes cancels a submission half-way, then runs it again: the batch
// completes with every row once and no chunk sent twice.
func TestInterruptedSubmitResumes(t *testing.T) {
	r := setup(t)
	path, tot := r.payroll(25000, 101, 7)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := r.submitWithProgress(ctx, path, "resume", 100, func(p batch.SubmitProgress) {
			if p.Rows >= 10000 {
				cancel()
			}
		})
		done <- err
	}()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted submit = %v, want context.Canceled", err)
	}
	b, err := r.store.Get(context.Background(), "resume")
	if err != nil || b.SubmitDone || b.ChunksSeen == 0 {
		t.Fatalf("after interruption: %+v, %v; want a partial batch", b, err)
	}
	r.startWorkers(4)
	res, err := r.submit(context.Background(), path, "resume", 100)
	if err != nil || !res.Resumed {
		t.Fatalf("resume = %+v, %v", res, err)
	}
	b = r.waitFor("resume", 60*time.Second, "awaiting approval", initPhaseReported)
	st := r.checkInvariants("resume", tot)
	if st[iyzico.ItemInit] != tot.Valid || b.ChunksTotal != (tot.Valid+99)/100 {
		t.Errorf("statuses %v chunks %d", st, b.ChunksTotal)
	}
	if s := r.sandbox.Stats(); s.CommittedPayouts != b.ChunksTotal {
		t.Errorf("committed %d payouts for %d chunks", s.CommittedPayouts, b.ChunksTotal)
	}
}

// TestRetryExhaustionLeavesChunkUnknown: when every init attempt fails, the chunks end UNKNOWN
// and the batch NEEDS_RECONCILE: not FAILED (an upstream system would re-submit), no ledger expiry,
// no final callback.
func TestRetryExhaustionLeavesChunkUnknown(t *testing.T) {
	forDialects(t, func(t *testing.T, d rigOption) {
		r := setup(t, d, withMaxRetry(2), withSandbox(func(o *sandbox.Options) {
			o.Faults = sandbox.Faults{ServerErrorRate: 1, Endpoints: []string{sandbox.EndpointInit}}
		}))
		path, tot := r.payroll(120, 11, 8)
		b := r.mustSubmit(path, "exhausted", 50)
		r.startWorkers(2)
		b = r.waitFor(b.ID, 30*time.Second, "needs reconcile", func(b *batch.Batch) bool {
			return b.Status == batch.StatusNeedsReconcile && b.ReportStatus == b.Status
		})
		st := r.checkInvariants(b.ID, tot)
		if st[batch.RowUnknown] != tot.Valid || b.Final {
			t.Errorf("statuses %v, final %v; want every valid row UNKNOWN and the batch not final", st, b.Final)
		}
		if ttl := r.rdb.TTL(context.Background(), "mp:{exhausted}:batch").Val(); ttl > 0 {
			t.Errorf("ledger TTL %s on a batch that needs reconcile", ttl)
		}
		if !strings.Contains(r.logs.String(), `"level":"error"`) || !strings.Contains(r.logs.String(), "UNKNOWN until reconcile") {
			t.Error("exhaustion not logged at error level")
		}
	})
}

func TestPermanentRefusalMarksChunkError(t *testing.T) {
	r := setup(t)
	path, tot := r.payroll(80, 0, 9)
	// A client with a wrong secret: iyzico answers 1000 "Geçersiz imza", which is permanent.
	bad, err := iyzico.NewClient(iyzico.Options{BaseURL: r.clientBase(), APIKey: apiKey, SecretKey: "wrong", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r.client = bad
	b := r.mustSubmit(path, "refused", 40)
	r.startWorkers(2)
	b = r.waitFor(b.ID, 30*time.Second, "final", finalReported)
	st := r.checkInvariants(b.ID, tot)
	if st[batch.RowError] != tot.Valid || b.Status != batch.StatusFailed {
		t.Errorf("statuses %v, batch %s", st, b.Status)
	}
	rows := r.reportRows(b.ID)
	if rows[1][7] != string(iyzico.CodeInvalidSignature) {
		t.Errorf("error_code = %q, want %s", rows[1][7], iyzico.CodeInvalidSignature)
	}
	if n := r.sandbox.Stats().Requests[sandbox.EndpointInit]; n != b.ChunksTotal {
		t.Errorf("%d init calls for %d chunks: a permanent refusal must not be retried", n, b.ChunksTotal)
	}
}

// TestTaskPayloadsCarryIDsOnly checks what asynqmon would show: every queued payload is
// {"batch":…,"seq":…} and none holds a recipient identifier or name.
func TestTaskPayloadsCarryIDsOnly(t *testing.T) {
	r := setup(t)
	path, _ := r.payroll(300, 0, 10)
	b := r.mustSubmit(path, "payloads", 50)
	tasks, err := r.inspect.ListPendingTasks("default")
	if err != nil || len(tasks) != b.ChunksTotal {
		t.Fatalf("%d pending tasks (%v), want %d", len(tasks), err, b.ChunksTotal)
	}
	file, _ := os.ReadFile(path)
	recs, _ := csv.NewReader(bytes.NewReader(file)).ReadAll()
	for _, task := range tasks {
		p := string(task.Payload)
		if !strings.HasPrefix(p, `{"batch":"payloads","seq":`) {
			t.Errorf("payload %s", p)
		}
		for _, rec := range recs[1:] {
			if strings.Contains(p, rec[2]) || strings.Contains(p, rec[3]) {
				t.Fatalf("payload %s holds personal data", p)
			}
		}
	}
}

// TestRedisRestartWithPersistence kills redis-server (SIGKILL) while chunks are in flight and
// starts it again from its append-only file: the batch is delayed, not dropped, and nothing is
// paid twice.
func TestRedisRestartWithPersistence(t *testing.T) {
	r := setup(t, withRedis(redistest.WithAOF()), withClientTimeout(time.Second), withSandbox(func(o *sandbox.Options) {
		o.Faults = sandbox.Faults{LatencyRate: 1, Latency: 150 * time.Millisecond, Endpoints: []string{sandbox.EndpointInit}}
	}))
	if !r.redis.Real() {
		t.Skip("needs a real redis-server")
	}
	path, tot := r.payroll(1000, 41, 13)
	b := r.mustSubmit(path, "restart", 50)
	r.startWorkers(4)
	deadline := time.Now().Add(10 * time.Second)
	for r.sandbox.Stats().Requests[sandbox.EndpointInit] < 3 {
		if time.Now().After(deadline) {
			t.Fatal("no init reached the sandbox")
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.redis.Restart()
	r.sandbox.SetFaults(sandbox.Faults{})
	b = r.waitFor(b.ID, 90*time.Second, "awaiting approval", initPhaseReported)
	st := r.checkInvariants(b.ID, tot)
	if st[iyzico.ItemInit] != tot.Valid {
		t.Errorf("statuses %v after a Redis restart", st)
	}
	if n := r.sandbox.Stats().CommittedPayouts; n != b.ChunksTotal {
		t.Errorf("%d payouts committed for %d chunks", n, b.ChunksTotal)
	}
}
