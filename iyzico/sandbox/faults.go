package sandbox

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// Endpoint names, as used by Faults.Endpoints, FailNext and Stats.Requests.
const (
	EndpointInit     = "init"     // POST /v1/mass/payout/init
	EndpointAuth     = "auth"     // POST /v1/mass/payout/auth
	EndpointCancel   = "cancel"   // POST /v1/mass/payout/cancel/{requestId}
	EndpointRetrieve = "retrieve" // POST /v1/mass/payout/retrieve
	EndpointItem     = "item"     // GET /v1/mass/payout/retrieve/items/{referenceCode}
	EndpointBalance  = "balance"  // GET /v1/mass/payout/balance
)

// Endpoints lists every API endpoint name.
var Endpoints = []string{EndpointInit, EndpointAuth, EndpointCancel, EndpointRetrieve, EndpointItem, EndpointBalance}

// Faults configures injected faults. Each rate is a probability in [0, 1]; New and SetFaults
// clamp values outside it. The zero value injects nothing.
type Faults struct {
	// ServerErrorRate answers with a 5xx without doing anything: 500 with a JSON failure body,
	// 502 with an empty body or 503 with an HTML body, picked by the seeded draw.
	ServerErrorRate float64
	// RateLimitRate answers 429 with a Retry-After header and errorCode 50000 "Request Limit
	// Exceeded", without doing anything.
	RateLimitRate float64
	// RetryAfter is the Retry-After of a 429, sent in whole seconds rounded up (default 1s).
	RetryAfter time.Duration
	// LatencyRate delays the request by Latency before it is handled. The delay ends early when
	// the request's context is done, and then nothing is done or answered.
	LatencyRate float64
	// Latency is the added delay.
	Latency time.Duration
	// CommitThenDropRate handles the request fully (state changes are kept) and then closes the
	// connection without answering.
	CommitThenDropRate float64
	// Endpoints limits the random faults to these endpoint names (EndpointInit, …); empty means
	// every API endpoint.
	Endpoints []string
}

// faultsJSON is Faults on the wire of /sandbox/faults: durations as Go duration strings.
type faultsJSON struct {
	ServerErrorRate    float64  `json:"serverErrorRate"`
	RateLimitRate      float64  `json:"rateLimitRate"`
	RetryAfter         string   `json:"retryAfter,omitempty"`
	LatencyRate        float64  `json:"latencyRate"`
	Latency            string   `json:"latency,omitempty"`
	CommitThenDropRate float64  `json:"commitThenDropRate"`
	Endpoints          []string `json:"endpoints,omitempty"`
}

// MarshalJSON writes f with durations as Go duration strings ("1.5s").
func (f Faults) MarshalJSON() ([]byte, error) {
	j := faultsJSON{
		ServerErrorRate: f.ServerErrorRate, RateLimitRate: f.RateLimitRate, LatencyRate: f.LatencyRate,
		CommitThenDropRate: f.CommitThenDropRate, Endpoints: f.Endpoints,
	}
	if f.RetryAfter != 0 {
		j.RetryAfter = f.RetryAfter.String()
	}
	if f.Latency != 0 {
		j.Latency = f.Latency.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the form MarshalJSON writes; unknown fields are an error.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var j faultsJSON
	if err := strictUnmarshal(b, &j); err != nil {
		return err
	}
	out := Faults{
		ServerErrorRate: j.ServerErrorRate, RateLimitRate: j.RateLimitRate, LatencyRate: j.LatencyRate,
		CommitThenDropRate: j.CommitThenDropRate, Endpoints: j.Endpoints,
	}
	var err error
	if j.RetryAfter != "" {
		if out.RetryAfter, err = time.ParseDuration(j.RetryAfter); err != nil {
			return fmt.Errorf("retryAfter: %w", err)
		}
	}
	if j.Latency != "" {
		if out.Latency, err = time.ParseDuration(j.Latency); err != nil {
			return fmt.Errorf("latency: %w", err)
		}
	}
	*f = out
	return nil
}

// Validate reports the first problem of f: a rate outside [0, 1], a negative duration or an
// unknown endpoint name.
func (f Faults) Validate() error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"serverErrorRate", f.ServerErrorRate}, {"rateLimitRate", f.RateLimitRate}, {"latencyRate", f.LatencyRate}, {"commitThenDropRate", f.CommitThenDropRate}} {
		if math.IsNaN(r.v) || r.v < 0 || r.v > 1 {
			return fmt.Errorf("%s %v: want a probability between 0 and 1", r.name, r.v)
		}
	}
	if f.RetryAfter < 0 || f.Latency < 0 {
		return fmt.Errorf("retryAfter and latency must not be negative")
	}
	for _, e := range f.Endpoints {
		if !slices.Contains(Endpoints, e) {
			return fmt.Errorf("unknown endpoint %q: want one of %v", e, Endpoints)
		}
	}
	return nil
}

func (f Faults) clamped() Faults {
	c := func(v float64) float64 {
		if math.IsNaN(v) || v < 0 {
			return 0
		}
		return min(v, 1)
	}
	f.ServerErrorRate, f.RateLimitRate = c(f.ServerErrorRate), c(f.RateLimitRate)
	f.LatencyRate, f.CommitThenDropRate = c(f.LatencyRate), c(f.CommitThenDropRate)
	f.RetryAfter, f.Latency = max(f.RetryAfter, 0), max(f.Latency, 0)
	if f.RetryAfter == 0 {
		f.RetryAfter = time.Second
	}
	f.Endpoints = slices.Clone(f.Endpoints)
	return f
}

func (f *Faults) active() bool {
	return f.ServerErrorRate > 0 || f.RateLimitRate > 0 || f.LatencyRate > 0 || f.CommitThenDropRate > 0
}

func (f *Faults) applies(endpoint string) bool {
	return len(f.Endpoints) == 0 || slices.Contains(f.Endpoints, endpoint)
}

// FaultKind is one kind of injected fault.
type FaultKind int

// Fault kinds, for FailNext.
const (
	FaultServerError    FaultKind = iota + 1 // a 5xx, nothing done
	FaultRateLimit                           // a 429 with Retry-After, nothing done
	FaultLatency                             // Faults.Latency (or 1s when unset) of added delay
	FaultCommitThenDrop                      // handled fully, then the connection is closed
	// FaultRefuse answers a failure (Options.FailureStatus, errorCode CodeRefused) without doing
	// anything: a refusal whose code no client knows.
	FaultRefuse
	// FaultCommitThenRefuse handles the request fully (state changes are kept) and then answers
	// the FaultRefuse failure instead: a server that says no although it did it.
	FaultCommitThenRefuse
)

var faultNames = map[FaultKind]string{
	FaultServerError: "server_error", FaultRateLimit: "rate_limit",
	FaultLatency: "latency", FaultCommitThenDrop: "commit_then_drop",
	FaultRefuse: "refuse", FaultCommitThenRefuse: "commit_then_refuse",
}

// String returns the kind's name as Stats.Faults counts it.
func (k FaultKind) String() string {
	if n, ok := faultNames[k]; ok {
		return n
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// decision is what happens to one request.
type decision struct {
	latency    time.Duration // 0: none
	refuse     FaultKind     // FaultServerError, FaultRateLimit, FaultRefuse or 0
	variant    int           // which server error answer (0, 1, 2)
	drop       bool          // commit then drop
	lie        bool          // commit then refuse
	retryAfter time.Duration
}

// faultState decides faults. Its lock is never held while a request sleeps or is handled.
type faultState struct {
	mu     sync.Mutex
	seed   uint64
	f      Faults
	seen   map[[32]byte]uint32    // occurrences of each (endpoint, path, body) while faults are active
	queue  map[string][]FaultKind // FailNext, per endpoint ("" = any)
	queued uint64                 // queued server errors handed out, to vary their answer
}

func newFaultState(seed int64, f Faults) *faultState {
	return &faultState{seed: uint64(seed), f: f.clamped(), seen: map[[32]byte]uint32{}, queue: map[string][]FaultKind{}}
}

func (fs *faultState) set(f Faults) {
	fs.mu.Lock()
	fs.f = f.clamped()
	fs.mu.Unlock()
}

func (fs *faultState) get() Faults {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f := fs.f
	f.Endpoints = slices.Clone(f.Endpoints)
	return f
}

func (fs *faultState) failNext(endpoint string, kind FaultKind, n int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for range n {
		fs.queue[endpoint] = append(fs.queue[endpoint], kind)
	}
}

// decide returns the faults for one request. Queued faults (FailNext) come first, the
// endpoint's own queue before the any-endpoint queue. Otherwise, when random faults are active
// for the endpoint, the decision is a pure function of the seed, the endpoint, the path, the
// body and how many times that same (endpoint, path, body) was seen before: concurrent traffic
// cannot change which request gets which fault.
func (fs *faultState) decide(endpoint, path string, body []byte) decision {
	fs.mu.Lock()
	f := fs.f
	for _, key := range []string{endpoint, ""} {
		if q := fs.queue[key]; len(q) > 0 {
			kind := q[0]
			if len(q) == 1 {
				delete(fs.queue, key)
			} else {
				fs.queue[key] = q[1:]
			}
			d := decision{retryAfter: f.RetryAfter}
			switch kind {
			case FaultServerError:
				d.refuse, d.variant = kind, int(fs.queued%3)
				fs.queued++
			case FaultRateLimit, FaultRefuse:
				d.refuse = kind
			case FaultCommitThenRefuse:
				d.lie = true
			case FaultLatency:
				d.latency = f.Latency
				if d.latency == 0 {
					d.latency = time.Second
				}
			case FaultCommitThenDrop:
				d.drop = true
			}
			fs.mu.Unlock()
			return d
		}
	}
	fs.mu.Unlock()
	if !f.active() || !f.applies(endpoint) {
		return decision{}
	}

	h := sha256.New()
	h.Write([]byte(endpoint))
	h.Write([]byte{0})
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write(body)
	var key [32]byte
	h.Sum(key[:0])
	fs.mu.Lock()
	n := fs.seen[key]
	fs.seen[key] = n + 1
	fs.mu.Unlock()

	r := draws{state: fs.seed ^ binary.LittleEndian.Uint64(key[:8]) ^ (uint64(n)+1)*0x9e3779b97f4a7c15}
	uServer, uLimit, uLatency, uDrop, uVariant := r.next(), r.next(), r.next(), r.next(), r.next()
	d := decision{retryAfter: f.RetryAfter}
	switch {
	case uServer < f.ServerErrorRate:
		d.refuse, d.variant = FaultServerError, min(int(uVariant*3), 2)
	case uLimit < f.RateLimitRate:
		d.refuse = FaultRateLimit
	}
	if uLatency < f.LatencyRate {
		d.latency = f.Latency
	}
	d.drop = d.refuse == 0 && uDrop < f.CommitThenDropRate
	return d
}

// draws is a splitmix64 sequence of uniform numbers in [0, 1).
type draws struct{ state uint64 }

func (d *draws) next() float64 {
	d.state += 0x9e3779b97f4a7c15
	z := d.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}
