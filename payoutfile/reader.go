package payoutfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
)

// maxWarnings bounds Reader.Warnings.
const maxWarnings = 100

// Reader streams the rows of a payout file as validated Records. It is not safe for concurrent use.
type Reader struct {
	opts    Options
	curs    []currency
	src     source
	seen    map[[2]uint64]uint32 // hashes of item external IDs → first row
	seeds   [2]maphash.Seed
	raw     rawRecord
	records int
	err     error
	warns   []string
	dropped int
	warned  map[string]bool
}

// source produces raw rows of one format.
type source interface {
	// next fills raw with the next non-blank row: io.EOF at the end, a *FileError or a read error
	// otherwise.
	next(raw *rawRecord) error
	// ref locates a field of raw for messages, such as " (cell C7)", or returns "".
	ref(raw *rawRecord, f field) string
	defaults() BatchDefaults
	close() error
}

// rawRecord is one row as a source read it.
type rawRecord struct {
	row     int
	line    int // CSV: physical line where the row starts; XLSX: sheet row
	val     [numFields]string
	has     [numFields]bool // the file has this field (column or key)
	numeric [numFields]bool // XLSX number cell: '.' decimals whatever DecimalComma says
	bad     [numFields]bool // the source already reported the field (wrong JSON type)
	errs    []RowError      // structural problems found by the source
	shifted bool            // fields may sit in the wrong columns: report only errs
}

func (raw *rawRecord) reset() {
	*raw = rawRecord{errs: raw.errs[:0]}
}

// NewReader reads the header (CSV, XLSX) or the document start (JSON) of r and returns a Reader for
// its rows. Unreadable or unsupported input is a *FileError. XLSX needs random access: an r that
// is an *os.File or has ReadAt and Size (bytes.Reader, strings.Reader, io.SectionReader) is read
// in place; any other r is first copied to a temporary file, removed by Close. Call Close when done.
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	o, curs, err := opts.normalize()
	if err != nil {
		return nil, &FileError{Code: CodeBadOptions, Message: err.Error()}
	}
	rd := &Reader{opts: o, curs: curs, seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
	rd.seen = make(map[[2]uint64]uint32)
	var src source
	switch o.Format {
	case FormatCSV, FormatJSONL, FormatJSON:
		br := bufio.NewReaderSize(&limitedReader{r: r, left: o.MaxFileBytes}, bufSize)
		if err := sniff(br, o.Format); err != nil {
			return nil, rd.fileError(err)
		}
		switch o.Format {
		case FormatCSV:
			src, err = newCSVSource(br, o, rd.warn)
		case FormatJSONL:
			src, err = newJSONLSource(br, o, rd.warn)
		default:
			src, err = newJSONSource(br, o, rd.warn)
		}
	case FormatXLSX:
		src, err = newXLSXSource(r, o, rd.warn)
	case "":
		err = &FileError{Code: CodeUnsupportedFormat, Message: "no format given; pass --format csv|jsonl|json|xlsx or use a file name ending in .csv, .jsonl, .json or .xlsx"}
	default:
		err = &FileError{Code: CodeUnsupportedFormat, Message: fmt.Sprintf("format %q is not supported; the formats are csv, jsonl, json and xlsx", o.Format)}
	}
	if err != nil {
		if src != nil {
			src.close()
		}
		return nil, rd.fileError(err)
	}
	rd.src = src
	return rd, nil
}

// Next returns the next non-blank row, valid or not. At the end it returns io.EOF, or a
// *FileError with code NO_ROWS when the file had no data row at all. Any other error is a
// *FileError (file too large, too many rows, broken structure, read failure) and ends the file:
// later calls return the same error.
func (r *Reader) Next() (Record, error) {
	if r.err != nil {
		return Record{}, r.err
	}
	raw := &r.raw
	raw.reset()
	err := r.src.next(raw)
	switch {
	case err == io.EOF && r.records == 0:
		r.err = &FileError{Code: CodeNoRows, Message: "the file has no data rows; export the payroll again with its rows under the header"}
		return Record{}, r.err
	case err == io.EOF:
		r.err = io.EOF
		return Record{}, r.err
	case err != nil:
		r.err = r.fileError(err)
		return Record{}, r.err
	case raw.row > r.opts.MaxRows:
		r.err = tooManyRows(r.opts.MaxRows)
		return Record{}, r.err
	}
	r.records++
	return r.validate(raw), nil
}

// Defaults returns the batch-level values of a JSON file, as seen so far; they are complete once
// Next has returned io.EOF. Other formats return zero BatchDefaults.
func (r *Reader) Defaults() BatchDefaults { return r.src.defaults() }

// Warnings returns what was noticed but not refused, such as unknown columns ignored. It grows as
// the file is read (at most 100 entries).
func (r *Reader) Warnings() []string {
	w := append([]string(nil), r.warns...)
	if r.dropped > 0 {
		w = append(w, fmt.Sprintf("%d more warnings not shown", r.dropped))
	}
	return w
}

// Close releases what the Reader holds (an XLSX's open parts and temporary copy). It does not
// close the io.Reader given to NewReader. It is safe to call more than once.
func (r *Reader) Close() error {
	if r.src == nil {
		return nil
	}
	err := r.src.close()
	r.src = closedSource{r.src.defaults()}
	if r.err == nil {
		r.err = errors.New("payoutfile: Reader is closed")
	}
	return err
}

// warn records a warning once.
func (r *Reader) warn(msg string) {
	if r.warned[msg] {
		return
	}
	if len(r.warns) >= maxWarnings {
		r.dropped++
		return
	}
	if r.warned == nil {
		r.warned = make(map[string]bool)
	}
	r.warned[msg] = true
	r.warns = append(r.warns, msg)
}

// fileError turns what a source returned into a *FileError.
func (r *Reader) fileError(err error) error {
	var fe *FileError
	switch {
	case errors.As(err, &fe):
		return fe
	case errors.Is(err, errFileTooLarge):
		return &FileError{Code: CodeFileTooLarge, Row: r.raw.row, Message: fmt.Sprintf(
			"the file is larger than the limit of %d bytes; split it into smaller files", r.opts.MaxFileBytes)}
	}
	return &FileError{Code: CodeReadError, Row: r.raw.row, Message: fmt.Sprintf("reading the file: %v", err)}
}

func tooManyRows(max int) *FileError {
	return &FileError{Code: CodeTooManyRows, Row: max + 1, Message: fmt.Sprintf(
		"the file has more than %d rows, the limit; split it into smaller files (or raise the limit with --max-rows)", max)}
}

// closedSource stands in for a closed source.
type closedSource struct{ d BatchDefaults }

func (closedSource) next(*rawRecord) error        { return errors.New("payoutfile: Reader is closed") }
func (closedSource) ref(*rawRecord, field) string { return "" }
func (c closedSource) defaults() BatchDefaults    { return c.d }
func (closedSource) close() error                 { return nil }

// bufSize is the read buffer of the text formats; a CSV header must fit in it.
const bufSize = 64 << 10

// errFileTooLarge is returned by limitedReader past the limit.
var errFileTooLarge = errors.New("file too large")

// limitedReader delivers at most left bytes and then fails with errFileTooLarge if more follow.
type limitedReader struct {
	r    io.Reader
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var probe [1]byte
		n, err := io.ReadAtLeast(l.r, probe[:], 1)
		if n > 0 {
			return 0, errFileTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// sniffLen is how much of a text file is inspected before parsing.
const sniffLen = 8 << 10

// sniff refuses empty, binary and UTF-16 input and skips a UTF-8 byte order mark.
func sniff(br *bufio.Reader, format Format) error {
	head, err := br.Peek(sniffLen)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return err
	}
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
		head = head[3:]
	}
	kind := "a CSV"
	switch format {
	case FormatJSON:
		kind = "a JSON"
	case FormatJSONL:
		kind = "a JSON Lines"
	}
	binary := func(what, todo string) error {
		return &FileError{Code: CodeBinaryFile, Message: fmt.Sprintf("this is %s, not %s file; %s", what, kind, todo)}
	}
	switch {
	case len(bytes.TrimSpace(head)) == 0 && len(head) < sniffLen:
		return &FileError{Code: CodeEmptyFile, Message: "the file is empty; export the payroll again (header row first, then one row per payout)"}
	case bytes.HasPrefix(head, []byte("\xff\xfe")) || bytes.HasPrefix(head, []byte("\xfe\xff")):
		return &FileError{Code: CodeUnsupportedEncoding, Message: "the file is UTF-16 text; save it as UTF-8 (in Excel: \"CSV UTF-8\")"}
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return binary("an XLSX workbook (or another ZIP archive)", "give it a .xlsx name or pass --format xlsx")
	case bytes.HasPrefix(head, []byte("\xd0\xcf\x11\xe0")):
		return binary("an old Excel .xls or a password-protected workbook", "save it as .xlsx (without a password) or as \"CSV UTF-8\"")
	case bytes.HasPrefix(head, []byte("%PDF")):
		return binary("a PDF document", "export the payroll as CSV, JSON or XLSX")
	case bytes.HasPrefix(head, []byte("\x1f\x8b")):
		return binary("a gzip-compressed file", "decompress it first")
	case bytes.IndexByte(head, 0) >= 0:
		if utf16ish(head) {
			return &FileError{Code: CodeUnsupportedEncoding, Message: "the file looks like UTF-16 text; save it as UTF-8 (in Excel: \"CSV UTF-8\")"}
		}
		return binary("a binary file (it contains NUL bytes)", "export the payroll as CSV UTF-8, JSON or XLSX")
	}
	return nil
}

// utf16ish reports whether head looks like UTF-16 without a byte order mark: NUL in every other byte.
func utf16ish(head []byte) bool {
	if len(head) < 8 {
		return false
	}
	even, odd := 0, 0
	for i, c := range head {
		if c == 0 {
			if i%2 == 0 {
				even++
			} else {
				odd++
			}
		}
	}
	half := len(head) / 2 * 9 / 10
	return even >= half || odd >= half
}
