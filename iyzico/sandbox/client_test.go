package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/iyzico/sandbox"
)

// These tests drive the real iyzico.Client against the sandbox over loopback HTTP: every
// endpoint, every error class, injected faults and a response dropped after commit.

// clock is a settable clock for sandbox.Options.Clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fixture is a sandbox on loopback HTTP and a client for it.
type fixture struct {
	srv    *sandbox.Server
	hs     *httptest.Server
	client *iyzico.Client
	clock  *clock
}

func newFixture(t *testing.T, opts sandbox.Options, copts iyzico.Options) *fixture {
	t.Helper()
	f := &fixture{clock: &clock{now: time.Date(2026, 1, 30, 9, 0, 0, 0, time.UTC)}}
	if opts.Clock == nil {
		opts.Clock = f.clock.Now
	}
	f.srv = sandbox.New(opts)
	f.hs = httptest.NewServer(f.srv)
	t.Cleanup(f.hs.Close)
	copts.BaseURL = f.hs.URL
	if copts.APIKey == "" {
		copts.APIKey, copts.SecretKey = sandbox.DefaultAPIKey, sandbox.DefaultSecretKey
	}
	c, err := iyzico.NewClient(copts)
	if err != nil {
		t.Fatal(err)
	}
	f.client = c
	return f
}

func amount(s string) iyzico.Amount {
	return iyzico.Amount{Value: decimal.RequireFromString(s), Currency: "TRY"}
}

func item(id, value string) iyzico.Item {
	return iyzico.Item{ItemExternalID: id, RecipientType: iyzico.RecipientIBAN, RecipientInfo: "TR330006100519786457841326",
		RecipientName: "Zeynep Kaya", Description: "maaş", Amount: amount(value)}
}

func payout(ext string, items ...iyzico.Item) *iyzico.InitRequest {
	return &iyzico.InitRequest{ExternalID: ext, ConversationID: "c-" + ext, Purpose: "SALARY", Items: items}
}

// wantErr checks an error's classification and, when code is not "", its code.
func wantErr(t *testing.T, err error, transient, ambiguous bool, code iyzico.Code) *iyzico.Error {
	t.Helper()
	e, ok := errors.AsType[*iyzico.Error](err)
	if !ok {
		t.Fatalf("error %v (%T), want *iyzico.Error", err, err)
	}
	if iyzico.IsTransient(err) != transient || iyzico.IsAmbiguous(err) != ambiguous || iyzico.IsPermanent(err) == transient {
		t.Errorf("%v: transient %v ambiguous %v permanent %v; want transient %v ambiguous %v",
			err, iyzico.IsTransient(err), iyzico.IsAmbiguous(err), iyzico.IsPermanent(err), transient, ambiguous)
	}
	if code != "" && e.Code != code {
		t.Errorf("%v: code %q, want %q", err, e.Code, code)
	}
	return e
}

func TestClientEveryEndpoint(t *testing.T) {
	ctx := t.Context()
	for _, paging := range []string{sandbox.PagingTop, sandbox.PagingNested, sandbox.PagingBoth} {
		t.Run(paging, func(t *testing.T) {
			f := newFixture(t, sandbox.Options{SettleDelay: time.Minute, MaxPageSize: 7, Paging: paging, InitialBalance: decimal.RequireFromString("100000")},
				iyzico.Options{Locale: "en"})
			items := make([]iyzico.Item, 20)
			for i := range items {
				items[i] = item(fmt.Sprintf("it-%02d", i), "100.50")
			}
			items[3].Amount = amount("10.99") // FAILED → DEPOSIT_SUCCESS
			items[4].Amount = amount("10.98") // FAILED → DEPOSIT_FAIL
			items[5].RecipientInfo = "TR000"  // INVALID
			items[6].Amount.Currency = "GBP"  // INVALID
			body, err := iyzico.MarshalInit(payout("ext-1", items...))
			if err != nil {
				t.Fatal(err)
			}
			in, err := f.client.InitRaw(ctx, body)
			if err != nil {
				t.Fatal(err)
			}
			if in.ConversationID != "c-ext-1" || len(in.InvalidItems) != 2 || in.InvalidItems[0].ErrorCode != sandbox.CodeInvalidIBAN ||
				in.InvalidItems[1].ErrorMessage != "currency must be TRY, USD or EUR" {
				t.Errorf("init answer %+v", in)
			}
			// The same bytes again: the original answer.
			again, err := f.client.InitRaw(ctx, body)
			if err != nil || again.RequestID != in.RequestID || !cmp.Equal(again.InvalidItems, in.InvalidItems) {
				t.Errorf("replay %+v, %v; want requestId %s and the same invalidItems", again, err, in.RequestID)
			}

			sum, all, err := f.client.RetrieveAll(ctx, iyzico.RetrieveRequest{ExternalMassPayoutID: "ext-1"})
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 20 || sum.MassPayoutStatus != iyzico.PayoutInit || sum.ExternalID != "ext-1" {
				t.Fatalf("RetrieveAll: %d items, summary %+v", len(all), sum)
			}
			for i, it := range all {
				if it.ItemExternalID != items[i].ItemExternalID || it.MassPayoutRequestID != in.RequestID {
					t.Errorf("item %d = %s of %s, want %s of %s (body order)", i, it.ItemExternalID, it.MassPayoutRequestID, items[i].ItemExternalID, in.RequestID)
				}
			}
			_, valid, err := f.client.RetrieveAll(ctx, iyzico.RetrieveRequest{RequestID: in.RequestID, ItemType: iyzico.ItemTypeValid, Size: 3})
			if err != nil || len(valid) != 18 {
				t.Errorf("RetrieveAll VALID: %d items, %v; want 18", len(valid), err)
			}
			page, err := f.client.Retrieve(ctx, iyzico.RetrieveRequest{RequestID: in.RequestID, ItemType: iyzico.ItemTypeInvalid})
			if err != nil {
				t.Fatal(err)
			}
			if p, size, total := page.Paging(); p != 0 || size != 7 || total != 2 || len(page.MassPayoutItems.Items) != 2 {
				t.Errorf("INVALID page: %d/%d/%d with %d items", p, size, total, len(page.MassPayoutItems.Items))
			}

			one, err := f.client.RetrieveItem(ctx, all[3].ReferenceCode)
			if err != nil || one.Item.ItemExternalID != "it-03" || one.Item.ItemStatus != iyzico.ItemInit {
				t.Errorf("RetrieveItem: %+v, %v", one, err)
			}

			before, err := f.client.Balance(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.client.Auth(ctx, in.RequestID); err != nil {
				t.Fatal(err)
			}
			after, err := f.client.Balance(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// 16 × (100.50 + 1.00) + (10.99 + 1.00) + (10.98 + 1.00)
			if spent := before.Balance.Sub(after.Balance); !spent.Equal(decimal.RequireFromString("1647.97")) {
				t.Errorf("auth debited %s, want 1647.97", spent)
			}

			f.clock.Add(2 * time.Minute)
			sum, all, err = f.client.RetrieveAll(ctx, iyzico.RetrieveRequest{RequestID: in.RequestID})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, it := range all {
				got[it.ItemStatus]++
			}
			want := map[string]int{iyzico.ItemSuccess: 16, iyzico.ItemDepositSuccess: 1, iyzico.ItemDepositFail: 1, iyzico.ItemInvalid: 2}
			if d := cmp.Diff(want, got); d != "" || sum.MassPayoutStatus != iyzico.PayoutCompleted || !sum.TotalSuccessfulAmount.Equal(decimal.RequireFromString("1608")) {
				t.Errorf("after settlement: %+v (-want +got):\n%s", sum, d)
			}
			final, err := f.client.Balance(ctx)
			if err != nil || !final.Balance.Sub(after.Balance).Equal(decimal.RequireFromString("11.99")) {
				t.Errorf("refund %v, %v; want 11.99 back", final, err)
			}

			// Cancel: another payout, still in INIT.
			other, err := f.client.Init(ctx, payout("ext-2", item("o1", "5")))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.client.Cancel(ctx, other.RequestID); err != nil {
				t.Fatal(err)
			}
			r, err := f.client.Retrieve(ctx, iyzico.RetrieveRequest{RequestID: other.RequestID})
			if err != nil || r.MassPayout.MassPayoutStatus != iyzico.PayoutCanceled || r.MassPayoutItems.Items[0].ItemStatus != iyzico.ItemMassPayoutCanceled {
				t.Errorf("after cancel: %+v, %v", r, err)
			}
		})
	}
}

// TestClientPermanentFailures: each decoded failure answer is permanent and carries its code.
func TestClientPermanentFailures(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, sandbox.Options{}, iyzico.Options{})
	in, err := f.client.Init(ctx, payout("p-1", item("a", "1")))
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.client.Init(ctx, payout("p-1", item("a", "2")))
	wantErr(t, err, false, false, sandbox.CodeDuplicateExternalID)
	if _, err := f.client.Auth(ctx, in.RequestID); err != nil {
		t.Fatal(err)
	}
	_, err = f.client.Auth(ctx, in.RequestID)
	wantErr(t, err, false, false, sandbox.CodeInvalidState)
	_, err = f.client.Cancel(ctx, in.RequestID)
	wantErr(t, err, false, false, sandbox.CodeInvalidState)
	_, err = f.client.Auth(ctx, "79cdefc1-3ce6-4f51-bdd9-c050274db664")
	wantErr(t, err, false, false, sandbox.CodeNotFound)
	_, err = f.client.Cancel(ctx, "no such id")
	wantErr(t, err, false, false, sandbox.CodeNotFound)
	_, err = f.client.RetrieveItem(ctx, "b9a2f39c-0403-4869-a23a-371046c7431f")
	wantErr(t, err, false, false, sandbox.CodeNotFound)
	_, err = f.client.Retrieve(ctx, iyzico.RetrieveRequest{ExternalMassPayoutID: "nope"})
	wantErr(t, err, false, false, sandbox.CodeNotFound)
	_, err = f.client.Retrieve(ctx, iyzico.RetrieveRequest{ExternalMassPayoutID: "p-1", ItemType: "ALL"})
	e := wantErr(t, err, false, false, sandbox.CodeInvalidRequest)
	if e.HTTPStatus != http.StatusBadRequest {
		t.Errorf("invalid request HTTP %d, want 400", e.HTTPStatus)
	}
	_, err = f.client.InitRaw(ctx, []byte(`{"externalId":"p-2","items":[]}`))
	wantErr(t, err, false, false, sandbox.CodeInvalidRequest)

	// Credentials: unknown key, wrong secret.
	for _, tt := range []struct {
		key, secret string
		code        iyzico.Code
	}{{"someone-else", "x", iyzico.CodeCredentialsNotFound}, {sandbox.DefaultAPIKey, "wrong", iyzico.CodeInvalidSignature}} {
		c, err := iyzico.NewClient(iyzico.Options{BaseURL: f.hs.URL, APIKey: tt.key, SecretKey: tt.secret})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Balance(ctx)
		if e := wantErr(t, err, false, false, tt.code); e.HTTPStatus != http.StatusUnauthorized {
			t.Errorf("%s: HTTP %d, want 401", tt.code, e.HTTPStatus)
		}
		_, err = c.Init(ctx, payout("p-3", item("a", "1")))
		wantErr(t, err, false, false, tt.code)
	}
	if st := f.srv.Stats(); st.CommittedPayouts != 1 || st.AuthCommits[in.RequestID] != 1 || st.AuthInvalidState != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestClientRefusedFaults: 429 and 5xx are transient and commit nothing; a 5xx is ambiguous (the
// client cannot know), a 429 is not.
func TestClientRefusedFaults(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, sandbox.Options{Faults: sandbox.Faults{RetryAfter: 1500 * time.Millisecond}}, iyzico.Options{})
	body, _ := iyzico.MarshalInit(payout("f-1", item("a", "1")))

	f.srv.FailNext(sandbox.EndpointInit, sandbox.FaultRateLimit, 1)
	_, err := f.client.InitRaw(ctx, body)
	e := wantErr(t, err, true, false, iyzico.CodeRateLimited)
	if d, ok := iyzico.RetryAfter(err); !ok || d != 2*time.Second || e.HTTPStatus != http.StatusTooManyRequests {
		t.Errorf("429: HTTP %d, RetryAfter %v %v; want 429 and 2s", e.HTTPStatus, d, ok)
	}

	f.srv.FailNext(sandbox.EndpointInit, sandbox.FaultServerError, 3) // 500 JSON, 502 empty, 503 HTML
	for _, status := range []int{500, 502, 503} {
		_, err := f.client.InitRaw(ctx, body)
		if e := wantErr(t, err, true, true, ""); e.HTTPStatus != status {
			t.Errorf("server error HTTP %d, want %d", e.HTTPStatus, status)
		}
	}
	if st := f.srv.Stats(); st.CommittedPayouts != 0 {
		t.Fatalf("refused requests committed %d payouts", st.CommittedPayouts)
	}
	in, err := f.client.InitRaw(ctx, body)
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range []string{sandbox.EndpointAuth, sandbox.EndpointRetrieve, sandbox.EndpointItem, sandbox.EndpointBalance, sandbox.EndpointCancel} {
		f.srv.FailNext(ep, sandbox.FaultRateLimit, 1)
		f.srv.FailNext(ep, sandbox.FaultServerError, 1)
	}
	for range 2 {
		_, err = f.client.Auth(ctx, in.RequestID)
		if !iyzico.IsTransient(err) {
			t.Errorf("auth under faults: %v, want transient", err)
		}
		_, err = f.client.Retrieve(ctx, iyzico.RetrieveRequest{RequestID: in.RequestID})
		if !iyzico.IsTransient(err) {
			t.Errorf("retrieve under faults: %v, want transient", err)
		}
		_, err = f.client.RetrieveItem(ctx, "b9a2f39c-0403-4869-a23a-371046c7431f")
		if !iyzico.IsTransient(err) {
			t.Errorf("item under faults: %v, want transient", err)
		}
		_, err = f.client.Balance(ctx)
		if !iyzico.IsTransient(err) {
			t.Errorf("balance under faults: %v, want transient", err)
		}
		_, err = f.client.Cancel(ctx, in.RequestID)
		if !iyzico.IsTransient(err) {
			t.Errorf("cancel under faults: %v, want transient", err)
		}
	}
	if st := f.srv.Stats(); len(st.AuthCommits) != 0 || st.CancelCommits != 0 {
		t.Errorf("refused auth/cancel committed: %+v", st)
	}
	if _, err := f.client.Auth(ctx, in.RequestID); err != nil {
		t.Errorf("auth after the faults: %v", err)
	}
}

// TestClientTimeout: injected latency beyond the client's timeout is transient and ambiguous for
// the client, and the sandbox commits nothing for the abandoned request.
func TestClientTimeout(t *testing.T) {
	f := newFixture(t, sandbox.Options{Faults: sandbox.Faults{LatencyRate: 1, Latency: 10 * time.Second, Endpoints: []string{sandbox.EndpointInit}}},
		iyzico.Options{Timeout: 100 * time.Millisecond})
	start := time.Now()
	_, err := f.client.Init(t.Context(), payout("slow", item("a", "1")))
	e := wantErr(t, err, true, true, "")
	if e.HTTPStatus != 0 || !e.Sent || time.Since(start) > 5*time.Second {
		t.Errorf("timeout: %+v after %v", e, time.Since(start))
	}
	// The caller's own cancellation is transient too.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = f.client.Balance(ctx)
	wantErr(t, err, true, false, "")

	f.hs.Close() // waits for the abandoned handler
	if st := f.srv.Stats(); st.CommittedPayouts != 0 || st.Faults["latency"] != 1 {
		t.Errorf("stats %+v, want nothing committed", st)
	}
}

// TestClientCommitThenDrop: init and auth are committed, the client sees an ambiguous error, and
// the recovery the design prescribes (read back, resend the same bytes) converges without a
// second commit.
func TestClientCommitThenDrop(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, sandbox.Options{}, iyzico.Options{})
	body, _ := iyzico.MarshalInit(payout("d-1", item("a", "1"), item("b", "2")))

	f.srv.FailNext(sandbox.EndpointInit, sandbox.FaultCommitThenDrop, 1)
	_, err := f.client.InitRaw(ctx, body)
	if e := wantErr(t, err, true, true, ""); e.HTTPStatus != 0 || !e.Sent {
		t.Errorf("dropped init: %+v, want no answer and Sent", e)
	}
	if st := f.srv.Stats(); st.CommittedPayouts != 1 || st.Dropped != 1 {
		t.Fatalf("stats %+v, want the init committed and dropped", st)
	}
	// Read back by externalId: it is there, with its requestId on the items.
	_, items, err := f.client.RetrieveAll(ctx, iyzico.RetrieveRequest{ExternalMassPayoutID: "d-1"})
	if err != nil || len(items) != 2 {
		t.Fatalf("read back: %d items, %v", len(items), err)
	}
	requestID := items[0].MassPayoutRequestID
	// Resending the same bytes replays the original answer.
	in, err := f.client.InitRaw(ctx, body)
	if err != nil || in.RequestID != requestID {
		t.Fatalf("resend: %+v, %v; want requestId %s", in, err, requestID)
	}

	f.srv.FailNext(sandbox.EndpointAuth, sandbox.FaultCommitThenDrop, 1)
	_, err = f.client.Auth(ctx, requestID)
	wantErr(t, err, true, true, "")
	r, err := f.client.Retrieve(ctx, iyzico.RetrieveRequest{RequestID: requestID})
	if err != nil || r.MassPayout.MassPayoutStatus == iyzico.PayoutInit {
		t.Fatalf("after dropped auth: %+v, %v; want authorized", r, err)
	}
	_, err = f.client.Auth(ctx, requestID)
	wantErr(t, err, false, false, sandbox.CodeInvalidState)

	// A dropped GET: Go's transport may replay an idempotent request once on a fresh connection,
	// so drop it twice to reach the client.
	f.srv.FailNext(sandbox.EndpointBalance, sandbox.FaultCommitThenDrop, 2)
	_, err = f.client.Balance(ctx)
	wantErr(t, err, true, true, "")

	st := f.srv.Stats()
	if st.CommittedPayouts != 1 || st.InitReplays != 1 || st.AuthCommits[requestID] != 1 || st.InitBodies["d-1"] != 1 {
		t.Errorf("stats %+v: want one payout, one replay, one auth commit, one body", st)
	}
}

// TestClientRetryLoopUnderRandomFaults runs many payouts through a retry loop that follows
// DESIGN.md §8 against seeded random faults, then checks invariant 2 with the sandbox's stats:
// every externalId committed once with one body, no item under two externalIds, every payout
// authorized exactly once.
func TestClientRetryLoopUnderRandomFaults(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, sandbox.Options{Seed: 11, Faults: sandbox.Faults{
		ServerErrorRate: 0.15, RateLimitRate: 0.15, CommitThenDropRate: 0.15, RetryAfter: time.Millisecond,
	}}, iyzico.Options{})
	const payouts = 40

	// retry calls op until it succeeds or fails permanently; on an ambiguous error it first asks
	// recover whether the work is already done.
	retry := func(op func() error, recover func() bool) error {
		for attempt := 0; attempt < 50; attempt++ {
			err := op()
			switch {
			case err == nil:
				return nil
			case iyzico.IsAmbiguous(err) && recover():
				return nil
			case iyzico.IsTransient(err):
				continue
			default:
				return err
			}
		}
		return errors.New("retries exhausted")
	}

	var wg sync.WaitGroup
	for n := range payouts {
		wg.Go(func() {
			ext := fmt.Sprintf("chunk-%05d", n)
			body, _ := iyzico.MarshalInit(payout(ext, item(ext+"-a", "10"), item(ext+"-b", "20.99")))
			var requestID string
			readBack := func() bool {
				_, items, err := f.client.RetrieveAll(ctx, iyzico.RetrieveRequest{ExternalMassPayoutID: ext})
				if err != nil || len(items) == 0 {
					return false
				}
				requestID = items[0].MassPayoutRequestID
				return true
			}
			err := retry(func() error {
				in, err := f.client.InitRaw(ctx, body)
				if err == nil {
					requestID = in.RequestID
				}
				return err
			}, readBack)
			if err != nil {
				t.Errorf("%s: init: %v", ext, err)
				return
			}
			err = retry(func() error {
				_, err := f.client.Auth(ctx, requestID)
				if e, ok := errors.AsType[*iyzico.Error](err); ok && e.Code == sandbox.CodeInvalidState {
					return nil // an earlier, dropped attempt went through
				}
				return err
			}, func() bool {
				r, err := f.client.Retrieve(ctx, iyzico.RetrieveRequest{RequestID: requestID})
				return err == nil && r.MassPayout.MassPayoutStatus != iyzico.PayoutInit
			})
			if err != nil {
				t.Errorf("%s: auth: %v", ext, err)
			}
		})
	}
	wg.Wait()

	st := f.srv.Stats()
	if st.CommittedPayouts != payouts || len(st.ItemsUnderManyExternalIDs) != 0 || len(st.AuthCommits) != payouts {
		t.Errorf("stats: %d payouts, %d shared items, %d authorized; want %d, 0, %d", st.CommittedPayouts, len(st.ItemsUnderManyExternalIDs), len(st.AuthCommits), payouts, payouts)
	}
	for ext, n := range st.InitBodies {
		if n != 1 {
			t.Errorf("%s sent with %d different bodies", ext, n)
		}
	}
	for id, n := range st.AuthCommits {
		if n != 1 {
			t.Errorf("%s authorized %d times", id, n)
		}
	}
	if st.Faults["server_error"] == 0 || st.Faults["rate_limit"] == 0 || st.Faults["commit_then_drop"] == 0 {
		t.Errorf("faults %v: want every kind exercised", st.Faults)
	}
}
