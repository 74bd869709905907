package httpapi

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// TestRepayFile: POST /v1/batches/{id}/repay.csv answers the rows not paid (here the rows
// validation refused) from the original file only; GET says to POST; the dashboard's repay page
// takes the original file behind its CSRF token and answers the same file as a download.
func TestRepayFile(t *testing.T) {
	r := setup(t)
	file, tot := payroll(t, 40, 7, 71)
	r.mustSubmit("submitter", file, url.Values{"batch_id": {"rp"}})

	status, h, body := r.do(request{method: "POST", path: "/v1/batches/rp/repay.csv", bearer: "submitter", ctype: "text/csv", body: file})
	if status != http.StatusOK || h.Get("X-Repay-Rows") != strconv.Itoa(tot.Invalid) || !strings.Contains(h.Get("Content-Disposition"), "rp-repay.csv") {
		t.Fatalf("repay: %d %v\n%s", status, h, body)
	}
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	if len(lines) != 1+tot.Invalid || !strings.HasSuffix(lines[0], ",reason") {
		t.Fatalf("repay file:\n%s", body)
	}
	other, _ := payroll(t, 40, 7, 72)
	if status, _, body := r.do(request{method: "POST", path: "/v1/batches/rp/repay.csv", bearer: "submitter", ctype: "text/csv", body: other}); status != http.StatusUnprocessableEntity || errorCode(t, body) != "NOT_ORIGINAL_FILE" {
		t.Errorf("repay from another file: %d %s", status, body)
	}
	if status, _, body := r.do(request{method: "POST", path: "/v1/batches/rp/repay.csv", bearer: "reader", ctype: "text/csv", body: file}); status != http.StatusForbidden {
		t.Errorf("repay as reader: %d %s", status, body)
	}
	if status, _, body := r.do(request{method: "GET", path: "/v1/batches/rp/repay.csv", bearer: "reader"}); status != http.StatusConflict || errorCode(t, body) != "ORIGINAL_FILE_NEEDED" {
		t.Errorf("GET repay: %d %s", status, body)
	}

	// The dashboard: the batch page links to the repay page, whose form answers the file.
	if status, _, page := r.do(request{method: "GET", path: "/batches/rp", basic: "submitter"}); status != 200 || !bytes.Contains(page, []byte(`id="repay"`)) {
		t.Errorf("batch page: %d, repay link missing", status)
	}
	status, _, page := r.do(request{method: "GET", path: "/batches/rp/repay", basic: "submitter"})
	if status != 200 || !bytes.Contains(page, []byte(`id="repay-form"`)) {
		t.Fatalf("repay page: %d\n%s", status, page)
	}
	token := newCSRF([]byte(testCSRFKey)).token("submitter")
	mp, ctype := multipartFile(t, "payroll.csv", file, "csrf_token", token)
	status, h, got := r.do(request{method: "POST", path: "/batches/rp/repay", basic: "submitter", ctype: ctype, body: mp, header: map[string]string{"Origin": r.srv.URL}})
	if status != http.StatusOK || !bytes.Equal(got, body) || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") {
		t.Errorf("dashboard repay: %d %v\n%s", status, h, got)
	}
	mp, ctype = multipartFile(t, "payroll.csv", file, "csrf_token", "stale")
	if status, _, _ := r.do(request{method: "POST", path: "/batches/rp/repay", basic: "submitter", ctype: ctype, body: mp, header: map[string]string{"Origin": r.srv.URL}}); status != http.StatusForbidden {
		t.Errorf("dashboard repay with a stale token: %d", status)
	}
	mp, ctype = multipartFile(t, "other.csv", other, "csrf_token", token)
	if status, _, page := r.do(request{method: "POST", path: "/batches/rp/repay", basic: "submitter", ctype: ctype, body: mp, header: map[string]string{"Origin": r.srv.URL}}); status != http.StatusUnprocessableEntity || !bytes.Contains(page, []byte("is not the file batch rp was submitted from")) {
		t.Errorf("dashboard repay from another file: %d\n%s", status, page)
	}
}

// TestUploadPageShowsRowsOtherBatchesPay: the upload page's validation lists, before Submit,
// the valid rows that an earlier batch pays, naming it.
func TestUploadPageShowsRowsOtherBatchesPay(t *testing.T) {
	r := setup(t)
	file, tot := payroll(t, 20, 0, 91)
	r.mustSubmit("submitter", file, url.Values{"batch_id": {"first"}})
	// The same payroll with one more row: another file, the same 20 payments.
	edited := append(append([]byte{}, file...), []byte("new-1,MEMBER_ID,2228853,Ali Kaya,100.00,TRY,fark\n")...)
	token := newCSRF([]byte(testCSRFKey)).token("submitter")
	b, ctype := multipartFile(t, "edited.csv", edited, "csrf_token", token)
	status, hdr, _ := r.do(request{method: "POST", path: "/upload", body: b, ctype: ctype, basic: "submitter"})
	if status != http.StatusSeeOther {
		t.Fatalf("upload: %d", status)
	}
	status, _, page := r.do(request{method: "GET", path: hdr.Get("Location"), basic: "submitter"})
	if status != 200 || !contains(string(page), `id="repeats-summary"`, strconv.Itoa(tot.Valid)+" valid rows are paid", "ALREADY_PAID", "in batch first (row 1") {
		t.Fatalf("validation page: %d\n%s", status, page)
	}
}
