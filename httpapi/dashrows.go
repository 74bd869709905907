package httpapi

import (
	"context"
	"net/url"
	"strconv"

	"github.com/masspayout/masspayout/batch"
)

// batchRows is the batch page's rows section: the rows of one paid class (not paid by default,
// with their reasons), a page at a time, and the commission when the summary was read.
type batchRows struct {
	Paid             string // the class shown: batch.PaidNo, PaidUnknown, PaidPending or PaidYes
	Tabs             []rowTab
	Rows             []rowView
	From, To, Of     int // the rows shown, 1-based within the class, and how many it has
	PrevURL, NextURL string
	// Commission on paid rows and refunded commission per currency, formatted; Computed says the
	// summary was read (else CommissionURL asks for it).
	Commission, Refunded []string
	Computed             bool
	CommissionURL        string
	// Deferred: a batch bigger than commissionMaxRows lists its rows only when asked (a tab),
	// since finding them reads its report; a page listing them does not reload itself.
	Deferred, Reading bool
}

// rowTab is one paid class the section can show.
type rowTab struct {
	Paid, Label, Class, URL string
	Rows                    int
	Current                 bool
}

// rowView is one report row as the page shows it.
type rowView struct {
	Row                                              int
	ItemExternalID, Recipient, Amount, Status, Class string
	Code, Message, ExternalID, ReferenceCode         string
}

// rowClasses are the paid classes the section offers, in order.
var rowClasses = []string{batch.PaidNo, batch.PaidUnknown, batch.PaidPending, batch.PaidYes}

// batchRows reads the section for batch b from the page's query: rows (the paid class, default
// no; a batch bigger than commissionMaxRows lists rows only when it is given), rows_offset and
// commission=1 (read the whole report of such a batch for its commission).
func (d display) batchRows(ctx context.Context, store *batch.Store, b *batch.Batch, q url.Values) (batchRows, error) {
	out := batchRows{Paid: batch.PaidNo}
	for _, c := range rowClasses {
		if q.Get("rows") == c {
			out.Paid = c
		}
	}
	offset, _ := strconv.Atoi(q.Get("rows_offset"))
	offset = max(offset, 0)
	big := b.Rows > commissionMaxRows
	whole := !big || q.Get("commission") == "1"
	out.Deferred = big && !q.Has("rows") && !whole
	out.Reading = big && !out.Deferred
	link := func(paid string, offset int, commission bool) string {
		v := url.Values{"rows": {paid}}
		if offset > 0 {
			v.Set("rows_offset", strconv.Itoa(offset))
		}
		if commission {
			v.Set("commission", "1")
		}
		return "/batches/" + url.PathEscape(b.ID) + "?" + v.Encode() + "#rows"
	}
	counts := map[string]int{}
	for _, t := range b.PaidTotals() {
		counts[t.Status] = t.Rows
	}
	for _, c := range rowClasses {
		out.Tabs = append(out.Tabs, rowTab{Paid: c, Label: paidLabel(c), Class: paidClass(c), Rows: counts[c], Current: c == out.Paid,
			URL: link(c, 0, whole && b.Rows > commissionMaxRows)})
	}
	var page rowPage
	if !out.Deferred {
		var err error
		if page, err = readRows(ctx, store, b, out.Paid, offset, rowsPageSize, whole); err != nil {
			return out, err
		}
	}
	for i := range page.Rows {
		out.Rows = append(out.Rows, d.rowView(&page.Rows[i]))
	}
	out.From, out.To, out.Of = offset+1, offset+len(out.Rows), counts[out.Paid]
	keep := whole && b.Rows > commissionMaxRows
	if offset > 0 {
		out.PrevURL = link(out.Paid, max(offset-rowsPageSize, 0), keep)
	}
	if page.More {
		out.NextURL = link(out.Paid, offset+rowsPageSize, keep)
	}
	if sum := page.Summary; sum != nil {
		out.Computed = true
		for _, cur := range sortedKeys(sum.Commission) {
			out.Commission = append(out.Commission, d.money(sum.Commission[cur], cur))
		}
		for _, cur := range sortedKeys(sum.CommissionRefunded) {
			out.Refunded = append(out.Refunded, d.money(sum.CommissionRefunded[cur], cur))
		}
	} else {
		out.CommissionURL = link(out.Paid, offset, true)
	}
	return out, nil
}

// rowView renders a report row for the page.
func (d display) rowView(r *batch.ReportRow) rowView {
	v := rowView{
		Row: r.Row, ItemExternalID: r.ItemExternalID, Amount: d.money(r.Amount, r.Currency), Status: r.Status,
		Class: statusClass(r.Status), Code: r.ErrorCode, Message: r.ErrorMessage, ExternalID: r.ExternalID, ReferenceCode: r.ReferenceCode,
	}
	v.Recipient = r.RecipientType
	if r.RecipientInfoMasked != "" {
		v.Recipient += " " + r.RecipientInfoMasked
	}
	return v
}
