package callback_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/masspayout/masspayout/internal/callback"
)

func TestAllowedHostsPatterns(t *testing.T) {
	tests := []struct {
		allowed []string
		url     string
		ok      bool
	}{
		{[]string{"hr.example.com"}, "https://hr.example.com/hook", true},
		{[]string{"hr.example.com"}, "https://HR.Example.COM./hook", true},
		{[]string{"HR.EXAMPLE.COM"}, "https://hr.example.com:8443/hook", true},
		{[]string{"hr.example.com"}, "https://x.hr.example.com/hook", false},
		{[]string{"hr.example.com"}, "https://example.com/hook", false},
		{[]string{"hr.example.com"}, "https://hr.example.com.evil.test/hook", false},
		{[]string{"hr.example.com"}, "https://evilhr.example.com/hook", false},
		{[]string{"*.example.com"}, "https://hr.example.com/hook", true},
		{[]string{"*.example.com"}, "https://a.b.example.com/hook", true},
		{[]string{"*.example.com"}, "https://example.com/hook", false},
		{[]string{"*.example.com"}, "https://badexample.com/hook", false},
		{[]string{"*.example.com"}, "https://example.com.evil.test/hook", false},
		{[]string{"*.example.com", "example.com"}, "https://example.com/hook", true},
		{[]string{" other.test ", "hr.example.com"}, "https://hr.example.com/hook", true},
		{[]string{"münchen.de"}, "https://xn--mnchen-3ya.de/hook", true},
		{[]string{"xn--mnchen-3ya.de"}, "https://münchen.de/hook", true},
		{[]string{"xn--mnchen-3ya.de"}, "https://M%C3%BCnchen.de/hook", true},
		{[]string{"*.münchen.de"}, "https://rathaus.xn--mnchen-3ya.de/hook", true},
		{[]string{"203.0.113.7"}, "https://203.0.113.7/hook", true},
		{[]string{"2001:db8::7"}, "https://[2001:DB8::7]/hook", true},
		{[]string{"*.0.113.7"}, "https://203.0.113.7/hook", false},
		{[]string{"*"}, "https://hr.example.com/hook", false},
		{[]string{"hr.example.com:443"}, "https://hr.example.com/hook", false},
		{nil, "https://hr.example.com/hook", false},
	}
	for _, tt := range tests {
		err := callback.Policy{AllowedHosts: tt.allowed}.CheckURL(tt.url)
		if tt.ok != (err == nil) {
			t.Errorf("allowed %q, %s: %v; want ok=%v", tt.allowed, tt.url, err, tt.ok)
		}
		if err != nil && !errors.Is(err, callback.ErrNotAllowed) {
			t.Errorf("allowed %q, %s: %v, want ErrNotAllowed", tt.allowed, tt.url, err)
		}
	}
}

func TestCheckURL(t *testing.T) {
	p := callback.Policy{AllowedHosts: []string{"hr.example.com"}}
	tests := []struct {
		name   string
		policy callback.Policy
		url    string
		want   error  // nil: accepted
		says   string // in the message
	}{
		{"https", p, "https://hr.example.com/hooks/masspayout?x=1", nil, ""},
		{"callbacks off", callback.Policy{}, "https://hr.example.com/hook", callback.ErrNotAllowed, "CALLBACK_ALLOWED_HOSTS is empty"},
		{"host not allowed", p, "https://127.0.0.1:8080/hook", callback.ErrNotAllowed, "have the operator add 127.0.0.1"},
		{"http refused", p, "http://hr.example.com/hook", callback.ErrNotAllowed, "CALLBACK_ALLOW_HTTP=true"},
		{"http allowed", callback.Policy{AllowedHosts: p.AllowedHosts, AllowHTTP: true}, "http://hr.example.com/hook", nil, ""},
		{"userinfo", p, "https://hr:s3cret@hr.example.com/hook", callback.ErrInvalidURL, "user name or password"},
		{"user only", p, "https://hr@hr.example.com/hook", callback.ErrInvalidURL, "user name or password"},
		{"relative", p, "/hook", callback.ErrInvalidURL, "absolute https:// URL"},
		{"no scheme", p, "hr.example.com/hook", callback.ErrInvalidURL, "absolute https:// URL"},
		{"ftp", p, "ftp://hr.example.com/hook", callback.ErrInvalidURL, "absolute https:// URL"},
		{"opaque", p, "https:hr.example.com", callback.ErrInvalidURL, "absolute https:// URL"},
		{"bad host", p, "https://hr_example.com/hook", callback.ErrInvalidURL, "not a valid host name"},
		{"numeric host", p, "https://2130706433/hook", callback.ErrInvalidURL, "not an IPv4 address"},
		{"too long", p, "https://hr.example.com/" + strings.Repeat("a", callback.MaxURLLen), callback.ErrInvalidURL, "at most 2048"},
	}
	for _, tt := range tests {
		err := tt.policy.CheckURL(tt.url)
		if tt.want == nil {
			if err != nil {
				t.Errorf("%s: CheckURL(%q) = %v, want nil", tt.name, tt.url, err)
			}
			continue
		}
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("%s: CheckURL(%q) = %v; want %v saying %q", tt.name, tt.url, err, tt.want, tt.says)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error shows the password: %v", tt.name, err)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := map[string]string{
		"":                                      "",
		"https://hr.example.com/hook?a=1":       "https://hr.example.com/hook?a=1",
		"https://hr:s3cret@hr.example.com/h":    "https://hr.example.com/h",
		"https://hr@hr.example.com/h":           "https://hr.example.com/h",
		"https://hr:s3cret@hr.exa mple.com/%zz": "",
	}
	for in, want := range tests {
		if got := callback.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// receiver is a local HTTP listener on 127.0.0.1 that counts the requests it gets.
type receiver struct {
	*httptest.Server
	hits atomic.Int32
}

func newReceiver(t *testing.T, h http.HandlerFunc) *receiver {
	t.Helper()
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		if h != nil {
			h(w, req)
		}
	}))
	t.Cleanup(r.Close)
	return r
}

// localhostURL is r's URL under the name localhost, which resolves to a loopback address.
func (r *receiver) localhostURL(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(r.URL)
	if err != nil {
		t.Fatal(err)
	}
	return "http://localhost:" + u.Port() + "/hook"
}

func post(p callback.Policy, u string) (*http.Response, error) {
	resp, err := p.Client(5*time.Second).Post(u, "application/json", strings.NewReader(`{"a":1}`))
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

// TestClientRefusesLoopback: a receiver on 127.0.0.1 is refused by default even though its name,
// localhost, is allowed: the dialer checks the address it connects to, not the name.
func TestClientRefusesLoopback(t *testing.T) {
	recv := newReceiver(t, nil)
	for name, p := range map[string]callback.Policy{
		"name allowed":    {AllowedHosts: []string{"localhost"}, AllowHTTP: true},
		"address allowed": {AllowedHosts: []string{"127.0.0.1"}, AllowHTTP: true},
	} {
		u := recv.localhostURL(t)
		if name == "address allowed" {
			u = recv.URL + "/hook"
		}
		_, err := post(p, u)
		var ce *callback.Error
		if !errors.Is(err, callback.ErrNotAllowed) || !errors.As(err, &ce) || !strings.Contains(err.Error(), "loopback") || !strings.Contains(err.Error(), "CALLBACK_ALLOW_PRIVATE=true") {
			t.Errorf("%s: POST %s = %v; want a refused loopback address that names CALLBACK_ALLOW_PRIVATE", name, u, err)
		}
	}
	if n := recv.hits.Load(); n != 0 {
		t.Errorf("the loopback receiver got %d requests, want 0", n)
	}
}

// TestClientAllowsPrivateWhenAsked: with CALLBACK_ALLOW_PRIVATE and CALLBACK_ALLOW_HTTP the same
// receiver gets the callback.
func TestClientAllowsPrivateWhenAsked(t *testing.T) {
	recv := newReceiver(t, nil)
	p := callback.Policy{AllowedHosts: []string{"localhost"}, AllowPrivate: true, AllowHTTP: true}
	resp, err := post(p, recv.localhostURL(t))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST = %v, %v; want 200", resp, err)
	}
	if n := recv.hits.Load(); n != 1 {
		t.Errorf("the receiver got %d requests, want 1", n)
	}
}

// TestClientNoRedirects: a 307 to another local port is answered as it is: the body and its
// signature are not posted again, and the redirect's target never sees a request.
func TestClientNoRedirects(t *testing.T) {
	target := newReceiver(t, nil)
	redirector := newReceiver(t, func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, target.URL+"/steal", http.StatusTemporaryRedirect)
	})
	p := callback.Policy{AllowedHosts: []string{"127.0.0.1"}, AllowPrivate: true, AllowHTTP: true}
	resp, err := post(p, redirector.URL+"/hook")
	if err != nil || resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("POST = %v, %v; want the 307 itself", resp, err)
	}
	if a, b := redirector.hits.Load(), target.hits.Load(); a != 1 || b != 0 {
		t.Errorf("redirector got %d requests, target %d; want 1 and 0", a, b)
	}
}

// TestClientChecksEveryRequest: the client refuses a URL that the policy refuses, before it
// connects, whichever way the request was built.
func TestClientChecksEveryRequest(t *testing.T) {
	recv := newReceiver(t, nil)
	tests := []struct {
		name   string
		policy callback.Policy
		url    string
		says   string
	}{
		{"callbacks off", callback.Policy{AllowPrivate: true, AllowHTTP: true}, recv.URL, "CALLBACK_ALLOWED_HOSTS is empty"},
		{"host not allowed", callback.Policy{AllowedHosts: []string{"hr.example.com"}, AllowPrivate: true, AllowHTTP: true}, recv.URL, "not in CALLBACK_ALLOWED_HOSTS"},
		{"http", callback.Policy{AllowedHosts: []string{"127.0.0.1"}, AllowPrivate: true}, recv.URL, "CALLBACK_ALLOW_HTTP"},
	}
	for _, tt := range tests {
		_, err := post(tt.policy, tt.url)
		if !errors.Is(err, callback.ErrNotAllowed) || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("%s: POST = %v; want ErrNotAllowed saying %q", tt.name, err, tt.says)
		}
	}
	if n := recv.hits.Load(); n != 0 {
		t.Errorf("the receiver got %d requests, want 0", n)
	}
}

// TestClientIgnoresProxyEnvironment: HTTPS_PROXY and HTTP_PROXY do not route callbacks.
func TestClientIgnoresProxyEnvironment(t *testing.T) {
	proxy := newReceiver(t, nil)
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("HTTPS_PROXY", proxy.URL)
	t.Setenv("NO_PROXY", "")
	p := callback.Policy{AllowedHosts: []string{"hr.example.invalid"}, AllowHTTP: true}
	post(p, "http://hr.example.invalid/hook") // fails to resolve: no proxy would have answered
	if n := proxy.hits.Load(); n != 0 {
		t.Errorf("the proxy got %d requests, want 0", n)
	}
}
