package payoutfile

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// baseRow is a valid row in csvHeader's order.
func baseRow() map[string]string {
	return map[string]string{
		"item_external_id": "E1", "recipient_type": "IBAN", "recipient_info": "TR330006100519786457841326",
		"recipient_name": "Ayşe Yılmaz", "amount": "100.50", "currency": "TRY", "description": "Maaş", "non_withdrawable": "false",
	}
}

// oneRow validates a single row: baseRow with changes applied.
func oneRow(t *testing.T, o Options, changes map[string]string) Record {
	t.Helper()
	row := baseRow()
	for k, v := range changes {
		row[k] = v
	}
	fields := make([]string, len(csvHeader))
	for i, h := range csvHeader {
		fields[i] = row[h]
	}
	o.Format = FormatCSV
	recs, _, err := readAll(t, csvOf(csvHeader, fields), o)
	if err != nil || len(recs) != 1 {
		t.Fatalf("records %v, error %v", recs, err)
	}
	return recs[0]
}

func TestRules(t *testing.T) {
	for _, tc := range []struct {
		name     string
		o        Options
		changes  map[string]string
		codes    []string
		amountOK bool
		item     func(*Item) // the expected normalised item, from the base row's
		msg      string      // a message of the first error must contain this
	}{
		{name: "valid", amountOK: true, item: func(*Item) {}},
		{name: "IBAN normalised", changes: map[string]string{"recipient_type": "iban", "recipient_info": " tr33 0006 1005 1978 6457 8413 26 "}, amountOK: true, item: func(*Item) {}},
		{name: "IBAN check digits", changes: map[string]string{"recipient_info": "TR330006100519786457841327"}, codes: []string{CodeInvalidIBAN}, amountOK: true,
			msg: "row 1 (line 2, ID E1), recipient_info: IBAN TR33************1327: the check digits do not match"},
		{name: "IBAN length", changes: map[string]string{"recipient_info": "TR33000610051978645784132"}, codes: []string{CodeInvalidIBAN}, amountOK: true, msg: "has 25 characters"},
		{name: "IBAN other country", changes: map[string]string{"recipient_info": "DE89370400440532013000"}, amountOK: true, item: func(it *Item) { it.RecipientInfo = "DE89370400440532013000" }},
		{name: "identity number", changes: map[string]string{"recipient_type": "IDENTITY_NUMBER", "recipient_info": "17291716060", "recipient_name": ""}, amountOK: true,
			item: func(it *Item) {
				it.RecipientType, it.RecipientInfo, it.RecipientName = "IDENTITY_NUMBER", "17291716060", ""
			}},
		{name: "identity number checksum", changes: map[string]string{"recipient_type": "IDENTITY_NUMBER", "recipient_info": "17291716050"}, codes: []string{CodeInvalidIdentity}, amountOK: true,
			msg: "identity number *********50: fails the T.C. Kimlik No checksum"},
		{name: "identity number from Excel", changes: map[string]string{"recipient_type": "IDENTITY_NUMBER", "recipient_info": "1.72917E+10"}, codes: []string{CodeInvalidIdentity}, amountOK: true, msg: "format the column as Text"},
		{name: "phone normalised", changes: map[string]string{"recipient_type": "phone", "recipient_info": "0532 123 45 67"}, amountOK: true,
			item: func(it *Item) { it.RecipientType, it.RecipientInfo = "PHONE", "+905321234567" }},
		{name: "phone landline", changes: map[string]string{"recipient_type": "PHONE", "recipient_info": "0212 123 45 67"}, codes: []string{CodeInvalidPhone}, amountOK: true, msg: "landline"},
		{name: "member id", changes: map[string]string{"recipient_type": "MEMBER_ID", "recipient_info": "2228853"}, amountOK: true,
			item: func(it *Item) { it.RecipientType, it.RecipientInfo = "MEMBER_ID", "2228853" }},
		{name: "member id letters", changes: map[string]string{"recipient_type": "MEMBER_ID", "recipient_info": "M-2228853"}, codes: []string{CodeInvalidMemberID}, amountOK: true, msg: "digits 0–9 only"},
		{name: "recipient type unknown", changes: map[string]string{"recipient_type": "BANKA"}, codes: []string{CodeInvalidRecipientType}, amountOK: true, msg: `"BANKA" is not a recipient type`},
		{name: "recipient type empty", changes: map[string]string{"recipient_type": ""}, codes: []string{CodeMissingField}, amountOK: true, msg: "row 1 (line 2, ID E1), recipient_type: empty"},
		{name: "recipient info empty", changes: map[string]string{"recipient_info": "  "}, codes: []string{CodeMissingField}, amountOK: true},
		{name: "name required for IBAN", changes: map[string]string{"recipient_name": " "}, codes: []string{CodeNameRequired}, amountOK: true, msg: "account holder's name"},
		{name: "name optional for phone", changes: map[string]string{"recipient_type": "PHONE", "recipient_info": "+905321234567", "recipient_name": ""}, amountOK: true,
			item: func(it *Item) { it.RecipientType, it.RecipientInfo, it.RecipientName = "PHONE", "+905321234567", "" }},
		{name: "name too long", changes: map[string]string{"recipient_name": strings.Repeat("ş", 141)}, codes: []string{CodeFieldTooLong}, amountOK: true, msg: "has 141 characters; at most 140"},
		{name: "name at the limit", changes: map[string]string{"recipient_name": strings.Repeat("ş", 140)}, amountOK: true, item: func(it *Item) { it.RecipientName = strings.Repeat("ş", 140) }},
		{name: "name with a direction override", changes: map[string]string{"recipient_name": "Ali\u202eVeli"}, codes: []string{CodeInvalidCharacter}, amountOK: true, msg: "U+202E"},
		{name: "name not UTF-8", changes: map[string]string{"recipient_name": "\xdeükrü"}, codes: []string{CodeInvalidEncoding}, amountOK: true},
		{name: "name with emoji and Turkish letters", changes: map[string]string{"recipient_name": "İĞÜŞÖÇ ığüşöç 👩‍💼"}, amountOK: true, item: func(it *Item) { it.RecipientName = "İĞÜŞÖÇ ığüşöç 👩‍💼" }},
		{name: "amount empty", changes: map[string]string{"amount": ""}, codes: []string{CodeMissingField}, msg: "fill in the amount"},
		{name: "amount zero", changes: map[string]string{"amount": "0.00"}, codes: []string{CodeInvalidAmount}, amountOK: true, msg: "greater than 0"},
		{name: "amount negative", changes: map[string]string{"amount": "-5"}, codes: []string{CodeInvalidAmount}, amountOK: true, msg: "negative"},
		{name: "amount minus zero", changes: map[string]string{"amount": "-0"}, codes: []string{CodeInvalidAmount}, amountOK: true},
		{name: "amount exponent", changes: map[string]string{"amount": "1e3"}, codes: []string{CodeInvalidAmount}, msg: `"1e3" is in scientific notation`},
		{name: "amount NaN", changes: map[string]string{"amount": "NaN"}, codes: []string{CodeInvalidAmount}},
		{name: "amount hex", changes: map[string]string{"amount": "0x10"}, codes: []string{CodeInvalidAmount}},
		{name: "amount underscore", changes: map[string]string{"amount": "1_000"}, codes: []string{CodeInvalidAmount}},
		{name: "amount thousands", changes: map[string]string{"amount": "1,234.56"}, codes: []string{CodeInvalidAmount}, msg: "thousands separator"},
		{name: "amount currency sign", changes: map[string]string{"amount": "₺100"}, codes: []string{CodeInvalidAmount}, msg: "currency column"},
		{name: "amount scale", changes: map[string]string{"amount": "10.005"}, codes: []string{CodeAmountScale}, amountOK: true,
			msg: `row 1 (line 2, ID E1), amount: "10.005" has 3 decimals but TRY allows 2; correct the amount (it is never rounded)`},
		{name: "amount float artefact", changes: map[string]string{"amount": "0.30000000000000004"}, codes: []string{CodeAmountScale}, amountOK: true},
		{name: "amount trailing zeros", changes: map[string]string{"amount": "10.500"}, amountOK: true, item: func(it *Item) { it.Amount = decimal.New(1050, -2) }},
		{name: "amount plus sign", changes: map[string]string{"amount": "+7"}, amountOK: true, item: func(it *Item) { it.Amount = decimal.New(7, 0) }},
		{name: "amount too large", changes: map[string]string{"amount": "1000000000000000"}, codes: []string{CodeInvalidAmount}, msg: "too large"},
		{name: "amount largest", changes: map[string]string{"amount": "999999999999999.99"}, amountOK: true, item: func(it *Item) { it.Amount = decimal.RequireFromString("999999999999999.99") }},
		{name: "JPY has no decimals", o: Options{Currencies: []string{"JPY"}}, changes: map[string]string{"amount": "100.5", "currency": "JPY"}, codes: []string{CodeAmountScale}, amountOK: true, msg: "JPY allows 0"},
		{name: "JPY whole", o: Options{Currencies: []string{"jpy"}}, changes: map[string]string{"amount": "100.00", "currency": "jpy"}, amountOK: true,
			item: func(it *Item) { it.Amount, it.Currency = decimal.New(100, 0), "JPY" }},
		{name: "KWD three decimals", o: Options{Currencies: []string{"KWD"}}, changes: map[string]string{"amount": "1.125", "currency": "KWD"}, amountOK: true,
			item: func(it *Item) { it.Amount, it.Currency = decimal.New(1125, -3), "KWD" }},
		{name: "currency lower case", changes: map[string]string{"currency": " try "}, amountOK: true, item: func(*Item) {}},
		{name: "currency empty", changes: map[string]string{"currency": ""}, codes: []string{CodeMissingField}, amountOK: true, msg: "TRY, USD, EUR"},
		{name: "currency not allowed", changes: map[string]string{"currency": "GBP"}, codes: []string{CodeUnsupportedCurrency}, amountOK: true, msg: `"GBP" is not accepted`},
		{name: "currency TL", changes: map[string]string{"currency": "TL"}, codes: []string{CodeUnsupportedCurrency}, amountOK: true, msg: "write TRY"},
		{name: "description too long", changes: map[string]string{"description": strings.Repeat("a", 256)}, codes: []string{CodeFieldTooLong}, amountOK: true},
		{name: "description with a line break", changes: map[string]string{"description": "a\nb"}, codes: []string{CodeInvalidCharacter}, amountOK: true, msg: "line break"},
		{name: "description with a zero-width space", changes: map[string]string{"description": "a\u200bb"}, codes: []string{CodeInvalidCharacter}, amountOK: true},
		{name: "name with a soft hyphen", changes: map[string]string{"recipient_name": "Ay\u00adşe"}, codes: []string{CodeInvalidCharacter}, amountOK: true, msg: "soft hyphen"},
		{name: "name with a Mongolian vowel separator", changes: map[string]string{"recipient_name": "Ayşe\u180e"}, codes: []string{CodeInvalidCharacter}, amountOK: true, msg: "U+180E"},
		{name: "name that is a Hangul filler", changes: map[string]string{"recipient_name": "\u3164"}, codes: []string{CodeInvalidCharacter}, amountOK: true, msg: "Hangul filler"},
		{name: "name with a tag character", changes: map[string]string{"recipient_name": "Ayşe\U000E0041"}, codes: []string{CodeInvalidCharacter}, amountOK: true, msg: "U+E0041"},
		{name: "name with a combining grapheme joiner", changes: map[string]string{"recipient_name": "Ay\u034fşe"}, codes: []string{CodeInvalidCharacter}, amountOK: true},
		{name: "name with an emoji and a variation selector", changes: map[string]string{"recipient_name": "Ayşe \u2764\ufe0f"}, amountOK: true, item: func(it *Item) { it.RecipientName = "Ayşe \u2764\ufe0f" }},
		{name: "description injection text kept", changes: map[string]string{"description": "=HYPERLINK(\"x\")"}, amountOK: true, item: func(it *Item) { it.Description = "=HYPERLINK(\"x\")" }},
		{name: "id too long", changes: map[string]string{"item_external_id": strings.Repeat("x", 65)}, codes: []string{CodeFieldTooLong}, amountOK: true,
			msg: `row 1 (line 2, ID "` + strings.Repeat("x", 40) + `"…), item_external_id: has 65 characters`},
		{name: "id with a tab", changes: map[string]string{"item_external_id": "a\tb"}, codes: []string{CodeInvalidCharacter}, amountOK: true,
			msg: `row 1 (line 2, ID "a\tb"), item_external_id: character 2 is a tab`},
		{name: "id empty", changes: map[string]string{"item_external_id": ""}, amountOK: true, item: func(it *Item) { it.ItemExternalID = "" }},
		{name: "non-withdrawable evet", changes: map[string]string{"non_withdrawable": "Evet"}, amountOK: true, item: func(it *Item) { it.NonWithdrawable = true }},
		{name: "non-withdrawable DOĞRU", changes: map[string]string{"non_withdrawable": "DOĞRU"}, amountOK: true, item: func(it *Item) { it.NonWithdrawable = true }},
		{name: "non-withdrawable YANLIŞ", changes: map[string]string{"non_withdrawable": "YANLIŞ"}, amountOK: true, item: func(*Item) {}},
		{name: "non-withdrawable 1", changes: map[string]string{"non_withdrawable": "1"}, amountOK: true, item: func(it *Item) { it.NonWithdrawable = true }},
		{name: "non-withdrawable unclear", changes: map[string]string{"non_withdrawable": "belki"}, codes: []string{CodeInvalidBoolean}, amountOK: true, msg: `"belki" is not a yes/no value`},
		{name: "every problem of a row", changes: map[string]string{"recipient_info": "TR330006100519786457841327", "recipient_name": "", "amount": "1e3", "currency": "TL", "non_withdrawable": "x"},
			codes: []string{CodeInvalidIBAN, CodeNameRequired, CodeInvalidAmount, CodeUnsupportedCurrency, CodeInvalidBoolean}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := oneRow(t, tc.o, tc.changes)
			if got := codes(rec); !slices.Equal(got, tc.codes) {
				t.Fatalf("codes %v, want %v: %v", got, tc.codes, rec.Errors)
			}
			if rec.AmountOK != tc.amountOK {
				t.Errorf("AmountOK = %v, want %v", rec.AmountOK, tc.amountOK)
			}
			for _, e := range rec.Errors {
				if e.Row != 1 || e.Line != 2 || e.Cell != "" || e.ItemExternalID != rec.Item.ItemExternalID ||
					!strings.HasPrefix(e.Message, "row 1 (line 2") || !strings.Contains(e.Message, "), "+e.Column+": ") {
					t.Errorf("error %+v does not name its row, line, ID and column", e)
				}
				if strings.Contains(e.Message, "0006100519786457841") {
					t.Errorf("message shows the IBAN: %q", e.Message)
				}
			}
			if tc.msg != "" && !strings.Contains(rec.Errors[0].Message, tc.msg) {
				t.Errorf("message %q, want it to contain %q", rec.Errors[0].Message, tc.msg)
			}
			if tc.item != nil {
				want := Item{Row: 1, ItemExternalID: "E1", RecipientType: "IBAN", RecipientInfo: "TR330006100519786457841326",
					RecipientName: "Ayşe Yılmaz", Amount: decimal.New(10050, -2), Currency: "TRY", Description: "Maaş"}
				tc.item(&want)
				assertItem(t, rec.Item, want)
			}
		})
	}
}

func TestInvalidRowKeepsFieldsAsRead(t *testing.T) {
	rec := oneRow(t, Options{}, map[string]string{"recipient_type": " phone ", "recipient_info": " 0532 123 45 67 ", "amount": "5", "currency": "gbp"})
	if rec.Valid() {
		t.Fatal("row valid with GBP")
	}
	want := Item{Row: 1, ItemExternalID: "E1", RecipientType: "phone", RecipientInfo: "0532 123 45 67", RecipientName: "Ayşe Yılmaz",
		Amount: decimal.New(5, 0), Currency: "GBP", Description: "Maaş"}
	assertItem(t, rec.Item, want)
}

func TestDuplicateItemExternalIDs(t *testing.T) {
	row := func(id string) []string {
		return []string{id, "MEMBER_ID", "1", "", "1", "TRY", "", ""}
	}
	in := csvOf(csvHeader, row("A"), row("B"), row("A"), row(""), row(""), row("a"), row("A "), row("B"))
	recs, _, err := readAll(t, in, Options{Format: FormatCSV})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, strings.Join(codes(r), "+"))
	}
	want := []string{"", "", CodeDuplicateID, "", "", "", CodeDuplicateID, CodeDuplicateID}
	if !slices.Equal(got, want) {
		t.Errorf("codes %q, want %q", got, want)
	}
	if msg := recs[2].Errors[0].Message; !strings.HasPrefix(msg, `row 3 (line 4, ID A), item_external_id: "A" was already used in row 1 (line 2);`) {
		t.Errorf("message %q", msg)
	}
	if msg := recs[7].Errors[0].Message; !strings.Contains(msg, "row 2") {
		t.Errorf("message %q", msg)
	}
}

func TestDuplicateOfAnInvalidRow(t *testing.T) {
	// The first occurrence claims the ID even when that row is invalid.
	in := csvOf(csvHeader, []string{"A", "MEMBER_ID", "x", "", "1", "TRY", "", ""}, []string{"A", "MEMBER_ID", "1", "", "1", "TRY", "", ""})
	recs, _, err := readAll(t, in, Options{Format: FormatCSV})
	if err != nil {
		t.Fatal(err)
	}
	if got := codes(recs[1]); !slices.Equal(got, []string{CodeDuplicateID}) {
		t.Errorf("second row codes %v", got)
	}
}

func TestDuplicatesAcrossBatchesAndGrowth(t *testing.T) {
	const n = 5000
	var rows [][]string
	want := map[int]int{}        // row → first row of its ID, for duplicates
	firstRow := map[string]int{} // ID → first row
	for i := 1; i <= n; i++ {
		id := "ID-" + strings.Repeat("x", i%3) + itoa(i)
		if i > 3000 && i%7 == 0 {
			id = rows[i-3000-1][0] // the ID of row i-3000
		}
		if i%64 == 1 && i > 1 {
			id = rows[i-2][0] // the previous row's, across a read-ahead batch boundary
		}
		if first, seen := firstRow[id]; seen {
			want[i] = first
		} else {
			firstRow[id] = i
		}
		rows = append(rows, []string{id, "PHONE", " 0532 123 45 67 ", "", "1", "TRY", "", ""})
	}
	recs, _, err := readAll(t, csvOf(csvHeader, rows...), Options{Format: FormatCSV})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n {
		t.Fatalf("%d records", len(recs))
	}
	for _, rec := range recs {
		first, dup := want[rec.Row]
		switch {
		case !dup && !rec.Valid():
			t.Fatalf("row %d: %v", rec.Row, rec.Errors)
		case !dup && rec.Item.RecipientInfo != "+905321234567":
			t.Fatalf("row %d: info %q not normalised", rec.Row, rec.Item.RecipientInfo)
		case dup && (len(rec.Errors) != 1 || rec.Errors[0].Code != CodeDuplicateID ||
			!strings.Contains(rec.Errors[0].Message, "already used in row "+itoa(first)+" (line "+itoa(first+1)+");")):
			t.Fatalf("row %d: errors %v, want a duplicate of row %d", rec.Row, rec.Errors, first)
		case dup && rec.Item.RecipientInfo != "0532 123 45 67":
			t.Fatalf("row %d: a duplicate keeps the info as read, got %q", rec.Row, rec.Item.RecipientInfo)
		}
	}
}

// TestMaxAmount: a row above Options.MaxAmount is rejected with AMOUNT_TOO_LARGE, the same number
// in every currency and every format; a row at the limit passes.
func TestMaxAmount(t *testing.T) {
	limit := decimal.RequireFromString("10000000.00")
	for _, tc := range []struct {
		amount string
		json   string // the amount as a JSON value; default the amount as a number
		tooBig bool
	}{
		{amount: "10000000.00"},
		{amount: "10000000"},
		{amount: "10000000.000"},
		{amount: "9999999.99"},
		{amount: "0.01"},
		{amount: "0010000000.00", json: `"0010000000.00"`},
		{amount: "10000000.01", tooBig: true},
		{amount: "10000000.010", tooBig: true},
		{amount: "10000001", tooBig: true},
		{amount: "99999999.99", tooBig: true},
		{amount: "100000000", tooBig: true},
		{amount: "999999999999999.99", tooBig: true},
		{amount: "10000000.01", json: `"10000000.01"`, tooBig: true},
	} {
		for _, cur := range []string{"TRY", "USD"} {
			for _, format := range []Format{FormatCSV, FormatJSONL} {
				name := tc.amount + " " + cur + " " + string(format)
				var in string
				if format == FormatCSV {
					in = csvOf(csvHeader, []string{"E1", "MEMBER_ID", "2228853", "", tc.amount, cur, "", ""})
				} else {
					value := tc.json
					if value == "" {
						value = tc.amount
					}
					in = `{"itemExternalId":"E1","recipientType":"MEMBER_ID","recipientInfo":"2228853","amount":{"value":` + value + `,"currency":"` + cur + `"}}` + "\n"
				}
				recs, _, err := readAll(t, in, Options{Format: format, MaxAmount: limit})
				if err != nil || len(recs) != 1 {
					t.Fatalf("%s: records %v, error %v", name, recs, err)
				}
				rec := recs[0]
				if !tc.tooBig {
					if !rec.Valid() || !rec.Item.Amount.Equal(decimal.RequireFromString(tc.amount)) {
						t.Errorf("%s: valid %v, amount %s, errors %v; want valid at or below the limit", name, rec.Valid(), rec.Item.Amount, rec.Errors)
					}
					continue
				}
				if got := codes(rec); !slices.Equal(got, []string{CodeAmountTooLarge}) {
					t.Errorf("%s: codes %v, want [%s]: %v", name, got, CodeAmountTooLarge, rec.Errors)
					continue
				}
				e := rec.Errors[0]
				for _, want := range []string{"row 1 (", "ID E1), amount", `"` + tc.amount + `"`, "10000000.00 " + cur, "split", "MAX_ITEM_AMOUNT"} {
					if !strings.Contains(e.Message, want) {
						t.Errorf("%s: message %q does not contain %q", name, e.Message, want)
					}
				}
				if e.Row != 1 || e.Column != "amount" {
					t.Errorf("%s: error at row %d column %q, want row 1 column amount", name, e.Row, e.Column)
				}
				if !rec.AmountOK || !rec.Item.Amount.Equal(decimal.RequireFromString(tc.amount)) {
					t.Errorf("%s: AmountOK %v amount %s: a rejected row keeps its amount for the totals", name, rec.AmountOK, rec.Item.Amount)
				}
			}
		}
	}
}

func TestMaxAmountOptions(t *testing.T) {
	big := map[string]string{"amount": "999999999999999.99"}
	if rec := oneRow(t, Options{}, big); !rec.Valid() {
		t.Errorf("no limit (zero MaxAmount): %v", rec.Errors)
	}
	// Any positive limit works, with more decimals than the currency has.
	odd := Options{MaxAmount: decimal.RequireFromString("100.005")}
	if rec := oneRow(t, odd, map[string]string{"amount": "100.00"}); !rec.Valid() {
		t.Errorf("100.00 under a limit of 100.005: %v", rec.Errors)
	}
	rec := oneRow(t, odd, map[string]string{"amount": "100.01"})
	if got := codes(rec); !slices.Equal(got, []string{CodeAmountTooLarge}) || !strings.Contains(rec.Errors[0].Message, "limit of 100.005 TRY") {
		t.Errorf("100.01 over a limit of 100.005: %v", rec.Errors)
	}
	// Other problems of the row are reported too; a negative amount is not "too large".
	rec = oneRow(t, Options{MaxAmount: decimal.New(100, 0)}, map[string]string{"amount": "100.005", "currency": "TRY"})
	if got := codes(rec); !slices.Equal(got, []string{CodeAmountScale, CodeAmountTooLarge}) {
		t.Errorf("100.005 TRY under a limit of 100: codes %v", got)
	}
	rec = oneRow(t, Options{MaxAmount: decimal.New(100, 0)}, map[string]string{"amount": "-1000", "currency": "GBP"})
	if got := codes(rec); !slices.Equal(got, []string{CodeInvalidAmount, CodeUnsupportedCurrency}) {
		t.Errorf("-1000 GBP: codes %v", got)
	}
	rec = oneRow(t, Options{MaxAmount: decimal.New(100, 0), Currencies: []string{"JPY"}}, map[string]string{"amount": "101", "currency": "JPY"})
	if len(rec.Errors) != 1 || !strings.Contains(rec.Errors[0].Message, "limit of 100 JPY") {
		t.Errorf("101 JPY over 100: %v", rec.Errors)
	}
	_, err := NewReader(strings.NewReader(""), Options{Format: FormatCSV, MaxAmount: decimal.New(-1, 0)})
	var fe *FileError
	if !errors.As(err, &fe) || fe.Code != CodeBadOptions || !strings.Contains(fe.Message, "maximum amount") {
		t.Errorf("negative MaxAmount: %v", err)
	}
}

// TestAmountLimitExceeds checks the digit-count shortcut against decimal comparison, and that a
// row of ordinary size costs no allocation.
func TestAmountLimitExceeds(t *testing.T) {
	amounts := []string{"0.01", "0.5", "1", "9.99", "10", "10.00", "10.01", "99", "99.999", "100", "100.001", "999", "1000",
		"9999999.99", "10000000", "10000000.00", "10000000.01", "12345678", "99999999.99", "100000000", "999999999999999.99", "007", "-5", "-100000000"}
	limits := []string{"0.5", "1", "10", "10.005", "99.99", "100", "1000", "10000000.00", "10000000", "1e7", "999999999999999.99"}
	for _, ls := range limits {
		l := newAmountLimit(decimal.RequireFromString(ls))
		for _, as := range amounts {
			a, err := parseAmount(as, false)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := l.exceeds(&a), a.d.Cmp(l.max) > 0; got != want {
				t.Errorf("limit %s: exceeds(%s) = %v, want %v", ls, as, got, want)
			}
		}
	}
	if off := newAmountLimit(decimal.Decimal{}); off.on {
		t.Error("a zero limit is on")
	}
	l := newAmountLimit(decimal.RequireFromString("10000000.00"))
	a, _ := parseAmount("1234.5", false)
	if n := testing.AllocsPerRun(100, func() { l.exceeds(&a) }); n != 0 {
		t.Errorf("exceeds allocates %v times per row", n)
	}
}
