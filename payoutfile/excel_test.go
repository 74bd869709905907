package payoutfile

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/masspayout/masspayout/payoutfile/payoutfiletest"
	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"
)

// TestExcelNumbers: an XLSX number cell in the amount column is read as Excel shows it, at 15
// significant digits, before the scale rule; a text cell is taken literally.
func TestExcelNumbers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		amount payoutfiletest.Cell
		want   string   // the valid amount, or "" when the row is refused
		codes  []string // the row's codes when refused
		msg    string   // in the first message
	}{
		{name: "17 digits Excel writes for 82436.04", amount: xN("82436.039999999994"), want: "82436.04"},
		{name: "16 digits from the issue", amount: xN("82436.03999999999"), want: "82436.04"},
		{name: "0.1+0.2", amount: xN("0.30000000000000004"), want: "0.3"},
		{name: "one ulp above 1", amount: xN("1.0000000000000002"), want: "1"},
		{name: "rounds up to a whole number", amount: xN("99.999999999999986"), want: "100"},
		{name: "plain", amount: xN("1234.56"), want: "1234.56"},
		{name: "whole", amount: xN("500"), want: "500"},
		{name: "exponent Excel writes for big numbers", amount: xN("1E+3"), want: "1000"},
		{name: "15 digits kept", amount: xN("123456789012.345"), codes: []string{CodeAmountScale}, msg: `"123456789012.345" has 3 decimals`},
		{name: "beyond 15 digits, as Excel shows it", amount: xN("123456789012345.67"), want: "123456789012346"},
		{name: "three decimals stay three", amount: xN("10.005"), codes: []string{CodeAmountScale},
			msg: `row 1 (cell C2), amount: "10.005" has 3 decimals but TRY allows 2; the cell holds this value even where its format shows fewer decimals: round it to 2 decimals in the sheet`},
		{name: "three decimals after rounding", amount: xN("10.004999999999999"), codes: []string{CodeAmountScale}, msg: `"10.005" has 3 decimals`},
		{name: "small exponent", amount: xN("1E-4"), codes: []string{CodeAmountScale}, msg: `"0.0001" has 4 decimals`},
		{name: "rounding residue", amount: xN("1.1368683772161603E-13"), codes: []string{CodeAmountScale}, msg: "has 27 decimals"},
		{name: "far too small", amount: xN("1E-60"), codes: []string{CodeInvalidAmount}, msg: "too close to 0"},
		{name: "too large", amount: xN("1E+16"), codes: []string{CodeInvalidAmount}, msg: "too large"},
		{name: "large exponent", amount: xN("1.5E+300"), codes: []string{CodeInvalidAmount}, msg: "too large"},
		{name: "exponent beyond any number", amount: xN("1E+999999999"), codes: []string{CodeInvalidAmount}, msg: "is not a valid number"},
		{name: "zero", amount: xN("0"), codes: []string{CodeInvalidAmount}, msg: `"0" is zero`},
		{name: "negative", amount: xN("-5.0000000000000009"), codes: []string{CodeInvalidAmount}, msg: `"-5" is negative`},
		{name: "not a number", amount: xN("NaN"), codes: []string{CodeInvalidAmount}, msg: `"NaN" is not a valid number`},
		{name: "percent style holds its value", amount: payoutfiletest.Cell{Text: "0.15", Kind: payoutfiletest.Number, Style: payoutfiletest.StylePercent}, want: "0.15"},
		{name: "formula's cached result", amount: payoutfiletest.F("A2*1.18", "82436.039999999994"), want: "82436.04"},
		{name: "LibreOffice formula", amount: payoutfiletest.Cell{Text: "82436.039999999994", Kind: payoutfiletest.Number, Formula: "A2*1.18", LibreOffice: true}, want: "82436.04"},
		{name: "formula without a saved result", amount: payoutfiletest.F("A2*1.18", ""), codes: []string{CodeMissingField}, msg: "formula but no saved result"},
		{name: "text cell taken literally", amount: xS("82436.039999999994"), codes: []string{CodeAmountScale}, msg: `"82436.039999999994" has 12 decimals but TRY allows 2; correct the amount`},
		{name: "inline text taken literally", amount: payoutfiletest.Cell{Text: "0.30000000000000004", Inline: true}, codes: []string{CodeAmountScale}},
		{name: "formula text result taken literally", amount: payoutfiletest.Cell{Text: "1.0000000000000002", Kind: payoutfiletest.Formula}, codes: []string{CodeAmountScale}},
		{name: "text in scientific notation", amount: xS("1E+3"), codes: []string{CodeInvalidAmount}, msg: "scientific notation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := [][]cell{
				payoutfiletest.Strings("recipient_type", "recipient_info", "amount", "currency"),
				{xS("MEMBER_ID"), xN("2228853"), tc.amount, xS("TRY")},
			}
			recs, _, err := readXLSX(t, payoutfiletest.XLSX(rows, payoutfiletest.XLSXOptions{}), Options{})
			if err != nil || len(recs) != 1 {
				t.Fatalf("records %+v, error %v", recs, err)
			}
			rec := recs[0]
			if tc.amount.Kind == payoutfiletest.Number {
				// DecimalComma does not change how a number cell reads.
				again, _, err := readXLSX(t, payoutfiletest.XLSX(rows, payoutfiletest.XLSXOptions{}), Options{DecimalComma: true})
				if err != nil || len(again) != 1 || !slices.Equal(codes(again[0]), codes(rec)) || !again[0].Item.Amount.Equal(rec.Item.Amount) {
					t.Fatalf("with DecimalComma: records %+v, error %v; without: %+v", again, err, rec)
				}
			}
			if tc.want != "" && len(tc.codes) == 0 {
				if !rec.Valid() {
					t.Fatalf("refused: %v", rec.Errors)
				}
				if want := decimal.RequireFromString(tc.want); !rec.Item.Amount.Equal(want) || rec.Item.Amount.String() != tc.want {
					t.Errorf("amount %s, want %s", rec.Item.Amount, tc.want)
				}
				return
			}
			if got := codes(rec); !slices.Equal(got, tc.codes) {
				t.Fatalf("codes %v, want %v: %v", got, tc.codes, rec.Errors)
			}
			if tc.msg != "" && !strings.Contains(rec.Errors[0].Message, tc.msg) {
				t.Errorf("message %q, want it to contain %q", rec.Errors[0].Message, tc.msg)
			}
		})
	}
}

// TestExcelNumbersOtherColumns: only the amount column is rounded; identity numbers and phones
// stored as numbers keep their digits, dates elsewhere are serials that change nothing.
func TestExcelNumbersOtherColumns(t *testing.T) {
	date := payoutfiletest.Cell{Text: "46053", Kind: payoutfiletest.Number, Style: payoutfiletest.StyleDate} // 2026-01-31
	rows := [][]cell{
		payoutfiletest.Strings("item_external_id", "recipient_type", "recipient_info", "amount", "currency", "description", "pay_date"),
		{xN("1042"), xS("IDENTITY_NUMBER"), xN("17291716060"), payoutfiletest.F("SUM(H2:J2)", "82436.039999999994"), xS("TRY"), date, date},
		{xS("E-2"), xS("IDENTITY_NUMBER"), xN("17291716060.000002"), xN("10"), xS("TRY"), xS("Ocak"), date},
		{xS("E-3"), xS("PHONE"), xN("905321234567"), xN("10"), xS("TRY"), {}, date},
	}
	recs, warns, err := readXLSX(t, payoutfiletest.XLSX(rows, payoutfiletest.XLSXOptions{}), Options{})
	if err != nil || len(recs) != 3 {
		t.Fatalf("records %+v, error %v", recs, err)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], `"pay_date" (column G)`) {
		t.Errorf("warnings %q, want the unknown column pay_date", warns)
	}
	assertItem(t, recs[0].Item, Item{Row: 1, ItemExternalID: "1042", RecipientType: TypeIdentityNumber, RecipientInfo: "17291716060",
		Amount: decimal.RequireFromString("82436.04"), Currency: "TRY", Description: "46053"})
	// A number that is not 11 digits stays refused, and is not rounded into one.
	if got := codes(recs[1]); !slices.Equal(got, []string{CodeInvalidIdentity}) {
		t.Errorf("row 2 codes %v: %v", got, recs[1].Errors)
	}
	if got := codes(recs[2]); !slices.Equal(got, []string{CodeInvalidPhone}) || !strings.Contains(recs[2].Errors[0].Message, "+905") {
		t.Errorf("row 3 (a phone stored as a number without its +) %v: %v", got, recs[2].Errors)
	}
}

// TestCSVScientificIdentityNumber: a CSV export with an identity number Excel turned into
// scientific notation stays refused, with the hint.
func TestCSVScientificIdentityNumber(t *testing.T) {
	recs, _, err := readAll(t, "recipient_type,recipient_info,amount,currency\nIDENTITY_NUMBER,1.72917E+10,10,TRY\n", Options{Format: FormatCSV})
	if err != nil || len(recs) != 1 {
		t.Fatalf("records %+v, error %v", recs, err)
	}
	if got := codes(recs[0]); !slices.Equal(got, []string{CodeInvalidIdentity}) || !strings.Contains(recs[0].Errors[0].Message, "scientific notation") {
		t.Errorf("codes %v: %v", got, recs[0].Errors)
	}
}

// excelizeWorkbook writes a payroll with the excelize spreadsheet library: a header, then for each
// amount one row whose amount cell is set by set, and a date in an unknown column.
func excelizeWorkbook(t *testing.T, amounts []func(f *excelize.File, cell string) error) []byte {
	t.Helper()
	f := excelize.NewFile()
	t.Cleanup(func() { f.Close() })
	const sheet = "Sheet1"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.SetSheetRow(sheet, "A1", &[]any{"item_external_id", "recipient_type", "recipient_info", "amount", "currency", "pay_date"}))
	pct, err := f.NewStyle(&excelize.Style{NumFmt: 10}) // 0.00%
	must(err)
	for i, set := range amounts {
		r := i + 2
		ref := func(col string) string { return col + itoa(r) }
		must(f.SetSheetRow(sheet, ref("A"), &[]any{"E-" + itoa(i+1), "IDENTITY_NUMBER", 17291716060}))
		must(set(f, ref("D")))
		if i == 2 {
			must(f.SetCellStyle(sheet, ref("D"), ref("D"), pct))
		}
		must(f.SetCellStr(sheet, ref("E"), "TRY"))
		must(f.SetCellValue(sheet, ref("F"), time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)))
	}
	var b bytes.Buffer
	if _, err := f.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestExcelizeWorkbook reads a workbook written by a spreadsheet library: floats, the 17 digits
// Excel saves, a percentage, a text cell, formulas, dates.
func TestExcelizeWorkbook(t *testing.T) {
	const sheet = "Sheet1"
	archive := excelizeWorkbook(t, []func(*excelize.File, string) error{
		// The number cell Excel saves for 82436.04 computed by a formula.
		func(f *excelize.File, c string) error { return f.SetCellDefault(sheet, c, "82436.039999999994") },
		func(f *excelize.File, c string) error { return f.SetCellValue(sheet, c, 0.1+0.2) },
		func(f *excelize.File, c string) error { return f.SetCellValue(sheet, c, 0.15) }, // styled 0.00%: shows 15.00%
		func(f *excelize.File, c string) error { return f.SetCellDefault(sheet, c, "1.0000000000000002") },
		func(f *excelize.File, c string) error { return f.SetCellDefault(sheet, c, "10.005") },
		func(f *excelize.File, c string) error { return f.SetCellStr(sheet, c, "82436.039999999994") },
		// A formula excelize cannot calculate: saved without a result.
		func(f *excelize.File, c string) error { return f.SetCellFormula(sheet, c, "B2*2") },
		func(f *excelize.File, c string) error { return f.SetCellFloat(sheet, c, 1234.5, 2, 64) },
	})
	recs, _, err := readXLSX(t, archive, Options{})
	if err != nil || len(recs) != 8 {
		t.Fatalf("records %+v, error %v", recs, err)
	}
	for i, want := range []struct {
		amount string
		code   string
	}{
		{amount: "82436.04"}, {amount: "0.3"}, {amount: "0.15"}, {amount: "1"},
		{code: CodeAmountScale}, {code: CodeAmountScale}, {code: CodeMissingField}, {amount: "1234.5"},
	} {
		rec := recs[i]
		if want.code != "" {
			if got := codes(rec); !slices.Equal(got, []string{want.code}) {
				t.Errorf("row %d: codes %v, want [%s]: %v", rec.Row, got, want.code, rec.Errors)
			}
			continue
		}
		if !rec.Valid() || rec.Item.Amount.String() != want.amount || rec.Item.RecipientInfo != "17291716060" {
			t.Errorf("row %d: amount %s, info %q, errors %v; want %s, valid", rec.Row, rec.Item.Amount, rec.Item.RecipientInfo, rec.Errors, want.amount)
		}
	}
	if msg := recs[5].Errors[0].Message; !strings.HasPrefix(msg, `row 6 (cell D7, ID E-6), amount: "82436.039999999994" has 12 decimals`) {
		t.Errorf("text cell message %q", msg)
	}
}
