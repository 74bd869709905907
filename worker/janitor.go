package worker

import (
	"context"
	"errors"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/tasks"
)

// Janitor repairs what a lost task leaves behind, for every batch that is not final: a chunk
// without the task its state needs gets it again (init, auth, cancel, poll), an UNKNOWN chunk is
// reconciled with growing waits, a batch whose phase is done gets its finalize, and a submission
// whose submitter is gone before it stored anything is retired (SUBMIT_FAILED). It runs as the
// periodic task janitor:sweep, one per period for the whole deployment however many workers run.
type Janitor struct {
	Pipeline *Pipeline
	// Interval between sweeps (default 1m).
	Interval time.Duration
	// Idle: a chunk changed more recently than this is left to its step (default 1m).
	Idle time.Duration
	// SubmitStale: a submission silent for this long, with nothing stored, has lost its submitter
	// (default 15m).
	SubmitStale time.Duration
	// ReconcileWait is the wait before the n-th reconcile of an UNKNOWN chunk (default: 1m doubling
	// up to 1h).
	ReconcileWait func(n int) time.Duration
}

func (j *Janitor) interval() time.Duration {
	if j.Interval > 0 {
		return j.Interval
	}
	return time.Minute
}

func (j *Janitor) idle() time.Duration {
	if j.Idle > 0 {
		return j.Idle
	}
	return time.Minute
}

func (j *Janitor) reconcileWait(n int) time.Duration {
	if j.ReconcileWait != nil {
		return j.ReconcileWait(n)
	}
	d := time.Minute
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// Handler is the janitor:sweep handler.
func (j *Janitor) Handler() asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error { return j.Sweep(ctx) }
}

// Sweep makes one pass over every batch that is not final (see Janitor).
func (j *Janitor) Sweep(ctx context.Context) error {
	p := j.Pipeline
	ids, err := p.Store.Active(ctx)
	if err != nil {
		return err
	}
	var first error
	for _, id := range ids {
		if err := j.sweepBatch(ctx, id); err != nil {
			p.Log.Warn().Err(err).Str("batch", id).Msg("janitor could not sweep the batch")
			if first == nil {
				first = err
			}
		}
	}
	return first
}

func (j *Janitor) sweepBatch(ctx context.Context, id string) error {
	p := j.Pipeline
	log := p.Log.With().Str("batch", id).Logger()
	b, err := p.Store.Get(ctx, id)
	if errors.Is(err, batch.ErrNotFound) {
		return p.Store.Deactivate(ctx, id) // its ledger expired
	}
	if err != nil {
		return err
	}
	if b.Final && b.Status == b.FinalAs && (b.Options.CallbackURL == "" || b.CallbackDelivered) {
		return p.Store.Deactivate(ctx, id) // left active by a finalize that stopped half-way
	}
	if !b.SubmitDone {
		if b.ChunksSeen == 0 && !b.SubmitFailed && p.now().Sub(b.Updated) > j.submitStale() {
			log.Warn().Time("updated", b.Updated).Msg("submission silent with nothing stored: retiring it as SUBMIT_FAILED")
			return p.Store.MarkSubmitFailed(ctx, id, "the submitter stopped before anything was stored; nothing was sent")
		}
		if b.ChunksSeen == 0 {
			return nil
		}
	}
	n, unknown, err := p.Store.EnsureSteps(ctx, id, p.Queue, p.TaskOptions, j.idle())
	if err != nil {
		return err
	}
	if n > 0 {
		log.Warn().Int("tasks", n).Msg("janitor re-created lost step tasks")
	}
	for _, seq := range unknown {
		ref := tasks.Chunk{Batch: id, Seq: seq}
		k, due, err := p.Store.NextReconcile(ctx, ref, j.reconcileWait)
		if err != nil {
			return err
		}
		if due {
			if err := batch.Enqueue(ctx, p.Queue, tasks.NewReconcileTask(ref, k, 0, p.TaskOptions)); err != nil {
				return err
			}
		}
	}
	due := b.ReportStatus != b.Status || (batch.FinalStatus(b.Status) && !b.Final) ||
		(b.Final && b.Options.CallbackURL != "" && !b.CallbackDelivered)
	if due && b.SubmitDone && (b.Progress().Quiet() || b.Progress().InitPhaseDone()) {
		return p.Store.EnqueueFinalize(ctx, p.Queue, p.TaskOptions, id, b.Progress())
	}
	return nil
}

func (j *Janitor) submitStale() time.Duration {
	if j.SubmitStale > 0 {
		return j.SubmitStale
	}
	return 15 * time.Minute
}

// Run enqueues one janitor:sweep task per interval until ctx ends. Every worker process runs it;
// the task's ID names the period, so the deployment sweeps once per period.
func (j *Janitor) Run(ctx context.Context) {
	iv := j.interval()
	o := j.Pipeline.TaskOptions
	o.Retention = 2 * iv // keeps the period's ID taken against the other processes
	o.MaxRetry = 0
	tick := time.NewTicker(iv)
	defer tick.Stop()
	for {
		period := time.Now().Truncate(iv).Unix()
		if err := batch.Enqueue(ctx, j.Pipeline.Queue, tasks.NewJanitorTask(period, o)); err != nil && ctx.Err() == nil {
			j.Pipeline.Log.Warn().Err(err).Msg("could not enqueue the janitor's sweep")
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
