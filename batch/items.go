package batch

import (
	"encoding/binary"
	"errors"

	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/payoutfile"
)

// ReportItem is what the report shows of a chunk item that does not change: it is stored beside
// the chunk's body at submit time (recipient info already masked), so that writing the report of
// a million rows never decodes request bodies.
type ReportItem struct {
	ItemExternalID string
	RecipientType  string
	RecipientInfo  string // masked
	Amount         string // with the currency's minor-unit digits
	Currency       string
}

// appendReportItem appends it in the ledger's compact form: five length-prefixed fields.
func appendReportItem(b []byte, it *iyzico.Item) []byte {
	for _, f := range [...]string{it.ItemExternalID, it.RecipientType, payoutfile.Mask(it.RecipientType, it.RecipientInfo)} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	var buf [48]byte
	amount := appendFixed(buf[:0], it.Amount)
	b = binary.AppendUvarint(b, uint64(len(amount)))
	b = append(b, amount...)
	b = binary.AppendUvarint(b, uint64(len(it.Amount.Currency)))
	return append(b, it.Amount.Currency...)
}

// appendFixed appends the amount with exactly its currency's minor-unit digits (100.5 TRY as
// 100.50), without allocating in the usual case of a value already at that scale.
func appendFixed(b []byte, a iyzico.Amount) []byte {
	scale, _ := payoutfile.MinorUnits(a.Currency)
	if a.Value.Exponent() == -scale {
		return iyzico.AppendDecimal(b, a.Value)
	}
	return append(b, a.Value.StringFixed(scale)...)
}

var errBadItems = errors.New("malformed report items")

// decodeReportItems reads n items written by appendReportItem.
func decodeReportItems(s string, n int) ([]ReportItem, error) {
	out := make([]ReportItem, n)
	for i := range out {
		var f [5]string
		for j := range f {
			l, k := binary.Uvarint([]byte(s[:min(len(s), binary.MaxVarintLen64)]))
			if k <= 0 || uint64(len(s)-k) < l {
				return nil, errBadItems
			}
			f[j], s = s[k:k+int(l)], s[k+int(l):]
		}
		out[i] = ReportItem{ItemExternalID: f[0], RecipientType: f[1], RecipientInfo: f[2], Amount: f[3], Currency: f[4]}
	}
	if s != "" {
		return nil, errBadItems
	}
	return out, nil
}
