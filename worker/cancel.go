package worker

import (
	"context"
	"fmt"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/iyzico"
)

// HandleCancel is the payout:cancel handler: it cancels a chunk still in INIT at iyzico; its INIT
// items end MASS_PAYOUT_CANCELED. A repeated cancel is harmless; when iyzico refuses (the payout
// is no longer INIT) the handler reads the payout back and adopts what iyzico holds.
func HandleCancel(p *Pipeline) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		c, log, err := p.loadChunk(ctx, t)
		if err != nil {
			return err
		}
		if c.State != batch.ChunkInit {
			return p.finalizeIfDue(ctx, c.Batch)
		}
		log = log.With().Str("request_id", c.RequestID).Logger()
		if _, err := p.Iyzico.Cancel(ctx, c.RequestID); err != nil {
			d := Decide(err)
			log.Warn().Err(err).Str("decision", d.String()).Msg("cancel failed")
			if d == Retry {
				_ = p.Store.SetLastError(ctx, c, err.Error())
				return fmt.Errorf("cancel chunk %s: %w", c.ExternalID(), err)
			}
			summary, items, rerr := p.retrieveAll(ctx, c)
			if rerr != nil {
				return fmt.Errorf("cancel chunk %s: read back: %w", c.ExternalID(), rerr)
			}
			outcomes, state, aerr := adoptedOutcomes(c, summary, items)
			if aerr != nil {
				return permanent(aerr)
			}
			if state == batch.ChunkInit {
				return permanent(fmt.Errorf("cancel chunk %s: iyzico refused and still holds it in INIT: %w", c.ExternalID(), err))
			}
			if _, err := p.apply(ctx, c, batch.Change{State: state, Outcomes: outcomes, PayoutStatus: payoutStatus(summary)}); err != nil {
				return err
			}
			log.Info().Str("status", state).Msg("adopted iyzico's state after a refused cancel")
			return p.finalizeIfDue(ctx, c.Batch)
		}
		out := make([]batch.Outcome, len(c.Rows))
		for i, st := range c.Statuses() {
			out[i] = c.Outcomes[i]
			if st == iyzico.ItemInit {
				out[i].Status = iyzico.ItemMassPayoutCanceled
			}
		}
		if _, err := p.apply(ctx, c, batch.Change{State: batch.ChunkCanceled, Outcomes: out, PayoutStatus: iyzico.PayoutCanceled}); err != nil {
			return err
		}
		log.Info().Msg("chunk canceled")
		return p.finalizeIfDue(ctx, c.Batch)
	}
}
