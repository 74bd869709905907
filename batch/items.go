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
	scale, _ := payoutfile.MinorUnits(it.Amount.Currency)
	for _, f := range [...]string{it.ItemExternalID, it.RecipientType, payoutfile.Mask(it.RecipientType, it.RecipientInfo), it.Amount.Value.StringFixed(scale), it.Amount.Currency} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
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
