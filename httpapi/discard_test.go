package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/masspayout/masspayout/batch"
)

// TestDiscard: a batch nothing of which was sent is discarded over the API (role approve; 200,
// then 404) and its file may be submitted again; the dashboard offers discard for such a batch
// only, behind CSRF, and the list says what was discarded; once iyzico holds a chunk the answer is
// 409 REACHED_IYZICO and nothing is removed.
func TestDiscard(t *testing.T) {
	r := setup(t) // no workers yet: every chunk stays PENDING
	file, _ := payroll(t, 9, 0, 71)
	res := r.mustSubmit("submitter", file, url.Values{"batch_id": {"unsent"}})
	if res.Status != batch.StatusProcessing || res.Chunks.ByState[batch.ChunkPending] != res.Chunks.Total {
		t.Fatalf("submitted batch = %s %+v, want PROCESSING with every chunk PENDING", res.Status, res.Chunks)
	}

	// The approver's batch page offers discard with the form token; the viewer's does not.
	_, _, body := r.do(request{method: "GET", path: "/batches/unsent", basic: "approver"})
	token := newCSRF([]byte(testCSRFKey)).token("approver")
	if page := string(body); !contains(page, `action="/batches/unsent/discard"`, `id="discard"`, `value="`+token+`"`) {
		t.Fatalf("the approver's page offers no discard:\n%s", page)
	}
	if _, _, body := r.do(request{method: "GET", path: "/batches/unsent", basic: uiUser}); strings.Contains(string(body), `id="discard"`) {
		t.Error("the viewer is offered discard")
	}

	if status, _, body := r.do(request{method: "POST", path: "/v1/batches/unsent/discard", bearer: "submitter"}); status != http.StatusForbidden {
		t.Errorf("discard with a submit token: %d %s", status, body)
	}
	if status, _, body := r.do(request{method: "POST", path: "/batches/unsent/discard", basic: "approver", ctype: "application/x-www-form-urlencoded"}); status != http.StatusForbidden {
		t.Errorf("dashboard discard without the form token: %d %s", status, body)
	}
	status, _, body := r.do(request{method: "POST", path: "/v1/batches/unsent/discard", bearer: "approver"})
	if status != http.StatusOK || !contains(string(body), `"id": "unsent"`, `"discarded": true`, `"by": "approver"`) {
		t.Fatalf("discard: %d %s", status, body)
	}
	if status, _, body := r.do(request{method: "GET", path: "/v1/batches/unsent", bearer: "reader"}); status != http.StatusNotFound {
		t.Errorf("a discarded batch: %d %s", status, body)
	}
	if status, _, body := r.do(request{method: "POST", path: "/v1/batches/unsent/discard", bearer: "approver"}); status != http.StatusNotFound || errorCode(t, body) != "NOT_FOUND" {
		t.Errorf("a second discard: %d %s", status, body)
	}
	// The file is free again: under another batch ID it is not DUPLICATE_CONTENT.
	again := r.mustSubmit("submitter", file, url.Values{"batch_id": {"resent"}})

	// In the dashboard: the discard form, then the list says what was discarded.
	status, hdr, _ := r.do(request{method: "POST", path: "/batches/resent/discard", basic: "approver", ctype: "application/x-www-form-urlencoded", body: form(token)})
	if status != http.StatusSeeOther || hdr.Get("Location") != "/?discarded=resent" {
		t.Fatalf("dashboard discard: %d %s", status, hdr.Get("Location"))
	}
	if _, _, body := r.do(request{method: "GET", path: hdr.Get("Location"), basic: uiUser}); !contains(string(body), `id="discarded"`, "<code>resent</code> was discarded") {
		t.Errorf("the list does not say what was discarded:\n%s", body)
	}
	if _, err := r.store.Get(t.Context(), again.ID); err == nil {
		t.Error("the batch discarded in the dashboard is still there")
	}

	// Once iyzico holds chunks: 409 REACHED_IYZICO, and the batch stays.
	r.startWorkers()
	held := r.mustSubmit("submitter", file, url.Values{"batch_id": {"held"}})
	r.waitStatus(held.ID, batch.StatusAwaitingApproval)
	status, _, body = r.do(request{method: "POST", path: "/v1/batches/held/discard", bearer: "approver"})
	if status != http.StatusConflict || errorCode(t, body) != "REACHED_IYZICO" || !strings.Contains(string(body), "cancel the batch instead") {
		t.Errorf("discard of a batch iyzico holds: %d %s", status, body)
	}
	if got := r.getBatch("held"); got.Status != batch.StatusAwaitingApproval {
		t.Errorf("after a refused discard the batch is %s", got.Status)
	}
	_, _, body = r.do(request{method: "GET", path: "/batches/held", basic: "approver"})
	if strings.Contains(string(body), `id="discard"`) {
		t.Error("discard is offered for a batch iyzico holds")
	}
	status, _, body = r.do(request{method: "POST", path: "/batches/held/discard", basic: "approver", ctype: "application/x-www-form-urlencoded", body: form(token)})
	if status != http.StatusConflict || !strings.Contains(string(body), "REACHED_IYZICO") {
		t.Errorf("dashboard discard of a batch iyzico holds: %d\n%s", status, body)
	}
}
