package payoutfile

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/masspayout/masspayout/payoutfile/payoutfiletest"
)

var updateSeeds = flag.Bool("update-fuzz-seeds", false, "write the fuzz seed corpora under testdata/fuzz")

// fuzzSeeds returns the committed seed inputs of each fuzz target, each a list of argument lists.
func fuzzSeeds() map[string][][]any {
	header := "item_external_id,recipient_type,recipient_info,recipient_name,amount,currency,description,non_withdrawable\n"
	csvs := []string{
		header + "E1,IBAN,TR330006100519786457841326,Ayşe Yılmaz,100.50,TRY,Maaş,false\nE2,PHONE,0532 123 45 67,,5,USD,,evet\n",
		"\ufeffItem External ID;Recipient Type;Recipient Info;Recipient Name;Amount;Currency\r\nP-1;IBAN;TR33 0006 1005 1978 6457 8413 26;Şükrü Öztürk;1.234,56;TRY\r\n;;;;;\r\n",
		"recipient_type\trecipient_info\tamount\tcurrency\rIDENTITY_NUMBER\t17291716060\t1\tTRY\rMEMBER_ID\t2228853\t2.5\tEUR",
		header + "A,MEMBER_ID,1,\"Ali, \"\"Veli\"\"\",1,TRY,\"multi\nline\",1\nA,MEMBER_ID,1,,1,TRY,,\n",
		header + "A,IBAN,TR330006100519786457841327,,1e3,TL,x,maybe\nB,MEMBER_ID,1,1,5,TRY,,\n",
		header + "A,MEMBER_ID,\"1,1,TRY,,\n",
		"recipient_type,recipient_info,amount,currency\nJPY_TEST,1,100.5,JPY\nMEMBER_ID,1,1.125,KWD\nMEMBER_ID,1,0.30000000000000004,TRY\n",
		"a,b\n",
		"",
		"recipient_type,recipient_info,amount,currency\nMEMBER_ID,1,1,TRY" + strings.Repeat(",x", 300) + "\nMEMBER_ID,2,2,TRY,\"a,b\",\"c\"\"d\"\n",
	}
	var seeds = map[string][][]any{}
	for i, c := range csvs {
		seeds["FuzzCSVReader"] = append(seeds["FuzzCSVReader"], []any{[]byte(c), i%3 == 1})
	}
	seeds["FuzzJSONLReader"] = [][]any{
		{[]byte(`{"itemExternalId":"J1","recipientType":"IBAN","recipientInfo":"TR330006100519786457841326","recipientName":"Ayşe","amount":{"value":100.50,"currency":"TRY"}}` + "\n" +
			`{"itemExternalId":"J2","recipientType":"PHONE","recipientInfo":"+905456856931","amount":{"value":"8000","currency":"TRY"},"nonWithdrawable":true}` + "\n")},
		{[]byte(`{"recipientType":"MEMBER_ID","recipientInfo":["x"],"amount":{"value":1e3,"currency":"TRY"},"amount":1}` + "\n[1]\n{\"a\":\n\n")},
	}
	seeds["FuzzJSONReader"] = [][]any{
		{[]byte(`{"externalId":"maas-2025-01","conversationId":"c","purpose":"SALARY","locale":"tr","items":[` +
			`{"itemExternalId":"ext-1","recipientType":"IBAN","recipientInfo":"TR330006100519786457841326","amount":{"value":100,"currency":"TRY"},"description":"Payment","recipientName":"John Doe"},` +
			`{"itemExternalId":"ext-2","recipientType":"MEMBER_ID","recipientInfo":2228853,"amount":8000.5,"currency":"try"}]}`)},
		{[]byte(`[{"recipientType":"IDENTITY_NUMBER","recipientInfo":"17291716060","amount":{"value":"7000","currency":"USD"},"x":{"y":[1,{"z":null}]}}]`)},
		{[]byte(`{"items":[{"recipientType": }]}`)},
		{[]byte(`{"items":[]} trailing`)},
	}
	seeds["FuzzXLSXReader"] = [][]any{
		{payoutfiletest.XLSX(xlsxRows(), payoutfiletest.XLSXOptions{})},
		// Excel numbers: formula results with 17 digits, a percentage, a date, a formula without a
		// result, the same recipient twice.
		{payoutfiletest.XLSX([][]payoutfiletest.Cell{
			payoutfiletest.Strings("item_external_id", "recipient_type", "recipient_info", "amount", "currency", "pay_date"),
			{payoutfiletest.S("E1"), payoutfiletest.S("MEMBER_ID"), payoutfiletest.N("2228853"), payoutfiletest.F("ROUND(A1,2)", "82436.039999999994"), payoutfiletest.S("TRY"),
				{Text: "46053", Kind: payoutfiletest.Number, Style: payoutfiletest.StyleDate}},
			{payoutfiletest.S("E2"), payoutfiletest.S("MEMBER_ID"), payoutfiletest.N("2228853"), {Text: "0.15", Kind: payoutfiletest.Number, Style: payoutfiletest.StylePercent}, payoutfiletest.S("TRY")},
			{payoutfiletest.S("E3"), payoutfiletest.S("MEMBER_ID"), payoutfiletest.N("2228854"), {Text: "10.004999999999999", Kind: payoutfiletest.Number, Formula: "B3", LibreOffice: true}, payoutfiletest.S("KWD")},
			{payoutfiletest.S("E4"), payoutfiletest.S("MEMBER_ID"), payoutfiletest.N("2228855"), payoutfiletest.F("B4*2", ""), payoutfiletest.S("TRY")},
			{payoutfiletest.S("E5"), payoutfiletest.S("MEMBER_ID"), payoutfiletest.N("2228856"), payoutfiletest.N("1E-4"), payoutfiletest.S("JPY")},
		}, payoutfiletest.XLSXOptions{})},
		{payoutfiletest.XLSX(xlsxRows(), payoutfiletest.XLSXOptions{Prefix: "x", NoRefs: true, RichText: true, FirstRow: 2})},
		{payoutfiletest.LyingZip("xl/worksheets/sheet1.xml", 1<<40)},
		{payoutfiletest.ManyEntries(3)},
		{limitsSheet(`<row r="2"><c r="A2" t="inlineStr"><is><t>MEMBER_ID</t></is></c><c r="B2"><v>1</v></c><c r="C2"><v>1</v></c><c r="D2" t="s"><v>0</v></c>`+
			`<c r="E2" t="inlineStr"><is><r><t>`+split("Maaş ", 400)+`</t></r></is></c><c r="F2" t="s"><v>1</v></c></row>`+
			`<row r="3"><c r="B3"><v>1</v></c><c r="A3"><v>1</v></c></row>`, []string{`<si><t>TRY</t></si>`, `<si><t>` + split("Şükrü ", 300) + `</t></si>`})},
	}
	for _, s := range []string{"100", "100.50", "0.01", "-0", "+7", "007.5", "1e3", "NaN", "Inf", "0x10", "1_000", "1,234.56",
		"1234,56", "1.234,56", "1.234.567,89", "12.34", "₺5", "100 TL", ".5", "5.", "1.2.3", "0.30000000000000004", strings.Repeat("9", 40)} {
		seeds["FuzzParseAmount"] = append(seeds["FuzzParseAmount"], []any{s, false}, []any{s, true})
	}
	for _, s := range []string{"TR330006100519786457841326", "TR330006100519786457841327", "tr33 0006 1005 1978 6457 8413 26",
		"TR33-0006-1005-1978-6457-8413-26", "TR920086402100005482911108", "GB82WEST12345698765432", "NO9386011117947",
		"FR1420041010050500013M02606", "\u0422R330006100519786457841326", "TR330006100519786457841326\u200b", "TR000006100519786457841326", "XX"} {
		seeds["FuzzIBAN"] = append(seeds["FuzzIBAN"], []any{s})
	}
	for _, s := range []string{"17291716060", "17291716050", "1729171606", "07291716092", "22222222220", "53857708216",
		"11111111110", "19090909018", "1.72917E+10", "١٧٢٩١٧١٦٠٦٠"} {
		seeds["FuzzTCKN"] = append(seeds["FuzzTCKN"], []any{s})
	}
	for _, s := range []string{"+905456856931", "05321234567", "0 (532) 123-45-67", "0090 532 123 45 67", "5321234567",
		"+902121234567", "02121234567", "+90 0532 123 45 67", "+1 (555) 123-4567", "00512345678", "+90５３２1234567", "tel:+905321234567"} {
		seeds["FuzzPhone"] = append(seeds["FuzzPhone"], []any{s})
	}
	return seeds
}

// corpusFile renders arguments in the Go fuzz corpus format.
func corpusFile(args []any) []byte {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case string:
			fmt.Fprintf(&b, "string(%q)\n", v)
		case bool:
			fmt.Fprintf(&b, "bool(%v)\n", v)
		}
	}
	return []byte(b.String())
}

// TestFuzzSeeds checks that the seed corpora under testdata/fuzz are committed; run with
// -update-fuzz-seeds to write them.
func TestFuzzSeeds(t *testing.T) {
	for name, list := range fuzzSeeds() {
		for _, args := range list {
			body := corpusFile(args)
			path := filepath.Join("testdata", "fuzz", name, fmt.Sprintf("seed-%x", sha256.Sum256(body))[:21])
			if *updateSeeds {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, body, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("seed %s is missing (run go test -run TestFuzzSeeds -update-fuzz-seeds): %v", path, err)
			}
		}
	}
}
