package worker

import (
	"context"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/tasks"
)

// HandleCancel is the payout:cancel handler: see Pipeline.Cancel.
func HandleCancel(p *Pipeline) asynq.HandlerFunc { return chunkHandler(p.Cancel) }

// Cancel cancels a chunk of a canceled batch that is still in INIT at iyzico; its INIT items end
// MASS_PAYOUT_CANCELED. When iyzico refuses, the payout is read back: past INIT it is adopted,
// still INIT it is tried again later (the chunk stays INIT, unpaid, with the refusal as its last
// error): a cancel never gives up.
func (p *Pipeline) Cancel(ctx context.Context, ref tasks.Chunk) error {
	return p.runStep(ctx, ref, batch.StepCancel, []string{batch.ChunkInit}, false, func(ctx context.Context, s *step) error {
		c := s.c
		b, err := p.Store.Head(ctx, c.Batch)
		if err != nil {
			return err
		}
		if !b.CancelRequested {
			return nil
		}
		if _, err := p.Iyzico.Cancel(ctx, c.RequestID); err != nil {
			if !iyzico.Answered(err) || iyzico.CredentialRefusal(err) {
				return s.retryLater(ctx, err)
			}
			r, rerr := p.readBack(ctx, c)
			if rerr != nil {
				return s.retryLater(ctx, rerr)
			}
			if ev, _, _ := seen(c, r); ev == batch.EvSeenInit {
				return s.retryLater(ctx, err)
			}
			return s.adopt(ctx, r)
		}
		out := make([]batch.Outcome, len(c.Rows))
		for i, st := range c.Statuses() {
			out[i] = c.Outcomes[i]
			if st == iyzico.ItemInit {
				out[i].Status = iyzico.ItemMassPayoutCanceled
			}
		}
		return s.commit(ctx, batch.Change{Event: batch.EvCancelAccepted, Outcomes: out, PayoutStatus: iyzico.PayoutCanceled})
	})
}
