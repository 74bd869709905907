package payoutfile

import (
	"sort"
	"strconv"
)

// rowError returns a problem of a row with its location for the clerk: "row 19 (line 20, ID
// E-1042), amount: " followed by msg (see locate). id is the row's item external ID, "" when it
// has none or its columns cannot be trusted; f is fNone for the whole row.
func (r *Reader) rowError(row, line int, id string, f field, code, msg string) RowError {
	cell := ""
	if f != fNone {
		cell = r.src.cell(line, f)
	}
	return RowError{
		Row: row, Column: f.String(), Code: code, Message: r.locate(row, line, cell, id, f) + ": " + msg,
		Line: line, Cell: cell, ItemExternalID: id,
	}
}

// locate renders where a problem is, as a clerk looks for it: the row number, then in
// parentheses the XLSX cell or else the file's line ("line 20" in a CSV file, "sheet row 20" in a
// sheet when the column has no cell) and the item external ID, then the column:
//
//	row 19 (line 20, ID E-1042), amount
//	row 19 (cell E20), amount
//	row 14 (line 15)
//
// JSON Lines rows are their line numbers and JSON items have none, so only the ID is added there.
func (r *Reader) locate(row, line int, cell, id string, f field) string {
	b := make([]byte, 0, 48+len(id))
	b = append(b, "row "...)
	b = strconv.AppendInt(b, int64(row), 10)
	open := false
	sep := func() {
		if open {
			b = append(b, ", "...)
		} else {
			b = append(b, " ("...)
			open = true
		}
	}
	switch {
	case cell != "":
		sep()
		b = append(b, "cell "...)
		b = append(b, cell...)
	case line > 0 && r.lineWord != "":
		sep()
		b = append(b, r.lineWord...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(line), 10)
	}
	if id != "" {
		sep()
		b = append(b, "ID "...)
		b = append(b, idText(id)...)
	}
	if open {
		b = append(b, ')')
	}
	if f != fNone {
		b = append(b, ", "...)
		b = append(b, f.String()...)
	}
	return string(b)
}

// rowAt names an earlier row in a message, with its line when the Reader knows it: "row 3 (line
// 4)", "row 3 (sheet row 4)", "row 3".
func (r *Reader) rowAt(row int) string {
	return r.locate(row, r.lines.lookup(row), "", "", fNone)
}

// idText renders an item external ID in a row's location: as written when it is acceptable text,
// quoted (escaped, cut at 40 characters) when it has characters that must be made visible or is
// too long.
func idText(id string) string {
	if code, _ := textProblem(id, MaxItemExternalIDLen); code != "" {
		return quote(id)
	}
	return id
}

// maxLineShifts bounds the lineMap: 8 MiB. A file needs one entry per row only when every row
// holds a quoted line break; past the limit, messages name later rows without their line.
const maxLineShifts = 1 << 20

// lineMap remembers where the rows returned so far start, to name an earlier row with its line
// (a duplicate's first row). Line and row advance together, line = row + shift, but for the CSV
// rows after a quoted line break (and for the header and blank lines before it): only the rows
// where the shift changes are kept.
type lineMap struct {
	rows   []uint32 // the first row of each stretch with one shift, in order
	shifts []uint32 // line − row in that stretch
	last   int      // the last row recorded: later rows are unknown
	full   bool     // maxLineShifts was reached: rows after last are unknown for good
}

// record notes that row starts at line; rows come in order. line 0 (JSON) is not recorded.
func (m *lineMap) record(row, line int) {
	if line <= 0 || m.full || line < row {
		return
	}
	shift := uint32(line - row)
	if n := len(m.shifts); n == 0 || m.shifts[n-1] != shift {
		if n == maxLineShifts {
			m.full = true
			return
		}
		m.rows, m.shifts = append(m.rows, uint32(row)), append(m.shifts, shift)
	}
	m.last = row
}

// lookup returns the line where row starts, or 0 when it is not known.
func (m *lineMap) lookup(row int) int {
	if row > m.last || len(m.rows) == 0 || uint32(row) < m.rows[0] {
		return 0
	}
	i := sort.Search(len(m.rows), func(i int) bool { return m.rows[i] > uint32(row) }) - 1
	return row + int(m.shifts[i])
}
