package payoutfiletest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"strings"
)

// Run is a stretch of an archive part: Data repeated Count times.
type Run struct {
	Data  []byte
	Count int
}

// RepeatedXLSX writes to w a workbook whose first sheet's XML is the runs of sheet and whose
// shared strings are the runs of sst (no shared-strings part when sst is nil). Each distinct Data
// is compressed once and its compressed form repeated, so that parts of gigabytes take
// megabytes and no time to write; the archive declares their true sizes and CRCs.
func RepeatedXLSX(w io.Writer, sheet, sst []Run) error {
	zw := zip.NewWriter(w)
	for _, p := range fixedParts(XLSXOptions{SheetName: "Sheet1"}, sst != nil, false) {
		pw, err := zw.Create(p.name)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(pw, p.body); err != nil {
			return err
		}
	}
	memo := map[string][]byte{}
	if err := writeRuns(zw, "xl/worksheets/sheet1.xml", sheet, memo); err != nil {
		return err
	}
	if sst != nil {
		if err := writeRuns(zw, "xl/sharedStrings.xml", sst, memo); err != nil {
			return err
		}
	}
	return zw.Close()
}

// writeRuns writes one deflated entry made of runs. Every run's Data is compressed on its own and
// ends with a sync flush, so the compressed pieces can be concatenated and repeated; a final
// empty stored block ends the stream.
func writeRuns(zw *zip.Writer, name string, runs []Run, memo map[string][]byte) error {
	var crc uint32
	var size, csize uint64
	for _, r := range runs {
		c, ok := memo[string(r.Data)]
		if !ok {
			var b bytes.Buffer
			fw, _ := flate.NewWriter(&b, flate.BestCompression)
			fw.Write(r.Data)
			fw.Flush()
			c = b.Bytes()
			memo[string(r.Data)] = c
		}
		for range r.Count {
			crc = crc32.Update(crc, crc32.IEEETable, r.Data)
		}
		size += uint64(len(r.Data) * r.Count)
		csize += uint64(len(c) * r.Count)
	}
	final := []byte{1, 0, 0, 0xff, 0xff}
	pw, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: crc,
		CompressedSize64: csize + uint64(len(final)), UncompressedSize64: size})
	if err != nil {
		return err
	}
	for _, r := range runs {
		c := memo[string(r.Data)]
		for range r.Count {
			if _, err := pw.Write(c); err != nil {
				return err
			}
		}
	}
	_, err = pw.Write(final)
	return err
}

// noisyText returns n bytes of lowercase text that deflate compresses a little less than a
// readers' 100:1 compression-ratio check allows (about 90:1 with every 200, 60:1 with every 100):
// runs of "a" with a pseudo-random letter every so many bytes.
func noisyText(n, every int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 11))
	b := bytes.Repeat([]byte("a"), n)
	for i := 0; i < n; i += every {
		b[i] = byte('a' + r.IntN(26))
	}
	return b
}

const (
	sheetStart = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`
	sheetEnd  = `</sheetData></worksheet>`
	headerRow = `<row r="1"><c r="A1" t="inlineStr"><is><t>recipient_type</t></is></c><c r="B1" t="inlineStr"><is><t>recipient_info</t></is></c>` +
		`<c r="C1" t="inlineStr"><is><t>amount</t></is></c><c r="D1" t="inlineStr"><is><t>currency</t></is></c></row>`
)

// commentSplit returns about n bytes of cell text split by empty XML comments every 120 bytes:
// the text a reader sees as one value, arriving as thousands of tokens. It is 64 KiB of text
// repeated.
func commentSplit(n int64) Run {
	var b bytes.Buffer
	text := noisyText(64<<10, 200)
	for i := 0; i+120 <= len(text); i += 120 {
		b.Write(text[i : i+120])
		b.WriteString("<!---->")
	}
	return Run{Data: b.Bytes(), Count: int(max(1, n/int64(b.Len())))}
}

// CommentSplitCells writes a workbook whose data row holds cells inline-string cells (columns A
// on, without references), each of about cellBytes of text split by XML comments: the memory
// bomb of a reader that joins a cell's text before limiting it, or keeps all of a row's cells.
func CommentSplitCells(w io.Writer, cellBytes int64, cells int) error {
	runs := []Run{{Data: []byte(sheetStart + headerRow + `<row r="2">`), Count: 1}}
	for range cells {
		runs = append(runs, Run{Data: []byte(`<c t="inlineStr"><is><t>`), Count: 1}, commentSplit(cellBytes), Run{Data: []byte(`</t></is></c>`), Count: 1})
	}
	runs = append(runs, Run{Data: []byte(`</row>` + sheetEnd), Count: 1})
	return RepeatedXLSX(w, runs, nil)
}

// CommentSplitSharedString writes a workbook whose shared-strings table holds one string of
// about n bytes split by XML comments, used by the first cell of the data row.
func CommentSplitSharedString(w io.Writer, n int64) error {
	sheet := []Run{{Data: []byte(sheetStart + headerRow +
		`<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>0</v></c><c r="C2"><v>1</v></c><c r="D2" t="s"><v>0</v></c></row>` + sheetEnd), Count: 1}}
	sst := []Run{
		{Data: []byte(`<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>`), Count: 1},
		commentSplit(n),
		{Data: []byte(`</t></si></sst>`), Count: 1},
	}
	return RepeatedXLSX(w, sheet, sst)
}

// InflatingSheet writes a workbook whose first sheet is about n bytes of valid payout rows
// (without references, each with a comment of noisy text), compressed about 70:1: under a
// compression-ratio check, it costs a reader the time to parse n bytes.
func InflatingSheet(w io.Writer, n int64) error {
	var b bytes.Buffer
	text := noisyText(64<<10, 100)
	for i := 0; i+200 <= len(text); i += 200 {
		b.WriteString(`<row><c t="inlineStr"><is><t>MEMBER_ID</t></is></c><c><v>2228853</v></c><c><v>10.50</v></c><c t="inlineStr"><is><t>TRY</t></is></c></row><!--`)
		b.Write(text[i : i+200])
		b.WriteString(`-->`)
	}
	return RepeatedXLSX(w, []Run{
		{Data: []byte(sheetStart + headerRow), Count: 1},
		{Data: b.Bytes(), Count: int(max(1, n/int64(b.Len())))},
		{Data: []byte(sheetEnd), Count: 1},
	}, nil)
}

// BackwardsColumns writes a workbook whose data row holds pairs cell pairs B2, A2, B2, A2, …:
// column references going back, each cell with cellBytes of text. A reader that keeps the cells
// of a row, or lets a later cell overwrite an earlier one, holds all of them.
func BackwardsColumns(w io.Writer, pairs, cellBytes int) error {
	text := string(noisyText(cellBytes, 200))
	pair := `<c r="B2" t="inlineStr"><is><t>` + text + `</t></is></c><c r="A2" t="inlineStr"><is><t>` + text + `</t></is></c>`
	return RepeatedXLSX(w, []Run{
		{Data: []byte(sheetStart + headerRow + `<row r="2">`), Count: 1},
		{Data: []byte(pair), Count: pairs},
		{Data: []byte(`</row>` + sheetEnd), Count: 1},
	}, nil)
}

// WideCSV returns a CSV file as a stream: a header of the four required columns followed by
// columns-4 unnamed ones (one delimiter each), then one row of about rowBytes: four values and
// delimiters only, each delimiter another field. A reader that sizes its line limit by the
// header, or splits a whole line, holds a slice entry per delimiter.
func WideCSV(columns int, rowBytes int64) io.Reader {
	header := "recipient_type,recipient_info,amount,currency" + strings.Repeat(",", max(columns-4, 0)) + "\n"
	row := "MEMBER_ID,2228853,10,TRY"
	return io.MultiReader(strings.NewReader(header+row), &repeatReader{b: bytes.Repeat([]byte(","), 64<<10), left: rowBytes - int64(len(row))}, strings.NewReader("\n"))
}

// repeatReader delivers left bytes of b, repeated.
type repeatReader struct {
	b    []byte
	left int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.left > 0 {
		k := copy(p[n:], r.b[:min(int64(len(r.b)), r.left)])
		n += k
		r.left -= int64(k)
	}
	return n, nil
}
