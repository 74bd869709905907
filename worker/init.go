package worker

import (
	"context"
	"fmt"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/tasks"
)

// HandleInit is the payout:init handler: see Pipeline.Init.
func HandleInit(p *Pipeline) asynq.HandlerFunc { return chunkHandler(p.Init) }

// Init runs the init step of a PENDING chunk. When an earlier attempt may have reached iyzico it
// reads the payout back first and adopts what iyzico holds; it sends the chunk's stored body bytes
// only when iyzico answered that it holds no such payout (or nothing was ever sent). A refusal of
// our credentials makes the chunk ERROR; any other failure answer is read back first (iyzico may
// hold the payout after all), and is ERROR only when iyzico holds nothing.
func (p *Pipeline) Init(ctx context.Context, ref tasks.Chunk) error {
	return p.runStep(ctx, ref, batch.StepInit, []string{batch.ChunkPending}, false, func(ctx context.Context, s *step) error {
		c := s.c
		if s.cl.SentBefore {
			r, err := p.readBack(ctx, c)
			if err != nil {
				return s.fail(ctx, err)
			}
			if r.found {
				return s.adopt(ctx, r)
			}
			s.log.Info().Msg("iyzico holds no payout under this externalId: sending")
		}
		resp, err := p.Iyzico.InitRaw(ctx, c.Body)
		switch {
		case err == nil && resp.RequestID != "":
			out, ev, err := initOutcomes(c, resp)
			if err != nil {
				// The ledger cannot read the chunk's items: keep what iyzico said, for reconcile.
				reason := fmt.Sprintf("iyzico initialized the payout (requestId %s) but the ledger cannot read the chunk's items: %v", resp.RequestID, err)
				s.log.Error().Str("reason", reason).Msg("chunk is UNKNOWN until reconcile resolves it")
				return s.commit(ctx, batch.Change{Event: batch.EvBudgetSpent, RequestID: resp.RequestID, LastError: reason})
			}
			return s.commit(ctx, batch.Change{Event: ev, Outcomes: out, RequestID: resp.RequestID, PayoutStatus: iyzico.PayoutInit})
		case err == nil:
			err = errNoRequestID // iyzico took it, but auth needs the requestId: read it back
		case iyzico.CredentialRefusal(err):
			return s.refused(ctx, err)
		case !iyzico.Answered(err):
			// Not sent (the next attempt sends as a first send), or no usable answer (it reads back).
			return s.failUnsent(ctx, err)
		}
		r, rerr := p.readBack(ctx, c)
		switch {
		case rerr != nil:
			return s.fail(ctx, fmt.Errorf("%w; read back: %w", err, rerr))
		case r.found:
			return s.adopt(ctx, r)
		case err == errNoRequestID:
			return s.fail(ctx, err)
		}
		return s.refused(ctx, err)
	})
}

// refused commits an answered init refusal: the chunk is ERROR, every item ERROR with iyzico's
// code and message.
func (s *step) refused(ctx context.Context, err error) error {
	msg, code := errorText(err)
	out := make([]batch.Outcome, len(s.c.Rows))
	for i := range out {
		out[i] = batch.Outcome{Status: batch.RowError, Code: code, Message: msg}
	}
	s.log.Error().Err(err).Msg("iyzico refused the chunk")
	if cerr := s.commit(ctx, batch.Change{Event: batch.EvInitRefused, Outcomes: out, LastError: err.Error()}); cerr != nil {
		return cerr
	}
	return nil
}

// initOutcomes turns an init answer into item outcomes: INVALID (with iyzico's code and message)
// for iyzico's invalidItems, INIT for the rest; a chunk with no valid item is all invalid.
func initOutcomes(c *batch.Chunk, resp *iyzico.InitResponse) ([]batch.Outcome, batch.Event, error) {
	invalid := make(map[string]iyzico.InvalidItem, len(resp.InvalidItems))
	for _, ii := range resp.InvalidItems {
		invalid[ii.ExternalID] = ii
	}
	items, err := c.ReportItems()
	if err != nil {
		return nil, "", err
	}
	out := make([]batch.Outcome, len(items))
	valid := 0
	for i, it := range items {
		if ii, bad := invalid[it.ItemExternalID]; bad {
			out[i] = batch.Outcome{Status: iyzico.ItemInvalid, Code: string(ii.ErrorCode), Message: ii.ErrorMessage}
			continue
		}
		out[i] = batch.Outcome{Status: iyzico.ItemInit}
		valid++
	}
	if valid == 0 {
		return out, batch.EvInitAllInvalid, nil
	}
	return out, batch.EvInitAccepted, nil
}
