package payoutfile

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// maxIBANLen is the longest IBAN of any country (ISO 13616).
const maxIBANLen = 34

// NormalizeIBAN checks an IBAN and returns it compact and upper-case. Spaces, no-break spaces and
// dashes are removed and ASCII letters upper-cased; any other character is refused. The country
// must be in the ISO 13616 registry with its exact length, the check digits must be 02–98 and the
// whole must pass MOD 97-10. Turkish IBANs must also follow the national structure TR2!n5!n1!c16!c
// with the reserve digit 0. Errors describe the problem without repeating the value.
func NormalizeIBAN(s string) (string, error) {
	var buf [maxIBANLen]byte
	n, same := 0, true
	for i, pos := 0, 1; i < len(s); pos++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == '\u00a0' || r == '\u202f' {
				i += size
				same = false
				continue
			}
			return "", errors.New(badIBANChar(r, size, pos))
		}
		i++
		switch {
		case c == ' ' || c == '-':
			same = false
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
			same = false
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		default:
			return "", errors.New(badIBANChar(rune(c), 1, pos))
		}
		if n == maxIBANLen {
			return "", fmt.Errorf("too long: an IBAN has at most %d characters", maxIBANLen)
		}
		buf[n] = c
		n++
	}
	if err := checkIBAN(buf[:n]); err != nil {
		return "", err
	}
	if same {
		return s, nil
	}
	return string(buf[:n]), nil
}

func badIBANChar(r rune, size, pos int) string {
	if r == utf8.RuneError && size == 1 {
		return fmt.Sprintf("character %d is not valid UTF-8; only letters A–Z and digits 0–9 belong in an IBAN", pos)
	}
	return fmt.Sprintf("character %d is %s; only letters A–Z and digits 0–9 belong in an IBAN (retype it rather than copy it)", pos, describeRune(r))
}

// checkIBAN checks a compact upper-case IBAN.
func checkIBAN(b []byte) error {
	if len(b) < 4 {
		return fmt.Errorf("too short (%d characters): an IBAN starts with a country code and 2 check digits", len(b))
	}
	if !isUpper(b[0]) || !isUpper(b[1]) {
		return errors.New("does not start with a 2-letter country code such as TR")
	}
	want := 26 // TR, nearly every IBAN of a Turkish payroll; the registry's switch for the rest
	if b[0] != 'T' || b[1] != 'R' {
		want = ibanLength(string(b[:2]))
	}
	if want == 0 {
		return fmt.Errorf("country code %q has no IBAN", string(b[:2]))
	}
	if len(b) != want {
		return fmt.Errorf("has %d characters; %s IBANs have %d", len(b), string(b[:2]), want)
	}
	if !isDigit(b[2]) || !isDigit(b[3]) {
		return errors.New("characters 3 and 4 must be the check digits")
	}
	if ck := int(b[2]-'0')*10 + int(b[3]-'0'); ck < 2 || ck > 98 {
		return fmt.Errorf("check digits %02d are impossible (they are 02 to 98)", ck)
	}
	if b[0] == 'T' && b[1] == 'R' {
		for i := 4; i < 9; i++ {
			if !isDigit(b[i]) {
				return errors.New("the bank code (characters 5–9) must be digits")
			}
		}
		if b[9] != '0' {
			return errors.New("the reserve digit (character 10) of a Turkish IBAN must be 0")
		}
	}
	if mod97(b) != 1 {
		return errors.New("the check digits do not match (MOD 97); look for a typo or a missing digit")
	}
	return nil
}

// mod97 computes the ISO 7064 MOD 97-10 remainder of an IBAN (first four characters moved to the
// end, letters as 10–35). b holds only A–Z and 0–9. Digits are gathered in a uint64 and reduced
// only when it nears 10¹⁶, not after every character.
func mod97(b []byte) uint64 {
	var r uint64
	add := func(c byte) {
		if c <= '9' {
			r = r*10 + uint64(c-'0')
		} else {
			r = r*100 + uint64(c-'A'+10)
		}
		if r >= 1e16 {
			r %= 97
		}
	}
	for _, c := range b[4:] {
		add(c)
	}
	for _, c := range b[:4] {
		add(c)
	}
	return r % 97
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// ibanLength returns the IBAN length of a country in the ISO 13616 registry, 0 if it has none.
func ibanLength(cc string) int {
	switch cc {
	case "NO":
		return 15
	case "BE":
		return 16
	case "DK", "FI", "FK", "FO", "GL", "NL", "SD":
		return 18
	case "MK", "SI":
		return 19
	case "AT", "BA", "EE", "KZ", "LT", "LU", "MN", "XK":
		return 20
	case "CH", "HR", "LI", "LV":
		return 21
	case "BG", "BH", "CR", "DE", "GB", "GE", "IE", "ME", "RS", "VA":
		return 22
	case "AE", "GI", "IL", "IQ", "OM", "SO", "TL":
		return 23
	case "AD", "CZ", "ES", "MD", "PK", "RO", "SA", "SE", "SK", "TN", "VG":
		return 24
	case "LY", "PT", "ST":
		return 25
	case "IS", "TR":
		return 26
	case "BI", "DJ", "FR", "GR", "IT", "MC", "MR", "SM":
		return 27
	case "AL", "AZ", "BY", "CY", "DO", "GT", "HN", "HU", "LB", "NI", "PL", "SV":
		return 28
	case "BR", "EG", "PS", "QA", "UA":
		return 29
	case "JO", "KW", "MU", "YE":
		return 30
	case "MT", "SC":
		return 31
	case "LC":
		return 32
	case "RU":
		return 33
	}
	return 0
}
