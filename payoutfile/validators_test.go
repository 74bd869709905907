package payoutfile

import (
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

func TestNormalizeIBAN(t *testing.T) {
	good := []struct{ in, want string }{
		{"TR330006100519786457841326", "TR330006100519786457841326"},
		{"tr330006100519786457841326", "TR330006100519786457841326"},
		{"TR33 0006 1005 1978 6457 8413 26", "TR330006100519786457841326"},
		{"TR33-0006-1005-1978-6457-8413-26", "TR330006100519786457841326"},
		{"TR33\u00a00006\u00a01005 1978 6457 8413 26", "TR330006100519786457841326"},
		{"TR920086402100005482986178", "TR920086402100005482986178"},
		{"GB82WEST12345698765432", "GB82WEST12345698765432"},
		{"GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"},
		{"DE89370400440532013000", "DE89370400440532013000"},
		{"FR1420041010050500013M02606", "FR1420041010050500013M02606"},
		{"NL91ABNA0417164300", "NL91ABNA0417164300"},
		{"BE68539007547034", "BE68539007547034"},
		{"NO9386011117947", "NO9386011117947"},
		{"CH9300762011623852957", "CH9300762011623852957"},
	}
	for _, tc := range good {
		got, err := NormalizeIBAN(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizeIBAN(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	bad := []struct{ in, why string }{
		{"", "too short"},
		{"TR33", "has 4 characters"},
		{"TR330006100519786457841327", "check digits do not match"},
		{"TR920086402100005482911108", "check digits do not match"}, // iyzico's doc sample
		{"TR92008640210000235398352", "has 25 characters; TR IBANs have 26"},
		{"TR3300061005197864578413266", "has 27 characters"},
		{"DE89370400440532013001", "check digits do not match"},
		{"XX330006100519786457841326", `country code "XX" has no IBAN`},
		{"3300061005197864578413TR26", "2-letter country code"},
		{"TRAB0006100519786457841326", "check digits"},
		{"TR000006100519786457841326", "impossible"},
		{"TR990006100519786457841326", "impossible"},
		{"TR01000000000000000000000000", "has 28 characters"},
		{"TR330006100519786457841326\u200b", "zero-width space"},
		{"\u0422R330006100519786457841326", "U+0422"}, // Cyrillic Т
		{"TR３３0006100519786457841326", "full-width digit"},
		{"TR33.0006.1005.1978.6457.8413.26", "'.'"},
		{"TR33\x00006100519786457841326", "NUL"},
		{"TR33\xff0006100519786457841326", "not valid UTF-8"},
		{"TR33000A100519786457841326", "bank code"},
		{"TR330006100519786457841326" + strings.Repeat("0", 20), "too long"},
	}
	for _, tc := range bad {
		got, err := NormalizeIBAN(tc.in)
		if err == nil {
			t.Errorf("NormalizeIBAN(%q) = %q, want an error", tc.in, got)
			continue
		}
		if !strings.Contains(err.Error(), tc.why) {
			t.Errorf("NormalizeIBAN(%q) error %q, want it to mention %q", tc.in, err, tc.why)
		}
		if strings.Contains(err.Error(), "0006100519786457841") {
			t.Errorf("NormalizeIBAN(%q) error repeats the value: %q", tc.in, err)
		}
	}
}

func TestNormalizeIBANTurkishReserveDigit(t *testing.T) {
	iban := withCheckDigits("TR", "000611"+"0519786457841326")
	if _, err := NormalizeIBAN(iban); err == nil || !strings.Contains(err.Error(), "reserve digit") {
		t.Errorf("NormalizeIBAN(%q) = %v, want the reserve digit refused", iban, err)
	}
}

// withCheckDigits computes an IBAN's check digits from country and BBAN independently of mod97:
// 98 − (BBAN + country + "00" as a number mod 97).
func withCheckDigits(country, bban string) string {
	n, ok := new(big.Int).SetString(ibanDigits(bban+country+"00"), 10)
	if !ok {
		panic("bad BBAN " + bban)
	}
	ck := 98 - new(big.Int).Mod(n, big.NewInt(97)).Int64()
	return country + string(rune('0'+ck/10)) + string(rune('0'+ck%10)) + bban
}

// ibanDigits replaces letters by 10–35.
func ibanDigits(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= 'A' && c <= 'Z' {
			b.WriteString(big.NewInt(int64(c - 'A' + 10)).String())
		} else {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// randomIBAN returns a valid IBAN of a random registry country.
func randomIBAN(r *rand.Rand) string {
	countries := []string{"TR", "TR", "TR", "DE", "GB", "FR", "NL", "NO", "MT", "RU", "LC", "BE", "SA"}
	cc := countries[r.IntN(len(countries))]
	n := ibanLength(cc) - 4
	const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, n)
	for i := range b {
		if r.IntN(4) == 0 {
			b[i] = alnum[r.IntN(len(alnum))]
		} else {
			b[i] = byte('0' + r.IntN(10))
		}
	}
	if cc == "TR" {
		for i := 0; i < 5; i++ {
			b[i] = byte('0' + r.IntN(10))
		}
		b[5] = '0'
	}
	return withCheckDigits(cc, string(b))
}

func TestIBANProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		iban := randomIBAN(r)
		if got, err := NormalizeIBAN(iban); err != nil || got != iban {
			t.Fatalf("NormalizeIBAN(%q) = %q, %v; want it valid", iban, got, err)
		}
		// Any single-character substitution after the country code is caught.
		for pos := 2; pos < len(iban); pos++ {
			alphabet := "0123456789"
			if !isDigit(iban[pos]) {
				alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			}
			for _, c := range []byte(alphabet) {
				if c == iban[pos] {
					continue
				}
				changed := iban[:pos] + string(c) + iban[pos+1:]
				if _, err := NormalizeIBAN(changed); err == nil {
					t.Fatalf("NormalizeIBAN(%q) accepted a one-character change of %q", changed, iban)
				}
			}
		}
	}
}

func TestValidTCKN(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
		why  string
	}{
		{"17291716060", true, ""},
		{"22222222220", true, ""},          // iyzico doc sample
		{"53857708216", true, ""},          // iyzico doc sample
		{"11111111110", true, ""},          // passes the checksum: the rule is only the checksum
		{"19090909018", true, ""},          // 7·odd − even < 0: needs a non-negative modulo
		{"19090909098", false, "checksum"}, // the same with a truncating modulo
		{"17291716050", false, "checksum"},
		{"1729171606", false, "has 10 digits"},
		{"172917160600", false, "has 12 digits"},
		{"07291716092", false, "starts with 0"},
		{"1729171606a", false, "11 digits"},
		{"172 9171 6060", false, "11 digits"},
		{"١٧٢٩١٧١٦٠٦٠", false, "11 digits"}, // Arabic-Indic digits
		{"1.72917E+10", false, "scientific notation"},
		{"1,72917E+10", false, "scientific notation"},
		{"", false, "has 0 digits"},
		{"2222222222", false, "has 10 digits"}, // iyzico overview sample, a typo
	} {
		if got := ValidTCKN(tc.in); got != tc.want {
			t.Errorf("ValidTCKN(%q) = %v, want %v", tc.in, got, tc.want)
		}
		if err := checkTCKN(tc.in); err != nil && !strings.Contains(err.Error(), tc.why) {
			t.Errorf("checkTCKN(%q) = %q, want it to mention %q", tc.in, err, tc.why)
		}
	}
}

// referenceTCKN is an independent formulation (python-stdnum's weights 3,1,3,… for d10).
func referenceTCKN(s string) bool {
	if len(s) != 11 || s[0] == '0' {
		return false
	}
	sum, w := 0, 0
	for i := 0; i < 11; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	for i := 0; i < 9; i++ {
		d := int(s[i] - '0')
		if i%2 == 0 {
			w += 3 * d
		} else {
			w += d
		}
		sum += d
	}
	c1 := ((10-w)%10 + 10) % 10
	c2 := (c1 + sum) % 10
	return int(s[9]-'0') == c1 && int(s[10]-'0') == c2
}

// randomTCKN returns a valid T.C. Kimlik No.
func randomTCKN(r *rand.Rand) string {
	b := make([]byte, 9)
	b[0] = byte('1' + r.IntN(9))
	for i := 1; i < 9; i++ {
		b[i] = byte('0' + r.IntN(10))
	}
	for c1 := 0; c1 < 10; c1++ {
		for c2 := 0; c2 < 10; c2++ {
			s := string(b) + string(rune('0'+c1)) + string(rune('0'+c2))
			if referenceTCKN(s) {
				return s
			}
		}
	}
	panic("no check digits")
}

func TestTCKNProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20000; i++ {
		s := randomTCKN(r)
		if !ValidTCKN(s) {
			t.Fatalf("ValidTCKN(%q) = false, want true", s)
		}
		for pos := 0; pos < 11; pos++ {
			for c := byte('0'); c <= '9'; c++ {
				if c == s[pos] {
					continue
				}
				changed := s[:pos] + string(c) + s[pos+1:]
				if ValidTCKN(changed) {
					t.Fatalf("ValidTCKN(%q) = true for a one-digit change of %q", changed, s)
				}
			}
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	good := []struct{ in, want string }{
		{"+905456856931", "+905456856931"},
		{"05321234567", "+905321234567"},
		{"0532 123 45 67", "+905321234567"},
		{"0 (532) 123-45-67", "+905321234567"},
		{"0532.123.45.67", "+905321234567"},
		{"+90 532 123 45 67", "+905321234567"},
		{"0090 532 123 45 67", "+905321234567"},
		{"+4915112345678", "+4915112345678"},
		{"+1 (555) 123-4567", "+15551234567"},
		{"0049 151 1234 5678", "+4915112345678"},
	}
	for _, tc := range good {
		got, err := NormalizePhone(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	bad := []struct{ in, why string }{
		{"", "no digits"},
		{"5321234567", "no country code"},
		{"905321234567", "needs a country code"},
		{"02121234567", "landline"},
		{"+902121234567", "landline"},
		{"+90 0532 123 45 67", "has 11"},
		{"+90532123456", "has 9"},
		{"+1234567", "8 to 15"},
		{"+1234567890123456", "8 to 15"},
		{"+0532123456", "starts with 0"},
		{"+90 532 123 45 6a", "'a'"},
		{"+90532+1234567", "'+'"},
		{"tel:+905321234567", "'t'"},
		{"+90５３２1234567", "U+FF15"},
		{strings.Repeat("1", 30), "too long"},
	}
	for _, tc := range bad {
		got, err := NormalizePhone(tc.in)
		if err == nil {
			t.Errorf("NormalizePhone(%q) = %q, want an error", tc.in, got)
			continue
		}
		if !strings.Contains(err.Error(), tc.why) {
			t.Errorf("NormalizePhone(%q) error %q, want it to mention %q", tc.in, err, tc.why)
		}
	}
}

func TestValidMemberID(t *testing.T) {
	for in, want := range map[string]bool{
		"2228853": true, "1": true, "12345678901234567890": true,
		"": false, "123456789012345678901": false, "22-28853": false, "abc": false, " 1": false, "١٢": false,
	} {
		if got := ValidMemberID(in); got != want {
			t.Errorf("ValidMemberID(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParseAmount(t *testing.T) {
	good := []struct {
		in    string
		comma bool
		want  string // exact digits, scale kept
	}{
		{"100", false, "100"},
		{"100.50", false, "100.50"},
		{"0.01", false, "0.01"},
		{"+100", false, "100"},
		{"-5", false, "-5"},
		{"-0", false, "0"},
		{"0", false, "0"},
		{"007.5", false, "7.5"},
		{"123456789012345678901234.5", false, "123456789012345678901234.5"},
		{"0.30000000000000004", false, "0.30000000000000004"},
		{"1.234,56", true, "1234.56"},
		{"1234,56", true, "1234.56"},
		{"1.234.567,89", true, "1234567.89"},
		{"12.345", true, "12345"},
		{"5", true, "5"},
		{"0,5", true, "0.5"},
	}
	for _, tc := range good {
		got, err := ParseAmount(tc.in, tc.comma)
		if err != nil {
			t.Errorf("ParseAmount(%q, %v) error %v", tc.in, tc.comma, err)
			continue
		}
		want := decimal.RequireFromString(tc.want)
		if !got.Equal(want) || got.Exponent() != want.Exponent() {
			t.Errorf("ParseAmount(%q, %v) = %s (exp %d), want %s (exp %d)", tc.in, tc.comma, got, got.Exponent(), want, want.Exponent())
		}
	}
	bad := []struct {
		in    string
		comma bool
		why   string
	}{
		{"", false, "empty"},
		{"1e3", false, "scientific"},
		{"1E3", false, "scientific"},
		{"1.5e-2", false, "scientific"},
		{"NaN", false, "not a number"},
		{"nan", false, "not a number"},
		{"Inf", false, "not a number"},
		{"-Infinity", false, "not a number"},
		{"0x10", false, "hexadecimal"},
		{"1_000", false, "'_'"},
		{"1,234.56", false, "thousands separator"},
		{"1,234,567", false, "thousands separator"},
		{"1234,56", false, "--decimal-comma"},
		{"1.234,56", false, "--decimal-comma"},
		{"₺100", false, "currency"},
		{"100 TL", false, "currency"},
		{"100TRY", false, "currency"},
		{"$5", false, "currency"},
		{"5€", false, "currency"},
		{"1 234.56", false, "space"},
		{"1\u00a0234.56", false, "space"},
		{".5", false, "digit before"},
		{"5.", false, "ends with the decimal separator"},
		{"1.2.3", false, "more than one"},
		{"--5", false, "sign in the middle"},
		{"5-", false, "sign in the middle"},
		{"+", false, "no digits"},
		{"١٠٠", false, "U+0661"},
		{strings.Repeat("9", 65), false, "longer than"},
		{"1,234.56", true, "decimal separator"},
		{"1.23", true, "'.'"},
		{"1234.56", true, "'.'"},
		{"1.2345,6", true, "'.'"},
		{"1.234.56", true, "'.'"},
		{".123,5", true, "'.'"},
		{"1,2,3", true, "more than one"},
		{"1 234,56", true, "space"},
	}
	for _, tc := range bad {
		got, err := ParseAmount(tc.in, tc.comma)
		if err == nil {
			t.Errorf("ParseAmount(%q, %v) = %s, want an error", tc.in, tc.comma, got)
			continue
		}
		if !strings.Contains(err.Error(), tc.why) {
			t.Errorf("ParseAmount(%q, %v) error %q, want it to mention %q", tc.in, tc.comma, err, tc.why)
		}
	}
}

func TestMinorUnits(t *testing.T) {
	for code, want := range map[string]int32{"TRY": 2, "USD": 2, "EUR": 2, "JPY": 0, "KWD": 3, "BHD": 3, "CLF": 4, "GBP": 2} {
		if got, ok := MinorUnits(code); !ok || got != want {
			t.Errorf("MinorUnits(%q) = %d, %v; want %d", code, got, ok, want)
		}
	}
	for _, code := range []string{"", "try", "TL", "XXX", "XAU", "BTC"} {
		if _, ok := MinorUnits(code); ok {
			t.Errorf("MinorUnits(%q) ok, want unknown", code)
		}
	}
}

func TestMask(t *testing.T) {
	for _, tc := range []struct{ typ, in, want string }{
		{"IBAN", "TR330006100519786457841326", "TR33************1326"},
		{"iban", "tr33 0006 1005 1978 6457 8413 26", "TR33************1326"},
		{"IBAN", "TR33", "****"},
		{"IDENTITY_NUMBER", "17291716060", "*********60"},
		{"IDENTITY_NUMBER", "123", "****"},
		{"PHONE", "+905321234567", "+90********67"},
		{"PHONE", "+4915112345678", "+4********78"},
		{"PHONE", "0532 123 45 67", "****67"},
		{"MEMBER_ID", "2228853", "****53"},
		{"MEMBER_ID", "12", "****"},
		{"", "whatever-it-is", "****is"},
		{"BANKA", "12345", "****"},
		{"", "Şükrü Öztürk", "****rk"},
	} {
		got := Mask(tc.typ, tc.in)
		if got != tc.want {
			t.Errorf("Mask(%q, %q) = %q, want %q", tc.typ, tc.in, got, tc.want)
		}
		if len(tc.in) > 0 && strings.Contains(got, strings.ReplaceAll(tc.in, " ", "")) {
			t.Errorf("Mask(%q, %q) = %q shows the whole value", tc.typ, tc.in, got)
		}
	}
}

func TestFormatFromName(t *testing.T) {
	for name, want := range map[string]Format{
		"payroll.csv": FormatCSV, "PAYROLL.CSV": FormatCSV, "a.tsv": FormatCSV, "x/y/z.jsonl": FormatJSONL,
		"a.ndjson": FormatJSONL, "a.json": FormatJSON, "Maaş Ocak.xlsx": FormatXLSX,
	} {
		if got, err := FormatFromName(name); err != nil || got != want {
			t.Errorf("FormatFromName(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	for name, why := range map[string]string{
		"payroll.csv.exe": "--format", "payroll": "--format", "old.xls": ".xls", "notes.txt": ".csv, .tsv",
	} {
		if _, err := FormatFromName(name); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("FormatFromName(%q) = %v, want an error mentioning %q", name, err, why)
		}
	}
}
