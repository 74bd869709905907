package main

import (
	"context"
	"fmt"

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
			return fmt.Errorf("METRICS_ADDR %s: %w", a.cfg.MetricsAddr, err)
		}
		defer stopMetrics()
		a.log.Info().Str("addr", addr).Msg("metrics on /metrics")
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
