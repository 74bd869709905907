package payoutfile

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of an XLSX workbook. The archive's directory is checked before anything is extracted;
// the parts are then decompressed through counters that stop at the same sizes whatever the
// directory declared, and decoded token by token with a budget per cell, per shared string and
// per token elsewhere, so that no input can make the reader hold more than these.
const (
	maxXLSXEntries    = 1000
	maxXLSXTotalBytes = 8 << 30  // declared uncompressed, all entries
	maxXLSXRatio      = 100      // declared uncompressed : compressed, ...
	maxXLSXRatioFloor = 64 << 20 // ... for entries declaring more than this
	maxXLSXSmallPart  = 4 << 20  // workbook and relationship parts, uncompressed
	maxXLSXColumns    = 16384    // Excel's limit, column XFD: empty cells may go as far
	// maxXLSXSheetBytes bounds the first sheet's XML, uncompressed: a full Excel sheet of payout
	// rows (1,048,576 rows of eight columns) takes roughly 300 MiB with shared strings, twice that
	// with inline strings.
	maxXLSXSheetBytes = 1 << 30
	// maxSharedStringsBytes bounds sharedStrings.xml, uncompressed.
	maxSharedStringsBytes = 256 << 20
	// maxSharedStringsText bounds the text of all shared strings together, the one part of a
	// workbook held in memory: about 500,000 rows with their own ID, IBAN and name.
	maxSharedStringsText = 32 << 20
	// maxSharedStrings bounds the number of shared strings (4 bytes of index each).
	maxSharedStrings = 4 << 20
	// minCellXMLBytes is the least XML (text and markup) one cell or one shared string may take:
	// Excel's longest cell, 32,767 characters, fits. The limit is max(256 KiB, 4·MaxFieldBytes);
	// a cell or string over it stops the file at once, before the rest of it is read.
	minCellXMLBytes = 256 << 10
	// maxXLSXDepth bounds how deep XML elements nest (a sheet needs 7 levels).
	maxXLSXDepth = 64
)

// xlsxSource streams the first sheet of a workbook. Only the shared-strings table is held in
// memory (compactly: see sharedStrings); the sheet is decoded token by token. A cell's text is
// cut at Options.MaxFieldBytes as it accumulates, whatever comments, entities or rich-text runs
// split it into; a row keeps only the cells of known columns.
type xlsxSource struct {
	tmp       *os.File // spooled copy of an input without random access
	tmpGone   bool     // tmp is already unlinked
	sst       sharedStrings
	rc        io.ReadCloser
	dec       *xml.Decoder
	budget    *budgetReader
	depth     int // XML nesting at the decoder's position
	maxField  int
	hdr       header
	headerRow int // 0 while the header is read
	lastRow   int
	maxRows   int
	warn      func(string)
	cells     []xlsxCell // the row's non-empty cells: all of the header, known columns after it
	stray     int        // the first column without a header holding a value in the row, or -1
	filled    bool       // the row has a cell with a value, kept or not
	text      []byte     // the current cell's text, at most maxField (maxHeaderName) bytes
	long      bool       // the current cell's text was cut
	done      bool
}

type xlsxCell struct {
	col     int
	val     string
	numeric bool // a number cell (no t, or t="n"): a double, as Excel writes it
	long    bool // val is cut: the cell is longer than Options.MaxFieldBytes
	formula bool // the cell has a formula (<f>); with an empty val, one without a saved result
}

// maxHeaderName is the longest header cell kept; no column name is nearly as long.
const maxHeaderName = 1024

// sharedStrings is the workbook's string table. The text sits in blocks of up to 2 MiB, so that
// it grows without being copied; each entry is 4 bytes: where its text starts (block and offset),
// with sstLong set when the text was cut at the field limit. An entry ends where the next one in
// the same block starts, or at its block's end.
type sharedStrings struct {
	blocks []string
	starts []uint32
}

const (
	sstBlockShift = 21 // block size 2 MiB: offsets take 21 bits, blocks 10 (2 GiB of text)
	sstOffsetMask = 1<<sstBlockShift - 1
	sstLong       = 1 << 31
)

// get returns entry i; long reports that its text was cut at the field limit.
func (s *sharedStrings) get(i int) (v string, long, ok bool) {
	if i < 0 || i >= len(s.starts) {
		return "", false, false
	}
	p := s.starts[i]
	long, p = p&sstLong != 0, p&^sstLong
	b := s.blocks[p>>sstBlockShift]
	end := len(b)
	if i+1 < len(s.starts) {
		if q := s.starts[i+1] &^ sstLong; q>>sstBlockShift == p>>sstBlockShift {
			end = int(q & sstOffsetMask)
		}
	}
	return b[p&sstOffsetMask : end], long, true
}

func badXLSX(format string, args ...any) *FileError {
	return &FileError{Code: CodeBadXLSX, Message: fmt.Sprintf(format, args...)}
}

func newXLSXSource(r io.Reader, o Options, warn func(string)) (src source, err error) {
	x := &xlsxSource{maxRows: o.MaxRows, maxField: o.MaxFieldBytes, warn: warn, stray: -1}
	defer func() {
		if err != nil {
			x.close()
		}
	}()
	ra, size, err := x.random(r, o.MaxFileBytes)
	if err != nil {
		return nil, err
	}
	switch {
	case size == 0:
		return nil, &FileError{Code: CodeEmptyFile, Message: "the file is empty; export the workbook again"}
	case size > o.MaxFileBytes:
		return nil, &FileError{Code: CodeFileTooLarge, Message: fmt.Sprintf("the file is larger than the limit of %d bytes; split it into smaller files", o.MaxFileBytes)}
	}
	var magic [8]byte
	n, _ := ra.ReadAt(magic[:], 0)
	if !bytes.HasPrefix(magic[:n], []byte("PK\x03\x04")) {
		if bytes.HasPrefix(magic[:n], []byte("\xd0\xcf\x11\xe0")) {
			return nil, badXLSX("this is an old Excel .xls or a password-protected workbook; save it as .xlsx without a password, or as \"CSV UTF-8\"")
		}
		return nil, badXLSX("this is not an XLSX workbook (it is not a ZIP archive); if it is a CSV or JSON file, name it so or pass --format csv, jsonl or json")
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, badXLSX("the workbook is damaged (%v); save it again from Excel", err)
	}
	files, err := checkArchive(zr)
	if err != nil {
		return nil, err
	}
	sheet, sst, err := locateSheet(files)
	if err != nil {
		return nil, err
	}
	if err := checkPartSize(sheet, maxXLSXSheetBytes, "first sheet"); err != nil {
		return nil, err
	}
	cellBudget := max(minCellXMLBytes, 4*o.MaxFieldBytes)
	if sst != nil {
		lim := sstLimits{item: o.MaxFieldBytes, xml: cellBudget, text: maxSharedStringsText, count: maxSharedStrings, bytes: maxSharedStringsBytes}
		if x.sst, err = readSharedStrings(sst, lim); err != nil {
			return nil, err
		}
	}
	if x.rc, err = openPart(sheet, maxXLSXSheetBytes, "first sheet"); err != nil {
		return nil, err
	}
	x.budget = &budgetReader{r: x.rc, limit: cellBudget}
	x.dec = xml.NewDecoder(x.budget)
	if err := x.readHeader(); err != nil {
		return nil, err
	}
	return x, nil
}

// random returns r as an io.ReaderAt with its size, spooling it to a temporary file if needed.
func (x *xlsxSource) random(r io.Reader, maxBytes int64) (io.ReaderAt, int64, error) {
	switch v := r.(type) {
	case *os.File:
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() {
			return v, fi.Size(), nil
		}
	case interface {
		io.ReaderAt
		Size() int64
	}:
		return v, v.Size(), nil
	}
	f, err := os.CreateTemp("", "masspayout-*.xlsx")
	if err != nil {
		return nil, 0, fmt.Errorf("spool the workbook to a temporary file: %w", err)
	}
	x.tmp = f
	// Unlinked at once where the system allows it, so nothing is left behind even without Close.
	x.tmpGone = os.Remove(f.Name()) == nil
	n, err := io.Copy(f, io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("spool the workbook to a temporary file: %w", err)
	}
	return f, n, nil
}

// checkArchive refuses archives whose directory declares absurd sizes or counts, and indexes the
// entries by name.
func checkArchive(zr *zip.Reader) (map[string]*zip.File, error) {
	if len(zr.File) > maxXLSXEntries {
		return nil, badXLSX("the workbook has %d parts, more than the %d any payroll sheet needs; it may be a zip bomb, so it is refused", len(zr.File), maxXLSXEntries)
	}
	files := make(map[string]*zip.File, len(zr.File))
	var total uint64
	for _, f := range zr.File {
		u, c := f.UncompressedSize64, f.CompressedSize64
		total += u
		if total > maxXLSXTotalBytes || u > maxXLSXTotalBytes {
			return nil, badXLSX("the workbook declares more than %d GiB of content; it may be a zip bomb, so it is refused", maxXLSXTotalBytes>>30)
		}
		if u > maxXLSXRatioFloor && u/maxXLSXRatio > c {
			return nil, badXLSX("the workbook part %s is compressed more than %d:1 (%d to %d bytes); it may be a zip bomb, so it is refused", quote(f.Name), maxXLSXRatio, u, c)
		}
		if _, dup := files[f.Name]; !dup {
			files[f.Name] = f
		}
	}
	return files, nil
}

// errPartTooLarge is returned by partReader past its limit.
var errPartTooLarge = errors.New("part too large")

// partReader delivers a part's decompressed bytes and fails with errPartTooLarge once more than
// left bytes came out, whatever the archive declared.
type partReader struct {
	rc   io.ReadCloser
	left int64
}

func (p *partReader) Read(b []byte) (int, error) {
	if p.left < 0 {
		return 0, errPartTooLarge
	}
	if int64(len(b)) > p.left+1 {
		b = b[:p.left+1]
	}
	n, err := p.rc.Read(b)
	if p.left -= int64(n); p.left < 0 {
		return 0, errPartTooLarge
	}
	return n, err
}

func (p *partReader) Close() error { return p.rc.Close() }

// checkPartSize refuses a part whose directory entry declares more than limit bytes.
func checkPartSize(f *zip.File, limit int64, what string) error {
	if f.UncompressedSize64 > uint64(limit) {
		return partTooLarge(what, limit)
	}
	return nil
}

func partTooLarge(what string, limit int64) error {
	return badXLSX("the workbook's %s: larger than %s uncompressed, the limit; it may be a zip bomb, otherwise split the payroll into several files (or save it as \"CSV UTF-8\")", what, byteSize(limit))
}

// openPart checks a part's declared size and opens it behind a partReader of the same limit.
func openPart(f *zip.File, limit int64, what string) (io.ReadCloser, error) {
	if err := checkPartSize(f, limit, what); err != nil {
		return nil, err
	}
	rc, err := f.Open()
	if err != nil {
		return nil, badXLSX("the workbook's %s cannot be opened (%v); save it again from Excel", what, err)
	}
	return &partReader{rc: rc, left: limit}, nil
}

// locateSheet follows the package relationships to the workbook's first sheet and its shared
// strings (nil if it has none).
func locateSheet(files map[string]*zip.File) (sheet, sst *zip.File, err error) {
	wbPath := "xl/workbook.xml"
	if f := files["_rels/.rels"]; f != nil {
		err := readRels(f, func(rel xlsxRel) bool {
			if strings.HasSuffix(rel.Type, "/officeDocument") {
				wbPath = resolvePart("", rel.Target)
				return false
			}
			return true
		})
		if err != nil {
			return nil, nil, err
		}
	}
	wbFile := files[wbPath]
	if wbFile == nil {
		return nil, nil, badXLSX("this ZIP archive is not an Excel workbook (it has no %s); save the sheet as .xlsx from Excel", wbPath)
	}
	var name, rid string
	found, sheetsDepth := false, 0
	err = scanPart(wbFile, func(t xml.StartElement, depth int) bool {
		switch {
		case t.Name.Local == "sheets" && sheetsDepth == 0:
			sheetsDepth = depth
		case t.Name.Local == "sheet" && sheetsDepth > 0 && depth == sheetsDepth+1:
			found = true
			for _, a := range t.Attr {
				switch {
				case a.Name.Local == "name" && a.Name.Space == "":
					name = a.Value
				case a.Name.Local == "id" && a.Name.Space != "":
					rid = a.Value
				}
			}
			return false
		}
		return true
	})
	if err != nil {
		return nil, nil, err
	}
	if !found {
		return nil, nil, badXLSX("the workbook has no sheet; put the payroll on the first sheet")
	}
	dir, base := path.Split(wbPath)
	relsFile := files[dir+"_rels/"+base+".rels"]
	if relsFile == nil {
		return nil, nil, badXLSX("the workbook has no relationships part; save it again from Excel")
	}
	err = readRels(relsFile, func(rel xlsxRel) bool {
		switch {
		case rel.ID == rid && rel.Mode != "External" && sheet == nil:
			sheet = files[resolvePart(dir, rel.Target)]
		case strings.HasSuffix(rel.Type, "/sharedStrings") && sst == nil:
			sst = files[resolvePart(dir, rel.Target)]
		}
		return true
	})
	if err != nil {
		return nil, nil, err
	}
	if sheet == nil {
		return nil, nil, badXLSX("the workbook's first sheet %s cannot be found (it may be a chart sheet); put the payroll on the first sheet", quote(name))
	}
	return sheet, sst, nil
}

type xlsxRel struct {
	ID, Type, Target, Mode string
}

// readRels calls visit with each relationship of a relationships part until visit returns false.
func readRels(f *zip.File, visit func(xlsxRel) bool) error {
	return scanPart(f, func(t xml.StartElement, depth int) bool {
		if t.Name.Local != "Relationship" || depth != 2 {
			return true
		}
		var rel xlsxRel
		for _, a := range t.Attr {
			switch a.Name.Local {
			case "Id":
				rel.ID = a.Value
			case "Type":
				rel.Type = a.Value
			case "Target":
				rel.Target = a.Value
			case "TargetMode":
				rel.Mode = a.Value
			}
		}
		return visit(rel)
	})
}

// resolvePart resolves a relationship target against the folder of the part that owns it.
func resolvePart(dir, target string) string {
	if strings.HasPrefix(target, "/") {
		return path.Clean(target[1:])
	}
	return path.Clean(dir + target)
}

// scanPart streams a small part (workbook, relationships), calling visit with each start element
// and its depth (the root is 1) until visit returns false or the part ends. Nothing of the part
// is kept but what visit keeps.
func scanPart(f *zip.File, visit func(t xml.StartElement, depth int) bool) error {
	what := "part " + quote(f.Name)
	rc, err := openPart(f, maxXLSXSmallPart, what)
	if err != nil {
		return err
	}
	defer rc.Close()
	budget := &budgetReader{r: rc, limit: minCellXMLBytes}
	dec := xml.NewDecoder(budget)
	depth := 0
	for {
		budget.reset()
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return xmlError(what, err, budget.limit, maxXLSXSmallPart)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth++; depth > maxXLSXDepth {
				return tooDeep(what)
			}
			if !visit(t, depth) {
				return nil
			}
		case xml.EndElement:
			depth--
		}
	}
}

// sstLimits bound the shared-strings table (see the maxSharedStrings constants).
type sstLimits struct {
	item  int   // text of one string: longer ones are cut and marked sstLong
	xml   int   // XML of one <si> element (text and markup)
	text  int   // text of all strings together
	count int   // strings
	bytes int64 // sharedStrings.xml, uncompressed
}

// readSharedStrings loads the string table compactly, within lim. Rich-text runs are joined;
// phonetic runs (rPh) are left out.
func readSharedStrings(f *zip.File, lim sstLimits) (sharedStrings, error) {
	var s sharedStrings
	const what = "shared strings"
	rc, err := openPart(f, lim.bytes, what)
	if err != nil {
		return s, err
	}
	defer rc.Close()
	budget := &budgetReader{r: rc, limit: lim.xml}
	dec := xml.NewDecoder(budget)
	buf := make([]byte, 0, min(1<<sstBlockShift, f.UncompressedSize64))
	flush := func() {
		s.blocks = append(s.blocks, string(buf))
		buf = buf[:0]
	}
	var (
		depth, itemStart, total int
		start                   uint32
		inSI, inT, inRPh, long  bool
	)
	for {
		if !inSI {
			budget.reset()
		}
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			if inSI && errors.Is(err, errOverBudget) {
				return s, badXLSX("shared string %d of the workbook holds more than %s of text and markup, the limit for one cell's text; shorten the cell that uses it", len(s.starts)+1, byteSize(int64(lim.xml)))
			}
			return s, xmlError(what, err, lim.xml, lim.bytes)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth++; depth > maxXLSXDepth {
				return s, tooDeep(what)
			}
			switch t.Name.Local {
			case "sst":
				// uniqueCount sizes the index; it is only a hint, and one the file gives.
				if n, err := strconv.Atoi(attr(t, "uniqueCount")); err == nil && n > 0 && s.starts == nil {
					s.starts = make([]uint32, 0, min(n, lim.count, 1<<16))
				}
			case "si":
				if inSI {
					continue
				}
				if len(s.starts) >= lim.count {
					return s, badXLSX("the workbook has more than %d shared strings, the limit; split the payroll into several files (or save it as \"CSV UTF-8\")", lim.count)
				}
				if len(buf) > 0 && len(buf)+lim.item > 1<<sstBlockShift {
					flush()
				}
				inSI, long, itemStart = true, false, len(buf)
				start = uint32(len(s.blocks))<<sstBlockShift | uint32(len(buf))
			case "t":
				inT = inSI && !inRPh
			case "rPh":
				inRPh = true
			}
		case xml.EndElement:
			depth--
			switch t.Name.Local {
			case "si":
				if !inSI {
					continue
				}
				if total += len(buf) - itemStart; total > lim.text {
					return s, badXLSX("the workbook's shared strings hold more than %s of text, the limit; split the payroll into several files (or save it as \"CSV UTF-8\")", byteSize(int64(lim.text)))
				}
				if long {
					start |= sstLong
				}
				s.starts = append(s.starts, start)
				inSI, inT, inRPh = false, false, false
			case "t":
				inT = false
			case "rPh":
				inRPh = false
			}
		case xml.CharData:
			if inT {
				var cut bool
				buf, cut = appendCapped(buf, t, lim.item-(len(buf)-itemStart))
				long = long || cut
			}
		}
	}
	flush()
	return s, nil
}

// appendCapped appends at most room bytes of t to b, cut at a character boundary, and reports
// whether t was cut.
func appendCapped(b, t []byte, room int) ([]byte, bool) {
	if len(t) <= room {
		return append(b, t...), false
	}
	n := max(room, 0)
	for n > 0 && !utf8.RuneStart(t[n]) {
		n--
	}
	return append(b, t[:n]...), true
}

func tooDeep(what string) error {
	return badXLSX("the workbook's %s: XML elements nest more than %d deep, which no spreadsheet program writes; it is refused, save the workbook again from Excel", what, maxXLSXDepth)
}

// xmlError turns a decoding error of a part into a *FileError; budget is the most one token may
// take, limit the part's uncompressed size limit.
func xmlError(what string, err error, budget int, limit int64) error {
	switch {
	case errors.Is(err, errPartTooLarge):
		return partTooLarge(what, limit)
	case errors.Is(err, errOverBudget):
		return badXLSX("the workbook's %s: an XML element or comment is larger than %s, the limit; it is refused, save the workbook again from Excel", what, byteSize(int64(budget)))
	case errors.Is(err, zip.ErrFormat), errors.Is(err, zip.ErrChecksum), errors.Is(err, io.ErrUnexpectedEOF):
		return badXLSX("the workbook's %s: damaged (%v); save the workbook again from Excel", what, err)
	}
	return badXLSX("the workbook's %s: not valid XML (%v); save the workbook again from Excel", what, err)
}

// readHeader reads the first non-empty row as the header.
func (x *xlsxSource) readHeader() error {
	for {
		sheetRow, ok, err := x.readRow()
		if err != nil {
			return err
		}
		if !ok {
			return &FileError{Code: CodeEmptyFile, Message: "the workbook's first sheet is empty; put the header row and the payroll rows on the first sheet"}
		}
		if len(x.cells) == 0 {
			continue
		}
		// Cells come in column order, none beyond MaxColumns.
		names := make([]string, x.cells[len(x.cells)-1].col+1)
		for _, c := range x.cells {
			names[c.col] = c.val
		}
		h, fe := mapHeader(names, func(i int) string { return "column " + colLetters(i) }, x.warn)
		if fe != nil {
			fe.Message = fmt.Sprintf("sheet row %d: %s", sheetRow, fe.Message)
			return fe
		}
		x.hdr, x.headerRow = h, sheetRow
		return nil
	}
}

func (x *xlsxSource) defaults() BatchDefaults { return BatchDefaults{} }

func (x *xlsxSource) close() error {
	var err error
	if x.rc != nil {
		err = x.rc.Close()
		x.rc = nil
	}
	if x.tmp != nil {
		if e := x.tmp.Close(); err == nil {
			err = e
		}
		if !x.tmpGone {
			os.Remove(x.tmp.Name())
		}
		x.tmp = nil
	}
	return err
}

func (x *xlsxSource) cell(line int, f field) string {
	if col := x.hdr.fieldCol[f]; col >= 0 {
		return colLetters(col) + strconv.Itoa(line)
	}
	return ""
}

func (x *xlsxSource) next(raw *rawRecord) error {
	for {
		sheetRow, ok, err := x.readRow()
		if err != nil {
			return err
		}
		if !ok {
			return io.EOF
		}
		row := sheetRow - x.headerRow
		if row > x.maxRows {
			return tooManyRows(x.maxRows)
		}
		if x.stray >= 0 {
			x.warn(fmt.Sprintf("values in columns without a header are ignored (the first is cell %s%d); give the column a name or delete it", colLetters(x.stray), sheetRow))
		}
		if !x.filled {
			continue
		}
		raw.row, raw.line, raw.has = row, sheetRow, x.hdr.has
		for _, c := range x.cells {
			f := x.hdr.colField[c.col] // readRow keeps the known columns only
			raw.val[f], raw.numeric[f], raw.double[f] = c.val, c.numeric, c.numeric
			raw.noResult[f] = c.formula && c.val == ""
			if c.long {
				raw.bad[f] = true
				raw.errs = append(raw.errs, rawError{f, CodeFieldTooLong, fmt.Sprintf(
					"is longer than %d bytes, the most one cell may hold; shorten it", x.maxField)})
			}
		}
		return nil
	}
}

// readRow reads the next <row> of the sheet into x.cells and returns its sheet row number; ok is
// false at the end of the sheet data. Once the header is known, only cells of known columns are
// kept. Cells must come in column order; a cell with a value beyond MaxColumns, or one whose XML
// exceeds the budget, stops the file.
func (x *xlsxSource) readRow() (sheetRow int, ok bool, err error) {
	x.cells, x.stray, x.filled = x.cells[:0], -1, false
	if x.done {
		return 0, false, nil
	}
	var (
		inRow, inCell, capture, inIS, inRPh bool
		cell                                xlsxCell
		typ                                 string
		prevCol                             = -1
	)
	for {
		if !inCell {
			x.budget.reset() // inside a cell, all of its tokens share one budget
		}
		tok, err := x.dec.Token()
		if err == io.EOF {
			x.done = true
			return sheetRow, inRow, nil
		}
		if err != nil {
			if inCell && errors.Is(err, errOverBudget) {
				return 0, false, badXLSX("cell %s%d holds more than %s of text and markup, the limit for one cell; shorten it (the payout columns need a few hundred characters at most)",
					colLetters(cell.col), sheetRow, byteSize(int64(x.budget.limit)))
			}
			return 0, false, xmlError("first sheet", err, x.budget.limit, maxXLSXSheetBytes)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if x.depth++; x.depth > maxXLSXDepth {
				return 0, false, tooDeep("first sheet")
			}
			switch t.Name.Local {
			case "row":
				if inRow {
					continue
				}
				inRow = true
				sheetRow = x.lastRow + 1
				if v := attr(t, "r"); v != "" {
					n, err := strconv.Atoi(v)
					if err != nil || n <= x.lastRow || n > 1<<24 {
						return 0, false, badXLSX("the first sheet has a row numbered %s after row %d; save the workbook again from Excel", quote(v), x.lastRow)
					}
					sheetRow = n
				}
				x.lastRow = sheetRow
			case "c":
				if !inRow || inCell {
					continue
				}
				inCell, typ = true, attr(t, "t")
				cell = xlsxCell{col: prevCol + 1}
				if ref := attr(t, "r"); ref != "" {
					col, ok := parseColumn(ref)
					if !ok {
						return 0, false, badXLSX("the first sheet has a cell named %s; save the workbook again from Excel", quote(ref))
					}
					if col <= prevCol {
						return 0, false, badXLSX("sheet row %d: cell %s comes after cell %s%d; the cells of a row must be in column order, each once: save the workbook again from Excel",
							sheetRow, quote(ref), colLetters(prevCol), sheetRow)
					}
					cell.col = col
				}
				if cell.col >= maxXLSXColumns {
					return 0, false, badXLSX("the first sheet has a cell beyond column XFD; save the workbook again from Excel")
				}
				prevCol = cell.col
				x.text, x.long = x.text[:0], false
			case "v":
				capture = inCell
			case "f":
				cell.formula = cell.formula || inCell
			case "is":
				inIS = inCell
			case "t":
				capture = inIS && !inRPh
			case "rPh":
				inRPh = true
			}
		case xml.EndElement:
			x.depth--
			switch t.Name.Local {
			case "v", "t":
				capture = false
			case "rPh":
				inRPh = false
			case "is":
				inIS = false
			case "c":
				if !inCell {
					continue
				}
				inCell, capture, inIS, inRPh = false, false, false, false
				if err := x.finishCell(&cell, typ, sheetRow); err != nil {
					return 0, false, err
				}
			case "row":
				if inRow {
					return sheetRow, true, nil
				}
			case "sheetData":
				x.done = true
				return sheetRow, inRow, nil
			}
		case xml.CharData:
			if capture {
				limit := x.maxField
				if x.headerRow == 0 {
					limit = min(limit, maxHeaderName)
				}
				var cut bool
				x.text, cut = appendCapped(x.text, t, limit-len(x.text))
				x.long = x.long || cut
			}
		}
	}
}

// finishCell resolves a cell's value by its type and keeps it if it is not empty and, once the
// header is known, in a known column.
func (x *xlsxSource) finishCell(c *xlsxCell, typ string, sheetRow int) error {
	if len(x.text) == 0 {
		if c.formula && x.headerRow > 0 && c.col < len(x.hdr.colField) && x.hdr.colField[c.col] != fNone {
			x.cells = append(x.cells, *c) // kept empty, so that a message can say why
		}
		return nil
	}
	var shared string
	long := x.long
	if typ == "s" {
		i, err := strconv.Atoi(string(bytes.TrimSpace(x.text)))
		v, l, ok := x.sst.get(i)
		if err != nil || !ok {
			return badXLSX("cell %s%d refers to a shared string that does not exist; save the workbook again from Excel", colLetters(c.col), sheetRow)
		}
		if v == "" {
			return nil
		}
		shared, long = v, l
	}
	x.filled = true
	if c.col >= MaxColumns {
		return badXLSX("cell %s%d has a value beyond column %s, the last of the %d columns a payout sheet may use; delete the columns after %s (or copy the payroll columns to a new workbook)",
			colLetters(c.col), sheetRow, colLetters(MaxColumns-1), MaxColumns, colLetters(MaxColumns-1))
	}
	if x.headerRow > 0 && (c.col >= len(x.hdr.colField) || x.hdr.colField[c.col] == fNone) {
		if c.col >= len(x.hdr.colField) && x.stray < 0 {
			x.stray = c.col
		}
		return nil
	}
	switch typ {
	case "s":
		c.val = shared
	case "", "n":
		c.val, c.numeric = string(x.text), true
	default: // inlineStr, str (formula text), b (0/1), e (#N/A…), d (ISO date)
		c.val = string(x.text)
	}
	c.long = long
	x.cells = append(x.cells, *c)
	return nil
}

func attr(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// parseColumn returns the 0-based column of a cell reference such as "C7".
func parseColumn(ref string) (int, bool) {
	col, i := 0, 0
	for ; i < len(ref) && i < 4; i++ {
		c := ref[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c < 'A' || c > 'Z' {
			break
		}
		col = col*26 + int(c-'A'+1)
	}
	if i == 0 || i == 4 {
		return 0, false
	}
	for j := i; j < len(ref); j++ {
		if !isDigit(ref[j]) {
			return 0, false
		}
	}
	return col - 1, true
}

// colLetters returns the letters of a 0-based column: 0 → A, 26 → AA.
func colLetters(col int) string {
	var b [4]byte
	i := len(b)
	for col++; col > 0 && i > 0; col = (col - 1) / 26 {
		i--
		b[i] = byte('A' + (col-1)%26)
	}
	return string(b[i:])
}
