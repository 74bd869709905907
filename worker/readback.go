package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/iyzico"
)

// remote is what iyzico showed of a chunk's payout when asked by externalMassPayoutId.
type remote struct {
	found     bool
	summary   *iyzico.MassPayoutSummary
	items     []iyzico.ItemDetail
	requestID string // as iyzico said it (summary, items or one item's detail); "" when it did not
}

func (r *remote) payoutStatus() string {
	if r.summary == nil {
		return ""
	}
	return r.summary.MassPayoutStatus
}

// readBack asks iyzico for the chunk's payout by externalMassPayoutId: every page, plus the items
// iyzico lists only under itemType INVALID, plus one item's detail when nothing else carried the
// requestId. found is false when iyzico answered that it holds no such payout, whatever its
// failure code: any answered failure other than a refusal of our credentials. Any other error
// means no usable answer: try again later.
func (p *Pipeline) readBack(ctx context.Context, c *batch.Chunk) (remote, error) {
	size := p.PageSize
	if size <= 0 {
		size = iyzico.DefaultPageSize
	}
	req := iyzico.RetrieveRequest{ExternalMassPayoutID: c.ExternalID(), Size: size}
	summary, items, err := p.Iyzico.RetrieveAll(ctx, req)
	if absent(err) || (err == nil && summary == nil && len(items) == 0) {
		return remote{}, nil
	}
	if err != nil {
		return remote{}, fmt.Errorf("read back %s: %w", c.ExternalID(), err)
	}
	if len(items) < len(c.Rows) {
		req.ItemType = iyzico.ItemTypeInvalid
		_, invalid, err := p.Iyzico.RetrieveAll(ctx, req)
		if err != nil && !absent(err) {
			return remote{}, fmt.Errorf("read back %s (invalid items): %w", c.ExternalID(), err)
		}
		seen := make(map[[2]string]bool, len(items))
		for _, it := range items {
			seen[[2]string{it.ItemExternalID, it.ReferenceCode}] = true
		}
		for _, it := range invalid {
			if !seen[[2]string{it.ItemExternalID, it.ReferenceCode}] {
				items = append(items, it)
			}
		}
	}
	r := remote{found: true, summary: summary, items: items, requestID: requestIDOf(summary, items)}
	if r.requestID == "" && c.RequestID == "" {
		// Auth needs the requestId: where the payout's pages do not say it, an item's detail may.
		id, err := p.requestIDFromItem(ctx, c, items)
		if err != nil {
			return remote{}, err
		}
		r.requestID = id
	}
	return r, nil
}

// stillInit reads the first page of the chunk's valid items and reports whether iyzico shows the
// payout unauthorized: its status INIT (or none given) and every listed item INIT or INVALID; and
// the requestId iyzico names for it (from the page, else from the first item's detail). It is the
// check before every auth: one or two calls, since auth moves all of a payout's items at once.
// found is false when iyzico answered that it holds no such payout.
func (p *Pipeline) stillInit(ctx context.Context, c *batch.Chunk) (init, found bool, requestID string, err error) {
	size := p.PageSize
	if size <= 0 {
		size = iyzico.DefaultPageSize
	}
	resp, err := p.Iyzico.Retrieve(ctx, iyzico.RetrieveRequest{ExternalMassPayoutID: c.ExternalID(), ItemType: iyzico.ItemTypeValid, Size: size})
	if absent(err) {
		return false, false, "", nil
	}
	if err != nil {
		return false, false, "", fmt.Errorf("read back %s: %w", c.ExternalID(), err)
	}
	if resp.MassPayout == nil && len(resp.MassPayoutItems.Items) == 0 {
		return false, false, "", nil
	}
	items := resp.MassPayoutItems.Items
	if requestID = requestIDOf(resp.MassPayout, items); requestID == "" {
		// Auth goes only to the recorded requestId: learn which one iyzico has, where it says.
		if requestID, err = p.requestIDFromItem(ctx, c, items); err != nil {
			return false, false, "", err
		}
	}
	if resp.MassPayout != nil && resp.MassPayout.MassPayoutStatus != "" && resp.MassPayout.MassPayoutStatus != iyzico.PayoutInit {
		return false, true, requestID, nil
	}
	for _, it := range items {
		if it.ItemStatus != iyzico.ItemInit && it.ItemStatus != iyzico.ItemInvalid {
			return false, true, requestID, nil
		}
	}
	return true, true, requestID, nil
}

// requestIDFromItem asks iyzico for the detail of the first listed item, which may name its
// payout's requestId (massPayoutRequestId, as the Java SDK reads it); "" when it does not.
func (p *Pipeline) requestIDFromItem(ctx context.Context, c *batch.Chunk, items []iyzico.ItemDetail) (string, error) {
	for _, it := range items {
		if it.ReferenceCode == "" {
			continue
		}
		d, err := p.Iyzico.RetrieveItem(ctx, it.ReferenceCode)
		switch {
		case absent(err):
			return "", nil
		case err != nil:
			return "", fmt.Errorf("read back %s (item %s): %w", c.ExternalID(), it.ReferenceCode, err)
		case d.Item != nil:
			return d.Item.MassPayoutRequestID, nil
		}
		return "", nil
	}
	return "", nil
}

// absent reports whether err is iyzico's answer that it holds no such payout: an answered
// failure, whatever its code, that is not a refusal of our credentials.
func absent(err error) bool {
	return iyzico.Answered(err) && !iyzico.CredentialRefusal(err)
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

// seen turns what iyzico showed into the chunk's read-back event and the items' outcomes (nil
// when they stay as recorded), with a reason for an event that leads to UNKNOWN. A payout iyzico
// confirmed before (a recorded requestId) and no longer shows, or shows under another requestId,
// is lost; one in INIT whose requestId nobody said cannot be authorized.
func seen(c *batch.Chunk, r remote) (ev batch.Event, out []batch.Outcome, reason string) {
	switch {
	case !r.found && c.RequestID == "":
		return batch.EvSeenAbsent, nil, ""
	case !r.found:
		return batch.EvSeenLost, nil, fmt.Sprintf("iyzico no longer shows payout %s (requestId %s) that it confirmed; ask iyzico support before acting", c.ExternalID(), c.RequestID)
	case r.requestID != "" && c.RequestID != "" && r.requestID != c.RequestID:
		return batch.EvSeenLost, nil, otherRequestID(c, r.requestID)
	}
	out = adoptedOutcomes(c, r)
	switch chunkStateFrom(r.payoutStatus(), out) {
	case batch.ChunkInit:
		if r.requestID == "" && c.RequestID == "" {
			return batch.EvSeenNoID, out, fmt.Sprintf("iyzico holds payout %s in INIT but says no requestId, which auth needs; ask iyzico support for it", c.ExternalID())
		}
		return batch.EvSeenInit, out, ""
	case batch.ChunkDone:
		return batch.EvSeenFinal, out, ""
	case batch.ChunkCanceled:
		return batch.EvSeenCanceled, out, ""
	case batch.ChunkUnknown:
		return batch.EvSeenLost, out, fmt.Sprintf("iyzico's answer for payout %s does not list every item", c.ExternalID())
	}
	return batch.EvSeenMoving, out, ""
}

// otherRequestID is the reason a chunk is UNKNOWN when iyzico names another requestId for it.
func otherRequestID(c *batch.Chunk, requestID string) string {
	return fmt.Sprintf("iyzico shows payout %s under requestId %s, but %s was recorded; nothing is sent until a person checks it with iyzico", c.ExternalID(), requestID, c.RequestID)
}

// adoptedOutcomes maps iyzico's items onto the chunk's items by itemExternalId. An item iyzico
// does not list keeps what the ledger knew, or is UNKNOWN: reported, never guessed. What iyzico's
// item detail does not carry (the error code of an INVALID item, known from init) is kept.
func adoptedOutcomes(c *batch.Chunk, r remote) []batch.Outcome {
	byID := make(map[string]*iyzico.ItemDetail, len(r.items))
	for i := range r.items {
		byID[r.items[i].ItemExternalID] = &r.items[i]
	}
	ours, err := c.ReportItems()
	if err != nil {
		ours = nil
	}
	out := make([]batch.Outcome, len(c.Rows))
	for i := range out {
		var known batch.Outcome
		if i < len(c.Outcomes) {
			known = c.Outcomes[i]
		}
		var d *iyzico.ItemDetail
		if i < len(ours) {
			d = byID[ours[i].ItemExternalID]
		}
		if d == nil {
			out[i] = known
			if known.Status == "" || known.Status == batch.RowPending {
				out[i] = batch.Outcome{Status: batch.RowUnknown, Message: "iyzico did not list this item"}
			}
			continue
		}
		o := itemOutcome(d)
		if o.Code == "" && o.Status == known.Status {
			o.Code = known.Code
			if o.Message == "" {
				o.Message = known.Message
			}
		}
		out[i] = o
	}
	return out
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

// chunkStateFrom derives a chunk's state from iyzico's payout status and its items: CANCELED for
// a canceled payout; DONE when every item has settled (FAILED counts once the payout's status is
// final); INIT while valid items wait for auth; UNKNOWN when items are missing and none moves;
// else AUTHORIZED.
func chunkStateFrom(payoutStatus string, out []batch.Outcome) string {
	settled, init, unknown := 0, 0, 0
	for _, o := range out {
		switch {
		case o.Status == batch.RowUnknown:
			unknown++
		case iyzico.ItemSettled(o.Status, payoutStatus):
			settled++
		case o.Status == iyzico.ItemInit:
			init++
		}
	}
	switch {
	case payoutStatus == iyzico.PayoutCanceled:
		return batch.ChunkCanceled
	case settled == len(out):
		return batch.ChunkDone
	case init > 0 && settled+init+unknown == len(out) && (payoutStatus == iyzico.PayoutInit || payoutStatus == ""):
		return batch.ChunkInit
	case settled+init+unknown == len(out) && init == 0:
		return batch.ChunkUnknown
	}
	return batch.ChunkAuthorized
}

// adopt commits what a read-back showed, under the claim.
func (s *step) adopt(ctx context.Context, r remote) error {
	ev, out, reason := seen(s.c, r)
	if reason != "" && (ev == batch.EvSeenLost || ev == batch.EvSeenNoID) {
		return s.unknownWith(ctx, ev, out, reason)
	}
	ch := batch.Change{Event: ev, Outcomes: out, RequestID: r.requestID, PayoutStatus: r.payoutStatus()}
	if next, _ := batch.Next(s.c.State, ev); ev == batch.EvSeenAbsent && next == batch.ChunkPending {
		// iyzico answered that it holds nothing: the chunk is sent again as a first send.
		ch.Outcomes = make([]batch.Outcome, len(s.c.Rows))
		for i := range ch.Outcomes {
			ch.Outcomes[i].Status = batch.RowPending
		}
		ch.ClearSent = true
	}
	s.log.Info().Str("event", string(ev)).Str("payout_status", r.payoutStatus()).Msg("adopting what iyzico shows")
	return s.commit(ctx, ch)
}

// unknownWith commits ev with iyzico's outcomes where it listed them and UNKNOWN (for reason)
// where it did not; with no outcomes from iyzico it is unknown.
func (s *step) unknownWith(ctx context.Context, ev batch.Event, out []batch.Outcome, reason string) error {
	if out == nil {
		return s.unknown(ctx, ev, reason)
	}
	for i := range out {
		if out[i].Status == batch.RowUnknown {
			out[i].Message = reason
		}
	}
	s.log.Error().Str("event", string(ev)).Str("reason", reason).Msg("chunk is UNKNOWN until reconcile resolves it")
	return s.commit(ctx, batch.Change{Event: ev, Outcomes: out, LastError: reason})
}

var errNoRequestID = errors.New("iyzico answered success without a requestId")
