package payoutfile

import (
	"fmt"
	"strconv"
	"strings"
)

// Bounds of Report.Repeats, so that a report stays small whatever the file: at most
// maxRepeats recipients are listed, each with at most maxRepeatRows of its rows.
const (
	maxRepeats    = 100
	maxRepeatRows = 20
)

// RecipientRepeat is one recipient that more than one valid row of a file pays (each row after
// the first has a CodeDuplicateRecipient warning), as Report lists it.
type RecipientRepeat struct {
	RecipientType string // canonical recipient type
	Recipient     string // the recipient info masked (see Mask), never whole
	Rows          []int  // the rows paying it, the first one first, at most 20
	Lines         []int  // where those rows start (CSV, JSON Lines line, XLSX sheet row); nil for JSON
	RowCount      int    // every row paying it, the first one and those not listed included
}

// addRepeat notes a record with a CodeDuplicateRecipient warning; lineOf names the first row's
// line (Reader.LineOf).
func (rep *Report) addRepeat(rec *Record, lineOf func(int) int) {
	if rec.SameRecipientAs == 0 {
		return
	}
	rep.RepeatedRows++
	i, ok := rep.repeatIndex[rec.SameRecipientAs]
	if !ok {
		if len(rep.Repeats) == maxRepeats {
			rep.RepeatedRowsUnlisted++
			return
		}
		if rep.repeatIndex == nil {
			rep.repeatIndex = map[int]int{}
		}
		i = len(rep.Repeats)
		rep.repeatIndex[rec.SameRecipientAs] = i
		r := RecipientRepeat{RecipientType: rec.Item.RecipientType, Recipient: Mask(rec.Item.RecipientType, rec.Item.RecipientInfo),
			Rows: []int{rec.SameRecipientAs}, RowCount: 1}
		if rec.Line > 0 {
			r.Lines = []int{lineOf(rec.SameRecipientAs)}
		}
		rep.Repeats = append(rep.Repeats, r)
	}
	r := &rep.Repeats[i]
	r.RowCount++
	if len(r.Rows) < maxRepeatRows {
		r.Rows = append(r.Rows, rec.Row)
		if r.Lines != nil {
			r.Lines = append(r.Lines, rec.Line)
		}
	}
}

// repeatWarnings returns one warning per listed recipient paid by several rows, and one for
// those not listed:
//
//	rows 1, 2 and 9 (lines 2, 3 and 10) pay the same recipient, IBAN TR33************1326; …
func (rep *Report) repeatWarnings() []string {
	var out []string
	for _, r := range rep.Repeats {
		var b strings.Builder
		b.WriteString("rows ")
		b.WriteString(listInts(r.Rows, r.RowCount))
		// JSON Lines rows are their lines already.
		if words := map[Format]string{FormatCSV: "lines", FormatXLSX: "sheet rows"}[rep.Format]; words != "" && len(r.Lines) == len(r.Rows) {
			fmt.Fprintf(&b, " (%s %s)", words, listInts(r.Lines, len(r.Lines)))
		}
		fmt.Fprintf(&b, " pay the same recipient, %s %s; check that no payment is entered twice (each of these rows is valid and will be paid)",
			recipientLabel(r.RecipientType), r.Recipient)
		out = append(out, b.String())
	}
	if n := rep.RepeatedRowsUnlisted; n > 0 {
		out = append(out, fmt.Sprintf("%d more rows pay a recipient that an earlier row pays too (not listed: the first %d such recipients are); check them as well", n, maxRepeats))
	}
	return out
}

// listInts writes "1, 2 and 9", or "1, 2, 9 and 4 more" when total exceeds the listed numbers.
func listInts(ns []int, total int) string {
	var b strings.Builder
	for i, n := range ns {
		switch {
		case i == 0:
		case i == len(ns)-1 && total == len(ns):
			b.WriteString(" and ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(n))
	}
	if more := total - len(ns); more > 0 {
		fmt.Fprintf(&b, " and %d more", more)
	}
	return b.String()
}
