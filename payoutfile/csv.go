package payoutfile

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// maxLineBytes is the longest physical line, and quoted record, of a CSV file: a constant, whatever
// the header says, far above a payroll row's few hundred bytes.
const maxLineBytes = 2 << 20

// csvSource reads CSV with a delimiter and line ending detected from the header. Quoted fields may
// hold delimiters, doubled quotes and line breaks; a quote inside an unquoted field is kept as
// text. Memory stays bounded whatever the input: a line is at most maxLineBytes, a field at most
// Options.MaxFieldBytes, a header at most MaxColumns columns, and a row is split into at most one
// field more than the header (further fields are counted, not kept).
type csvSource struct {
	br        *bufio.Reader
	comma     byte
	term      byte // '\n' (LF or CRLF) or '\r' (lone CR, old Mac exports)
	maxField  int
	maxFields int // fields kept per record; more are only counted in extra
	maxRows   int
	line      int // physical lines read
	row       int // data rows read
	hdr       header
	rec       []byte // the current record: the line itself, or buf when quotes were resolved
	buf       []byte // unquoted field bytes, concatenated
	starts    []int  // start offset of each kept field in rec
	ends      []int  // end offset of each kept field in rec
	extra     int    // fields of the record beyond maxFields
	badQuote  int    // index of the first field with text after its closing quote, or -1
	startLine int
	lineBuf   []byte
	compact   []byte // the known fields of a long row, concatenated
}

// newCSVSource detects the line ending and delimiter and reads the header.
func newCSVSource(br *bufio.Reader, o Options, warn func(string)) (*csvSource, error) {
	c := &csvSource{br: br, maxField: o.MaxFieldBytes, maxFields: MaxColumns + 1, maxRows: o.MaxRows, badQuote: -1}
	// Blank lines before the header are skipped, and counted: messages name rows by their line.
	for cr := false; ; {
		b, err := br.Peek(1)
		if err != nil || (b[0] != '\n' && b[0] != '\r') {
			if cr {
				c.line++
			}
			break
		}
		br.Discard(1)
		switch {
		case b[0] == '\n':
			c.line++ // LF, or the LF of a CRLF
			cr = false
		case cr:
			c.line++ // the first of two CRs was a line of its own
		default:
			cr = true
		}
	}
	head, err := br.Peek(bufSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, err
	}
	if len(bytes.TrimSpace(head)) == 0 {
		return nil, &FileError{Code: CodeEmptyFile, Message: "the file is empty; export the payroll again (header row first, then one row per payout)"}
	}
	if head[0] == '{' || head[0] == '[' {
		return nil, &FileError{Code: CodeBadHeader, Message: "this looks like JSON, not CSV; give it a .json or .jsonl name or pass --format json or --format jsonl"}
	}
	var end int
	c.term, c.comma, end = detectDialect(head)
	if end < 0 && len(head) == bufSize {
		return nil, &FileError{Code: CodeBadHeader, Message: fmt.Sprintf("the first line is longer than %d bytes; it must be the header row (column names)", bufSize)}
	}
	if c.comma == 0 {
		return nil, &FileError{Code: CodeBadHeader, Message: "the header mixes delimiters (, ; and tab) in equal numbers; use one delimiter throughout"}
	}
	if err := c.readRecord(); err != nil {
		if err == io.EOF {
			return nil, &FileError{Code: CodeEmptyFile, Message: "the file is empty; export the payroll again"}
		}
		return nil, err
	}
	if n := len(c.ends) + c.extra; n > MaxColumns {
		return nil, &FileError{Code: CodeBadHeader, Message: fmt.Sprintf(
			"the header has %d columns, more than the limit of %d; keep the payout columns (%s) and delete the others", n, MaxColumns, expectedColumns())}
	}
	s := string(c.rec)
	names := make([]string, len(c.ends))
	for i, e := range c.ends {
		names[i] = s[c.starts[i]:e]
	}
	var fe *FileError
	c.hdr, fe = mapHeader(names, func(i int) string { return "column " + strconv.Itoa(i+1) }, warn)
	if fe != nil {
		return nil, fe
	}
	for i, name := range c.hdr.names {
		if trim(name) == "" && len(c.hdr.names) > 1 {
			warn(fmt.Sprintf("column %d has no name in the header; its values are ignored", i+1))
		}
	}
	// One field more than the header is kept, so that a row with too many fields shows where the
	// first extra value starts; the rest are only counted.
	c.maxFields = len(names) + 1
	return c, nil
}

// detectDialect finds the header's line ending and delimiter. end is the index of the header's
// line break (-1 if none in head). comma is 0 when delimiters tie.
func detectDialect(head []byte) (term, comma byte, end int) {
	term, end = '\n', -1
	var n [3]int // , ; tab
	quoted := false
scan:
	for i, b := range head {
		switch b {
		case '"':
			quoted = !quoted
		case ',', ';', '\t':
			if !quoted {
				n[bytes.IndexByte([]byte(",;\t"), b)]++
			}
		case '\n', '\r':
			if quoted {
				continue
			}
			end = i
			if b == '\r' && i+1 < len(head) && head[i+1] != '\n' {
				term = '\r'
			}
			break scan
		}
	}
	best, tie := 0, false
	for i := 1; i < 3; i++ {
		switch {
		case n[i] > n[best]:
			best, tie = i, false
		case n[i] == n[best] && n[i] > 0:
			tie = true
		}
	}
	if tie {
		return term, 0, end
	}
	return term, ",;\t"[best], end
}

func (c *csvSource) defaults() BatchDefaults { return BatchDefaults{} }
func (c *csvSource) close() error            { return nil }
func (c *csvSource) cell(int, field) string  { return "" }

func (c *csvSource) next(raw *rawRecord) error {
	for {
		if err := c.readRecord(); err != nil {
			return err
		}
		c.row++
		if c.row > c.maxRows {
			return tooManyRows(c.maxRows)
		}
		if c.blank() {
			continue // blank row: skipped, its number kept
		}
		raw.row, raw.line = c.row, c.startLine
		raw.has = c.hdr.has
		c.values(raw)
		if got, want := len(c.ends)+c.extra, len(c.hdr.names); got != want {
			raw.shifted = true
			raw.errs = append(raw.errs, rawError{fNone, CodeWrongFieldCount, c.fieldCountMessage(got, want)})
		} else if c.badQuote >= 0 {
			const fix = "has text after its closing quote; quote the whole value (\"…\") and double any quote inside it (\"\")"
			if f := c.hdr.colField[c.badQuote]; f != fNone {
				raw.errs = append(raw.errs, rawError{f, CodeMalformedQuotes, fix})
			} else {
				raw.errs = append(raw.errs, rawError{fNone, CodeMalformedQuotes, "column " + strconv.Itoa(c.badQuote+1) + " " + fix})
			}
		}
		return nil
	}
}

// values sets the known fields of raw from the current record. Only they outlive the record: a
// row is read ahead with many others, so a long one (its unknown columns or extra fields making
// it longer than numFields fields at the limit) keeps a copy of its known fields alone.
func (c *csvSource) values(raw *rawRecord) {
	n := len(c.ends)
	if n > len(c.hdr.colField) {
		n = len(c.hdr.colField)
	}
	if n == 0 {
		return
	}
	rec := c.rec[:c.ends[n-1]]
	if len(rec) <= int(numFields)*(c.maxField+1) {
		s := string(rec)
		for i, f := range c.hdr.colField[:n] {
			if f != fNone {
				raw.val[f] = s[c.starts[i]:c.ends[i]]
			}
		}
		return
	}
	c.compact = c.compact[:0]
	var at [numFields][2]int
	for i, f := range c.hdr.colField[:n] {
		if f != fNone {
			at[f][0] = len(c.compact)
			c.compact = append(c.compact, rec[c.starts[i]:c.ends[i]]...)
			at[f][1] = len(c.compact)
		}
	}
	s := string(c.compact)
	for _, f := range c.hdr.colField[:n] {
		if f != fNone {
			raw.val[f] = s[at[f][0]:at[f][1]]
		}
	}
}

func (c *csvSource) fieldCountMessage(got, want int) string {
	d := map[byte]string{',': "comma (,)", ';': "semicolon (;)", '\t': "tab"}[c.comma]
	if got > want {
		return fmt.Sprintf("has %d fields but the header has %d; a value probably contains a %s without quotes (a decimal comma in an amount, a comma in a name): quote that value or remove the extra delimiter",
			got, want, d)
	}
	return fmt.Sprintf("has %d fields but the header has %d; write every column, even an empty one, separated by a %s",
		got, want, d)
}

// readLine returns the next physical line without its line ending; io.EOF when none is left. A
// line longer than maxLineBytes stops the file.
func (c *csvSource) readLine() ([]byte, error) {
	line, err := c.br.ReadSlice(c.term)
	if err == bufio.ErrBufferFull {
		c.lineBuf = append(c.lineBuf[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(c.lineBuf) > maxLineBytes {
				return nil, c.lineTooLong(c.line + 1)
			}
			line, err = c.br.ReadSlice(c.term)
			c.lineBuf = append(c.lineBuf, line...)
		}
		line = c.lineBuf
	}
	if err != nil && (err != io.EOF || len(line) == 0) {
		return nil, err
	}
	if len(line) > maxLineBytes+1 {
		return nil, c.lineTooLong(c.line + 1)
	}
	c.line++
	if n := len(line); n > 0 && line[n-1] == c.term {
		line = line[:n-1]
		if c.term == '\n' && n > 1 && line[n-2] == '\r' {
			line = line[:n-2]
		}
	}
	return line, nil
}

func (c *csvSource) lineTooLong(line int) error {
	return &FileError{Code: CodeFieldTooLong, Row: c.row + 1, Message: fmt.Sprintf(
		"row %d (line %d) is longer than %s, the limit for one row; the file is probably not a CSV export, or a quote is not closed", c.row+1, line, byteSize(maxLineBytes))}
}

// blank reports whether every field of the current record is empty or white space.
func (c *csvSource) blank() bool {
	if len(c.ends) > 0 && c.ends[0] > c.starts[0] && c.rec[c.starts[0]] > ' ' && c.rec[c.starts[0]] < utf8.RuneSelf {
		return false // the usual row: its first field starts with text
	}
	for i, e := range c.ends {
		if len(bytes.TrimSpace(c.rec[c.starts[i]:e])) > 0 {
			return false
		}
	}
	return true
}

// readRecord reads one record into c.rec, c.starts and c.ends: its first c.maxFields fields;
// further fields are counted in c.extra without being kept.
func (c *csvSource) readRecord() error {
	c.buf, c.starts, c.ends, c.extra, c.badQuote = c.buf[:0], c.starts[:0], c.ends[:0], 0, -1
	line, err := c.readLine()
	if err != nil {
		return err
	}
	c.startLine = c.line
	if bytes.IndexByte(line, '"') < 0 {
		// No quotes: the fields are slices of the line (valid until the next read).
		c.rec = line
		for start := 0; ; {
			if len(c.ends) == c.maxFields {
				c.extra = bytes.Count(line[start:], []byte{c.comma}) + 1
				return nil
			}
			end := bytes.IndexByte(line[start:], c.comma)
			if end < 0 {
				end = len(line)
			} else {
				end += start
			}
			if end-start > c.maxField {
				return c.tooLong()
			}
			c.starts, c.ends = append(c.starts, start), append(c.ends, end)
			if end == len(line) {
				return nil
			}
			start = end + 1
		}
	}
	c.rec = nil
	pos := 0
	for {
		// A field past maxFields is scanned (its quotes decide where the record ends) but not kept.
		keep := len(c.ends) < c.maxFields
		start, n := len(c.buf), 0
		add := func(b []byte) {
			n += len(b)
			if keep {
				c.buf = append(c.buf, b...)
			}
		}
		if pos < len(line) && line[pos] == '"' {
			pos++
			for {
				i := bytes.IndexByte(line[pos:], '"')
				if i < 0 {
					add(line[pos:])
					add([]byte{'\n'})
					if n > c.maxField {
						return c.tooLong()
					}
					if len(c.buf) > maxLineBytes {
						return c.lineTooLong(c.startLine)
					}
					if line, err = c.readLine(); err != nil {
						if err == io.EOF {
							return &FileError{Code: CodeMalformedCSV, Row: c.row + 1, Message: fmt.Sprintf(
								"row %d (line %d): a quoted value is never closed; add the closing quote (\") or remove the opening one", c.row+1, c.startLine)}
						}
						return err
					}
					pos = 0
					continue
				}
				add(line[pos : pos+i])
				pos += i + 1
				if pos < len(line) && line[pos] == '"' {
					add([]byte{'"'})
					pos++
					continue
				}
				break
			}
			if pos < len(line) && line[pos] != c.comma {
				if c.badQuote < 0 && keep {
					c.badQuote = len(c.ends)
				}
				i := bytes.IndexByte(line[pos:], c.comma)
				if i < 0 {
					i = len(line) - pos
				}
				add(line[pos : pos+i])
				pos += i
			}
		} else {
			i := bytes.IndexByte(line[pos:], c.comma)
			if i < 0 {
				i = len(line) - pos
			}
			add(line[pos : pos+i])
			pos += i
		}
		if n > c.maxField {
			return c.tooLong()
		}
		if keep {
			c.starts, c.ends = append(c.starts, start), append(c.ends, len(c.buf))
		} else {
			c.extra++
		}
		if pos >= len(line) {
			c.rec = c.buf
			return nil
		}
		pos++ // the delimiter
	}
}

func (c *csvSource) tooLong() error {
	return &FileError{Code: CodeFieldTooLong, Row: c.row + 1, Message: fmt.Sprintf(
		"row %d (line %d), field %d is longer than %d bytes; this usually means a quote (\") is not closed earlier in the row, otherwise shorten the value",
		c.row+1, c.startLine, len(c.ends)+c.extra+1, c.maxField)}
}
