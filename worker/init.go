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
	RetrieveAll(ctx context.Context, req iyzico.RetrieveRequest) (*iyzico.MassPayoutSummary, []iyzico.ItemDetail, error)
}

// Pipeline carries what the chunk handlers share: the ledger, iyzico, the queue and task defaults.
type Pipeline struct {
	Log         zerolog.Logger
	Store       *batch.Store
	Iyzico      Iyzico
	Queue       batch.Enqueuer
	TaskOptions tasks.Options
	PageSize    int // retrieve page size; default 100

	PollInterval    time.Duration // first retrieve after auth (POLL_INTERVAL), doubling ...
	PollMaxInterval time.Duration // ... up to POLL_MAX_INTERVAL
	PollFor         time.Duration // after POLL_FOR without final statuses the chunk becomes UNKNOWN
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

// loadChunk decodes a chunk task and reads its chunk. A payload that cannot be decoded, or a chunk
// the ledger does not hold (its batch expired or Redis lost it), is permanent: retrying cannot help.
func (p *Pipeline) loadChunk(ctx context.Context, t *asynq.Task) (*batch.Chunk, zerolog.Logger, error) {
	ref, err := tasks.Decode[tasks.Chunk](t)
	if err != nil {
		return nil, p.Log, permanent(err)
	}
	log := p.chunkLog(ref)
	c, err := p.Store.GetChunk(ctx, ref.Batch, ref.Seq)
	if errors.Is(err, batch.ErrNotFound) {
		log.Error().Str("type", t.Type()).Msg("task for a chunk the ledger does not hold; check the batch, run reconcile")
		return nil, log, permanent(err)
	}
	return c, log, err
}

func (p *Pipeline) chunkLog(c tasks.Chunk) zerolog.Logger {
	return p.Log.With().Str("batch", c.Batch).Str("chunk", tasks.ChunkExternalID(c.Batch, c.Seq)).Logger()
}

// errChangedConcurrently ends an attempt whose chunk changed under it; asynq retries it and the
// next attempt sees the new state.
var errChangedConcurrently = errors.New("chunk changed by a concurrent attempt")

// HandleInit is the payout:init handler. It skips a chunk that already has its init outcome; when
// an earlier attempt may have reached iyzico it reads the payout back by externalMassPayoutId and
// adopts what exists; otherwise it sends the chunk's stored body bytes and records INIT or
// INVALID per item. Transient failures return for asynq to retry; permanent ones mark the chunk
// ERROR and skip retries.
func HandleInit(p *Pipeline) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		c, log, err := p.loadChunk(ctx, t)
		if err != nil {
			return err
		}
		if c.State != batch.ChunkPending {
			log.Debug().Str("status", c.State).Msg("chunk already has its init outcome")
			return p.afterInit(ctx, log, c)
		}
		attempt, err := p.Store.BeginInitAttempt(ctx, c)
		if err != nil {
			return err
		}
		log = log.With().Int("attempt", attempt).Logger()
		if c.Sent {
			done, err := p.adopt(ctx, log, c)
			if err != nil || done {
				return err
			}
		}
		resp, err := p.Iyzico.InitRaw(ctx, c.Body)
		if err != nil {
			return p.initFailed(ctx, log, c, err)
		}
		if resp.RequestID == "" {
			// Without a requestId the payout cannot be authorized; the next attempt reads it back.
			return fmt.Errorf("init chunk %s: iyzico answered success without a requestId", c.ExternalID())
		}
		outcomes, state, err := initOutcomes(c, resp)
		if err != nil {
			return permanent(err)
		}
		if _, err := p.apply(ctx, c, batch.Change{State: state, Outcomes: outcomes, RequestID: resp.RequestID, PayoutStatus: iyzico.PayoutInit}); err != nil {
			return err
		}
		log.Info().Str("request_id", resp.RequestID).Int("invalid", len(resp.InvalidItems)).Msg("chunk initialized")
		return p.afterInit(ctx, log, c)
	}
}

// initOutcomes turns an init answer into item outcomes: INVALID for iyzico's invalidItems, INIT
// for the rest. A chunk with no valid item needs no auth: it is DONE.
func initOutcomes(c *batch.Chunk, resp *iyzico.InitResponse) ([]batch.Outcome, string, error) {
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
		return out, batch.ChunkDone, nil
	}
	return out, batch.ChunkInit, nil
}

// initFailed records a failed init call and turns it into the handler's result.
func (p *Pipeline) initFailed(ctx context.Context, log zerolog.Logger, c *batch.Chunk, callErr error) error {
	d := Decide(callErr)
	log.Warn().Err(callErr).Str("decision", d.String()).Bool("ambiguous", iyzico.IsAmbiguous(callErr)).Msg("init failed")
	switch d {
	case Permanent:
		msg, code := errorText(callErr)
		if _, err := p.apply(ctx, c, batch.Change{State: batch.ChunkError, Outcomes: fill(len(c.Rows), batch.Outcome{Status: batch.RowError, Code: code, Message: msg}), LastError: callErr.Error()}); err != nil {
			return err
		}
		log.Error().Str("status", batch.ChunkError).Msg("iyzico refused the chunk permanently")
		if err := p.afterInit(ctx, log, c); err != nil {
			return err
		}
		return permanent(fmt.Errorf("init chunk %s: %w", c.ExternalID(), callErr))
	case Adopt:
		// iyzico holds this externalId already: the next attempt (marked sent) reads it back.
		_ = p.Store.SetLastError(ctx, c, callErr.Error())
		return fmt.Errorf("init chunk %s: already at iyzico, will read it back: %w", c.ExternalID(), callErr)
	}
	_ = p.Store.SetLastError(ctx, c, callErr.Error())
	return fmt.Errorf("init chunk %s: %w", c.ExternalID(), callErr)
}

func errorText(err error) (msg, code string) {
	var ie *iyzico.Error
	if errors.As(err, &ie) {
		msg = ie.Message
		if msg == "" {
			msg = ie.Error()
		}
		return msg, string(ie.Code)
	}
	return err.Error(), ""
}

func fill(n int, o batch.Outcome) []batch.Outcome {
	out := make([]batch.Outcome, n)
	for i := range out {
		out[i] = o
	}
	return out
}

// apply applies a change; a version conflict means another attempt changed the chunk first, so
// this attempt ends and asynq runs it again against the new state.
func (p *Pipeline) apply(ctx context.Context, c *batch.Chunk, ch batch.Change) (batch.Progress, error) {
	old := c.State
	prog, err := p.Store.Apply(ctx, c, ch)
	if errors.Is(err, batch.ErrVersionConflict) {
		return prog, fmt.Errorf("chunk %s: %w", c.ExternalID(), errChangedConcurrently)
	}
	if err == nil && old != ch.State && p.OnChunk != nil {
		p.OnChunk(ch.State)
	}
	return prog, err
}

// afterInit does what follows a chunk's init outcome: auth when the batch is approved (at once
// with APPROVAL=auto), and the batch's finalize task once every chunk has its outcome. Both
// enqueues are idempotent.
func (p *Pipeline) afterInit(ctx context.Context, log zerolog.Logger, c *batch.Chunk) error {
	b, err := p.Store.Head(ctx, c.Batch)
	if err != nil {
		return err
	}
	topts := b.TaskOptions(p.TaskOptions)
	switch {
	case c.State == batch.ChunkInit && b.CancelRequested:
		if err := batch.Enqueue(ctx, p.Queue, tasks.NewCancelTask(tasks.Chunk{Batch: c.Batch, Seq: c.Seq}, topts)); err != nil {
			return err
		}
	case c.State == batch.ChunkInit && b.ApprovedBy != "":
		if err := batch.Enqueue(ctx, p.Queue, tasks.NewAuthTask(tasks.Chunk{Batch: c.Batch, Seq: c.Seq}, topts)); err != nil {
			return err
		}
	}
	return batch.EnqueueFinalizeIfDue(ctx, p.Queue, topts, c.Batch, b.Progress())
}

func (p *Pipeline) finalizeIfDue(ctx context.Context, batchID string) error {
	b, err := p.Store.Head(ctx, batchID)
	if err != nil {
		return err
	}
	return batch.EnqueueFinalizeIfDue(ctx, p.Queue, b.TaskOptions(p.TaskOptions), batchID, b.Progress())
}

// adopt reads the chunk's payout back from iyzico by externalMassPayoutId after an attempt that
// may have reached iyzico. It returns done when the chunk's outcome was recorded (or decided);
// not done means iyzico has never seen the chunk and the caller sends it.
func (p *Pipeline) adopt(ctx context.Context, log zerolog.Logger, c *batch.Chunk) (done bool, err error) {
	summary, items, err := p.retrieveAll(ctx, c)
	if isNotFound(err) || (err == nil && summary == nil && len(items) == 0) {
		log.Info().Msg("earlier attempt did not reach iyzico; sending")
		return false, nil
	}
	if err != nil {
		_ = p.Store.SetLastError(ctx, c, err.Error())
		return true, fmt.Errorf("read back chunk %s: %w", c.ExternalID(), err)
	}
	requestID := requestIDOf(summary, items)
	if requestID == "" {
		// iyzico holds the payout but did not say its requestId (needed for auth). An init with
		// the identical bytes is safe and may replay the original answer with it.
		log.Info().Msg("payout exists at iyzico without a requestId in retrieve; re-sending identical bytes")
		resp, err := p.Iyzico.InitRaw(ctx, c.Body)
		if err == nil && resp.RequestID != "" {
			requestID = resp.RequestID
		} else {
			if err == nil || Decide(err) != Retry {
				msg := "payout exists at iyzico but its requestId is unknown; run reconcile or ask iyzico support"
				if _, aerr := p.apply(ctx, c, batch.Change{State: batch.ChunkUnknown, Outcomes: fill(len(c.Rows), batch.Outcome{Status: batch.RowUnknown, Message: msg}), LastError: msg}); aerr != nil {
					return true, aerr
				}
				log.Error().Str("status", batch.ChunkUnknown).Msg(msg)
				return true, p.afterInit(ctx, log, c)
			}
			return true, fmt.Errorf("re-send chunk %s: %w", c.ExternalID(), err)
		}
	}
	outcomes, state, err := adoptedOutcomes(c, summary, items)
	if err != nil {
		return true, permanent(err)
	}
	if _, err := p.apply(ctx, c, batch.Change{State: state, Outcomes: outcomes, RequestID: requestID, PayoutStatus: payoutStatus(summary)}); err != nil {
		return true, err
	}
	log.Info().Str("request_id", requestID).Str("status", state).Msg("adopted the payout iyzico already holds")
	return true, p.afterInit(ctx, log, c)
}

// retrieveAll reads every item of the chunk's payout. Items iyzico lists only under itemType
// INVALID are read with a second query when the first did not list them all.
func (p *Pipeline) retrieveAll(ctx context.Context, c *batch.Chunk) (*iyzico.MassPayoutSummary, []iyzico.ItemDetail, error) {
	size := p.PageSize
	if size <= 0 {
		size = 100
	}
	req := iyzico.RetrieveRequest{ExternalMassPayoutID: c.ExternalID(), RequestID: c.RequestID, Size: size}
	summary, items, err := p.Iyzico.RetrieveAll(ctx, req)
	if err != nil || len(items) >= len(c.Rows) {
		return summary, items, err
	}
	req.ItemType = iyzico.ItemTypeInvalid
	_, invalid, err := p.Iyzico.RetrieveAll(ctx, req)
	if err != nil && !isNotFound(err) {
		return nil, nil, err
	}
	seen := make(map[string]bool, len(items))
	for _, it := range items {
		seen[it.ItemExternalID] = true
	}
	for _, it := range invalid {
		if !seen[it.ItemExternalID] {
			items = append(items, it)
		}
	}
	return summary, items, nil
}

func isNotFound(err error) bool {
	var ie *iyzico.Error
	return errors.As(err, &ie) && ie.Code == iyzico.CodeNotFound
}

func requestIDOf(s *iyzico.MassPayoutSummary, items []iyzico.ItemDetail) string {
	if s != nil && s.RequestID != "" {
		return s.RequestID
	}
	for _, it := range items {
		if it.MassPayoutRequestID != "" {
			return it.MassPayoutRequestID
		}
	}
	return ""
}

func payoutStatus(s *iyzico.MassPayoutSummary) string {
	if s == nil {
		return ""
	}
	return s.MassPayoutStatus
}

// adoptedOutcomes maps iyzico's items onto the chunk's items by itemExternalId and derives the
// chunk's state. An item iyzico does not list stays UNKNOWN: it is reported, never guessed.
func adoptedOutcomes(c *batch.Chunk, s *iyzico.MassPayoutSummary, items []iyzico.ItemDetail) ([]batch.Outcome, string, error) {
	byID := make(map[string]*iyzico.ItemDetail, len(items))
	for i := range items {
		byID[items[i].ItemExternalID] = &items[i]
	}
	ours, err := c.ReportItems()
	if err != nil {
		return nil, "", err
	}
	out := make([]batch.Outcome, len(ours))
	for i, it := range ours {
		d, ok := byID[it.ItemExternalID]
		if !ok {
			out[i] = batch.Outcome{Status: batch.RowUnknown, Message: "iyzico did not list this item"}
			continue
		}
		out[i] = itemOutcome(d)
	}
	return out, chunkStateFrom(payoutStatus(s), out), nil
}

// itemOutcome is the ledger's view of one iyzico item.
func itemOutcome(d *iyzico.ItemDetail) batch.Outcome {
	o := batch.Outcome{Status: d.ItemStatus, Ref: d.ReferenceCode}
	msgs := d.ErrorMessages
	if len(msgs) == 0 && d.ErrorMessage != "" {
		msgs = []string{d.ErrorMessage}
	}
	for i, m := range msgs {
		if i > 0 {
			o.Message += "; "
		}
		o.Message += m
	}
	if !d.CommissionAmount.IsZero() || d.ItemStatus == iyzico.ItemSuccess {
		o.Commission = batch.FormatAmount(d.CommissionAmount, d.CurrencyCode)
	}
	return o
}

// chunkStateFrom derives a chunk's ledger state from iyzico's payout status and its items.
func chunkStateFrom(payoutStatus string, out []batch.Outcome) string {
	final, init, unknown := 0, 0, 0
	for _, o := range out {
		switch {
		case o.Status == batch.RowUnknown:
			unknown++
		case iyzico.ItemFinal(o.Status):
			final++
		case o.Status == iyzico.ItemInit:
			init++
		}
	}
	switch {
	case payoutStatus == iyzico.PayoutCanceled:
		return batch.ChunkCanceled
	case final == len(out):
		return batch.ChunkDone
	case init > 0 && final+init+unknown == len(out) && (payoutStatus == iyzico.PayoutInit || payoutStatus == ""):
		return batch.ChunkInit
	case final+init+unknown == len(out) && init == 0:
		return batch.ChunkUnknown
	}
	return batch.ChunkAuthorized
}
