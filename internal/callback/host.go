package callback

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// maxHostLen is the longest host name DNS carries (RFC 1035), in its ASCII form.
const maxHostLen = 253

// normalizeHost returns the form in which host names are compared: an IP address in its canonical
// text (an IPv4-mapped IPv6 address as IPv4), or a host name in lower-case ASCII without a
// trailing dot, each Unicode label lower-cased, NFKC-normalised and punycode-encoded ("xn--…",
// as IDNA does). It fails for anything that is not a host name or an IP address: a port, a zone,
// an empty label, a character outside letters, digits and '-', a label over 63 bytes, an
// all-numeric last label that is not a dotted-quad IPv4 address.
func normalizeHost(host string) (string, error) {
	if host == "" {
		return "", errors.New("the host is empty")
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return "", fmt.Errorf("host %q has an IPv6 zone; give a host name or an address without %%zone", host)
		}
		return a.Unmap().String(), nil
	}
	// The ideographic and full-width full stops separate labels as '.' does (UTS #46).
	h := strings.NewReplacer("\u3002", ".", "\uff0e", ".", "\uff61", ".").Replace(host)
	h = strings.TrimSuffix(h, ".")
	labels := strings.Split(h, ".")
	for i, l := range labels {
		a, err := asciiLabel(l)
		if err != nil {
			return "", fmt.Errorf("host %q is not a valid host name: %w", host, err)
		}
		labels[i] = a
	}
	out := strings.Join(labels, ".")
	if len(out) > maxHostLen {
		return "", fmt.Errorf("host %q is longer than %d characters", host, maxHostLen)
	}
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" {
		// Resolvers read "127.1" or "2130706433" as addresses: only a dotted quad is one here.
		return "", fmt.Errorf("host %q ends in a number but is not an IPv4 address like 192.0.2.10", host)
	}
	return out, nil
}

// asciiLabel returns one label in lower-case ASCII, punycode-encoded when it is not ASCII.
func asciiLabel(l string) (string, error) {
	if l == "" {
		return "", errors.New("it has an empty label")
	}
	if !isASCII(l) {
		// IDNA 2008 as net/http applies it (UTS #46, non-transitional): NFKC and lower case,
		// so that "ß" stays itself and full-width letters become ASCII.
		mapped := norm.NFKC.String(strings.ToLower(norm.NFKC.String(l)))
		if strings.Contains(mapped, ".") {
			return "", fmt.Errorf("label %q maps to text with a dot", l)
		}
		if isASCII(mapped) {
			l = mapped
		} else {
			enc, err := punycode(mapped)
			if err != nil {
				return "", fmt.Errorf("label %q: %w", l, err)
			}
			l = "xn--" + enc
		}
	}
	l = strings.ToLower(l)
	if len(l) > 63 {
		return "", fmt.Errorf("label %q is longer than 63 characters", l)
	}
	if l[0] == '-' || l[len(l)-1] == '-' {
		return "", fmt.Errorf("label %q begins or ends with '-'", l)
	}
	for i := 0; i < len(l); i++ {
		if c := l[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return "", fmt.Errorf("label %q has the character %q; host names have letters, digits and '-' only", l, c)
		}
	}
	return l, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Punycode parameters (RFC 3492 §5).
const (
	pcBase        = 36
	pcTMin        = 1
	pcTMax        = 26
	pcSkew        = 38
	pcDamp        = 700
	pcInitialBias = 72
	pcInitialN    = 128
)

// punycode encodes s as RFC 3492 punycode, without the "xn--" prefix.
func punycode(s string) (string, error) {
	runes := []rune(s)
	out := make([]byte, 0, len(s)+8)
	for _, r := range runes {
		if r < 0x80 {
			out = append(out, byte(r))
		}
	}
	basic := len(out)
	h := basic
	if basic > 0 {
		out = append(out, '-')
	}
	n, delta, bias := pcInitialN, 0, pcInitialBias
	for h < len(runes) {
		m := math.MaxInt32
		for _, r := range runes {
			if int(r) >= n && int(r) < m {
				m = int(r)
			}
		}
		if m-n > (math.MaxInt32-delta)/(h+1) {
			return "", errors.New("punycode overflow")
		}
		delta += (m - n) * (h + 1)
		n = m
		for _, r := range runes {
			if int(r) < n {
				delta++
				if delta == math.MaxInt32 {
					return "", errors.New("punycode overflow")
				}
			}
			if int(r) != n {
				continue
			}
			q := delta
			for k := pcBase; ; k += pcBase {
				t := k - bias
				switch {
				case t < pcTMin:
					t = pcTMin
				case t > pcTMax:
					t = pcTMax
				}
				if q < t {
					break
				}
				out = append(out, pcDigit(t+(q-t)%(pcBase-t)))
				q = (q - t) / (pcBase - t)
			}
			out = append(out, pcDigit(q))
			bias = pcAdapt(delta, h+1, h == basic)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return string(out), nil
}

func pcDigit(d int) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}

func pcAdapt(delta, points int, first bool) int {
	if first {
		delta /= pcDamp
	} else {
		delta /= 2
	}
	delta += delta / points
	k := 0
	for delta > ((pcBase-pcTMin)*pcTMax)/2 {
		delta /= pcBase - pcTMin
		k += pcBase
	}
	return k + (pcBase-pcTMin+1)*delta/(delta+pcSkew)
}
