package payoutfile

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

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
			// 1234.5599999999999 is the double Excel shows as 1234.56.
			if got := codes(recs[2]); !slices.Equal(got, []string{CodeInvalidPhone}) || !recs[2].AmountOK || recs[2].Item.Amount.String() != "1234.56" {
				t.Fatalf("row 4 codes %v, amount %s (ok %v): %v", got, recs[2].Item.Amount, recs[2].AmountOK, recs[2].Errors)
			}
			sheetRow := 5 + tc.o.FirstRow - 1
			if tc.o.FirstRow == 0 {
				sheetRow = 5
			}
			if tc.o.NoRefs {
				sheetRow = 5
			}
			want := "row 4 (cell C" + itoa(sheetRow) + ", ID P-4), recipient_info: "
			if e := recs[2].Errors[0]; !strings.HasPrefix(e.Message, want) || e.Line != sheetRow || e.Cell != "C"+itoa(sheetRow) || e.ItemExternalID != "P-4" {
				t.Errorf("error %+v, want message prefix %q, line %d, cell C%d, ID P-4", e, want, sheetRow, sheetRow)
			}
			if recs[2].Line != sheetRow {
				t.Errorf("record line %d, want sheet row %d", recs[2].Line, sheetRow)
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
		{"huge cell", sheet(header + `<row r="2"><c r="A2" t="inlineStr"><is><t>` + strings.Repeat("a", 2<<20) + `</t></is></c></row>`), Options{}, CodeBadXLSX, 0, "cell A2 holds more than 256 KiB of text and markup"},
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

// limitsSheet returns a workbook with the header recipient_type, recipient_info, amount,
// currency, description, recipient_name, notes (columns A to G), the sheet rows body after it,
// and the shared strings sst (nil: none used).
func limitsSheet(body string, sst []string) []byte {
	header := `<row r="1">`
	for i, name := range []string{"recipient_type", "recipient_info", "amount", "currency", "description", "recipient_name", "notes"} {
		header += `<c r="` + payoutfiletest.Column(i) + `1" t="inlineStr"><is><t>` + name + `</t></is></c>`
	}
	archive := payoutfiletest.ReplacePart(payoutfiletest.XLSX(xlsxRows(), payoutfiletest.XLSXOptions{}), "xl/worksheets/sheet1.xml",
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`+header+`</row>`+body+`</sheetData></worksheet>`)
	if sst != nil {
		archive = payoutfiletest.ReplacePart(archive, "xl/sharedStrings.xml",
			`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`+strings.Join(sst, "")+`</sst>`)
	}
	return archive
}

// split returns text of n bytes of s repeated, split by XML comments and an entity every 100
// bytes, as one cell's text arrives in many tokens.
func split(s string, n int) string {
	text := strings.Repeat(s, n/len(s))
	var b strings.Builder
	for i := 0; i < len(text); {
		j := min(i+100, len(text))
		for j < len(text) && !utf8.RuneStart(text[j]) {
			j++
		}
		b.WriteString(text[i:j])
		b.WriteString("<!-- a comment -->&amp;")
		i = j
	}
	return b.String()
}

func TestXLSXCellCut(t *testing.T) {
	const row = `<c r="A2" t="inlineStr"><is><t>MEMBER_ID</t></is></c><c r="B2"><v>1</v></c><c r="C2"><v>1</v></c><c r="D2" t="inlineStr"><is><t>TRY</t></is></c>`
	long := split("Maaş ", 5000)
	for _, tc := range []struct {
		name  string
		cells string
		sst   []string
		col   string // the column refused, "" for a valid row
		cell  string
	}{
		{"inline, split by comments", `<c r="E2" t="inlineStr"><is><t>` + long + `</t></is></c>`, nil, "description", "E2"},
		{"inline rich text runs", `<c r="E2" t="inlineStr"><is>` + strings.Repeat(`<r><rPr><b/></rPr><t>abc&amp;def&#105;</t></r>`, 200) + `</is></c>`, nil, "description", "E2"},
		{"shared string split by comments", `<c r="F2" t="s"><v>1</v></c>`, []string{`<si><t>short</t></si>`, `<si><t>` + long + `</t></si>`}, "recipient_name", "F2"},
		{"shared string, rich text runs", `<c r="F2" t="s"><v>1</v></c>`, []string{`<si><t>short</t></si>`, `<si>` + strings.Repeat(`<r><t>Şükrü Öztürk</t></r>`, 200) + `</si>`}, "recipient_name", "F2"},
		{"short shared string", `<c r="F2" t="s"><v>0</v></c>`, []string{`<si><t>short</t></si>`, `<si>` + strings.Repeat(`<r><t>Şükrü Öztürk</t></r>`, 200) + `</si>`}, "", ""},
		{"unknown column", `<c r="G2" t="inlineStr"><is><t>` + long + `</t></is></c>`, nil, "", ""},
		{"number cell", `<c r="E2"><v>` + strings.Repeat("1", 3000) + `</v></c>`, nil, "description", "E2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, _, err := readXLSX(t, limitsSheet(`<row r="2">`+row+tc.cells+`</row>`, tc.sst), Options{})
			if err != nil || len(recs) != 1 {
				t.Fatalf("records %+v, error %v", recs, err)
			}
			rec := recs[0]
			for _, v := range []string{rec.Item.Description, rec.Item.RecipientName} {
				if len(v) > DefaultMaxFieldBytes || !utf8.ValidString(v) {
					t.Errorf("kept a value of %d bytes (valid UTF-8: %v)", len(v), utf8.ValidString(v))
				}
			}
			if tc.col == "" {
				if !rec.Valid() {
					t.Fatalf("row refused: %v", rec.Errors)
				}
				return
			}
			if got := codes(rec); !slices.Equal(got, []string{CodeFieldTooLong}) || rec.Errors[0].Column != tc.col {
				t.Fatalf("errors %+v, want one FIELD_TOO_LONG in %s", rec.Errors, tc.col)
			}
			want := "row 1 (cell " + tc.cell + "), " + tc.col + ": is longer than 1024 bytes, the most one cell may hold; shorten it"
			if rec.Errors[0].Message != want {
				t.Errorf("message %q, want %q", rec.Errors[0].Message, want)
			}
		})
	}
}

func TestXLSXColumnLimits(t *testing.T) {
	const valid = `<c r="A2" t="inlineStr"><is><t>MEMBER_ID</t></is></c><c r="B2"><v>1</v></c><c r="C2"><v>1</v></c><c r="D2" t="inlineStr"><is><t>TRY</t></is></c>`
	// Empty (styled) cells may go as far as Excel's last column; they hold nothing.
	recs, _, err := readXLSX(t, limitsSheet(`<row r="2">`+valid+`<c r="IW2" s="1"/><c r="XFD2" s="1"></c></row>`, nil), Options{})
	if err != nil || len(recs) != 1 || !recs[0].Valid() {
		t.Fatalf("empty cells beyond column IV: records %+v, error %v", recs, err)
	}
	noRefs := strings.Repeat(`<c t="inlineStr"><is><t>x</t></is></c>`, MaxColumns+1)
	for _, tc := range []struct{ name, body, msg string }{
		{"value beyond column IV", `<row r="2">` + valid + `<c r="IW2" t="inlineStr"><is><t>x</t></is></c></row>`, "cell IW2 has a value beyond column IV, the last of the 256 columns"},
		{"value beyond column IV in the header", "", "cell IW1 has a value beyond column IV"},
		{"cells without references past column IV", `<row r="2">` + noRefs + `</row>`, "cell IW2 has a value beyond column IV"},
		{"columns going back", `<row r="2"><c r="B2"><v>1</v></c><c r="A2"><v>1</v></c></row>`, `sheet row 2: cell "A2" comes after cell B2`},
		{"column repeated", `<row r="2"><c r="A2"><v>1</v></c><c r="A2"><v>1</v></c></row>`, `sheet row 2: cell "A2" comes after cell A2`},
		{"reference going back to an implicit column", `<row r="2"><c><v>1</v></c><c><v>1</v></c><c r="B2"><v>1</v></c></row>`, `cell "B2" comes after cell B2`},
		{"nested too deep", `<row r="2">` + strings.Repeat("<x>", 100) + strings.Repeat("</x>", 100) + `</row>`, "XML elements nest more than 64 deep"},
		{"cell too large", `<row r="2"><c r="A2" t="inlineStr"><is><t>` + split("a", 300<<10) + `</t></is></c></row>`, "cell A2 holds more than 256 KiB of text and markup"},
		{"comment too large", `<!--` + strings.Repeat("a", 300<<10) + `-->`, "an XML element or comment is larger than 256 KiB"},
		{"shared string too large", `<row r="2"><c r="A2" t="s"><v>0</v></c></row>`, "shared string 1 of the workbook holds more than 256 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			archive := limitsSheet(tc.body, nil)
			switch tc.name {
			case "value beyond column IV in the header":
				archive = payoutfiletest.ReplacePart(archive, "xl/worksheets/sheet1.xml",
					`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="IW1" t="inlineStr"><is><t>amount</t></is></c></row></sheetData></worksheet>`)
			case "shared string too large":
				archive = limitsSheet(tc.body, []string{`<si><t>` + split("a", 300<<10) + `</t></si>`})
			}
			recs, _, err := readXLSX(t, archive, Options{})
			checkFileError(t, recs, err, CodeBadXLSX, 0, tc.msg)
		})
	}
}

func TestXLSXInflatedLimits(t *testing.T) {
	var b bytes.Buffer
	if err := payoutfiletest.InflatingSheet(&b, maxXLSXSheetBytes+1<<20); err != nil {
		t.Fatal(err)
	}
	recs, _, err := readXLSX(t, b.Bytes(), Options{})
	checkFileError(t, recs, err, CodeBadXLSX, 0, "the workbook's first sheet: larger than 1 GiB uncompressed, the limit")

	// Counted as it is decompressed, whatever the archive declares.
	p := &partReader{rc: io.NopCloser(strings.NewReader(strings.Repeat("x", 100))), left: 99}
	if n, err := io.Copy(io.Discard, p); err != errPartTooLarge || n > 99 {
		t.Errorf("partReader read %d bytes, error %v; want at most 99 and errPartTooLarge", n, err)
	}
	p = &partReader{rc: io.NopCloser(strings.NewReader(strings.Repeat("x", 100))), left: 100}
	if n, err := io.Copy(io.Discard, p); err != nil || n != 100 {
		t.Errorf("partReader read %d bytes, error %v; want 100 and no error", n, err)
	}
}

// sstPart returns the shared-strings part of a workbook holding entries.
func sstPart(t *testing.T, entries ...string) *zip.File {
	t.Helper()
	archive := limitsSheet("", []string{strings.Join(entries, "")})
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == "xl/sharedStrings.xml" {
			return f
		}
	}
	t.Fatal("no shared strings")
	return nil
}

func TestSharedStringsLimits(t *testing.T) {
	lim := sstLimits{item: 4, xml: 1 << 10, text: 20, count: 5, bytes: 1 << 20}
	s, err := readSharedStrings(sstPart(t, `<si><t>ab</t></si>`, `<si><r><t>abc</t></r><r><t>defgh</t></r><rPh><t>x</t></rPh></si>`, `<si/>`, `<si><t>ş</t><t>şş</t></si>`), lim)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		v    string
		long bool
	}{{"ab", false}, {"abcd", true}, {"", false}, {"şş", true}} {
		if v, long, ok := s.get(i); !ok || v != want.v || long != want.long {
			t.Errorf("entry %d = %q, long %v, ok %v; want %q, long %v", i, v, long, ok, want.v, want.long)
		}
	}
	if _, _, ok := s.get(4); ok {
		t.Error("entry 4 exists")
	}
	for _, tc := range []struct {
		name    string
		entries []string
		lim     sstLimits
		msg     string
	}{
		{"too many", slices.Repeat([]string{`<si><t>a</t></si>`}, 6), lim, "more than 5 shared strings, the limit"},
		{"too much text", slices.Repeat([]string{`<si><t>abcd</t></si>`}, 5), sstLimits{item: 4, xml: 1 << 10, text: 19, count: 5, bytes: 1 << 20}, "more than 19 bytes of text, the limit"},
		{"one too large", []string{`<si><t>` + strings.Repeat("a", 2000) + `</t></si>`}, lim, "shared string 1 of the workbook holds more than 1 KiB of text and markup"},
		{"part too large", []string{`<si><t>` + strings.Repeat("a", 200) + `</t></si>`}, sstLimits{item: 4, xml: 1 << 10, text: 20, count: 5, bytes: 100}, "the workbook's shared strings: larger than 100 bytes uncompressed"},
		{"nested too deep", []string{strings.Repeat("<x>", 70) + strings.Repeat("</x>", 70)}, lim, "nest more than 64 deep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readSharedStrings(sstPart(t, tc.entries...), tc.lim)
			checkFileError(t, nil, err, CodeBadXLSX, 0, tc.msg)
		})
	}
}

func TestSharedStringsBlocks(t *testing.T) {
	// Entries of 700 KiB fill 2 MiB blocks two at a time; empty ones sit at block ends.
	var entries, want []string
	for i := range 9 {
		v := strings.Repeat(string(rune('a'+i)), 700<<10)
		if i%3 == 2 {
			v = ""
		}
		want = append(want, v)
		entries = append(entries, `<si><t>`+v+`</t></si>`)
	}
	s, err := readSharedStrings(sstPart(t, entries...), sstLimits{item: 1 << 20, xml: 2 << 20, text: 32 << 20, count: 100, bytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.blocks) < 3 {
		t.Errorf("%d blocks, want the entries spread over several", len(s.blocks))
	}
	for i, w := range want {
		if v, long, ok := s.get(i); !ok || v != w || long {
			t.Errorf("entry %d: %d bytes %.5q…, long %v, ok %v; want %d bytes %.5q…", i, len(v), v, long, ok, len(w), w)
		}
	}
}
