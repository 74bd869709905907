package payoutfile

import (
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func TestJSON(t *testing.T) {
	in := `{
  "externalId": " batch-2025-01 ",
  "conversationId": "conv-1",
  "locale": "tr",
  "items": [
    {"itemExternalId": "ext-1", "recipientType": "IBAN", "recipientInfo": "TR330006100519786457841326",
     "amount": {"value": 100.50, "currency": "TRY"}, "description": "Maaş", "recipientName": "Ayşe Yılmaz"},
    {"itemExternalId": "ext-2", "recipientType": "PHONE", "recipientInfo": "+905456856931",
     "amount": {"value": "20000", "currency": "try"}, "nonWithdrawable": true},
    {"item_external_id": 3, "recipient_type": "IDENTITY_NUMBER", "recipient_info": 17291716060, "amount": 7000.1, "currency": "USD", "extra": {"a": [1, 2]}},
    {"itemExternalId": "ext-4", "recipientType": "MEMBER_ID", "recipientInfo": "2228853", "amount": {"value": 1e3, "currency": "TRY"}},
    {"itemExternalId": "ext-5", "recipientType": "MEMBER_ID", "recipientInfo": ["2228853"], "amount": {"value": 5, "currency": "TRY"}, "amount": 6},
    [1, 2],
    {"recipientType": "MEMBER_ID", "recipientInfo": "1", "amount": {"value": 5, "currency": "TRY"}, "currency": "USD"},
    {}
  ],
  "purpose": "SALARY"
}
`
	r, err := NewReader(strings.NewReader(in), Options{Format: FormatJSON})
	if err != nil {
		t.Fatal(err)
	}
	if d := r.Defaults(); d.ExternalID != "batch-2025-01" || d.ConversationID != "conv-1" || d.Purpose != "" {
		t.Errorf("defaults before the end %+v", d)
	}
	var recs []Record
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		recs = append(recs, rec)
	}
	if d := r.Defaults(); d.Purpose != "SALARY" {
		t.Errorf("defaults at the end %+v", d)
	}
	want := [][]string{nil, nil, nil, {CodeInvalidAmount}, {CodeWrongType, CodeDuplicateField}, {CodeMalformedItem}, {CodeDuplicateField},
		{CodeMissingField, CodeMissingField, CodeMissingField, CodeMissingField}}
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d", len(recs), len(want))
	}
	for i, rec := range recs {
		if rec.Row != i+1 {
			t.Errorf("record %d has row %d", i, rec.Row)
		}
		if got := codes(rec); !slices.Equal(got, want[i]) {
			t.Errorf("row %d codes %v, want %v: %v", rec.Row, got, want[i], rec.Errors)
		}
	}
	assertItem(t, recs[0].Item, Item{Row: 1, ItemExternalID: "ext-1", RecipientType: "IBAN", RecipientInfo: "TR330006100519786457841326",
		RecipientName: "Ayşe Yılmaz", Description: "Maaş", Amount: decimal.New(10050, -2), Currency: "TRY"})
	assertItem(t, recs[1].Item, Item{Row: 2, ItemExternalID: "ext-2", RecipientType: "PHONE", RecipientInfo: "+905456856931",
		Amount: decimal.New(20000, 0), Currency: "TRY", NonWithdrawable: true})
	assertItem(t, recs[2].Item, Item{Row: 3, ItemExternalID: "3", RecipientType: "IDENTITY_NUMBER", RecipientInfo: "17291716060",
		Amount: decimal.New(70001, -1), Currency: "USD"})
	if w := strings.Join(r.Warnings(), "\n"); !strings.Contains(w, `"extra"`) {
		t.Errorf("warnings %q", w)
	}
}

func TestJSONIgnoresDecimalComma(t *testing.T) {
	in := `[{"recipientType":"MEMBER_ID","recipientInfo":"1","amount":{"value":1234.56,"currency":"TRY"}},` +
		`{"recipientType":"MEMBER_ID","recipientInfo":"2","amount":{"value":"1234.5","currency":"TRY"}}]`
	for _, f := range []Format{FormatJSON, FormatJSONL} {
		data := in
		if f == FormatJSONL {
			data = strings.NewReplacer("[", "", "]", "", "},{", "}\n{").Replace(in)
		}
		recs, _, err := readAll(t, data, Options{Format: f, DecimalComma: true})
		if err != nil || len(recs) != 2 || !recs[0].Valid() || !recs[1].Valid() {
			t.Fatalf("%s: recs %+v err %v", f, recs, err)
		}
		if !recs[0].Item.Amount.Equal(decimal.New(123456, -2)) {
			t.Errorf("%s: amount %s", f, recs[0].Item.Amount)
		}
	}
}

func TestJSONTopLevelArray(t *testing.T) {
	recs, _, err := readAll(t, `[{"recipientType":"MEMBER_ID","recipientInfo":"1","amount":{"value":1,"currency":"TRY"}}]`, Options{Format: FormatJSON})
	if err != nil || len(recs) != 1 || !recs[0].Valid() {
		t.Fatalf("recs %+v err %v", recs, err)
	}
}

func TestJSONFileErrors(t *testing.T) {
	item := `{"recipientType":"MEMBER_ID","recipientInfo":"1","amount":{"value":1,"currency":"TRY"}}`
	for _, tc := range []struct {
		name, in string
		o        Options
		code     string
		rows     int
		msg      string
	}{
		{"empty", "", Options{}, CodeEmptyFile, 0, "empty"},
		{"binary", "\x00\x01{}", Options{}, CodeBinaryFile, 0, "NUL"},
		{"not an object", `"items"`, Options{}, CodeMalformedJSON, 0, "must be an object"},
		{"no items", `{"externalId": "x"}`, Options{}, CodeMalformedJSON, 0, `no "items"`},
		{"items not an array", `{"items": {}}`, Options{}, CodeMalformedJSON, 0, "array"},
		{"items twice", `{"items": [` + item + `], "items": []}`, Options{}, CodeMalformedJSON, 1, "twice"},
		{"empty items", `{"items": []}`, Options{}, CodeNoRows, 0, "no data rows"},
		{"broken", `{"items": [` + item + `, {"recipientType": }]}`, Options{}, CodeMalformedJSON, 1, "item 2"},
		{"truncated", `{"items": [` + item + `, {"recipientType": "IB`, Options{}, CodeMalformedJSON, 1, "cut off"},
		{"trailing data", `{"items": [` + item + `]} {}`, Options{}, CodeMalformedJSON, 1, "more after"},
		{"externalId not a string", `{"externalId": {}, "items": []}`, Options{}, CodeMalformedJSON, 0, "must be a string"},
		{"huge item", `{"items": [{"description": "` + strings.Repeat("a", 30000) + `"}]}`, Options{}, CodeItemTooLarge, 0, "item 1 is larger"},
		{"huge top-level value", `{"note": "` + strings.Repeat("a", 30000) + `", "items": []}`, Options{}, CodeItemTooLarge, 0, "top-level"},
		{"too many items", `{"items": [` + item + "," + item + "," + item + `]}`, Options{MaxRows: 2}, CodeTooManyRows, 2, "more than 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Format = FormatJSON
			recs, _, err := readAll(t, tc.in, tc.o)
			checkFileError(t, recs, err, tc.code, tc.rows, tc.msg)
		})
	}
}

func TestJSONLines(t *testing.T) {
	in := "\ufeff" + `{"itemExternalId":"a","recipientType":"MEMBER_ID","recipientInfo":"1","amount":{"value":1.50,"currency":"TRY"}}` + "\r\n" +
		"\n" +
		`{"itemExternalId":"b","recipientType":"MEMBER_ID","recipientInfo":"2","amount":{"value":2,"currency":"TRY"}` + "\n" +
		`{"itemExternalId":"c","recipientType":"MEMBER_ID","recipientInfo":"3","amount":{"value":3,"currency":"TRY"}} {}` + "\n" +
		`[1]` + "\n" +
		`{"itemExternalId":"a","recipientType":"MEMBER_ID","recipientInfo":"5","amount":{"value":"5.001","currency":"TRY"}}`
	recs, _, err := readAll(t, in, Options{Format: FormatJSONL})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		row   int
		codes []string
	}{{1, nil}, {3, []string{CodeMalformedItem}}, {4, []string{CodeMalformedItem}}, {5, []string{CodeMalformedItem}}, {6, []string{CodeAmountScale, CodeDuplicateID}}}
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d", len(recs), len(want))
	}
	for i, rec := range recs {
		if rec.Row != want[i].row || !slices.Equal(codes(rec), want[i].codes) {
			t.Errorf("record %d: row %d codes %v, want row %d codes %v", i, rec.Row, codes(rec), want[i].row, want[i].codes)
		}
	}
	if !recs[0].Item.Amount.Equal(decimal.New(150, -2)) || recs[0].Item.Amount.Exponent() != -2 {
		t.Errorf("amount %s", recs[0].Item.Amount)
	}
}

func TestJSONLinesFileErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, code, msg string }{
		{"a JSON document", "{\n  \"items\": []\n}\n", CodeMalformedJSON, "--format json"},
		{"an array", "[{}]", CodeMalformedJSON, "--format json"},
		{"long line", `{"description":"` + strings.Repeat("a", 30000) + "\"}\n", CodeItemTooLarge, "longer than"},
		{"only blank lines", "\n\n  \n", CodeEmptyFile, "empty"},
		{"binary", "\x00\x00\x00", CodeBinaryFile, "NUL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readAll(t, tc.in, Options{Format: FormatJSONL})
			if got := fileErrorCode(t, err); got != tc.code || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v (code %q), want code %q mentioning %q", err, got, tc.code, tc.msg)
			}
		})
	}
}
