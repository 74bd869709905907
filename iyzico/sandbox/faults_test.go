package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/masspayout/masspayout/iyzico"
)

// live serves New(opts) over loopback HTTP for the test's lifetime.
func live(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	s := New(opts)
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return s, hs
}

// httpResult is what a client saw: an answer or a transport error.
type httpResult struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// signedDo sends a signed request over HTTP with its own fresh connection.
func signedDo(t *testing.T, ctx context.Context, base, method, target string, body []byte) httpResult {
	t.Helper()
	path, _, _ := strings.Cut(target, "?")
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+target, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", iyzico.Authorization(DefaultAPIKey, DefaultSecretKey, "rk", path, body))
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return httpResult{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return httpResult{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

func TestRateLimitFault(t *testing.T) {
	s, hs := live(t, Options{Faults: Faults{RateLimitRate: 1, RetryAfter: 1500 * time.Millisecond}})
	r := signedDo(t, t.Context(), hs.URL, http.MethodPost, iyzico.PathInit+"?locale=en", bodyOf(t, initReq("e", ibanItem("i", "1"))))
	if r.err != nil || r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "2" {
		t.Fatalf("got %d %v Retry-After %q, want 429 with Retry-After 2", r.status, r.err, r.header.Get("Retry-After"))
	}
	var e iyzico.Response
	if err := json.Unmarshal(r.body, &e); err != nil || e.ErrorCode != iyzico.CodeRateLimited || e.ErrorMessage != "Request Limit Exceeded" || e.Status != iyzico.StatusFailure {
		t.Errorf("429 body %s, want failure 50000 Request Limit Exceeded", r.body)
	}
	if st := s.Stats(); st.CommittedPayouts != 0 || st.Faults["rate_limit"] != 1 || st.InitAttempts["e"] != 0 {
		t.Errorf("stats %+v, want nothing committed, one rate_limit fault, no handled attempt", st)
	}
}

func TestServerErrorFault(t *testing.T) {
	s, hs := live(t, Options{})
	s.FailNext(EndpointInit, FaultServerError, 3)
	body := bodyOf(t, initReq("e", ibanItem("i", "1")))
	var got []string
	for range 3 {
		r := signedDo(t, t.Context(), hs.URL, http.MethodPost, iyzico.PathInit, body)
		if r.err != nil {
			t.Fatal(r.err)
		}
		got = append(got, fmt.Sprintf("%d %s", r.status, r.header.Get("Content-Type")))
	}
	want := []string{"500 application/json;charset=UTF-8", "502 ", "503 text/html"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("server errors (-want +got):\n%s", d)
	}
	if st := s.Stats(); st.CommittedPayouts != 0 || st.Faults["server_error"] != 3 {
		t.Errorf("stats %+v, want nothing committed and 3 server errors", st)
	}
	// The queue is used up: the same bytes now commit.
	if r := signedDo(t, t.Context(), hs.URL, http.MethodPost, iyzico.PathInit, body); r.status != http.StatusOK {
		t.Fatalf("after the faults: %d %s", r.status, r.body)
	}
	if st := s.Stats(); st.CommittedPayouts != 1 {
		t.Errorf("committed %d, want 1", st.CommittedPayouts)
	}
}

func TestLatencyFault(t *testing.T) {
	s, hs := live(t, Options{Faults: Faults{LatencyRate: 1, Latency: 80 * time.Millisecond}})
	start := time.Now()
	r := signedDo(t, t.Context(), hs.URL, http.MethodGet, iyzico.PathBalance, nil)
	if r.err != nil || r.status != http.StatusOK || time.Since(start) < 80*time.Millisecond {
		t.Fatalf("got %d %v after %v, want 200 after at least 80ms", r.status, r.err, time.Since(start))
	}

	// A client that gives up during the latency: nothing is committed.
	s.SetFaults(Faults{LatencyRate: 1, Latency: 10 * time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	r = signedDo(t, ctx, hs.URL, http.MethodPost, iyzico.PathInit, bodyOf(t, initReq("slow", ibanItem("i", "1"))))
	if r.err == nil {
		t.Fatalf("got %d, want a client timeout", r.status)
	}
	hs.Close() // waits for the handler to return
	if time.Since(start) > 5*time.Second {
		t.Errorf("handler slept through a canceled request")
	}
	if st := s.Stats(); st.CommittedPayouts != 0 || st.Faults["latency"] != 2 {
		t.Errorf("stats %+v, want nothing committed and 2 latency faults", st)
	}
}

// TestCommitThenDrop: the init is committed, the client sees a connection error, and a retry with
// the same bytes gets the original answer.
func TestCommitThenDrop(t *testing.T) {
	s, hs := live(t, Options{Faults: Faults{CommitThenDropRate: 1, Endpoints: []string{EndpointInit, EndpointAuth}}})
	body := bodyOf(t, initReq("drop", ibanItem("i", "1")))
	r := signedDo(t, t.Context(), hs.URL, http.MethodPost, iyzico.PathInit, body)
	if r.err == nil {
		t.Fatalf("got %d %s, want a connection error", r.status, r.body)
	}
	st := s.Stats()
	if st.CommittedPayouts != 1 || st.Dropped != 1 || st.Faults["commit_then_drop"] != 1 {
		t.Fatalf("stats %+v, want 1 payout committed and 1 dropped", st)
	}
	// Retrieve is not faulted: the payout is there.
	rr := signedDo(t, t.Context(), hs.URL, http.MethodPost, iyzico.PathRetrieve, bodyOf(t, iyzico.RetrieveRequest{ExternalMassPayoutID: "drop", Size: 10}))
	var ret iyzico.RetrieveResponse
	if err := json.Unmarshal(rr.body, &ret); err != nil || len(ret.MassPayoutItems.Items) != 1 {
		t.Fatalf("retrieve after drop: %d %s", rr.status, rr.body)
	}
	requestID := ret.MassPayoutItems.Items[0].MassPayoutRequestID

	// Auth dropped: committed too.
	r = signedDo(t, t.Context(), hs.URL, http.MethodPost, iyzico.PathAuth, bodyOf(t, iyzico.AuthRequest{RequestID: requestID}))
	if r.err == nil {
		t.Fatalf("auth got %d, want a connection error", r.status)
	}
	if st := s.Stats(); st.AuthCommits[requestID] != 1 {
		t.Errorf("auth commits %v, want 1 for %s", st.AuthCommits, requestID)
	}

	s.SetFaults(Faults{})
	r = signedDo(t, t.Context(), hs.URL, http.MethodPost, iyzico.PathInit, body)
	var ir iyzico.InitResponse
	if err := json.Unmarshal(r.body, &ir); err != nil || ir.RequestID != requestID {
		t.Errorf("retried init %s, want the original requestId %s", r.body, requestID)
	}
	r = signedDo(t, t.Context(), hs.URL, http.MethodPost, iyzico.PathAuth, bodyOf(t, iyzico.AuthRequest{RequestID: requestID}))
	var e iyzico.Response
	if json.Unmarshal(r.body, &e); e.ErrorCode != CodeInvalidState {
		t.Errorf("retried auth %s, want %s", r.body, CodeInvalidState)
	}
	if st := s.Stats(); st.CommittedPayouts != 1 || st.InitReplays != 1 || st.AuthCommits[requestID] != 1 {
		t.Errorf("stats %+v, want 1 payout, 1 replay, 1 auth commit", st)
	}
}

// TestDropWithoutHijack: a ResponseWriter that cannot be hijacked gets http.ErrAbortHandler.
func TestDropWithoutHijack(t *testing.T) {
	h := setup(t, Options{})
	h.s.FailNext(EndpointBalance, FaultCommitThenDrop, 1)
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", v)
		}
	}()
	h.get(iyzico.PathBalance)
	t.Errorf("no panic")
}

// faultTrace sends a fixed sequence of requests and records what each got.
func faultTrace(t *testing.T, seed int64) []int {
	t.Helper()
	h := setup(t, Options{Seed: seed, Faults: Faults{ServerErrorRate: 0.3, RateLimitRate: 0.3}})
	var out []int
	for i := range 60 {
		r := h.post(iyzico.PathInit, initReq(fmt.Sprintf("e%d", i%20), ibanItem("i", "1")))
		out = append(out, r.status)
	}
	return out
}

func TestFaultsDeterministicPerSeed(t *testing.T) {
	a, b, c := faultTrace(t, 7), faultTrace(t, 7), faultTrace(t, 8)
	if d := cmp.Diff(a, b); d != "" {
		t.Errorf("same seed, different faults (-first +second):\n%s", d)
	}
	if cmp.Equal(a, c) {
		t.Errorf("seeds 7 and 8 gave the same 60 decisions")
	}
	n := map[int]int{}
	for _, st := range a {
		n[st/100*100]++
	}
	if n[200]+n[400] == 0 || n[400]+n[200] == 60 || n[500] == 0 {
		t.Errorf("status classes %v: want a mix of faults and answers", n)
	}
}

// TestFaultsIndependentOfInterleaving: a request's fault depends on its own bytes and
// occurrence, not on what other requests arrived in between.
func TestFaultsIndependentOfInterleaving(t *testing.T) {
	f := Faults{ServerErrorRate: 0.5, RateLimitRate: 0.2, LatencyRate: 0.2, Latency: time.Millisecond, CommitThenDropRate: 0.2}
	trace := func(order []string) map[string][]decision {
		fs := newFaultState(42, f)
		out := map[string][]decision{}
		for _, k := range order {
			out[k] = append(out[k], fs.decide(EndpointInit, iyzico.PathInit, []byte(k)))
		}
		return out
	}
	a := trace([]string{"x", "y", "x", "z", "y", "x"})
	b := trace([]string{"z", "y", "y", "x", "x", "x"})
	if d := cmp.Diff(a, b, cmp.AllowUnexported(decision{})); d != "" {
		t.Errorf("interleaving changed decisions (-a +b):\n%s", d)
	}
}

func TestFaultEndpointsAndQueue(t *testing.T) {
	h := setup(t, Options{Faults: Faults{RateLimitRate: 1, Endpoints: []string{EndpointInit}}})
	if r := h.get(iyzico.PathBalance); r.status != http.StatusOK {
		t.Errorf("balance %d, want 200: faults limited to init", r.status)
	}
	if r := h.post(iyzico.PathInit, initReq("e", ibanItem("i", "1"))); r.status != http.StatusTooManyRequests {
		t.Errorf("init %d, want 429", r.status)
	}
	h.s.SetFaults(Faults{})
	h.s.FailNext(EndpointBalance, FaultRateLimit, 2)
	h.s.FailNext("", FaultServerError, 1)
	var got []int
	for range 2 {
		got = append(got, h.get(iyzico.PathBalance).status)
	}
	got = append(got, h.post(iyzico.PathInit, initReq("e", ibanItem("i", "1"))).status) // any-endpoint queue
	got = append(got, h.get(iyzico.PathBalance).status)                                 // all used up
	if d := cmp.Diff([]int{429, 429, 500, 200}, got); d != "" {
		t.Errorf("statuses (-want +got):\n%s", d)
	}
	// Authentication comes before faults: an unsigned request is never faulted.
	h.s.FailNext("", FaultRateLimit, 1)
	if r := h.raw(http.MethodGet, iyzico.PathBalance, "", nil); r.status != http.StatusUnauthorized {
		t.Errorf("unsigned request %d, want 401", r.status)
	}
}

func TestFaultsEndpoint(t *testing.T) {
	h := setup(t, Options{Seed: 3})
	r := h.raw(http.MethodPost, "/sandbox/faults", "", []byte(`{"rateLimitRate":1,"retryAfter":"3s","latency":"5ms","endpoints":["auth"]}`))
	if r.status != http.StatusOK {
		t.Fatalf("POST /sandbox/faults %d %s", r.status, r.body)
	}
	want := Faults{RateLimitRate: 1, RetryAfter: 3 * time.Second, Latency: 5 * time.Millisecond, Endpoints: []string{"auth"}}
	if d := cmp.Diff(want, h.s.CurrentFaults()); d != "" {
		t.Errorf("faults (-want +got):\n%s", d)
	}
	var back Faults
	if err := json.Unmarshal(h.raw(http.MethodGet, "/sandbox/faults", "", nil).body, &back); err != nil || !cmp.Equal(want, back) {
		t.Errorf("GET /sandbox/faults = %+v (%v), want %+v", back, err, want)
	}
	for _, bad := range []string{`{"rateLimitRate":2}`, `{"endpoints":["nope"]}`, `{"latency":"soon"}`, `{"extra":1}`, `nope`, `{"latency":"-1s"}`} {
		if r := h.raw(http.MethodPost, "/sandbox/faults", "", []byte(bad)); r.status != http.StatusBadRequest {
			t.Errorf("POST /sandbox/faults %s = %d, want 400", bad, r.status)
		}
	}
	// SetFaults clamps.
	h.s.SetFaults(Faults{ServerErrorRate: 7, RateLimitRate: -1})
	if f := h.s.CurrentFaults(); f.ServerErrorRate != 1 || f.RateLimitRate != 0 || f.RetryAfter != time.Second {
		t.Errorf("clamped faults %+v, want rates 1 and 0, RetryAfter 1s", f)
	}
}

func TestStatsEndpoint(t *testing.T) {
	h := setup(t, Options{})
	a := h.init(initReq("e", ibanItem("i", "1")))
	h.auth(a.RequestID)
	r := h.raw(http.MethodGet, "/sandbox/stats", "", nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /sandbox/stats %d", r.status)
	}
	var st Stats
	r.decode(t, &st)
	if st.CommittedPayouts != 1 || st.AuthCommits[a.RequestID] != 1 || st.Requests["init"] != 1 || st.Requests["auth"] != 1 {
		t.Errorf("stats %s", r.body)
	}
	if !strings.Contains(string(r.body), `"itemsUnderManyExternalIds":{}`) {
		t.Errorf("stats JSON %s lacks itemsUnderManyExternalIds", r.body)
	}
}

// TestRefuseFaults: FaultRefuse answers a failure with CodeRefused and does nothing;
// FaultCommitThenRefuse does the work and answers the same failure.
func TestRefuseFaults(t *testing.T) {
	s, hs := live(t, Options{})
	s.FailNext(EndpointInit, FaultRefuse, 1)
	s.FailNext(EndpointInit, FaultCommitThenRefuse, 1)
	for i, want := range []int{0, 1} {
		body := bodyOf(t, initReq(fmt.Sprintf("refused-%d", i), ibanItem("i", "1")))
		r := signedDo(t, t.Context(), hs.URL, http.MethodPost, iyzico.PathInit, body)
		var e iyzico.Response
		if err := json.Unmarshal(r.body, &e); err != nil || r.status != DefaultFailureStatus || e.Status != iyzico.StatusFailure || e.ErrorCode != CodeRefused {
			t.Fatalf("init %d: %d %s", i, r.status, r.body)
		}
		if got := s.Stats().CommittedPayouts; got != want {
			t.Errorf("after init %d: %d payouts committed, want %d", i, got, want)
		}
	}
	if f := s.Stats().Faults; f["refuse"] != 1 || f["commit_then_refuse"] != 1 {
		t.Errorf("faults %v", f)
	}
}
