package iyzico

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Endpoint names, as used in Error.Endpoint and passed to Options.Observe.
const (
	EndpointInit     = "init"
	EndpointAuth     = "auth"
	EndpointCancel   = "cancel"
	EndpointRetrieve = "retrieve"
	EndpointItem     = "item"
	EndpointBalance  = "balance"
)

// Defaults applied by NewClient and by the retrieve calls.
const (
	DefaultLocale        = "tr"
	DefaultTimeout       = 30 * time.Second
	DefaultClientVersion = "masspayout-go/dev"
	DefaultPageSize      = 100
)

// maxAnswerBytes bounds how much of an answer is read; a retrieve page of 100 items is ~50 kB.
const maxAnswerBytes = 32 << 20

// maxPages bounds RetrieveAll so that a server that never runs out of pages cannot loop it forever.
const maxPages = 100_000

// Limiter paces calls to iyzico (for example a rate limit shared by every worker process). The
// client waits on it before every call, outside Options.Timeout; waiting is not a failure, but an
// error from Wait ends the call with an *Error wrapping it (transient, never ambiguous).
type Limiter interface {
	Wait(ctx context.Context) error
}

// Options configure a Client. BaseURL, APIKey and SecretKey are required; every other field has a
// default. Print Options freely: String masks both keys.
type Options struct {
	// BaseURL is scheme and host, with no path: https://api.iyzipay.com,
	// https://sandbox-api.iyzipay.com or http://127.0.0.1:8089.
	BaseURL   string
	APIKey    string
	SecretKey string
	// Locale is "tr" (default) or "en"; it is sent as the query parameter ?locale= and never signed.
	Locale string
	// Timeout bounds one call from sending to reading the whole answer; default 30s.
	Timeout time.Duration
	// Limiter, when not nil, is waited on before every call.
	Limiter Limiter
	// HTTPClient, when nil, is a client of our own that keeps up to 64 idle connections to iyzico.
	// A given client is copied and never follows redirects (a redirected POST would be re-sent or
	// turned into a GET).
	HTTPClient *http.Client
	// ClientVersion is sent as x-iyzi-client-version; default "masspayout-go/dev".
	ClientVersion string
	// Observe, when not nil, is called after every HTTP attempt with the endpoint name, the HTTP
	// status ("200", "503") or "error" when no answer arrived, and the attempt's duration. It is
	// not called when the limiter fails or the arguments are refused. It must be safe for
	// concurrent use.
	Observe func(endpoint, code string, d time.Duration)
}

// String describes the options with both keys (and any password in BaseURL) masked.
func (o Options) String() string {
	base := o.BaseURL
	if u, err := url.Parse(base); err == nil {
		base = u.Redacted()
	} else if strings.Contains(base, "@") {
		base = "***"
	}
	return fmt.Sprintf("iyzico.Options{BaseURL:%q APIKey:%s SecretKey:%s Locale:%q Timeout:%s ClientVersion:%q}",
		base, mask(o.APIKey), mask(o.SecretKey), o.Locale, o.Timeout, o.ClientVersion)
}

// GoString is String, so that %#v does not print the keys either.
func (o Options) GoString() string { return o.String() }

func mask(s string) string {
	if s == "" {
		return `""`
	}
	return "***"
}

// Client calls iyzico's Mass Payout API. It is safe for concurrent use. Every call is exactly one
// HTTP attempt (retrying belongs to the caller), signed with IYZWSv2 over the path actually sent
// (without the query) and the exact body bytes. A method returns (answer, nil) only when iyzico
// answered status "success"; otherwise it returns the decoded answer, if any, and an *Error.
type Client struct {
	baseURL       string // scheme://host[:port], no trailing slash
	apiKey        string
	secretKey     string
	locale        string
	timeout       time.Duration
	limiter       Limiter
	hc            *http.Client
	clientVersion string
	observe       func(endpoint, code string, d time.Duration)
	randomKey     func() string // newRandomKey; tests pin it to reproduce published vectors
}

// NewClient checks o, applies the defaults and returns a Client. Errors name the offending field
// and never echo a key.
func NewClient(o Options) (*Client, error) {
	base, err := parseBaseURL(o.BaseURL)
	if err != nil {
		return nil, err
	}
	switch {
	case o.APIKey == "":
		return nil, errors.New("iyzico: Options.APIKey is required")
	case strings.ContainsAny(o.APIKey, "&"):
		return nil, errors.New("iyzico: Options.APIKey must not contain '&' (it would break the IYZWSv2 header)")
	case o.SecretKey == "":
		return nil, errors.New("iyzico: Options.SecretKey is required")
	case o.Timeout < 0:
		return nil, fmt.Errorf("iyzico: Options.Timeout must not be negative, got %s", o.Timeout)
	case !validHeaderValue(o.ClientVersion):
		return nil, errors.New("iyzico: Options.ClientVersion must not contain control characters")
	}
	c := &Client{
		baseURL:       base,
		apiKey:        o.APIKey,
		secretKey:     o.SecretKey,
		locale:        o.Locale,
		timeout:       o.Timeout,
		limiter:       o.Limiter,
		clientVersion: o.ClientVersion,
		observe:       o.Observe,
		randomKey:     newRandomKey,
	}
	switch c.locale {
	case "":
		c.locale = DefaultLocale
	case "tr", "en":
	default:
		return nil, fmt.Errorf("iyzico: Options.Locale must be \"tr\" or \"en\", got %q", o.Locale)
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.clientVersion == "" {
		c.clientVersion = DefaultClientVersion
	}
	if o.HTTPClient != nil {
		hc := *o.HTTPClient
		hc.CheckRedirect = refuseRedirect
		c.hc = &hc
	} else {
		c.hc = newHTTPClient()
	}
	return c, nil
}

// String names the client's base URL; the keys are never printed.
func (c *Client) String() string { return "iyzico.Client(" + c.baseURL + ")" }

// GoString is String, so that %#v does not print the keys either.
func (c *Client) GoString() string { return c.String() }

func parseBaseURL(s string) (string, error) {
	const want = "iyzico: Options.BaseURL must be an absolute http(s) URL without path, query or credentials, such as https://sandbox-api.iyzipay.com"
	if s == "" {
		return "", errors.New("iyzico: Options.BaseURL is required")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return "", errors.New(want)
	}
	return u.Scheme + "://" + u.Host, nil
}

func validHeaderValue(s string) bool {
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

func newHTTPClient() *http.Client {
	t := &http.Transport{
		// No proxy from the environment: only cmd reads the environment. Pass Options.HTTPClient
		// to go through a proxy.
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: t, CheckRedirect: refuseRedirect}
}

func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Init sends an init request: it marshals req once with MarshalInit and sends those bytes with
// InitRaw. Init is idempotent only as far as iyzico honours externalId (iyzico.md §6): after an
// ambiguous error, retrieve by ExternalMassPayoutID before sending again, and prefer storing the
// bytes from MarshalInit and calling InitRaw on every attempt.
func (c *Client) Init(ctx context.Context, req *InitRequest) (*InitResponse, error) {
	body, err := MarshalInit(req)
	if err != nil {
		return nil, &Error{Endpoint: EndpointInit, Err: err}
	}
	return c.InitRaw(ctx, body)
}

// InitRaw sends body, exactly these bytes, to POST /v1/mass/payout/init and signs the same bytes.
// An empty body is refused with ErrInvalidRequest.
func (c *Client) InitRaw(ctx context.Context, body []byte) (*InitResponse, error) {
	if len(body) == 0 {
		return nil, &Error{Endpoint: EndpointInit, Err: fmt.Errorf("%w: empty init body", ErrInvalidRequest)}
	}
	var resp InitResponse
	decoded, err := c.call(ctx, EndpointInit, http.MethodPost, PathInit, body, &resp)
	return pick(&resp, decoded, err)
}

// Auth sends POST /v1/mass/payout/auth for requestID: iyzico starts paying the payout's valid
// items. Not idempotent as far as documented: after an ambiguous error, retrieve and inspect the
// item statuses before authorizing again.
func (c *Client) Auth(ctx context.Context, requestID string) (*AuthResponse, error) {
	if err := checkID("requestId", requestID); err != nil {
		return nil, &Error{Endpoint: EndpointAuth, Err: err}
	}
	body, err := json.Marshal(AuthRequest{RequestID: requestID})
	if err != nil {
		return nil, &Error{Endpoint: EndpointAuth, Err: fmt.Errorf("%w: %v", ErrInvalidRequest, err)}
	}
	var resp AuthResponse
	decoded, err := c.call(ctx, EndpointAuth, http.MethodPost, PathAuth, body, &resp)
	return pick(&resp, decoded, err)
}

// Cancel sends POST /v1/mass/payout/cancel/{requestID} with no body (the signature covers the path
// only): iyzico cancels the payout and its items still in INIT.
func (c *Client) Cancel(ctx context.Context, requestID string) (*AuthResponse, error) {
	if err := checkID("requestId", requestID); err != nil {
		return nil, &Error{Endpoint: EndpointCancel, Err: err}
	}
	var resp AuthResponse
	path := PathCancelPrefix + url.PathEscape(requestID)
	decoded, err := c.call(ctx, EndpointCancel, http.MethodPost, path, nil, &resp)
	return pick(&resp, decoded, err)
}

// Retrieve sends POST /v1/mass/payout/retrieve for one page. req needs RequestID or
// ExternalMassPayoutID; a zero Size means DefaultPageSize; Page is 0-based. Read the answer's
// paging with RetrieveResponse.Paging. Retrieve is read-only and safe to repeat.
func (c *Client) Retrieve(ctx context.Context, req RetrieveRequest) (*RetrieveResponse, error) {
	if req.Size == 0 {
		req.Size = DefaultPageSize
	}
	switch {
	case req.RequestID == "" && req.ExternalMassPayoutID == "":
		return nil, &Error{Endpoint: EndpointRetrieve, Err: fmt.Errorf("%w: retrieve needs requestId or externalMassPayoutId", ErrInvalidRequest)}
	case req.Page < 0 || req.Size < 0:
		return nil, &Error{Endpoint: EndpointRetrieve, Err: fmt.Errorf("%w: negative page %d or size %d", ErrInvalidRequest, req.Page, req.Size)}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, &Error{Endpoint: EndpointRetrieve, Err: fmt.Errorf("%w: %v", ErrInvalidRequest, err)}
	}
	var resp RetrieveResponse
	decoded, err := c.call(ctx, EndpointRetrieve, http.MethodPost, PathRetrieve, body, &resp)
	return pick(&resp, decoded, err)
}

// RetrieveAll reads every page of a payout, starting at req.Page (a zero Size means
// DefaultPageSize), until the reported total is reached or a page comes back empty (or, when no
// total is reported, short). It returns the summary from the last page that carried one and the
// items in page order. Paging may arrive at the top level or inside massPayoutItems. A page that
// reports another page number than asked, or repeats an item already seen, ends the read with an
// error rather than a silently wrong list. On error it returns no partial result.
func (c *Client) RetrieveAll(ctx context.Context, req RetrieveRequest) (*MassPayoutSummary, []ItemDetail, error) {
	if req.Size == 0 {
		req.Size = DefaultPageSize
	}
	offset := int64(req.Page) * int64(req.Size)
	var (
		summary *MassPayoutSummary
		items   []ItemDetail
		seen    = make(map[[2]string]bool)
	)
	for range maxPages {
		resp, err := c.Retrieve(ctx, req)
		if err != nil {
			return nil, nil, err
		}
		if p := reportedPage(resp); p != nil && *p != req.Page {
			return nil, nil, unexpected(EndpointRetrieve, "asked for page %d, got page %d", req.Page, *p)
		}
		if resp.MassPayout != nil {
			summary = resp.MassPayout
		}
		got := resp.MassPayoutItems.Items
		for _, it := range got {
			key := [2]string{it.ItemExternalID, it.ReferenceCode}
			if key == [2]string{} {
				continue
			}
			if seen[key] {
				return nil, nil, unexpected(EndpointRetrieve, "page %d repeats item %q", req.Page, it.ItemExternalID)
			}
			seen[key] = true
		}
		items = append(items, got...)
		offset += int64(len(got))
		_, size, total := resp.Paging()
		if size <= 0 {
			size = req.Size
		}
		switch {
		case len(got) == 0,
			total >= 0 && offset >= total,
			total < 0 && len(got) < size:
			return summary, items, nil
		}
		req.Page++
	}
	return nil, nil, unexpected(EndpointRetrieve, "still more items after %d pages", maxPages)
}

func reportedPage(r *RetrieveResponse) *int {
	if r.Page != nil {
		return r.Page
	}
	return r.MassPayoutItems.Page
}

func unexpected(endpoint, format string, args ...any) *Error {
	return &Error{
		Endpoint:   endpoint,
		HTTPStatus: http.StatusOK,
		Sent:       true,
		Err:        fmt.Errorf("%w: %s", errUnexpectedAnswer, fmt.Sprintf(format, args...)),
	}
}

// RetrieveItem sends GET /v1/mass/payout/retrieve/items/{referenceCode} with no body. It is
// read-only and safe to repeat.
func (c *Client) RetrieveItem(ctx context.Context, referenceCode string) (*ItemResponse, error) {
	if err := checkID("referenceCode", referenceCode); err != nil {
		return nil, &Error{Endpoint: EndpointItem, Err: err}
	}
	var resp ItemResponse
	path := PathItemPrefix + url.PathEscape(referenceCode)
	decoded, err := c.call(ctx, EndpointItem, http.MethodGet, path, nil, &resp)
	return pick(&resp, decoded, err)
}

// Balance sends GET /v1/mass/payout/balance with no body and returns the merchant's mass payout
// balance. It is read-only and safe to repeat.
func (c *Client) Balance(ctx context.Context) (*BalanceResponse, error) {
	var resp BalanceResponse
	decoded, err := c.call(ctx, EndpointBalance, http.MethodGet, PathBalance, nil, &resp)
	return pick(&resp, decoded, err)
}

// checkID refuses a path segment that would address another resource: empty, "." or "..".
func checkID(name, id string) error {
	if id == "" || id == "." || id == ".." {
		return fmt.Errorf("%w: %s %q", ErrInvalidRequest, name, id)
	}
	return nil
}

// pick turns call's result into a method's: the answer is returned whenever it was decoded, even
// alongside an error.
func pick[T any](resp *T, decoded bool, err error) (*T, error) {
	if !decoded {
		return nil, err
	}
	return resp, err
}

// enveloped is every answer type: they all embed Response.
type enveloped interface{ Envelope() *Response }

// call makes one attempt: it waits on the limiter, then sends and decodes, and reports the
// attempt to Observe. decoded tells whether out holds an iyzico answer.
func (c *Client) call(ctx context.Context, endpoint, method, path string, body []byte, out enveloped) (decoded bool, err error) {
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return false, &Error{Endpoint: endpoint, Err: fmt.Errorf("%w: %w", ErrRateLimiter, err)}
		}
	}
	start := time.Now()
	status, decoded, err := c.send(ctx, endpoint, method, path, body, out)
	if c.observe != nil {
		code := "error"
		if status != 0 {
			code = strconv.Itoa(status)
		}
		c.observe(endpoint, code, time.Since(start))
	}
	return decoded, err
}

func (c *Client) send(parent context.Context, endpoint, method, path string, body []byte, out enveloped) (status int, decoded bool, _ error) {
	ctx, cancel := context.WithTimeout(parent, c.timeout)
	defer cancel()

	// sent is set from the transport's write loop; the transport waits for that loop before it
	// returns an error, so reading it after Do is not racy with respect to a failed write.
	var sent atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				sent.Store(true)
			}
		},
	})
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path+"?locale="+c.locale, rd)
	if err != nil {
		return 0, false, &Error{Endpoint: endpoint, Err: fmt.Errorf("%w: %v", ErrInvalidRequest, err)}
	}
	// Sign the path exactly as it goes on the wire (escaped, without the query).
	rnd := c.randomKey()
	h := req.Header
	h.Set("Authorization", Authorization(c.apiKey, c.secretKey, rnd, req.URL.EscapedPath(), body))
	h.Set("x-iyzi-rnd", rnd)
	h.Set("x-iyzi-client-version", c.clientVersion)
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json")

	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, false, &Error{Endpoint: endpoint, Sent: sent.Load(), Err: c.cause(parent, err)}
	}
	defer resp.Body.Close()

	e := &Error{
		Endpoint:   endpoint,
		HTTPStatus: resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		Sent:       true, // an answer arrived, so iyzico saw the request
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	switch {
	case err != nil:
		e.Err = fmt.Errorf("reading answer: %w", c.cause(parent, err))
		return resp.StatusCode, false, e
	case len(raw) > maxAnswerBytes:
		e.Err = fmt.Errorf("%w: answer longer than %d bytes", errUnexpectedAnswer, maxAnswerBytes)
		return resp.StatusCode, false, e
	}
	if err := json.Unmarshal(raw, out); err != nil {
		// Keep whatever the envelope says, for the error text.
		var env Response
		if json.Unmarshal(raw, &env) == nil {
			e.Code, e.Message, e.Group = env.ErrorCode, env.ErrorMessage, env.ErrorGroup
		}
		// The decoder's text may quote a piece of the body: keep it short.
		e.Err = fmt.Errorf("undecodable answer (%s, %d bytes): %s", mediaType(resp.Header), len(raw), printable(err.Error(), 200))
		return resp.StatusCode, false, e
	}
	env := out.Envelope()
	e.Code, e.Message, e.Group = env.ErrorCode, env.ErrorMessage, env.ErrorGroup
	switch {
	case env.Status == StatusSuccess && resp.StatusCode/100 == 2:
		return resp.StatusCode, true, nil
	case env.Status == StatusSuccess:
		e.Err = fmt.Errorf("%w: status success with HTTP %d", errUnexpectedAnswer, resp.StatusCode)
		return resp.StatusCode, true, e
	case env.Status == "" && env.ErrorCode == "":
		e.Err = fmt.Errorf("%w: no status (%s, %d bytes)", errUnexpectedAnswer, mediaType(resp.Header), len(raw))
		return resp.StatusCode, false, e
	}
	return resp.StatusCode, true, e
}

// cause unwraps the *url.Error that http.Client adds (its text repeats the URL) and says so when
// the client's own timeout, not the caller's context, ended the call.
func (c *Client) cause(parent context.Context, err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err
	}
	if parent.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no complete answer within %s: %w", c.timeout, err)
	}
	return err
}

func mediaType(h http.Header) string {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt == "" {
		return "no content type"
	}
	return mt
}
