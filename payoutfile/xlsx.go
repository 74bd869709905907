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
)

// Limits checked on an XLSX archive's directory before anything is extracted.
const (
	maxXLSXEntries        = 1000
	maxXLSXTotalBytes     = 8 << 30  // declared uncompressed, all entries
	maxXLSXRatio          = 100      // declared uncompressed : compressed, ...
	maxXLSXRatioFloor     = 64 << 20 // ... for entries declaring more than this
	maxSharedStringsBytes = 256 << 20
	maxXLSXSmallPart      = 16 << 20 // workbook and relationship parts
	maxXLSXColumns        = 16384    // Excel's limit, column XFD
)

// xlsxSource streams the first sheet of a workbook. Only the shared-strings table is held in
// memory (compactly: one string and an offset per entry); the sheet is decoded token by token with
// a budget per token.
type xlsxSource struct {
	tmp       *os.File // spooled copy of an input without random access
	tmpGone   bool     // tmp is already unlinked
	sst       sharedStrings
	rc        io.ReadCloser
	dec       *xml.Decoder
	budget    *budgetReader
	hdr       header
	headerRow int
	lastRow   int
	maxRows   int
	warn      func(string)
	cells     []xlsxCell
	text      []byte
	done      bool
}

type xlsxCell struct {
	col     int
	val     string
	numeric bool
}

// sharedStrings is the workbook's string table: entry i is data[ends[i-1]:ends[i]].
type sharedStrings struct {
	data string
	ends []uint32
}

func (s *sharedStrings) get(i int) (string, bool) {
	if i < 0 || i >= len(s.ends) {
		return "", false
	}
	start := uint32(0)
	if i > 0 {
		start = s.ends[i-1]
	}
	return s.data[start:s.ends[i]], true
}

func badXLSX(format string, args ...any) *FileError {
	return &FileError{Code: CodeBadXLSX, Message: fmt.Sprintf(format, args...)}
}

func newXLSXSource(r io.Reader, o Options, warn func(string)) (src source, err error) {
	x := &xlsxSource{maxRows: o.MaxRows, warn: warn}
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
	tokenBudget := max(1<<20, 8*o.MaxFieldBytes)
	if sst != nil {
		if x.sst, err = readSharedStrings(sst, tokenBudget); err != nil {
			return nil, err
		}
	}
	if x.rc, err = sheet.Open(); err != nil {
		return nil, badXLSX("the workbook's first sheet cannot be opened (%v); save it again from Excel", err)
	}
	x.budget = &budgetReader{r: x.rc, limit: tokenBudget}
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

// locateSheet follows the package relationships to the workbook's first sheet and its shared
// strings (nil if it has none).
func locateSheet(files map[string]*zip.File) (sheet, sst *zip.File, err error) {
	wbPath := "xl/workbook.xml"
	if f := files["_rels/.rels"]; f != nil {
		rels, err := readRels(f)
		if err != nil {
			return nil, nil, err
		}
		for _, rel := range rels {
			if strings.HasSuffix(rel.Type, "/officeDocument") {
				wbPath = resolvePart("", rel.Target)
				break
			}
		}
	}
	wbFile := files[wbPath]
	if wbFile == nil {
		return nil, nil, badXLSX("this ZIP archive is not an Excel workbook (it has no %s); save the sheet as .xlsx from Excel", wbPath)
	}
	var wb struct {
		Sheets []struct {
			Name  string     `xml:"name,attr"`
			Attrs []xml.Attr `xml:",any,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := readSmallXML(wbFile, &wb); err != nil {
		return nil, nil, err
	}
	if len(wb.Sheets) == 0 {
		return nil, nil, badXLSX("the workbook has no sheet; put the payroll on the first sheet")
	}
	var rid string
	for _, a := range wb.Sheets[0].Attrs {
		if a.Name.Local == "id" && a.Name.Space != "" {
			rid = a.Value
		}
	}
	dir, base := path.Split(wbPath)
	relsFile := files[dir+"_rels/"+base+".rels"]
	if relsFile == nil {
		return nil, nil, badXLSX("the workbook has no relationships part; save it again from Excel")
	}
	rels, err := readRels(relsFile)
	if err != nil {
		return nil, nil, err
	}
	for _, rel := range rels {
		switch {
		case rel.ID == rid && rel.Mode != "External":
			sheet = files[resolvePart(dir, rel.Target)]
		case strings.HasSuffix(rel.Type, "/sharedStrings"):
			sst = files[resolvePart(dir, rel.Target)]
		}
	}
	if sheet == nil {
		return nil, nil, badXLSX("the workbook's first sheet %s cannot be found (it may be a chart sheet); put the payroll on the first sheet", quote(wb.Sheets[0].Name))
	}
	return sheet, sst, nil
}

type xlsxRel struct {
	ID     string `xml:"Id,attr"`
	Type   string `xml:"Type,attr"`
	Target string `xml:"Target,attr"`
	Mode   string `xml:"TargetMode,attr"`
}

func readRels(f *zip.File) ([]xlsxRel, error) {
	var rels struct {
		Rels []xlsxRel `xml:"Relationship"`
	}
	err := readSmallXML(f, &rels)
	return rels.Rels, err
}

// resolvePart resolves a relationship target against the folder of the part that owns it.
func resolvePart(dir, target string) string {
	if strings.HasPrefix(target, "/") {
		return path.Clean(target[1:])
	}
	return path.Clean(dir + target)
}

func readSmallXML(f *zip.File, v any) error {
	if f.UncompressedSize64 > maxXLSXSmallPart {
		return badXLSX("the workbook part %s is larger than %d MiB; it may be a zip bomb, so it is refused", quote(f.Name), maxXLSXSmallPart>>20)
	}
	rc, err := f.Open()
	if err != nil {
		return badXLSX("the workbook part %s cannot be read (%v); save it again from Excel", quote(f.Name), err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxXLSXSmallPart+1))
	if err != nil {
		return badXLSX("the workbook part %s cannot be read (%v); save it again from Excel", quote(f.Name), err)
	}
	if err := xml.Unmarshal(b, v); err != nil {
		return badXLSX("the workbook part %s is not valid XML (%v); save it again from Excel", quote(f.Name), err)
	}
	return nil
}

// readSharedStrings loads the string table compactly. Rich-text runs are joined; phonetic runs
// (rPh) are left out.
func readSharedStrings(f *zip.File, tokenBudget int) (sharedStrings, error) {
	var s sharedStrings
	if f.UncompressedSize64 > maxSharedStringsBytes {
		return s, badXLSX("the workbook's shared strings declare %d bytes, more than the %d MiB limit; it may be a zip bomb, or split the file", f.UncompressedSize64, maxSharedStringsBytes>>20)
	}
	rc, err := f.Open()
	if err != nil {
		return s, badXLSX("the workbook's shared strings cannot be read (%v); save it again from Excel", err)
	}
	defer rc.Close()
	budget := &budgetReader{r: rc, limit: tokenBudget}
	dec := xml.NewDecoder(budget)
	var arena []byte
	inSI, inT, inRPh := false, false, false
	for {
		budget.reset()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return s, xmlError("shared strings", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				inSI = true
			case "t":
				inT = inSI && !inRPh
			case "rPh":
				inRPh = true
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				if len(arena) > maxSharedStringsBytes {
					return s, badXLSX("the workbook's shared strings exceed %d MiB; split the file", maxSharedStringsBytes>>20)
				}
				s.ends = append(s.ends, uint32(len(arena)))
				inSI = false
			case "t":
				inT = false
			case "rPh":
				inRPh = false
			}
		case xml.CharData:
			if inT {
				arena = append(arena, t...)
			}
		}
	}
	s.data = string(arena)
	return s, nil
}

func xmlError(part string, err error) error {
	switch {
	case errors.Is(err, errOverBudget):
		return badXLSX("the workbook's %s hold a value larger than 1 MiB; it is refused", part)
	case errors.Is(err, zip.ErrFormat), errors.Is(err, zip.ErrChecksum), errors.Is(err, io.ErrUnexpectedEOF):
		return badXLSX("the workbook's %s are damaged (%v); save it again from Excel", part, err)
	}
	return badXLSX("the workbook's %s are not valid XML (%v); save it again from Excel", part, err)
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
		last := x.cells[len(x.cells)-1].col
		for _, c := range x.cells {
			last = max(last, c.col)
		}
		names := make([]string, last+1)
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

func (x *xlsxSource) ref(line int, f field) string {
	if col := x.hdr.fieldCol[f]; col >= 0 {
		return " (cell " + colLetters(col) + strconv.Itoa(line) + ")"
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
		if len(x.cells) == 0 {
			continue
		}
		raw.row, raw.line, raw.has = row, sheetRow, x.hdr.has
		for _, c := range x.cells {
			if c.col < len(x.hdr.colField) {
				if f := x.hdr.colField[c.col]; f != fNone {
					raw.val[f], raw.numeric[f] = c.val, c.numeric
				}
				continue
			}
			x.warn(fmt.Sprintf("values in columns without a header are ignored (the first is cell %s%d); give the column a name or delete it", colLetters(c.col), sheetRow))
		}
		return nil
	}
}

// readRow reads the next <row> of the sheet into x.cells (non-empty cells only) and returns its
// sheet row number; ok is false at the end of the sheet data.
func (x *xlsxSource) readRow() (sheetRow int, ok bool, err error) {
	x.cells = x.cells[:0]
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
		x.budget.reset()
		tok, err := x.dec.Token()
		if err == io.EOF {
			x.done = true
			return sheetRow, inRow, nil
		}
		if err != nil {
			return 0, false, xmlError("first sheet", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
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
				if !inRow {
					continue
				}
				inCell, typ = true, attr(t, "t")
				cell = xlsxCell{col: prevCol + 1}
				if ref := attr(t, "r"); ref != "" {
					col, ok := parseColumn(ref)
					if !ok {
						return 0, false, badXLSX("the first sheet has a cell named %s; save the workbook again from Excel", quote(ref))
					}
					cell.col = col
				}
				if cell.col >= maxXLSXColumns {
					return 0, false, badXLSX("the first sheet has a cell beyond column XFD; save the workbook again from Excel")
				}
				prevCol = cell.col
				x.text = x.text[:0]
			case "v":
				capture = inCell
			case "is":
				inIS = inCell
			case "t":
				capture = inIS && !inRPh
			case "rPh":
				inRPh = true
			}
		case xml.EndElement:
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
				inCell = false
				if err := x.finishCell(&cell, typ, sheetRow); err != nil {
					return 0, false, err
				}
			case "row":
				return sheetRow, true, nil
			case "sheetData":
				x.done = true
				return sheetRow, inRow, nil
			}
		case xml.CharData:
			if capture {
				x.text = append(x.text, t...)
			}
		}
	}
}

// finishCell resolves a cell's value by its type and keeps it if it is not empty.
func (x *xlsxSource) finishCell(c *xlsxCell, typ string, sheetRow int) error {
	if len(x.text) == 0 {
		return nil
	}
	switch typ {
	case "s":
		i, err := strconv.Atoi(string(bytes.TrimSpace(x.text)))
		v, ok := x.sst.get(i)
		if err != nil || !ok {
			return badXLSX("cell %s%d refers to a shared string that does not exist; save the workbook again from Excel", colLetters(c.col), sheetRow)
		}
		c.val = v
	case "", "n":
		c.val, c.numeric = string(x.text), true
	default: // inlineStr, str (formula text), b (0/1), e (#N/A…), d (ISO date)
		c.val = string(x.text)
	}
	if c.val != "" {
		x.cells = append(x.cells, *c)
	}
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
