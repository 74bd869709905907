package main

import (
	"context"

	"github.com/masspayout/masspayout/httpapi"
)

// cmdWorker runs the asynq workers until interrupted (SIGINT/SIGTERM), then shuts down, letting
// in-flight iyzico calls finish within the shutdown timeout. It serves its own /metrics on
// METRICS_ADDR (empty: none).
func cmdWorker(ctx context.Context, e env) error {
	fs := newFlagSet(e, "worker", "worker")
	if _, err := parseInterleaved(fs, e.args); err != nil {
		return err
	}
	metrics := httpapi.NewMetrics()
	a, err := newApp(ctx, e, appNeeds{iyzico: true, observe: metrics.ObserveIyzico, onChunk: metrics.CountChunk}, "worker")
	if err != nil {
		return err
	}
	defer a.close()
	if a.cfg.MetricsAddr != "" {
		addr, stopMetrics, err := startHTTP(a.log, a.cfg.MetricsAddr, workerMetrics(metrics))
		if err != nil {
			// A second worker on one host finds the port taken: it works on, without metrics.
			a.log.Warn().Err(err).Str("addr", a.cfg.MetricsAddr).Msg("METRICS_ADDR cannot be served: running without /metrics; give each worker on a host its own METRICS_ADDR (or 127.0.0.1:0)")
		} else {
			defer stopMetrics()
			a.log.Info().Str("addr", addr).Msg("metrics on /metrics")
		}
	}
	stop, err := a.startWorkers(0)
	if err != nil {
		return err
	}
	a.log.Info().Int("concurrency", a.cfg.WorkerConcurrency).Msg("workers running")
	<-ctx.Done()
	a.log.Info().Msg("shutting down")
	stop()
	return nil
}
