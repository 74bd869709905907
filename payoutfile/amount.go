package payoutfile

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// maxAmountLen bounds the text of an amount; longer input is refused before any arithmetic.
const maxAmountLen = 64

// ParseAmount parses a decimal amount exactly, never rounding: an optional sign, digits, and
// optionally a decimal separator followed by at least one digit. The separator is '.'; with
// decimalComma it is ',' and '.' may group thousands in threes ("1.234.567,89"). Everything else is
// refused with an error that says how to write the amount: exponents (1e3), NaN, Inf, hex (0x10),
// underscores (1_000), thousands separators without decimalComma, spaces, currency signs or codes.
// The result keeps the written scale: "10.50" has exponent -2. Sign and size are not checked here.
func ParseAmount(s string, decimalComma bool) (decimal.Decimal, error) {
	a, err := parseAmount(s, decimalComma)
	return a.d, err
}

// parsedAmount is an amount with what the validation needs to know about its digits.
type parsedAmount struct {
	d         decimal.Decimal
	intDigits int // integer digits without leading zeros
	frac      int // fraction digits as written
	sigFrac   int // fraction digits without trailing zeros
}

func parseAmount(s string, comma bool) (parsedAmount, error) {
	var a parsedAmount
	if s == "" {
		return a, errors.New("is empty")
	}
	if len(s) > maxAmountLen {
		return a, fmt.Errorf("is longer than %d characters; write a plain decimal number such as 1234.56", maxAmountLen)
	}
	decSep, grpSep := byte('.'), byte(0)
	if comma {
		decSep, grpSep = ',', '.'
	}
	var digits [maxAmountLen]byte
	nd, intDigits, frac, groupLen := 0, 0, 0, 0
	neg, seenDec, grouped := false, false, false
	i := 0
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		i = 1
	}
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			digits[nd] = c
			nd++
			if seenDec {
				frac++
			} else {
				intDigits++
				groupLen++
			}
		case c == decSep && !seenDec:
			if intDigits == 0 {
				return a, errors.New("needs a digit before the decimal separator (write 0.50, not .50)")
			}
			if grouped && groupLen != 3 {
				return a, errGrouping
			}
			seenDec = true
		case comma && c == grpSep && !seenDec:
			if intDigits == 0 || (grouped && groupLen != 3) || (!grouped && groupLen > 3) {
				return a, errGrouping
			}
			grouped, groupLen = true, 0
		default:
			return a, amountCharError(s, i, comma)
		}
	}
	switch {
	case intDigits == 0:
		return a, errors.New("has no digits; write a plain decimal number such as 1234.56")
	case seenDec && frac == 0:
		return a, errors.New("ends with the decimal separator; write the decimals or drop the separator")
	case grouped && groupLen != 3:
		return a, errGrouping
	}
	a.intDigits = intDigits
	for k := 0; k < intDigits && digits[k] == '0'; k++ {
		a.intDigits--
	}
	a.frac, a.sigFrac = frac, frac
	for k := nd - 1; a.sigFrac > 0 && digits[k] == '0'; k-- {
		a.sigFrac--
	}
	if nd <= 18 {
		var v int64
		for _, c := range digits[:nd] {
			v = v*10 + int64(c-'0')
		}
		if neg {
			v = -v
		}
		a.d = decimal.New(v, int32(-frac))
		return a, nil
	}
	var bi big.Int
	bi.SetString(string(digits[:nd]), 10)
	if neg {
		bi.Neg(&bi)
	}
	a.d = decimal.NewFromBigInt(&bi, int32(-frac))
	return a, nil
}

// amountLimit is Options.MaxAmount prepared for one cheap comparison per row.
type amountLimit struct {
	max       decimal.Decimal
	intDigits int  // integer digits of max, without leading zeros
	on        bool // false: no limit
}

func newAmountLimit(limit decimal.Decimal) amountLimit {
	if limit.Sign() <= 0 {
		return amountLimit{}
	}
	return amountLimit{max: limit, intDigits: integerDigits(limit), on: true}
}

// integerDigits counts the digits of d's integer part, without leading zeros (0 for 0.5).
func integerDigits(d decimal.Decimal) int {
	return max(0, d.NumDigits()+int(d.Exponent()))
}

// exceeds reports whether a, a parsed amount, is above the limit. An amount with fewer integer
// digits than the limit is below it and one with more is above it, so only amounts of the
// limit's magnitude need decimal arithmetic (which may allocate when the scales differ).
func (l *amountLimit) exceeds(a *parsedAmount) bool {
	switch {
	case !l.on || a.intDigits < l.intDigits:
		return false
	case a.intDigits > l.intDigits:
		return a.d.Sign() > 0
	}
	return a.d.Cmp(l.max) > 0
}

// text writes the limit for a message: with the currency's decimals when that is exact (10000000.00
// for TRY), else as it was given.
func (l *amountLimit) text(minor int32, known bool) string {
	if known && l.max.Truncate(minor).Equal(l.max) {
		return l.max.StringFixed(minor)
	}
	return l.max.String()
}

var errGrouping = errors.New("has '.' where it does not group thousands; with --decimal-comma write 1.234,56 (groups of three digits), or drop --decimal-comma if '.' is the decimal point")

// amountCharError explains why the character at s[i] has no place in an amount.
func amountCharError(s string, i int, comma bool) error {
	lower := strings.ToLower(s)
	c := s[i]
	switch {
	case strings.Contains(lower, "nan") || strings.Contains(lower, "inf"):
		return errors.New("is not a number; write a plain decimal number such as 1234.56")
	case c == 'e' || c == 'E':
		return errors.New("is in scientific notation; write the plain number, such as 1000 instead of 1e3")
	case c == 'x' || c == 'X':
		return errors.New("looks hexadecimal; write a plain decimal number such as 1234.56")
	case c == '_':
		return errors.New("contains '_'; write the digits without separators")
	case c == '+' || c == '-':
		return errors.New("has a sign in the middle; write a plain decimal number such as 1234.56")
	case c == ',' && !comma:
		if strings.IndexByte(s[i:], '.') > 0 || strings.Count(s, ",") > 1 {
			return errors.New("contains ',' as a thousands separator; write the number without it, such as 1234.56")
		}
		return errors.New("uses a decimal comma; run with --decimal-comma, or write the number with a decimal point such as 1234.56")
	case c == '.' || c == ',':
		return errors.New("has more than one decimal separator; write a plain decimal number such as 1234.56")
	case strings.ContainsAny(s, "₺$€£") || strings.Contains(lower, "tl") || strings.Contains(lower, "try") ||
		strings.Contains(lower, "usd") || strings.Contains(lower, "eur"):
		return errors.New("contains a currency sign or code; write only the number and put the currency in the currency column")
	case c == ' ' || c == '\t' || strings.HasPrefix(s[i:], "\u00a0") || strings.HasPrefix(s[i:], "\u202f"):
		return errors.New("contains a space; write the digits without spaces, such as 1234.56")
	}
	r := rune(c)
	if c >= utf8.RuneSelf {
		r, _ = utf8.DecodeRuneInString(s[i:])
	}
	return fmt.Errorf("contains %s; write a plain decimal number such as 1234.56", describeRune(r))
}

// excelDigits is how many significant digits Excel shows of a number. A cell holds a binary
// double, which Excel writes to the file with up to 17 digits (82436.039999999994 for a cell that
// shows 82436.04) and shows, edits and exports as CSV rounded to 15.
const excelDigits = 15

// parseExcelNumber reads the value of an XLSX number cell (a plain value or a formula's cached
// result) as Excel shows it: rounded half away from zero to 15 significant digits with exact
// decimal arithmetic, so that 82436.039999999994 is 82436.04, 0.30000000000000004 is 0.3 and
// 1.0000000000000002 is 1. Exponents (1E-4, 1E+15) are allowed: Excel writes them. What remains is
// exact, without trailing zeros, and checked like any amount: 10.005 keeps its three decimals.
// The cell's number format is not applied: a cell styled as a percentage showing 15% holds 0.15.
// shown is the value as Excel shows it, for messages.
func parseExcelNumber(s string) (a parsedAmount, shown string, err error) {
	if len(s) > maxAmountLen {
		_, err = parseAmount(s, false)
		return a, s, err
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		// No spreadsheet program writes this (a damaged or hand-made file).
		return a, s, errors.New("is not a valid number; type the amount in the cell again")
	}
	coef := d.Coefficient()
	coef.Abs(coef)
	digits := len(coef.Text(10))
	if coef.Sign() == 0 {
		return parsedAmount{d: decimal.Zero}, "0", nil
	}
	// mag is the number of digits before the decimal point, or minus the zeros right after it.
	switch mag := digits + int(d.Exponent()); {
	case mag > MaxAmountIntDigits:
		return a, s, fmt.Errorf("is too large (more than %d digits before the decimals); check the amount", MaxAmountIntDigits)
	case mag < excelDigits+3-maxAmountLen: // its 15 digits would not fit in maxAmountLen characters
		return a, s, errors.New("is too close to 0 to be an amount; check the cell (it may be a formula's rounding residue)")
	case digits > excelDigits:
		d = d.Round(int32(excelDigits - mag))
	}
	d = canonical(d)
	shown = d.String()
	a, err = parseAmount(shown, false)
	return a, shown, err
}

// canonical returns d without trailing zeros after the decimal point and with an exponent of at
// most 0: 82436.0400000000 → 82436.04, 1E+3 → 1000.
func canonical(d decimal.Decimal) decimal.Decimal {
	if d.Exponent() > 0 {
		return d.Round(0)
	}
	coef, exp := d.Coefficient(), d.Exponent()
	var q, m big.Int
	ten := big.NewInt(10)
	for exp < 0 {
		if q.QuoRem(coef, ten, &m); m.Sign() != 0 {
			break
		}
		coef.Set(&q)
		exp++
	}
	return decimal.NewFromBigInt(coef, exp)
}
