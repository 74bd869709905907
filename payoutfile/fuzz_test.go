package payoutfile

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"regexp"
	"runtime/metrics"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/masspayout/masspayout/payoutfile/payoutfiletest"
	"github.com/shopspring/decimal"
)

// Seeds live in testdata/fuzz/<Name>/ (Go corpus format); the f.Add calls below add a few more.

// fuzzOptions keeps fuzz inputs small and limits tight, so limit paths are reached.
func fuzzOptions(f Format, decimalComma bool) Options {
	return Options{Format: f, DecimalComma: decimalComma, MaxFileBytes: 1 << 20, MaxFieldBytes: 256, MaxRows: 5000,
		Currencies: []string{"TRY", "USD", "EUR", "JPY", "KWD"}}
}

// checkReader reads data to the end and checks the reader's invariants; it returns the valid
// items. Allocation is bounded linearly in the input.
func checkReader(t *testing.T, data []byte, o Options) []Item {
	t.Helper()
	before := allocatedBytes()
	r, err := NewReader(bytes.NewReader(data), o)
	if err != nil {
		var fe *FileError
		if !errors.As(err, &fe) || fe.Code == "" || fe.Message == "" {
			t.Fatalf("NewReader error %v (%T) is not a complete *FileError", err, err)
		}
		return nil
	}
	defer r.Close()
	var valid []Item
	last, lastLine := 0, 0
	recipients := map[[2]string]int{} // recipient type and info of valid rows → first row
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || fe.Code == "" || fe.Message == "" {
				t.Fatalf("Next error %v (%T) is not a complete *FileError", err, err)
			}
			break
		}
		if rec.Row <= last || rec.Item.Row != rec.Row || rec.Row > o.MaxRows {
			t.Fatalf("row %d after row %d (item row %d)", rec.Row, last, rec.Item.Row)
		}
		last = rec.Row
		// Lines (CSV, JSON Lines, XLSX sheet rows) only go forward, and never lag behind rows.
		if rec.Line != 0 && (rec.Line <= lastLine || rec.Line < rec.Row) {
			t.Fatalf("row %d at line %d after line %d", rec.Row, rec.Line, lastLine)
		}
		lastLine = max(lastLine, rec.Line)
		for _, e := range append(rec.Errors[:len(rec.Errors):len(rec.Errors)], rec.Warnings...) {
			if e.Row != rec.Row || e.Line != rec.Line || e.Code == "" || !strings.HasPrefix(e.Message, "row ") {
				t.Fatalf("row %d: incomplete error %+v", rec.Row, e)
			}
			// The item external ID is always shown (it names the row in every message), and so is
			// an amount that reads as a number.
			if strings.Contains(e.Message, "0006100519786457841") && e.Column != "item_external_id" && e.Column != "amount" &&
				!strings.Contains(e.ItemExternalID, "0006100519786457841") {
				t.Fatalf("message shows an IBAN: %q", e.Message)
			}
		}
		// A valid row repeating an earlier valid row's recipient is warned about, naming that row.
		key := [2]string{rec.Item.RecipientType, rec.Item.RecipientInfo}
		first := 0
		if rec.Valid() {
			if first = recipients[key]; first == 0 {
				recipients[key] = rec.Row
			}
		}
		if rec.SameRecipientAs != first || (len(rec.Warnings) > 0) != (first > 0) ||
			(first > 0 && (len(rec.Warnings) != 1 || rec.Warnings[0].Code != CodeDuplicateRecipient)) {
			t.Fatalf("row %d: same recipient as %d, warnings %v; want the first row %d", rec.Row, rec.SameRecipientAs, rec.Warnings, first)
		}
		if rec.Valid() {
			if !rec.AmountOK || rec.Item.Amount.Sign() <= 0 {
				t.Fatalf("valid row %d with amount %s (ok %v)", rec.Row, rec.Item.Amount, rec.AmountOK)
			}
			minor, _ := MinorUnits(rec.Item.Currency)
			if -rec.Item.Amount.Exponent() > minor {
				t.Fatalf("valid row %d amount %s has more decimals than %s allows", rec.Row, rec.Item.Amount, rec.Item.Currency)
			}
			valid = append(valid, rec.Item)
		}
	}
	if alloc := allocatedBytes() - before; alloc > uint64(1024*len(data))+8<<20 {
		t.Fatalf("reading %d bytes allocated %d bytes", len(data), alloc)
	}
	return valid
}

// allocatedBytes returns the bytes allocated on the heap so far. runtime/metrics reads it without
// stopping the world, unlike runtime.ReadMemStats, which stalls fuzzing workers.
func allocatedBytes() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// amountText writes an amount with exactly its digits.
func amountText(d decimal.Decimal) string {
	if exp := d.Exponent(); exp < 0 {
		return d.StringFixed(-exp)
	}
	return d.String()
}

// sameItems compares items field by field, amounts by value and scale.
func sameItems(t *testing.T, got, want []Item) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("round trip gave %d valid items, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.Amount.Equal(w.Amount) || g.Amount.Exponent() != w.Amount.Exponent() {
			t.Fatalf("round trip item %d amount %s, want %s", i, g.Amount, w.Amount)
		}
		g.Amount, w.Amount, g.Row, w.Row = decimal.Decimal{}, decimal.Decimal{}, 0, 0
		if g != w {
			t.Fatalf("round trip item %d\n%+v\nwant\n%+v", i, g, w)
		}
	}
}

func FuzzCSVReader(f *testing.F) {
	f.Add([]byte("recipient_type,recipient_info,amount,currency\nIBAN,TR330006100519786457841326,1,TRY\n"), false)
	f.Add([]byte("\ufeffrecipient_type;recipient_info;recipient_name;amount;currency\r\nIBAN;TR33 0006 1005 1978 6457 8413 26;Şükrü;1.234,56;try\r\n"), true)
	f.Add([]byte("item_external_id\trecipient_type\trecipient_info\tamount\tcurrency\rA\tPHONE\t05321234567\t\"1\"\tUSD\rA\tMEMBER_ID\t1\t2\tEUR"), false)
	f.Fuzz(func(t *testing.T, data []byte, decimalComma bool) {
		valid := checkReader(t, data, fuzzOptions(FormatCSV, decimalComma))
		if len(valid) == 0 {
			return
		}
		// Valid rows round-trip: written back as CSV, they read as the same items.
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.Write(csvHeader)
		for _, it := range valid {
			nw := "false"
			if it.NonWithdrawable {
				nw = "true"
			}
			w.Write([]string{it.ItemExternalID, it.RecipientType, it.RecipientInfo, it.RecipientName, amountText(it.Amount), it.Currency, it.Description, nw})
		}
		w.Flush()
		sameItems(t, checkReader(t, b.Bytes(), fuzzOptions(FormatCSV, false)), valid)
	})
}

func FuzzJSONLReader(f *testing.F) {
	f.Add([]byte(`{"recipientType":"MEMBER_ID","recipientInfo":"1","amount":{"value":1.50,"currency":"TRY"}}` + "\n"))
	f.Add([]byte(`{"recipientType":"PHONE","recipientInfo":"05321234567","amount":"7","currency":"usd","nonWithdrawable":"evet"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		valid := checkReader(t, data, fuzzOptions(FormatJSONL, false))
		if len(valid) == 0 {
			return
		}
		var b bytes.Buffer
		for _, it := range valid {
			line, _ := json.Marshal(map[string]any{
				"itemExternalId": it.ItemExternalID, "recipientType": it.RecipientType, "recipientInfo": it.RecipientInfo,
				"recipientName": it.RecipientName, "description": it.Description, "nonWithdrawable": it.NonWithdrawable,
				"amount": map[string]any{"value": json.Number(amountText(it.Amount)), "currency": it.Currency},
			})
			b.Write(line)
			b.WriteByte('\n')
		}
		sameItems(t, checkReader(t, b.Bytes(), fuzzOptions(FormatJSONL, false)), valid)
	})
}

func FuzzJSONReader(f *testing.F) {
	f.Add([]byte(`{"externalId":"b","items":[{"recipientType":"MEMBER_ID","recipientInfo":"1","amount":{"value":1,"currency":"TRY"}}],"purpose":"SALARY"}`))
	f.Add([]byte(`[{"recipientType":"IBAN","recipientInfo":"TR330006100519786457841326","recipientName":"A","amount":{"value":"1.5","currency":"EUR"}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkReader(t, data, fuzzOptions(FormatJSON, false))
	})
}

func FuzzXLSXReader(f *testing.F) {
	f.Add(payoutfiletest.XLSX(xlsxRows(), payoutfiletest.XLSXOptions{}))
	f.Add(payoutfiletest.XLSX(xlsxRows(), payoutfiletest.XLSXOptions{Prefix: "x", NoRefs: true, RichText: true}))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkReader(t, data, fuzzOptions(FormatXLSX, true))
	})
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"100", "100.50", "-0", "+7", "1e3", "NaN", "0x10", "1_000", "1.234,56", "1,234.56", "₺5", "00.10"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, comma bool) {
		d, err := ParseAmount(s, comma)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if strings.ContainsAny(s, "eExX_ \t") || strings.Contains(strings.ToLower(s), "nan") || strings.Contains(strings.ToLower(s), "inf") {
			t.Fatalf("ParseAmount(%q) accepted %s", s, d)
		}
		// An independent reading: drop grouping, use '.' for decimals, let decimal parse it.
		plain := s
		if comma {
			plain = strings.ReplaceAll(strings.ReplaceAll(s, ".", ""), ",", ".")
		} else if strings.Contains(s, ",") {
			t.Fatalf("ParseAmount(%q, false) accepted a comma", s)
		}
		ref, err := decimal.NewFromString(plain)
		if err != nil || !ref.Equal(d) {
			t.Fatalf("ParseAmount(%q, %v) = %s, decimal reads %q as %s (%v)", s, comma, d, plain, ref, err)
		}
		frac := 0
		if i := strings.IndexByte(plain, '.'); i >= 0 {
			frac = len(plain) - i - 1
		}
		if -d.Exponent() != int32(frac) {
			t.Fatalf("ParseAmount(%q) exponent %d, want %d: the written scale must be kept", s, d.Exponent(), -frac)
		}
		// Parse and format are inverse: the exact text reads back to the same value and scale.
		text := amountText(d)
		back, err := ParseAmount(text, false)
		if err != nil || !back.Equal(d) || back.Exponent() != d.Exponent() {
			t.Fatalf("ParseAmount(%q) = %s, but %q reads back as %s (%v)", s, d, text, back, err)
		}
		if c := strings.Replace(text, ".", ",", 1); true {
			back, err := ParseAmount(c, true)
			if err != nil || !back.Equal(d) || back.Exponent() != d.Exponent() {
				t.Fatalf("%q with a decimal comma reads back as %s (%v), want %s", c, back, err, d)
			}
		}
	})
}

// referenceIBAN is an independent IBAN check with big integers.
func referenceIBAN(s string) (string, bool) {
	s = strings.NewReplacer(" ", "", "-", "", "\u00a0", "", "\u202f", "").Replace(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	c := b.String()
	if !regexp.MustCompile(`^[A-Z]{2}(0[2-9]|[1-8][0-9]|9[0-8])[A-Z0-9]+$`).MatchString(c) || len(c) != ibanLength(c[:2]) {
		return "", false
	}
	if c[:2] == "TR" && !regexp.MustCompile(`^TR[0-9]{2}[0-9]{5}0[A-Z0-9]{16}$`).MatchString(c) {
		return "", false
	}
	n, _ := new(big.Int).SetString(ibanDigits(c[4:]+c[:4]), 10)
	return c, new(big.Int).Mod(n, big.NewInt(97)).Int64() == 1
}

func FuzzIBAN(f *testing.F) {
	for _, s := range []string{"TR330006100519786457841326", "TR330006100519786457841327", "tr33 0006 1005 1978 6457 8413 26", "GB82WEST12345698765432", "NO9386011117947", "TR920086402100005482911108", "XX00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeIBAN(s)
		want, ok := referenceIBAN(s)
		if (err == nil) != ok || (ok && got != want) {
			t.Fatalf("NormalizeIBAN(%q) = %q, %v; the reference says %q, %v", s, got, err, want, ok)
		}
		if err == nil {
			if again, err := NormalizeIBAN(got); err != nil || again != got {
				t.Fatalf("NormalizeIBAN is not idempotent on %q: %q, %v", got, again, err)
			}
			if m := Mask(TypeIBAN, got); strings.Contains(m, got[4:len(got)-4]) {
				t.Fatalf("Mask shows the middle of %q: %q", got, m)
			}
		}
	})
}

func FuzzTCKN(f *testing.F) {
	for _, s := range []string{"17291716060", "17291716050", "07291716092", "1729171606", "19090909018", "1.72917E+10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidTCKN(s), referenceTCKN(s); got != want {
			t.Fatalf("ValidTCKN(%q) = %v, reference %v", s, got, want)
		}
	})
}

// referencePhone is an independent E.164 reading with regular expressions.
func referencePhone(s string) (string, bool) {
	c := regexp.MustCompile("[ .()\\-\u00a0\u202f]").ReplaceAllString(s, "")
	var e string
	switch {
	case regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`).MatchString(c):
		e = c
	case regexp.MustCompile(`^00[1-9][0-9]{7,14}$`).MatchString(c):
		e = "+" + c[2:]
	case regexp.MustCompile(`^05[0-9]{9}$`).MatchString(c):
		e = "+90" + c[1:]
	default:
		return "", false
	}
	if strings.HasPrefix(e, "+90") && !regexp.MustCompile(`^\+905[0-9]{9}$`).MatchString(e) {
		return "", false
	}
	return e, true
}

func FuzzPhone(f *testing.F) {
	for _, s := range []string{"+905456856931", "05321234567", "0 (532) 123-45-67", "0090 532 123 45 67", "5321234567", "+902121234567", "+1 (555) 123-4567", "00512345678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizePhone(s)
		if !utf8.ValidString(s) && err == nil {
			t.Fatalf("NormalizePhone(%q) accepted invalid UTF-8", s)
		}
		want, ok := referencePhone(s)
		if (err == nil) != ok || (ok && got != want) {
			t.Fatalf("NormalizePhone(%q) = %q, %v; the reference says %q, %v", s, got, err, want, ok)
		}
		if err == nil {
			if again, err := NormalizePhone(got); err != nil || again != got {
				t.Fatalf("NormalizePhone is not idempotent on %q: %q, %v", got, again, err)
			}
		}
	})
}

// FuzzTextProblem checks textProblem's byte-level fast paths against the plain rule, rune by rune:
// the first invalid byte or refused character decides, else the length.
func FuzzTextProblem(f *testing.F) {
	for _, s := range []string{"Ayşe Yılmaz", "Şükrü\u200bÇağlar", "a\u0085b", "\u00a0x", "ok", "\xc3", "\xc3(", "\xe2\x80\xae", "\x7f", "İ\xff",
		"a\u00adb", "\u034f", "x\u3164", "\U000E0041"} {
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		wantCode := ""
		n := 0
		for i := 0; i < len(s); n++ {
			r, size := utf8.DecodeRuneInString(s[i:])
			i += size
			if r == utf8.RuneError && size == 1 {
				wantCode = CodeInvalidEncoding
				break
			}
			if (r < utf8.RuneSelf && (r < 0x20 || r == 0x7f)) || (r >= utf8.RuneSelf && forbiddenRune(r)) {
				wantCode = CodeInvalidCharacter
				break
			}
		}
		if wantCode == "" && n > max {
			wantCode = CodeFieldTooLong
		}
		if code, _ := textProblem(s, max); code != wantCode {
			t.Fatalf("textProblem(%q, %d) = %s, want %s", s, max, code, wantCode)
		}
	})
}

// FuzzExcelNumber: a number cell's value is read at Excel's 15 significant digits: what comes out
// has at most 15, reads back as itself, and is the input itself when it had no more.
func FuzzExcelNumber(f *testing.F) {
	for _, s := range []string{"82436.039999999994", "0.30000000000000004", "1.0000000000000002", "10.005", "1E-4", "1E+15",
		"-5.0000000000000009", "99.999999999999986", "0", "NaN", "1E-60", "123456789012345.67"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, shown, err := parseExcelNumber(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		back, err := parseAmount(shown, false)
		if err != nil || !back.d.Equal(a.d) || back.d.Exponent() != a.d.Exponent() || back.sigFrac != a.sigFrac || back.intDigits != a.intDigits {
			t.Fatalf("parseExcelNumber(%q) = %s shown %q, which reads back as %s (%v)", s, a.d, shown, back.d, err)
		}
		if a.frac != a.sigFrac || a.d.Exponent() > 0 {
			t.Fatalf("parseExcelNumber(%q) = %s (exponent %d): not canonical", s, a.d, a.d.Exponent())
		}
		coef := a.d.Coefficient()
		if digits := len(strings.Trim(coef.Abs(coef).String(), "0")); digits > excelDigits { // 1E+15 has one
			t.Fatalf("parseExcelNumber(%q) = %s has %d significant digits", s, a.d, digits)
		}
		in, err := decimal.NewFromString(s)
		if err != nil {
			t.Fatalf("parseExcelNumber(%q) accepted what decimal refuses: %v", s, err)
		}
		c := in.Coefficient()
		if len(strings.TrimLeft(c.Abs(c).String(), "0")) <= excelDigits && !in.Equal(a.d) {
			t.Fatalf("parseExcelNumber(%q) = %s changed a value Excel shows whole", s, a.d)
		}
		// Rounded to 15 digits: the difference is at most half a unit in the 15th digit.
		if diff := in.Sub(a.d).Abs(); diff.Sign() > 0 && diff.Cmp(in.Abs().Shift(1-excelDigits)) > 0 {
			t.Fatalf("parseExcelNumber(%q) = %s is %s away", s, a.d, diff)
		}
	})
}
