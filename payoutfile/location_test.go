package payoutfile

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/masspayout/masspayout/payoutfile/payoutfiletest"
)

// TestCSVLines: messages name the CSV line where a row starts, counting the blank lines before
// the header and the line breaks inside quoted values, whatever the line ending.
func TestCSVLines(t *testing.T) {
	header := "item_external_id,recipient_type,recipient_info,recipient_name,amount,currency,notes"
	rows := []string{
		"", "", header, // lines 1 to 3
		`A,MEMBER_ID,1,,1,TRY,"two` + "\x00" + `lines"`, // row 1, lines 4 and 5
		"B,MEMBER_ID,x,,1,TRY,",                         // row 2, line 6
		"",                                              // row 3, blank
		"A,MEMBER_ID,2,,1,TRY,",                         // row 4, line 8
		",MEMBER_ID,3,,1,TRY,,",                         // row 5, line 9: one field too many
	}
	for name, eol := range map[string]string{"LF": "\n", "CRLF": "\r\n", "CR": "\r"} {
		t.Run(name, func(t *testing.T) {
			in := strings.ReplaceAll(strings.Join(rows, eol)+eol, "\x00", eol)
			recs, _, err := readAll(t, in, Options{Format: FormatCSV})
			if err != nil || len(recs) != 4 {
				t.Fatalf("records %+v, error %v", recs, err)
			}
			var lines []int
			for _, r := range recs {
				lines = append(lines, r.Line)
			}
			if !slices.Equal(lines, []int{4, 6, 8, 9}) {
				t.Errorf("lines %v, want [4 6 8 9]", lines)
			}
			for i, want := range []string{
				"",
				"row 2 (line 6, ID B), recipient_info: member ID ****: must contain digits 0–9 only",
				`row 4 (line 8, ID A), item_external_id: "A" was already used in row 1 (line 4); every item external ID must be unique in the file`,
				"row 5 (line 9): has 8 fields but the header has 7;",
			} {
				rec := recs[i]
				if want == "" {
					if !rec.Valid() {
						t.Errorf("row %d: %v", rec.Row, rec.Errors)
					}
					continue
				}
				if len(rec.Errors) != 1 || !strings.HasPrefix(rec.Errors[0].Message, want) {
					t.Errorf("row %d: errors %v, want one starting %q", rec.Row, rec.Errors, want)
					continue
				}
				if e := rec.Errors[0]; e.Line != rec.Line || e.Cell != "" {
					t.Errorf("row %d: error line %d, cell %q; want line %d and no cell", rec.Row, e.Line, e.Cell, rec.Line)
				}
			}
			if id := recs[3].Errors[0].ItemExternalID; id != "" {
				t.Errorf("a row with a wrong field count names ID %q; its columns cannot be trusted", id)
			}
		})
	}
}

// TestXLSXLocations: XLSX messages name the cell, or the sheet row of an earlier row.
func TestXLSXLocations(t *testing.T) {
	rows := [][]cell{
		payoutfiletest.Strings("item_external_id", "recipient_type", "recipient_info", "amount", "currency"),
		{xS("X"), xS("MEMBER_ID"), xN("1"), xN("1"), xS("TRY")},
		{},
		{xS("X"), xS("IBAN"), xN("2"), xN("1"), xS("TRY")},
	}
	recs, _, err := readXLSX(t, payoutfiletest.XLSX(rows, payoutfiletest.XLSXOptions{}), Options{})
	if err != nil || len(recs) != 2 {
		t.Fatalf("records %+v, error %v", recs, err)
	}
	var msgs []string
	for _, e := range recs[1].Errors {
		msgs = append(msgs, e.Message)
	}
	for _, want := range []string{
		"row 3 (cell C4, ID X), recipient_info: IBAN ****: ",
		"row 3 (sheet row 4, ID X), recipient_name: empty; an IBAN payout needs the account holder's name",
		`row 3 (cell A4, ID X), item_external_id: "X" was already used in row 1 (sheet row 2);`,
	} {
		if !slices.ContainsFunc(msgs, func(m string) bool { return strings.HasPrefix(m, want) }) {
			t.Errorf("messages %q lack one starting %q", msgs, want)
		}
	}
}

// TestJSONLocations: JSON Lines rows are their lines, JSON items have none; both name the ID.
func TestJSONLocations(t *testing.T) {
	in := "\n" + `{"itemExternalId":"J2","recipientType":"MEMBER_ID","recipientInfo":"x","amount":{"value":1,"currency":"TRY"}}` + "\n"
	recs, _, err := readAll(t, in, Options{Format: FormatJSONL})
	if err != nil || len(recs) != 1 {
		t.Fatalf("records %+v, error %v", recs, err)
	}
	if e := recs[0].Errors[0]; recs[0].Line != 2 || e.Line != 2 || !strings.HasPrefix(e.Message, "row 2 (ID J2), recipient_info: ") {
		t.Errorf("JSON Lines: record line %d, error %+v", recs[0].Line, e)
	}
	recs, _, err = readAll(t, `{"items":[{"itemExternalId":"J1","recipientType":"MEMBER_ID","recipientInfo":"x","amount":{"value":1,"currency":"TRY"}}]}`, Options{Format: FormatJSON})
	if err != nil || len(recs) != 1 {
		t.Fatalf("records %+v, error %v", recs, err)
	}
	if e := recs[0].Errors[0]; recs[0].Line != 0 || e.Line != 0 || !strings.HasPrefix(e.Message, "row 1 (ID J1), recipient_info: ") {
		t.Errorf("JSON: record line %d, error %+v", recs[0].Line, e)
	}
}

func TestLineMap(t *testing.T) {
	var m lineMap
	for row := 1; row <= 10; row++ {
		line := row + 1
		if row > 4 {
			line += 3 // row 4 spans four lines
		}
		m.record(row, line)
	}
	if len(m.rows) != 2 {
		t.Errorf("%d entries for one change of shift, want 2", len(m.rows))
	}
	for row, want := range map[int]int{0: 0, 1: 2, 4: 5, 5: 9, 10: 14, 11: 0} {
		if got := m.lookup(row); got != want {
			t.Errorf("lookup(%d) = %d, want %d", row, got, want)
		}
	}
	// A shift that changes on every row fills the map; rows after it are not known.
	var full lineMap
	for row := 1; row <= maxLineShifts+10; row++ {
		full.record(row, 2*row)
	}
	if !full.full || len(full.rows) != maxLineShifts {
		t.Fatalf("full %v with %d entries, want full with %d", full.full, len(full.rows), maxLineShifts)
	}
	if got := full.lookup(maxLineShifts); got != 2*maxLineShifts {
		t.Errorf("lookup of the last row kept = %d, want %d", got, 2*maxLineShifts)
	}
	if got := full.lookup(maxLineShifts + 1); got != 0 {
		t.Errorf("lookup past the limit = %d, want 0 (unknown)", got)
	}
}

// TestDuplicateRecipients: a valid row paying the recipient of an earlier valid row stays valid,
// with a warning naming that row; the type counts, invalid rows do not.
func TestDuplicateRecipients(t *testing.T) {
	const iban = "TR330006100519786457841326"
	row := func(id, typ, info, name, amount string) []string {
		return []string{id, typ, info, name, amount, "TRY", "", ""}
	}
	in := csvOf(csvHeader,
		row("E1", "IBAN", "TR33 0006 1005 1978 6457 8413 26", "Ayşe Yılmaz", "100"), // 1
		row("E2", "iban", strings.ToLower(iban), "Ayşe Yılmaz", "250.50"),           // 2: the same IBAN
		row("E3", "PHONE", "0532 123 45 67", "", "10"),                              // 3
		row("E4", "PHONE", "+905321234567", "", "10"),                               // 4: the same phone
		row("E5", "IDENTITY_NUMBER", "17291716060", "", "10"),                       // 5
		row("E6", "MEMBER_ID", "17291716060", "", "10"),                             // 6: another type
		row("E7", "IBAN", iban, "Ayşe Yılmaz", "10.005"),                            // 7: invalid
		row("E1", "IBAN", iban, "Ayşe Yılmaz", "100"),                               // 8: duplicate ID
		row("", "IBAN", iban, "Ayşe Yılmaz", "1"),                                   // 9: the same IBAN again
	)
	recs, warns, err := readAll(t, in, Options{Format: FormatCSV})
	if err != nil || len(recs) != 9 {
		t.Fatalf("records %+v, error %v", recs, err)
	}
	if len(warns) != 0 {
		t.Errorf("file warnings %q; the duplicate recipients are row warnings", warns)
	}
	wantSame := []int{0, 1, 0, 3, 0, 0, 0, 0, 1}
	wantValid := []bool{true, true, true, true, true, true, false, false, true}
	for i, rec := range recs {
		if rec.Valid() != wantValid[i] || rec.SameRecipientAs != wantSame[i] || (len(rec.Warnings) > 0) != (wantSame[i] > 0) {
			t.Errorf("row %d: valid %v, same recipient as %d, warnings %v; want valid %v, same as %d", rec.Row, rec.Valid(), rec.SameRecipientAs, rec.Warnings, wantValid[i], wantSame[i])
		}
	}
	w := recs[1].Warnings[0]
	want := RowError{Row: 2, Column: "recipient_info", Code: CodeDuplicateRecipient, Line: 3, ItemExternalID: "E2",
		Message: "row 2 (line 3, ID E2), recipient_info: IBAN TR33************1326 is paid in row 1 (line 2) too; check that the two rows are not one payment entered twice (a warning: this row is valid and will be paid)"}
	if w != want {
		t.Errorf("warning\n%+v\nwant\n%+v", w, want)
	}
	if msg := recs[3].Warnings[0].Message; !strings.Contains(msg, "phone +90********67 is paid in row 3 (line 4) too") {
		t.Errorf("phone warning %q", msg)
	}
	if msg := recs[8].Warnings[0].Message; !strings.HasPrefix(msg, "row 9 (line 10), recipient_info: IBAN") {
		t.Errorf("warning of a row without an ID %q", msg)
	}
}

// TestDuplicateRecipientsAcrossBatches checks the warnings against a map over many read-ahead
// batches while the set grows.
func TestDuplicateRecipientsAcrossBatches(t *testing.T) {
	const n = 6000
	var b strings.Builder
	b.WriteString("recipient_type,recipient_info,amount,currency\n")
	first := map[string]int{}
	want := make([]int, n+1)
	for i := 1; i <= n; i++ {
		info := fmt.Sprintf("%d", 1000000+i)
		if i%5 == 0 {
			info = fmt.Sprintf("%d", 1000000+i/5) // the member of an earlier row
		}
		if f, ok := first[info]; ok {
			want[i] = f
		} else {
			first[info] = i
		}
		fmt.Fprintf(&b, "MEMBER_ID,%s,1,TRY\n", info)
	}
	recs, _, err := readAll(t, b.String(), Options{Format: FormatCSV})
	if err != nil || len(recs) != n {
		t.Fatalf("%d records, error %v", len(recs), err)
	}
	dups, wantDups := 0, 0
	for _, f := range want {
		if f > 0 {
			wantDups++
		}
	}
	for _, rec := range recs {
		if !rec.Valid() || rec.SameRecipientAs != want[rec.Row] {
			t.Fatalf("row %d: valid %v, same recipient as %d, want %d", rec.Row, rec.Valid(), rec.SameRecipientAs, want[rec.Row])
		}
		if rec.SameRecipientAs > 0 {
			dups++
		}
	}
	if dups != wantDups || dups < n/10 {
		t.Errorf("%d warned rows, want %d", dups, wantDups)
	}
}
