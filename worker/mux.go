package worker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/tasks"
)

// NewServeMux is the one registry of task handlers.
func NewServeMux(p *Pipeline, f *Finalizer, extra map[string]asynq.Handler) *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.Handle(tasks.TypeInit, HandleInit(p))
	mux.Handle(tasks.TypeAuth, HandleAuth(p))
	mux.Handle(tasks.TypePoll, HandlePoll(p))
	mux.Handle(tasks.TypeCancel, HandleCancel(p))
	mux.Handle(tasks.TypeFinalize, HandleFinalize(f))
	for typ, h := range extra {
		mux.Handle(typ, h)
	}
	return mux
}

// ServerConfig returns the asynq server configuration of a worker process: the retry policy,
// IsFailure, the exhaustion handler, and a ShutdownTimeout above one iyzico call so an in-flight
// call can finish before its task is requeued.
func ServerConfig(p *Pipeline, concurrency int, retry RetryPolicy, iyzicoTimeout time.Duration) asynq.Config {
	return asynq.Config{
		Concurrency:     concurrency,
		RetryDelayFunc:  retry.Delay,
		IsFailure:       IsFailure,
		ErrorHandler:    ErrorHandler(p),
		ShutdownTimeout: iyzicoTimeout + 5*time.Second,
		Logger:          asynqLogger{p.Log},
		LogLevel:        asynq.WarnLevel,
		Queues:          map[string]int{tasks.DefaultQueue: 1},
		// Retries and polls are scheduled tasks; check for due ones every second, not every 5s.
		DelayedTaskCheckInterval: time.Second,
		// An idle worker looks for new tasks every ~200ms (asynq's default is ~1s), so a chunk
		// enqueued by a running submit or a finalize task does not wait.
		TaskCheckInterval: 200 * time.Millisecond,
	}
}

// ErrorHandler logs every failed attempt and, when a chunk task has used up its retries without a
// confirmed answer, marks the chunk UNKNOWN (logged at error level) so that the batch still
// finishes and reconcile can resolve it later.
func ErrorHandler(p *Pipeline) asynq.ErrorHandler {
	return asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
		retried, _ := asynq.GetRetryCount(ctx)
		maxRetry, _ := asynq.GetMaxRetry(ctx)
		taskID, _ := asynq.GetTaskID(ctx)
		log := p.Log.With().Str("task_id", taskID).Int("attempt", retried+1).Logger()
		if errors.Is(err, asynq.SkipRetry) {
			log.Warn().Err(err).Msg("task failed permanently")
			return
		}
		if retried < maxRetry {
			log.Warn().Err(err).Bool("counted", IsFailure(err)).Msg("task failed; will retry")
			return
		}
		var from []string
		switch t.Type() {
		case tasks.TypeInit:
			from = []string{batch.ChunkPending}
		case tasks.TypeAuth, tasks.TypeCancel:
			from = []string{batch.ChunkInit}
		case tasks.TypePoll:
			from = []string{batch.ChunkAuthorized}
		default:
			log.Error().Err(err).Str("type", t.Type()).Msg("task retries exhausted")
			return
		}
		ref, derr := tasks.Decode[tasks.Chunk](t)
		if derr != nil {
			log.Error().Err(derr).Msg("task retries exhausted")
			return
		}
		ctx = context.WithoutCancel(ctx)
		reason := fmt.Sprintf("no confirmed answer after %d attempts: %v", retried+1, err)
		if uerr := p.MarkUnknown(ctx, ref, from, reason); uerr != nil {
			log.Error().Err(uerr).Msg("could not mark the chunk UNKNOWN")
		}
		clog := p.chunkLog(ref)
		clog.Error().Err(err).Str("task_id", taskID).Str("type", t.Type()).Str("status", batch.ChunkUnknown).
			Msg("retries exhausted; chunk is UNKNOWN until reconcile resolves it")
	})
}

// MarkUnknown moves a chunk that is still in one of the from states to UNKNOWN: items without a
// final status become UNKNOWN with reason. Then the batch's finalize task is enqueued if due.
func (p *Pipeline) MarkUnknown(ctx context.Context, ref tasks.Chunk, from []string, reason string) error {
	for range 5 {
		c, err := p.Store.GetChunk(ctx, ref.Batch, ref.Seq)
		if err != nil {
			return err
		}
		if !slices.Contains(from, c.State) {
			return nil
		}
		out := make([]batch.Outcome, len(c.Rows))
		for i, st := range c.Statuses() {
			if i < len(c.Outcomes) {
				out[i] = c.Outcomes[i]
			}
			if !iyzico.ItemFinal(st) {
				out[i] = batch.Outcome{Status: batch.RowUnknown, Message: reason, Ref: out[i].Ref}
			}
		}
		_, err = p.apply(ctx, c, batch.Change{State: batch.ChunkUnknown, Outcomes: out, LastError: reason})
		if errors.Is(err, errChangedConcurrently) {
			continue
		}
		if err != nil {
			return err
		}
		return p.finalizeIfDue(ctx, ref.Batch)
	}
	return fmt.Errorf("chunk %s: %w", tasks.ChunkExternalID(ref.Batch, ref.Seq), errChangedConcurrently)
}
