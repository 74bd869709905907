package worker

import (
	"context"
	"errors"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/tasks"
)

// NewServeMux is the one registry of task handlers. j may be nil (no janitor sweeps here).
func NewServeMux(p *Pipeline, f *Finalizer, j *Janitor, extra map[string]asynq.Handler) *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.Handle(tasks.TypeInit, HandleInit(p))
	mux.Handle(tasks.TypeAuth, HandleAuth(p))
	mux.Handle(tasks.TypePoll, HandlePoll(p))
	mux.Handle(tasks.TypeCancel, HandleCancel(p))
	mux.Handle(tasks.TypeReconcile, HandleReconcile(p))
	mux.Handle(tasks.TypeFinalize, HandleFinalize(f))
	if j != nil {
		mux.Handle(tasks.TypeJanitor, j.Handler())
	}
	for typ, h := range extra {
		mux.Handle(typ, h)
	}
	return mux
}

// MaxRetry is asynq's retry limit for chunk tasks: effectively unlimited. A chunk step keeps its
// own budget in the ledger (Pipeline.Budget) and records UNKNOWN when it is spent, so no task is
// archived with its chunk unrecorded.
const MaxRetry = 1 << 20

// ServerConfig returns the asynq server configuration of a worker process: the retry policy,
// IsFailure, the error log, and a ShutdownTimeout above the longest step, so an in-flight step
// finishes before its task is requeued (and a requeued one finds the chunk claimed).
func ServerConfig(p *Pipeline, concurrency int, retry RetryPolicy) asynq.Config {
	return asynq.Config{
		Concurrency:     concurrency,
		RetryDelayFunc:  retry.Delay,
		IsFailure:       IsFailure,
		ErrorHandler:    ErrorHandler(p),
		ShutdownTimeout: p.StepDeadline() + 5*time.Second,
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

// ErrorHandler logs every failed attempt of a task (the chunk steps log their own failures with
// the chunk's fields; this line carries the task's).
func ErrorHandler(p *Pipeline) asynq.ErrorHandler {
	return asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
		retried, _ := asynq.GetRetryCount(ctx)
		taskID, _ := asynq.GetTaskID(ctx)
		ev := p.Log.Debug()
		if errors.Is(err, asynq.SkipRetry) {
			ev = p.Log.Warn()
		}
		ev.Err(err).Str("task_id", taskID).Str("type", t.Type()).Int("attempt", retried+1).Bool("counted", IsFailure(err)).Msg("task attempt failed")
	})
}
