package callback

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Client returns an HTTP client for callbacks under p, each request bounded by timeout. It
// refuses (with an *Error wrapping ErrNotAllowed or ErrInvalidURL, inside the *url.Error that
// http.Client returns) any request whose URL the policy does not allow, and any connection to an
// address that it does not allow: the dialer checks the address it is connecting to, after the
// name was resolved. It never follows a redirect (the 3xx answer is returned as it is), never
// uses a proxy (HTTPS_PROXY and the like are ignored), and keeps no idle connections.
func (p Policy) Client(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: min(timeout, 10*time.Second), KeepAlive: 30 * time.Second, Control: p.control}
	t := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			// The transport dials the URL's host in its own ASCII form: check that one too.
			h, err := normalizeHost(host)
			if err != nil {
				return nil, &Error{Err: ErrInvalidURL, What: "callback to " + addr, Reason: err.Error()}
			}
			if err := p.checkHost("callback to "+addr, h); err != nil {
				return nil, err
			}
			return d.DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableKeepAlives:     true,
	}
	return &http.Client{
		Transport: &guard{policy: p, next: t},
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// control refuses a connection to an address the policy does not allow. net.Dialer calls it for
// each address it tries, with the address itself, so it also holds for a name that resolved to
// something else when it was checked before.
func (p Policy) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &Error{Err: ErrNotAllowed, What: "callback connection to " + address, Reason: "the address cannot be read, so it cannot be checked"}
	}
	class, kind := classify(ap.Addr())
	switch {
	case class == public, class == private && p.AllowPrivate:
		return nil
	case class == private:
		return &Error{Err: ErrNotAllowed, What: "callback connection to " + address, Reason: fmt.Sprintf("%s is a %s address; callbacks go to public addresses only: "+
			"use a public receiver, or have the operator set CALLBACK_ALLOW_PRIVATE=true to allow receivers on loopback and private networks", ap.Addr(), kind)}
	}
	return &Error{Err: ErrNotAllowed, What: "callback connection to " + address, Reason: fmt.Sprintf("%s is a %s address, which callbacks never go to (not even with CALLBACK_ALLOW_PRIVATE=true): use a receiver with a unicast address", ap.Addr(), kind)}
}

// guard checks every request's URL against the policy before the transport sees it.
type guard struct {
	policy Policy
	next   http.RoundTripper
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := g.policy.checkTarget(req.URL); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	return g.next.RoundTrip(req)
}
