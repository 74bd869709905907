package payoutfile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxItemBytes is the largest JSON or JSON Lines item accepted.
func maxItemBytes(o Options) int { return 16*o.MaxFieldBytes + 4096 }

// jsonSource streams the iyzico init request shape {"externalId", "conversationId", "purpose",
// "items": [...]} (or a bare array of items) with a token decoder: one item is decoded at a time,
// and a budget on the bytes read per item bounds memory whatever the input.
type jsonSource struct {
	dec      *json.Decoder
	budget   *budgetReader
	warn     func(string)
	d        BatchDefaults
	inItems  bool
	topArray bool
	sawItems bool
	done     bool
	idx      int
	limit    int
}

func newJSONSource(br *bufio.Reader, o Options, warn func(string)) (source, error) {
	j := &jsonSource{warn: warn, limit: maxItemBytes(o)}
	j.budget = &budgetReader{r: br, limit: j.limit}
	j.budget.reset()
	j.dec = json.NewDecoder(j.budget)
	j.dec.UseNumber()
	tok, err := j.dec.Token()
	if err != nil {
		return nil, j.syntax(err)
	}
	switch tok {
	case json.Delim('['):
		j.inItems, j.topArray, j.sawItems = true, true, true
		return j, nil
	case json.Delim('{'):
	default:
		return nil, &FileError{Code: CodeMalformedJSON, Message: `the JSON must be an object {"externalId": …, "items": [ … ]} or an array of items; check the file, or use --format jsonl for one item per line`}
	}
	if err := j.members(); err != nil {
		return nil, err
	}
	if !j.sawItems {
		return nil, &FileError{Code: CodeMalformedJSON, Message: `the JSON object has no "items" array; put the payout items in "items": [ … ]`}
	}
	return j, nil
}

// members reads top-level members until the items array opens or the object ends.
func (j *jsonSource) members() error {
	for j.dec.More() {
		j.budget.reset()
		tok, err := j.dec.Token()
		if err != nil {
			return j.syntax(err)
		}
		key, _ := tok.(string)
		var dst *string
		switch strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(key)) {
		case "externalid":
			dst = &j.d.ExternalID
		case "conversationid":
			dst = &j.d.ConversationID
		case "purpose":
			dst = &j.d.Purpose
		case "items":
			if j.sawItems {
				return &FileError{Code: CodeMalformedJSON, Message: `the JSON has "items" twice; keep one items array`}
			}
			tok, err := j.dec.Token()
			if err != nil {
				return j.syntax(err)
			}
			if tok != json.Delim('[') {
				return &FileError{Code: CodeMalformedJSON, Message: `"items" must be an array of item objects: "items": [ {…}, {…} ]`}
			}
			j.inItems, j.sawItems = true, true
			return nil
		case "locale":
		default:
			j.warn(fmt.Sprintf("unknown top-level key %s ignored", quote(key)))
		}
		v, ok, err := scalar(j.dec)
		if err != nil {
			return j.syntax(err)
		}
		if dst != nil {
			if !ok {
				return &FileError{Code: CodeMalformedJSON, Message: fmt.Sprintf("%s must be a string", quote(key))}
			}
			*dst = trim(v)
		}
	}
	_, err := j.dec.Token() // '}'
	if err != nil {
		return j.syntax(err)
	}
	return j.end()
}

// end checks that nothing follows the document.
func (j *jsonSource) end() error {
	j.done = true
	if _, err := j.dec.Token(); err != io.EOF {
		if err != nil {
			return j.syntax(err)
		}
		return &FileError{Code: CodeMalformedJSON, Row: j.idx, Message: "there is more after the end of the JSON document; a file holds one document (for one item per line use --format jsonl)"}
	}
	return nil
}

func (j *jsonSource) defaults() BatchDefaults { return j.d }
func (j *jsonSource) close() error            { return nil }
func (j *jsonSource) cell(int, field) string  { return "" }

func (j *jsonSource) next(raw *rawRecord) error {
	if j.done {
		return io.EOF
	}
	if j.dec.More() {
		j.idx++
		raw.row = j.idx
		j.budget.reset()
		if err := decodeItem(j.dec, raw, j.warn); err != nil {
			return j.syntax(err)
		}
		return nil
	}
	if _, err := j.dec.Token(); err != nil { // ']'
		return j.syntax(err)
	}
	j.inItems = false
	var err error
	if j.topArray {
		err = j.end()
	} else {
		err = j.members()
	}
	if err != nil {
		return err
	}
	return io.EOF
}

// syntax turns a decoding error into a *FileError.
func (j *jsonSource) syntax(err error) error {
	var se *json.SyntaxError
	where := fmt.Sprintf("near byte %d", j.dec.InputOffset())
	if j.idx > 0 {
		where = fmt.Sprintf("in item %d (%s)", j.idx, where)
	}
	switch {
	case errors.Is(err, errOverBudget) && j.idx == 0:
		return &FileError{Code: CodeItemTooLarge, Message: fmt.Sprintf(
			"a top-level value of the JSON is larger than %d bytes; keep only externalId, conversationId, purpose and items", j.limit)}
	case errors.Is(err, errOverBudget):
		return &FileError{Code: CodeItemTooLarge, Row: j.idx, Message: fmt.Sprintf(
			"item %d is larger than %d bytes; check that item (a value may be unclosed or absurdly long)", j.idx, j.limit)}
	case errors.Is(err, errFileTooLarge):
		return err
	case errors.As(err, &se):
		return &FileError{Code: CodeMalformedJSON, Row: j.idx, Message: fmt.Sprintf("the JSON is broken %s: %v; check the file with a JSON validator", where, err)}
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return &FileError{Code: CodeMalformedJSON, Row: j.idx, Message: fmt.Sprintf("the JSON ends too early %s; the file is probably cut off, export it again", where)}
	}
	var fe *FileError
	if errors.As(err, &fe) {
		return fe
	}
	return fmt.Errorf("%s: %w", where, err)
}

// jsonlSource reads JSON Lines: one item object per line. A line that is not a JSON object is a
// row error and reading goes on.
type jsonlSource struct {
	br      *bufio.Reader
	warn    func(string)
	line    int
	maxLine int
	maxRows int
	buf     []byte
}

func newJSONLSource(br *bufio.Reader, o Options, warn func(string)) (source, error) {
	head, _ := br.Peek(bufSize)
	first := bytes.TrimSpace(head)
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = bytes.TrimSpace(first[:i])
	}
	if bytes.Equal(first, []byte("{")) || bytes.HasPrefix(first, []byte("[")) {
		return nil, &FileError{Code: CodeMalformedJSON, Message: "this looks like a JSON document, not JSON Lines (one item object per line); give it a .json name or pass --format json"}
	}
	return &jsonlSource{br: br, warn: warn, maxLine: maxItemBytes(o), maxRows: o.MaxRows}, nil
}

func (j *jsonlSource) defaults() BatchDefaults { return BatchDefaults{} }
func (j *jsonlSource) close() error            { return nil }
func (j *jsonlSource) cell(int, field) string  { return "" }

func (j *jsonlSource) next(raw *rawRecord) error {
	for {
		line, err := j.readLine()
		if err != nil {
			return err
		}
		if j.line > j.maxRows {
			return tooManyRows(j.maxRows)
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		raw.row, raw.line = j.line, j.line
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		err = decodeItem(dec, raw, j.warn)
		if err == nil {
			if _, err2 := dec.Token(); err2 != io.EOF {
				err = errors.New("there is more after the item's closing brace")
			}
		}
		if err != nil {
			raw.shifted = true
			raw.errs = append(raw.errs[:0], rawError{fNone, CodeMalformedItem, fmt.Sprintf(
				"is not one JSON item object (%v); write each item as {\"recipientType\": …} on its own line", err)})
		}
		return nil
	}
}

// readLine returns the next line without its line ending; io.EOF when none is left.
func (j *jsonlSource) readLine() ([]byte, error) {
	line, err := j.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		j.buf = append(j.buf[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(j.buf) > j.maxLine {
				return nil, &FileError{Code: CodeItemTooLarge, Row: j.line + 1, Message: fmt.Sprintf(
					"row %d is longer than %d bytes; an item must fit on one line of reasonable length", j.line+1, j.maxLine)}
			}
			line, err = j.br.ReadSlice('\n')
			j.buf = append(j.buf, line...)
		}
		line = j.buf
	}
	if err != nil && (err != io.EOF || len(line) == 0) {
		return nil, err
	}
	if len(line) > j.maxLine {
		return nil, &FileError{Code: CodeItemTooLarge, Row: j.line + 1, Message: fmt.Sprintf(
			"row %d is longer than %d bytes; an item must fit on one line of reasonable length", j.line+1, j.maxLine)}
	}
	j.line++
	return line, nil
}

// decodeItem reads one item object from dec into raw. Syntax and read errors are returned; a value
// of the wrong shape becomes a row error in raw.errs.
func decodeItem(dec *json.Decoder, raw *rawRecord, warn func(string)) error {
	rowErr := func(f field, code, msg string) {
		if code == CodeWrongType {
			raw.bad[f] = true
		}
		raw.errs = append(raw.errs, rawError{f, code, msg})
	}
	set := func(f field, v string) {
		if raw.has[f] {
			rowErr(f, CodeDuplicateField, "is given twice in the item; keep one")
		}
		raw.has[f], raw.val[f] = true, v
	}
	raw.numeric[fAmount] = true // JSON amounts always use '.', whatever DecimalComma says
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		if tok == json.Delim('[') {
			if err := skipNested(dec); err != nil {
				return err
			}
		}
		raw.shifted = true
		raw.errs = append(raw.errs, rawError{fNone, CodeMalformedItem, `the item is not a JSON object; write it as {"recipientType": …, "amount": {…}}`})
		return nil
	}
	var amountCur string
	amountCurSet := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		f := fieldByName(key)
		switch f {
		case fNone:
			warn(fmt.Sprintf("unknown item key %s ignored", quote(key)))
			if err := skipValue(dec); err != nil {
				return err
			}
			continue
		case fAmount:
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			if tok != json.Delim('{') {
				v, ok, err := scalarToken(dec, tok)
				if err != nil {
					return err
				}
				if !ok {
					rowErr(f, CodeWrongType, `must be {"value": 100.50, "currency": "TRY"} or a number`)
				}
				set(f, v)
				continue
			}
			if raw.has[f] {
				rowErr(f, CodeDuplicateField, "is given twice in the item; keep one")
			}
			raw.has[f] = true
			for dec.More() {
				tok, err := dec.Token()
				if err != nil {
					return err
				}
				key, _ := tok.(string)
				v, ok, err := scalar(dec)
				if err != nil {
					return err
				}
				switch strings.ToLower(key) {
				case "value":
					if !ok {
						rowErr(f, CodeWrongType, "value must be a number such as 100.50")
					}
					raw.val[f] = v
				case "currency":
					if !ok {
						rowErr(fCurrency, CodeWrongType, `must be a currency code such as "TRY"`)
					}
					amountCur, amountCurSet = v, true
				default:
					warn(fmt.Sprintf("unknown amount key %s ignored", quote(key)))
				}
			}
			if _, err := dec.Token(); err != nil { // '}'
				return err
			}
		default:
			v, ok, err := scalar(dec)
			if err != nil {
				return err
			}
			if !ok {
				rowErr(f, CodeWrongType, "must be a string, a number or true/false, not an object or array")
			}
			set(f, v)
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return err
	}
	if amountCurSet {
		if raw.has[fCurrency] && trim(raw.val[fCurrency]) != trim(amountCur) {
			rowErr(fCurrency, CodeDuplicateField, "differs between the item and its amount; give the currency once, in amount.currency")
		} else {
			raw.has[fCurrency], raw.val[fCurrency] = true, amountCur
		}
	}
	return nil
}

// scalar reads a value: a string, a number (its exact text), true/false, or null (""). ok is false
// for an object or array, which is skipped.
func scalar(dec *json.Decoder) (v string, ok bool, err error) {
	tok, err := dec.Token()
	if err != nil {
		return "", false, err
	}
	return scalarToken(dec, tok)
}

func scalarToken(dec *json.Decoder, tok json.Token) (string, bool, error) {
	switch t := tok.(type) {
	case string:
		return t, true, nil
	case json.Number:
		return string(t), true, nil
	case bool:
		if t {
			return "true", true, nil
		}
		return "false", true, nil
	case nil:
		return "", true, nil
	case json.Delim:
		return "", false, skipNested(dec)
	}
	return "", false, nil
}

// skipValue skips the next value.
func skipValue(dec *json.Decoder) error {
	_, _, err := scalar(dec)
	return err
}

// skipNested skips to the end of an object or array whose opening delimiter was read.
func skipNested(dec *json.Decoder) error {
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// errOverBudget is returned by budgetReader once an item read more than its budget.
var errOverBudget = errors.New("item too large")

// budgetReader limits how much is read between resets, so a decoder cannot buffer an unbounded
// value.
type budgetReader struct {
	r     io.Reader
	left  int
	limit int
}

func (b *budgetReader) reset() { b.left = b.limit }

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errOverBudget
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= n
	return n, err
}
