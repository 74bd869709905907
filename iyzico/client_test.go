package iyzico

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

const (
	testKey    = "sandbox-test-key-AKSENTINEL"
	testSecret = "sandbox-test-secret-SKSENTINEL"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// seenRequest is what the fake server received.
type seenRequest struct {
	Method      string
	Path        string // decoded
	EscapedPath string
	RequestURI  string
	Header      http.Header
	Body        []byte
}

// fake is an httptest server that checks every request the way iyzico would (IYZWSv2 over the
// escaped path and the raw body, required headers, locale query) and records it.
type fake struct {
	srv         *httptest.Server
	mu          sync.Mutex
	reqs        []seenRequest
	conns       atomic.Int32
	locale      string
	key, secret string
}

func (f *fake) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.reqs...)
}

func (f *fake) last(t *testing.T) seenRequest {
	t.Helper()
	reqs := f.requests()
	if len(reqs) == 0 {
		t.Fatal("the server received no request")
	}
	return reqs[len(reqs)-1]
}

// newFake starts a checking server in front of h, expecting the given locale and credentials.
// Problems are reported with t.Errorf.
func newFake(t *testing.T, locale, key, secret string, h http.HandlerFunc) *fake {
	t.Helper()
	f := &fake{locale: locale, key: key, secret: secret}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("server: reading body: %v", err)
		}
		f.check(t, r, body)
		f.mu.Lock()
		f.reqs = append(f.reqs, seenRequest{r.Method, r.URL.Path, r.URL.EscapedPath(), r.RequestURI, r.Header.Clone(), body})
		f.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h(w, r)
	}))
	f.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.conns.Add(1)
		}
	}
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) check(t *testing.T, r *http.Request, body []byte) {
	t.Helper()
	cred, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		t.Errorf("server: %s %s: %v", r.Method, r.URL.Path, err)
		return
	}
	if cred.APIKey != f.key {
		t.Errorf("server: apiKey %q, want %q", cred.APIKey, f.key)
	}
	if want := Signature(f.secret, cred.RandomKey, r.URL.EscapedPath(), body); cred.Signature != want {
		t.Errorf("server: %s %s: signature %s, want %s (over the escaped path and raw body)", r.Method, r.RequestURI, cred.Signature, want)
	}
	if got := r.Header.Get("x-iyzi-rnd"); got != cred.RandomKey {
		t.Errorf("server: x-iyzi-rnd %q, Authorization randomKey %q", got, cred.RandomKey)
	}
	for name, want := range map[string]string{"Content-Type": "application/json", "Accept": "application/json"} {
		if got := r.Header.Get(name); got != want {
			t.Errorf("server: %s %q, want %q", name, got, want)
		}
	}
	if r.Header.Get("x-iyzi-client-version") == "" {
		t.Error("server: no x-iyzi-client-version")
	}
	if want := "locale=" + f.locale; r.URL.RawQuery != want {
		t.Errorf("server: query %q, want %q", r.URL.RawQuery, want)
	}
	if (r.Method == http.MethodGet || strings.HasPrefix(r.URL.Path, PathCancelPrefix)) && len(body) != 0 {
		t.Errorf("server: %s %s carries a body %q", r.Method, r.URL.Path, body)
	}
}

// observation is one call of Options.Observe.
type observation struct{ endpoint, code string }

type observer struct {
	mu  sync.Mutex
	obs []observation
}

func (o *observer) observe(endpoint, code string, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.obs = append(o.obs, observation{endpoint, code})
}

func (o *observer) all() []observation {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]observation(nil), o.obs...)
}

type bundle struct {
	client *Client
	fake   *fake
	obs    *observer
}

// setup starts a fake answering with h and a client for it; edit adjusts the options.
func setup(t *testing.T, h http.HandlerFunc, edit ...func(*Options)) bundle {
	t.Helper()
	o := Options{APIKey: testKey, SecretKey: testSecret, Timeout: 5 * time.Second}
	for _, e := range edit {
		e(&o)
	}
	locale := o.Locale
	if locale == "" {
		locale = "tr"
	}
	f := newFake(t, locale, testKey, testSecret, h)
	o.BaseURL = f.srv.URL
	obs := &observer{}
	if o.Observe == nil {
		o.Observe = obs.observe
	}
	c, err := NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	return bundle{client: c, fake: f, obs: obs}
}

// reply answers with status, body and header pairs.
func reply(status int, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

const okBody = `{"status":"success","systemTime":1759231995145}`

func TestClientEndpoints(t *testing.T) {
	initReq := &InitRequest{ExternalID: "b-00001", ConversationID: "c", Purpose: "SALARY", Items: []Item{{
		ItemExternalID: "i-1", RecipientType: RecipientIBAN, RecipientInfo: "TR920086402100002353983528",
		RecipientName: "John Doe", Description: "Payment for services",
		Amount: Amount{Value: decimal.RequireFromString("100.50"), Currency: "TRY"},
	}}}
	initBody, _ := MarshalInit(initReq)

	for _, tc := range []struct {
		name     string
		call     func(context.Context, *Client) (any, error)
		answer   string
		method   string
		escaped  string
		body     string
		check    func(t *testing.T, got any)
		endpoint string
	}{
		{
			name:   "init",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.Init(ctx, initReq) },
			answer: `{"status":"success","systemTime":1,"conversationId":"c","requestId":"r-1","invalidItems":[]}`,
			method: "POST", escaped: PathInit, body: string(initBody), endpoint: EndpointInit,
			check: func(t *testing.T, got any) {
				if r := got.(*InitResponse); r.RequestID != "r-1" || r.ConversationID != "c" {
					t.Errorf("init answer %+v", r)
				}
			},
		},
		{
			name:   "auth",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.Auth(ctx, osslAuthID) },
			answer: okBody, method: "POST", escaped: PathAuth, endpoint: EndpointAuth,
			body: `{"requestId":"79cdefc1-3ce6-4f51-bdd9-c050274db664"}`,
		},
		{
			name:   "cancel",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.Cancel(ctx, osslAuthID) },
			answer: okBody, method: "POST", escaped: PathCancelPrefix + osslAuthID, endpoint: EndpointCancel,
		},
		{
			name: "retrieve",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Retrieve(ctx, RetrieveRequest{RequestID: "c95e344a-c7c9-4605-91b8-3f48ee9dece6", ExternalMassPayoutID: "massPayoutId-323", Size: 40})
			},
			answer: string(readFixture(t, "retrieve_top.json")), method: "POST", escaped: PathRetrieve, endpoint: EndpointRetrieve,
			body: `{"requestId":"c95e344a-c7c9-4605-91b8-3f48ee9dece6","externalMassPayoutId":"massPayoutId-323","page":0,"size":40}`,
			check: func(t *testing.T, got any) {
				if r := got.(*RetrieveResponse); len(r.MassPayoutItems.Items) != 2 || r.MassPayout.MassPayoutStatus != PayoutPublishedToQueue {
					t.Errorf("retrieve answer %+v", r)
				}
			},
		},
		{
			name: "retrieve default size",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.Retrieve(ctx, RetrieveRequest{ExternalMassPayoutID: "b-1"})
			},
			answer: okBody, method: "POST", escaped: PathRetrieve, endpoint: EndpointRetrieve,
			body: `{"externalMassPayoutId":"b-1","page":0,"size":100}`,
		},
		{
			name:   "item",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.RetrieveItem(ctx, osslItemID) },
			answer: string(readFixture(t, "item.json")), method: "GET", escaped: PathItemPrefix + osslItemID, endpoint: EndpointItem,
			check: func(t *testing.T, got any) {
				if r := got.(*ItemResponse); r.Item == nil || r.Item.ItemExternalID != "ext-65656" {
					t.Errorf("item answer %+v", r)
				}
			},
		},
		{
			name:   "balance",
			call:   func(ctx context.Context, c *Client) (any, error) { return c.Balance(ctx) },
			answer: `{"status":"success","systemTime":1759158319395,"balance":"25399393.5"}`,
			method: "GET", escaped: PathBalance, endpoint: EndpointBalance,
			check: func(t *testing.T, got any) {
				if r := got.(*BalanceResponse); !r.Balance.Equal(decimal.RequireFromString("25399393.5")) {
					t.Errorf("balance %s", r.Balance)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t, reply(200, tc.answer))
			got, err := tc.call(t.Context(), b.client)
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
			r := b.fake.last(t)
			if r.Method != tc.method || r.EscapedPath != tc.escaped || string(r.Body) != tc.body {
				t.Errorf("sent %s %s %q, want %s %s %q", r.Method, r.EscapedPath, r.Body, tc.method, tc.escaped, tc.body)
			}
			if want := []observation{{tc.endpoint, "200"}}; fmt.Sprint(b.obs.all()) != fmt.Sprint(want) {
				t.Errorf("observed %v, want %v", b.obs.all(), want)
			}
		})
	}
}

func TestClientHeaders(t *testing.T) {
	b := setup(t, reply(200, okBody), func(o *Options) { o.Locale = "en"; o.ClientVersion = "masspayout-go/1.2.3" })
	if _, err := b.client.Auth(t.Context(), "r-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.client.Auth(t.Context(), "r-1"); err != nil {
		t.Fatal(err)
	}
	reqs := b.fake.requests()
	h := reqs[0].Header
	if got := h.Get("x-iyzi-client-version"); got != "masspayout-go/1.2.3" {
		t.Errorf("x-iyzi-client-version %q", got)
	}
	if !uuidV4.MatchString(h.Get("x-iyzi-rnd")) {
		t.Errorf("x-iyzi-rnd %q is not a UUIDv4", h.Get("x-iyzi-rnd"))
	}
	if h.Get("x-iyzi-rnd") == reqs[1].Header.Get("x-iyzi-rnd") {
		t.Error("two calls used the same random key")
	}
	if !strings.HasPrefix(h.Get("Authorization"), "IYZWSv2 ") {
		t.Errorf("Authorization %q", h.Get("Authorization"))
	}
	if reqs[0].RequestURI != PathAuth+"?locale=en" {
		t.Errorf("request URI %q", reqs[0].RequestURI)
	}
}

func TestClientDefaultVersion(t *testing.T) {
	b := setup(t, reply(200, `{"status":"success","balance":"1"}`))
	if _, err := b.client.Balance(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := b.fake.last(t).Header.Get("x-iyzi-client-version"); got != DefaultClientVersion {
		t.Errorf("x-iyzi-client-version %q, want %q", got, DefaultClientVersion)
	}
}

// TestClientSignsPathWithoutQuery pins the random key and checks the exact Authorization header
// against the OpenSSL vectors: the URL carries ?locale=en, the signature covers the path only.
func TestClientSignsPathWithoutQuery(t *testing.T) {
	for _, tc := range []struct {
		name string
		call func(context.Context, *Client) error
		uri  string
		vec  signVector
	}{
		{"balance", func(ctx context.Context, c *Client) error { _, err := c.Balance(ctx); return err },
			PathBalance + "?locale=en", opensslVectors[0]},
		{"item", func(ctx context.Context, c *Client) error { _, err := c.RetrieveItem(ctx, osslItemID); return err },
			PathItemPrefix + osslItemID + "?locale=en", opensslVectors[1]},
		{"auth", func(ctx context.Context, c *Client) error { _, err := c.Auth(ctx, osslAuthID); return err },
			PathAuth + "?locale=en", opensslVectors[2]},
		{"cancel escaped", func(ctx context.Context, c *Client) error { _, err := c.Cancel(ctx, "a/b c"); return err },
			PathCancelPrefix + "a%2Fb%20c?locale=en", opensslVectors[3]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, "en", osslAPIKey, osslSecret, reply(200, `{"status":"success","balance":"1","item":{"itemExternalId":"x"}}`))
			c, err := NewClient(Options{BaseURL: f.srv.URL, APIKey: osslAPIKey, SecretKey: osslSecret, Locale: "en"})
			if err != nil {
				t.Fatal(err)
			}
			c.randomKey = func() string { return osslRandom }
			if err := tc.call(t.Context(), c); err != nil {
				t.Fatal(err)
			}
			r := f.last(t)
			if r.RequestURI != tc.uri {
				t.Errorf("request URI %q, want %q", r.RequestURI, tc.uri)
			}
			if got := r.Header.Get("Authorization"); got != tc.vec.want {
				t.Errorf("Authorization\n%s\nwant\n%s", got, tc.vec.want)
			}
			if got := r.Header.Get("x-iyzi-rnd"); got != osslRandom {
				t.Errorf("x-iyzi-rnd %q", got)
			}
		})
	}
}

func TestClientEscapesPathSegments(t *testing.T) {
	b := setup(t, reply(200, `{"status":"success","item":{"itemExternalId":"x"}}`))
	for _, id := range []string{"a/b c", "ref?x=1#y", "ü%2F", "..x"} {
		if _, err := b.client.RetrieveItem(t.Context(), id); err != nil {
			t.Fatalf("%q: %v", id, err)
		}
		r := b.fake.last(t)
		if r.Path != PathItemPrefix+id {
			t.Errorf("%q: the server decoded the path as %q", id, r.Path)
		}
		if !strings.HasSuffix(r.RequestURI, "?locale=tr") || strings.Count(r.RequestURI, "?") != 1 {
			t.Errorf("%q: request URI %q", id, r.RequestURI)
		}
	}
	for _, id := range []string{"", ".", ".."} {
		_, err := b.client.Cancel(t.Context(), id)
		if !errors.Is(err, ErrInvalidRequest) || !IsPermanent(err) {
			t.Errorf("Cancel(%q) = %v, want ErrInvalidRequest", id, err)
		}
		_, err = b.client.RetrieveItem(t.Context(), id)
		if !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("RetrieveItem(%q) = %v, want ErrInvalidRequest", id, err)
		}
		_, err = b.client.Auth(t.Context(), id)
		if !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("Auth(%q) = %v, want ErrInvalidRequest", id, err)
		}
	}
}

func TestInitRawSendsExactBytes(t *testing.T) {
	b := setup(t, reply(200, `{"status":"success","requestId":"r"}`))
	// Whitespace, Java-style escapes and a trailing newline: sent and signed as they are.
	body := []byte("{ \"externalId\" : \"b-1\",\n \"items\":[{\"recipientName\":\"a\\u003db\",\"amount\":{\"value\":100.50,\"currency\":\"TRY\"}}]}\n")
	resp, err := b.client.InitRaw(t.Context(), body)
	if err != nil || resp.RequestID != "r" {
		t.Fatalf("InitRaw = %+v, %v", resp, err)
	}
	if got := b.fake.last(t).Body; !bytes.Equal(got, body) {
		t.Errorf("sent %q, want %q", got, body)
	}
	if _, err := b.client.InitRaw(t.Context(), nil); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("InitRaw(nil) = %v", err)
	}
	if _, err := b.client.Init(t.Context(), &InitRequest{ExternalID: "x"}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("Init without items = %v", err)
	}
	if n := len(b.fake.requests()); n != 1 {
		t.Errorf("%d requests reached the server, want 1", n)
	}
}

func TestRetrieveRefuses(t *testing.T) {
	b := setup(t, reply(200, okBody))
	for _, req := range []RetrieveRequest{{}, {RequestID: "r", Page: -1}, {RequestID: "r", Size: -5}} {
		if _, err := b.client.Retrieve(t.Context(), req); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("Retrieve(%+v) = %v, want ErrInvalidRequest", req, err)
		}
	}
	if len(b.fake.requests()) != 0 {
		t.Error("a refused retrieve reached the server")
	}
}

// class is the expected classification of an error.
type class struct{ transient, ambiguous, permanent bool }

func classify(err error) class {
	return class{IsTransient(err), IsAmbiguous(err), IsPermanent(err)}
}

var (
	transientAmbiguous = class{transient: true, ambiguous: true}
	transientOnly      = class{transient: true}
	permanent          = class{permanent: true}
)

func TestClientErrorAnswers(t *testing.T) {
	future := time.Now().Add(2 * time.Minute).UTC().Format(http.TimeFormat)
	for _, tc := range []struct {
		name       string
		h          http.HandlerFunc
		want       class
		status     int
		code       Code
		retryAfter [2]time.Duration // accepted range
		decoded    bool             // the answer comes back with the error
		inText     string
	}{
		{name: "503 json", h: reply(503, `{"status":"failure","errorCode":"1","errorMessage":"Sistem hatası"}`),
			want: transientAmbiguous, status: 503, code: "1", decoded: true, inText: "HTTP 503: errorCode 1: Sistem hatası"},
		{name: "500 empty", h: reply(500, ``), want: transientAmbiguous, status: 500},
		{name: "502 html", h: reply(502, `<html><body><h1>502 Bad Gateway</h1></body></html>`, "Content-Type", "text/html"),
			want: transientAmbiguous, status: 502, inText: "undecodable answer (text/html"},
		{name: "503 retry-after seconds", h: reply(503, ``, "Retry-After", "7"),
			want: transientAmbiguous, status: 503, retryAfter: [2]time.Duration{7 * time.Second, 7 * time.Second}},
		{name: "429 retry-after seconds", h: reply(429, `{"status":"failure","errorCode":"50000","errorMessage":"Request Limit Exceeded"}`, "Retry-After", "3"),
			want: transientOnly, status: 429, code: CodeRateLimited, decoded: true, retryAfter: [2]time.Duration{3 * time.Second, 3 * time.Second}},
		{name: "429 retry-after date", h: reply(429, `<html>slow down</html>`, "Retry-After", future, "Content-Type", "text/html"),
			want: transientOnly, status: 429, retryAfter: [2]time.Duration{100 * time.Second, 120 * time.Second}},
		{name: "200 numeric 50000", h: reply(200, `{"status":"failure","errorCode":50000,"errorMessage":"Request Limit Exceeded","locale":"en"}`),
			want: transientOnly, status: 200, code: CodeRateLimited, decoded: true},
		{name: "1000 invalid signature", h: reply(200, `{"status":"failure","errorCode":"1000","errorMessage":"Geçersiz imza","locale":"tr","systemTime":1688561366716,"conversationId":"123456789"}`),
			want: permanent, status: 200, code: CodeInvalidSignature, decoded: true, inText: "errorCode 1000: Geçersiz imza"},
		{name: "1001 credentials 401", h: reply(401, `{"status":"failure","errorCode":"1001","errorMessage":"api bilgileri bulunamadı"}`),
			want: permanent, status: 401, code: CodeCredentialsNotFound, decoded: true},
		{name: "gateway 401", h: reply(401, `{"status":401,"errorCode":"5","errorMessage":"Authentication failed!","systemTime":1753183509796,"locale":"tr"}`),
			want: permanent, status: 401, code: CodeGatewayAuthFailed, decoded: true},
		{name: "duplicate externalId 400", h: reply(400, `{"status":"failure","errorCode":"10400","errorMessage":"externalId already used"}`),
			want: permanent, status: 400, code: "10400", decoded: true},
		{name: "failure without code", h: reply(200, `{"status":"failure"}`), want: permanent, status: 200, decoded: true},
		{name: "200 without status", h: reply(200, `{}`), want: transientAmbiguous, status: 200, inText: "no status"},
		{name: "200 wrong shape", h: reply(200, `{"status":"success","requestId":"r","invalidItems":{}}`), want: transientAmbiguous, status: 200},
		{name: "success with 500", h: reply(500, okBody), want: transientAmbiguous, status: 500, decoded: true},
		{name: "redirect not followed", h: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
		}, want: transientAmbiguous, status: 307},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t, tc.h)
			resp, err := b.client.InitRaw(t.Context(), []byte(initBody25))
			e, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("error %v (%T), want *Error", err, err)
			}
			if got := classify(err); got != tc.want {
				t.Errorf("classify(%v) = %+v, want %+v", err, got, tc.want)
			}
			if e.Endpoint != EndpointInit || e.HTTPStatus != tc.status || e.Code != tc.code || !e.Sent {
				t.Errorf("error fields %+v", e)
			}
			if (resp != nil) != tc.decoded {
				t.Errorf("answer %+v returned with the error; want decoded=%v", resp, tc.decoded)
			}
			if d, ok := RetryAfter(err); d < tc.retryAfter[0] || d > tc.retryAfter[1] || ok != (tc.retryAfter[1] > 0) {
				t.Errorf("RetryAfter = %s, %v; want within %v", d, ok, tc.retryAfter)
			}
			if !strings.Contains(err.Error(), tc.inText) {
				t.Errorf("error text %q lacks %q", err, tc.inText)
			}
			if n := len(b.fake.requests()); n != 1 {
				t.Errorf("%d requests reached the server, want 1 (no retry, no redirect)", n)
			}
			if want := []observation{{EndpointInit, fmt.Sprint(tc.status)}}; fmt.Sprint(b.obs.all()) != fmt.Sprint(want) {
				t.Errorf("observed %v, want %v", b.obs.all(), want)
			}
			assertNoSecrets(t, err)
		})
	}
}

// assertNoSecrets fails when err's text (or its %+v/%#v rendering) carries a credential.
func assertNoSecrets(t *testing.T, err error) {
	t.Helper()
	for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		for _, secret := range []string{testKey, testSecret, "IYZWSv2", base64.StdEncoding.EncodeToString([]byte("apiKey:" + testKey))[:20]} {
			if strings.Contains(s, secret) {
				t.Errorf("error text %q contains %q", s, secret)
			}
		}
	}
}

func TestClientTimeoutIsAmbiguous(t *testing.T) {
	b := setup(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}, func(o *Options) { o.Timeout = 150 * time.Millisecond })
	start := time.Now()
	resp, err := b.client.InitRaw(t.Context(), []byte(initBody25))
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("the call took %s with a 150ms timeout", elapsed)
	}
	if resp != nil {
		t.Errorf("answer %+v", resp)
	}
	e, ok := errors.AsType[*Error](err)
	if !ok || !e.Sent || e.HTTPStatus != 0 {
		t.Fatalf("error %#v", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
	}
	if got := classify(err); got != transientAmbiguous {
		t.Errorf("classify(%v) = %+v, want transient and ambiguous", err, got)
	}
	if !strings.Contains(err.Error(), "150ms") || !strings.Contains(err.Error(), "iyzico may have acted") {
		t.Errorf("error text %q", err)
	}
	if want := []observation{{EndpointInit, "error"}}; fmt.Sprint(b.obs.all()) != fmt.Sprint(want) {
		t.Errorf("observed %v, want %v", b.obs.all(), want)
	}
	assertNoSecrets(t, err)
}

func TestClientCallerCancelAfterSendIsAmbiguous(t *testing.T) {
	arrived := make(chan struct{})
	b := setup(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := b.client.Auth(ctx, "r-1")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}
	if got := classify(err); got != transientAmbiguous {
		t.Errorf("classify(%v) = %+v, want transient and ambiguous", err, got)
	}
}

func TestClientCanceledBeforeSendIsNotAmbiguous(t *testing.T) {
	b := setup(t, reply(200, okBody))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := b.client.Auth(ctx, "r-1")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}
	if got := classify(err); got != transientOnly {
		t.Errorf("classify(%v) = %+v, want transient only", err, got)
	}
}

func TestClientConnectionDroppedAfterBody(t *testing.T) {
	for _, reset := range []bool{false, true} {
		t.Run(fmt.Sprintf("reset=%v", reset), func(t *testing.T) {
			b := setup(t, func(w http.ResponseWriter, r *http.Request) {
				// The fake has read the whole body: iyzico "committed". Now drop the line.
				conn, _, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Errorf("hijack: %v", err)
					return
				}
				if tcp, ok := conn.(*net.TCPConn); ok && reset {
					tcp.SetLinger(0) // close with RST
				}
				conn.Close()
			})
			resp, err := b.client.InitRaw(t.Context(), []byte(initBody25))
			if resp != nil {
				t.Errorf("answer %+v", resp)
			}
			e, ok := errors.AsType[*Error](err)
			if !ok || !e.Sent || e.HTTPStatus != 0 || e.Err == nil {
				t.Fatalf("error %#v", err)
			}
			if got := classify(err); got != transientAmbiguous {
				t.Errorf("classify(%v) = %+v, want transient and ambiguous", err, got)
			}
			if n := len(b.fake.requests()); n != 1 {
				t.Errorf("%d requests reached the server, want 1: the transport must not re-send a POST", n)
			}
			assertNoSecrets(t, err)
		})
	}
}

func TestClientDialRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	obs := &observer{}
	c, err := NewClient(Options{BaseURL: "http://" + addr, APIKey: testKey, SecretKey: testSecret, Observe: obs.observe})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.InitRaw(t.Context(), []byte(initBody25))
	e, ok := errors.AsType[*Error](err)
	if !ok || e.Sent || e.HTTPStatus != 0 {
		t.Fatalf("error %#v", err)
	}
	if got := classify(err); got != transientOnly {
		t.Errorf("classify(%v) = %+v, want transient, not ambiguous", err, got)
	}
	if want := []observation{{EndpointInit, "error"}}; fmt.Sprint(obs.all()) != fmt.Sprint(want) {
		t.Errorf("observed %v, want %v", obs.all(), want)
	}
	assertNoSecrets(t, err)
}

// countingLimiter counts Wait calls and fails with err when set.
type countingLimiter struct {
	n   atomic.Int32
	err error
}

func (l *countingLimiter) Wait(ctx context.Context) error {
	l.n.Add(1)
	if l.err != nil {
		return l.err
	}
	return ctx.Err()
}

func TestClientLimiter(t *testing.T) {
	lim := &countingLimiter{}
	b := setup(t, reply(200, `{"status":"success","balance":"1","item":{"itemExternalId":"x"}}`), func(o *Options) { o.Limiter = lim })
	ctx := t.Context()
	calls := []func() error{
		func() error { _, err := b.client.InitRaw(ctx, []byte(initBody25)); return err },
		func() error { _, err := b.client.Auth(ctx, "r"); return err },
		func() error { _, err := b.client.Cancel(ctx, "r"); return err },
		func() error { _, err := b.client.Retrieve(ctx, RetrieveRequest{RequestID: "r"}); return err },
		func() error { _, err := b.client.RetrieveItem(ctx, "x"); return err },
		func() error { _, err := b.client.Balance(ctx); return err },
	}
	for i, call := range calls {
		if err := call(); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if got := lim.n.Load(); got != int32(i+1) {
			t.Fatalf("after call %d the limiter was waited on %d times, want %d", i, got, i+1)
		}
	}

	lim.err = context.DeadlineExceeded
	before := len(b.fake.requests())
	obsBefore := len(b.obs.all())
	_, err := b.client.Auth(ctx, "r")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not wrap the limiter's error", err)
	}
	if got := classify(err); got != transientOnly {
		t.Errorf("classify(%v) = %+v, want transient, not ambiguous", err, got)
	}
	if e, ok := errors.AsType[*Error](err); !ok || e.Endpoint != EndpointAuth || e.Sent {
		t.Errorf("error %#v", err)
	}
	if len(b.fake.requests()) != before || len(b.obs.all()) != obsBefore {
		t.Error("a call whose limiter failed reached the server or was observed")
	}
}

func TestClientReusesConnections(t *testing.T) {
	b := setup(t, reply(200, okBody))
	for range 20 {
		if _, err := b.client.Auth(t.Context(), "r"); err != nil {
			t.Fatal(err)
		}
	}
	// Error answers must not spoil the connection either.
	b2 := setup(t, reply(503, `<html>busy</html>`))
	for range 5 {
		b2.client.Auth(t.Context(), "r")
	}
	if n := b.fake.conns.Load(); n != 1 {
		t.Errorf("20 sequential calls opened %d connections, want 1", n)
	}
	if n := b2.fake.conns.Load(); n != 1 {
		t.Errorf("5 sequential 503s opened %d connections, want 1", n)
	}
}

func TestClientConcurrentCalls(t *testing.T) {
	b := setup(t, reply(200, okBody))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			if _, err := b.client.Auth(t.Context(), fmt.Sprintf("r-%d", i)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(b.fake.requests()); n != 64 {
		t.Errorf("%d requests, want 64", n)
	}
}

// pagedServer serves items in pages; nested puts paging inside massPayoutItems, noTotal omits it.
func pagedServer(t *testing.T, items int, nested, noTotal bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Page, Size int }
		if err := jsonDecode(r.Body, &req); err != nil {
			t.Errorf("server: %v", err)
		}
		var list []string
		for i := req.Page * req.Size; i < min((req.Page+1)*req.Size, items); i++ {
			list = append(list, fmt.Sprintf(`{"itemExternalId":"i-%d","referenceCode":"ref-%d","itemStatus":"SUCCESS","totalAmount":%d.50,"commissionAmount":"1.00"}`, i, i, i))
		}
		paging := fmt.Sprintf(`"page":%d,"size":%d,"total":%d`, req.Page, req.Size, items)
		if noTotal {
			paging = fmt.Sprintf(`"page":%d,"size":%d`, req.Page, req.Size)
		}
		page := `{"items":[` + strings.Join(list, ",") + `]` + map[bool]string{true: "," + paging, false: ""}[nested] + `}`
		top := map[bool]string{true: "", false: "," + paging}[nested]
		fmt.Fprintf(w, `{"status":"success","massPayout":{"externalId":"b-1","totalAmount":"%d","massPayoutStatus":"COMPLETED"},"massPayoutItems":%s%s}`, req.Page, page, top)
	}
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

func TestRetrieveAll(t *testing.T) {
	for _, tc := range []struct {
		name            string
		items, size     int
		startPage       int
		nested, noTotal bool
		wantItems       int
		wantCalls       int
	}{
		{name: "top-level paging, 3 pages", items: 25, size: 10, wantItems: 25, wantCalls: 3},
		{name: "nested paging, 3 pages", items: 25, size: 10, nested: true, wantItems: 25, wantCalls: 3},
		{name: "exact multiple stops at total", items: 30, size: 10, wantItems: 30, wantCalls: 3},
		{name: "no total: short page stops", items: 25, size: 10, noTotal: true, wantItems: 25, wantCalls: 3},
		{name: "no total: exact multiple needs an empty page", items: 20, size: 10, noTotal: true, wantItems: 20, wantCalls: 3},
		{name: "empty payout", items: 0, size: 10, wantItems: 0, wantCalls: 1},
		{name: "default size 100", items: 150, wantItems: 150, wantCalls: 2},
		{name: "from page 1", items: 25, size: 10, startPage: 1, wantItems: 15, wantCalls: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := setup(t, pagedServer(t, tc.items, tc.nested, tc.noTotal))
			sum, items, err := b.client.RetrieveAll(t.Context(), RetrieveRequest{ExternalMassPayoutID: "b-1", Size: tc.size, Page: tc.startPage})
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != tc.wantItems {
				t.Errorf("%d items, want %d", len(items), tc.wantItems)
			}
			for i, it := range items {
				n := i + tc.startPage*tc.size
				if it.ItemExternalID != fmt.Sprintf("i-%d", n) || !it.TotalAmount.Equal(decimal.RequireFromString(fmt.Sprintf("%d.5", n))) {
					t.Errorf("item %d = %+v", i, it)
					break
				}
			}
			if calls := len(b.fake.requests()); calls != tc.wantCalls {
				t.Errorf("%d calls, want %d", calls, tc.wantCalls)
			}
			// The summary comes from the last page (its totalAmount echoes the page number).
			if sum == nil || !sum.TotalAmount.Equal(decimal.NewFromInt(int64(tc.startPage+tc.wantCalls-1))) {
				t.Errorf("summary %+v", sum)
			}
		})
	}
}

func TestRetrieveAllRefusesInconsistentPages(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"server ignores page": reply(200, `{"status":"success","massPayoutItems":{"items":[{"itemExternalId":"a","referenceCode":"r"}]},"page":0,"size":1,"total":3}`),
		"repeated item": func(w http.ResponseWriter, r *http.Request) {
			var req struct{ Page int }
			jsonDecode(r.Body, &req)
			fmt.Fprintf(w, `{"status":"success","massPayoutItems":{"items":[{"itemExternalId":"a","referenceCode":"r"}]},"total":3}`)
		},
	} {
		t.Run(name, func(t *testing.T) {
			b := setup(t, h)
			sum, items, err := b.client.RetrieveAll(t.Context(), RetrieveRequest{RequestID: "r", Size: 1})
			if err == nil || sum != nil || items != nil {
				t.Fatalf("RetrieveAll = %v, %v, %v; want an error and nothing else", sum, items, err)
			}
			if !IsTransient(err) {
				t.Errorf("classify(%v) = %+v, want transient", err, classify(err))
			}
		})
	}
}

func TestRetrieveAllStopsOnError(t *testing.T) {
	var calls atomic.Int32
	b := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 2 {
			reply(503, ``)(w, r)
			return
		}
		pagedServer(t, 30, false, false)(w, r)
	})
	sum, items, err := b.client.RetrieveAll(t.Context(), RetrieveRequest{RequestID: "r", Size: 10})
	if !IsTransient(err) || sum != nil || items != nil {
		t.Errorf("RetrieveAll = %v, %d items, %v; want only the 503", sum, len(items), err)
	}
}

func TestNewClientValidates(t *testing.T) {
	ok := Options{BaseURL: "https://sandbox-api.iyzipay.com", APIKey: "k", SecretKey: "s"}
	for _, tc := range []struct {
		edit  func(*Options)
		field string
	}{
		{func(o *Options) { o.BaseURL = "" }, "BaseURL"},
		{func(o *Options) { o.BaseURL = "sandbox-api.iyzipay.com" }, "BaseURL"},
		{func(o *Options) { o.BaseURL = "ftp://sandbox-api.iyzipay.com" }, "BaseURL"},
		{func(o *Options) { o.BaseURL = "https://sandbox-api.iyzipay.com/v1" }, "BaseURL"},
		{func(o *Options) { o.BaseURL = "https://sandbox-api.iyzipay.com?locale=tr" }, "BaseURL"},
		{func(o *Options) { o.BaseURL = "https://user:SKSENTINEL@sandbox-api.iyzipay.com" }, "BaseURL"},
		{func(o *Options) { o.BaseURL = "http://[::1" }, "BaseURL"},
		{func(o *Options) { o.APIKey = "" }, "APIKey"},
		{func(o *Options) { o.APIKey = "a&b" }, "APIKey"},
		{func(o *Options) { o.SecretKey = "" }, "SecretKey"},
		{func(o *Options) { o.Locale = "de" }, "Locale"},
		{func(o *Options) { o.Locale = "TR" }, "Locale"},
		{func(o *Options) { o.Timeout = -time.Second }, "Timeout"},
		{func(o *Options) { o.ClientVersion = "x\r\nEvil: 1" }, "ClientVersion"},
	} {
		o := ok
		tc.edit(&o)
		_, err := NewClient(o)
		if err == nil || !strings.Contains(err.Error(), "Options."+tc.field) {
			t.Errorf("NewClient(%v) = %v, want an error naming Options.%s", o, err, tc.field)
		}
		if err != nil && strings.Contains(err.Error(), "SKSENTINEL") {
			t.Errorf("error %q echoes a credential", err)
		}
	}
	for _, base := range []string{"https://sandbox-api.iyzipay.com", "https://api.iyzipay.com/", "http://127.0.0.1:8089"} {
		o := ok
		o.BaseURL = base
		c, err := NewClient(o)
		if err != nil {
			t.Errorf("NewClient(%s): %v", base, err)
			continue
		}
		if c.locale != "tr" || c.timeout != 30*time.Second || c.clientVersion != DefaultClientVersion || strings.HasSuffix(c.baseURL, "/") {
			t.Errorf("defaults not applied: %+v", c.String())
		}
	}
}

func TestClientAndOptionsDoNotPrintKeys(t *testing.T) {
	o := Options{BaseURL: "https://sandbox-api.iyzipay.com", APIKey: testKey, SecretKey: testSecret}
	c, err := NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(o), fmt.Sprintf("%+v", o), fmt.Sprintf("%#v", o), fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%v", &o)} {
		if strings.Contains(s, testKey) || strings.Contains(s, testSecret) {
			t.Errorf("%q prints a key", s)
		}
	}
	for _, base := range []string{"https://user:SKSENTINEL@sandbox-api.iyzipay.com", "http://u:SKSENTINEL@[::1"} {
		if s := (Options{BaseURL: base}).String(); strings.Contains(s, "SKSENTINEL") {
			t.Errorf("%q prints the password of BaseURL", s)
		}
	}
}

func TestGivenHTTPClientIsCopiedAndRefusesRedirects(t *testing.T) {
	var hit atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit.Add(1) }))
	t.Cleanup(target.Close)
	hc := &http.Client{}
	b := setup(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+PathAuth, http.StatusPermanentRedirect)
	}, func(o *Options) { o.HTTPClient = hc })
	_, err := b.client.Auth(t.Context(), "r")
	if !IsAmbiguous(err) || hit.Load() != 0 {
		t.Errorf("redirect: err %v, target hit %d times", err, hit.Load())
	}
	if hc.CheckRedirect != nil {
		t.Error("NewClient changed the caller's http.Client")
	}
}

func TestNewRandomKey(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		k := newRandomKey()
		if !uuidV4.MatchString(k) {
			t.Fatalf("%q is not a UUIDv4", k)
		}
		if seen[k] {
			t.Fatalf("%q repeated", k)
		}
		seen[k] = true
	}
}
