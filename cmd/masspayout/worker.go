package main

import (
	"context"
)

// cmdWorker runs the asynq workers until interrupted (SIGINT/SIGTERM), then shuts down, letting
// in-flight iyzico calls finish within the shutdown timeout.
func cmdWorker(ctx context.Context, e env) error {
	fs := newFlagSet(e, "worker", "worker")
	if _, err := parseInterleaved(fs, e.args); err != nil {
		return err
	}
	a, err := newApp(ctx, e, appNeeds{iyzico: true}, "worker")
	if err != nil {
		return err
	}
	defer a.close()
	stop, err := a.startWorkers()
	if err != nil {
		return err
	}
	a.log.Info().Int("concurrency", a.cfg.WorkerConcurrency).Msg("workers running")
	<-ctx.Done()
	a.log.Info().Msg("shutting down")
	stop()
	return nil
}
