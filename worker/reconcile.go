package worker

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/tasks"
)

// ReconcileChange is one repair made by Reconcile.
type ReconcileChange struct {
	Chunk  string // the chunk's externalId
	From   string // ledger state before
	To     string // ledger state after (equal to From when only reported)
	Detail string
}

func (c ReconcileChange) String() string {
	if c.From == c.To {
		return fmt.Sprintf("%s: %s (%s)", c.Chunk, c.Detail, c.From)
	}
	return fmt.Sprintf("%s: %s → %s: %s", c.Chunk, c.From, c.To, c.Detail)
}

// Reconcile re-reads every chunk of a batch from iyzico by externalMassPayoutId and repairs the
// ledger: chunks iyzico holds get iyzico's states (UNKNOWN chunks resolved, missing item outcomes
// filled), chunks iyzico has never seen that were UNKNOWN go back to PENDING with a new init task
// (PENDING ones get a new init task too, in case theirs was lost),
// and the follow-up steps (auth for an approved batch, cancel for a canceled one, polls for
// authorized chunks, finalize) are enqueued under fresh task IDs. It changes nothing when the
// ledger already agrees with iyzico, so it is safe to run any time, any number of times.
func (p *Pipeline) Reconcile(ctx context.Context, batchID string) ([]ReconcileChange, error) {
	b, err := p.Store.Get(ctx, batchID)
	if err != nil {
		return nil, err
	}
	if b.Generation, err = p.Store.NextGeneration(ctx, batchID); err != nil {
		return nil, err
	}
	topts := b.TaskOptions(p.TaskOptions)
	var changes []ReconcileChange
	for seq := 1; seq <= b.ChunksSeen; seq++ {
		c, err := p.Store.GetChunk(ctx, batchID, seq)
		if err != nil {
			return changes, err
		}
		ch, err := p.reconcileChunk(ctx, b, c, topts)
		if err != nil {
			return changes, fmt.Errorf("reconcile chunk %s: %w", c.ExternalID(), err)
		}
		if ch != nil {
			changes = append(changes, *ch)
		}
	}
	if len(changes) == 0 {
		return nil, nil
	}
	if err := p.Store.Reopen(ctx, batchID, b.Generation); err != nil {
		return changes, err
	}
	if err := p.Store.Audit(ctx, batchID, "reconcile", "reconciled", fmt.Sprintf("%d chunks repaired", len(changes))); err != nil {
		return changes, err
	}
	b, err = p.Store.Get(ctx, batchID)
	if err != nil {
		return changes, err
	}
	return changes, batch.EnqueueFinalizeIfDue(ctx, p.Queue, topts, batchID, b.Progress())
}

func (p *Pipeline) reconcileChunk(ctx context.Context, b *batch.Batch, c *batch.Chunk, topts tasks.Options) (*ReconcileChange, error) {
	ref := tasks.Chunk{Batch: c.Batch, Seq: c.Seq}
	summary, items, err := p.retrieveAll(ctx, c)
	if isNotFound(err) || (err == nil && summary == nil && len(items) == 0) {
		switch c.State {
		case batch.ChunkUnknown:
			pending := fill(len(c.Rows), batch.Outcome{Status: batch.RowPending})
			if _, err := p.apply(ctx, c, batch.Change{State: batch.ChunkPending, Outcomes: pending}); err != nil {
				return nil, err
			}
			if err := batch.Enqueue(ctx, p.Queue, tasks.NewInitTask(ref, topts)); err != nil {
				return nil, err
			}
			return &ReconcileChange{Chunk: c.ExternalID(), From: batch.ChunkUnknown, To: batch.ChunkPending, Detail: "iyzico has never seen it: init enqueued again"}, nil
		case batch.ChunkPending:
			// Its init task may be lost (archived after a failure to record UNKNOWN, or gone with
			// Redis data): enqueue it again; a duplicate is harmless, the handler reads back first.
			if err := batch.Enqueue(ctx, p.Queue, tasks.NewInitTask(ref, topts)); err != nil {
				return nil, err
			}
			return &ReconcileChange{Chunk: c.ExternalID(), From: c.State, To: c.State, Detail: "not at iyzico yet: init enqueued again"}, nil
		case batch.ChunkError:
			return nil, nil // refused before iyzico created it
		}
		return &ReconcileChange{Chunk: c.ExternalID(), From: c.State, To: c.State, Detail: "the ledger holds it but iyzico does not know this externalId; ask iyzico before acting"}, nil
	}
	if err != nil {
		return nil, err
	}
	outcomes, _, err := adoptedOutcomes(c, summary, items)
	if err != nil {
		return nil, err
	}
	keepKnown(c, outcomes)
	state := chunkStateFrom(payoutStatus(summary), outcomes)
	requestID := requestIDOf(summary, items)
	if requestID == "" {
		requestID = c.RequestID
	}
	detail := ""
	if state == batch.ChunkInit && requestID == "" {
		state, detail = batch.ChunkUnknown, "iyzico holds it in INIT but did not say its requestId; ask iyzico support"
	}
	if state == c.State && sameStatuses(c.Statuses(), outcomes) {
		return nil, nil
	}
	from := c.State
	if _, err := p.apply(ctx, c, batch.Change{State: state, Outcomes: outcomes, RequestID: requestID, PayoutStatus: payoutStatus(summary)}); err != nil {
		return nil, err
	}
	switch {
	case state == batch.ChunkInit && b.CancelRequested:
		err = batch.Enqueue(ctx, p.Queue, tasks.NewCancelTask(ref, topts))
	case state == batch.ChunkInit && b.ApprovedBy != "":
		err = batch.Enqueue(ctx, p.Queue, tasks.NewAuthTask(ref, topts))
	case state == batch.ChunkAuthorized:
		err = p.schedulePoll(ctx, c)
	}
	if detail == "" {
		detail = "adopted iyzico's state: " + describeStatuses(outcomes)
	}
	return &ReconcileChange{Chunk: c.ExternalID(), From: from, To: state, Detail: detail}, err
}

// keepKnown keeps the ledger's outcome of items iyzico's answer did not list.
func keepKnown(c *batch.Chunk, outcomes []batch.Outcome) {
	for i, o := range outcomes {
		if o.Status == batch.RowUnknown && i < len(c.Outcomes) && c.Outcomes[i].Status != "" && c.Outcomes[i].Status != batch.RowPending {
			outcomes[i] = c.Outcomes[i]
		}
	}
}

func sameStatuses(old []string, next []batch.Outcome) bool {
	for i, o := range next {
		if old[i] != o.Status {
			return false
		}
	}
	return true
}

func describeStatuses(out []batch.Outcome) string {
	n := map[string]int{}
	for _, o := range out {
		n[o.Status]++
	}
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", n[k], k)
	}
	return strings.Join(parts, ", ")
}
