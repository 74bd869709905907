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
	pg := parsePages(schedules, newDisplay(d.Locale))
	c := newCSRF(d.CSRFKey)
	in := newIntake(d.Submit) // one bound on uploads for the API and the dashboard
	desk := uploadDesk{in: in, staged: newStagedUploads(2 * in.o.MaxUploadBytes), store: store}

	// REST API (Bearer tokens).
	mux.Handle("POST /v1/batches", au.api(RoleSubmit, handleBatchCreate(log, store, q, topts, in)))
	mux.Handle("POST /v1/validations", au.api(RoleSubmit, handleValidate(log, in)))
	mux.Handle("GET /v1/batches", au.api(RoleRead, handleBatchList(log, store)))
	mux.Handle("GET /v1/batches/{id}", au.api(RoleRead, handleBatchGet(log, store)))
	mux.Handle("GET /v1/batches/{id}/report", au.api(RoleRead, handleReport(log, store)))
	ap := approver{store: store, queue: q, d: d, fourEyes: d.FourEyes}
	mux.Handle("POST /v1/batches/{id}/approve", au.api(RoleApprove, handleApprove(log, ap)))
	mux.Handle("POST /v1/batches/{id}/cancel", au.api(RoleApprove, handleCancel(log, store, q, topts)))
	mux.Handle("POST /v1/batches/{id}/discard", au.api(RoleApprove, handleDiscard(log, store)))
	mux.Handle("POST /v1/batches/{id}/repay.csv", au.api(RoleSubmit, handleRepay(log, store, in)))
	mux.Handle("GET /v1/batches/{id}/repay.csv", au.api(RoleRead, handleRepayGet(log)))
	mux.Handle("GET "+OpenAPIPath, handleOpenAPI())

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
	mux.Handle("GET /batches/{id}/approve", au.browser(RoleApprove, handleApprovePage(log, pg, c, ap)))
	mux.Handle("POST /batches/{id}/approve", au.browser(RoleApprove, c.protect(handleApproveForm(log, pg, c, ap))))
	mux.Handle("POST /batches/{id}/cancel", au.browser(RoleApprove, c.protect(handleDashboardAction(log, pg, cancelForm(store, q, topts)))))
	mux.Handle("POST /batches/{id}/discard", au.browser(RoleApprove, c.protect(handleDashboardDiscard(log, store, pg))))
	mux.Handle("GET /batches/{id}/repay", au.browser(RoleSubmit, handleRepayPage(log, store, pg, c)))
	mux.Handle("POST /batches/{id}/repay", au.browser(RoleSubmit, c.cop.Handler(handleRepayForm(log, store, pg, c, in))))
	mux.Handle("GET /upload", au.browser(RoleSubmit, handleUploadPage(log, pg, c)))
	mux.Handle("POST /upload", au.browser(RoleSubmit, c.cop.Handler(handleUploadForm(log, pg, c, desk))))
	mux.Handle("GET /upload/{id}", au.browser(RoleSubmit, handleUploadResult(log, pg, c, desk)))
	mux.Handle("POST /upload/{id}/submit", au.browser(RoleSubmit, c.protect(handleUploadSubmit(log, pg, c, store, q, topts, desk))))
	if schedules {
		mux.Handle("GET /schedules", au.browser(RoleRead, handleDashboardSchedules(log, d.Schedules, d.ScheduleRuns, pg)))
	}
	mux.Handle("GET /static/", handleStatic())
	if d.Monitor != nil {
		mux.Handle(MonitorPath+"/", au.browser(RoleRead, guardMonitor(d.Monitor)))
	}
}
