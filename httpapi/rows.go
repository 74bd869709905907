package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"github.com/masspayout/masspayout/batch"
)

// Bounds of the batch page's rows.
const (
	// rowsPageSize is how many report rows the batch page lists at once.
	rowsPageSize = 50
	// commissionMaxRows: the batch page reads a batch's whole report for its summary
	// (commission on paid rows, refunded commission) only up to this many rows; a bigger batch
	// shows a link that asks for it.
	commissionMaxRows = 50_000
)

// rowPage is one page of a batch's report rows of one paid class, in file order.
type rowPage struct {
	Rows []batch.ReportRow
	More bool
	// Summary is the report's summary when the whole report was read.
	Summary *batch.Summary
}

// readRows returns the rows of batch b's report whose paid column is paid (batch.PaidNo, …),
// skipping offset of them, at most limit. It reads the report through Store.WriteRows, rendering
// only the rows of that class; with whole it reads the report to its end and returns its Summary
// too, else it stops once the page holds every row of the class that b's counters promise it
// (nothing is read when they promise none). Reaching a page costs reading the chunks before its
// last row: on a batch of 1,000,000 rows whose unpaid rows are at its end, about as long as
// writing its report (seconds).
func readRows(ctx context.Context, store *batch.Store, b *batch.Batch, paid string, offset, limit int, whole bool) (rowPage, error) {
	count := 0
	for st, n := range b.Counts {
		if batch.Paid(st) == paid {
			count += n
		}
	}
	want := min(limit, count-offset)
	if want <= 0 && !whole {
		return rowPage{}, nil
	}
	c := &rowCollector{skip: offset, limit: max(want, 0), whole: whole}
	sum, err := store.WriteRows(ctx, b, c, batch.RowFormat{Row: func(dst []byte, r *batch.ReportRow) []byte {
		if batch.Paid(r.Status) != paid {
			return dst
		}
		// Every field is a string or an int: this cannot fail, and JSON has no raw newline.
		line, _ := json.Marshal(r)
		return append(append(dst, line...), '\n')
	}})
	if err != nil && !errors.Is(err, errPageFull) {
		return rowPage{}, err
	}
	return rowPage{Rows: c.rows, More: c.more || offset+len(c.rows) < count, Summary: sum}, nil
}

// errPageFull stops a report scan once a page of rows is read.
var errPageFull = errors.New("page full")

// rowCollector keeps a page of the JSON lines readRows renders.
type rowCollector struct {
	skip, limit int
	whole       bool
	rows        []batch.ReportRow
	more        bool
	partial     []byte
}

func (c *rowCollector) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			c.partial = append(c.partial, p...)
			break
		}
		line := p[:i]
		if len(c.partial) > 0 {
			line, c.partial = append(c.partial, line...), nil
		}
		p = p[i+1:]
		switch {
		case c.skip > 0:
			c.skip--
		case len(c.rows) == c.limit:
			c.more = true
		default:
			var r batch.ReportRow
			if err := json.Unmarshal(line, &r); err != nil {
				return n, err
			}
			c.rows = append(c.rows, r)
		}
		if len(c.rows) == c.limit && !c.whole {
			return n, errPageFull
		}
	}
	return n, nil
}
