package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/masspayout/masspayout/payoutfile/payoutfiletest"
)

var updateValidate = flag.Bool("update-validate", false, "rewrite testdata/validate (inputs and golden outputs)")

const validateDir = "testdata/validate"

// validateInputs returns every input file of the validate tests by name. They are committed
// under testdata/validate; TestValidateTestdata checks that they match this source.
func validateInputs() map[string][]byte {
	const header = "item_external_id,recipient_type,recipient_info,recipient_name,amount,currency,description,non_withdrawable\n"
	rules := header +
		"R01,IBAN,TR330006100519786457841326,Ayşe Yılmaz,100.50,TRY,valid row,false\n" +
		"R02,IBAN,TR330006100519786457841327,Ali Veli,10,TRY,,\n" + // INVALID_IBAN
		"R03,IDENTITY_NUMBER,17291716050,,10,TRY,,\n" + // INVALID_IDENTITY_NUMBER
		"R04,PHONE,0212 123 45 67,,10,TRY,,\n" + // INVALID_PHONE (landline)
		"R05,MEMBER_ID,M-12,,10,TRY,,\n" + // INVALID_MEMBER_ID
		"R06,BANKA,123,,10,TRY,,\n" + // INVALID_RECIPIENT_TYPE
		"R07,MEMBER_ID,,,10,TRY,,\n" + // MISSING_FIELD recipient_info
		"R08,MEMBER_ID,123,,1e3,TRY,,\n" + // INVALID_AMOUNT
		"R09,MEMBER_ID,123,,10.005,TRY,,\n" + // AMOUNT_SCALE
		"R10,MEMBER_ID,123,,10,GBP,,\n" + // UNSUPPORTED_CURRENCY
		"R01,MEMBER_ID,123,,10,TRY,,\n" + // DUPLICATE_ITEM_EXTERNAL_ID
		"R12,IBAN,TR330006100519786457841326,,10,TRY,,\n" + // RECIPIENT_NAME_REQUIRED
		"R13,MEMBER_ID,123,,10,TRY," + strings.Repeat("d", 256) + ",\n" + // FIELD_TOO_LONG
		"R14,MEMBER_ID,123,,10,5,TRY,,\n" + // WRONG_FIELD_COUNT
		"R15,MEMBER_ID,123,,10,TRY,,belki\n" + // INVALID_BOOLEAN
		"R16,MEMBER_ID,123,,0,TRY,,\n" + // INVALID_AMOUNT zero
		"R17,MEMBER_ID,123,,-5,TRY,,\n" + // INVALID_AMOUNT negative
		"R18,MEMBER_ID,123,Ali \u202eilev,10,TRY,,\n" + // INVALID_CHARACTER
		"R19,MEMBER_ID,123,,\"1,234.56\",TRY,,\n" + // INVALID_AMOUNT thousands separator
		"R20,MEMBER_ID,123,,10,,,\n" + // MISSING_FIELD currency
		"R21,PHONE,05321234567,,10,TRY,\"x\"y,\n" + // MALFORMED_QUOTES
		"R22,IBAN,TR33 0006 1005,,abc,XYZ,,maybe\n" + // five problems in one row
		"R23,MEMBER_ID,123,\xde\xfckr\xfc,10,TRY,,\n" + // INVALID_ENCODING (Windows-1254)
		"\n" +
		"R25,PHONE,+905321234567,,25.50,USD,ok,1\n"
	return map[string][]byte{
		"valid.csv": []byte(header +
			"V1,IBAN,TR33 0006 1005 1978 6457 8413 26,Ayşe Yılmaz,100.50,TRY,Ocak maaşı,false\n" +
			"V2,IDENTITY_NUMBER,17291716060,,2500,TRY,,\n" +
			"V3,PHONE,0532 123 45 67,,75.25,TRY,,yes\n" +
			"V4,MEMBER_ID,2228853,,10,USD,\"Prim, \"\"Q1\"\"\",\n" +
			",IBAN,GB82WEST12345698765432,John Doe,1.5,EUR,,\n"),
		"rules.csv": []byte(rules),
		// A Turkish-locale Excel export: BOM, semicolons, CRLF, decimal comma, Turkish letters,
		// DOĞRU/YANLIŞ booleans, a trailing empty row.
		"turkish.csv": []byte("\ufeffItem External ID;Recipient Type;Recipient Info;Recipient Name;Amount;Currency;Description;Non Withdrawable\r\n" +
			"P-001;IBAN;TR33 0006 1005 1978 6457 8413 26;Şükrü Çağlar Öztürk;1.234,56;TRY;Ocak 2025 maaş ödemesi;YANLIŞ\r\n" +
			"P-002;IDENTITY_NUMBER;17291716060;İsmail Işık;750;TRY;İkramiye;DOĞRU\r\n" +
			"P-003;PHONE;0532 123 45 67;Ğülşen Ünal;12.500,00;TRY;Prim;hayır\r\n" +
			";;;;;;;\r\n"),
		"valid.jsonl": []byte(`{"itemExternalId":"J1","recipientType":"IBAN","recipientInfo":"TR330006100519786457841326","recipientName":"Ayşe Yılmaz","amount":{"value":100.50,"currency":"TRY"},"description":"Maaş"}` + "\n" +
			`{"itemExternalId":"J2","recipientType":"PHONE","recipientInfo":"+905456856931","amount":{"value":"8000","currency":"TRY"},"nonWithdrawable":true}` + "\n"),
		"rules.jsonl": []byte(`{"itemExternalId":"J1","recipientType":"MEMBER_ID","recipientInfo":"2228853","amount":{"value":1e3,"currency":"TRY"}}` + "\n" +
			`{"itemExternalId":"J2","recipientType":"MEMBER_ID","recipientInfo":"2228853","amount":{"value":10,"currency":"TRY"}` + "\n" +
			`{"itemExternalId":"J3","recipientType":"MEMBER_ID","recipientInfo":["x"],"amount":{"value":10.001,"currency":"TRY"}}` + "\n"),
		"valid.json": []byte(`{
  "externalId": "maas-2025-01",
  "conversationId": "conv-1",
  "purpose": "SALARY",
  "items": [
    {"itemExternalId": "ext-65656", "recipientType": "IBAN", "recipientInfo": "TR330006100519786457841326", "amount": {"value": 100, "currency": "TRY"}, "description": "Payment for services", "recipientName": "John Doe"},
    {"itemExternalId": "ext-9545455", "recipientType": "MEMBER_ID", "recipientInfo": "2228853", "amount": {"value": 8000, "currency": "TRY"}},
    {"itemExternalId": "ext-545454542", "recipientType": "IDENTITY_NUMBER", "recipientInfo": "53857708216", "amount": {"value": 20000.75, "currency": "TRY"}},
    {"itemExternalId": "ext-50070945", "recipientType": "PHONE", "recipientInfo": "+905456856931", "amount": {"value": 7000, "currency": "TRY"}}
  ]
}
`),
		"valid.xlsx": payoutfiletest.XLSX([][]payoutfiletest.Cell{
			payoutfiletest.Strings("item_external_id", "recipient_type", "recipient_info", "recipient_name", "amount", "currency", "description"),
			{payoutfiletest.S("X1"), payoutfiletest.S("IBAN"), payoutfiletest.S("TR330006100519786457841326"), payoutfiletest.S("Şükrü Öztürk"), payoutfiletest.N("1234.56"), payoutfiletest.S("TRY"), payoutfiletest.S("Ocak")},
			{payoutfiletest.S("X2"), payoutfiletest.S("IDENTITY_NUMBER"), payoutfiletest.N("17291716060"), {}, payoutfiletest.N("500"), payoutfiletest.S("TRY")},
		}, payoutfiletest.XLSXOptions{}),
		"rules.xlsx": payoutfiletest.XLSX([][]payoutfiletest.Cell{
			payoutfiletest.Strings("item_external_id", "recipient_type", "recipient_info", "amount", "currency"),
			// 1234.5599999999999 is how Excel saves 1234.56: accepted; the phone is not.
			{payoutfiletest.S("X1"), payoutfiletest.S("PHONE"), payoutfiletest.N("5321234567"), payoutfiletest.N("1234.5599999999999"), payoutfiletest.S("TRY")},
			{payoutfiletest.S("X2"), payoutfiletest.S("MEMBER_ID"), payoutfiletest.N("2228853"), payoutfiletest.N("10.005"), payoutfiletest.S("TRY")},
			{payoutfiletest.S("X3"), payoutfiletest.S("MEMBER_ID"), payoutfiletest.N("2228854"), payoutfiletest.S("82436.039999999994"), payoutfiletest.S("TRY")},
		}, payoutfiletest.XLSXOptions{}),
		"formulas.xlsx": formulaWorkbook(),
		// The same recipients in several valid rows: warnings, exit 0.
		"repeats.csv": []byte(header +
			"R1,IBAN,TR33 0006 1005 1978 6457 8413 26,Ayşe Yılmaz,100.00,TRY,Ocak maaşı,\n" +
			"R2,IBAN,TR330006100519786457841326,Ayşe Yılmaz,50,TRY,Prim,\n" +
			"R3,PHONE,0532 123 45 67,,10,TRY,,\n" +
			"R4,PHONE,+905321234567,,10,TRY,,\n" +
			"R5,iban,tr330006100519786457841326,Ayşe Yılmaz,25,USD,,\n"),
		// Rejected rows in currencies that are not accepted or with too many decimals, beside valid ones.
		"totals.csv": []byte(header +
			"T1,MEMBER_ID,2228853,,1000.00,TRY,,\n" +
			"T2,MEMBER_ID,2228854,,417312.10,GBP,,\n" +
			"T3,MEMBER_ID,2228855,,119499.805,USD,,\n" +
			"T4,MEMBER_ID,2228856,,20.50,USD,,\n"),
		"bomb.xlsx":           payoutfiletest.LyingZip("xl/worksheets/sheet1.xml", 1<<40),
		"many_entries.xlsx":   payoutfiletest.ManyEntries(5000),
		"not_a_workbook.xlsx": []byte(header + "V1,MEMBER_ID,1,,1,TRY,,\n"),
		"empty.csv":           {},
		"blank.csv":           []byte("\r\n  \n\n"),
		"binary.csv":          []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"),
		"workbook.csv":        payoutfiletest.XLSX([][]payoutfiletest.Cell{payoutfiletest.Strings("recipient_type")}, payoutfiletest.XLSXOptions{}),
		"utf16.csv":           []byte("\xff\xfei\x00t\x00e\x00m\x00"),
		"header_only.csv":     []byte(header),
		"no_header.csv":       []byte("V1,MEMBER_ID,2228853,,10,TRY,,\nV2,MEMBER_ID,2228854,,10,TRY,,\n"),
		"missing_column.csv":  []byte("item_external_id;recipient_type;recipient_info;currency\nV1;MEMBER_ID;2228853;TRY\n"),
		"unclosed_quote.csv":  []byte(header + "V1,MEMBER_ID,2228853,,10,TRY,,\nV2,MEMBER_ID,2228854,\"Ali,10,TRY,,\nV3,MEMBER_ID,2228855,,10,TRY,,\n"),
		"empty.json":          []byte(`{"externalId": "x", "items": []}`),
		"broken.json":         []byte(`{"items": [{"recipientType": "MEMBER_ID", "recipientInfo": "1", "amount": {"value": 1, "currency": "TRY"}}, {"recipientType": }]}`),
		"payroll.xls":         []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
	}
}

// formulaWorkbook is a payroll as Excel and LibreOffice save one: amounts computed by formulas,
// whose cached results are the doubles Excel writes with 17 digits (82436.039999999994 for a cell
// showing 82436.04), a percentage and a date in other columns, identity numbers stored as numbers.
func formulaWorkbook() []byte {
	pt := payoutfiletest.S
	date := payoutfiletest.Cell{Text: "46053", Kind: payoutfiletest.Number, Style: payoutfiletest.StyleDate}
	rate := payoutfiletest.Cell{Text: "0.18", Kind: payoutfiletest.Number, Style: payoutfiletest.StylePercent}
	return payoutfiletest.XLSX([][]payoutfiletest.Cell{
		payoutfiletest.Strings("item_external_id", "recipient_type", "recipient_info", "recipient_name", "gross", "rate", "amount", "currency", "pay_date"),
		{pt("E-1001"), pt("IBAN"), pt("TR330006100519786457841326"), pt("Ayşe Yılmaz"), payoutfiletest.N("69861.05"), rate,
			payoutfiletest.F("ROUND(E2*(1+F2),2)", "82436.039999999994"), pt("TRY"), date},
		// The value of the issue: 82436.04 computed by a formula, saved with 16 digits.
		{pt("E-1002"), pt("IDENTITY_NUMBER"), payoutfiletest.N("17291716060"), {}, payoutfiletest.N("69861.05"), rate,
			payoutfiletest.Cell{Text: "82436.03999999999", Kind: payoutfiletest.Number, Formula: "E3*(1+F3)", LibreOffice: true}, pt("TRY"), date},
		{pt("E-1003"), pt("PHONE"), pt("05321234567"), {}, payoutfiletest.N("0.1"), rate, payoutfiletest.F("E4+0.2", "0.30000000000000004"), pt("TRY"), date},
		{pt("E-1004"), pt("MEMBER_ID"), payoutfiletest.N("2228853"), {}, payoutfiletest.N("1"), rate, payoutfiletest.F("E5+2^-52", "1.0000000000000002"), pt("TRY"), date},
	}, payoutfiletest.XLSXOptions{})
}

// runValidate runs "masspayout validate args..." and returns stdout, the error and its exit code.
func runValidate(t *testing.T, stdin string, args ...string) (stdout string, err error, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), append([]string{"masspayout", "validate"}, args...),
		func(string) string { return "" }, strings.NewReader(stdin), &out, &errOut)
	return out.String(), err, exitCode(err)
}

func TestValidateTestdata(t *testing.T) {
	for name, want := range validateInputs() {
		path := filepath.Join(validateDir, name)
		if *updateValidate {
			if err := os.MkdirAll(validateDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestValidateTestdata -update-validate)", err)
		}
		if !bytes.Equal(got, want) && !strings.HasSuffix(name, ".xlsx") && name != "workbook.csv" {
			t.Errorf("%s differs from validateInputs (run go test -run TestValidateTestdata -update-validate)", path)
		}
	}
}

func TestValidateCommand(t *testing.T) {
	inputs := validateInputs()
	for _, tc := range []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stdout []string // substrings of stdout
		err    []string // substrings of the returned error
		golden string   // compare stdout with testdata/validate/<golden>
	}{
		{name: "valid csv", args: []string{"valid.csv"}, code: 0,
			stdout: []string{"5 rows, 5 valid, 0 rejected", "payable total (valid rows):\n  EUR  1.50 (1 row)\n  TRY  2675.75 (3 rows)\n  USD  10.00 (1 row)\n", "all 5 rows are valid"}},
		{name: "every rule", args: []string{"rules.csv"}, code: 1, golden: "rules.csv.golden"},
		{name: "every rule, json", args: []string{"--json", "rules.csv"}, code: 1, golden: "rules.csv.json.golden"},
		{name: "turkish export", args: []string{"turkish.csv", "--decimal-comma"}, code: 0,
			stdout: []string{"3 rows, 3 valid, 0 rejected", "  TRY  14484.56 (3 rows)"}},
		{name: "turkish export without --decimal-comma", args: []string{"turkish.csv"}, code: 1,
			stdout: []string{`row 1 (line 2, ID P-001), amount: "1.234,56" uses a decimal comma; run with --decimal-comma`, "INVALID_AMOUNT               2",
				"payable total (valid rows):\n  TRY  750.00 (1 row)\n", "rejected rows, not payable and not in the total above:\n  2 rejected rows without a readable amount or currency\n"}},
		{name: "jsonl", args: []string{"valid.jsonl"}, code: 0, stdout: []string{"2 rows, 2 valid", "  TRY  8100.50 (2 rows)"}},
		{name: "jsonl rules", args: []string{"rules.jsonl"}, code: 1,
			stdout: []string{`row 1 (ID J1), amount: "1e3" is in scientific notation`, "row 2: is not one JSON item object", "row 3 (ID J3), recipient_info: must be a string", "row 3 (ID J3), amount: \"10.001\" has 3 decimals"}},
		{name: "json", args: []string{"valid.json"}, code: 0, stdout: []string{"4 rows, 4 valid", "  TRY  35100.75 (4 rows)",
			`batch fields: externalId "maas-2025-01", conversationId "conv-1", purpose "SALARY"`}},
		{name: "json, --json", args: []string{"valid.json", "--json"}, code: 0,
			stdout: []string{`"batch":{"externalId":"maas-2025-01","conversationId":"conv-1","purpose":"SALARY"}`, `"totals":{"TRY":{"valid_rows":4,"valid_amount":35100.75,`}},
		{name: "json with an unknown purpose", args: []string{"--format", "json", "-"}, stdin: `{"purpose":"MAAS","items":[{"recipientType":"MEMBER_ID","recipientInfo":"1","amount":{"value":1,"currency":"TRY"}}]}`,
			code: 0, stdout: []string{`warning: purpose "MAAS" is not one iyzico accepts`}},
		{name: "xlsx from stdin", args: []string{"--format", "xlsx", "-"}, stdin: string(inputs["valid.xlsx"]), code: 0, stdout: []string{"2 rows, 2 valid"}},
		{name: "xlsx", args: []string{"valid.xlsx"}, code: 0, stdout: []string{"2 rows, 2 valid", "  TRY  1734.56 (2 rows)"}},
		{name: "xlsx rules", args: []string{"rules.xlsx"}, code: 1,
			stdout: []string{"row 1 (cell C2, ID X1), recipient_info: phone ****67: has no country code",
				`row 2 (cell D3, ID X2), amount: "10.005" has 3 decimals but TRY allows 2; the cell holds this value even where its format shows fewer decimals: round it to 2 decimals`,
				`row 3 (cell D4, ID X3), amount: "82436.039999999994" has 12 decimals but TRY allows 2; correct the amount`,
				"3 rows, 0 valid, 3 rejected", "payable total (valid rows): nothing", "  TRY  83680.604999999994 (3 rows)"}},
		{name: "xlsx with formulas", args: []string{"formulas.xlsx"}, code: 0,
			stdout: []string{"4 rows, 4 valid, 0 rejected", "payable total (valid rows):\n  TRY  164873.38 (4 rows)\n", `warning: unknown column(s) ignored: "gross" (column E), "rate" (column F), "pay_date" (column I)`, "all 4 rows are valid"}},
		{name: "xlsx with formulas, json", args: []string{"--json", "formulas.xlsx"}, code: 0,
			stdout: []string{`"payable":{"TRY":{"rows":4,"amount":164873.38}}`, `"rejected_amounts":{}`}},
		{name: "same recipient in several rows", args: []string{"repeats.csv"}, code: 0,
			stdout: []string{"warning: rows 1, 2 and 5 (lines 2, 3 and 6) pay the same recipient, IBAN TR33************1326; check that no payment is entered twice",
				"warning: rows 3 and 4 (lines 4 and 5) pay the same recipient, phone +90********67;", "all 5 rows are valid"}},
		{name: "same recipient in several rows, json", args: []string{"--json", "repeats.csv"}, code: 0,
			stdout: []string{`"duplicate_recipients":[{"recipient_type":"IBAN","recipient":"TR33************1326","rows":[1,2,5],"lines":[2,3,6],"row_count":3},` +
				`{"recipient_type":"PHONE","recipient":"+90********67","rows":[3,4],"lines":[4,5],"row_count":2}],"duplicate_recipient_rows":3,"duplicate_recipient_rows_unlisted":0`}},
		{name: "rejected amounts apart from the payable total", args: []string{"totals.csv"}, code: 1,
			stdout: []string{"payable total (valid rows):\n  TRY  1000.00 (1 row)\n  USD  20.50 (1 row)\nrejected rows, not payable and not in the total above:\n  GBP  417312.10 (1 row)\n  USD  119499.805 (1 row)\n"}},
		{name: "rejected amounts apart, json", args: []string{"--json", "totals.csv"}, code: 1,
			stdout: []string{`"payable":{"TRY":{"rows":1,"amount":1000.00},"USD":{"rows":1,"amount":20.50}},"rejected_amounts":{"GBP":{"rows":1,"amount":417312.10},"USD":{"rows":1,"amount":119499.805}}`,
				`{"row":2,"column":"currency","code":"UNSUPPORTED_CURRENCY","message":"row 2 (line 3, ID T2), currency: \"GBP\" is not accepted for this payout; use TRY, USD, EUR","line":3,"item_external_id":"T2"}`}},
		{name: "stdin", args: []string{"--format", "csv", "-"}, stdin: string(inputs["valid.csv"]), code: 0, stdout: []string{"all 5 rows are valid"}},
		{name: "currencies flag", args: []string{"valid.csv", "--currencies", "try"}, code: 1,
			stdout: []string{`row 4 (line 5, ID V4), currency: "USD" is not accepted for this payout; use TRY`, "UNSUPPORTED_CURRENCY         2"}},
		{name: "max rows", args: []string{"--max-rows", "3", "valid.csv"}, code: 2,
			stdout: []string{"3 rows, 3 valid", "stopped: the file cannot be read past row 3 (TOO_MANY_ROWS)"}, err: []string{"more than 3 rows", "[TOO_MANY_ROWS]"}},
		{name: "empty", args: []string{"empty.csv"}, code: 2, err: []string{"the file is empty", "[EMPTY_FILE]"}},
		{name: "blank", args: []string{"blank.csv"}, code: 2, err: []string{"[EMPTY_FILE]"}},
		{name: "empty, json", args: []string{"--json", "empty.csv"}, code: 2,
			stdout: []string{`{"row":0,"column":"","code":"EMPTY_FILE","message":"the file is empty;`, `"file_error":"EMPTY_FILE"`}},
		{name: "binary", args: []string{"binary.csv"}, code: 2, err: []string{"binary file", "[BINARY_FILE]"}},
		{name: "workbook named csv", args: []string{"workbook.csv"}, code: 2, err: []string{"--format xlsx", "[BINARY_FILE]"}},
		{name: "utf16", args: []string{"utf16.csv"}, code: 2, err: []string{"save it as UTF-8", "[UNSUPPORTED_ENCODING]"}},
		{name: "header only", args: []string{"header_only.csv"}, code: 2, err: []string{"no data rows", "[NO_ROWS]"}},
		{name: "no header", args: []string{"no_header.csv"}, code: 2, err: []string{"not a header", "[BAD_HEADER]"}},
		{name: "missing column", args: []string{"missing_column.csv"}, code: 2, err: []string{"amount", "[MISSING_COLUMN]"}},
		{name: "unclosed quote", args: []string{"unclosed_quote.csv"}, code: 2, stdout: []string{"1 row, 1 valid"}, err: []string{"never closed", "[MALFORMED_CSV]"}},
		{name: "empty json", args: []string{"empty.json"}, code: 2, err: []string{"[NO_ROWS]"}},
		{name: "broken json", args: []string{"broken.json"}, code: 2, err: []string{"in item 2", "[MALFORMED_JSON]"}},
		{name: "xlsx bomb", args: []string{"bomb.xlsx"}, code: 2, err: []string{"zip bomb", "[BAD_XLSX]"}},
		{name: "xlsx with many entries", args: []string{"many_entries.xlsx"}, code: 2, err: []string{"5000 parts", "[BAD_XLSX]"}},
		{name: "csv named xlsx", args: []string{"not_a_workbook.xlsx"}, code: 2, err: []string{"--format csv", "[BAD_XLSX]"}},
		{name: "csv named xlsx, format given", args: []string{"--format=csv", "not_a_workbook.xlsx"}, code: 0},
		{name: "old xls", args: []string{"payroll.xls"}, code: 2, err: []string{".xls format is not supported"}},
		{name: "unknown extension", args: []string{"validate.txt"}, code: 2, err: []string{"--format csv|jsonl|json|xlsx"}},
		{name: "missing file", args: []string{"nope.csv"}, code: 2, err: []string{"no such file"}},
		{name: "directory", args: []string{"--format", "csv", "."}, code: 2, err: []string{"directory"}},
		{name: "no file", args: nil, code: 2, err: []string{"exactly one FILE"}},
		{name: "two files", args: []string{"valid.csv", "rules.csv"}, code: 2, err: []string{"exactly one FILE"}},
		{name: "stdin without format", args: []string{"-"}, code: 2, err: []string{"--format"}},
		{name: "bad format", args: []string{"--format", "xml", "valid.csv"}, code: 2, err: []string{`unknown format "xml"`}},
		{name: "bad currency", args: []string{"--currencies", "TL", "valid.csv"}, code: 2, err: []string{`"TL"`}},
		{name: "bad flag", args: []string{"--nope", "valid.csv"}, code: 2, err: []string{"flag provided but not defined"}},
		{name: "help", args: []string{"-h"}, code: 0, stdout: []string{"usage: masspayout validate [flags] FILE", "-decimal-comma"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string(nil), tc.args...)
			for i, a := range args {
				if _, ok := inputs[a]; ok {
					args[i] = filepath.Join(validateDir, a)
				}
			}
			stdout, err, code := runValidate(t, tc.stdin, args...)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d; error %v; stdout:\n%s", code, tc.code, err, stdout)
			}
			for _, want := range tc.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			for _, want := range tc.err {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v, want it to contain %q", err, want)
				}
			}
			if tc.golden != "" {
				path := filepath.Join(validateDir, tc.golden)
				if *updateValidate {
					os.WriteFile(path, []byte(stdout), 0o644)
				}
				want, rerr := os.ReadFile(path)
				if rerr != nil || string(want) != stdout {
					t.Errorf("stdout differs from %s (run with -update-validate and review the diff):\n%s", path, stdout)
				}
			}
		})
	}
}

// TestValidateEveryRule checks, through --json, that rules.csv yields each rule's code at its row.
func TestValidateEveryRule(t *testing.T) {
	stdout, _, code := runValidate(t, "", "--json", filepath.Join(validateDir, "rules.csv"))
	if code != 1 {
		t.Fatalf("exit code %d", code)
	}
	type problem struct {
		Row            int    `json:"row"`
		Column         string `json:"column"`
		Code           string `json:"code"`
		Message        string `json:"message"`
		Line           int    `json:"line"`
		Cell           string `json:"cell"`
		ItemExternalID string `json:"item_external_id"`
	}
	got := map[problem]bool{}
	var summary struct {
		Summary struct {
			Rows, Valid, Rejected int
			RejectedByCode        map[string]int `json:"rejected_by_code"`
			Totals                map[string]struct {
				ValidRows      int         `json:"valid_rows"`
				ValidAmount    json.Number `json:"valid_amount"`
				RejectedRows   int         `json:"rejected_rows"`
				RejectedAmount json.Number `json:"rejected_amount"`
			}
			RejectedWithoutAmount int `json:"rejected_without_amount"`
		}
	}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	for _, line := range lines[:len(lines)-1] {
		var p problem
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("problem line %q: %v", line, err)
		}
		if !strings.HasPrefix(p.Message, "row ") {
			t.Errorf("message %q does not name its row", p.Message)
		}
		// rules.csv has one header line and no line break inside a value: line = row + 1. Every
		// row has an ID, but the one whose columns cannot be trusted does not show it.
		wantID := fmt.Sprintf("R%02d", p.Row)
		switch p.Code {
		case "WRONG_FIELD_COUNT":
			wantID = ""
		case "DUPLICATE_ITEM_EXTERNAL_ID":
			wantID = "R01"
		}
		if p.Line != p.Row+1 || p.Cell != "" || p.ItemExternalID != wantID ||
			!strings.HasPrefix(p.Message, fmt.Sprintf("row %d (line %d", p.Row, p.Line)) {
			t.Errorf("problem %+v: want line %d, ID %q, named in the message", p, p.Row+1, wantID)
		}
		p.Message, p.Line, p.Cell, p.ItemExternalID = "", 0, "", ""
		got[p] = true
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &summary); err != nil {
		t.Fatalf("summary %q: %v", lines[len(lines)-1], err)
	}
	for _, want := range []problem{
		{Row: 2, Column: "recipient_info", Code: "INVALID_IBAN"},
		{Row: 3, Column: "recipient_info", Code: "INVALID_IDENTITY_NUMBER"},
		{Row: 4, Column: "recipient_info", Code: "INVALID_PHONE"},
		{Row: 5, Column: "recipient_info", Code: "INVALID_MEMBER_ID"},
		{Row: 6, Column: "recipient_type", Code: "INVALID_RECIPIENT_TYPE"},
		{Row: 7, Column: "recipient_info", Code: "MISSING_FIELD"},
		{Row: 8, Column: "amount", Code: "INVALID_AMOUNT"},
		{Row: 9, Column: "amount", Code: "AMOUNT_SCALE"},
		{Row: 10, Column: "currency", Code: "UNSUPPORTED_CURRENCY"},
		{Row: 11, Column: "item_external_id", Code: "DUPLICATE_ITEM_EXTERNAL_ID"},
		{Row: 12, Column: "recipient_name", Code: "RECIPIENT_NAME_REQUIRED"},
		{Row: 13, Column: "description", Code: "FIELD_TOO_LONG"},
		{Row: 14, Column: "", Code: "WRONG_FIELD_COUNT"},
		{Row: 15, Column: "non_withdrawable", Code: "INVALID_BOOLEAN"},
		{Row: 16, Column: "amount", Code: "INVALID_AMOUNT"},
		{Row: 17, Column: "amount", Code: "INVALID_AMOUNT"},
		{Row: 18, Column: "recipient_name", Code: "INVALID_CHARACTER"},
		{Row: 19, Column: "amount", Code: "INVALID_AMOUNT"},
		{Row: 20, Column: "currency", Code: "MISSING_FIELD"},
		{Row: 21, Column: "description", Code: "MALFORMED_QUOTES"},
		{Row: 22, Column: "recipient_info", Code: "INVALID_IBAN"},
		{Row: 22, Column: "recipient_name", Code: "RECIPIENT_NAME_REQUIRED"},
		{Row: 22, Column: "amount", Code: "INVALID_AMOUNT"},
		{Row: 22, Column: "currency", Code: "UNSUPPORTED_CURRENCY"},
		{Row: 22, Column: "non_withdrawable", Code: "INVALID_BOOLEAN"},
		{Row: 23, Column: "recipient_name", Code: "INVALID_ENCODING"},
	} {
		if !got[want] {
			t.Errorf("no problem %+v", want)
		}
		delete(got, want)
	}
	for p := range got {
		t.Errorf("unexpected problem %+v", p)
	}
	s := summary.Summary
	if s.Rows != 24 || s.Valid != 2 || s.Rejected != 22 {
		t.Errorf("summary rows %d valid %d rejected %d, want 24, 2, 22", s.Rows, s.Valid, s.Rejected)
	}
	try := s.Totals["TRY"]
	if try.ValidRows != 1 || try.ValidAmount != "100.50" {
		t.Errorf("TRY totals %+v", try)
	}
	// Rejected rows whose amount could be read: 13 × 10 + 10.005 + 0 + (−5) = 135.005 TRY, plus
	// 10 GBP; rows 8, 14, 19, 20 and 22 have no readable amount or currency.
	if try.RejectedRows != 16 || try.RejectedAmount != "135.005" {
		t.Errorf("TRY rejected totals %+v", try)
	}
	if s.RejectedWithoutAmount != 5 {
		t.Errorf("rejected without amount %d, want 5", s.RejectedWithoutAmount)
	}
}

// TestValidateMaxItemAmount: validate applies MAX_ITEM_AMOUNT (default 10000000.00) as a
// submission would, to every row.
func TestValidateMaxItemAmount(t *testing.T) {
	const rows = 100
	var b strings.Builder
	b.WriteString("item_external_id,recipient_type,recipient_info,recipient_name,amount,currency,description,non_withdrawable\n")
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&b, "BIG-%03d,MEMBER_ID,2228853,,999999999999999.99,TRY,bonus,\n", i)
	}
	path := filepath.Join(t.TempDir(), "big.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	validate := func(env map[string]string, args ...string) (string, error, int) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"masspayout", "validate"}, args...),
			func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
		return out.String(), err, exitCode(err)
	}

	stdout, err, code := validate(nil, "--json", path)
	if code != exitFailed {
		t.Fatalf("default limit: exit %d (%v), want %d:\n%s", code, err, exitFailed, tail(stdout, 2000))
	}
	var tooLarge int
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var p struct {
			Row     int    `json:"row"`
			Column  string `json:"column"`
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(sc.Bytes(), &p) != nil || p.Code == "" {
			continue
		}
		if p.Code != "AMOUNT_TOO_LARGE" || p.Column != "amount" {
			t.Errorf("problem %+v, want AMOUNT_TOO_LARGE in column amount", p)
			continue
		}
		tooLarge++
		for _, want := range []string{fmt.Sprintf("row %d (line %d, ID BIG-%03d), amount", p.Row, p.Row+1, p.Row), `"999999999999999.99"`, "10000000.00 TRY", "MAX_ITEM_AMOUNT"} {
			if !strings.Contains(p.Message, want) {
				t.Errorf("message %q lacks %q", p.Message, want)
			}
		}
	}
	if tooLarge != rows {
		t.Errorf("%d AMOUNT_TOO_LARGE problems, want %d:\n%s", tooLarge, rows, tail(stdout, 2000))
	}
	if !strings.Contains(stdout, `"rejected":100,"rejected_by_code":{"AMOUNT_TOO_LARGE":100}`) {
		t.Errorf("summary does not count 100 rows rejected as AMOUNT_TOO_LARGE:\n%s", tail(stdout, 1000))
	}

	stdout, _, code = validate(nil, path)
	if code != exitFailed || !strings.Contains(stdout, "AMOUNT_TOO_LARGE             100") || !strings.Contains(stdout, "100 rows are invalid") {
		t.Errorf("text output: exit %d\n%s", code, tail(stdout, 1000))
	}

	// A higher limit lets the rows through; the limit is compared exactly, to the cent.
	if stdout, err, code := validate(map[string]string{"MAX_ITEM_AMOUNT": "999999999999999.99"}, path); code != exitOK {
		t.Errorf("MAX_ITEM_AMOUNT at the amount: exit %d (%v)\n%s", code, err, tail(stdout, 1000))
	}
	if _, _, code := validate(map[string]string{"MAX_ITEM_AMOUNT": "999999999999999.98"}, path); code != exitFailed {
		t.Errorf("MAX_ITEM_AMOUNT a cent below the amount: exit %d, want %d", code, exitFailed)
	}
	if _, err, code := validate(map[string]string{"MAX_ITEM_AMOUNT": "lots"}, path); code != exitUsage || err == nil || !strings.Contains(err.Error(), "MAX_ITEM_AMOUNT") {
		t.Errorf("bad MAX_ITEM_AMOUNT: exit %d, error %v; want %d naming the variable", code, err, exitUsage)
	}
}

// TestHelperValidateProcess is not a test: TestValidateBombs runs the test binary with it as a
// separate `masspayout validate` process, whose peak memory is its own. The arguments come in
// MASSPAYOUT_HELPER_VALIDATE, separated by newlines; before exiting as masspayout would, it prints
// its peak RSS (VmHWM) on standard error.
func TestHelperValidateProcess(t *testing.T) {
	args := os.Getenv("MASSPAYOUT_HELPER_VALIDATE")
	if args == "" {
		t.Skip("helper process for TestValidateBombs")
	}
	err := run(context.Background(), append([]string{"masspayout", "validate"}, strings.Split(args, "\n")...),
		func(string) string { return "" }, os.Stdin, os.Stdout, os.Stderr)
	if err != nil && !errors.Is(err, errSilent) {
		fmt.Fprintln(os.Stderr, "masspayout:", err)
	}
	fmt.Fprintf(os.Stderr, "\nhelper peak RSS: %d kB\n", procPeakRSS(os.Getpid()))
	os.Exit(exitCode(err))
}

// procPeakRSS returns a process's peak resident set size (VmHWM) in KiB, or 0 when it cannot be
// read. Unlike the rusage of a child, it does not count memory shared with the parent before exec.
func procPeakRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// TestValidateBombs runs `masspayout validate` as a child process on each hostile file of issue
// 11 (XLSX memory bombs, CSV wide-row amplification) and checks that it answers with a row- or
// file-level error within 2 s of CPU time (20 s under the race detector) and a peak RSS under
// 150 MiB, sampled from /proc while it runs and reported by the child before it exits. The workbooks take a few
// MiB on disk and inflate to about 1 GiB; the CSV is streamed to standard input. MASSPAYOUT_VALIDATE_BINARY runs another
// masspayout binary instead (an older build, to see the test fail); a child past 4 times the
// memory limit or 10 times the time limit is killed.
func TestValidateBombs(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the peak RSS is read from /proc")
	}
	const maxRSS = 150 << 10 // KiB
	maxTime := 2 * time.Second
	if raceEnabled() {
		maxTime *= 10 // the race detector slows the child's parsing about that much
	}
	dir := t.TempDir()
	xlsx := func(write func(io.Writer) error) func() io.Reader {
		return func() io.Reader {
			var b bytes.Buffer
			if err := write(&b); err != nil {
				t.Fatal(err)
			}
			return &b
		}
	}
	for _, tc := range []struct {
		name  string
		file  func() io.Reader // written to a file, or streamed to standard input for .csv
		code  int
		want  string // in the standard output and error
		shape string // for the log
	}{
		{"1 comment-split cells.xlsx", xlsx(func(w io.Writer) error { return payoutfiletest.CommentSplitCells(w, 8<<20, 125) }),
			exitUsage, "cell A2 holds more than 256 KiB of text and markup", "125 cells of 8 MiB text split by comments, about 1 GB inflated"},
		{"1b many cut cells.xlsx", xlsx(func(w io.Writer) error { return payoutfiletest.CommentSplitCells(w, 32<<10, 300) }),
			exitUsage, "cell IW2 has a value beyond column IV", "300 cells of 32 KiB split by comments, no references"},
		{"2 comment-split shared string.xlsx", xlsx(func(w io.Writer) error { return payoutfiletest.CommentSplitSharedString(w, 250<<20) }),
			exitUsage, "shared string 1 of the workbook holds more than 256 KiB", "one shared string of 250 MiB split by comments"},
		{"3 inflating sheet.xlsx", xlsx(func(w io.Writer) error { return payoutfiletest.InflatingSheet(w, 1200<<20) }),
			exitUsage, "first sheet: larger than 1 GiB uncompressed, the limit", "1.2 GiB of valid rows at about 74:1"},
		{"4 wide header.csv", func() io.Reader { return payoutfiletest.WideCSV(65000, 130e6) },
			exitUsage, "the header has 65000 columns, more than the limit of 256", "a header of 65,000 columns, a row of 130 MB"},
		{"4b wide row.csv", func() io.Reader { return payoutfiletest.WideCSV(4, 130e6) },
			exitUsage, "row 1 (line 2) is longer than 2 MiB, the limit for one row", "a row of 130 MB of delimiters"},
		{"5 columns going back.xlsx", xlsx(func(w io.Writer) error { return payoutfiletest.BackwardsColumns(w, 120000, 4096) }),
			exitUsage, `sheet row 2: cell "A2" comes after cell B2`, "240,000 cells B2, A2, B2, … of 4 KiB each"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			args := []string{path}
			var stdin io.Reader
			if strings.HasSuffix(path, ".csv") {
				args, stdin = []string{"--format", "csv", "-"}, tc.file()
			} else {
				f, err := os.Create(path)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := io.Copy(f, tc.file()); err != nil {
					t.Fatal(err)
				}
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
			}
			res := runValidateChild(t, args, stdin, 4*maxRSS, 10*maxTime)
			t.Logf("%s: peak RSS %d MiB, %v (%v CPU), exit %d", tc.shape, res.peakKiB>>10, res.elapsed.Round(time.Millisecond), res.cpu.Round(time.Millisecond), res.code)
			if res.killed {
				t.Fatalf("killed: peak RSS %d MiB after %v, over 4 times the limit of %d MiB or 10 times %v", res.peakKiB>>10, res.elapsed, maxRSS>>10, maxTime)
			}
			if res.peakKiB >= maxRSS {
				t.Errorf("peak RSS %d MiB, want under %d MiB", res.peakKiB>>10, maxRSS>>10)
			}
			// CPU time, not wall time: a loaded CI machine must not make this test flaky.
			if res.cpu >= maxTime {
				t.Errorf("answered after %v of CPU time, want under %v", res.cpu, maxTime)
			}
			if res.code != tc.code || !strings.Contains(res.output, tc.want) {
				t.Errorf("exit %d, want %d; output %q lacks %q", res.code, tc.code, res.output, tc.want)
			}
		})
	}
}

// raceEnabled reports whether this test binary was built with the race detector.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	return ok && slices.ContainsFunc(bi.Settings, func(s debug.BuildSetting) bool { return s.Key == "-race" && s.Value == "true" })
}

type childResult struct {
	peakKiB int64
	elapsed time.Duration
	cpu     time.Duration // user + system time of the child
	code    int
	output  string // the first 64 KiB of standard output, then of standard error
	killed  bool
}

// runValidateChild runs `masspayout validate args...` as a child process (this test binary as
// TestHelperValidateProcess, or MASSPAYOUT_VALIDATE_BINARY) and samples its peak RSS every few
// milliseconds, killing it past killKiB or after killAfter.
func runValidateChild(t *testing.T, args []string, stdin io.Reader, killKiB int64, killAfter time.Duration) childResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperValidateProcess$")
	cmd.Env = append(os.Environ(), "MASSPAYOUT_HELPER_VALIDATE="+strings.Join(args, "\n"))
	if bin := os.Getenv("MASSPAYOUT_VALIDATE_BINARY"); bin != "" {
		cmd = exec.Command(bin, append([]string{"validate"}, args...)...)
	}
	stdout, stderr := &headWriter{max: 64 << 10}, &headWriter{max: 64 << 10}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	var res childResult
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-tick.C:
			res.peakKiB = max(res.peakKiB, procPeakRSS(cmd.Process.Pid))
			if !res.killed && (res.peakKiB > killKiB || time.Since(start) > killAfter) {
				res.killed = true
				cmd.Process.Kill()
			}
		}
	}
	res.elapsed, res.code = time.Since(start), cmd.ProcessState.ExitCode()
	res.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	res.output = stdout.String() + stderr.String()
	if i := strings.LastIndex(res.output, "helper peak RSS: "); i >= 0 {
		var kib int64
		fmt.Sscanf(res.output[i:], "helper peak RSS: %d kB", &kib)
		res.peakKiB = max(res.peakKiB, kib)
	}
	return res
}

// headWriter keeps the first max bytes written to it and discards the rest.
type headWriter struct {
	mu  sync.Mutex
	b   bytes.Buffer
	max int
}

func (w *headWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if room := w.max - w.b.Len(); room > 0 {
		w.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (w *headWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestExcelFormulaAmountsSubmitted: the workbook whose amounts are formula results saved as Excel
// saves them (82436.039999999994 for a cell showing 82436.04) passes validate and is paid as
// shown: submission reads it with the same payoutfile.Reader.
func TestExcelFormulaAmountsSubmitted(t *testing.T) {
	path := filepath.Join(validateDir, "formulas.xlsx")
	if out, err, code := runValidate(t, "", path); code != exitOK {
		t.Fatalf("validate: exit %d (%v)\n%s", code, err, out)
	}
	dir := t.TempDir()
	c := &cli{t: t, env: map[string]string{"APPROVAL": "auto", "POLL_INTERVAL": "50ms", "RESULTS_DIR": dir, "IYZICO_RATE_LIMIT": "0"}}
	report := filepath.Join(dir, "report.csv")
	out, logs, code := c.run(context.Background(), "run", "--wait-final", "--report", report, "--batch-id", "excel-formulas", path)
	if code != exitOK {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, tail(logs, 3000))
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(recs) != 5 {
		t.Fatalf("report: %d lines (%v):\n%s", len(recs), err, b)
	}
	col := map[string]int{}
	for i, name := range recs[0] {
		col[name] = i
	}
	for i, want := range []string{"82436.04", "82436.04", "0.30", "1.00"} {
		rec := recs[i+1]
		if got := rec[col["amount"]]; got != want || rec[col["status"]] != "SUCCESS" || rec[col["paid"]] != "yes" {
			t.Errorf("report row %d: amount %s, status %s, paid %s; want %s, SUCCESS, yes", i+1, got, rec[col["status"]], rec[col["paid"]], want)
		}
	}
}
