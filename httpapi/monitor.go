package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
)

// MonitorPath is where asynqmon is mounted.
const MonitorPath = "/monitoring"

// MonitorOptions configure NewMonitor.
type MonitorOptions struct {
	// Redis is the queue's Redis; asynqmon opens its own connections to it.
	Redis asynq.RedisConnOpt
	// ReadWrite (UI_READ_WRITE) lets admins run, delete and archive tasks; otherwise asynqmon is
	// read-only and answers every mutating call with 405.
	ReadWrite bool
	// PrometheusURL (PROMETHEUS_URL), when set, lets asynqmon chart queue metrics from Prometheus.
	PrometheusURL string
}

// Monitor is asynqmon, the asynq web UI, mounted at MonitorPath with masspayout's payload and
// result formatters. Close it when done.
type Monitor struct {
	h         *asynqmon.HTTPHandler
	readWrite bool
}

// NewMonitor returns asynqmon for o. Its payload formatter shows only batch, seq, phase, schedule
// and period: our payloads hold IDs only, and anything else is hidden rather than shown.
func NewMonitor(o MonitorOptions) *Monitor {
	h := asynqmon.New(asynqmon.Options{
		RootPath:          MonitorPath,
		RedisConnOpt:      o.Redis,
		PayloadFormatter:  asynqmon.PayloadFormatterFunc(formatPayload),
		ResultFormatter:   asynqmon.ResultFormatterFunc(formatResult),
		PrometheusAddress: o.PrometheusURL,
		ReadOnly:          !o.ReadWrite,
	})
	return &Monitor{h: h, readWrite: o.ReadWrite}
}

// ServeHTTP serves asynqmon.
func (m *Monitor) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.h.ServeHTTP(w, r) }

// Close closes asynqmon's Redis connections.
func (m *Monitor) Close() error { return m.h.Close() }

// shownPayloadFields are the payload fields asynqmon may show: IDs, never personal data.
var shownPayloadFields = map[string]bool{"batch": true, "seq": true, "phase": true, "schedule": true, "period": true}

// formatPayload shows a task payload's ID fields as "batch=B seq=7" and says how many other
// fields it hides. A payload that is not a JSON object is not shown at all.
func formatPayload(_ string, payload []byte) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		return fmt.Sprintf("(payload hidden: %d bytes, not a JSON object)", len(payload))
	}
	keys := make([]string, 0, len(m))
	hidden := 0
	for k := range m {
		if shownPayloadFields[k] {
			keys = append(keys, k)
		} else {
			hidden++
		}
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys)+1)
	for _, k := range keys {
		parts = append(parts, k+"="+scalar(m[k]))
	}
	if hidden > 0 {
		parts = append(parts, fmt.Sprintf("(%d more fields hidden)", hidden))
	}
	return strings.Join(parts, " ")
}

// scalar shows a JSON string or number; anything else is hidden.
func scalar(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&n) == nil {
		return n.String()
	}
	return "(hidden)"
}

// formatResult hides task results: handlers write none, and a result is no place to look for data.
func formatResult(_ string, result []byte) string {
	if len(result) == 0 {
		return ""
	}
	return fmt.Sprintf("(result hidden: %d bytes)", len(result))
}

// guardMonitor lets viewers through to asynqmon and keeps its mutating calls for admins when
// asynqmon is read-write (read-only asynqmon answers them with 405 itself). Cross-origin browser
// requests that would change something are refused.
func guardMonitor(m *Monitor) http.Handler {
	cop := http.NewCrossOriginProtection()
	return cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		safe := r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions
		if m.readWrite && !safe && !principalFrom(r.Context()).Role.Allows(RoleAdmin) {
			http.Error(w, "403 forbidden: changing tasks needs role admin", http.StatusForbidden)
			return
		}
		m.ServeHTTP(w, r)
	}))
}
