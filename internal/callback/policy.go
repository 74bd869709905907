// Package callback decides where masspayout may POST a batch's final callback and connects there
// safely. A Policy (CALLBACK_ALLOWED_HOSTS, CALLBACK_ALLOW_HTTP, CALLBACK_ALLOW_PRIVATE) checks a
// callback URL when a batch is submitted (CheckURL) and again on every delivery (Client): the host
// must be allowed, the scheme https unless plain http is allowed, and the address actually
// connected to must be public unless private addresses are allowed. The address check sits in the
// dialer, on the address being connected, so a name that resolves differently between a check
// and the connection (DNS rebinding) gains nothing. Redirects are never followed and no proxy is
// used.
package callback

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// MaxURLLen bounds a callback URL, which is stored with its batch.
const MaxURLLen = 2048

// ErrNotAllowed is wrapped by every refusal of the policy (host not in CALLBACK_ALLOWED_HOSTS,
// plain http, a private or unreachable address). Changing the configuration is the only cure,
// so a delivery refused with it is not worth retrying.
var ErrNotAllowed = errors.New("callback not allowed")

// ErrInvalidURL is wrapped when a callback URL cannot be one whatever the policy.
var ErrInvalidURL = errors.New("invalid callback URL")

// Error is a refused callback: Err is ErrNotAllowed or ErrInvalidURL, What names the URL (without
// its userinfo) or the address, Reason says why and what to do.
type Error struct {
	Err    error
	What   string
	Reason string
}

func (e *Error) Error() string { return e.What + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrNotAllowed) or errors.Is(err, ErrInvalidURL) true.
func (e *Error) Unwrap() error { return e.Err }

// Policy says which callback URLs masspayout may call. The zero Policy refuses every callback.
type Policy struct {
	// AllowedHosts is CALLBACK_ALLOWED_HOSTS: host names ("hr.example.com"), IP addresses, or
	// "*.domain" patterns, which match every name under domain but not domain itself (list both
	// to allow both). Names are compared case-insensitively in their ASCII (punycode) form; any
	// port is allowed. An entry that is not a host name matches nothing. Empty: callbacks are off.
	AllowedHosts []string
	// AllowPrivate is CALLBACK_ALLOW_PRIVATE: connect to loopback, private (RFC 1918, RFC 4193) and
	// other non-global unicast addresses too. Unspecified, multicast, broadcast and link-local
	// addresses (where cloud metadata services answer) are refused even then.
	AllowPrivate bool
	// AllowHTTP is CALLBACK_ALLOW_HTTP: accept http:// URLs besides https://.
	AllowHTTP bool
}

// Enabled reports whether any callback can pass (CALLBACK_ALLOWED_HOSTS is not empty).
func (p Policy) Enabled() bool { return len(p.AllowedHosts) > 0 }

// CheckURL checks a callback URL given at submission: absolute http(s), at most MaxURLLen bytes,
// without a user name or password (they would be stored and shown with the batch), a valid host
// that the policy allows, https unless AllowHTTP. It returns an *Error wrapping ErrInvalidURL or
// ErrNotAllowed. The address is checked only when a callback is sent: a name may resolve
// differently by then.
func (p Policy) CheckURL(raw string) error {
	u, err := parseURL(raw)
	if err != nil {
		return err
	}
	if u.User != nil {
		return &Error{Err: ErrInvalidURL, What: describe(u), Reason: "it has a user name or password in it, which would be stored and shown with the batch: remove it; " +
			"the receiver can authenticate callbacks by their X-Masspayout-Signature header (HMAC-SHA256 with CALLBACK_SECRET)"}
	}
	return p.checkTarget(u)
}

// parseURL parses a callback URL and checks its shape.
func parseURL(raw string) (*url.URL, error) {
	if len(raw) > MaxURLLen {
		return nil, &Error{Err: ErrInvalidURL, What: "callback URL", Reason: fmt.Sprintf("it is %d bytes long; give a URL of at most %d", len(raw), MaxURLLen)}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		what := "callback URL"
		if !strings.Contains(raw, "@") { // else it may hold a password: not shown
			what = fmt.Sprintf("callback URL %q", raw)
		}
		return nil, &Error{Err: ErrInvalidURL, What: what, Reason: "give an absolute https:// URL, like https://hr.example.com/hooks/masspayout"}
	}
	return u, nil
}

// checkTarget checks u's host against AllowedHosts and its scheme against AllowHTTP.
func (p Policy) checkTarget(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return &Error{Err: ErrInvalidURL, What: describe(u), Reason: "give an absolute https:// URL, like https://hr.example.com/hooks/masspayout"}
	}
	host, err := normalizeHost(u.Hostname())
	if err != nil {
		return &Error{Err: ErrInvalidURL, What: describe(u), Reason: err.Error() + "; give the receiver's host name"}
	}
	if !p.Enabled() {
		return &Error{Err: ErrNotAllowed, What: describe(u), Reason: "callbacks are off because CALLBACK_ALLOWED_HOSTS is empty: " +
			"submit without a callback URL, or have the operator list the receiver's host in CALLBACK_ALLOWED_HOSTS (comma-separated host names or *.domain patterns)"}
	}
	if u.Scheme == "http" && !p.AllowHTTP {
		return &Error{Err: ErrNotAllowed, What: describe(u), Reason: "plain http is refused: give an https:// URL, or have the operator set CALLBACK_ALLOW_HTTP=true (test setups only: the summary then travels unencrypted)"}
	}
	return p.checkHost(describe(u), host)
}

// checkHost reports whether the normalised host is in AllowedHosts.
func (p Policy) checkHost(what, host string) error {
	for _, pat := range p.AllowedHosts {
		if matchHost(pat, host) {
			return nil
		}
	}
	return &Error{Err: ErrNotAllowed, What: what, Reason: fmt.Sprintf("host %s is not in CALLBACK_ALLOWED_HOSTS: use a receiver on an allowed host, or have the operator add %s (or a *.domain pattern that covers it) to CALLBACK_ALLOWED_HOSTS", host, host)}
}

// matchHost reports whether the normalised host matches the pattern: the same host, or, for
// "*.domain", a name under domain (not domain itself, nor an IP address).
func matchHost(pattern, host string) bool {
	pattern = strings.TrimSpace(pattern)
	if domain, ok := strings.CutPrefix(pattern, "*."); ok {
		d, err := normalizeHost(domain)
		if err != nil || isIP(host) || isIP(d) {
			return false
		}
		return strings.HasSuffix(host, "."+d)
	}
	p, err := normalizeHost(pattern)
	return err == nil && p == host
}

// isIP reports whether a normalised host is an IP address.
func isIP(host string) bool {
	return strings.Contains(host, ":") || strings.Trim(host, "0123456789.") == ""
}

// Redact returns a callback URL for display: without its user name and password, or "" when it
// cannot be parsed (it might hold one).
func Redact(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.User = nil
	return u.String()
}

// describe names u in messages, without its userinfo.
func describe(u *url.URL) string {
	c := *u
	c.User = nil
	return fmt.Sprintf("callback URL %q", c.String())
}
