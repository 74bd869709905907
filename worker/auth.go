package worker

import (
	"context"
	"fmt"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/tasks"
)

// HandleAuth is the payout:auth handler: see Pipeline.Auth.
func HandleAuth(p *Pipeline) asynq.HandlerFunc { return chunkHandler(p.Auth) }

// Auth runs the auth step of an approved chunk in INIT. Before every auth it reads the payout back
// and sends auth only when iyzico shows it in INIT under the recorded requestId, so auth goes out
// at most once per payout whatever happened to earlier attempts: a payout iyzico shows past INIT
// is adopted, one it no longer shows (or under another requestId) makes the chunk UNKNOWN. A
// refused auth is read back again: still INIT makes the chunk ERROR.
func (p *Pipeline) Auth(ctx context.Context, ref tasks.Chunk) error {
	return p.runStep(ctx, ref, batch.StepAuth, []string{batch.ChunkInit}, true, func(ctx context.Context, s *step) error {
		c := s.c
		s.log = s.log.With().Str("request_id", c.RequestID).Logger()
		b, err := p.Store.Head(ctx, c.Batch)
		if err != nil {
			return err
		}
		if b.CancelRequested {
			s.log.Info().Msg("batch canceled: no auth")
			return nil
		}
		init, found, requestID, err := p.stillInit(ctx, c)
		switch {
		case err != nil:
			return s.fail(ctx, err)
		case found && requestID != "" && requestID != c.RequestID:
			return s.unknown(ctx, batch.EvSeenLost, otherRequestID(c, requestID))
		case !found || !init:
			return s.adoptAll(ctx)
		}
		if _, err := p.Iyzico.Auth(ctx, c.RequestID); err != nil {
			if !iyzico.Answered(err) || iyzico.CredentialRefusal(err) {
				return s.fail(ctx, err) // the next attempt reads back before anything is sent
			}
			r, rerr := p.readBack(ctx, c)
			if rerr != nil {
				return s.fail(ctx, fmt.Errorf("%w; read back: %w", err, rerr))
			}
			if ev, _, _ := seen(c, r); ev == batch.EvSeenInit {
				return s.authRefused(ctx, err)
			}
			return s.adopt(ctx, r)
		}
		out := make([]batch.Outcome, len(c.Rows))
		for i, st := range c.Statuses() {
			out[i] = c.Outcomes[i]
			if st == iyzico.ItemInit {
				out[i].Status = iyzico.ItemProcessing
			}
		}
		return s.commit(ctx, batch.Change{Event: batch.EvAuthAccepted, Outcomes: out, PayoutStatus: iyzico.PayoutInProgress})
	})
}

// adoptAll reads the whole payout back and adopts it.
func (s *step) adoptAll(ctx context.Context) error {
	r, err := s.p.readBack(ctx, s.c)
	if err != nil {
		return s.fail(ctx, err)
	}
	return s.adopt(ctx, r)
}

// authRefused commits a refused auth of a payout iyzico still shows in INIT: the chunk is ERROR,
// its INIT items ERROR with iyzico's code and message. Nothing was paid.
func (s *step) authRefused(ctx context.Context, err error) error {
	msg, code := errorText(err)
	out := make([]batch.Outcome, len(s.c.Rows))
	for i, st := range s.c.Statuses() {
		out[i] = s.c.Outcomes[i]
		if st == iyzico.ItemInit {
			out[i] = batch.Outcome{Status: batch.RowError, Code: code, Message: "auth refused: " + msg, Ref: out[i].Ref}
		}
	}
	s.log.Error().Err(err).Msg("iyzico refused auth; the payout stays unpaid in INIT")
	return s.commit(ctx, batch.Change{Event: batch.EvAuthRefused, Outcomes: out, LastError: err.Error()})
}

// HandlePoll is the payout:poll handler: see Pipeline.Poll.
func HandlePoll(p *Pipeline) asynq.HandlerFunc { return chunkHandler(p.Poll) }

// Poll re-reads an authorized chunk from iyzico (every page), records each item's status,
// referenceCode, error messages and commission, and schedules the next poll until every item has
// settled or iyzico's payout status is final. After POLL_FOR without that the chunk is UNKNOWN:
// money may still be moving, so the batch NEEDS_RECONCILE (never FAILED).
func (p *Pipeline) Poll(ctx context.Context, ref tasks.Chunk) error {
	return p.runStep(ctx, ref, batch.StepPoll, []string{batch.ChunkAuthorized}, false, func(ctx context.Context, s *step) error {
		c := s.c
		r, err := p.readBack(ctx, c)
		if err != nil {
			return s.fail(ctx, err)
		}
		ev, out, _ := seen(c, r)
		if ev == batch.EvSeenMoving && p.PollFor > 0 && !c.AuthorizedAt.IsZero() && p.now().Sub(c.AuthorizedAt) > p.PollFor {
			for i := range out {
				if !iyzico.ItemSettled(out[i].Status, r.payoutStatus()) {
					out[i].Status = batch.RowUnknown
				}
			}
			reason := fmt.Sprintf("the bank's final answer did not arrive within POLL_FOR (%s) of auth; items may still be paid: reconcile resolves it", p.PollFor)
			return s.unknownWith(ctx, batch.EvBudgetSpent, out, reason)
		}
		return s.adopt(ctx, r)
	})
}
