package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/tasks"
	"github.com/rs/zerolog"
)

// Iyzico is what the handlers need from the iyzico client; *iyzico.Client implements it.
type Iyzico interface {
	InitRaw(ctx context.Context, body []byte) (*iyzico.InitResponse, error)
	Auth(ctx context.Context, requestID string) (*iyzico.AuthResponse, error)
	Cancel(ctx context.Context, requestID string) (*iyzico.AuthResponse, error)
	Retrieve(ctx context.Context, req iyzico.RetrieveRequest) (*iyzico.RetrieveResponse, error)
	RetrieveAll(ctx context.Context, req iyzico.RetrieveRequest) (*iyzico.MassPayoutSummary, []iyzico.ItemDetail, error)
	RetrieveItem(ctx context.Context, referenceCode string) (*iyzico.ItemResponse, error)
	Balance(ctx context.Context) (*iyzico.BalanceResponse, error)
}

// Pipeline carries what the chunk steps share: the ledger, iyzico, the queue, task defaults and
// the limits of a step.
type Pipeline struct {
	Log         zerolog.Logger
	Store       *batch.Store
	Iyzico      Iyzico
	Queue       batch.Enqueuer
	TaskOptions tasks.Options
	PageSize    int // retrieve page size; default 100

	// Budget is how many failed attempts one step of a chunk may make before the chunk is UNKNOWN
	// (MAX_RETRY; 429s and limiter waits do not count). Default 25.
	Budget int
	// CallTimeout bounds one iyzico call (IYZICO_TIMEOUT): a claim outlives the step's deadline by
	// this much, so that iyzico finishes any request the step gave up on before another execution
	// may act. Default 30s.
	CallTimeout time.Duration
	// StepTimeout bounds one step: its read-back, its call and their limiter waits. Default
	// 4·CallTimeout.
	StepTimeout time.Duration

	PollInterval    time.Duration // first retrieve after auth (POLL_INTERVAL), doubling ...
	PollMaxInterval time.Duration // ... up to POLL_MAX_INTERVAL
	PollFor         time.Duration // after POLL_FOR without the bank's final answers the chunk is UNKNOWN
	Now             func() time.Time
	// OnChunk, when set, is called with a chunk's new state after each recorded state change
	// (the masspayout_chunks_total{outcome} metric).
	OnChunk func(state string)
}

func (p *Pipeline) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Pipeline) budget() int {
	if p.Budget > 0 {
		return p.Budget
	}
	return 25
}

func (p *Pipeline) callTimeout() time.Duration {
	if p.CallTimeout > 0 {
		return p.CallTimeout
	}
	return iyzico.DefaultTimeout
}

// StepDeadline is how long one step may run: StepTimeout, or 4·CallTimeout.
func (p *Pipeline) StepDeadline() time.Duration {
	if p.StepTimeout > 0 {
		return p.StepTimeout
	}
	return 4 * p.callTimeout()
}

// ClaimTTL is how long a step's claim lasts: the step's deadline plus one call's time, so that a
// request iyzico is still working on when the step gives up ends before the claim does.
func (p *Pipeline) ClaimTTL() time.Duration { return p.StepDeadline() + p.callTimeout() }

func (p *Pipeline) chunkLog(c tasks.Chunk) zerolog.Logger {
	return p.Log.With().Str("batch", c.Batch).Str("chunk", tasks.ChunkExternalID(c.Batch, c.Seq)).Logger()
}

// step is one claimed execution of a step on a chunk.
type step struct {
	p   *Pipeline
	cl  *batch.Claim
	c   *batch.Chunk
	log zerolog.Logger
}

// runStep is the shape of every step that calls iyzico: claim the chunk (in one of states, and
// approved when needApproval) → do, which reads back when an earlier attempt may have reached
// iyzico, calls, and commits under the claim. do runs with a deadline that ends before the claim
// can expire. A chunk in another state, or awaiting approval, is not this step's business: the
// task ends. A chunk claimed by another execution is retried once that claim can have expired.
func (p *Pipeline) runStep(ctx context.Context, ref tasks.Chunk, name string, states []string, needApproval bool, do func(context.Context, *step) error) error {
	log := p.chunkLog(ref).With().Str("step", name).Logger()
	start := time.Now()
	cl, err := p.Store.Claim(ctx, ref.Batch, ref.Seq, name, p.ClaimTTL(), states, needApproval)
	switch {
	case errors.Is(err, batch.ErrNotFound):
		log.Error().Msg("task for a chunk the ledger does not hold; check the batch, run reconcile")
		return permanent(err)
	case errors.Is(err, batch.ErrNotClaimable), errors.Is(err, batch.ErrUnapproved):
		log.Debug().Err(err).Msg("nothing to do")
		return nil
	case err != nil:
		return err // busy (retried after the claim can have expired) or Redis
	}
	defer cl.Release(context.WithoutCancel(ctx))
	sctx, cancel := context.WithDeadline(ctx, start.Add(p.StepDeadline()))
	defer cancel()
	s := &step{p: p, cl: cl, c: cl.Chunk, log: log.With().Int("attempt", cl.Chunk.Attempts+1).Logger()}
	return do(sctx, s)
}

// commit records ch under the claim, then enqueues what the chunk's new state needs next: auth
// (approved INIT), cancel (INIT of a canceled batch), the first poll (AUTHORIZED), init (PENDING
// again), and the batch's finalize once its phase is done. A lost claim ends the attempt for a
// retry: the next execution reads iyzico back.
func (s *step) commit(ctx context.Context, ch batch.Change) error {
	old := s.c.State
	wasApproved := s.c.Approved != ""
	prog, err := s.cl.Commit(context.WithoutCancel(ctx), ch)
	if err != nil {
		return err
	}
	c := s.c
	if c.State != old {
		s.log.Info().Str("event", string(ch.Event)).Str("from", old).Str("status", c.State).Str("request_id", c.RequestID).Msg("chunk moved")
		if s.p.OnChunk != nil {
			s.p.OnChunk(c.State)
		}
	}
	return s.p.followUp(context.WithoutCancel(ctx), c, old, wasApproved, prog)
}

// followUp enqueues what a chunk that just moved from old to c.State needs next (see commit).
// Enqueues are idempotent by TaskID, and every step claims its chunk, so an extra task is harmless.
func (p *Pipeline) followUp(ctx context.Context, c *batch.Chunk, old string, wasApproved bool, prog batch.Progress) error {
	ref := tasks.Chunk{Batch: c.Batch, Seq: c.Seq}
	switch c.State {
	case batch.ChunkInit:
		if old == batch.ChunkInit {
			break
		}
		b, err := p.Store.Head(ctx, c.Batch)
		if err != nil {
			return err
		}
		switch {
		case b.CancelRequested:
			err = batch.Enqueue(ctx, p.Queue, tasks.NewCancelTask(ref, p.TaskOptions))
		case wasApproved || b.AutoApprove:
			err = batch.Enqueue(ctx, p.Queue, tasks.NewAuthTask(ref, p.TaskOptions))
		}
		if err != nil {
			return err
		}
	case batch.ChunkAuthorized:
		if err := p.schedulePoll(ctx, c); err != nil {
			return err
		}
	case batch.ChunkPending:
		if old != batch.ChunkPending {
			if _, err := p.Store.EnsureTask(ctx, p.Queue, tasks.NewInitTask(ref, p.TaskOptions), p.TaskOptions.QueueName(), tasks.ChunkTaskID(tasks.TypeInit, ref, 0)); err != nil {
				return err
			}
		}
	}
	if (old == batch.ChunkPending && c.State != old && prog.InitPhaseDone()) || prog.Quiet() {
		return p.Store.EnqueueFinalize(ctx, p.Queue, p.TaskOptions, c.Batch, prog)
	}
	return nil
}

// fail records a failed attempt: it uses up the budget unless iyzico only asked us to slow down.
// While budget is left the task is retried; once it is spent the chunk is UNKNOWN (its items
// without a final status too) and the task ends: a chunk never stays behind unrecorded.
func (s *step) fail(ctx context.Context, err error) error { return s.failed(ctx, err, false) }

// failUnsent is fail for the step's own call, when nothing of an earlier attempt can be at iyzico
// (none was sent, or iyzico just answered that it holds nothing): if the client knows this call
// was not sent either, the next attempt is a first send again.
func (s *step) failUnsent(ctx context.Context, err error) error {
	return s.failed(ctx, err, iyzico.NotSent(err))
}

func (s *step) failed(ctx context.Context, err error, notSent bool) error {
	counted := !iyzico.RateLimited(err)
	n, ferr := s.cl.Fail(context.WithoutCancel(ctx), batch.Failure{Err: err, Counted: counted, NotSent: notSent, Keep: true})
	if ferr != nil {
		return ferr
	}
	lvl := s.log.Warn()
	if !counted {
		lvl = s.log.Info()
	}
	lvl.Err(err).Int("failures", n).Int("budget", s.p.budget()).Bool("not_sent", notSent).Msg("attempt failed")
	if n < s.p.budget() {
		s.cl.Release(context.WithoutCancel(ctx))
		return fmt.Errorf("%s chunk %s: %w", s.cl.Step, s.c.ExternalID(), err)
	}
	reason := fmt.Sprintf("no confirmed answer from iyzico after %d failed %s attempts (last: %v); reconcile resolves it", n, s.cl.Step, err)
	return s.unknown(ctx, batch.EvBudgetSpent, reason)
}

// unknown commits ev (which leads to UNKNOWN) with every item that has no final status marked
// UNKNOWN for reason, logged at error level.
func (s *step) unknown(ctx context.Context, ev batch.Event, reason string) error {
	out := make([]batch.Outcome, len(s.c.Rows))
	for i, st := range s.c.Statuses() {
		if i < len(s.c.Outcomes) {
			out[i] = s.c.Outcomes[i]
		}
		if !iyzico.ItemSettled(st, s.c.PayoutStatus) {
			out[i] = batch.Outcome{Status: batch.RowUnknown, Message: reason, Ref: out[i].Ref, Commission: out[i].Commission}
		}
	}
	s.log.Error().Str("event", string(ev)).Str("reason", reason).Msg("chunk is UNKNOWN until reconcile resolves it")
	return s.commit(ctx, batch.Change{Event: ev, Outcomes: out, LastError: reason})
}

// retryLater records err as the chunk's last error without using up its budget and ends the
// attempt for a retry: for steps that must not give up, such as a cancel iyzico refuses.
func (s *step) retryLater(ctx context.Context, err error) error {
	if _, ferr := s.cl.Fail(context.WithoutCancel(ctx), batch.Failure{Err: err}); ferr != nil {
		return ferr
	}
	s.log.Warn().Err(err).Msg("attempt failed; will retry")
	return fmt.Errorf("%s chunk %s: %w", s.cl.Step, s.c.ExternalID(), err)
}

// pollDelay is the wait before poll n (1-based): POLL_INTERVAL doubling up to POLL_MAX_INTERVAL.
func (p *Pipeline) pollDelay(n int) time.Duration {
	d := p.PollInterval
	for i := 1; i < n && d < p.PollMaxInterval; i++ {
		d *= 2
	}
	return min(d, p.PollMaxInterval)
}

// schedulePoll enqueues the chunk's next poll. Its number comes from the chunk's poll counter, so
// a TaskID is never reused while an earlier poll runs.
func (p *Pipeline) schedulePoll(ctx context.Context, c *batch.Chunk) error {
	ref := tasks.Chunk{Batch: c.Batch, Seq: c.Seq}
	n, err := p.Store.NextPoll(ctx, ref)
	if err != nil {
		return err
	}
	return batch.Enqueue(ctx, p.Queue, tasks.NewPollTask(ref, n, p.pollDelay(n), p.TaskOptions))
}

// decodeChunk reads a chunk task's payload; one that cannot be decoded is permanent.
func decodeChunk(t *asynq.Task) (tasks.Chunk, error) {
	ref, err := tasks.Decode[tasks.Chunk](t)
	if err != nil {
		return ref, permanent(err)
	}
	return ref, nil
}

// chunkHandler turns a step function on a chunk into an asynq handler.
func chunkHandler(f func(context.Context, tasks.Chunk) error) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		ref, err := decodeChunk(t)
		if err != nil {
			return err
		}
		return f(ctx, ref)
	}
}

func errorText(err error) (msg, code string) {
	if ie, ok := errors.AsType[*iyzico.Error](err); ok {
		msg = ie.Message
		if msg == "" {
			msg = ie.Error()
		}
		return msg, string(ie.Code)
	}
	return err.Error(), ""
}

// permanent wraps err so asynq does not retry it.
func permanent(err error) error {
	return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
}
