package payoutfile

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// NormalizePhone checks a phone number and returns it in E.164 (+ and 8 to 15 digits, the first
// not 0). Spaces, no-break spaces, dashes, dots and parentheses are removed. Accepted forms:
// "+CC…", "00CC…" (international prefix) and the Turkish national mobile form "05XXXXXXXXX",
// which becomes "+905XXXXXXXXX". A Turkish number (+90) must be a mobile: 10 digits starting with
// 5. A number without a country code or trunk 0 is refused rather than guessed.
func NormalizePhone(s string) (string, error) {
	var buf [24]byte
	n, plus := 0, false
	for i, pos := 0, 1; i < len(s); pos++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			i += size
			if r == '\u00a0' || r == '\u202f' {
				continue
			}
			if r == utf8.RuneError && size == 1 {
				return "", fmt.Errorf("character %d is not valid UTF-8; write the number as +905XXXXXXXXX", pos)
			}
			return "", fmt.Errorf("character %d is %s; write the number with digits 0–9 only, as +905XXXXXXXXX", pos, describeRune(r))
		}
		i++
		switch {
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		case c == '+' && n == 0 && !plus:
			plus = true
		case isDigit(c):
			if n == len(buf) {
				return "", errors.New("too long: a phone number has at most 15 digits")
			}
			buf[n] = c
			n++
		default:
			return "", fmt.Errorf("character %d is %s; write the number with digits 0–9 only, as +905XXXXXXXXX", pos, describeRune(rune(c)))
		}
	}
	d := buf[:n]
	switch {
	case n == 0:
		return "", errors.New("has no digits")
	case plus:
	case n > 2 && d[0] == '0' && d[1] == '0':
		d = d[2:]
	case n == 11 && d[0] == '0' && d[1] == '5':
		d = append([]byte("90"), d[1:]...)
	case n == 11 && d[0] == '0':
		return "", errors.New("is a Turkish landline; PHONE payouts go to mobile numbers (05XX…)")
	case n == 10 && d[0] == '5':
		return "", errors.New("has no country code or leading 0; write +905XXXXXXXXX or 05XXXXXXXXX (if Excel removed the 0, format the column as Text)")
	default:
		return "", errors.New("needs a country code; write it in E.164 as +905XXXXXXXXX, or 05XXXXXXXXX for Turkish mobiles")
	}
	if len(d) < 8 || len(d) > 15 {
		return "", fmt.Errorf("has %d digits after the country code prefix; E.164 numbers have 8 to 15", len(d))
	}
	if d[0] == '0' {
		return "", errors.New("country code starts with 0; write it in E.164 as +905XXXXXXXXX")
	}
	if d[0] == '9' && d[1] == '0' {
		switch {
		case len(d) != 12:
			return "", fmt.Errorf("a Turkish number has 10 digits after +90, this one has %d (drop a 0 after +90 if there is one)", len(d)-2)
		case d[2] != '5':
			return "", errors.New("is a Turkish landline; PHONE payouts go to mobile numbers (+905XX…)")
		}
	}
	out := make([]byte, 0, len(d)+1)
	out = append(out, '+')
	out = append(out, d...)
	if string(out) == s {
		return s, nil
	}
	return string(out), nil
}
