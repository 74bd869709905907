package worker_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/iyzico/sandbox"
	"github.com/shopspring/decimal"
)

func (r *rig) awaitingApproval(chunk int) (*batch.Batch, map[string]decimal.Decimal) {
	r.t.Helper()
	path, tot := r.payroll(500, 23, 11)
	b := r.mustSubmit(path, "two-phase", chunk)
	r.startWorkers(4)
	b = r.waitFor(b.ID, 30*time.Second, "awaiting approval", initPhaseReported)
	if b.Status != batch.StatusAwaitingApproval {
		r.t.Fatalf("status %s", b.Status)
	}
	r.tot = tot
	return b, tot.Amounts
}

func (r *rig) approve(id, who string) *batch.Approval {
	r.t.Helper()
	a, err := r.store.Approve(context.Background(), id, who, batch.ApproveOptions{}, r.queue, r.topts)
	if err != nil {
		r.t.Fatalf("approve: %v", err)
	}
	return a
}

func TestManualApprovalToBankOutcomes(t *testing.T) {
	forDialects(t, func(t *testing.T, d rigOption) {
		r := setup(t, d, withSandbox(func(o *sandbox.Options) { o.MaxPageSize = 7; o.SettleDelay = 150 * time.Millisecond }))
		b, _ := r.awaitingApproval(40)
		if stats := r.sandbox.Stats(); len(stats.AuthCalls) != 0 {
			t.Fatalf("auth sent before approval: %v", stats.AuthCalls)
		}
		a := r.approve(b.ID, "ayse")
		if a.Who != "ayse" || len(a.Chunks) != b.ChunksTotal || a.Rows != r.tot.Valid {
			t.Fatalf("approval %+v for %d chunks, %d valid rows", a, b.ChunksTotal, r.tot.Valid)
		}
		for cur, want := range r.tot.ValidAmounts {
			if a.Totals[cur] != batch.FormatAmount(want, cur) {
				t.Errorf("approved %s %s, want %s", a.Totals[cur], cur, want)
			}
		}
		b = r.waitFor(b.ID, 60*time.Second, "final", finalReported)
		st := r.checkInvariants(b.ID, r.tot)
		final := st[iyzico.ItemSuccess] + st[iyzico.ItemDepositSuccess] + st[iyzico.ItemDepositFail] + st[iyzico.ItemFailed]
		if final != r.tot.Valid || st[batch.RowRejected] != r.tot.Invalid {
			t.Errorf("statuses %v; want every valid row with a bank outcome", st)
		}
		stats := r.sandbox.Stats()
		if len(stats.AuthCommits) != b.ChunksTotal {
			t.Errorf("%d payouts authorized for %d chunks", len(stats.AuthCommits), b.ChunksTotal)
		}
		// Paged polling: each 40-item chunk takes 6 pages of 7 per read.
		if stats.Requests[sandbox.EndpointRetrieve] < 6*b.ChunksTotal {
			t.Errorf("%d retrieves for %d chunks: polling did not page", stats.Requests[sandbox.EndpointRetrieve], b.ChunksTotal)
		}
		r.checkCommission(b)
		audit, _ := r.store.AuditLog(context.Background(), b.ID)
		var actions []string
		for _, a := range audit {
			actions = append(actions, a.Who+":"+a.Action)
		}
		if got := strings.Join(actions, " "); !strings.HasPrefix(got, "tester:submitted") || !strings.Contains(got, "ayse:approved") {
			t.Errorf("audit %s", got)
		}
	})
}

// checkCommission compares the report's commission per currency with the sum of what iyzico
// reports per paid item, and its refunded commission with iyzico's refunded items'.
func (r *rig) checkCommission(b *batch.Batch) {
	r.t.Helper()
	sum, err := r.store.Summary(context.Background(), b.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	want, refunded := map[string]decimal.Decimal{}, map[string]decimal.Decimal{}
	for seq := 1; seq <= b.ChunksTotal; seq++ {
		c, _ := r.store.GetChunk(context.Background(), b.ID, seq)
		_, items, err := r.client.RetrieveAll(context.Background(), iyzico.RetrieveRequest{ExternalMassPayoutID: c.ExternalID(), Size: 100})
		if err != nil {
			r.t.Fatal(err)
		}
		for _, it := range items {
			switch it.ItemStatus {
			case iyzico.ItemSuccess:
				want[it.CurrencyCode] = want[it.CurrencyCode].Add(it.CommissionAmount)
			case iyzico.ItemDepositSuccess:
				refunded[it.CurrencyCode] = refunded[it.CurrencyCode].Add(it.CommissionAmount)
			}
		}
	}
	if len(want) == 0 {
		r.t.Fatal("iyzico reported no items")
	}
	for cur, w := range want {
		got, err := decimal.NewFromString(sum.Commission[cur])
		if err != nil || !got.Equal(w) {
			r.t.Errorf("report commission %s = %q, iyzico's paid items sum to %s", cur, sum.Commission[cur], w)
		}
	}
	for cur, w := range refunded {
		got, err := decimal.NewFromString(sum.CommissionRefunded[cur])
		if err != nil || !got.Equal(w) {
			r.t.Errorf("report refunded commission %s = %q, iyzico's refunded items sum to %s", cur, sum.CommissionRefunded[cur], w)
		}
	}
}

func TestFourEyesRefusal(t *testing.T) {
	r := setup(t)
	b, _ := r.awaitingApproval(100)
	_, err := r.store.Approve(context.Background(), b.ID, "TESTER", batch.ApproveOptions{FourEyes: true}, r.queue, r.topts)
	if !errors.Is(err, batch.ErrFourEyes) {
		t.Fatalf("submitter approving with four-eyes = %v, want ErrFourEyes", err)
	}
	if got, _ := r.store.Get(context.Background(), b.ID); got.ApprovedBy != "" || got.Approvals != 0 || len(r.sandbox.Stats().AuthCalls) != 0 {
		t.Fatalf("refused approval changed something: %+v", got)
	}
	if _, err := r.store.Approve(context.Background(), b.ID, "mehmet", batch.ApproveOptions{FourEyes: true}, r.queue, r.topts); err != nil {
		t.Fatalf("another approver = %v", err)
	}
}

func TestCancelBeforeAuth(t *testing.T) {
	forDialects(t, func(t *testing.T, d rigOption) {
		r := setup(t, d)
		b, _ := r.awaitingApproval(100)
		b, err := r.store.Cancel(context.Background(), b.ID, "ops", r.queue, r.topts)
		if err != nil || !b.CancelRequested {
			t.Fatalf("Cancel = %+v, %v", b, err)
		}
		b = r.waitFor(b.ID, 30*time.Second, "final", finalReported)
		st := r.checkInvariants(b.ID, r.tot)
		if st[iyzico.ItemMassPayoutCanceled] != r.tot.Valid || b.Status != batch.StatusCanceled {
			t.Errorf("statuses %v batch %s", st, b.Status)
		}
		if stats := r.sandbox.Stats(); stats.CancelCommits != b.ChunksTotal || len(stats.AuthCalls) != 0 {
			t.Errorf("cancel commits %d for %d chunks, auth calls %v", stats.CancelCommits, b.ChunksTotal, stats.AuthCalls)
		}
		if _, err := r.store.Approve(context.Background(), b.ID, "ayse", batch.ApproveOptions{}, r.queue, r.topts); !errors.Is(err, batch.ErrNotAwaitingApproval) {
			t.Errorf("approve after cancel = %v", err)
		}
	})
}

func TestCancelRefusedAfterApproval(t *testing.T) {
	r := setup(t)
	b, _ := r.awaitingApproval(100)
	r.approve(b.ID, "ayse")
	if _, err := r.store.Cancel(context.Background(), b.ID, "ops", r.queue, r.topts); !errors.Is(err, batch.ErrCancelRefused) {
		t.Fatalf("cancel after approval = %v, want ErrCancelRefused", err)
	}
	r.waitFor(b.ID, 30*time.Second, "final", finalReported)
	if n := r.sandbox.Stats().CancelCommits; n != 0 {
		t.Errorf("%d payouts canceled after approval", n)
	}
}

// TestAmbiguousAuthNotSentTwice drops the connection after iyzico committed an auth: the retry
// reads the payout back, sees its items past INIT and adopts, never sending auth again.
func TestAmbiguousAuthNotSentTwice(t *testing.T) {
	forDialects(t, func(t *testing.T, d rigOption) {
		r := setup(t, d)
		b, _ := r.awaitingApproval(100)
		r.sandbox.FailNext(sandbox.EndpointAuth, sandbox.FaultCommitThenDrop, 2)
		r.approve(b.ID, "ayse")
		b = r.waitFor(b.ID, 60*time.Second, "final", finalReported)
		r.checkInvariants(b.ID, r.tot)
		stats := r.sandbox.Stats()
		if stats.Dropped < 2 {
			t.Fatalf("only %d auths dropped", stats.Dropped)
		}
		for req, n := range stats.AuthCalls {
			if n != 1 {
				t.Errorf("payout %s got %d auth calls, want exactly 1", req, n)
			}
		}
		if len(stats.AuthCommits) != b.ChunksTotal {
			t.Errorf("%d payouts authorized for %d chunks", len(stats.AuthCommits), b.ChunksTotal)
		}
	})
}

// reconcileUnknown drives a batch to NEEDS_RECONCILE with UNKNOWN chunks under the given faults,
// clears the faults, reconciles, and checks that the batch recovers to AWAITING_APPROVAL with every
// chunk committed exactly once, and that a second reconcile changes nothing.
func reconcileUnknown(t *testing.T, d rigOption, faults func(*sandbox.Server), wantCommittedBefore func(n, chunks int) bool) {
	r := setup(t, d, withMaxRetry(1))
	faults(r.sandbox)
	path, tot := r.payroll(300, 0, 12)
	b := r.mustSubmit(path, "recon", 100)
	p := r.pipeline()
	for seq := 1; seq <= b.ChunksTotal; seq++ { // run the init steps here, without workers (nor a janitor)
		if err := p.Init(context.Background(), chunkRef(b.ID, seq)); err != nil {
			t.Fatalf("init %d: %v", seq, err)
		}
	}
	b, _ = r.store.Get(context.Background(), b.ID)
	st := r.checkInvariants(b.ID, tot)
	if b.Status != batch.StatusNeedsReconcile || st[batch.RowUnknown] != tot.Valid {
		t.Fatalf("setup: batch %s statuses %v; want every row UNKNOWN", b.Status, st)
	}
	if n := r.sandbox.Stats().CommittedPayouts; !wantCommittedBefore(n, b.ChunksTotal) {
		t.Fatalf("setup: %d payouts committed at iyzico for %d chunks", n, b.ChunksTotal)
	}
	r.sandbox.SetFaults(sandbox.Faults{})

	changes, err := p.Reconcile(context.Background(), b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != b.ChunksTotal {
		t.Fatalf("reconcile reported %d chunks of %d: %v", len(changes), b.ChunksTotal, changes)
	}
	for _, c := range changes {
		if c.From != batch.ChunkUnknown || c.To == batch.ChunkUnknown {
			t.Errorf("change %s", c)
		}
	}
	r.startWorkers(3)
	b = r.waitFor(b.ID, 30*time.Second, "awaiting approval", initPhaseReported)
	st = r.checkInvariants(b.ID, tot)
	if st[iyzico.ItemInit] != tot.Valid || b.Status != batch.StatusAwaitingApproval {
		t.Errorf("after reconcile: statuses %v batch %s", st, b.Status)
	}
	if n := r.sandbox.Stats().CommittedPayouts; n != b.ChunksTotal {
		t.Errorf("%d payouts committed for %d chunks", n, b.ChunksTotal)
	}
	again, err := p.Reconcile(context.Background(), b.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range again {
		if c.From != c.To || c.Unresolved {
			t.Errorf("second reconcile on a healthy batch: %s", c)
		}
	}
	r.approve(b.ID, "ayse")
	b = r.waitFor(b.ID, 30*time.Second, "final", finalReported)
	if st := r.checkInvariants(b.ID, tot); st[iyzico.ItemInit]+st[batch.RowUnknown] != 0 {
		t.Errorf("after approval: statuses %v", st)
	}
}

// TestReconcileAdoptsWhatIyzicoHolds: every init was committed but its answer lost, and the
// read-backs failed, so the chunks ran out of retries; reconcile adopts them without a new init.
func TestReconcileAdoptsWhatIyzicoHolds(t *testing.T) {
	forDialects(t, func(t *testing.T, d rigOption) {
		reconcileUnknown(t, d, func(s *sandbox.Server) {
			s.FailNext(sandbox.EndpointInit, sandbox.FaultCommitThenDrop, 3)
			s.SetFaults(sandbox.Faults{ServerErrorRate: 1, Endpoints: []string{sandbox.EndpointRetrieve}})
		}, func(n, chunks int) bool { return n == chunks })
	})
}

// TestReconcileResendsWhatIyzicoNeverSaw: every init was refused with a 5xx; reconcile finds no
// payout at iyzico and sends the chunks again.
func TestReconcileResendsWhatIyzicoNeverSaw(t *testing.T) {
	forDialects(t, func(t *testing.T, d rigOption) {
		reconcileUnknown(t, d, func(s *sandbox.Server) {
			s.SetFaults(sandbox.Faults{ServerErrorRate: 1, Endpoints: []string{sandbox.EndpointInit}})
		}, func(n, _ int) bool { return n == 0 })
	})
}

// TestReconcileRequeuesLostInitTasks: a chunk left PENDING without any task (its task lost with
// Redis data, say) gets it again from reconcile, and exactly one init per chunk goes out.
func TestReconcileRequeuesLostInitTasks(t *testing.T) {
	r := setup(t)
	path, tot := r.payroll(150, 0, 15)
	b := r.mustSubmit(path, "lost", 50)
	if n, err := r.inspect.DeleteAllPendingTasks("default"); err != nil || n != b.ChunksTotal {
		t.Fatalf("deleted %d pending tasks (%v), want %d", n, err, b.ChunksTotal)
	}
	if _, err := r.pipeline().Reconcile(context.Background(), b.ID); err != nil {
		t.Fatal(err)
	}
	// A second reconcile before any worker ran enqueues no second init.
	if _, err := r.pipeline().Reconcile(context.Background(), b.ID); err != nil {
		t.Fatal(err)
	}
	if qi, err := r.inspect.GetQueueInfo("default"); err != nil || qi.Pending != b.ChunksTotal {
		t.Fatalf("%+v pending after two reconciles (%v), want %d", qi, err, b.ChunksTotal)
	}
	r.startWorkers(2)
	b = r.waitFor(b.ID, 30*time.Second, "awaiting approval", initPhaseReported)
	if st := r.checkInvariants(b.ID, tot); st[iyzico.ItemInit] != tot.Valid {
		t.Errorf("statuses %v", st)
	}
	for ext, n := range r.sandbox.Stats().InitAttempts {
		if n != 1 {
			t.Errorf("%s: %d inits", ext, n)
		}
	}
}

// TestApproveChecksTheBalance: an approval the mass payout balance does not cover (the items plus
// iyzico's commission, read back) is refused with the gap; --allow-insufficient approves anyway and
// the audit list says so; a covering balance approves with the figures recorded.
func TestApproveChecksTheBalance(t *testing.T) {
	forDialects(t, func(t *testing.T, d rigOption) {
		r := setup(t, d)
		b, _ := r.awaitingApproval(100)
		p := r.pipeline()
		check := func(ctx context.Context, pend *batch.Pending) (*batch.BalanceCheck, error) {
			return p.CheckBalance(ctx, b.ID, pend)
		}
		pend, err := r.store.Pending(context.Background(), b.ID)
		if err != nil {
			t.Fatal(err)
		}
		c, err := check(context.Background(), pend)
		if err != nil {
			t.Fatal(err)
		}
		if c.Commission.Sign() <= 0 || c.CommissionEstimated || !c.Total.Equal(r.tot.ValidAmounts["TRY"]) {
			t.Fatalf("check %+v; want the TRY total %s and iyzico's commission", c, r.tot.ValidAmounts["TRY"])
		}
		need := c.Total.Add(c.Commission)
		r.sandbox.SetBalance(need.Sub(decimal.New(1, -2))) // one kuruş short
		_, err = r.store.Approve(context.Background(), b.ID, "ayse", batch.ApproveOptions{CheckBalance: check}, r.queue, r.topts)
		if !errors.Is(err, batch.ErrInsufficientBalance) || !strings.Contains(err.Error(), "short by 0.01 TRY") {
			t.Fatalf("approve one kuruş short = %v, want ErrInsufficientBalance saying by how much", err)
		}
		if got, _ := r.store.Get(context.Background(), b.ID); got.Approvals != 0 {
			t.Fatal("the refused approval was recorded")
		}
		a, err := r.store.Approve(context.Background(), b.ID, "ayse", batch.ApproveOptions{CheckBalance: check, AllowInsufficient: true, Comment: "top-up on its way"}, r.queue, r.topts)
		if err != nil || !a.AllowedInsufficient || !strings.Contains(a.Balance, "short by 0.01 TRY") {
			t.Fatalf("approve with allow-insufficient = %+v, %v", a, err)
		}
		log, _ := r.store.AuditLog(context.Background(), b.ID)
		last := log[len(log)-1]
		if !strings.Contains(last.Detail, "despite the insufficient balance") || !strings.Contains(last.Detail, "top-up on its way") {
			t.Errorf("audit %q", last.Detail)
		}
	})
}
