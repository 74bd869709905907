// Package identity normalises the names of people (approvers, submitters, token and UI users), so
// that two spellings of one name compare equal and no look-alike passes for someone else: the
// four-eyes rule and the audit list compare and store only normalised names.
package identity

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// MaxLen is the longest name accepted, in characters after normalisation.
const MaxLen = 64

// ErrInvalid marks a name that cannot identify a person.
var ErrInvalid = errors.New("invalid name")

var fold = cases.Fold()

// Normalize returns name's normal form: NFKC, case-folded, surrounding space trimmed and inner
// runs of space made one. It refuses (ErrInvalid, saying why) an empty name, one longer than
// MaxLen, and one holding a control, format or invisible character (Unicode's default-ignorable
// code points, such as U+200B ZERO WIDTH SPACE, U+00AD SOFT HYPHEN, U+180E, U+3164 HANGUL FILLER,
// variation selectors and tag characters), since those make look-alikes of other names.
func Normalize(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: not UTF-8", ErrInvalid)
	}
	n := fold.String(norm.NFKC.String(name))
	for _, r := range n {
		if invisible(r) {
			return "", fmt.Errorf("%w: %q holds the invisible or control character %U; type the name plainly", ErrInvalid, name, r)
		}
	}
	n = strings.Join(strings.Fields(n), " ")
	switch l := utf8.RuneCountInString(n); {
	case l == 0:
		return "", fmt.Errorf("%w: empty; say who you are", ErrInvalid)
	case l > MaxLen:
		return "", fmt.Errorf("%w: %d characters, at most %d", ErrInvalid, l, MaxLen)
	}
	return n, nil
}

// Same reports whether a and b name the same person (both normalise, to the same form).
func Same(a, b string) bool {
	na, err1 := Normalize(a)
	nb, err2 := Normalize(b)
	return err1 == nil && err2 == nil && na == nb
}

// invisible reports whether r is a control, format, separator or default-ignorable character. The
// plain space is not (NFKC has already turned a no-break space into one); other white space is.
func invisible(r rune) bool {
	if r == ' ' {
		return false
	}
	return unicode.IsControl(r) || unicode.IsSpace(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Zs) ||
		unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector) ||
		(r >= 0xE0000 && r <= 0xE0FFF) // tags and the rest of the default-ignorable block of plane 14
}
