package payoutfile

import (
	"fmt"
	"strings"
)

// field is one of the known columns.
type field int8

const (
	fItemExternalID field = iota
	fRecipientType
	fRecipientInfo
	fRecipientName
	fAmount
	fCurrency
	fDescription
	fNonWithdrawable
	numFields
	fNone field = -1
)

// String returns the canonical column name, used in RowError.Column.
func (f field) String() string {
	switch f {
	case fItemExternalID:
		return "item_external_id"
	case fRecipientType:
		return "recipient_type"
	case fRecipientInfo:
		return "recipient_info"
	case fRecipientName:
		return "recipient_name"
	case fAmount:
		return "amount"
	case fCurrency:
		return "currency"
	case fDescription:
		return "description"
	case fNonWithdrawable:
		return "non_withdrawable"
	}
	return ""
}

// required reports whether a header must have the column.
func (f field) required() bool {
	switch f {
	case fRecipientType, fRecipientInfo, fAmount, fCurrency:
		return true
	}
	return false
}

// fieldByName matches a header name or JSON key ignoring case, '_', '-' and spaces.
func fieldByName(name string) field {
	var buf [32]byte
	n := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_' || c == '-' || c == ' ':
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		if n == len(buf) {
			return fNone
		}
		buf[n] = c
		n++
	}
	switch string(buf[:n]) {
	case "itemexternalid":
		return fItemExternalID
	case "recipienttype":
		return fRecipientType
	case "recipientinfo":
		return fRecipientInfo
	case "recipientname":
		return fRecipientName
	case "amount":
		return fAmount
	case "currency":
		return fCurrency
	case "description":
		return fDescription
	case "nonwithdrawable":
		return fNonWithdrawable
	}
	return fNone
}

// expectedColumns lists the column names for messages.
func expectedColumns() string {
	names := make([]string, numFields)
	for f := field(0); f < numFields; f++ {
		names[f] = f.String()
	}
	return strings.Join(names, ", ")
}

// header maps the columns of a CSV or XLSX header.
type header struct {
	colField []field         // by column index; fNone for ignored columns
	fieldCol [numFields]int  // column index of each field, -1 when absent
	has      [numFields]bool // the field has a column
	names    []string        // header names as written, trimmed
}

// mapHeader matches header names to fields. colName renders a column position for messages
// ("column 3", "column C"). Unknown and unnamed columns become warnings.
func mapHeader(names []string, colName func(int) string, warn func(string)) (header, *FileError) {
	h := header{colField: make([]field, len(names)), names: names}
	for f := range h.fieldCol {
		h.fieldCol[f] = -1
	}
	known := 0
	var unknown []string
	for i, name := range names {
		name = strings.TrimSpace(name)
		h.colField[i] = fNone
		if name == "" {
			continue
		}
		f := fieldByName(name)
		if f == fNone {
			unknown = append(unknown, fmt.Sprintf("%s (%s)", quote(name), colName(i)))
			continue
		}
		if prev := h.fieldCol[f]; prev >= 0 {
			return h, &FileError{Code: CodeBadHeader, Message: fmt.Sprintf(
				"the header has the column %s twice (%s and %s); keep one of them", f, colName(prev), colName(i))}
		}
		h.fieldCol[f], h.colField[i], h.has[f] = i, f, true
		known++
	}
	if known == 0 {
		msg := "the first row is not a header: it names none of the columns " + expectedColumns() +
			"; add the header row (names in snake_case or camelCase, any order)"
		if len(names) == 1 {
			msg += ", and check the delimiter: use , or ; or tab"
		}
		return h, &FileError{Code: CodeBadHeader, Message: msg}
	}
	var missing []string
	for f := field(0); f < numFields; f++ {
		if f.required() && !h.has[f] {
			missing = append(missing, f.String())
		}
	}
	if len(missing) > 0 {
		return h, &FileError{Code: CodeMissingColumn, Message: fmt.Sprintf(
			"the header lacks the required column(s) %s; add them (the columns are %s)", strings.Join(missing, ", "), expectedColumns())}
	}
	if len(unknown) > 0 {
		warn(fmt.Sprintf("unknown column(s) ignored: %s; the known columns are %s", strings.Join(unknown, ", "), expectedColumns()))
	}
	return h, nil
}
