package payoutfile

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// textProblem checks a trimmed text field: valid UTF-8, no control, bidirectional-override or
// invisible characters, at most max characters. It returns "" and "" when s is acceptable, else a
// row error code and the reason (without the value).
func textProblem(s string, max int) (code, reason string) {
	n := 0
	for i := 0; i < len(s); n++ {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return CodeInvalidCharacter, fmt.Sprintf("character %d is %s; remove it", n+1, describeRune(rune(c)))
			}
			i++
			continue
		}
		if c >= 0xc3 && c <= 0xcc && i+1 < len(s) && s[i+1]&0xc0 == 0x80 {
			i += 2 // U+00C0–U+033F (Turkish and other Latin letters, combining accents): always allowed
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return CodeInvalidEncoding, fmt.Sprintf("character %d is not valid UTF-8; save the file as UTF-8 (in Excel: \"CSV UTF-8\"), it may be Windows-1254", n+1)
		}
		if forbiddenRune(r) {
			return CodeInvalidCharacter, fmt.Sprintf("character %d is %s; remove it (retype the text rather than copy it)", n+1, describeRune(r))
		}
		i += size
	}
	if n > max {
		return CodeFieldTooLong, fmt.Sprintf("has %d characters; at most %d are allowed, shorten it", n, max)
	}
	return "", ""
}

// forbiddenRune reports non-ASCII runes refused in text: C1 controls, line and paragraph
// separators, and invisible characters that can disguise text (Unicode's default-ignorable code
// points: soft hyphen, zero-width space, direction marks and overrides, word joiner, fillers,
// Mongolian variation selectors, tags, byte order mark). Zero-width (non-)joiners and the
// variation selectors U+FE00–U+FE0F stay: scripts and emoji need them.
func forbiddenRune(r rune) bool {
	if r < 0x200b {
		switch {
		case r <= 0x9f, r == 0xad, r == 0x34f, r == 0x61c, r == 0x115f, r == 0x1160,
			r == 0x17b4, r == 0x17b5, r >= 0x180b && r <= 0x180f:
			return true
		}
		return false
	}
	switch {
	case r == 0x200b, r == 0x200e, r == 0x200f,
		r >= 0x2028 && r <= 0x202e,
		r >= 0x2060 && r <= 0x206f,
		r == 0x3164, r == 0xffa0,
		r == 0xfeff, r >= 0xfff0 && r <= 0xfff8, r == 0xfffe, r == 0xffff,
		r >= 0x1bca0 && r <= 0x1bca3,
		r >= 0x1d173 && r <= 0x1d17a,
		r >= 0xe0000 && r <= 0xe0fff:
		return true
	}
	return false
}

// describeRune names a character for a message, so that invisible ones are visible.
func describeRune(r rune) string {
	switch r {
	case 0:
		return "a NUL byte (U+0000)"
	case '\t':
		return "a tab"
	case '\n', '\r', 0x2028, 0x2029:
		return "a line break (a quote \" left open can pull the next lines into this row)"
	case 0x00a0:
		return "a no-break space (U+00A0)"
	case 0x200b:
		return "an invisible zero-width space (U+200B)"
	case 0x200e, 0x200f:
		return fmt.Sprintf("an invisible direction mark (U+%04X)", r)
	case 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069:
		return fmt.Sprintf("an invisible text-direction control (U+%04X)", r)
	case 0xfeff:
		return "an invisible byte order mark (U+FEFF)"
	case 0x00ad:
		return "an invisible soft hyphen (U+00AD)"
	case 0x115f, 0x1160, 0x3164, 0xffa0:
		return fmt.Sprintf("an invisible Hangul filler (U+%04X)", r)
	}
	if forbiddenRune(r) && r > 0x9f {
		return fmt.Sprintf("an invisible formatting character (U+%04X)", r)
	}
	switch {
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
		return fmt.Sprintf("a control character (U+%04X)", r)
	case r == utf8.RuneError:
		return "an invalid character (U+FFFD)"
	case r >= 0xff10 && r <= 0xff19:
		return fmt.Sprintf("a full-width digit %q (U+%04X)", r, r)
	case r < utf8.RuneSelf:
		return fmt.Sprintf("%q", r)
	}
	return fmt.Sprintf("%q (U+%04X)", r, r)
}

// quote renders a value for a message: quoted with escapes, at most 40 characters.
func quote(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) > max {
		n := 0
		for i := range s {
			if n == max {
				s = s[:i]
				break
			}
			n++
		}
		return fmt.Sprintf("%q…", s)
	}
	return fmt.Sprintf("%q", s)
}

// echo renders a value of a non-personal column for a message, masked when it holds 9 digits or
// more: an identifier in the wrong column (an IBAN under currency) must not be printed whole. An
// amount that reads as a number is shown in full (quote), and so is the item external ID, which
// the payroll team chose to find the row.
func echo(s string) string {
	digits := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			digits++
		}
	}
	if digits >= 9 {
		return quote(Mask("", s))
	}
	return quote(s)
}

// trim removes white space around a field, Unicode spaces included.
func trim(s string) string {
	if len(s) == 0 || (s[0] > ' ' && s[0] < utf8.RuneSelf && s[len(s)-1] > ' ' && s[len(s)-1] < utf8.RuneSelf) {
		return s
	}
	return strings.TrimSpace(s)
}

// byteSize renders a byte count in GiB, MiB or KiB when it is a whole number of them.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
