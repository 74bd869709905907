// Package httpapi is masspayout's HTTP surface: the REST API for upstream payroll systems
// (/v1/batches and the dry run /v1/validations, described by the embedded openapi.yaml at
// /openapi.yaml), the batch dashboard at / (the upload page at /upload; with a schedule file, the
// scheduled runs at /schedules), asynqmon at /monitoring/, Prometheus metrics at /metrics and the
// /healthz and /readyz probes. NewHandler wires them; routes.go is the one
// registry of routes.
//
// Authentication: the API takes "Authorization: Bearer <token>" (API_TOKENS); the dashboard and
// asynqmon take HTTP basic auth, either the dashboard user (UI_USERNAME/UI_PASSWORD, role read) or
// an API token's name and token (that token's role). A caller's name is its identity in the audit
// list and for the four-eyes rule.
package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/schedule"
	"github.com/masspayout/masspayout/tasks"
	"github.com/rs/zerolog"
)

// Deps is what the HTTP surface uses. Log, Store, Queue and Auth are required; a nil Monitor or
// Metrics leaves /monitoring/ or /metrics out.
type Deps struct {
	Log         zerolog.Logger
	Store       *batch.Store
	Queue       batch.Enqueuer
	TaskOptions tasks.Options // defaults of the tasks approve and cancel enqueue
	Auth        *Auth
	Submit      SubmitOptions
	// FourEyes (APPROVAL_FOUR_EYES) refuses an approval by the batch's submitter.
	FourEyes bool
	// CheckBalance, when set, checks iyzico's balance before an approval and shows it on the
	// approval page.
	CheckBalance BalanceChecker
	// EmbeddedRedis says Redis is the in-memory development one: /readyz says "not persistent"
	// but ready.
	EmbeddedRedis bool
	Monitor       *Monitor
	Metrics       *Metrics
	// MetricsBatches bounds the batches one /metrics scrape reads from the ledger; default 1000.
	MetricsBatches int
	// CSRFKey signs the dashboard's form tokens (see LoadCSRFKey); empty: a random key for this
	// process only.
	CSRFKey []byte
	// Refresh is how often the dashboard reloads while a batch moves; default 5s.
	Refresh time.Duration
	// Locale (UI_LOCALE) is how the dashboard writes amounts: LocaleTR (the default,
	// 1.050.587.811,49 TL) or LocaleEN (1,050,587,811.49 TRY). Times are in Europe/Istanbul.
	Locale string
	// Schedules (SCHEDULE_FILE) and ScheduleRuns, both set, add the scheduled runs page
	// (/schedules, linked from the batch list): each schedule's next run and its last runs.
	// Either nil: no page.
	Schedules    *schedule.File
	ScheduleRuns ScheduleRuns
}

// NewHandler returns the HTTP handler of masspayout serve.
func NewHandler(d Deps) http.Handler {
	mux := http.NewServeMux()
	addRoutes(mux, d)
	return logRequests(d.Log, mux)
}

// logRequests gives each request an ID (X-Request-Id) and logs it when done: probes, metrics
// and static files at debug level, the rest at info. No header, query or body is logged.
func logRequests(log zerolog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var b [8]byte
		rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			ev := log.Info()
			switch p := r.URL.Path; {
			case p == "/healthz", p == "/readyz", p == "/metrics", strings.HasPrefix(p, "/static/"), strings.HasPrefix(p, MonitorPath+"/"):
				ev = log.Debug()
			}
			ev.Str("request_id", id).Str("method", r.Method).Str("path", r.URL.Path).Int("status", rec.status).
				Dur("duration", time.Since(start)).Msg("http request")
		}()
		h.ServeHTTP(rec, r)
	})
}

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer (flushes, deadlines).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// inspector returns an asynq Inspector over the store's Redis (not closed: it shares the client).
func inspector(store *batch.Store) *asynq.Inspector {
	return asynq.NewInspectorFromRedisClient(store.Redis())
}
