package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/masspayout/masspayout/batch"
)

// listIDs lists batches over the API with query q as reader and returns the IDs, the decoded page
// and the status.
func (r *rig) listIDs(q url.Values) ([]string, batchList, int, []byte) {
	r.t.Helper()
	status, _, body := r.do(request{method: "GET", path: "/v1/batches?" + q.Encode(), bearer: "reader"})
	var page batchList
	if status == http.StatusOK {
		if err := json.Unmarshal(body, &page); err != nil {
			r.t.Fatalf("list: %v\n%s", err, body)
		}
	}
	var ids []string
	for _, b := range page.Batches {
		ids = append(ids, b.ID)
	}
	return ids, page, status, body
}

// TestListFilters: GET /v1/batches honours status (one or more), q (a part of a batch ID, an
// item_external_id, an item ID masspayout gave) and from/to, pages through filtered results with
// next_offset, refuses bad values with 400 BAD_OPTIONS, and its entries carry paid / not paid
// totals, the submitter and the times.
func TestListFilters(t *testing.T) {
	r := setup(t)
	r.startWorkers()
	// Item IDs differ from batch to batch (a paid or pending item ID is refused in another).
	items := func(file []byte, prefix string) []byte {
		return bytes.ReplaceAll(file, []byte("\nemp-"), []byte("\n"+prefix+"-"))
	}
	file, _ := payroll(t, 8, 4, 61)
	a := r.mustSubmit("submitter", items(file, "alpha"), url.Values{"batch_id": {"nov-alpha"}})
	other, _ := payroll(t, 8, 0, 62)
	other = bytes.Replace(items(other, "beta"), []byte("\nbeta-3,"), []byte("\npay-nov-ayse-3,"), 1)
	b := r.mustSubmit("root", other, url.Values{"batch_id": {"nov-beta"}})
	third, _ := payroll(t, 6, 0, 63)
	c := r.mustSubmit("submitter", items(third, "gamma"), url.Values{"batch_id": {"dec-gamma"}})
	for _, id := range []string{a.ID, b.ID, c.ID} {
		r.waitStatus(id, batch.StatusAwaitingApproval)
	}
	if status, _, body := r.do(request{method: "POST", path: "/v1/batches/dec-gamma/cancel", bearer: "approver"}); status != http.StatusAccepted {
		t.Fatalf("cancel: %d %s", status, body)
	}
	r.waitStatus(c.ID, batch.StatusCanceled)

	for _, tc := range []struct {
		name  string
		query url.Values
		want  []string
	}{
		{"no filter, newest first", nil, []string{"dec-gamma", "nov-beta", "nov-alpha"}},
		{"one status", url.Values{"status": {"CANCELED"}}, []string{"dec-gamma"}},
		{"two statuses, any case", url.Values{"status": {"canceled,awaiting_approval"}}, []string{"dec-gamma", "nov-beta", "nov-alpha"}},
		{"repeated status", url.Values{"status": {"AWAITING_APPROVAL", "FAILED"}}, []string{"nov-beta", "nov-alpha"}},
		{"no match", url.Values{"status": {"COMPLETED"}}, nil},
		{"part of a batch ID, any case", url.Values{"q": {"NOV-"}}, []string{"nov-beta", "nov-alpha"}},
		{"an item_external_id", url.Values{"q": {"pay-nov-ayse-3"}}, []string{"nov-beta"}},
		{"another batch's item ID", url.Values{"q": {"gamma-2"}}, []string{"dec-gamma"}},
		{"an item ID and another status", url.Values{"q": {"gamma-2"}, "status": {"AWAITING_APPROVAL"}}, nil},
		{"an item ID is exact", url.Values{"q": {"gamma-"}}, nil},
		{"an item ID masspayout gives", url.Values{"q": {"nov-alpha-r8"}}, []string{"nov-alpha"}},
		{"past the batch's rows", url.Values{"q": {"nov-alpha-r9"}}, nil},
		{"not an item ID", url.Values{"q": {"alpha-99"}}, nil},
		{"created from today", url.Values{"from": {time.Now().In(istanbul()).Format(time.DateOnly)}}, []string{"dec-gamma", "nov-beta", "nov-alpha"}},
		{"created up to yesterday", url.Values{"to": {time.Now().In(istanbul()).AddDate(0, 0, -1).Format(time.DateOnly)}}, nil},
		{"created from tomorrow", url.Values{"from": {time.Now().Add(24 * time.Hour).Format(time.RFC3339)}}, nil},
		{"created up to now", url.Values{"to": {time.Now().Format(time.RFC3339Nano)}}, []string{"dec-gamma", "nov-beta", "nov-alpha"}},
	} {
		ids, page, status, body := r.listIDs(tc.query)
		if status != http.StatusOK || !slices.Equal(ids, tc.want) {
			t.Errorf("%s (%s): %d %v, want %v\n%s", tc.name, tc.query.Encode(), status, ids, tc.want, body)
		}
		if tc.query.Has("q") && page.ItemSearchSince == nil {
			t.Errorf("%s: no item_search_since", tc.name)
		}
	}

	// A filtered page follows next_offset to the end.
	var seen []string
	q := url.Values{"status": {"AWAITING_APPROVAL"}, "limit": {"1"}}
	for range 5 {
		ids, page, status, body := r.listIDs(q)
		if status != http.StatusOK {
			t.Fatalf("page: %d %s", status, body)
		}
		seen = append(seen, ids...)
		if page.NextOffset == nil {
			break
		}
		q.Set("offset", strconv.Itoa(*page.NextOffset))
	}
	if !slices.Equal(seen, []string{"nov-beta", "nov-alpha"}) {
		t.Errorf("paging AWAITING_APPROVAL one at a time: %v", seen)
	}

	// The entries carry what the list shows.
	_, page, _, _ := r.listIDs(url.Values{"q": {"nov-alpha"}})
	if len(page.Batches) != 1 {
		t.Fatalf("q=nov-alpha: %+v", page.Batches)
	}
	e := page.Batches[0]
	if e.Submitter != "submitter" || e.CreatedAt.IsZero() || e.UpdatedAt.IsZero() || len(e.Paid) == 0 {
		t.Errorf("list entry = %+v", e)
	}
	classes := map[string]int{}
	for _, p := range e.Paid {
		classes[p.Status] = p.Rows
	}
	if classes[batch.PaidNo] != 2 || classes[batch.PaidPending] != 6 {
		t.Errorf("paid classes %v, want 2 not paid (rejected), 6 pending", classes)
	}

	for _, bad := range []url.Values{
		{"status": {"DONE"}},
		{"from": {"2026-13-01"}},
		{"to": {"yesterday"}},
		{"from": {"2026-11-30"}, "to": {"2026-11-01"}},
		{"q": {string(bytes.Repeat([]byte("x"), 129))}},
		{"limit": {"0"}},
	} {
		if _, _, status, body := r.listIDs(bad); status != http.StatusBadRequest || errorCode(t, body) != "BAD_OPTIONS" {
			t.Errorf("%s: %d %s, want 400 BAD_OPTIONS", bad.Encode(), status, body)
		}
	}
}
