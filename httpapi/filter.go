package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/masspayout/masspayout/batch"
)

// batchStatuses are the batch statuses the list's status filter accepts.
var batchStatuses = []string{
	batch.StatusSubmitting, batch.StatusSubmitFailed, batch.StatusProcessing, batch.StatusAwaitingApproval,
	batch.StatusNeedsReconcile, batch.StatusCompleted, batch.StatusCompletedWithErrors, batch.StatusFailed, batch.StatusCanceled,
}

// Bounds of one list request with filters.
const (
	// maxScan is how many batches one request reads from the ledger at most, matching or not;
	// past it the page ends early with next_offset where the scan stopped.
	maxScan = 1000
	// itemSearchRows is how many rows one request reads at most looking for an item ID (a
	// batch's report is read until the ID is found); the batch that would pass it starts the
	// next page. The first batch is searched whatever its size.
	itemSearchRows = 1_000_000
	// itemSearchWindow is how far back item IDs are looked up when the request gives no from.
	itemSearchWindow = 31 * 24 * time.Hour
	// maxQueryRunes bounds the search text.
	maxQueryRunes = 128
)

// batchFilter is what GET /v1/batches and the dashboard's list filter on: statuses (any of
// them), a search text (a part of the batch ID, or an item_external_id), and the creation time
// in [from, to).
type batchFilter struct {
	statuses []string
	q        string
	from, to time.Time
}

// empty reports whether f lets every batch through.
func (f batchFilter) empty() bool {
	return len(f.statuses) == 0 && f.q == "" && f.from.IsZero() && f.to.IsZero()
}

// values returns f as query parameters (from and to as given, as RFC 3339), for links.
func (f batchFilter) values() url.Values {
	v := url.Values{}
	if len(f.statuses) > 0 {
		v.Set("status", strings.Join(f.statuses, ","))
	}
	if f.q != "" {
		v.Set("q", f.q)
	}
	if !f.from.IsZero() {
		v.Set("from", f.from.Format(time.RFC3339))
	}
	if !f.to.IsZero() {
		v.Set("to", f.to.Format(time.RFC3339))
	}
	return v
}

// parseBatchFilter reads status (comma-separated, or repeated; any case), q, from and to. from
// and to are RFC 3339 times, or dates (2026-11-30) taken as days in loc: from is inclusive; a
// time to is inclusive to the millisecond, a date to includes that whole day. A bad value is a
// 400 BAD_OPTIONS that says what to send.
func parseBatchFilter(v url.Values, loc *time.Location) (batchFilter, error) {
	var f batchFilter
	for _, s := range v["status"] {
		for _, st := range strings.Split(s, ",") {
			st = strings.ToUpper(strings.TrimSpace(st))
			if st == "" || slices.Contains(f.statuses, st) {
				continue
			}
			if !slices.Contains(batchStatuses, st) {
				return f, errorf(http.StatusBadRequest, "BAD_OPTIONS", "status %q: give one or more of %s, comma-separated", st, strings.Join(batchStatuses, ", "))
			}
			f.statuses = append(f.statuses, st)
		}
	}
	f.q = strings.TrimSpace(v.Get("q"))
	if utf8.RuneCountInString(f.q) > maxQueryRunes || !utf8.ValidString(f.q) {
		return f, errorf(http.StatusBadRequest, "BAD_OPTIONS", "q: give at most %d characters of a batch ID or an item_external_id", maxQueryRunes)
	}
	var err error
	if f.from, err = parseWhen("from", v.Get("from"), loc, false); err != nil {
		return f, err
	}
	if f.to, err = parseWhen("to", v.Get("to"), loc, true); err != nil {
		return f, err
	}
	if !f.from.IsZero() && !f.to.IsZero() && !f.from.Before(f.to) {
		return f, errorf(http.StatusBadRequest, "BAD_OPTIONS", "from %s is not before to %s; give from earlier than to", v.Get("from"), v.Get("to"))
	}
	return f, nil
}

// parseWhen reads one end of the creation window; end says it is to, which becomes exclusive.
func parseWhen(name, s string, loc *time.Location, end bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		if end {
			t = t.Add(time.Millisecond) // the index counts milliseconds
		}
		return t, nil
	}
	if d, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	return time.Time{}, errorf(http.StatusBadRequest, "BAD_OPTIONS", "%s %q: give an RFC 3339 time (2026-11-30T18:00:00+03:00) or a date (2026-11-30, a day in %s)", name, s, loc)
}

// foundBatches is a page of the filtered list.
type foundBatches struct {
	batches []*batch.Batch
	// next is the index position the next page starts from; -1 when the index has no more.
	next int
	// itemsSince: item IDs were looked up in batches created at or after it (q given).
	itemsSince time.Time
}

// findBatches reads the index (narrowed to f's creation window) from position offset, newest
// first, and returns up to limit batches that pass f. Without filters that is the next limit
// batches. With them a page may hold fewer while the index has more: a request reads at most
// maxScan batches (expired ones still in the index, which are skipped, included) and
// itemSearchRows rows of reports, and next says where it stopped.
func findBatches(ctx context.Context, store *batch.Store, f batchFilter, offset, limit int, now time.Time) (foundBatches, error) {
	out := foundBatches{next: -1}
	if f.q != "" {
		out.itemsSince = f.from
		if out.itemsSince.IsZero() {
			out.itemsSince = now.Add(-itemSearchWindow)
		}
	}
	window := limit + 1
	if !f.empty() {
		window = 100
	}
	pos, scanned, searched := offset, 0, 0
	for {
		ids, err := store.ListCreated(ctx, f.from, f.to, pos, window)
		if err != nil {
			return out, err
		}
		for _, id := range ids {
			if len(out.batches) == limit || scanned == maxScan {
				out.next = pos
				return out, nil
			}
			b, err := store.Get(ctx, id)
			if errors.Is(err, batch.ErrNotFound) { // expired: a read all the same
				pos++
				scanned++
				continue
			}
			if err != nil {
				return out, err
			}
			ok := len(f.statuses) == 0 || slices.Contains(f.statuses, b.Status)
			if ok && f.q != "" && !idMatches(b, f.q) {
				ok = false
				if !b.Created.Before(out.itemsSince) {
					if searched > 0 && searched+b.Rows > itemSearchRows {
						out.next = pos // search this one on the next page
						return out, nil
					}
					searched += b.Rows
					if ok, err = hasItem(ctx, store, b, f.q); err != nil {
						return out, err
					}
				}
			}
			if ok {
				out.batches = append(out.batches, b)
			}
			pos++
			scanned++
		}
		if len(ids) < window {
			return out, nil
		}
	}
}

// idMatches reports whether q names batch b: a part of its ID (any case), or the item ID a row of
// it without one is given (<batch>-r<row>).
func idMatches(b *batch.Batch, q string) bool {
	if strings.Contains(strings.ToLower(b.ID), strings.ToLower(q)) {
		return true
	}
	row, ok := strings.CutPrefix(q, b.ID+"-r")
	if !ok {
		return false
	}
	n, err := strconv.Atoi(row)
	return err == nil && n >= 1 && n <= b.Rows
}

// errFound stops a report scan at the first matching row.
var errFound = errors.New("found")

// firstWrite fails the first write of anything: the scan's rows are rendered only when they match.
type firstWrite struct{}

func (firstWrite) Write(p []byte) (int, error) {
	if len(p) > 0 {
		return 0, errFound
	}
	return 0, nil
}

// hasItem reports whether a row of batch b has the item_external_id id, reading b's report
// (through Store.WriteRows) until it finds it.
func hasItem(ctx context.Context, store *batch.Store, b *batch.Batch, id string) (bool, error) {
	_, err := store.WriteRows(ctx, b, firstWrite{}, batch.RowFormat{Row: func(dst []byte, r *batch.ReportRow) []byte {
		if r.ItemExternalID == id {
			return append(dst, '+')
		}
		return dst
	}})
	switch {
	case errors.Is(err, errFound):
		return true, nil
	case errors.Is(err, batch.ErrNotFound):
		return false, nil
	}
	return false, err
}
