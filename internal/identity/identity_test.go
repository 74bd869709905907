package identity

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"alice", "alice"},
		{"Alice", "alice"},
		{"  Ayşe   Yılmaz ", "ayşe yılmaz"},
		{"ＡＬＩＣＥ", "alice"},  // full-width: NFKC
		{"ALİCE", "ali̇ce"}, // Turkish dotted capital I folds to i + combining dot: not "alice"
		{"ops-team_2", "ops-team_2"},
		{"ﬁnance", "finance"},     // ligature: NFKC
		{"ali\u00a0ce", "ali ce"}, // no-break space: NFKC makes it a space
	} {
		got, err := Normalize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{
		"", "   ", "alice\u200b", "al\u00adice", "alice\u180e", "\u3164", "alice\U000E0041", "ali\x00ce",
		"alice\ufe0f", "ali\u2028ce", "al\u202eice", "bob\tsmith", strings.Repeat("a", MaxLen+1), "\xff",
	} {
		if got, err := Normalize(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Normalize(%q) = %q, %v; want ErrInvalid", bad, got, err)
		}
	}
}

func TestSame(t *testing.T) {
	if !Same("Alice", "ALICE") || !Same("ﬁnance", "Finance") {
		t.Error("spellings of one name differ")
	}
	if Same("alice\u200b", "alice") || Same("", "") || Same("alice", "bob") {
		t.Error("a look-alike or an empty name passed as the same person")
	}
}
