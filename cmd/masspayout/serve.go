package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/masspayout/masspayout/config"
	"github.com/masspayout/masspayout/httpapi"
	"github.com/masspayout/masspayout/payoutfile"
	"github.com/masspayout/masspayout/schedule"
	"github.com/rs/zerolog"
)

// cmdServe runs the HTTP surface — the API, the batch dashboard, asynqmon at /monitoring/,
// /metrics and the probes — on HTTP_ADDR until interrupted, then shuts down gracefully. It prints
// "listening on http://ADDR" once bound and logs the API's OpenAPI document's address
// (http://ADDR/openapi.yaml). UI_LOCALE says how the dashboard writes amounts. With SCHEDULE_FILE set, the dashboard also shows the
// scheduled runs at /schedules (an invalid file stops it, exit 2).
//
// With REDIS_URL unset it is the all-in-one development server: an embedded Redis, the built-in
// iyzico sandbox (unless IYZICO_BASE_URL is set) and the workers in this process, so that
// "masspayout serve" alone gives a working dashboard. Credentials come from API_TOKENS and
// UI_USERNAME/UI_PASSWORD; with none at all, only the all-in-one server starts, open to everyone
// as "anonymous" with role admin, with a warning. With a shared Redis every token and UI_PASSWORD
// must have at least 16 characters and no CHANGE-ME placeholder (exit 2 otherwise).
//
// The HTTP server keeps to the limits of httpapi.ServerOptions: HTTP_MAX_CONNS connections,
// request headers within 10s, bodies at UPLOAD_MIN_RATE or faster, MAX_CONCURRENT_UPLOADS
// uploads at once.
func cmdServe(ctx context.Context, e env) error {
	fs := newFlagSet(e, "serve", "serve")
	args, err := parseInterleaved(fs, e.args)
	if err != nil {
		return err
	}
	if len(args) > 0 {
		fs.Usage()
		return usageErrorf("serve takes no arguments; configure it with environment variables (HTTP_ADDR, API_TOKENS, ...)")
	}
	metrics := httpapi.NewMetrics()
	a, err := newApp(ctx, e, appNeeds{embeddedRedisOK: true, observe: metrics.ObserveIyzico, onChunk: metrics.CountChunk}, "serve")
	if err != nil {
		return err
	}
	defer a.close()
	allInOne := a.cfg.EmbeddedRedis()
	if !allInOne {
		if err := checkCredentials(a.cfg.APITokens, a.cfg.UIPassword); err != nil {
			return withExit(exitUsage, err)
		}
	}
	auth, err := httpapi.NewAuth(httpapi.AuthOptions{
		Tokens: a.cfg.APITokens, UIUsername: a.cfg.UIUsername, UIPassword: a.cfg.UIPassword, Open: allInOne,
	})
	if errors.Is(err, httpapi.ErrNoCredentials) {
		return withExit(exitUsage, errors.New("serve has no credentials to check: set API_TOKENS (name:role:token,..., roles submit, approve, read, admin) and/or UI_USERNAME and UI_PASSWORD; only the all-in-one development server (REDIS_URL unset) runs without them"))
	}
	if err != nil {
		return withExit(exitUsage, fmt.Errorf("API_TOKENS, UI_USERNAME: %w", err))
	}
	if auth.Open() {
		a.log.Warn().Msg("no credentials configured (API_TOKENS, UI_USERNAME/UI_PASSWORD): this all-in-one development server lets everyone in as \"anonymous\" with role admin; do not expose it")
	}
	if allInOne {
		if err := a.connectIyzico(); err != nil {
			return err
		}
		stop, err := a.startWorkers(0)
		if err != nil {
			return err
		}
		defer stop()
		a.log.Info().Int("concurrency", a.cfg.WorkerConcurrency).Msg("all-in-one: workers running in this process")
	}
	// Approvals check iyzico's balance first, wherever iyzico is configured (the built-in sandbox
	// only in the all-in-one server).
	var checkBalance httpapi.BalanceChecker
	if allInOne || !a.cfg.BuiltinSandbox() {
		if a.iyzico == nil {
			if err := a.connectIyzico(); err != nil {
				return err
			}
		}
		checkBalance = a.pipeline().CheckBalance
	} else {
		a.log.Warn().Msg("IYZICO_BASE_URL is not set: approvals in the dashboard and the API are not checked against iyzico's balance")
	}
	csrfKey, err := httpapi.LoadCSRFKey(ctx, a.rdb)
	if err != nil {
		return err
	}
	// With SCHEDULE_FILE the dashboard shows the scheduled runs (read-only; the scheduler runs
	// them). An invalid file stops start-up, as it stops the scheduler's.
	var schedules *schedule.File
	var scheduleRuns httpapi.ScheduleRuns
	if a.cfg.ScheduleFile != "" {
		if schedules, err = schedule.Load(a.cfg.ScheduleFile); err != nil {
			return withExit(exitUsage, fmt.Errorf("SCHEDULE_FILE: %w", err))
		}
		scheduleRuns = schedule.NewHistory(a.rdb, schedule.DefaultHistoryLength)
	}
	monitor := httpapi.NewMonitor(httpapi.MonitorOptions{Redis: a.redisOpt, ReadWrite: a.cfg.UIReadWrite, PrometheusURL: a.cfg.PrometheusURL})
	defer monitor.Close()
	h := httpapi.NewHandler(httpapi.Deps{
		Log:         a.log,
		Store:       a.store,
		Queue:       a.queue,
		TaskOptions: a.taskOptions(),
		Auth:        auth,
		Submit: httpapi.SubmitOptions{
			MaxUploadBytes: a.cfg.MaxUploadBytes,
			ChunkSize:      a.cfg.ChunkSize,
			Currencies:     a.cfg.Currencies,
			Limits:         payoutfile.Options{MaxFileBytes: a.cfg.MaxFileBytes, MaxFieldBytes: a.cfg.MaxFieldBytes, MaxRows: a.cfg.MaxRows, MaxAmount: a.cfg.MaxItemAmount},
			AutoApprove:    a.cfg.AutoApprove(),
			Callbacks:      callbackPolicy(a.cfg),

			MaxConcurrentUploads: a.cfg.MaxConcurrentUploads,
		},
		FourEyes:      a.cfg.ApprovalFourEyes,
		CheckBalance:  checkBalance,
		EmbeddedRedis: allInOne,
		Monitor:       monitor,
		Metrics:       metrics,
		CSRFKey:       csrfKey,
		Schedules:     schedules,
		ScheduleRuns:  scheduleRuns,
		// The dashboard reloads as often as the workers look at iyzico, within 1s to 5s.
		Refresh: min(max(a.cfg.PollInterval, time.Second), 5*time.Second),
		Locale:  a.cfg.UILocale,
	})
	addr, limits, stopHTTP, err := serveHTTP(a.log, a.cfg.HTTPAddr, h, httpapi.ServerOptions{MaxConns: a.cfg.HTTPMaxConns, MinBodyRate: a.cfg.UploadMinRate})
	if err != nil {
		return fmt.Errorf("HTTP_ADDR %s: %w", a.cfg.HTTPAddr, err)
	}
	fmt.Fprintf(e.stdout, "listening on http://%s\n", addr)
	a.log.Info().Str("addr", addr).Bool("all_in_one", allInOne).Int("max_conns", limits.MaxConns).
		Int("max_concurrent_uploads", a.cfg.MaxConcurrentUploads).Int64("upload_min_rate", limits.MinBodyRate).
		Str("openapi", "http://"+addr+httpapi.OpenAPIPath).
		Msg("serving the API (described at " + httpapi.OpenAPIPath + "), the dashboard (/), asynqmon (/monitoring/) and /metrics")
	<-ctx.Done()
	a.log.Info().Msg("shutting down")
	stopHTTP()
	return nil
}

// workerMetrics is the worker's METRICS_ADDR handler: GET /metrics with the series of this
// process (chunk state changes, iyzico request durations, the Go runtime and the process), from
// the same httpapi.Metrics code as serve's /metrics but without the Redis gauges. It needs no
// credentials: it holds no amounts and no personal data, and METRICS_ADDR defaults to loopback.
func workerMetrics(m *httpapi.Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler(nil))
	return mux
}

// shutdownTimeout bounds a graceful HTTP shutdown: requests in flight (an upload being submitted,
// a report download) get this long to finish.
const shutdownTimeout = 30 * time.Second

// metricsMaxConns caps the connections of the worker's METRICS_ADDR listener: a scraper or two.
const metricsMaxConns = 64

// startHTTP serves h on addr in the background with the limits of httpapi.NewServer (at most
// metricsMaxConns connections): the worker's metrics listener. stop shuts the server down
// gracefully, waiting up to shutdownTimeout for requests in flight.
func startHTTP(log zerolog.Logger, addr string, h http.Handler) (bound string, stop func(), err error) {
	bound, _, stop, err = serveHTTP(log, addr, h, httpapi.ServerOptions{MaxConns: metricsMaxConns})
	return bound, stop, err
}

// serveHTTP serves h on addr in the background with httpapi.NewServer's limits o, and returns the
// bound address and the limits in force. stop shuts the server down gracefully, waiting up to
// shutdownTimeout for requests in flight.
func serveHTTP(log zerolog.Logger, addr string, h http.Handler, o httpapi.ServerOptions) (bound string, limits httpapi.ServerOptions, stop func(), err error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", limits, nil, err
	}
	o.Log = log
	srv := httpapi.NewServer(h, o)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Str("addr", l.Addr().String()).Msg("HTTP server stopped")
		}
	}()
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			log.Warn().Err(err).Msg("HTTP shutdown cut requests short")
			srv.Close()
		}
		<-done
	}
	return l.Addr().String(), srv.Options(), stop, nil
}

// minSecretLen is the shortest API token or UI_PASSWORD that serve accepts with a shared Redis.
const minSecretLen = 16

// checkCredentials refuses API tokens and a UI_PASSWORD that are shorter than minSecretLen
// characters or still hold a CHANGE-ME placeholder (in any case). The error names every
// offending variable (and token name), never a value.
func checkCredentials(tokens []config.Token, uiPassword config.Secret) error {
	weak := func(s string) string {
		switch {
		case strings.Contains(strings.ToUpper(s), "CHANGE-ME"):
			return "is still a CHANGE-ME placeholder"
		case utf8.RuneCountInString(s) < minSecretLen:
			return fmt.Sprintf("is shorter than %d characters", minSecretLen)
		}
		return ""
	}
	const fix = "generate one with: openssl rand -hex 32"
	var errs []error
	for i, t := range tokens {
		if p := weak(t.Token.Reveal()); p != "" {
			errs = append(errs, fmt.Errorf("API_TOKENS entry %d (%s): the token %s; give every token at least %d random characters (%s)", i+1, t.Name, p, minSecretLen, fix))
		}
	}
	if uiPassword != "" {
		if p := weak(uiPassword.Reveal()); p != "" {
			errs = append(errs, fmt.Errorf("UI_PASSWORD: the password %s; give it at least %d random characters (%s)", p, minSecretLen, fix))
		}
	}
	return errors.Join(errs...)
}
