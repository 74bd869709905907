package httpapi

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/masspayout/masspayout/batch"
	"github.com/shopspring/decimal"
)

func form(token string) []byte { return []byte(url.Values{"csrf_token": {token}}.Encode()) }

// formConfirm is the approval page's form, confirmed with the batch ID.
func formConfirm(token, id string) []byte {
	return []byte(url.Values{"csrf_token": {token}, "confirm": {id}}.Encode())
}

// TestDashboard walks the dashboard: the list, the batch page with its charts and audit list, the
// buttons by role, the CSRF and cross-origin guards, approval by form, the report link.
func TestDashboard(t *testing.T) {
	r := setup(t, withDeps(func(d *Deps) { d.FourEyes = true }))
	r.startWorkers()
	file, _ := payroll(t, 10, 4, 41)
	res := r.mustSubmit("root", file, url.Values{"batch_id": {"dash"}})
	r.waitStatus(res.ID, batch.StatusAwaitingApproval)

	status, hdr, body := r.do(request{method: "GET", path: "/", basic: uiUser})
	page := string(body)
	if status != 200 || !contains(page, `href="/batches/dash"`, "AWAITING_APPROVAL", `<progress max="100" value="50">`, "viewer · read") {
		t.Fatalf("list page: %d\n%s", status, page)
	}
	// Its only batch waits for a person: the list does not reload under the user.
	if strings.Contains(page, `http-equiv="refresh"`) {
		t.Errorf("the list reloads while its only batch awaits approval")
	}
	if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || hdr.Get("X-Frame-Options") != "DENY" {
		t.Errorf("security headers: %v", hdr)
	}
	if strings.Contains(page, "cdn") || regexp.MustCompile(`(src|href)="https?://`).MatchString(page) {
		t.Errorf("the page loads something from elsewhere:\n%s", page)
	}

	// The viewer sees the batch but no buttons.
	status, _, body = r.do(request{method: "GET", path: "/batches/dash", basic: uiUser})
	page = string(body)
	if status != 200 || !contains(page, "<svg", `class="bar wait"`, `class="bar bad"`, "Rows per status", "Amount per status, TRY", "REJECTED", "submitted", `href="/batches/dash/report.csv"`, "awaits approval by a user with role approve",
		`id="next-step"`, "2 chunks in INIT await approval", "(2 INIT)", `id="paid"`, ">pending<", ">not paid<") {
		t.Fatalf("batch page: %d\n%s", status, page)
	}
	if strings.Contains(page, `id="approve"`) || strings.Contains(page, `id="cancel"`) {
		t.Error("the viewer is offered approve or cancel")
	}
	// The amounts shown are the ledger's, to the cent.
	b, _ := r.store.Get(t.Context(), "dash")
	if want := newDisplay(LocaleTR).amount(b.Amounts["INIT"]["TRY"], "TRY"); !strings.Contains(page, want) || !strings.HasSuffix(want, " TL") {
		t.Errorf("batch page lacks the INIT amount %s", want)
	}

	// The approver sees both buttons with the CSRF token.
	status, _, body = r.do(request{method: "GET", path: "/batches/dash", basic: "approver"})
	page = string(body)
	token := newCSRF([]byte(testCSRFKey)).token("approver")
	if status != 200 || !contains(page, `id="approve"`, `id="cancel"`, `name="csrf_token" value="`+token+`"`) {
		t.Fatalf("approver's batch page: %d\n%s", status, page)
	}

	post := func(who, path string, body []byte, header map[string]string) (int, []byte) {
		status, _, b := r.do(request{method: "POST", path: path, basic: who, ctype: "application/x-www-form-urlencoded", body: body, header: header})
		return status, b
	}
	// No token, another user's token, a cross-site post: all refused, nothing approved.
	for _, c := range []struct {
		name   string
		body   []byte
		header map[string]string
	}{
		{"no token", nil, nil},
		{"another user's token", form(newCSRF([]byte(testCSRFKey)).token("root")), nil},
		{"a token under another key", form(newCSRF([]byte("other-key")).token("approver")), nil},
		{"cross-site", form(token), map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"foreign origin", form(token), map[string]string{"Origin": "https://evil.example"}},
	} {
		if status, body := post("approver", "/batches/dash/approve", c.body, c.header); status != http.StatusForbidden {
			t.Errorf("%s: %d, want 403\n%s", c.name, status, body)
		}
	}
	// The approval page shows what would be released, and needs the batch ID typed.
	status, _, body = r.do(request{method: "GET", path: "/batches/dash/approve", basic: "approver"})
	if page := string(body); status != 200 || !contains(page, `id="approve-rows">`, `id="approve-total">`, `id="approver">approver`, `id="submitter">root`, `name="confirm"`) {
		t.Fatalf("approval page: %d\n%s", status, page)
	}
	if status, body := post("approver", "/batches/dash/approve", form(token), nil); status != http.StatusBadRequest || !strings.Contains(string(body), "Type the batch ID") {
		t.Errorf("approve without the typed confirmation: %d\n%s", status, body)
	}
	// The submitter may not approve (four-eyes): the page says why.
	status, body = post("root", "/batches/dash/approve", formConfirm(newCSRF([]byte(testCSRFKey)).token("root"), "dash"), nil)
	if status != http.StatusForbidden || !strings.Contains(string(body), "FOUR_EYES") {
		t.Errorf("approve by the submitter: %d\n%s", status, body)
	}
	if b, _ := r.store.Get(t.Context(), "dash"); b.ApprovedBy != "" {
		t.Fatalf("approved by a refused request: %s", b.ApprovedBy)
	}

	status, _, _ = r.do(request{method: "POST", path: "/batches/dash/approve", basic: "approver", ctype: "application/x-www-form-urlencoded", body: formConfirm(token, "dash")})
	if status != http.StatusSeeOther {
		t.Fatalf("approve by form: %d", status)
	}
	final := r.waitStatus("dash", batch.StatusCompleted, batch.StatusCompletedWithErrors)
	status, _, body = r.do(request{method: "GET", path: "/batches/dash", basic: "approver"})
	page = string(body)
	if status != 200 || !contains(page, final.Status, `id="approved-by">approver`, `class="bar ok"`) || strings.Contains(page, `http-equiv="refresh"`) || strings.Contains(page, `id="approve"`) {
		t.Errorf("final batch page: %d\n%s", status, page)
	}
	// Canceling now is refused with a page.
	if status, body := post("approver", "/batches/dash/cancel", form(token), nil); status != http.StatusConflict || !strings.Contains(string(body), "CANCEL_REFUSED") {
		t.Errorf("cancel after approval: %d\n%s", status, body)
	}
	// The report link downloads the CSV.
	status, hdr, body = r.do(request{method: "GET", path: "/batches/dash/report.csv", basic: uiUser, header: map[string]string{"Accept": "text/html,*/*;q=0.8"}})
	if status != 200 || hdr.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.HasPrefix(string(body), "row,item_external_id") {
		t.Errorf("report download: %d %s", status, hdr.Get("Content-Type"))
	}
	// Unknown batch: a 404 page.
	if status, _, body := r.do(request{method: "GET", path: "/batches/nope", basic: uiUser}); status != 404 || !strings.Contains(string(body), "NOT_FOUND") {
		t.Errorf("unknown batch page: %d", status)
	}
	if status, hdr, body := r.do(request{method: "GET", path: "/static/style.css"}); status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/css") || len(body) == 0 {
		t.Errorf("style.css: %d %s", status, hdr.Get("Content-Type"))
	}
}

func TestScale(t *testing.T) {
	d := decimal.RequireFromString
	tests := []struct {
		v, top string
		want   int
	}{
		{"100", "100", barMaxW},
		{"50", "100", barMaxW / 2},
		{"0.01", "1000000", 1},
		{"0", "100", 0},
		{"5", "0", 0},
		{"33.33", "100", 119},
	}
	for _, tt := range tests {
		if got := scale(d(tt.v), d(tt.top)); got != tt.want {
			t.Errorf("scale(%s, %s) = %d, want %d", tt.v, tt.top, got, tt.want)
		}
	}
}
