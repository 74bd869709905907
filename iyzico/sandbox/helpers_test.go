package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/masspayout/masspayout/iyzico"
)

// fakeClock is a settable clock for Options.Clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 30, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// harness drives a Server in process through ServeHTTP, or over loopback HTTP when hs is set.
type harness struct {
	t     *testing.T
	s     *Server
	hs    *httptest.Server
	clock *fakeClock
	seq   atomic.Int64
}

// setup returns a harness over New(opts) with a fake clock (unless opts has a clock).
func setup(t *testing.T, opts Options) *harness {
	t.Helper()
	h := &harness{t: t}
	if opts.Clock == nil {
		h.clock = newFakeClock()
		opts.Clock = h.clock.Now
	}
	h.s = New(opts)
	return h
}

// setupHTTP is setup with the Server behind an httptest.Server: requests go over loopback HTTP.
func setupHTTP(t *testing.T, opts Options) *harness {
	t.Helper()
	h := setup(t, opts)
	h.hs = httptest.NewServer(h.s)
	t.Cleanup(h.hs.Close)
	return h
}

// reply is a recorded answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// decode unmarshals the body into v, failing the test on error.
func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// fields returns the body as a generic object, numbers kept as json.Number.
func (r reply) fields(t *testing.T) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return m
}

// envelope decodes the common part of the answer.
func (r reply) envelope(t *testing.T) iyzico.Response {
	t.Helper()
	var e iyzico.Response
	r.decode(t, &e)
	return e
}

// wantFailure fails the test unless the answer is a failure with status and code.
func (r reply) wantFailure(t *testing.T, status int, code iyzico.Code) {
	t.Helper()
	e := r.envelope(t)
	if r.status != status || e.Status != iyzico.StatusFailure || e.ErrorCode != code {
		t.Fatalf("answer %d %s, want %d failure %s", r.status, r.body, status, code)
	}
	if e.ErrorMessage == "" {
		t.Errorf("failure without errorMessage: %s", r.body)
	}
}

// wantSuccess fails the test unless the answer is a 200 success.
func (r reply) wantSuccess(t *testing.T) {
	t.Helper()
	e := r.envelope(t)
	if r.status != http.StatusOK || e.Status != iyzico.StatusSuccess {
		t.Fatalf("answer %d %s, want 200 success", r.status, r.body)
	}
}

// raw sends a request with the given Authorization header value ("" for none).
func (h *harness) raw(method, target, auth string, body []byte) reply {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hdr := http.Header{"Content-Type": {"application/json"}}
	if auth != "" {
		hdr.Set("Authorization", auth)
	}
	if h.hs != nil {
		req, err := http.NewRequestWithContext(h.t.Context(), method, h.hs.URL+target, rd)
		if err != nil {
			h.t.Fatal(err)
		}
		req.Header = hdr
		resp, err := h.hs.Client().Do(req)
		if err != nil {
			h.t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			h.t.Fatal(err)
		}
		return reply{status: resp.StatusCode, header: resp.Header, body: b}
	}
	req := httptest.NewRequest(method, target, rd)
	req.Header = hdr
	rec := httptest.NewRecorder()
	h.s.ServeHTTP(rec, req)
	return reply{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// send signs body for target's path with the default credentials and sends it.
func (h *harness) send(method, target string, body []byte) reply {
	h.t.Helper()
	path, _, _ := strings.Cut(target, "?")
	auth := iyzico.Authorization(DefaultAPIKey, DefaultSecretKey, fmt.Sprintf("rnd-%d", h.seq.Add(1)), path, body)
	return h.raw(method, target, auth, body)
}

// post marshals v (or sends it as is when it is a string or []byte) to path with POST.
func (h *harness) post(path string, v any) reply {
	h.t.Helper()
	return h.send(http.MethodPost, path, bodyOf(h.t, v))
}

func (h *harness) get(path string) reply {
	h.t.Helper()
	return h.send(http.MethodGet, path, nil)
}

func bodyOf(t testing.TB, v any) []byte {
	t.Helper()
	switch v := v.(type) {
	case string:
		return []byte(v)
	case []byte:
		return v
	case nil:
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// init initializes a payout and returns its answer, failing unless it succeeded.
func (h *harness) init(req iyzico.InitRequest) iyzico.InitResponse {
	h.t.Helper()
	r := h.post(iyzico.PathInit, req)
	r.wantSuccess(h.t)
	var out iyzico.InitResponse
	r.decode(h.t, &out)
	if out.RequestID == "" {
		h.t.Fatalf("init answer without requestId: %s", r.body)
	}
	return out
}

func (h *harness) auth(requestID string) reply {
	h.t.Helper()
	return h.post(iyzico.PathAuth, iyzico.AuthRequest{RequestID: requestID})
}

// retrieve returns every item of a payout (itemType as given) in one page.
func (h *harness) retrieve(req iyzico.RetrieveRequest) iyzico.RetrieveResponse {
	h.t.Helper()
	if req.Size == 0 {
		req.Size = 100
	}
	r := h.post(iyzico.PathRetrieve, req)
	r.wantSuccess(h.t)
	var out iyzico.RetrieveResponse
	r.decode(h.t, &out)
	return out
}

func (h *harness) balance() decimal.Decimal {
	h.t.Helper()
	r := h.get(iyzico.PathBalance)
	r.wantSuccess(h.t)
	var out iyzico.BalanceResponse
	r.decode(h.t, &out)
	return out.Balance
}

// statuses maps itemExternalId to itemStatus.
func statuses(r iyzico.RetrieveResponse) map[string]string {
	m := map[string]string{}
	for _, it := range r.MassPayoutItems.Items {
		m[it.ItemExternalID] = it.ItemStatus
	}
	return m
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// Valid recipients for tests.
const (
	testIBAN  = "TR330006100519786457841326"
	testIBAN2 = "TR920086402100005482986178"
	testTCKN  = "10000000146"
	testPhone = "+905551234567"
)

func ibanItem(id, amount string) iyzico.Item {
	return iyzico.Item{
		ItemExternalID: id, RecipientType: iyzico.RecipientIBAN, RecipientInfo: testIBAN,
		RecipientName: "Ayşe Yılmaz", Description: "maaş", Amount: iyzico.Amount{Value: dec(amount), Currency: "TRY"},
	}
}

func initReq(ext string, items ...iyzico.Item) iyzico.InitRequest {
	return iyzico.InitRequest{ExternalID: ext, ConversationID: "conv-" + ext, Purpose: "SALARY", Items: items}
}
