package httpapi

import (
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/payoutfile"
)

// TestUploadPage walks the dashboard's upload: the form (role submit), a file with bad rows
// validated and every problem shown with row, column, code and message, the CSRF token checked
// before the file is read, Submit refused until the invalid rows are accepted, then the kept bytes
// submitted as the uploader (nobody else sees the upload), and the upload gone once submitted.
func TestUploadPage(t *testing.T) {
	r := setup(t)
	if status, _, _ := r.do(request{method: "GET", path: "/upload", basic: uiUser}); status != http.StatusForbidden {
		t.Errorf("upload page as the read-only viewer: %d", status)
	}
	status, _, body := r.do(request{method: "GET", path: "/upload", basic: "submitter"})
	token := newCSRF([]byte(testCSRFKey)).token("submitter")
	if page := string(body); status != 200 || !contains(page, `enctype="multipart/form-data"`, `name="csrf_token" value="`+token+`"`, `type="file" name="file"`, `id="upload-link"`) {
		t.Fatalf("upload page: %d\n%s", status, page)
	}

	file, tot := payroll(t, 12, 5, 81) // rows 5 and 10 invalid
	post := func(who string, fields ...string) (int, http.Header, string) {
		t.Helper()
		b, ctype := multipartFile(t, "payroll-kasim.csv", file, fields...)
		status, hdr, body := r.do(request{method: "POST", path: "/upload", body: b, ctype: ctype, basic: who})
		return status, hdr, string(body)
	}
	// Without the token (or with another user's): refused before the file is spooled.
	for _, fields := range [][]string{nil, {"csrf_token", newCSRF([]byte(testCSRFKey)).token("root")}} {
		if status, _, page := post("submitter", fields...); status != http.StatusForbidden || !strings.Contains(page, "reload the page") {
			t.Errorf("upload with token fields %v: %d\n%s", fields, status, page)
		}
	}
	if left, _ := os.ReadDir(r.uploads); len(left) != 0 {
		t.Errorf("refused uploads left files behind: %v", left)
	}

	status, hdr, _ := post("submitter", "csrf_token", token)
	loc := hdr.Get("Location")
	if status != http.StatusSeeOther || !regexp.MustCompile(`^/upload/[0-9a-f]{32}$`).MatchString(loc) {
		t.Fatalf("upload: %d, Location %q", status, loc)
	}
	status, _, body = r.do(request{method: "GET", path: loc, basic: "submitter"})
	page := string(body)
	if status != 200 || !contains(page, "payroll-kasim.csv", "2 of 12 rows are invalid", `id="problems"`, `id="submit-form"`, `id="accept-rejected"`, "Submit 10 rows") {
		t.Fatalf("validation page: %d\n%s", status, page)
	}
	// Every problem, as validation reports it, is on the page with its row, column and code.
	rows := regexp.MustCompile(`(?s)<tr><td class="num">(\d+)</td><td>([a-z_]*)</td><td><code>([A-Z_]+)</code></td><td>`).FindAllStringSubmatch(page, -1)
	rep, err := payoutfile.Validate(t.Context(), strings.NewReader(string(file)), payoutfile.Options{Format: payoutfile.FormatCSV}, nil)
	if err != nil || len(rows) == 0 || len(rows) < rep.Rejected {
		t.Fatalf("problems on the page: %v (validation: %+v, %v)", rows, rep, err)
	}
	for _, m := range rows {
		if m[1] != "5" && m[1] != "10" {
			t.Errorf("a problem in row %s, want rows 5 and 10 only", m[1])
		}
	}
	// Nobody else sees it, or submits it.
	if status, _, _ := r.do(request{method: "GET", path: loc, basic: "root"}); status != http.StatusNotFound {
		t.Errorf("another user's view of the upload: %d", status)
	}
	submit := func(who string, v url.Values) (int, http.Header, string) {
		t.Helper()
		v.Set("csrf_token", newCSRF([]byte(testCSRFKey)).token(who))
		status, hdr, body := r.do(request{method: "POST", path: loc + "/submit", body: []byte(v.Encode()), ctype: "application/x-www-form-urlencoded", basic: who})
		return status, hdr, string(body)
	}
	if status, _, _ := submit("root", url.Values{"accept_rejected": {"on"}}); status != http.StatusNotFound {
		t.Errorf("another user's submit: %d", status)
	}
	// The invalid rows must be accepted; the page says so and keeps the form's values.
	status, _, page = submit("submitter", url.Values{"batch_id": {"kasim-2026"}})
	if status != http.StatusUnprocessableEntity || !contains(page, "2 rows are invalid: tick the box", `value="kasim-2026"`) {
		t.Errorf("submit without accepting the invalid rows: %d\n%s", status, page)
	}
	if ids, _ := r.store.List(t.Context(), 0, 10); len(ids) != 0 {
		t.Fatalf("something was submitted: %v", ids)
	}
	status, hdr, page = submit("submitter", url.Values{"batch_id": {"kasim-2026"}, "purpose": {"SALARY"}, "accept_rejected": {"on"}})
	if status != http.StatusSeeOther || hdr.Get("Location") != "/batches/kasim-2026" {
		t.Fatalf("submit: %d %s\n%s", status, hdr.Get("Location"), page)
	}
	b := r.getBatch("kasim-2026")
	if b.Rows != tot.Rows || b.Rejected != tot.Invalid || b.Submitter != "submitter" || b.Options.Purpose != "SALARY" || b.Source != "payroll-kasim.csv" {
		t.Errorf("submitted batch = %+v", b)
	}
	if len(b.Audit) == 0 || b.Audit[0].Via != "dashboard" {
		t.Errorf("audit = %+v, want submitted via the dashboard", b.Audit)
	}
	if status, _, _ := r.do(request{method: "GET", path: loc, basic: "submitter"}); status != http.StatusNotFound {
		t.Errorf("the upload is still kept after its submission: %d", status)
	}
	if status, _, _ := submit("submitter", url.Values{"accept_rejected": {"on"}}); status != http.StatusNotFound {
		t.Errorf("a second submit: %d", status)
	}

	// A file the dashboard cannot take: the upload page again, saying why.
	b2, ctype := multipartFile(t, "payroll.pdf", []byte("%PDF-1.4"), "csrf_token", token)
	status, _, body = r.do(request{method: "POST", path: "/upload", body: b2, ctype: ctype, basic: "submitter"})
	if status != http.StatusUnsupportedMediaType || !contains(string(body), `id="upload-problem"`, "whose name ends in .csv") {
		t.Errorf("a PDF: %d\n%s", status, body)
	}
	// An unreadable file: its problem, and no Submit.
	b3, ctype := multipartFile(t, "empty.csv", nil, "csrf_token", token)
	_, hdr, _ = r.do(request{method: "POST", path: "/upload", body: b3, ctype: ctype, basic: "submitter"})
	_, _, body = r.do(request{method: "GET", path: hdr.Get("Location"), basic: "submitter"})
	if page := string(body); !contains(page, "The file cannot be read", "[EMPTY_FILE]", `id="upload-again"`) || strings.Contains(page, `id="submit-form"`) {
		t.Errorf("an empty file's page:\n%s", page)
	}
}

// TestStagedUploadsBounds: at most stagedMax uploads and maxBytes are kept; a new one pushes out
// the oldest not being submitted (its file removed), and an upload's time runs out.
func TestStagedUploadsBounds(t *testing.T) {
	dir := t.TempDir()
	s := newStagedUploads(10 << 10)
	mk := func(size int64, at time.Time) *stagedUpload {
		f, err := os.CreateTemp(dir, "staged-*")
		if err != nil {
			t.Fatal(err)
		}
		return &stagedUpload{owner: "ops", up: &upload{file: f, size: size}, at: at, report: &payoutfile.Report{}}
	}
	t0 := time.Now()
	first := s.put(mk(1, t0))
	if _, err := s.claim(first, "ops"); err != nil { // being submitted: never pushed out
		t.Fatal(err)
	}
	var ids []string
	for i := range stagedMax + 3 {
		ids = append(ids, s.put(mk(1, t0.Add(time.Duration(i+1)*time.Second))))
	}
	if len(s.m) != stagedMax {
		t.Errorf("%d uploads kept, want %d", len(s.m), stagedMax)
	}
	if _, err := s.get(first, "ops"); err != nil {
		t.Errorf("the upload being submitted was pushed out: %v", err)
	}
	if _, err := s.get(ids[0], "ops"); err == nil {
		t.Error("the oldest upload is still kept")
	}
	if _, err := s.get(ids[len(ids)-1], "ops"); err != nil {
		t.Errorf("the newest upload: %v", err)
	}
	big := s.put(mk(9<<10, t0.Add(time.Hour)))
	if s.bytes() > 10<<10 {
		t.Errorf("%d bytes kept, want at most %d", s.bytes(), 10<<10)
	}
	if files, _ := os.ReadDir(dir); len(files) != len(s.m) {
		t.Errorf("%d files for %d kept uploads: pushed-out files were not removed", len(files), len(s.m))
	}
	su, _ := s.get(first, "ops")
	s.done(su, true)
	if _, err := s.get(first, "ops"); err == nil {
		t.Error("a submitted upload is still kept")
	}
	s.expire(big)
	if _, err := s.get(big, "ops"); err == nil {
		t.Error("an expired upload is still kept")
	}
}

// TestBatchPageRows: the batch page lists the not paid rows with their reasons, 50 a page, and
// the other paid classes on request; readRows pages in file order.
func TestBatchPageRows(t *testing.T) {
	r := setup(t)
	file, _ := payroll(t, 130, 2, 91) // 65 invalid rows
	r.mustSubmit("submitter", file, url.Values{"batch_id": {"rows"}})
	_, _, body := r.do(request{method: "GET", path: "/batches/rows", basic: uiUser})
	page := string(body)
	if !contains(page, `id="row-list"`, "rows 1–50 of 65", `id="rows-next"`, `<span class="status bad">REJECTED</span>`, `id="commission"`, "none on paid rows") {
		t.Fatalf("batch page rows:\n%s", page)
	}
	if n := strings.Count(page, `<span class="status bad">REJECTED</span></td><td><code>`); n != 50 {
		t.Errorf("%d rejected rows with a code listed, want 50", n)
	}
	_, _, body = r.do(request{method: "GET", path: "/batches/rows?rows=no&rows_offset=50", basic: uiUser})
	if page := string(body); !contains(page, "rows 51–65 of 65") || strings.Contains(page, `id="rows-next"`) {
		t.Errorf("the second page:\n%s", page)
	}
	_, _, body = r.do(request{method: "GET", path: "/batches/rows?rows=pending", basic: uiUser})
	if page := string(body); !contains(page, "rows 1–50 of 65", `<span class="status wait">PENDING</span>`) {
		t.Errorf("the pending rows:\n%s", page)
	}

	b, err := r.store.Get(t.Context(), "rows")
	if err != nil {
		t.Fatal(err)
	}
	p, err := readRows(t.Context(), r.store, b, batch.PaidNo, 3, 4, false)
	if err != nil || len(p.Rows) != 4 || !p.More || p.Summary != nil {
		t.Fatalf("readRows(offset 3, limit 4) = %+v, %v", p, err)
	}
	for i, row := range p.Rows {
		if want := 2 * (4 + i); row.Row != want || row.Status != batch.RowRejected || row.ErrorCode == "" {
			t.Errorf("row %d = %+v, want file row %d, rejected with a code", i, row, want)
		}
	}
	p, err = readRows(t.Context(), r.store, b, batch.PaidNo, 60, 50, true)
	if err != nil || len(p.Rows) != 5 || p.More || p.Summary == nil || p.Summary.Rows != 130 {
		t.Errorf("readRows(whole) = %d rows, more %v, summary %+v, %v", len(p.Rows), p.More, p.Summary, err)
	}
}
