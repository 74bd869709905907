package sandbox

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"github.com/shopspring/decimal"

	"github.com/masspayout/masspayout/iyzico"
)

// Default credentials, accepted when Options.Credentials is empty.
const (
	DefaultAPIKey    = "sandbox-masspayout-key"
	DefaultSecretKey = "sandbox-masspayout-secret"
)

// Paging placements for Options.Paging: where page, size and total go in retrieve answers.
const (
	PagingTop    = "top"    // top level, as iyzico's EN-retrieve example and TR schema
	PagingNested = "nested" // inside massPayoutItems, as the Java SDK's PageDto
	PagingBoth   = "both"   // both places (default)
)

// Defaults of Options.
const (
	DefaultMaxPageSize   = 100
	DefaultFailureStatus = http.StatusBadRequest
	// MerchantID is the merchantId every retrieve answer carries.
	MerchantID = 1
	// MaxBodyBytes is the largest request body read; a larger one is answered 413.
	MaxBodyBytes = 64 << 20
)

// DefaultInitialBalance is the balance a server starts with when Options.InitialBalance is zero.
var DefaultInitialBalance = decimal.New(100000000000, -2) // 1,000,000,000.00

// Options configure a Server. The zero value is a working sandbox with the default credentials.
type Options struct {
	// Credentials maps API keys to secret keys. Empty: {DefaultAPIKey: DefaultSecretKey}.
	// Every key acts for the same merchant: one balance, one set of payouts.
	Credentials map[string]string
	// Seed makes the random fault decisions reproducible (see Faults).
	Seed int64
	// Faults are the initial random faults; change them with SetFaults.
	Faults Faults
	// SettleDelay is the time from auth to the bank's answer (and again to the refund step).
	// 0: the final outcome is visible on the next read.
	SettleDelay time.Duration
	// Clock gives the time of systemTime and of settlement. Default time.Now.
	Clock func() time.Time
	// InitialBalance is the starting mass payout balance. Zero: DefaultInitialBalance (use
	// SetBalance for a zero balance).
	InitialBalance decimal.Decimal
	// MaxPageSize caps retrieve's size (larger requests get pages of this size). Default 100.
	MaxPageSize int
	// Paging is PagingTop, PagingNested or PagingBoth (default; also for any other value).
	Paging string
	// OmitRequestIDInRetrieve drops massPayoutRequestId from the items of retrieve answers, like
	// iyzico's documented examples.
	OmitRequestIDInRetrieve bool
	// OmitRequestIDInItem drops massPayoutRequestId from the retrieve item answer.
	OmitRequestIDInItem bool
	// FailureStatus is the HTTP status of business failures (status "failure" answers other than
	// authentication, rate limiting and injected server errors). Default 400; 200 is the other
	// plausible choice for iyzico.
	FailureStatus int
	// Dialect is how the sandbox answers where iyzico documents nothing (see Dialect). The zero
	// value is the sandbox's own choices.
	Dialect Dialect
	// Log receives one line per request. The zero Logger logs nothing.
	Log zerolog.Logger
}

// Server is the fake iyzico Mass Payout API: an http.Handler over in-memory state, safe for
// concurrent use. Create it with New.
type Server struct {
	creds         map[string]string
	clock         func() time.Time
	settleDelay   time.Duration
	maxPageSize   int
	pagingTop     bool
	pagingNested  bool
	omitIDInPage  bool
	omitIDInItem  bool
	failureStatus int
	dialect       Dialect // with defaults filled in
	log           zerolog.Logger
	faults        *faultState

	mu         sync.RWMutex
	byRequest  map[uuid.UUID]*payout
	byExternal map[string]*payout
	byRef      map[uuid.UUID]itemRef
	itemOwner  map[string]*payout  // first payout that committed each itemExternalId
	itemDups   map[string][]string // itemExternalId → externalIds, when more than one

	balMu   sync.Mutex
	balance decimal.Decimal

	pendMu  sync.Mutex
	pending map[*payout]struct{} // authorized, not final

	statsMu sync.Mutex
	stats   counters
}

// itemRef locates an item by its referenceCode.
type itemRef struct {
	p   *payout
	idx int32
}

// New returns a Server configured by opts.
func New(opts Options) *Server {
	s := &Server{
		creds:         map[string]string{},
		clock:         opts.Clock,
		settleDelay:   max(opts.SettleDelay, 0),
		maxPageSize:   opts.MaxPageSize,
		omitIDInPage:  opts.OmitRequestIDInRetrieve,
		omitIDInItem:  opts.OmitRequestIDInItem,
		failureStatus: opts.FailureStatus,
		log:           opts.Log,
		faults:        newFaultState(opts.Seed, opts.Faults),
		byRequest:     map[uuid.UUID]*payout{},
		byExternal:    map[string]*payout{},
		byRef:         map[uuid.UUID]itemRef{},
		itemOwner:     map[string]*payout{},
		itemDups:      map[string][]string{},
		balance:       opts.InitialBalance,
		pending:       map[*payout]struct{}{},
		stats:         newCounters(),
	}
	for k, v := range opts.Credentials {
		s.creds[k] = v
	}
	if len(s.creds) == 0 {
		s.creds[DefaultAPIKey] = DefaultSecretKey
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.maxPageSize <= 0 {
		s.maxPageSize = DefaultMaxPageSize
	}
	switch opts.Paging {
	case PagingTop:
		s.pagingTop = true
	case PagingNested:
		s.pagingNested = true
	default:
		s.pagingTop, s.pagingNested = true, true
	}
	if s.failureStatus == 0 {
		s.failureStatus = DefaultFailureStatus
	}
	s.dialect = opts.Dialect.withDefaults(s.failureStatus)
	if s.balance.IsZero() {
		s.balance = DefaultInitialBalance
	}
	return s
}

// SetFaults replaces the random faults from now on. Rates are clamped to [0, 1].
func (s *Server) SetFaults(f Faults) { s.faults.set(f) }

// CurrentFaults returns the random faults in force.
func (s *Server) CurrentFaults() Faults { return s.faults.get() }

// FailNext makes the next n requests to endpoint (an Endpoint* name; "" for any endpoint) fail
// with kind, ahead of and regardless of the random faults. Queued faults apply in order.
func (s *Server) FailNext(endpoint string, kind FaultKind, n int) {
	s.faults.failNext(endpoint, kind, n)
}

// SetBalance sets the mass payout balance.
func (s *Server) SetBalance(b decimal.Decimal) {
	s.balMu.Lock()
	s.balance = b
	s.balMu.Unlock()
}

// Balance returns the mass payout balance after settling whatever is due by the clock.
func (s *Server) Balance() decimal.Decimal {
	s.settleAll(s.clock())
	s.balMu.Lock()
	defer s.balMu.Unlock()
	return s.balance
}

// route is a matched endpoint.
type route struct {
	endpoint string // Endpoint* or one of the sandbox's own
	param    string // requestId of cancel, referenceCode of item
	methods  string // allowed methods, comma-separated
}

const (
	endpointStats  = "sandbox_stats"
	endpointFaults = "sandbox_faults"
)

func match(path string) (route, bool) {
	switch path {
	case iyzico.PathInit:
		return route{endpoint: EndpointInit, methods: http.MethodPost}, true
	case iyzico.PathAuth:
		return route{endpoint: EndpointAuth, methods: http.MethodPost}, true
	case iyzico.PathRetrieve:
		return route{endpoint: EndpointRetrieve, methods: http.MethodPost}, true
	case iyzico.PathBalance:
		return route{endpoint: EndpointBalance, methods: http.MethodGet}, true
	case "/sandbox/stats":
		return route{endpoint: endpointStats, methods: http.MethodGet}, true
	case "/sandbox/faults":
		return route{endpoint: endpointFaults, methods: http.MethodGet + ", " + http.MethodPost}, true
	}
	if id, ok := strings.CutPrefix(path, iyzico.PathCancelPrefix); ok && id != "" && !strings.Contains(id, "/") {
		return route{endpoint: EndpointCancel, param: id, methods: http.MethodPost}, true
	}
	if ref, ok := strings.CutPrefix(path, iyzico.PathItemPrefix); ok && ref != "" && !strings.Contains(ref, "/") {
		return route{endpoint: EndpointItem, param: ref, methods: http.MethodGet}, true
	}
	return route{}, false
}

// call is one request being handled.
type call struct {
	s              *Server
	r              *http.Request
	rt             route
	body           []byte
	now            time.Time
	locale         string
	localeFixed    bool // the query set the locale
	conversationID string

	// for the log line
	externalID string
	requestID  string
	outcome    string
}

// reqBase holds the fields every iyzico request may carry (the Java SDK's com.iyzipay.Request).
type reqBase struct {
	Locale         string `json:"locale"`
	ConversationID string `json:"conversationId"`
}

// use takes the locale (unless the query gave one) and conversationId from a decoded body.
func (c *call) use(b reqBase) {
	if !c.localeFixed && b.Locale != "" {
		c.locale = normLocale(b.Locale)
	}
	c.conversationID = b.ConversationID
}

// useLenient reads locale and conversationId from a body that may not be JSON at all.
func (c *call) useLenient() {
	var b reqBase
	if json.Unmarshal(c.body, &b) == nil {
		c.use(b)
	}
}

func normLocale(l string) string {
	if strings.EqualFold(l, "en") {
		return "en"
	}
	return "tr"
}

// ServeHTTP handles one request: route, read the body, authenticate, apply faults, handle,
// answer (or drop the connection), log.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	c := &call{s: s, r: r, now: s.clock(), locale: "tr"}
	if q, err := url.ParseQuery(r.URL.RawQuery); err == nil && q.Get("locale") != "" {
		c.locale, c.localeFixed = normLocale(q.Get("locale")), true
	}
	a, dropped := s.serve(w, c)
	if dropped {
		c.outcome += " dropped"
	} else if a.status != 0 {
		switch {
		case a.contentType != "":
			w.Header().Set("Content-Type", a.contentType)
		case len(a.body) > 0:
			w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		}
		w.WriteHeader(a.status)
		w.Write(a.body)
	}
	s.log.Info().
		Str("method", r.Method).
		Str("path", r.URL.Path).
		Str("external_id", c.externalID).
		Str("request_id", c.requestID).
		Str("outcome", c.outcome).
		Int("http_status", a.status).
		Dur("duration", time.Since(start)).
		Msg("sandbox request")
}

// serve returns the answer to write, or dropped when the connection was closed instead, or an
// answer with status 0 when something else was already written (or nothing must be).
func (s *Server) serve(w http.ResponseWriter, c *call) (a answer, dropped bool) {
	r := c.r
	rt, ok := match(r.URL.Path)
	if !ok {
		return c.failWith(http.StatusNotFound, "", &msgNoEndpoint), false
	}
	c.rt = rt
	if !strings.Contains(rt.methods, r.Method) {
		w.Header().Set("Allow", rt.methods)
		return c.failWith(http.StatusMethodNotAllowed, "", &msgMethodNotAllowed), false
	}
	body, err := readBody(r)
	if err != nil {
		c.outcome = "body unreadable"
		return answer{}, false
	}
	if len(body) > MaxBodyBytes {
		return c.failWith(http.StatusRequestEntityTooLarge, CodeInvalidRequest, &msgBodyTooLarge), false
	}
	c.body = body
	switch rt.endpoint {
	case endpointStats:
		return s.handleStats(c), false
	case endpointFaults:
		return s.handleFaults(c), false
	}
	s.count(func(k *counters) { k.requests[rt.endpoint]++ })

	if code, m := s.authenticate(r, body); code != "" {
		c.useLenient()
		s.count(func(k *counters) { k.authFailures++ })
		return c.failWith(http.StatusUnauthorized, code, m), false
	}

	d := s.faults.decide(rt.endpoint, r.URL.Path, body)
	if d.latency > 0 {
		s.count(func(k *counters) { k.faults[FaultLatency.String()]++ })
		t := time.NewTimer(d.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			c.outcome = "canceled during injected latency"
			return answer{}, false
		}
	}
	switch d.refuse {
	case FaultServerError:
		s.count(func(k *counters) { k.faults[FaultServerError.String()]++ })
		c.useLenient()
		return s.serverError(c, d.variant), false
	case FaultRateLimit:
		s.count(func(k *counters) { k.faults[FaultRateLimit.String()]++ })
		c.useLenient()
		w.Header().Set("Retry-After", strconv.FormatInt(int64((d.retryAfter+time.Second-1)/time.Second), 10))
		a := c.failWith(http.StatusTooManyRequests, iyzico.CodeRateLimited, &msgRateLimited)
		c.outcome = "fault rate_limit"
		return a, false
	case FaultRefuse:
		s.count(func(k *counters) { k.faults[FaultRefuse.String()]++ })
		c.useLenient()
		a := c.fail(CodeRefused, &msgRefused)
		c.outcome = "fault refuse"
		return a, false
	}

	switch rt.endpoint {
	case EndpointInit:
		a = s.handleInit(c)
	case EndpointAuth:
		a = s.handleAuth(c)
	case EndpointCancel:
		a = s.handleCancel(c)
	case EndpointRetrieve:
		a = s.handleRetrieve(c)
	case EndpointItem:
		a = s.handleItem(c)
	case EndpointBalance:
		a = s.handleBalance(c)
	}
	if d.drop {
		s.count(func(k *counters) { k.faults[FaultCommitThenDrop.String()]++; k.dropped++ })
		dropConnection(w)
		return a, true
	}
	if d.lie {
		s.count(func(k *counters) { k.faults[FaultCommitThenRefuse.String()]++ })
		a = c.fail(CodeRefused, &msgRefused)
		c.outcome = "fault commit_then_refuse"
	}
	return a, false
}

// readBody reads the whole body, up to MaxBodyBytes+1 bytes, in one allocation when the length
// is announced.
func readBody(r *http.Request) ([]byte, error) {
	if n := r.ContentLength; n >= 0 && n <= MaxBodyBytes {
		b := make([]byte, n)
		_, err := io.ReadFull(r.Body, b)
		return b, err
	}
	return io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
}

// serverError answers an injected server error: 500 with a JSON failure body, 502 with an empty
// body, or 503 with an HTML body.
func (s *Server) serverError(c *call, variant int) answer {
	switch variant {
	case 1:
		c.outcome = "fault server_error 502"
		return answer{status: http.StatusBadGateway}
	case 2:
		c.outcome = "fault server_error 503"
		return answer{
			status: http.StatusServiceUnavailable, contentType: "text/html",
			body: []byte("<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>\n"),
		}
	}
	a := c.failWith(http.StatusInternalServerError, "", &msgServerError)
	c.outcome = "fault server_error 500"
	return a
}

// dropConnection closes the client's connection without an answer. Where the connection cannot
// be hijacked (HTTP/2, httptest.ResponseRecorder) it panics with http.ErrAbortHandler, which
// net/http turns into an aborted response.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// authenticate checks the IYZWSv2 Authorization header over the raw body and the URL path
// (decoded, or as sent when that differs). It returns the failure code and message, or "" when
// the request is authentic.
func (s *Server) authenticate(r *http.Request, body []byte) (iyzico.Code, *msg) {
	h := r.Header.Get("Authorization")
	if strings.TrimSpace(h) == "" {
		return iyzico.CodeAuthHeaderRequired, &msgNoAuthHeader
	}
	cr, err := iyzico.ParseAuthorization(h)
	if err != nil {
		return iyzico.CodeInvalidSignature, &msgInvalidSignature
	}
	if cr.RandomKey == "" {
		return iyzico.CodeRandomRequired, &msgNoRandom
	}
	secret, ok := s.creds[cr.APIKey]
	if !ok {
		return iyzico.CodeCredentialsNotFound, &msgNoCredentials
	}
	got := []byte(strings.ToLower(cr.Signature))
	if subtle.ConstantTimeCompare([]byte(iyzico.Signature(secret, cr.RandomKey, r.URL.Path, body)), got) == 1 {
		return "", nil
	}
	// A path sent with escapes (%20, %2F) may have been signed as sent.
	if esc := r.URL.EscapedPath(); esc != r.URL.Path &&
		subtle.ConstantTimeCompare([]byte(iyzico.Signature(secret, cr.RandomKey, esc, body)), got) == 1 {
		return "", nil
	}
	return iyzico.CodeInvalidSignature, &msgInvalidSignature
}

// strictUnmarshal decodes exactly one JSON value, refusing unknown fields.
func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after JSON value")
	}
	return nil
}
