package sandbox

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/masspayout/masspayout/iyzico"
)

// The sandbox validates items with its own code, not payoutfile's: it plays a foreign system and
// serves as an independent reference for our validation.

// ibanLengths is the IBAN length of each country of the IBAN registry.
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
	"BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
	"DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
	"GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
	"IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
	"LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
	"MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
	"PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
	"SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
	"TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

// validIBAN reports whether s is an IBAN in electronic form: upper-case country code of a
// registry country, that country's length, two check digits, upper-case letters and digits only,
// and the ISO 7064 mod-97 remainder 1.
func validIBAN(s string) bool {
	if len(s) < 5 {
		return false
	}
	want, ok := ibanLengths[s[:2]]
	if !ok || len(s) != want || !isDigit(s[2]) || !isDigit(s[3]) {
		return false
	}
	rem := 0
	for i := range len(s) {
		c := s[(i+4)%len(s)] // the first four characters move to the end
		switch {
		case isDigit(c):
			rem = (rem*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			rem = (rem*100 + int(c-'A') + 10) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// validTCKN reports whether s is a Turkish identity number: 11 digits, the first not 0, the
// tenth ((d1+d3+d5+d7+d9)·7 − (d2+d4+d6+d8)) mod 10 and the eleventh (d1+…+d10) mod 10.
func validTCKN(s string) bool {
	if len(s) != 11 || s[0] == '0' {
		return false
	}
	var d [11]int
	for i := range 11 {
		if !isDigit(s[i]) {
			return false
		}
		d[i] = int(s[i] - '0')
	}
	odd := d[0] + d[2] + d[4] + d[6] + d[8]
	even := d[1] + d[3] + d[5] + d[7]
	if ((odd*7-even)%10+10)%10 != d[9] {
		return false
	}
	sum := 0
	for _, v := range d[:10] {
		sum += v
	}
	return sum%10 == d[10]
}

// validPhone reports whether s is an E.164 number: '+', a first digit 1–9, 8 to 15 digits in all.
// Turkish numbers (+90) must have exactly 10 digits after the country code.
func validPhone(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	if strings.HasPrefix(s, "+90") && len(s) != 13 {
		return false
	}
	return true
}

// validMemberID reports whether s is an iyzico member id: 1 to 20 ASCII digits.
func validMemberID(s string) bool {
	if len(s) == 0 || len(s) > 20 {
		return false
	}
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// currencies are the currencies init accepts (iyzico.md §5).
var currencies = map[string]bool{"TRY": true, "USD": true, "EUR": true}

// maxExponent bounds the exponent of an amount: decimals like 1e-999999999 are refused before any
// arithmetic could take long on them.
const maxExponent = 18

// parseAmount reads amount.value: a JSON number or a JSON string holding a decimal number.
// missing is true for an absent or null value.
func parseAmount(raw json.RawMessage) (d decimal.Decimal, missing, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return decimal.Decimal{}, true, false
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return decimal.Decimal{}, false, false
		}
	}
	if text == "" || strings.TrimSpace(text) != text {
		return decimal.Decimal{}, false, false
	}
	d, err := decimal.NewFromString(text)
	if err != nil || d.Exponent() < -maxExponent || d.Exponent() > maxExponent {
		return decimal.Decimal{}, false, false
	}
	return d, false, true
}

// maxFastCents bounds the amounts handled in int64 minor units (below 10^13 units): sums of
// millions of them cannot overflow.
const maxFastCents = 1_000_000_000_000_000

var pow10 = [...]int64{1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000,
	1_000_000_000, 10_000_000_000, 100_000_000_000, 1_000_000_000_000, 10_000_000_000_000,
	100_000_000_000_000, 1_000_000_000_000_000, 10_000_000_000_000_000, 100_000_000_000_000_000,
	1_000_000_000_000_000_000}

// minorUnits returns d in exact hundredths when it has no non-zero digit past the second decimal
// and its magnitude is below maxFastCents hundredths. ok false says nothing about validity: the
// caller then uses decimal arithmetic. It is the fast path of the per-item money work.
func minorUnits(d decimal.Decimal) (cents int64, ok bool) {
	if d.NumDigits() > 18 {
		return 0, false
	}
	coef, exp := d.CoefficientInt64(), int(d.Exponent())
	switch {
	case exp >= -2:
		if exp+2 >= len(pow10) {
			return 0, false
		}
		m := pow10[exp+2]
		if coef > maxFastCents/m || coef < -maxFastCents/m {
			return 0, false
		}
		cents = coef * m
	default:
		div := pow10[-exp-2] // exp ≥ -18 (maxExponent)
		if coef%div != 0 {
			return 0, false
		}
		cents = coef / div
	}
	if cents >= maxFastCents || cents <= -maxFastCents {
		return 0, false
	}
	return cents, true
}

// amount is a parsed amount.value: the decimal as received and, when minorUnits could, its
// hundredths.
type amount struct {
	value decimal.Decimal
	cents int64
	fast  bool
}

// checkItem validates one init item. It returns the parsed amount (zero when unreadable) and, for
// an invalid item, the code and message of the first rule it breaks, in this order:
// itemExternalId present; recipientType known; recipientInfo present; recipientInfo valid for the
// type (and recipientName present for IBAN); amount present, a number, > 0, ≤ 2 decimals;
// currency present and supported.
func checkItem(it *initItem) (amount, iyzico.Code, *msg) {
	var a amount
	missing, readable := true, false
	currency := ""
	if it.Amount != nil {
		a.value, missing, readable = parseAmount(it.Amount.Value)
		currency = it.Amount.Currency
	}
	if readable {
		a.cents, a.fast = minorUnits(a.value)
	} else {
		a.value = decimal.Decimal{}
	}
	positive, twoDecimals := a.cents > 0, a.fast
	if readable && !a.fast {
		positive = a.value.Sign() > 0
		twoDecimals = a.value.Equal(a.value.Truncate(2))
	}

	if it.ItemExternalID == "" {
		return a, CodeMissingField, &msgMissingItemExternalID
	}
	switch it.RecipientType {
	case iyzico.RecipientIBAN, iyzico.RecipientPhone, iyzico.RecipientIdentityNumber, iyzico.RecipientMemberID:
	default:
		return a, CodeInvalidRecipientType, &msgBadRecipientType
	}
	if it.RecipientInfo == "" {
		return a, CodeMissingField, &msgMissingRecipientInfo
	}
	switch it.RecipientType {
	case iyzico.RecipientIBAN:
		if !validIBAN(it.RecipientInfo) {
			return a, CodeInvalidIBAN, &msgBadIBAN
		}
		if strings.TrimSpace(it.RecipientName) == "" {
			return a, CodeRecipientNameRequired, &msgNameRequired
		}
	case iyzico.RecipientPhone:
		if !validPhone(it.RecipientInfo) {
			return a, CodeInvalidPhone, &msgBadPhone
		}
	case iyzico.RecipientIdentityNumber:
		if !validTCKN(it.RecipientInfo) {
			return a, CodeInvalidIdentityNumber, &msgBadIdentityNumber
		}
	case iyzico.RecipientMemberID:
		if !validMemberID(it.RecipientInfo) {
			return a, CodeInvalidMemberID, &msgBadMemberID
		}
	}
	switch {
	case missing:
		return a, CodeMissingField, &msgMissingAmount
	case !readable || !positive:
		return a, CodeInvalidAmount, &msgBadAmount
	case !twoDecimals:
		return a, CodeAmountScale, &msgAmountScale
	case currency == "":
		return a, CodeMissingField, &msgMissingCurrency
	case !currencies[currency]:
		return a, CodeUnsupportedCurrency, &msgBadCurrency
	}
	return a, "", nil
}
