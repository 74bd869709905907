package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/tasks"
	"github.com/rs/zerolog"
)

// HandleAuth is the payout:auth handler: it sends auth for an initialized chunk's requestId and
// schedules its first poll. When an earlier attempt may have reached iyzico it reads the payout
// back first: items already past INIT mean auth went through, so auth is never sent twice for a
// chunk iyzico accepted.
func HandleAuth(p *Pipeline) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		c, log, err := p.loadChunk(ctx, t)
		if err != nil {
			return err
		}
		switch c.State {
		case batch.ChunkInit:
		case batch.ChunkAuthorized:
			return p.schedulePoll(ctx, c)
		default:
			log.Debug().Str("status", c.State).Msg("chunk not awaiting auth")
			return p.finalizeIfDue(ctx, c.Batch)
		}
		log = log.With().Str("request_id", c.RequestID).Logger()
		if c.AuthSent {
			done, err := p.readBackAuth(ctx, log, c)
			if err != nil || done {
				return err
			}
		}
		if err := p.Store.MarkAuthSent(ctx, c); err != nil {
			return err
		}
		if _, err := p.Iyzico.Auth(ctx, c.RequestID); err != nil {
			d := Decide(err)
			log.Warn().Err(err).Str("decision", d.String()).Bool("ambiguous", iyzico.IsAmbiguous(err)).Msg("auth failed")
			if d == Retry {
				_ = p.Store.SetLastError(ctx, c, err.Error())
				return fmt.Errorf("auth chunk %s: %w", c.ExternalID(), err)
			}
			// Refused: find out what iyzico holds before deciding (an earlier auth may have won).
			done, rerr := p.readBackAuth(ctx, log, c)
			if rerr != nil || done {
				return rerr
			}
			msg, code := errorText(err)
			out := make([]batch.Outcome, len(c.Rows))
			for i, st := range c.Statuses() {
				out[i] = c.Outcomes[i]
				if st == iyzico.ItemInit {
					out[i] = batch.Outcome{Status: batch.RowError, Code: code, Message: "auth refused: " + msg, Ref: out[i].Ref}
				}
			}
			if _, aerr := p.apply(ctx, c, batch.Change{State: batch.ChunkError, Outcomes: out, LastError: err.Error()}); aerr != nil {
				return aerr
			}
			log.Error().Str("status", batch.ChunkError).Msg("iyzico refused auth permanently")
			if ferr := p.finalizeIfDue(ctx, c.Batch); ferr != nil {
				return ferr
			}
			return permanent(fmt.Errorf("auth chunk %s: %w", c.ExternalID(), err))
		}
		out := make([]batch.Outcome, len(c.Rows))
		for i, st := range c.Statuses() {
			out[i] = c.Outcomes[i]
			if st == iyzico.ItemInit {
				out[i].Status = iyzico.ItemProcessing
			}
		}
		if _, err := p.apply(ctx, c, batch.Change{State: batch.ChunkAuthorized, Outcomes: out, PayoutStatus: iyzico.PayoutInProgress, AuthorizedAt: p.now()}); err != nil {
			return err
		}
		log.Info().Msg("chunk authorized")
		return p.schedulePoll(ctx, c)
	}
}

// readBackAuth reads the payout back after an auth that may have reached iyzico. done means the
// chunk's new state was recorded (auth went through, or the payout was canceled); not done means
// the payout is still INIT at iyzico and auth can be sent.
func (p *Pipeline) readBackAuth(ctx context.Context, log zerolog.Logger, c *batch.Chunk) (bool, error) {
	summary, items, err := p.retrieveAll(ctx, c)
	if err != nil {
		_ = p.Store.SetLastError(ctx, c, err.Error())
		return true, fmt.Errorf("read back chunk %s: %w", c.ExternalID(), err)
	}
	outcomes, state, err := adoptedOutcomes(c, summary, items)
	if err != nil {
		return true, permanent(err)
	}
	if state == batch.ChunkInit {
		log.Info().Msg("payout still INIT at iyzico; sending auth")
		return false, nil
	}
	ch := batch.Change{State: state, Outcomes: outcomes, PayoutStatus: payoutStatus(summary)}
	if state == batch.ChunkAuthorized || state == batch.ChunkDone {
		ch.AuthorizedAt = p.now()
	}
	if _, err := p.apply(ctx, c, ch); err != nil {
		return true, err
	}
	log.Info().Str("status", state).Msg("auth had already gone through; adopted iyzico's state")
	if state == batch.ChunkAuthorized {
		return true, p.schedulePoll(ctx, c)
	}
	return true, p.finalizeIfDue(ctx, c.Batch)
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
// a TaskID is never reused (a retained earlier poll would refuse it and end the polling).
func (p *Pipeline) schedulePoll(ctx context.Context, c *batch.Chunk) error {
	n, err := p.Store.NextPoll(ctx, c)
	if err != nil {
		return err
	}
	ref := tasks.Chunk{Batch: c.Batch, Seq: c.Seq}
	return batch.Enqueue(ctx, p.Queue, tasks.NewPollTask(ref, n, p.pollDelay(n), p.TaskOptions))
}

// HandlePoll is the payout:poll handler: it re-reads an authorized chunk from iyzico (every page),
// records each item's status, referenceCode, error messages and commission, and schedules the next
// poll until every item is final. After POLL_FOR without final statuses the chunk becomes UNKNOWN.
func HandlePoll(p *Pipeline) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		c, log, err := p.loadChunk(ctx, t)
		if err != nil {
			return err
		}
		if c.State != batch.ChunkAuthorized {
			return p.finalizeIfDue(ctx, c.Batch)
		}
		summary, items, err := p.retrieveAll(ctx, c)
		if err != nil {
			log.Warn().Err(err).Int("poll", c.Polls).Msg("poll failed")
			return fmt.Errorf("poll chunk %s: %w", c.ExternalID(), err)
		}
		outcomes, _, err := adoptedOutcomes(c, summary, items)
		if err != nil {
			return permanent(err)
		}
		keepKnown(c, outcomes) // an item missing from this read keeps what we knew
		state := chunkStateFrom(payoutStatus(summary), outcomes)
		if state == batch.ChunkInit || state == batch.ChunkUnknown || state == batch.ChunkPending {
			state = batch.ChunkAuthorized
		}
		if _, err := p.apply(ctx, c, batch.Change{State: state, Outcomes: outcomes, PayoutStatus: payoutStatus(summary)}); err != nil {
			return err
		}
		if state != batch.ChunkAuthorized {
			log.Info().Str("status", state).Int("poll", c.Polls).Msg("chunk final")
			return p.finalizeIfDue(ctx, c.Batch)
		}
		if !c.AuthorizedAt.IsZero() && p.PollFor > 0 && p.now().Sub(c.AuthorizedAt) > p.PollFor {
			return p.MarkUnknown(ctx, tasks.Chunk{Batch: c.Batch, Seq: c.Seq}, []string{batch.ChunkAuthorized}, fmt.Sprintf("the bank's final answer did not arrive within POLL_FOR (%s); run reconcile later", p.PollFor))
		}
		log.Debug().Int("poll", c.Polls).Msg("items still moving; polling again")
		return p.schedulePoll(ctx, c)
	}
}
