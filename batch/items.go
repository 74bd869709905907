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
	b = appendField(b, it.ItemExternalID)
	b = appendField(b, it.RecipientType)
	b = appendField(b, payoutfile.Mask(it.RecipientType, it.RecipientInfo))
	var buf [48]byte
	b = appendField(b, string(appendFixed(buf[:0], it.Amount)))
	return appendField(b, it.Amount.Currency)
}

// appendField appends one field of the ledger's compact form: its length as a uvarint, then its
// bytes. Item tables and outcome lists are sequences of such fields.
func appendField(b []byte, f string) []byte {
	b = binary.AppendUvarint(b, uint64(len(f)))
	return append(b, f...)
}

// nextField reads the field appendField wrote at the start of s and returns it and what follows.
func nextField(s string) (field, rest string, ok bool) {
	var l uint64
	var k int
	for shift := 0; k < len(s) && k < binary.MaxVarintLen64; shift += 7 {
		c := s[k]
		k++
		l |= uint64(c&0x7f) << shift
		if c < 0x80 {
			// One spelling per length: no overlong (trailing zero) or overflowing varints.
			if (c == 0 && k > 1) || (k == binary.MaxVarintLen64 && c > 1) || uint64(len(s)-k) < l {
				return "", "", false
			}
			return s[k : k+int(l)], s[k+int(l):], true
		}
	}
	return "", "", false
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
	if !decodeRecords(s, n, func(i int, f *[5]string) {
		out[i] = ReportItem{ItemExternalID: f[0], RecipientType: f[1], RecipientInfo: f[2], Amount: f[3], Currency: f[4]}
	}) {
		return nil, errBadItems
	}
	return out, nil
}

// decodeRecords reads exactly n records of five fields each from s, calling set with each; it
// reports false when s is not that.
func decodeRecords(s string, n int, set func(i int, f *[5]string)) bool {
	var f [5]string
	for i := range n {
		for j := range f {
			var ok bool
			if f[j], s, ok = nextField(s); !ok {
				return false
			}
		}
		set(i, &f)
	}
	return s == ""
}

var errBadOutcomes = errors.New("malformed outcomes")

// encodeOutcomes writes outcomes in the ledger's compact form: five fields per outcome. A million
// rows' outcomes are read back for every report, so they are not JSON.
func encodeOutcomes(outcomes []Outcome) string {
	b := make([]byte, 0, len(outcomes)*12)
	for i := range outcomes {
		o := &outcomes[i]
		b = appendField(b, o.Status)
		b = appendField(b, o.Code)
		b = appendField(b, o.Message)
		b = appendField(b, o.Ref)
		b = appendField(b, o.Commission)
	}
	return string(b)
}

// decodeOutcomes reads n outcomes written by encodeOutcomes; "" (none recorded yet) yields nil.
func decodeOutcomes(s string, n int) ([]Outcome, error) {
	if s == "" {
		return nil, nil
	}
	out := make([]Outcome, n)
	if !decodeRecords(s, n, func(i int, f *[5]string) {
		out[i] = Outcome{Status: f[0], Code: f[1], Message: f[2], Ref: f[3], Commission: f[4]}
	}) {
		return nil, errBadOutcomes
	}
	return out, nil
}
