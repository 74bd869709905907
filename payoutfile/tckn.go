package payoutfile

import (
	"errors"
	"fmt"
	"strings"
)

// ValidTCKN reports whether s is a well-formed T.C. Kimlik No: exactly 11 ASCII digits, the first
// not 0, the 10th digit ((d1+d3+d5+d7+d9)·7 − (d2+d4+d6+d8)) mod 10 and the 11th the sum of the
// first ten mod 10. The checksum only catches typos; it does not prove the number exists.
func ValidTCKN(s string) bool { return checkTCKN(s) == nil }

// checkTCKN is ValidTCKN with the reason.
func checkTCKN(s string) error {
	if strings.ContainsAny(s, "eE") && strings.ContainsAny(s, ".,+") {
		return errors.New("is in scientific notation (Excel turned it into a number); format the column as Text and type the 11 digits again")
	}
	if len(s) != 11 {
		for i := 0; i < len(s); i++ {
			if !isDigit(s[i]) {
				return errors.New("must be exactly 11 digits (0–9), without spaces or other characters")
			}
		}
		return fmt.Errorf("has %d digits; a T.C. Kimlik No has 11", len(s))
	}
	var d [11]int
	for i := 0; i < 11; i++ {
		if !isDigit(s[i]) {
			return errors.New("must be exactly 11 digits (0–9), without spaces or other characters")
		}
		d[i] = int(s[i] - '0')
	}
	if d[0] == 0 {
		return errors.New("starts with 0; a T.C. Kimlik No never does")
	}
	odd := d[0] + d[2] + d[4] + d[6] + d[8]
	even := d[1] + d[3] + d[5] + d[7]
	d10 := ((odd*7-even)%10 + 10) % 10
	sum := odd + even + d[9]
	if d[9] != d10 || d[10] != sum%10 {
		return errors.New("fails the T.C. Kimlik No checksum; look for a typo")
	}
	return nil
}
