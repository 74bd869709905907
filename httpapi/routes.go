package httpapi

import "net/http"

// router is what addRoutes registers on: *http.ServeMux, or a recorder in tests.
type router interface {
	Handle(pattern string, h http.Handler)
}

// addRoutes is the one registry of HTTP routes. Every route is in openapi.yaml.
func addRoutes(mux router, d Deps) {
	log, store, q, topts, au := d.Log, d.Store, d.Queue, d.TaskOptions, d.Auth
	schedules := d.Schedules != nil && d.ScheduleRuns != nil
	pg := parsePages(schedules)
	c := newCSRF(d.CSRFKey)

	// REST API (Bearer tokens).
	mux.Handle("POST /v1/batches", au.api(RoleSubmit, handleBatchCreate(log, store, q, topts, d.Submit)))
	mux.Handle("GET /v1/batches", au.api(RoleRead, handleBatchList(log, store)))
	mux.Handle("GET /v1/batches/{id}", au.api(RoleRead, handleBatchGet(log, store)))
	mux.Handle("GET /v1/batches/{id}/report", au.api(RoleRead, handleReport(log, store)))
	mux.Handle("POST /v1/batches/{id}/approve", au.api(RoleApprove, handleApprove(log, store, q, topts, d.FourEyes)))
	mux.Handle("POST /v1/batches/{id}/cancel", au.api(RoleApprove, handleCancel(log, store, q, topts)))
	mux.Handle("GET /openapi.yaml", handleOpenAPI())

	// Probes (no credentials) and metrics (Bearer or basic auth).
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(store.Redis(), d.EmbeddedRedis, au))
	if d.Metrics != nil {
		mux.Handle("GET /metrics", au.either(RoleRead, d.Metrics.Handler(&Gauges{Log: log, Store: store, Inspector: inspector(store), MaxBatches: d.MetricsBatches})))
	}

	// Dashboard and asynqmon (basic auth).
	mux.Handle("GET /{$}", au.browser(RoleRead, handleDashboardList(log, store, pg, d.Refresh)))
	mux.Handle("GET /batches/{id}", au.browser(RoleRead, handleDashboardBatch(log, store, pg, c, d.Refresh)))
	mux.Handle("GET /batches/{id}/report.csv", au.browser(RoleRead, handleReport(log, store)))
	mux.Handle("POST /batches/{id}/approve", au.browser(RoleApprove, c.protect(handleDashboardAction(log, pg, approveForm(store, q, topts, d.FourEyes)))))
	mux.Handle("POST /batches/{id}/cancel", au.browser(RoleApprove, c.protect(handleDashboardAction(log, pg, cancelForm(store, q, topts)))))
	if schedules {
		mux.Handle("GET /schedules", au.browser(RoleRead, handleDashboardSchedules(log, d.Schedules, d.ScheduleRuns, pg)))
	}
	mux.Handle("GET /static/", handleStatic())
	if d.Monitor != nil {
		mux.Handle(MonitorPath+"/", au.browser(RoleRead, guardMonitor(d.Monitor)))
	}
}
