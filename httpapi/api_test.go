package httpapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/worker"
	"github.com/shopspring/decimal"
)

// TestBatchLifecycle drives one batch through the API: submit (202, replay, conflict), the four-eyes
// rule, approval, the final status, the report in CSV (byte for byte the CLI's) and JSON, the list.
func TestBatchLifecycle(t *testing.T) {
	r := setup(t, withDeps(func(d *Deps) { d.FourEyes = true }))
	r.startWorkers()
	file, tot := payroll(t, 10, 4, 1) // rows 4 and 8 invalid
	q := url.Values{"purpose": {"salary"}}

	status, res, body := r.submit("root", file, q, map[string]string{"Idempotency-Key": "pay-2026-01"})
	if status != http.StatusAccepted {
		t.Fatalf("submit: %d %s", status, body)
	}
	if res.ID != "pay-2026-01" || res.Rows != tot.Rows || res.Rejected != tot.Invalid || res.Submitter != "root" || res.Options.Purpose != "SALARY" || res.Options.ChunkSize != 4 {
		t.Errorf("submitted batch = %+v", res)
	}
	if len(res.Audit) == 0 || res.Audit[0].Who != "root" || res.Audit[0].Action != "submitted" {
		t.Errorf("audit = %+v, want submitted by root first", res.Audit)
	}

	// The same file and options again: the same batch, nothing new.
	status, again, body := r.submit("root", file, url.Values{"purpose": {"SALARY"}, "batch_id": {"pay-2026-01"}}, nil)
	if status != http.StatusAccepted || again.ID != res.ID || again.Rows != res.Rows {
		t.Fatalf("identical resubmission: %d %s", status, body)
	}
	// Another file under the same key: 409, nothing stored.
	other, _ := payroll(t, 10, 0, 2)
	status, _, body = r.submit("root", other, q, map[string]string{"Idempotency-Key": "pay-2026-01"})
	if status != http.StatusConflict || errorCode(t, body) != "BATCH_CONFLICT" {
		t.Fatalf("conflicting resubmission: %d %s", status, body)
	}
	// Same file, other options: 409 too.
	status, _, body = r.submit("root", file, url.Values{"chunk_size": {"3"}}, map[string]string{"Idempotency-Key": "pay-2026-01"})
	if status != http.StatusConflict {
		t.Fatalf("other options: %d %s", status, body)
	}

	r.waitStatus(res.ID, batch.StatusAwaitingApproval)
	// The submitter may not approve under four-eyes.
	status, _, body = r.do(request{method: "POST", path: "/v1/batches/pay-2026-01/approve", bearer: "root"})
	if status != http.StatusForbidden || errorCode(t, body) != "FOUR_EYES" {
		t.Fatalf("approve by the submitter: %d %s", status, body)
	}
	status, _, body = r.do(request{method: "POST", path: "/v1/batches/pay-2026-01/approve", bearer: "approver"})
	if status != http.StatusAccepted {
		t.Fatalf("approve: %d %s", status, body)
	}
	var approved batchResource
	json.Unmarshal(body, &approved)
	if approved.ApprovedBy != "approver" {
		t.Errorf("approved_by = %q, want approver", approved.ApprovedBy)
	}
	// Approving again is harmless; canceling now is refused.
	if status, _, body = r.do(request{method: "POST", path: "/v1/batches/pay-2026-01/approve", bearer: "approver"}); status != http.StatusAccepted {
		t.Errorf("second approve: %d %s", status, body)
	}
	status, _, body = r.do(request{method: "POST", path: "/v1/batches/pay-2026-01/cancel", bearer: "approver"})
	if status != http.StatusConflict || errorCode(t, body) != "CANCEL_REFUSED" {
		t.Errorf("cancel after approval: %d %s", status, body)
	}

	final := r.waitStatus(res.ID, batch.StatusCompleted, batch.StatusCompletedWithErrors)
	if final.ProgressPercent != 100 || !final.Final {
		t.Errorf("final batch = %+v", final)
	}
	sumRows := 0
	for _, n := range final.Counts {
		sumRows += n
	}
	if sumRows != tot.Rows || final.Counts["REJECTED"] != tot.Invalid {
		t.Errorf("counts %v: %d rows, want %d with %d REJECTED", final.Counts, sumRows, tot.Rows, tot.Invalid)
	}
	// Conservation: the amounts over all statuses equal the file's.
	got := map[string]decimal.Decimal{}
	for _, byCur := range final.Amounts {
		for cur, n := range byCur {
			got[cur] = got[cur].Add(decimal.RequireFromString(n.String()))
		}
	}
	for cur, want := range tot.Amounts {
		if !got[cur].Equal(want) {
			t.Errorf("amount %s = %s, want %s", cur, got[cur], want)
		}
	}

	// The report: the CLI's bytes exactly (masspayout report writes batch.Store.WriteReport).
	status, hdr, csvBody := r.do(request{method: "GET", path: "/v1/batches/pay-2026-01/report", bearer: "reader"})
	var cli bytes.Buffer
	if _, err := r.store.WriteReport(context.Background(), res.ID, &cli); err != nil {
		t.Fatal(err)
	}
	if status != http.StatusOK || !bytes.Equal(csvBody, cli.Bytes()) {
		t.Fatalf("report: %d, equal to the CLI's: %v\n%s", status, bytes.Equal(csvBody, cli.Bytes()), csvBody)
	}
	if hdr.Get("Content-Type") != "text/csv; charset=utf-8" || hdr.Get("Content-Disposition") != `attachment; filename=pay-2026-01.csv` {
		t.Errorf("report headers: %v", hdr)
	}
	recs, err := csv.NewReader(bytes.NewReader(csvBody)).ReadAll()
	if err != nil || len(recs) != tot.Rows+1 {
		t.Fatalf("report CSV: %d records, %v", len(recs), err)
	}

	// JSON by Accept.
	status, hdr, jsonBody := r.do(request{method: "GET", path: "/v1/batches/pay-2026-01/report", bearer: "reader", header: map[string]string{"Accept": "application/json"}})
	var jr struct {
		Batch, Status string
		Rows          []reportRow
	}
	if err := json.Unmarshal(jsonBody, &jr); status != http.StatusOK || err != nil || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("JSON report: %d %v\n%s", status, err, jsonBody)
	}
	if jr.Batch != res.ID || jr.Status != final.Status || len(jr.Rows) != tot.Rows {
		t.Fatalf("JSON report: batch %s status %s rows %d", jr.Batch, jr.Status, len(jr.Rows))
	}
	for i, row := range jr.Rows {
		rec := recs[i+1]
		if strconv.Itoa(row.Row) != rec[0] || row.Status != rec[6] || (row.Amount != nil && row.Amount.String() != rec[4]) {
			t.Errorf("JSON row %d = %+v, CSV %v", i, row, rec)
		}
	}

	// The list holds it; paging works.
	r.mustSubmit("submitter", other, url.Values{"batch_id": {"second"}})
	status, _, body = r.do(request{method: "GET", path: "/v1/batches?limit=1", bearer: "reader"})
	var list batchList
	if err := json.Unmarshal(body, &list); status != http.StatusOK || err != nil || len(list.Batches) != 1 || list.Batches[0].ID != "second" || list.NextOffset == nil || *list.NextOffset != 1 {
		t.Fatalf("list: %d %s", status, body)
	}
	status, _, body = r.do(request{method: "GET", path: "/v1/batches?limit=1&offset=1", bearer: "reader"})
	list = batchList{}
	if err := json.Unmarshal(body, &list); status != http.StatusOK || err != nil || len(list.Batches) != 1 || list.Batches[0].ID != res.ID || list.NextOffset != nil {
		t.Fatalf("list page 2: %d %s", status, body)
	}
	if status, _, _ = r.do(request{method: "GET", path: "/v1/batches?limit=0", bearer: "reader"}); status != http.StatusBadRequest {
		t.Errorf("limit=0: %d, want 400", status)
	}
}

// TestCancelAndUnknown cancels a batch awaiting approval, then checks the 409 and 404 answers.
func TestCancelAndUnknown(t *testing.T) {
	r := setup(t)
	r.startWorkers()
	file, _ := payroll(t, 6, 0, 3)
	res := r.mustSubmit("submitter", file, url.Values{"batch_id": {"to-cancel"}})
	r.waitStatus(res.ID, batch.StatusAwaitingApproval)
	status, _, body := r.do(request{method: "POST", path: "/v1/batches/to-cancel/cancel", bearer: "approver"})
	if status != http.StatusAccepted {
		t.Fatalf("cancel: %d %s", status, body)
	}
	status, _, body = r.do(request{method: "POST", path: "/v1/batches/to-cancel/approve", bearer: "approver"})
	if status != http.StatusConflict || errorCode(t, body) != "NOT_AWAITING_APPROVAL" {
		t.Errorf("approve after cancel: %d %s", status, body)
	}
	final := r.waitStatus(res.ID, batch.StatusCanceled)
	if final.CanceledBy != "approver" || final.Counts["MASS_PAYOUT_CANCELED"] != 6 {
		t.Errorf("canceled batch = %+v", final)
	}
	for _, p := range []string{"/v1/batches/nope", "/v1/batches/nope/report", "/v1/batches/bad%20id"} {
		status, _, body := r.do(request{method: "GET", path: p, bearer: "reader"})
		if status != http.StatusNotFound || errorCode(t, body) != "NOT_FOUND" {
			t.Errorf("GET %s: %d %s", p, status, body)
		}
	}
	for _, p := range []string{"/v1/batches/nope/approve", "/v1/batches/nope/cancel"} {
		if status, _, body := r.do(request{method: "POST", path: p, bearer: "root"}); status != http.StatusNotFound {
			t.Errorf("POST %s: %d %s", p, status, body)
		}
	}
}

// TestApproveInsufficientBalance: the API refuses an approval iyzico's balance does not cover
// (409 INSUFFICIENT_BALANCE, saying by how much); allow_insufficient=true approves, audited.
func TestApproveInsufficientBalance(t *testing.T) {
	var p *worker.Pipeline
	r := setup(t, withDeps(func(d *Deps) {
		d.CheckBalance = func(ctx context.Context, id string, pend *batch.Pending) (*batch.BalanceCheck, error) {
			return p.CheckBalance(ctx, id, pend)
		}
	}))
	p = &worker.Pipeline{Log: r.log, Store: r.store, Iyzico: r.client, Queue: r.queue, TaskOptions: r.topts}
	r.startWorkers()
	file, _ := payroll(t, 10, 0, 7)
	status, res, body := r.submit("submitter", file, nil, nil)
	if status != http.StatusAccepted {
		t.Fatalf("submit: %d %s", status, body)
	}
	r.waitStatus(res.ID, batch.StatusAwaitingApproval)
	r.sandbox.SetBalance(decimal.New(1, -2))
	status, _, body = r.do(request{method: "POST", path: "/v1/batches/" + res.ID + "/approve", bearer: "approver"})
	if status != http.StatusConflict || errorCode(t, body) != "INSUFFICIENT_BALANCE" || !strings.Contains(string(body), "short by") {
		t.Fatalf("approve with a 0.01 TRY balance: %d %s", status, body)
	}
	status, _, body = r.do(request{method: "POST", path: "/v1/batches/" + res.ID + "/approve?allow_insufficient=true&comment=ok+by+cfo", bearer: "approver"})
	var approved struct {
		Approval batch.Approval `json:"approval"`
	}
	if err := json.Unmarshal(body, &approved); status != http.StatusAccepted || err != nil || !approved.Approval.AllowedInsufficient || approved.Approval.Comment != "ok by cfo" {
		t.Fatalf("approve with allow_insufficient: %d %s", status, body)
	}
}
