package worker_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/internal/callback"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/tasks"
	"github.com/masspayout/masspayout/worker"
	"github.com/rs/zerolog"
)

// TestCallbackSignedAndRetried: the final summary is POSTed to the batch's callback URL, signed
// with CALLBACK_SECRET; a receiver that fails first gets it again with the same event ID.
func TestCallbackSignedAndRetried(t *testing.T) {
	type delivery struct {
		event, sig string
		body       []byte
	}
	var mu sync.Mutex
	var got []delivery
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		mu.Lock()
		got = append(got, delivery{req.Header.Get("X-Masspayout-Event"), req.Header.Get("X-Masspayout-Signature"), body})
		n := len(got)
		mu.Unlock()
		if n == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(recv.Close)
	r := setup(t, withAutoApprove())
	path, tot := r.payroll(120, 13, 14)
	res, err := r.submitOptions(context.Background(), path, "cb", batch.Options{Format: "csv", ChunkSize: 50, CallbackURL: recv.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.startWorkers(2)
	r.waitFor(res.Batch.ID, 30*time.Second, "callback delivered", func(b *batch.Batch) bool { return b.CallbackDelivered })
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0].event != got[1].event || got[0].event != "cb:final" {
		t.Fatalf("deliveries %+v, want a failed one and its retry with the same event", got)
	}
	d := got[1]
	ts, _, ok := strings.Cut(strings.TrimPrefix(d.sig, "t="), ",v1=")
	unix, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil {
		t.Fatalf("signature header %q", d.sig)
	}
	want := worker.SignCallback("CBSENTINEL-callback-secret", unix, d.body)
	if !hmac.Equal([]byte(d.sig), []byte(want)) {
		t.Errorf("signature %q does not verify (want %q)", d.sig, want)
	}
	if strings.Contains(string(d.body), "CBSENTINEL") || strings.Contains(d.sig, "CBSENTINEL") {
		t.Error("the callback secret leaked into the callback")
	}
	if time.Since(time.Unix(unix, 0)) > time.Minute {
		t.Errorf("signature time %d is stale", unix)
	}
	var p worker.CallbackPayload
	if err := json.Unmarshal(d.body, &p); err != nil || p.Summary == nil || p.Summary.Rows != tot.Rows || p.Summary.Batch != "cb" {
		t.Fatalf("payload %s: %v", d.body, err)
	}
	if p.Summary.Status != batch.StatusCompletedWithErrors && p.Summary.Status != batch.StatusCompleted {
		t.Errorf("summary status %s", p.Summary.Status)
	}
}

func TestSignCallbackKnownAnswer(t *testing.T) {
	// printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'whsec'
	const want = "t=1700000000,v1=8ad37ba156048ae0e0a5533c75cdf26fee88b07f93cb57ee4c80adb053012032"
	if got := worker.SignCallback("whsec", 1700000000, []byte(`{"a":1}`)); got != want {
		t.Errorf("SignCallback = %s, want %s", got, want)
	}
}

// TestCallbackAgainAfterReconcile: a final batch whose ledger lost a write (an item's outcome went
// back to FAILED) is repaired by reconcile; when it is final again the receiver gets the corrected
// summary as a new event, <batch>:final:r<n>, so that de-duplication by event does not drop it.
func TestCallbackAgainAfterReconcile(t *testing.T) {
	var mu sync.Mutex
	var got []worker.CallbackPayload
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var p worker.CallbackPayload
		json.NewDecoder(req.Body).Decode(&p)
		if p.ID != req.Header.Get("X-Masspayout-Event") {
			t.Errorf("payload ID %s, header %s", p.ID, req.Header.Get("X-Masspayout-Event"))
		}
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
	}))
	t.Cleanup(recv.Close)
	r := setup(t, withAutoApprove())
	path, tot := r.payroll(120, 0, 16)
	res, err := r.submitOptions(context.Background(), path, "recb", batch.Options{Format: "csv", ChunkSize: 50, CallbackURL: recv.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.startWorkers(2)
	first := r.waitFor(res.Batch.ID, 30*time.Second, "first callback", func(b *batch.Batch) bool { return b.CallbackDelivered })

	// The ledger loses a write: chunk 1's first paid item reads FAILED again.
	cl, err := r.store.Claim(context.Background(), "recb", 1, batch.StepReconcile, time.Minute, batch.ChunkStatesAll, false)
	if err != nil {
		t.Fatal(err)
	}
	out := append([]batch.Outcome(nil), cl.Chunk.Outcomes...)
	i := slices.IndexFunc(out, func(o batch.Outcome) bool { return o.Status == iyzico.ItemSuccess })
	out[i].Status = iyzico.ItemFailed
	if _, err := cl.Commit(context.Background(), batch.Change{Event: batch.EvSeenFinal, Outcomes: out}); err != nil {
		t.Fatal(err)
	}
	changes, err := r.pipeline().Reconcile(context.Background(), res.Batch.ID)
	if err != nil || changes[0].From != batch.ChunkDone || !strings.Contains(changes[0].Detail, "adopted") {
		t.Fatalf("reconcile = %v, %v", changes, err)
	}
	b := r.waitFor(res.Batch.ID, 60*time.Second, "second callback", func(b *batch.Batch) bool { return b.Final && b.CallbackDelivered && b.Reopened == 1 })
	time.Sleep(300 * time.Millisecond) // a duplicate would arrive now
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("%d callbacks, want 2: %+v", len(got), got)
	}
	if got[0].ID != "recb:final" || got[0].Summary.Status != first.Status {
		t.Errorf("first callback %s, status %s; want recb:final, %s", got[0].ID, got[0].Summary.Status, first.Status)
	}
	if got[1].ID != "recb:final:r1" || got[1].Summary.Status != b.Status || got[1].Summary.Rows != tot.Rows {
		t.Errorf("second callback %s, status %s, %d rows (batch %s); want recb:final:r1 with the repaired summary", got[1].ID, got[1].Summary.Status, got[1].Summary.Rows, b.Status)
	}
}

// TestOneCallbackPerGeneration: finalize tasks of both phases, run at once on a final batch while
// the receiver is slow, deliver the callback once.
func TestOneCallbackPerGeneration(t *testing.T) {
	var mu sync.Mutex
	var events []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		time.Sleep(200 * time.Millisecond)
		mu.Lock()
		events = append(events, req.Header.Get("X-Masspayout-Event"))
		mu.Unlock()
	}))
	t.Cleanup(recv.Close)
	r := setup(t, withAutoApprove())
	path, _ := r.payroll(60, 0, 17)
	res, err := r.submitOptions(context.Background(), path, "once", batch.Options{Format: "csv", ChunkSize: 50, CallbackURL: recv.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := r.pipeline()
	for seq := 1; seq <= res.Batch.ChunksTotal; seq++ {
		for _, step := range []func(context.Context, tasks.Chunk) error{p.Init, p.Auth, p.Poll} {
			if err := step(context.Background(), chunkRef("once", seq)); err != nil {
				t.Fatal(err)
			}
		}
	}
	f := worker.HandleFinalize(&worker.Finalizer{Log: r.log, Store: r.store, ResultsDir: r.results, Callback: &worker.Callback{Secret: "s", Policy: loopbackCallbacks}})
	var wg sync.WaitGroup
	for _, phase := range []string{tasks.PhaseInit, tasks.PhaseFinal, tasks.PhaseFinal, tasks.PhaseInit} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(context.Background(), tasks.NewFinalizeTask(tasks.Finalize{Batch: "once", Phase: phase}, r.topts))
		}()
	}
	wg.Wait()
	b, _ := r.store.Get(context.Background(), "once")
	mu.Lock()
	defer mu.Unlock()
	if !b.Final || len(events) != 1 || events[0] != "once:final" {
		t.Fatalf("final %v (%s), callbacks %v; want one once:final", b.Final, b.Status, events)
	}
}

// loopbackCallbacks is the callback policy of tests whose receiver is an httptest server on
// 127.0.0.1: that host allowed, with CALLBACK_ALLOW_PRIVATE and CALLBACK_ALLOW_HTTP.
var loopbackCallbacks = callback.Policy{AllowedHosts: []string{"127.0.0.1", "localhost"}, AllowPrivate: true, AllowHTTP: true}

// countingReceiver is a local receiver on 127.0.0.1 that counts the callbacks it gets.
func countingReceiver(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		hits.Add(1)
		if h != nil {
			h(w, req)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// localhostURL is srv's URL under the name localhost (a loopback address).
func localhostURL(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return "http://localhost:" + u.Port() + "/hook"
}

// TestCallbackRefusesLoopbackByDefault: with CALLBACK_ALLOW_PRIVATE=false a receiver on 127.0.0.1
// gets nothing even though its name, localhost, is in CALLBACK_ALLOWED_HOSTS; the refusal is
// permanent (not retried) and logged at error level. With CALLBACK_ALLOW_PRIVATE=true and
// CALLBACK_ALLOW_HTTP=true the same receiver gets the signed callback.
func TestCallbackRefusesLoopbackByDefault(t *testing.T) {
	recv, hits := countingReceiver(t, nil)
	var logs syncBuffer
	sum := &batch.Summary{Batch: "b1"}
	cb := &worker.Callback{Secret: "s", Policy: callback.Policy{AllowedHosts: []string{"localhost"}, AllowHTTP: true}, Log: zerolog.New(&logs)}
	err := cb.Send(context.Background(), localhostURL(t, recv), "b1:final", sum)
	if !errors.Is(err, callback.ErrNotAllowed) || !errors.Is(err, asynq.SkipRetry) || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("Send = %v; want a permanent refusal of the loopback address", err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the receiver got %d requests, want 0", n)
	}
	if out := logs.String(); !strings.Contains(out, `"level":"error"`) || !strings.Contains(out, "not retried") || !strings.Contains(out, `"batch":"b1"`) {
		t.Errorf("log %s; want an error line saying the callback is not retried", out)
	}

	cb.Policy.AllowPrivate = true
	if err := cb.Send(context.Background(), localhostURL(t, recv), "b1:final", sum); err != nil {
		t.Fatalf("Send with CALLBACK_ALLOW_PRIVATE and CALLBACK_ALLOW_HTTP = %v", err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("the receiver got %d requests, want 1", n)
	}
}

// TestCallbackRedirectNotFollowed: a receiver answering 307 to another local port gets one POST;
// the redirect's target never sees one. The 3xx is a failed delivery, retried like any non-2xx,
// whose error says the redirect was refused.
func TestCallbackRedirectNotFollowed(t *testing.T) {
	target, targetHits := countingReceiver(t, nil)
	redirector, hits := countingReceiver(t, func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, target.URL+"/steal", http.StatusTemporaryRedirect)
	})
	cb := &worker.Callback{Secret: "s", Policy: loopbackCallbacks}
	err := cb.Send(context.Background(), redirector.URL+"/hook", "b2:final", &batch.Summary{Batch: "b2"})
	if err == nil || errors.Is(err, asynq.SkipRetry) || !strings.Contains(err.Error(), "redirect refused") || !strings.Contains(err.Error(), "307") {
		t.Fatalf("Send = %v; want a retryable failure saying the 307 redirect was refused", err)
	}
	if a, b := hits.Load(), targetHits.Load(); a != 1 || b != 0 {
		t.Errorf("redirector got %d POSTs, target %d; want 1 and 0", a, b)
	}
}

// TestCallbackRefusedBatchStaysFinal: a batch whose callback the policy refuses at send time (the
// allow-list changed since submit) is final, its callback not delivered, and its finalize task is
// not retried.
func TestCallbackRefusedBatchStaysFinal(t *testing.T) {
	recv, hits := countingReceiver(t, nil)
	r := setup(t, withAutoApprove())
	path, _ := r.payroll(30, 0, 18)
	res, err := r.submitOptions(context.Background(), path, "refused", batch.Options{Format: "csv", ChunkSize: 50, CallbackURL: recv.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := r.pipeline()
	for seq := 1; seq <= res.Batch.ChunksTotal; seq++ {
		for _, step := range []func(context.Context, tasks.Chunk) error{p.Init, p.Auth, p.Poll} {
			if err := step(context.Background(), chunkRef("refused", seq)); err != nil {
				t.Fatal(err)
			}
		}
	}
	policy := callback.Policy{AllowedHosts: []string{"hr.example.com"}, AllowPrivate: true, AllowHTTP: true}
	f := worker.HandleFinalize(&worker.Finalizer{Log: r.log, Store: r.store, ResultsDir: r.results, Callback: &worker.Callback{Secret: "s", Policy: policy, Log: r.log}})
	err = f(context.Background(), tasks.NewFinalizeTask(tasks.Finalize{Batch: "refused", Phase: tasks.PhaseFinal}, r.topts))
	if !errors.Is(err, asynq.SkipRetry) || !errors.Is(err, callback.ErrNotAllowed) {
		t.Fatalf("finalize = %v; want a permanent refusal", err)
	}
	b, err := r.store.Get(context.Background(), "refused")
	if err != nil || !b.Final || b.CallbackDelivered || hits.Load() != 0 {
		t.Fatalf("final %v, delivered %v, %d requests (%v); want final, not delivered, none", b.Final, b.CallbackDelivered, hits.Load(), err)
	}
	if !strings.Contains(r.logs.String(), "not in CALLBACK_ALLOWED_HOSTS") {
		t.Errorf("the logs do not say why: %s", r.logs.String())
	}
}
