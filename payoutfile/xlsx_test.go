package payoutfile

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/masspayout/masspayout/payoutfile/payoutfiletest"
	"github.com/shopspring/decimal"
)

type cell = payoutfiletest.Cell

var (
	xS = payoutfiletest.S
	xN = payoutfiletest.N
)

func xlsxRows() [][]cell {
	return [][]cell{
		payoutfiletest.Strings("Item External ID", "recipientType", "recipient_info", "Recipient Name", "Amount", "Currency", "Description", "Non Withdrawable"),
		{xS("P-1"), xS("IBAN"), xS("TR33 0006 1005 1978 6457 8413 26"), xS("Şükrü Öztürk"), xN("1234.56"), xS("TRY"), xS("Ocak maaşı"), {Text: "0", Kind: payoutfiletest.Bool}},
		{xN("2"), xS("IDENTITY_NUMBER"), xN("17291716060"), xS("İsmail Işık"), xS("1.234,50"), {Text: "try", Inline: true}, {}, {Text: "1", Kind: payoutfiletest.Bool}},
		{},
		{xS("P-4"), xS("PHONE"), xN("5321234567"), {}, xN("1234.5599999999999"), xS("TRY"), {Text: "Prim", Kind: payoutfiletest.Formula}},
	}
}

func readXLSX(t *testing.T, archive []byte, o Options) ([]Record, []string, error) {
	t.Helper()
	o.Format = FormatXLSX
	return readAll(t, string(archive), o)
}

func TestXLSX(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    payoutfiletest.XLSXOptions
	}{
		{"plain", payoutfiletest.XLSXOptions{}},
		{"prefixed", payoutfiletest.XLSXOptions{Prefix: "x"}},
		{"rich text", payoutfiletest.XLSXOptions{RichText: true}},
		{"absolute targets", payoutfiletest.XLSXOptions{AbsoluteRels: true}},
		{"header on sheet row 3", payoutfiletest.XLSXOptions{FirstRow: 3}},
		{"no references", payoutfiletest.XLSXOptions{NoRefs: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, warns, err := readXLSX(t, payoutfiletest.XLSX(xlsxRows(), tc.o), Options{DecimalComma: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(warns) > 0 {
				t.Errorf("warnings %q", warns)
			}
			wantRows := []int{1, 2, 4}
			if tc.o.NoRefs {
				wantRows = []int{1, 2, 4} // an empty <row> still takes its number
			}
			if len(recs) != 3 {
				t.Fatalf("got %d records: %+v", len(recs), recs)
			}
			for i, rec := range recs {
				if rec.Row != wantRows[i] {
					t.Errorf("record %d row %d, want %d", i, rec.Row, wantRows[i])
				}
			}
			assertItem(t, recs[0].Item, Item{Row: 1, ItemExternalID: "P-1", RecipientType: "IBAN", RecipientInfo: "TR330006100519786457841326",
				RecipientName: "Şükrü Öztürk", Amount: decimal.New(123456, -2), Currency: "TRY", Description: "Ocak maaşı"})
			assertItem(t, recs[1].Item, Item{Row: 2, ItemExternalID: "2", RecipientType: "IDENTITY_NUMBER", RecipientInfo: "17291716060",
				RecipientName: "İsmail Işık", Amount: decimal.New(123450, -2), Currency: "TRY", NonWithdrawable: true})
			if got := codes(recs[2]); !slices.Equal(got, []string{CodeInvalidPhone, CodeAmountScale}) {
				t.Fatalf("row 4 codes %v: %v", got, recs[2].Errors)
			}
			sheetRow := 5 + tc.o.FirstRow - 1
			if tc.o.FirstRow == 0 {
				sheetRow = 5
			}
			for i, col := range []string{"C", "E"} {
				want := "row 4, " + recs[2].Errors[i].Column + " (cell " + col + itoa(sheetRow) + "): "
				if tc.o.NoRefs {
					want = "row 4, " + recs[2].Errors[i].Column + " (cell " + col + "5): "
				}
				if !strings.HasPrefix(recs[2].Errors[i].Message, want) {
					t.Errorf("message %q, want prefix %q", recs[2].Errors[i].Message, want)
				}
			}
			if !strings.Contains(recs[2].Errors[0].Message, "format the column as Text") {
				t.Errorf("phone message %q", recs[2].Errors[0].Message)
			}
		})
	}
}

func itoa(n int) string { return decimal.New(int64(n), 0).String() }

func TestXLSXInputs(t *testing.T) {
	archive := payoutfiletest.XLSX(xlsxRows(), payoutfiletest.XLSXOptions{})
	path := filepath.Join(t.TempDir(), "p.xlsx")
	if err := os.WriteFile(path, archive, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, in := range map[string]io.Reader{
		"file":         f,
		"bytes.Reader": bytes.NewReader(archive),
		"stream":       io.MultiReader(bytes.NewReader(archive)), // spooled to a temporary file
	} {
		t.Run(name, func(t *testing.T) {
			r, err := NewReader(in, Options{Format: FormatXLSX, DecimalComma: true})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for {
				_, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				n++
			}
			if n != 3 {
				t.Errorf("read %d rows, want 3", n)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestXLSXWarnings(t *testing.T) {
	rows := [][]cell{
		payoutfiletest.Strings("recipient_type", "recipient_info", "amount", "currency", "Notlar"),
		{xS("MEMBER_ID"), xS("1"), xN("1"), xS("TRY"), xS("x"), {}, xS("stray")},
	}
	recs, warns, err := readXLSX(t, payoutfiletest.XLSX(rows, payoutfiletest.XLSXOptions{}), Options{})
	if err != nil || len(recs) != 1 || !recs[0].Valid() {
		t.Fatalf("recs %+v err %v", recs, err)
	}
	w := strings.Join(warns, "\n")
	for _, want := range []string{`"Notlar" (column E)`, "cell G2"} {
		if !strings.Contains(w, want) {
			t.Errorf("warnings %q lack %q", warns, want)
		}
	}
}

func TestXLSXFileErrors(t *testing.T) {
	good := payoutfiletest.XLSX(xlsxRows(), payoutfiletest.XLSXOptions{})
	sheet := func(body string) []byte {
		return payoutfiletest.ReplacePart(good, "xl/worksheets/sheet1.xml",
			`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`+body+`</sheetData></worksheet>`)
	}
	header := `<row r="1"><c r="A1" t="inlineStr"><is><t>recipient_type</t></is></c><c r="B1" t="inlineStr"><is><t>recipient_info</t></is></c><c r="C1" t="inlineStr"><is><t>amount</t></is></c><c r="D1" t="inlineStr"><is><t>currency</t></is></c></row>`
	row2 := `<row r="2"><c r="A2" t="inlineStr"><is><t>MEMBER_ID</t></is></c><c r="B2"><v>1</v></c><c r="C2"><v>1</v></c><c r="D2" t="inlineStr"><is><t>TRY</t></is></c></row>`
	for _, tc := range []struct {
		name    string
		archive []byte
		o       Options
		code    string
		rows    int
		msg     string
	}{
		{"empty", nil, Options{}, CodeEmptyFile, 0, "empty"},
		{"text", []byte("recipient_type,recipient_info\n"), Options{}, CodeBadXLSX, 0, "--format csv"},
		{"old xls", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest"), Options{}, CodeBadXLSX, 0, ".xls"},
		{"truncated zip", good[:len(good)/2], Options{}, CodeBadXLSX, 0, "damaged"},
		{"declared size bomb", payoutfiletest.LyingZip("xl/worksheets/sheet1.xml", 1<<40), Options{}, CodeBadXLSX, 0, "zip bomb"},
		{"declared ratio bomb", payoutfiletest.LyingZip("xl/worksheets/sheet1.xml", 100<<20), Options{}, CodeBadXLSX, 0, "compressed more than 100:1"},
		{"real ratio bomb", payoutfiletest.RatioBomb(80 << 20), Options{}, CodeBadXLSX, 0, "zip bomb"},
		{"too many entries", payoutfiletest.ManyEntries(1001), Options{}, CodeBadXLSX, 0, "1001 parts"},
		{"zip without a workbook", payoutfiletest.ManyEntries(3), Options{}, CodeBadXLSX, 0, "not an Excel workbook"},
		{"shared strings missing", payoutfiletest.ReplacePart(good, "xl/sharedStrings.xml", "-"), Options{}, CodeBadXLSX, 0, "shared string"},
		{"empty sheet", sheet(""), Options{}, CodeEmptyFile, 0, "first sheet is empty"},
		{"header only", sheet(header), Options{}, CodeNoRows, 0, "no data rows"},
		{"wrong header", sheet(row2), Options{}, CodeBadHeader, 0, "sheet row 2: the first row is not a header"},
		{"rows out of order", sheet(header + row2 + strings.Replace(row2, `r="2"`, `r="1"`, 1)), Options{}, CodeBadXLSX, 1, "after row 2"},
		{"broken XML", sheet(header + row2 + `<row r="3"><c r="A3"><v>1</c></row>`), Options{}, CodeBadXLSX, 1, "not valid XML"},
		{"unknown entity", sheet(header + `<row r="2"><c r="A2" t="inlineStr"><is><t>&xxe;</t></is></c></row>`), Options{}, CodeBadXLSX, 0, "not valid XML"},
		{"bad cell reference", sheet(header + `<row r="2"><c r="2A"><v>1</v></c></row>`), Options{}, CodeBadXLSX, 0, `"2A"`},
		{"huge cell", sheet(header + `<row r="2"><c r="A2" t="inlineStr"><is><t>` + strings.Repeat("a", 2<<20) + `</t></is></c></row>`), Options{}, CodeBadXLSX, 0, "larger than 1 MiB"},
		{"too many rows", sheet(header + row2 + strings.ReplaceAll(row2, "2", "3") + strings.ReplaceAll(row2, "2", "4")), Options{MaxRows: 2}, CodeTooManyRows, 2, "more than 2"},
		{"too large", good, Options{MaxFileBytes: 100}, CodeFileTooLarge, 0, "limit of 100 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, _, err := readXLSX(t, tc.archive, tc.o)
			checkFileError(t, recs, err, tc.code, tc.rows, tc.msg)
		})
	}
}

func TestXLSXStreamTooLarge(t *testing.T) {
	archive := payoutfiletest.XLSX(xlsxRows(), payoutfiletest.XLSXOptions{})
	_, err := NewReader(io.MultiReader(bytes.NewReader(archive)), Options{Format: FormatXLSX, MaxFileBytes: 100})
	if got := fileErrorCode(t, err); got != CodeFileTooLarge {
		t.Fatalf("error %v, want FILE_TOO_LARGE", err)
	}
}
