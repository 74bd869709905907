package payoutfile

import (
	"strings"
	"unicode/utf8"
)

// Mask hides a recipient identifier for reports and logs, never showing the whole value: an IBAN
// keeps its country and check digits and last 4 characters (TR33************1326), an identity
// number its last 2 digits, a phone its country code (+90, else "+" and the first digit) and last
// 2 digits, a member ID its last 2 digits. Values too short for that, and unknown types, keep at
// most their last 2 characters and only when at least 6 long (an IBAN shorter than 15, the
// shortest in the registry, counts as too short). It accepts unnormalised and invalid
// values.
func Mask(recipientType, info string) string {
	info = strings.TrimSpace(info)
	switch strings.ToUpper(strings.TrimSpace(recipientType)) {
	case "IBAN":
		c := strings.Map(func(r rune) rune {
			if r == ' ' || r == '-' || r == '\u00a0' {
				return -1
			}
			return r
		}, info)
		if len(c) >= 15 && isASCII(c) {
			return strings.ToUpper(c[:4]) + "************" + c[len(c)-4:]
		}
	case "IDENTITY_NUMBER":
		if len(info) >= 8 && isASCII(info) {
			return "*********" + info[len(info)-2:]
		}
	case "PHONE":
		if len(info) >= 9 && info[0] == '+' && isASCII(info) {
			head := info[:2]
			if strings.HasPrefix(info, "+90") {
				head = "+90"
			}
			return head + "********" + info[len(info)-2:]
		}
	case "MEMBER_ID":
		if len(info) >= 4 && isASCII(info) {
			return "****" + info[len(info)-2:]
		}
	}
	if utf8.RuneCountInString(info) >= 6 {
		_, n1 := utf8.DecodeLastRuneInString(info)
		_, n2 := utf8.DecodeLastRuneInString(info[:len(info)-n1])
		return "****" + info[len(info)-n1-n2:]
	}
	return "****"
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
