package worker_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/tasks"
	"github.com/masspayout/masspayout/worker"
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
	f := worker.HandleFinalize(&worker.Finalizer{Log: r.log, Store: r.store, ResultsDir: r.results, Callback: &worker.Callback{Secret: "s"}})
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
