package payoutfile

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// readAll reads every record of input; err is the first error other than io.EOF (from NewReader
// or Next).
func readAll(t *testing.T, input string, o Options) (recs []Record, warnings []string, err error) {
	t.Helper()
	r, err := NewReader(strings.NewReader(input), o)
	if err != nil {
		return nil, nil, err
	}
	t.Cleanup(func() { r.Close() })
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs, r.Warnings(), nil
		}
		if err != nil {
			return recs, r.Warnings(), err
		}
		recs = append(recs, rec)
	}
}

// checkFileError checks that reading ended with a *FileError of code, mentioning msg, after
// rows records.
func checkFileError(t *testing.T, recs []Record, err error, code string, rows int, msg string) {
	t.Helper()
	if got := fileErrorCode(t, err); got != code {
		t.Fatalf("error %v (code %q), want code %q", err, got, code)
	}
	if len(recs) != rows {
		t.Errorf("got %d records before the error, want %d", len(recs), rows)
	}
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("message %q, want it to mention %q", err, msg)
	}
}

// fileErrorCode returns the code of a *FileError, or "" for nil.
func fileErrorCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FileError", err, err)
	}
	return fe.Code
}

func codes(rec Record) []string {
	var c []string
	for _, e := range rec.Errors {
		c = append(c, e.Code)
	}
	return c
}

var csvHeader = []string{"item_external_id", "recipient_type", "recipient_info", "recipient_name", "amount", "currency", "description", "non_withdrawable"}

// csvOf writes a header and rows as CSV with encoding/csv.
func csvOf(header []string, rows ...[]string) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(header)
	w.WriteAll(rows)
	return b.String()
}

func TestCSVDialects(t *testing.T) {
	want := []Item{
		{Row: 1, ItemExternalID: "E1", RecipientType: "IBAN", RecipientInfo: "TR330006100519786457841326", RecipientName: "Ayşe, \"Ayşo\" Yılmaz", Amount: decimal.RequireFromString("100.50"), Currency: "TRY", Description: "Ocak\tmaaşı"},
		{Row: 2, ItemExternalID: "E2", RecipientType: "PHONE", RecipientInfo: "+905321234567", Amount: decimal.RequireFromString("5"), Currency: "USD"},
	}
	want[0].Description = "Ocak maaşı"
	for _, tc := range []struct{ name, in string }{
		{"comma LF", "item_external_id,recipient_type,recipient_info,recipient_name,amount,currency,description\n" +
			"E1,IBAN,TR330006100519786457841326,\"Ayşe, \"\"Ayşo\"\" Yılmaz\",100.50,TRY,Ocak maaşı\n" +
			"E2,PHONE,05321234567,,5,USD,\n"},
		{"semicolon CRLF BOM", "\ufeffitem_external_id;recipient_type;recipient_info;recipient_name;amount;currency;description\r\n" +
			"E1;IBAN;TR330006100519786457841326;\"Ayşe, \"\"Ayşo\"\" Yılmaz\";100.50;TRY;Ocak maaşı\r\n" +
			"E2;PHONE;05321234567;;5;USD;\r\n"},
		{"tab, lone CR, no final newline", "item_external_id\trecipient_type\trecipient_info\trecipient_name\tamount\tcurrency\tdescription\r" +
			"E1\tIBAN\tTR330006100519786457841326\t\"Ayşe, \"\"Ayşo\"\" Yılmaz\"\t100.50\tTRY\tOcak maaşı\r" +
			"E2\tPHONE\t05321234567\t\t5\tUSD\t"},
		{"camelCase, other order, spaces, trailing blank lines", "Currency , Amount,recipientInfo,RecipientType,ItemExternalId,recipientName,DESCRIPTION\n" +
			"TRY, 100.50 ,TR33 0006 1005 1978 6457 8413 26, iban ,E1,\"Ayşe, \"\"Ayşo\"\" Yılmaz\",  Ocak maaşı  \n" +
			"usd,5,0532 123 45 67,Phone,E2,,\n\n\n"},
		{"quoted header and cells", "\"item_external_id\",\"recipient_type\",\"recipient_info\",\"recipient_name\",\"amount\",\"currency\",\"description\"\n" +
			"\"E1\",\"IBAN\",\"TR330006100519786457841326\",\"Ayşe, \"\"Ayşo\"\" Yılmaz\",\"100.50\",\"TRY\",\"Ocak maaşı\"\n" +
			"\"E2\",\"PHONE\",\"05321234567\",\"\",\"5\",\"USD\",\"\"\n"},
		{"blank lines before the header", "\n\r\nitem_external_id,recipient_type,recipient_info,recipient_name,amount,currency,description\n" +
			"E1,IBAN,TR330006100519786457841326,\"Ayşe, \"\"Ayşo\"\" Yılmaz\",100.50,TRY,Ocak maaşı\n" +
			"E2,PHONE,05321234567,,5,USD,\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, warns, err := readAll(t, tc.in, Options{Format: FormatCSV})
			if err != nil {
				t.Fatal(err)
			}
			if len(warns) > 0 {
				t.Errorf("warnings %q, want none", warns)
			}
			if len(recs) != len(want) {
				t.Fatalf("got %d records, want %d: %+v", len(recs), len(want), recs)
			}
			for i, rec := range recs {
				if !rec.Valid() {
					t.Errorf("row %d: errors %v", rec.Row, rec.Errors)
				}
				assertItem(t, rec.Item, want[i])
			}
		})
	}
}

func assertItem(t *testing.T, got, want Item) {
	t.Helper()
	ga, wa := got.Amount, want.Amount
	got.Amount, want.Amount = decimal.Decimal{}, decimal.Decimal{}
	if got != want {
		t.Errorf("item =\n%+v\nwant\n%+v", got, want)
	}
	if !ga.Equal(wa) || ga.Exponent() != wa.Exponent() {
		t.Errorf("row %d amount = %s (exp %d), want %s (exp %d)", got.Row, ga, ga.Exponent(), wa, wa.Exponent())
	}
}

func TestCSVTurkishExport(t *testing.T) {
	in := "\ufeffitem_external_id;recipient_type;recipient_info;recipient_name;amount;currency;description;non_withdrawable\r\n" +
		"P-001;IBAN;TR33 0006 1005 1978 6457 8413 26;Şükrü Çağlar Öztürk;1.234,56;TRY;Ocak 2025 maaş ödemesi;YANLIŞ\r\n" +
		"P-002;IDENTITY_NUMBER;17291716060;İsmail Işık;750;TRY;İkramiye;DOĞRU\r\n" +
		"P-003;PHONE;0532 123 45 67;Ğülşen Ünal;12.500,00;TRY;Prim;hayır\r\n" +
		";;;;;;;\r\n"
	recs, _, err := readAll(t, in, Options{Format: FormatCSV, DecimalComma: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []Item{
		{Row: 1, ItemExternalID: "P-001", RecipientType: "IBAN", RecipientInfo: "TR330006100519786457841326", RecipientName: "Şükrü Çağlar Öztürk", Amount: decimal.RequireFromString("1234.56"), Currency: "TRY", Description: "Ocak 2025 maaş ödemesi"},
		{Row: 2, ItemExternalID: "P-002", RecipientType: "IDENTITY_NUMBER", RecipientInfo: "17291716060", RecipientName: "İsmail Işık", Amount: decimal.RequireFromString("750"), Currency: "TRY", Description: "İkramiye", NonWithdrawable: true},
		{Row: 3, ItemExternalID: "P-003", RecipientType: "PHONE", RecipientInfo: "+905321234567", RecipientName: "Ğülşen Ünal", Amount: decimal.RequireFromString("12500.00"), Currency: "TRY", Description: "Prim"},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d", len(recs), len(want))
	}
	for i, rec := range recs {
		if !rec.Valid() {
			t.Errorf("row %d: %v", rec.Row, rec.Errors)
		}
		assertItem(t, rec.Item, want[i])
	}
	// Without --decimal-comma the same file is refused row by row, with the hint.
	recs, _, err = readAll(t, in, Options{Format: FormatCSV})
	if err != nil {
		t.Fatal(err)
	}
	if got := codes(recs[0]); !slices.Equal(got, []string{CodeInvalidAmount}) || !strings.Contains(recs[0].Errors[0].Message, "--decimal-comma") {
		t.Errorf("row 1 without --decimal-comma: %v", recs[0].Errors)
	}
}

func TestCSVRowNumbersAndBlankRows(t *testing.T) {
	in := "recipient_type,recipient_info,amount,currency\n" +
		"MEMBER_ID,1,1,TRY\n" +
		"\n" +
		" , , , \n" +
		"MEMBER_ID,2,\"multi\nline\",TRY\n" +
		"MEMBER_ID,3,3,TRY\n"
	recs, _, err := readAll(t, in, Options{Format: FormatCSV})
	if err != nil {
		t.Fatal(err)
	}
	var rows []int
	for _, r := range recs {
		rows = append(rows, r.Row)
	}
	if !slices.Equal(rows, []int{1, 4, 5}) {
		t.Errorf("rows %v, want [1 4 5] (blank rows skipped, numbers kept)", rows)
	}
	if c := codes(recs[1]); !slices.Equal(c, []string{CodeInvalidAmount}) {
		t.Errorf("row 4 codes %v", c)
	}
}

func TestCSVStructuralRowErrors(t *testing.T) {
	in := "recipient_type,recipient_info,amount,currency\n" +
		"MEMBER_ID,1,1,5,TRY\n" + // decimal comma unquoted: one field too many
		"MEMBER_ID,2,2\n" +
		"MEMBER_ID,\"3\"x,3,TRY\n" +
		"MEMBER_ID,4 \"four\",4,TRY\n" + // a bare quote inside an unquoted field is text
		"MEMBER_ID,5,5,TRY\n"
	recs, _, err := readAll(t, in, Options{Format: FormatCSV})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{CodeWrongFieldCount}, {CodeWrongFieldCount}, {CodeMalformedQuotes, CodeInvalidMemberID}, {CodeInvalidMemberID}, nil}
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d", len(recs), len(want))
	}
	for i, rec := range recs {
		if got := codes(rec); !slices.Equal(got, want[i]) {
			t.Errorf("row %d codes %v, want %v: %v", rec.Row, got, want[i], rec.Errors)
		}
	}
	if recs[0].AmountOK {
		t.Errorf("row 1 AmountOK with a wrong field count: columns cannot be trusted")
	}
	if !strings.Contains(recs[0].Errors[0].Message, "has 5 fields but the header has 4") {
		t.Errorf("message %q", recs[0].Errors[0].Message)
	}
}

func TestCSVFileErrors(t *testing.T) {
	valid := "recipient_type,recipient_info,amount,currency\nMEMBER_ID,1,1,TRY\n"
	for _, tc := range []struct {
		name, in string
		o        Options
		code     string
		rows     int // records before the error
		msg      string
	}{
		{"empty", "", Options{}, CodeEmptyFile, 0, "empty"},
		{"only BOM", "\ufeff", Options{}, CodeEmptyFile, 0, "empty"},
		{"only white space", " \r\n\n\t\n", Options{}, CodeEmptyFile, 0, "empty"},
		{"binary", "PNG\x00\x01\x02\x03", Options{}, CodeBinaryFile, 0, "NUL"},
		{"zip", "PK\x03\x04\x14\x00\x00\x00", Options{}, CodeBinaryFile, 0, "--format xlsx"},
		{"old xls", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", Options{}, CodeBinaryFile, 0, ".xls"},
		{"pdf", "%PDF-1.4\n", Options{}, CodeBinaryFile, 0, "PDF"},
		{"UTF-16 with BOM", "\xff\xfer\x00e\x00", Options{}, CodeUnsupportedEncoding, 0, "UTF-8"},
		{"UTF-16 without BOM", "r\x00e\x00c\x00i\x00p\x00i\x00e\x00n\x00t\x00", Options{}, CodeUnsupportedEncoding, 0, "UTF-16"},
		{"header only", "recipient_type,recipient_info,amount,currency\n", Options{}, CodeNoRows, 0, "no data rows"},
		{"header and blank rows only", "recipient_type,recipient_info,amount,currency\n,,,\n\n", Options{}, CodeNoRows, 0, "no data rows"},
		{"no header", "MEMBER_ID,1,1,TRY\nMEMBER_ID,2,2,TRY\n", Options{}, CodeBadHeader, 0, "not a header"},
		{"missing columns", "recipient_type,amount\nIBAN,1\n", Options{}, CodeMissingColumn, 0, "recipient_info, currency"},
		{"duplicate column", "recipient_type,recipient_info,amount,currency,Amount\n", Options{}, CodeBadHeader, 0, "twice"},
		{"mixed delimiters", "recipient_type;recipient_info,amount;currency,x\n", Options{}, CodeBadHeader, 0, "mixes"},
		{"json", "{\"items\": []}", Options{}, CodeBadHeader, 0, "--format json"},
		{"wrong delimiter for the header", "recipient_type|recipient_info|amount|currency\n", Options{}, CodeBadHeader, 0, "delimiter"},
		{"unclosed quote", valid + "MEMBER_ID,\"2,2,TRY\nMEMBER_ID,3,3,TRY\n", Options{}, CodeMalformedCSV, 1, "never closed"},
		{"field too long", valid + "MEMBER_ID," + strings.Repeat("9", 2000) + ",1,TRY\n", Options{}, CodeFieldTooLong, 1, "longer than 1024 bytes"},
		{"quoted field too long", valid + "MEMBER_ID,\"" + strings.Repeat("9\n", 600) + "\",1,TRY\n", Options{}, CodeFieldTooLong, 1, "quote"},
		{"line too long", valid + strings.Repeat(",", 3<<20) + "\n", Options{}, CodeFieldTooLong, 1, "longer than 2 MiB, the limit for one row"},
		{"quoted record too long", valid + strings.Repeat("\""+strings.Repeat(strings.Repeat("9", 100<<10)+"\n", 9)+"\",", 4) + "\n", Options{MaxFieldBytes: 1 << 20}, CodeFieldTooLong, 1, "longer than 2 MiB"},
		{"header too wide", strings.Repeat("x,", MaxColumns) + "recipient_type,recipient_info,amount,currency\n", Options{}, CodeBadHeader, 0, "more than the limit of 256"},
		{"header too long", strings.Repeat("x", 70000), Options{}, CodeBadHeader, 0, "first line"},
		{"too large at the start", valid + strings.Repeat("MEMBER_ID,1,1,TRY\n", 100), Options{MaxFileBytes: 500}, CodeFileTooLarge, 0, "limit of 500 bytes"},
		{"too large midway", valid + strings.Repeat("MEMBER_ID,1,1,TRY\n", 12000), Options{MaxFileBytes: 100000}, CodeFileTooLarge, 5553, "limit of 100000 bytes"},
		{"too many rows", valid + strings.Repeat("MEMBER_ID,1,1,TRY\n", 10), Options{MaxRows: 5}, CodeTooManyRows, 5, "more than 5 rows"},
		{"too many blank rows", valid + strings.Repeat("\n", 10), Options{MaxRows: 5}, CodeTooManyRows, 1, "more than 5 rows"},
		{"bad options", valid, Options{Currencies: []string{"TL"}}, CodeBadOptions, 0, "TL"},
		{"bad format", valid, Options{Format: "xml"}, CodeUnsupportedFormat, 0, "xml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.o.Format == "" {
				tc.o.Format = FormatCSV
			}
			recs, _, err := readAll(t, tc.in, tc.o)
			checkFileError(t, recs, err, tc.code, tc.rows, tc.msg)
		})
	}
}

func TestCSVWarnings(t *testing.T) {
	in := "recipient_type,recipient_info,amount,currency,notes,,Maaş Dönemi\nMEMBER_ID,1,1,TRY,x,,y\n"
	recs, warns, err := readAll(t, in, Options{Format: FormatCSV})
	if err != nil || len(recs) != 1 || !recs[0].Valid() {
		t.Fatalf("recs %+v err %v", recs, err)
	}
	joined := strings.Join(warns, "\n")
	for _, want := range []string{`"notes" (column 5)`, `"Maaş Dönemi" (column 7)`, "column 6 has no name"} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings %q lack %q", warns, want)
		}
	}
}

func TestCSVWindows1254(t *testing.T) {
	// "Şükrü" in Windows-1254: Þ=0xDE ü=0xFC.
	in := "recipient_type,recipient_info,recipient_name,amount,currency\nIBAN,TR330006100519786457841326,\xde\xfckr\xfc,1,TRY\n"
	recs, _, err := readAll(t, in, Options{Format: FormatCSV})
	if err != nil {
		t.Fatal(err)
	}
	if got := codes(recs[0]); !slices.Equal(got, []string{CodeInvalidEncoding}) || !strings.Contains(recs[0].Errors[0].Message, "Windows-1254") {
		t.Errorf("errors %v", recs[0].Errors)
	}
}

func TestReaderAfterEnd(t *testing.T) {
	r, err := NewReader(strings.NewReader("recipient_type,recipient_info,amount,currency\nMEMBER_ID,1,1,TRY\n"), Options{Format: FormatCSV})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("Next after the end = %v, want io.EOF", err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err == nil {
		t.Fatal("Next after Close succeeded")
	}
}

// TestIDTableReuseStartsEmpty: the table of a closed Reader is kept and handed to the next set of
// that size empty (each Reader hashes with its own seeds, so a table left full would not show as
// duplicates but would fill up), and Readers still find duplicates after a reuse.
func TestIDTableReuseStartsEmpty(t *testing.T) {
	spareTable.Lock()
	spareTable.slots = [2][]idSlot{} // larger tables kept by earlier tests would be kept instead
	spareTable.Unlock()
	var used idSet
	used.reserve(100)
	for i := range 100 {
		used.add(uint64(i)*7919, uint64(i), i+1)
	}
	size, first := len(used.slots), &used.slots[0]
	used.release()
	var next idSet
	next.reserve(1)
	if len(next.slots) != size || &next.slots[0] != first {
		t.Fatalf("a set of the same size got a new table (%d slots), not the released one", len(next.slots))
	}
	for i, sl := range next.slots {
		if sl != (idSlot{}) {
			t.Fatalf("reused table slot %d holds %+v; it must start empty", i, sl)
		}
	}
	next.release()

	var b strings.Builder
	b.WriteString("item_external_id,recipient_type,recipient_info,amount,currency\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "id-%d,MEMBER_ID,2228853,1.00,TRY\n", i)
	}
	rows := b.String()[strings.IndexByte(b.String(), '\n')+1:]
	for round := range 3 { // the second and third reuse the first's table
		r, err := NewReader(strings.NewReader(b.String()+rows), Options{Format: FormatCSV})
		if err != nil {
			t.Fatal(err)
		}
		dups := 0
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(codes(rec), CodeDuplicateID) {
				dups++
			} else if !rec.Valid() || rec.Row > 3000 {
				t.Fatalf("round %d, row %d: %v", round, rec.Row, codes(rec))
			}
		}
		r.Close()
		if dups != 3000 {
			t.Errorf("round %d: %d duplicates, want 3000", round, dups)
		}
	}
}

// TestCloseStopsReadAhead: a Reader closed after its first row stops its read-ahead goroutine; a
// closed Reader returns an error, not more rows.
func TestCloseStopsReadAhead(t *testing.T) {
	var b strings.Builder
	b.WriteString("item_external_id,recipient_type,recipient_info,amount,currency\n")
	for i := range 20 * batchSize {
		fmt.Fprintf(&b, "id-%d,MEMBER_ID,2228853,1.00,TRY\n", i)
	}
	before := runtime.NumGoroutine()
	for range 20 {
		r, err := NewReader(strings.NewReader(b.String()), Options{Format: FormatCSV})
		if err != nil {
			t.Fatal(err)
		}
		if rec, err := r.Next(); err != nil || rec.Row != 1 {
			t.Fatalf("first row %d, %v", rec.Row, err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Next(); err == nil || err == io.EOF {
			t.Fatalf("Next after Close = %v, want an error", err)
		}
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("%d goroutines before, %d after 20 Readers closed early", before, after)
	}
}

func TestCSVWideRows(t *testing.T) {
	const header = "recipient_type,recipient_info,amount,currency\n"
	for _, tc := range []struct {
		name, row string
		msg       string
	}{
		{"many fields", "MEMBER_ID,1,1,TRY" + strings.Repeat(",x", 200000), "row 1 (line 2): has 200004 fields but the header has 4"},
		{"many quoted fields", "MEMBER_ID,1,1,TRY,\"a,b\"" + strings.Repeat(`,"c""d",e`, 1000), "row 1 (line 2): has 2005 fields but the header has 4"},
		{"one field too many", "MEMBER_ID,1,1,TRY,", "row 1 (line 2): has 5 fields but the header has 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, _, err := readAll(t, header+tc.row+"\nMEMBER_ID,2,2,TRY\n", Options{Format: FormatCSV})
			if err != nil || len(recs) != 2 || !recs[1].Valid() {
				t.Fatalf("records %+v, error %v", recs, err)
			}
			if got := codes(recs[0]); !slices.Equal(got, []string{CodeWrongFieldCount}) || !strings.HasPrefix(recs[0].Errors[0].Message, tc.msg) {
				t.Errorf("errors %+v, want WRONG_FIELD_COUNT %q", recs[0].Errors, tc.msg)
			}
		})
	}
	// Fields past the header's width are scanned, not kept: an unclosed quote among them still
	// shows.
	_, _, err := readAll(t, header+"MEMBER_ID,1,1,TRY,x,\"never closed\n", Options{Format: FormatCSV})
	if got := fileErrorCode(t, err); got != CodeMalformedCSV {
		t.Errorf("unclosed quote in an extra field: %v, want MALFORMED_CSV", err)
	}
	_, _, err = readAll(t, header+"MEMBER_ID,1,1,TRY,x,\""+strings.Repeat("9", 2000)+"\"\n", Options{Format: FormatCSV})
	if got := fileErrorCode(t, err); got != CodeFieldTooLong || !strings.Contains(err.Error(), "field 6 is longer than 1024 bytes") {
		t.Errorf("long extra field: %v, want FIELD_TOO_LONG for field 6", err)
	}
}

func TestCSVLongRowsKeepKnownFields(t *testing.T) {
	// Rows longer than the known fields at their limit keep a copy of the known fields only; the
	// values must be the same either way.
	notes := strings.Repeat("n", 1000)
	head := "recipient_type," + strings.Repeat("notes,", 12) + "recipient_info,amount,currency,description\n"
	var b strings.Builder
	b.WriteString(head)
	for i := range 3000 {
		fmt.Fprintf(&b, "MEMBER_ID,%s%d,%d.50,TRY,\"Maaş, %d\"\n", strings.Repeat(notes+",", 12), i+1, i+1, i)
	}
	recs, _, err := readAll(t, b.String(), Options{Format: FormatCSV})
	if err != nil || len(recs) != 3000 {
		t.Fatalf("%d records, error %v", len(recs), err)
	}
	for i, rec := range recs {
		want := Item{Row: i + 1, RecipientType: TypeMemberID, RecipientInfo: fmt.Sprint(i + 1), Amount: decimal.New(int64(i+1)*100+50, -2),
			Currency: "TRY", Description: fmt.Sprintf("Maaş, %d", i)}
		if !rec.Valid() {
			t.Fatalf("row %d: %v", rec.Row, rec.Errors)
		}
		assertItem(t, rec.Item, want)
	}
}

func TestLongRowsInBatches(t *testing.T) {
	// Rows of half a MiB end a read-ahead batch after a few rows; all come back, in order.
	var b strings.Builder
	b.WriteString("recipient_type,recipient_info,amount,currency,description\n")
	desc := strings.Repeat("d", 500<<10)
	for i := range 40 {
		fmt.Fprintf(&b, "MEMBER_ID,%d,1,TRY,%s\n", i+1, desc)
	}
	recs, _, err := readAll(t, b.String(), Options{Format: FormatCSV, MaxFieldBytes: 1 << 20})
	if err != nil || len(recs) != 40 {
		t.Fatalf("%d records, error %v", len(recs), err)
	}
	for i, rec := range recs {
		if rec.Row != i+1 || rec.Item.RecipientInfo != fmt.Sprint(i+1) || !slices.Equal(codes(rec), []string{CodeFieldTooLong}) {
			t.Fatalf("record %d: row %d, info %q, errors %v", i, rec.Row, rec.Item.RecipientInfo, codes(rec))
		}
	}
}
