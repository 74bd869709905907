package payoutfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"sync"
)

// maxWarnings bounds Reader.Warnings.
const maxWarnings = 100

// Reader streams the rows of a payout file as validated Records. It is not safe for concurrent use.
// The file is parsed on a goroutine of its own, a few batches of rows ahead of validation (see
// readAhead); Close stops it.
type Reader struct {
	opts     Options
	curs     []currency
	limit    amountLimit
	src      source
	ahead    *readAhead // started by the first Next
	defaults BatchDefaults
	seen     idSet // item external IDs seen, as 96-bit hashes with their first row
	seeds    [2]maphash.Seed
	recips   idSet // recipients of valid rows seen, as seen (see dedupe)
	rseeds   [numRecipientTypes][2]maphash.Seed
	lines    lineMap   // where earlier rows start, for messages that name them
	lineWord string    // what a row's line is called in messages: "line", "sheet row" or ""
	batch    []pending // rows read ahead, returned from pos on
	pos      int
	records  int
	err      error

	mu      sync.Mutex // guards the warnings: sources warn from the read-ahead goroutine
	warns   []string
	dropped int
	warned  map[string]bool
}

// source produces raw rows of one format.
type source interface {
	// next fills raw with the next non-blank row: io.EOF at the end, a *FileError or a read error
	// otherwise.
	next(raw *rawRecord) error
	// cell returns the cell of a field in the row at rawRecord.line, such as "C7" (XLSX), or "".
	// It is called from the validating goroutine while the source reads ahead.
	cell(line int, f field) string
	defaults() BatchDefaults
	close() error
}

// rawRecord is one row as a source read it.
type rawRecord struct {
	row     int
	line    int // CSV, JSON Lines: physical line where the row starts; XLSX: sheet row; JSON: 0
	val     [numFields]string
	has     [numFields]bool // the file has this field (column or key)
	numeric [numFields]bool // XLSX number cell or JSON: '.' decimals whatever DecimalComma says
	double  [numFields]bool // XLSX number cell: a binary double, read as Excel shows it
	// noResult: an empty XLSX cell with a formula, which the program that wrote the file never
	// calculated
	noResult [numFields]bool
	bad      [numFields]bool // the source already reported the field (wrong JSON type)
	errs     []rawError      // structural problems found by the source
	shifted  bool            // fields may sit in the wrong columns: report only errs
}

// rawError is a problem a source found in a row; the Reader adds where it is (see rowError).
type rawError struct {
	f    field  // the column, or fNone for the whole row
	code string // a row error code
	msg  string // what is wrong and what to do, without the location: "has 9 fields but …"
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
	rd := &Reader{opts: o, curs: curs, limit: newAmountLimit(o.MaxAmount), seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
	for i := range rd.rseeds {
		rd.rseeds[i] = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	}
	// Size the duplicate sets once for the rows the file probably holds (at least 64 bytes each).
	rd.seen.hint = int(min(inputSize(r)/64, int64(o.MaxRows)))
	rd.recips.hint = rd.seen.hint
	switch o.Format {
	case FormatCSV:
		rd.lineWord = "line"
	case FormatXLSX:
		rd.lineWord = "sheet row"
	}
	var src source
	switch o.Format {
	case FormatCSV, FormatJSONL, FormatJSON:
		br := bufio.NewReaderSize(&limitedReader{r: r, left: o.MaxFileBytes}, bufSize)
		if err := sniff(br, o.Format); err != nil {
			return nil, rd.fileError(err, 0)
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
		return nil, rd.fileError(err, 0)
	}
	rd.src = src
	return rd, nil
}

// Next returns the next non-blank row, valid or not. At the end it returns io.EOF, or a
// *FileError with code NO_ROWS when the file had no data row at all. Any other error is a
// *FileError (file too large, too many rows, broken structure, read failure) and ends the file:
// later calls return the same error. Rows read before an error are all returned first.
func (r *Reader) Next() (Record, error) {
	if r.pos == len(r.batch) {
		if r.err != nil {
			return Record{}, r.err
		}
		r.fill()
		if r.pos == len(r.batch) {
			return Record{}, r.err
		}
	}
	r.pos++
	return r.batch[r.pos-1].rec, nil
}

// batchSize is how many rows the read-ahead goroutine hands over at a time (few enough hand-overs
// that they cost nothing next to the rows) and Next validates together. Their item external IDs
// are checked against the duplicate set together, so that the set's cache misses overlap instead
// of queueing one by one (the set is too large for the cache and its accesses are random by
// design).
const batchSize = 1024

// pending is a validated row waiting for the duplicate checks.
type pending struct {
	rec      Record
	readType string // recipient type and info as read (trimmed), restored if a duplicate
	readInfo string // makes a valid row invalid
	h0, h1   uint64 // hash of the item external ID
	r0, r1   uint64 // hash of the recipient, when the row is valid
	check    bool   // the item external ID takes part in the duplicate check
}

// fill validates the next batch of raw rows, then checks their item external IDs.
func (r *Reader) fill() {
	r.batch, r.pos = r.batch[:0], 0
	if r.ahead == nil {
		r.ahead = startReadAhead(r.src, r.opts.MaxRows)
	}
	b := <-r.ahead.full
	r.defaults = b.defaults
	for i := range b.rows {
		raw := &b.rows[i]
		r.records++
		// The row is validated in place: copying Records around costs write barriers.
		if len(r.batch) < cap(r.batch) {
			r.batch = r.batch[:len(r.batch)+1]
		} else {
			r.batch = append(r.batch, pending{})
		}
		p := &r.batch[len(r.batch)-1]
		r.validate(raw, &p.rec)
		r.lines.record(raw.row, raw.line)
		p.readType, p.readInfo = raw.val[fRecipientType], raw.val[fRecipientInfo]
		p.check = raw.val[fItemExternalID] != "" && !raw.shifted && !raw.bad[fItemExternalID]
	}
	switch {
	case b.err == nil:
	case b.err == io.EOF && r.records == 0:
		r.err = &FileError{Code: CodeNoRows, Message: "the file has no data rows; export the payroll again with its rows under the header"}
	case b.err == io.EOF:
		r.err = io.EOF
	default:
		r.err = r.fileError(b.err, b.errRow)
	}
	r.ahead.free <- b // the Records hold none of the batch's memory
	r.dedupe(r.batch)
}

// readAhead runs a source on a goroutine of its own, up to a few batches of raw rows ahead of the
// Reader, so that parsing the file and validating its rows each have a core. Rows keep their
// order: one goroutine reads, one validates. A batch is at most batchSize rows and, once its
// values reach maxBatchBytes, ends early.
type readAhead struct {
	full chan *rawBatch // read batches, in file order
	free chan *rawBatch // batches to read into
	stop chan struct{}
	done chan struct{}
}

// rawBatch is up to batchSize rows as the source read them.
type rawBatch struct {
	rows     []rawRecord
	defaults BatchDefaults // the source's batch-level values after these rows
	err      error         // what ended the file after these rows (io.EOF at its end), or nil
	errRow   int           // the row being read when err happened
}

const readAheadBatches = 3

// maxBatchBytes ends a batch early once its rows' values take this much, so that the rows read
// ahead stay a few MiB however long each is (up to numFields·MaxFieldBytes).
const maxBatchBytes = 4 << 20

func startReadAhead(src source, maxRows int) *readAhead {
	ra := &readAhead{
		full: make(chan *rawBatch, readAheadBatches),
		free: make(chan *rawBatch, readAheadBatches),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for range readAheadBatches {
		ra.free <- &rawBatch{rows: make([]rawRecord, 0, batchSize)}
	}
	go ra.run(src, maxRows)
	return ra
}

func (ra *readAhead) run(src source, maxRows int) {
	defer close(ra.done)
	for {
		var b *rawBatch
		select {
		case b = <-ra.free:
		case <-ra.stop:
			return
		}
		b.rows, b.err = b.rows[:0], nil
		size := 0
		for len(b.rows) < batchSize && b.err == nil && size < maxBatchBytes {
			b.rows = b.rows[:len(b.rows)+1]
			raw := &b.rows[len(b.rows)-1]
			raw.reset()
			switch err := src.next(raw); {
			case err != nil:
				b.err, b.errRow = err, raw.row
			case raw.row > maxRows:
				b.err = tooManyRows(maxRows)
			}
			if b.err != nil {
				b.rows = b.rows[:len(b.rows)-1]
				break
			}
			for _, v := range raw.val {
				size += len(v)
			}
		}
		b.defaults = src.defaults()
		select {
		case ra.full <- b:
		case <-ra.stop:
			return
		}
		if b.err != nil {
			return
		}
	}
}

// close stops the goroutine and waits for it (it may be inside one read of the input).
func (ra *readAhead) close() {
	close(ra.stop)
	<-ra.done
}

// dedupe refuses every later occurrence of an item external ID, in file order: the first
// occurrence claims the ID even when its row is invalid. Then it warns on every row still valid
// whose recipient (type and normalised info) an earlier valid row pays too. The slots of a batch
// are touched together before they are used, so that their cache misses overlap.
func (r *Reader) dedupe(batch []pending) {
	ids, recips := 0, 0
	for i := range batch {
		p := &batch[i]
		if p.check {
			id := p.rec.Item.ItemExternalID
			p.h0, p.h1 = maphash.String(r.seeds[0], id), maphash.String(r.seeds[1], id)
			ids++
		}
		if p.rec.Valid() {
			it := &p.rec.Item
			seeds := &r.rseeds[recipientTypeIndex(it.RecipientType)]
			p.r0, p.r1 = maphash.String(seeds[0], it.RecipientInfo), maphash.String(seeds[1], it.RecipientInfo)
			recips++
		}
	}
	if ids > 0 {
		r.seen.reserve(ids)
	}
	if recips > 0 {
		r.recips.reserve(recips)
	}
	for i := range batch {
		if p := &batch[i]; p.check {
			r.seen.touch(p.h0)
		}
		if p := &batch[i]; p.rec.Valid() {
			r.recips.touch(p.r0)
		}
	}
	for i := range batch {
		p := &batch[i]
		it := &p.rec.Item
		valid := p.rec.Valid()
		if p.check {
			if first := r.seen.add(p.h0, p.h1, p.rec.Row); first != 0 {
				if valid {
					it.RecipientType, it.RecipientInfo = p.readType, p.readInfo
				}
				p.rec.Errors = append(p.rec.Errors, r.rowError(p.rec.Row, p.rec.Line, it.ItemExternalID, fItemExternalID, CodeDuplicateID,
					fmt.Sprintf("%s was already used in %s; every item external ID must be unique in the file", quote(it.ItemExternalID), r.rowAt(first))))
				continue
			}
		}
		if !valid {
			continue
		}
		if first := r.recips.add(p.r0, p.r1, p.rec.Row); first != 0 {
			p.rec.SameRecipientAs = first
			p.rec.Warnings = append(p.rec.Warnings, r.rowError(p.rec.Row, p.rec.Line, it.ItemExternalID, fRecipientInfo, CodeDuplicateRecipient,
				fmt.Sprintf("%s %s is paid in %s too; check that the two rows are not one payment entered twice (a warning: this row is valid and will be paid)",
					recipientLabel(it.RecipientType), Mask(it.RecipientType, it.RecipientInfo), r.rowAt(first))))
		}
	}
}

// Defaults returns the batch-level values of a JSON file, as seen so far; they are complete once
// Next has returned io.EOF. Other formats return zero BatchDefaults.
func (r *Reader) Defaults() BatchDefaults {
	if r.ahead == nil {
		return r.src.defaults()
	}
	return r.defaults
}

// LineOf returns the line where a row that Next has returned starts (as Record.Line: the CSV or
// JSON Lines line, the XLSX sheet row), to name an earlier row such as the one a
// Record.SameRecipientAs points to; 0 for JSON, and for a row the Reader no longer knows (only
// past 1,048,576 changes between row and line, see the package documentation). Like Next, it must
// not be called concurrently.
func (r *Reader) LineOf(row int) int { return r.lines.lookup(row) }

// Warnings returns what was noticed about the file but not refused, such as unknown columns
// ignored. It grows as the file is read (at most 100 entries). What concerns one row, such as a
// recipient paid twice, is in that Record's Warnings instead.
func (r *Reader) Warnings() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
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
	if r.ahead != nil {
		r.ahead.close()
	}
	d := r.Defaults()
	err := r.src.close()
	r.seen.release()
	r.recips.release()
	r.lines = lineMap{}
	r.src, r.ahead = closedSource{d}, nil
	r.batch, r.pos = nil, 0 // rows read ahead are dropped
	if r.err == nil {
		r.err = errors.New("payoutfile: Reader is closed")
	}
	return err
}

// warn records a warning once.
func (r *Reader) warn(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
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

// fileError turns what a source returned into a *FileError; row is the row being read.
func (r *Reader) fileError(err error, row int) error {
	var fe *FileError
	switch {
	case errors.As(err, &fe):
		return fe
	case errors.Is(err, errFileTooLarge):
		return &FileError{Code: CodeFileTooLarge, Row: row, Message: fmt.Sprintf(
			"the file is larger than the limit of %d bytes; split it into smaller files", r.opts.MaxFileBytes)}
	}
	return &FileError{Code: CodeReadError, Row: row, Message: fmt.Sprintf("reading the file: %v", err)}
}

func tooManyRows(max int) *FileError {
	return &FileError{Code: CodeTooManyRows, Row: max + 1, Message: fmt.Sprintf(
		"the file has more than %d rows, the limit; split it into smaller files (or raise the limit with --max-rows)", max)}
}

// closedSource stands in for a closed source.
type closedSource struct{ d BatchDefaults }

func (closedSource) next(*rawRecord) error     { return errors.New("payoutfile: Reader is closed") }
func (closedSource) cell(int, field) string    { return "" }
func (c closedSource) defaults() BatchDefaults { return c.d }
func (closedSource) close() error              { return nil }

// inputSize returns the size of r when it is known cheaply, else 0.
func inputSize(r io.Reader) int64 {
	switch v := r.(type) {
	case interface{ Size() int64 }:
		return v.Size()
	case interface{ Stat() (os.FileInfo, error) }:
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() {
			return fi.Size()
		}
	}
	return 0
}

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
