package iyzico

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"
)

// FuzzMarshalInitMatchesEncodingJSON holds the reflection-free encoder to encoding/json's bytes
// for any strings (invalid UTF-8, control bytes, HTML characters, U+2028) and amounts.
func FuzzMarshalInitMatchesEncodingJSON(f *testing.F) {
	f.Add("ext-1", "conv", "SALARY", "item<1>&", "IBAN", "TR330006100519786457841326", "100.50", "TRY", "Maaş \"Ocak\"\n\u2028", "Ayşe Yılmaz", true)
	f.Add("e", "", "", "\xff\xfe", "PHONE", "+905321234567", "7000", "USD", "\x00\x1f\t\b\f\r\\", "", false)
	f.Fuzz(func(t *testing.T, ext, conv, purpose, id, typ, info, amount, cur, desc, name string, nw bool) {
		v, err := decimal.NewFromString(amount)
		if err != nil || ext == "" {
			return
		}
		req := &InitRequest{ExternalID: ext, ConversationID: conv, Purpose: purpose, Items: []Item{
			{ItemExternalID: id, RecipientType: typ, RecipientInfo: info, Amount: Amount{Value: v, Currency: cur}, Description: desc, RecipientName: name, NonWithdrawable: nw},
			{ItemExternalID: name, RecipientType: cur, RecipientInfo: desc, Amount: Amount{Value: v.Neg(), Currency: typ}},
		}}
		got, err := MarshalInit(req)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("MarshalInit\n got %s\nwant %s", got, want)
		}
	})
}

func BenchmarkMarshalInit(b *testing.B) {
	items := make([]Item, 500)
	for i := range items {
		items[i] = Item{ItemExternalID: "emp-12345", RecipientType: "IBAN", RecipientInfo: "TR330006100519786457841326", Amount: Amount{Value: decimal.RequireFromString("54680.27"), Currency: "TRY"}, Description: "Maaş 1", RecipientName: "Ayşe Yılmaz"}
	}
	req := &InitRequest{ExternalID: "batch-00001", ConversationID: "batch-00001", Items: items}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := MarshalInit(req); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAppendDecimalKeepsDigits(t *testing.T) {
	for _, s := range []string{"0", "100", "100.50", "0.05", "-0.05", "20.00000000", "1e3", "1.5e-3", "123456789012345678.9", "-7", "0.000000000000000000001", "99999999999999999999999.5"} {
		d := decimal.RequireFromString(s)
		if got, want := string(AppendDecimal(nil, d)), d.StringFixed(max(-d.Exponent(), 0)); got != want {
			t.Errorf("AppendDecimal(%s) = %s, want %s", s, got, want)
		}
	}
}
