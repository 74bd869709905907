// Package payoutfiletest builds payout files for tests: small XLSX workbooks written with the
// standard library, in the shapes Excel and other tools produce, and hostile archives.
package payoutfiletest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Cell is one cell of a test sheet. The zero Cell is an empty cell (not written).
type Cell struct {
	Text   string
	Kind   Kind
	Inline bool // an inline string (t="inlineStr") instead of a shared string
	// Formula, for a Number cell, is written as the cell's <f> before Text, its cached result, as
	// Excel saves a formula (Text "" writes a formula without a result, as programs that do not
	// calculate do).
	Formula string
	// Style is the cell's s attribute, an index into the workbook's cell formats: StyleGeneral,
	// StylePercent or StyleDate.
	Style int
	// LibreOffice writes a Number cell as LibreOffice Calc does: t="n", and aca="false" on <f>.
	LibreOffice bool
}

// Cell formats of the workbooks XLSX writes (xl/styles.xml), for Cell.Style.
const (
	StyleGeneral = 0 // General
	StylePercent = 1 // 0.00%: a cell showing 15.00% holds 0.15
	StyleDate    = 2 // the built-in short date (numFmtId 14): the cell holds a date serial, 46053 for 2026-01-31
)

// Kind is how a cell stores its value.
type Kind int

// Cell kinds.
const (
	String  Kind = iota // shared or inline string
	Number              // numeric cell: Text is the number's exact text, as in <v>
	Bool                // t="b": Text is "1" or "0"
	Formula             // t="str": a formula's cached text result
)

// S is a string cell.
func S(text string) Cell { return Cell{Text: text} }

// N is a number cell holding exactly text.
func N(text string) Cell { return Cell{Text: text, Kind: Number} }

// F is a number cell with a formula and its cached result as Excel writes it, such as
// F("C2*D2", "82436.039999999994").
func F(formula, result string) Cell { return Cell{Text: result, Kind: Number, Formula: formula} }

// Strings turns a row of texts into string cells; "" stays an empty cell.
func Strings(texts ...string) []Cell {
	row := make([]Cell, len(texts))
	for i, t := range texts {
		if t != "" {
			row[i] = S(t)
		}
	}
	return row
}

// XLSXOptions vary how a workbook is written, to exercise readers.
type XLSXOptions struct {
	Prefix       string // namespace prefix for sheet elements, such as "x" (Open XML SDK style)
	NoRefs       bool   // omit the r attributes of rows and cells
	FirstRow     int    // sheet row of the first row; default 1
	RichText     bool   // write shared strings as rich-text runs with a phonetic run
	SheetName    string // default "Sheet1"
	AbsoluteRels bool   // relationship targets as absolute paths (/xl/worksheets/sheet1.xml)
}

// XLSX returns a workbook whose first sheet holds rows; it has a styles part when a cell has a
// Style.
func XLSX(rows [][]Cell, o XLSXOptions) []byte {
	if o.FirstRow == 0 {
		o.FirstRow = 1
	}
	if o.SheetName == "" {
		o.SheetName = "Sheet1"
	}
	p := ""
	if o.Prefix != "" {
		p = o.Prefix + ":"
	}
	var sst []string
	index := map[string]int{}
	styled := false // a cell has a Style: the workbook gets xl/styles.xml
	var sheet strings.Builder
	ns := `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
	if o.Prefix != "" {
		ns = `xmlns:` + o.Prefix + `="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
	}
	fmt.Fprintf(&sheet, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"+`<%sworksheet %s><%ssheetData>`, p, ns, p)
	for i, row := range rows {
		r := o.FirstRow + i
		if o.NoRefs {
			fmt.Fprintf(&sheet, `<%srow>`, p)
		} else {
			fmt.Fprintf(&sheet, `<%srow r="%d">`, p, r)
		}
		for j, c := range row {
			if c == (Cell{}) {
				if o.NoRefs {
					fmt.Fprintf(&sheet, `<%sc/>`, p)
				}
				continue
			}
			ref := ""
			if !o.NoRefs {
				ref = fmt.Sprintf(` r="%s%d"`, Column(j), r)
			}
			if c.Style != 0 {
				ref += fmt.Sprintf(` s="%d"`, c.Style)
				styled = true
			}
			switch {
			case c.Kind == Number:
				typ, aca := "", ""
				if c.LibreOffice {
					typ, aca = ` t="n"`, ` aca="false"`
				}
				fmt.Fprintf(&sheet, `<%sc%s%s>`, p, ref, typ)
				if c.Formula != "" {
					fmt.Fprintf(&sheet, `<%sf%s>%s</%sf>`, p, aca, esc(c.Formula), p)
				}
				if c.Text != "" {
					fmt.Fprintf(&sheet, `<%sv>%s</%sv>`, p, esc(c.Text), p)
				}
				fmt.Fprintf(&sheet, `</%sc>`, p)
			case c.Kind == Bool:
				fmt.Fprintf(&sheet, `<%sc%s t="b"><%sv>%s</%sv></%sc>`, p, ref, p, esc(c.Text), p, p)
			case c.Kind == Formula:
				fmt.Fprintf(&sheet, `<%sc%s t="str"><%sf>CONCAT("a")</%sf><%sv>%s</%sv></%sc>`, p, ref, p, p, p, esc(c.Text), p, p)
			case c.Inline:
				fmt.Fprintf(&sheet, `<%sc%s t="inlineStr"><%sis><%st xml:space="preserve">%s</%st></%sis></%sc>`, p, ref, p, p, esc(c.Text), p, p, p)
			default:
				k, ok := index[c.Text]
				if !ok {
					k = len(sst)
					index[c.Text] = k
					sst = append(sst, c.Text)
				}
				fmt.Fprintf(&sheet, `<%sc%s t="s"><%sv>%d</%sv></%sc>`, p, ref, p, k, p, p)
			}
		}
		fmt.Fprintf(&sheet, `</%srow>`, p)
	}
	fmt.Fprintf(&sheet, `</%ssheetData></%sworksheet>`, p, p)

	parts := slices.Insert(fixedParts(o, true, styled), 4, part{"xl/worksheets/sheet1.xml", sheet.String()})
	var ss strings.Builder
	fmt.Fprintf(&ss, `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">`, len(sst), len(sst))
	for _, s := range sst {
		if o.RichText && len(s) > 1 {
			half := len(s) / 2
			for half < len(s) && !utf8Start(s[half]) {
				half++
			}
			fmt.Fprintf(&ss, `<si><r><t xml:space="preserve">%s</t></r><r><rPr><b/></rPr><t xml:space="preserve">%s</t></r><rPh sb="0" eb="1"><t>ふりがな</t></rPh></si>`, esc(s[:half]), esc(s[half:]))
			continue
		}
		fmt.Fprintf(&ss, `<si><t xml:space="preserve">%s</t></si>`, esc(s))
	}
	ss.WriteString(`</sst>`)
	parts = append(parts, part{"xl/sharedStrings.xml", ss.String()})
	if styled {
		parts = append(parts, part{"xl/styles.xml", stylesPart})
	}

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, part := range parts {
		w, err := zw.Create(part.name)
		if err != nil {
			panic(err) // writing to memory cannot fail
		}
		io.WriteString(w, part.body)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

type part struct{ name, body string }

// stylesPart holds the cell formats of Cell.Style, as Excel writes them: General, a percentage
// with two decimals and the built-in short date.
const stylesPart = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>`

// fixedParts returns the parts of a workbook but its first sheet and shared strings: content
// types, relationships, the workbook (a first sheet and a second one) and, fifth, the second
// sheet. The
// workbook's relationships name a shared-strings part when withSST.
func fixedParts(o XLSXOptions, withSST, withStyles bool) []part {
	target := func(t string) string {
		if o.AbsoluteRels {
			return "/xl/" + t
		}
		return t
	}
	stylesType, stylesRel := "", ""
	if withStyles {
		stylesType = `<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>`
		stylesRel = `<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="` + target("styles.xml") + `"/>`
	}
	sstRel := ""
	if withSST {
		sstRel = `<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="` + target("sharedStrings.xml") + `"/>`
	}
	return []part{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>` + stylesType + `</Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="` + esc(o.SheetName) + `" sheetId="1" r:id="rId1"/><sheet name="Other" sheetId="2" r:id="rId9"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="` + target("worksheets/sheet1.xml") + `"/><Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="` + target("worksheets/sheet2.xml") + `"/>` + stylesRel + sstRel + `</Relationships>`},
		{"xl/worksheets/sheet2.xml", `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>not this sheet</t></is></c></row></sheetData></worksheet>`},
	}
}

func utf8Start(b byte) bool { return b&0xc0 != 0x80 }

// Column returns the letters of a 0-based column: 0 → A, 26 → AA.
func Column(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// LyingZip returns a ZIP archive with one entry, name, whose directory declares declared bytes
// uncompressed while it holds only a little data: what a zip bomb looks like before extraction.
func LyingZip(name string, declared uint64) []byte {
	var body bytes.Buffer
	fw, _ := flate.NewWriter(&body, flate.BestCompression)
	data := bytes.Repeat([]byte("0"), 4096)
	fw.Write(data)
	fw.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(data),
		CompressedSize64: uint64(body.Len()), UncompressedSize64: declared,
	})
	if err != nil {
		panic(err)
	}
	w.Write(body.Bytes())
	zw.Close()
	return buf.Bytes()
}

// ManyEntries returns a ZIP archive with n empty entries.
func ManyEntries(n int) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < n; i++ {
		zw.Create("xl/part" + strconv.Itoa(i) + ".xml")
	}
	zw.Close()
	return buf.Bytes()
}

// ReplacePart returns a copy of the archive with the part name's content replaced by body (or
// added), and the part removed when body is "-".
func ReplacePart(archive []byte, name, body string) []byte {
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		panic(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	found := false
	for _, f := range zr.File {
		if f.Name == name {
			found = true
			if body == "-" {
				continue
			}
			w, _ := zw.Create(name)
			io.WriteString(w, body)
			continue
		}
		w, _ := zw.Create(f.Name)
		rc, err := f.Open()
		if err != nil {
			panic(err)
		}
		io.Copy(w, rc)
		rc.Close()
	}
	if !found && body != "-" {
		w, _ := zw.Create(name)
		io.WriteString(w, body)
	}
	zw.Close()
	return buf.Bytes()
}

// RatioBomb returns a workbook whose first sheet part inflates n zero bytes from very little
// compressed data.
func RatioBomb(n int64) []byte {
	archive := XLSX([][]Cell{Strings("recipient_type")}, XLSXOptions{})
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		panic(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		w, _ := zw.Create(f.Name)
		if f.Name == "xl/worksheets/sheet1.xml" {
			zeros := make([]byte, 1<<20)
			for left := n; left > 0; left -= int64(len(zeros)) {
				w.Write(zeros[:min(left, int64(len(zeros)))])
			}
			continue
		}
		rc, _ := f.Open()
		io.Copy(w, rc)
		rc.Close()
	}
	zw.Close()
	return buf.Bytes()
}
