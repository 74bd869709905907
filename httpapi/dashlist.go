package httpapi

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/masspayout/masspayout/batch"
	"github.com/rs/zerolog"
)

// dashboardPage is how many batches the list shows at once.
const dashboardPage = 25

type listRow struct {
	batchResource
	Class string
	// The rows and amounts of each paid class (yes, no, pending, unknown); nil when the batch has
	// none. Pending rows are drawn as waiting, never as failed.
	PaidCell, NotPaidCell, PendingCell, UnknownCell *paidCell
}

// paidCell is one paid class of a batch in the list: rows and formatted amounts per currency.
type paidCell struct {
	Rows    int
	Amounts []string
}

type listBody struct {
	Rows []listRow
	// The filter form's values, as sent.
	Statuses         []string
	Status, Q        string
	From, To         string
	Filtered         bool
	Discarded        string // the batch a discard just removed
	ItemsSince       string // q: item IDs were looked up in batches created since
	PrevURL, NextURL string
	CanUpload        bool
}

// handleDashboardList is GET /: the batches, newest first, with status, progress, paid / not
// paid / pending rows and amounts, submitter and times, a status filter and a search box (the
// parameters of GET /v1/batches: status, q, from, to; bad values are a 400 page) and pages of
// dashboardPage. It reloads itself while a listed batch moves by itself (not while every
// unfinished batch waits for a person).
func handleDashboardList(log zerolog.Logger, store *batch.Store, pg *pages, refresh time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		offset, _ := strconv.Atoi(q.Get("offset"))
		offset = max(offset, 0)
		f, err := parseBatchFilter(q, pg.disp.loc)
		if err != nil {
			renderProblem(w, r, log, pg, err, "/")
			return
		}
		found, err := findBatches(r.Context(), store, f, offset, dashboardPage, time.Now())
		if err != nil {
			renderProblem(w, r, log, pg, err, "/")
			return
		}
		p := principalFrom(r.Context())
		body := listBody{
			Statuses: batchStatuses, Status: q.Get("status"), Q: f.q, From: q.Get("from"), To: q.Get("to"),
			Filtered: !f.empty(), CanUpload: p.Role.Allows(RoleSubmit),
		}
		// Said only of a batch that is gone indeed: a link cannot make the page claim otherwise.
		if id := q.Get("discarded"); batch.ValidBatchID.MatchString(id) {
			if _, err := store.Head(r.Context(), id); errors.Is(err, batch.ErrNotFound) {
				body.Discarded = id
			}
		}
		if !found.itemsSince.IsZero() {
			body.ItemsSince = pg.disp.when(found.itemsSince)
		}
		// The form's own values go into the links, so the page reads as it was asked.
		link := url.Values{}
		for _, k := range []string{"status", "q", "from", "to"} {
			if v := q.Get(k); v != "" {
				link.Set(k, v)
			}
		}
		if offset > 0 {
			// With a filter a page may have scanned more than it shows: back goes to the start.
			prev := 0
			if f.empty() {
				prev = max(offset-dashboardPage, 0)
			}
			body.PrevURL = pageURL(link, prev)
		}
		if found.next >= 0 {
			body.NextURL = pageURL(link, found.next)
		}
		moving := false
		for _, b := range found.batches {
			body.Rows = append(body.Rows, pg.disp.listRow(b))
			moving = moving || movesByItself(b)
		}
		d := pageData{Title: "Batches", User: p, Body: body}
		if moving {
			d.Refresh = seconds(refresh)
		}
		render(w, log, pg.list, http.StatusOK, d)
	})
}

// pageURL is the list's URL with filter v at offset.
func pageURL(v url.Values, offset int) string {
	v = maps.Clone(v)
	if offset > 0 {
		v.Set("offset", strconv.Itoa(offset))
	}
	if len(v) == 0 {
		return "/"
	}
	return "/?" + v.Encode()
}

// movesByItself reports whether a batch's status may change without a person: it is not final
// and does not wait for an approval or a new submission. Pages showing only batches that wait
// for a person do not reload themselves (an approver reads them, and a form must not reload
// under the user).
func movesByItself(b *batch.Batch) bool {
	switch {
	case b.Final, b.Status == batch.StatusAwaitingApproval, b.Status == batch.StatusSubmitFailed:
		return false
	}
	return true
}

// listRow renders a batch for the list.
func (d display) listRow(b *batch.Batch) listRow {
	row := listRow{batchResource: newBatchResource(b, nil), Class: statusClass(b.Status)}
	for _, t := range row.batchResource.Paid {
		cell := &paidCell{Rows: t.Rows}
		for _, cur := range sortedKeys(t.Amounts) {
			cell.Amounts = append(cell.Amounts, d.money(t.Amounts[cur], cur))
		}
		switch t.Status {
		case batch.PaidYes:
			row.PaidCell = cell
		case batch.PaidNo:
			row.NotPaidCell = cell
		case batch.PaidPending:
			row.PendingCell = cell
		case batch.PaidUnknown:
			row.UnknownCell = cell
		}
	}
	return row
}
