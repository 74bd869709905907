package worker_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/iyzico/sandbox"
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

// TestCallbackAgainAfterReconcile: a batch that ended with UNKNOWN chunks (and said so in its
// callback) is repaired by reconcile; when it is final again the receiver gets the corrected
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
	r := setup(t, withAutoApprove(), withMaxRetry(1))
	r.sandbox.SetFaults(sandbox.Faults{ServerErrorRate: 1, Endpoints: []string{sandbox.EndpointInit}})
	path, tot := r.payroll(120, 0, 16)
	res, err := r.submitOptions(context.Background(), path, "recb", batch.Options{Format: "csv", ChunkSize: 50, CallbackURL: recv.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.startWorkers(2)
	r.waitFor(res.Batch.ID, 30*time.Second, "first callback", func(b *batch.Batch) bool { return b.CallbackDelivered })
	r.sandbox.SetFaults(sandbox.Faults{})
	if changes, err := r.pipeline().Reconcile(context.Background(), res.Batch.ID); err != nil || len(changes) == 0 {
		t.Fatalf("reconcile = %v, %v", changes, err)
	}
	b := r.waitFor(res.Batch.ID, 60*time.Second, "second callback", func(b *batch.Batch) bool { return b.Final && b.CallbackDelivered })
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("%d callbacks, want 2: %+v", len(got), got)
	}
	first, second := got[0], got[1]
	if first.ID != "recb:final" || first.Summary.Status != batch.StatusFailed {
		t.Errorf("first callback %s, status %s; want recb:final, FAILED", first.ID, first.Summary.Status)
	}
	if second.ID != "recb:final:r1" || second.Summary.Status != b.Status || second.Summary.Status == batch.StatusFailed {
		t.Errorf("second callback %s, status %s (batch %s); want recb:final:r1 with the repaired status", second.ID, second.Summary.Status, b.Status)
	}
	if second.Summary.Rows != tot.Rows {
		t.Errorf("second summary has %d rows, want %d", second.Summary.Rows, tot.Rows)
	}
}
