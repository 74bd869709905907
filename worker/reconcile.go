package worker

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/tasks"
)

// ReconcileChange is what Reconcile found for one chunk.
type ReconcileChange struct {
	Chunk  string // the chunk's externalId
	From   string // ledger state before
	To     string // ledger state after (equal to From when nothing changed)
	Detail string
	// Changed: the ledger took what iyzico showed (the state, or only item outcomes).
	Changed bool
	// Busy: another step held the chunk's claim; it was left to that step.
	Busy bool
	// Unresolved: the chunk is UNKNOWN, or iyzico could not be asked; a person may have to look.
	Unresolved bool
}

func (c ReconcileChange) String() string {
	if c.From == c.To {
		return fmt.Sprintf("%s: %s (%s)", c.Chunk, c.Detail, c.From)
	}
	return fmt.Sprintf("%s: %s → %s: %s", c.Chunk, c.From, c.To, c.Detail)
}

// Reconcile re-reads every chunk of a batch from iyzico by externalMassPayoutId and repairs the
// ledger, one chunk at a time under the chunk's claim (a chunk another step is working on is
// reported busy and left to it): chunks take what iyzico shows, an UNKNOWN chunk iyzico never saw
// goes back to PENDING, and every chunk gets the task its state needs. A final batch that changed
// is reopened: its final status and callback are recorded again. It returns one entry per chunk
// and is safe to run any time, any number of times.
func (p *Pipeline) Reconcile(ctx context.Context, batchID string) ([]ReconcileChange, error) {
	b, err := p.Store.Head(ctx, batchID)
	if err != nil {
		return nil, err
	}
	var changes []ReconcileChange
	changed := false
	for seq := 1; seq <= b.ChunksSeen; seq++ {
		ch := p.ReconcileChunk(ctx, tasks.Chunk{Batch: batchID, Seq: seq})
		changed = changed || ch.Changed
		changes = append(changes, ch)
	}
	if changed {
		if err := p.Store.Reopen(ctx, batchID); err != nil {
			return changes, err
		}
		if err := p.Store.Audit(ctx, batchID, "reconcile", "reconciled", describeChanges(changes)); err != nil {
			return changes, err
		}
	}
	if _, _, err := p.Store.EnsureSteps(ctx, batchID, p.Queue, p.TaskOptions, 0); err != nil {
		return changes, err
	}
	fresh, err := p.Store.Get(ctx, batchID)
	if err != nil {
		return changes, err
	}
	return changes, p.Store.EnqueueFinalize(ctx, p.Queue, p.TaskOptions, batchID, fresh.Progress())
}

// ReconcileChunk reads one chunk back from iyzico under its claim and adopts what iyzico shows.
func (p *Pipeline) ReconcileChunk(ctx context.Context, ref tasks.Chunk) ReconcileChange {
	ch := ReconcileChange{Chunk: tasks.ChunkExternalID(ref.Batch, ref.Seq)}
	err := p.runStep(ctx, ref, batch.StepReconcile, batch.ChunkStatesAll, false, func(ctx context.Context, s *step) error {
		c := s.c
		ch.From, ch.To = c.State, c.State
		r, err := p.readBack(ctx, c)
		if err != nil {
			_, _ = s.cl.Fail(context.WithoutCancel(ctx), batch.Failure{Err: err})
			return err
		}
		ev, out, reason := seen(c, r)
		next, terr := batch.Next(c.State, ev)
		switch {
		case terr != nil:
			ch.Detail = fmt.Sprintf("iyzico shows %s (%s); the ledger's %s stands", ev, r.payoutStatus(), c.State)
			return nil
		case next == c.State && (out == nil || sameStatuses(c.Statuses(), out)):
			ch.Detail = "agrees with iyzico"
			if next == batch.ChunkUnknown {
				ch.Detail = reason
			}
			return nil
		}
		if err := s.adopt(ctx, r); err != nil {
			return err
		}
		ch.To, ch.Changed = c.State, true
		switch {
		case ev == batch.EvSeenAbsent:
			ch.Detail = "iyzico has never seen it: init enqueued again"
		case reason != "":
			ch.Detail = reason
		default:
			ch.Detail = "adopted iyzico's state: " + describeStatuses(c.Outcomes)
		}
		return nil
	})
	var busy *batch.BusyError
	switch {
	case errors.As(err, &busy):
		ch.Detail, ch.Busy = fmt.Sprintf("busy: its %s step is at work (claim for up to %s more)", busy.Step, busy.Left.Round(time.Second)), true
		return ch
	case err != nil:
		ch.Detail, ch.Unresolved = "not reconciled: "+err.Error(), true
	}
	if ch.From == "" { // the claim was refused: read the state for the report
		if c, gerr := p.Store.GetChunk(ctx, ref.Batch, ref.Seq); gerr == nil {
			ch.From, ch.To = c.State, c.State
		}
	}
	ch.Unresolved = ch.Unresolved || ch.To == batch.ChunkUnknown
	return ch
}

// HandleReconcile is the payout:reconcile handler: the janitor's reconcile of one UNKNOWN chunk.
func HandleReconcile(p *Pipeline) asynq.HandlerFunc {
	return chunkHandler(func(ctx context.Context, ref tasks.Chunk) error {
		ch := p.ReconcileChunk(ctx, ref)
		log := p.chunkLog(ref)
		if ch.Changed {
			if err := p.Store.Reopen(ctx, ref.Batch); err != nil {
				return err
			}
			log.Info().Str("from", ch.From).Str("status", ch.To).Msg("janitor reconciled the chunk")
			return p.Store.Audit(ctx, ref.Batch, "janitor", "reconciled", ch.String())
		}
		log.Debug().Str("detail", ch.Detail).Msg("janitor reconcile: no change")
		return nil
	})
}

func describeChanges(changes []ReconcileChange) string {
	n := 0
	for _, c := range changes {
		if c.Changed {
			n++
		}
	}
	return fmt.Sprintf("%d of %d chunks repaired", n, len(changes))
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
