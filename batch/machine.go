package batch

import (
	"fmt"
	"strings"
)

// The chunk lifecycle, in one place (docs/state-machine.md draws it). A chunk is one iyzico mass
// payout. Its state changes only through Next: every step that calls iyzico (init, auth, cancel,
// poll, reconcile) claims the chunk, reads iyzico back when an earlier attempt may have reached it,
// calls, and commits one of the events below while its claim holds (claim.go).
//
//	PENDING ──init accepted──► INIT ──auth accepted──► AUTHORIZED ──bank final──► DONE
//	   │ └─init: every item invalid──────────────────────────────────────────────► DONE
//	   ├─init refused (answered, and iyzico holds nothing) ─► ERROR
//	   └─budget spent ─► UNKNOWN ◄─ budget spent (auth, poll, POLL_FOR) ─┘
//	INIT ──cancel accepted──► CANCELED     INIT ──auth refused, still INIT at iyzico──► ERROR
//	any state ──read back──► what iyzico shows (Seen*); a payout iyzico confirmed and no longer
//	shows, or one whose requestId cannot be learnt, is UNKNOWN: never guessed.

// Event is something a step learnt about a chunk.
type Event string

// The events.
const (
	EvInitAccepted   Event = "init-accepted"    // iyzico created the payout; some items valid
	EvInitAllInvalid Event = "init-all-invalid" // iyzico created the payout; every item INVALID
	EvInitRefused    Event = "init-refused"     // init answered with a failure and iyzico holds nothing
	EvAuthAccepted   Event = "auth-accepted"    // auth answered success
	EvAuthRefused    Event = "auth-refused"     // auth answered with a failure and iyzico still shows INIT
	EvCancelAccepted Event = "cancel-accepted"  // cancel answered success
	EvBankFinal      Event = "bank-final"       // a poll found every item final
	EvBudgetSpent    Event = "budget-spent"     // the step's retry budget (or POLL_FOR) ran out without an answer

	// Read-back events: what iyzico shows when asked by externalMassPayoutId.
	EvSeenInit     Event = "seen-init"     // the payout is INIT (awaiting auth), requestId known
	EvSeenMoving   Event = "seen-moving"   // authorized, items still at the bank
	EvSeenFinal    Event = "seen-final"    // every item final
	EvSeenCanceled Event = "seen-canceled" // canceled before auth
	EvSeenAbsent   Event = "seen-absent"   // iyzico answered: no such payout, and it never confirmed one
	EvSeenLost     Event = "seen-lost"     // iyzico no longer shows a payout it confirmed, or shows another requestId
	EvSeenNoID     Event = "seen-no-id"    // iyzico holds the payout in INIT but says no requestId
)

// transitions is the chunk state machine: state × event → next state. A missing pair is an
// illegal transition.
var transitions = map[string]map[Event]string{
	ChunkPending: {
		EvInitAccepted: ChunkInit, EvInitAllInvalid: ChunkDone, EvInitRefused: ChunkError, EvBudgetSpent: ChunkUnknown,
		EvSeenInit: ChunkInit, EvSeenMoving: ChunkAuthorized, EvSeenFinal: ChunkDone, EvSeenCanceled: ChunkCanceled,
		EvSeenAbsent: ChunkPending, EvSeenLost: ChunkUnknown, EvSeenNoID: ChunkUnknown,
	},
	ChunkInit: {
		EvAuthAccepted: ChunkAuthorized, EvAuthRefused: ChunkError, EvCancelAccepted: ChunkCanceled, EvBudgetSpent: ChunkUnknown,
		EvSeenInit: ChunkInit, EvSeenMoving: ChunkAuthorized, EvSeenFinal: ChunkDone, EvSeenCanceled: ChunkCanceled,
		EvSeenLost: ChunkUnknown, EvSeenNoID: ChunkUnknown,
	},
	ChunkAuthorized: {
		EvBankFinal: ChunkDone, EvBudgetSpent: ChunkUnknown,
		EvSeenMoving: ChunkAuthorized, EvSeenFinal: ChunkDone, EvSeenCanceled: ChunkCanceled,
		// Authorized, yet iyzico shows it unauthorized or not at all: a person must look.
		EvSeenInit: ChunkUnknown, EvSeenLost: ChunkUnknown, EvSeenNoID: ChunkUnknown,
	},
	ChunkUnknown: {
		EvSeenInit: ChunkInit, EvSeenMoving: ChunkAuthorized, EvSeenFinal: ChunkDone, EvSeenCanceled: ChunkCanceled,
		EvSeenAbsent: ChunkPending, EvSeenLost: ChunkUnknown, EvSeenNoID: ChunkUnknown,
	},
	ChunkError: {
		// Refused, yet iyzico holds it after all: follow what it shows.
		EvSeenInit: ChunkInit, EvSeenMoving: ChunkAuthorized, EvSeenFinal: ChunkDone, EvSeenCanceled: ChunkCanceled,
		EvSeenAbsent: ChunkError, EvSeenLost: ChunkError, EvSeenNoID: ChunkUnknown,
	},
	ChunkDone: {
		EvSeenFinal: ChunkDone, // later answers (a refund after FAILED) refresh the outcomes
	},
	ChunkCanceled: {
		EvSeenCanceled: ChunkCanceled,
	},
}

// ErrIllegalTransition: an event that the chunk's state does not allow.
var ErrIllegalTransition = fmt.Errorf("illegal chunk transition")

// Next returns the state a chunk in state moves to on ev, or ErrIllegalTransition.
func Next(state string, ev Event) (string, error) {
	if to, ok := transitions[state][ev]; ok {
		return to, nil
	}
	return "", fmt.Errorf("%w: %s on %s", ErrIllegalTransition, state, ev)
}

// Settled reports whether a chunk in state needs no more work (DONE, ERROR, CANCELED). UNKNOWN
// is not settled: money may be moving.
func Settled(state string) bool {
	return state == ChunkDone || state == ChunkError || state == ChunkCanceled
}

// ChunkStatesAll lists every chunk state, in lifecycle order.
var ChunkStatesAll = []string{ChunkPending, ChunkInit, ChunkAuthorized, ChunkUnknown, ChunkDone, ChunkError, ChunkCanceled}

// StatusInputs is what a batch's status is derived from.
type StatusInputs struct {
	SubmitDone, SubmitFailed, CancelRequested bool
	Chunks                                    map[string]int // chunks per state
	InitWaiting                               int            // chunks in INIT without an approval
	Rows                                      int            // rows in the file
	RowCounts                                 map[string]int // rows per row status
}

// authorizedRowStatuses are the item statuses of rows iyzico was told to pay.
var authorizedRowStatuses = []string{"SUCCESS", "FAILED", "DEPOSIT_SUCCESS", "DEPOSIT_FAIL", "PROCESSING", "QUEUED"}

// DeriveStatus is the batch status its chunks give (DESIGN.md §6, §11), in this order: SUBMIT_FAILED,
// SUBMITTING; PROCESSING while a chunk awaits its init; AWAITING_APPROVAL while a chunk in INIT
// awaits an approval; PROCESSING while approved chunks await auth or cancel or items are at the
// bank; NEEDS_RECONCILE while a chunk is UNKNOWN; then the final status: COMPLETED when every row
// was paid, CANCELED when nothing was authorized and something canceled, FAILED when nothing was
// authorized, else COMPLETED_WITH_ERRORS. A batch with an authorized payout is never FAILED.
func DeriveStatus(in StatusInputs) string {
	switch {
	case in.SubmitFailed:
		return StatusSubmitFailed
	case !in.SubmitDone:
		return StatusSubmitting
	case in.Chunks[ChunkPending] > 0:
		return StatusProcessing
	case in.InitWaiting > 0 && !in.CancelRequested:
		return StatusAwaitingApproval
	case in.Chunks[ChunkInit] > 0 || in.Chunks[ChunkAuthorized] > 0:
		return StatusProcessing
	case in.Chunks[ChunkUnknown] > 0:
		return StatusNeedsReconcile
	}
	authorized := 0
	for _, st := range authorizedRowStatuses {
		authorized += in.RowCounts[st]
	}
	switch {
	case in.Rows > 0 && in.RowCounts["SUCCESS"] == in.Rows:
		return StatusCompleted
	case authorized > 0:
		return StatusCompletedWithErrors
	case in.RowCounts["MASS_PAYOUT_CANCELED"] > 0:
		return StatusCanceled
	}
	return StatusFailed
}

// FinalStatus reports whether status is a batch's final status: nothing more will change
// without a person (reconcile can still repair it).
func FinalStatus(status string) bool {
	switch status {
	case StatusCompleted, StatusCompletedWithErrors, StatusFailed, StatusCanceled:
		return true
	}
	return false
}

// DescribeChunkStates renders chunks per state as "2 INIT, 1 UNKNOWN" in lifecycle order.
func DescribeChunkStates(n map[string]int) string {
	var parts []string
	for _, st := range ChunkStatesAll {
		if n[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[st], st))
		}
	}
	return strings.Join(parts, ", ")
}

// NextStep says, in a sentence for the operator, what the batch waits for and what to do; "" when
// it needs nothing (it is moving, or final).
func NextStep(b *Batch) string {
	switch b.Status {
	case StatusAwaitingApproval:
		s := fmt.Sprintf("%d %s approval: approve the batch to pay them, or cancel it", b.InitWaiting, plural(b.InitWaiting, "chunk in INIT awaits", "chunks in INIT await"))
		if b.Approvals > 0 {
			s = fmt.Sprintf("%d %s INIT after the last approval (%d so far) and %s an approval of its own: approve again to pay them", b.InitWaiting,
				plural(b.InitWaiting, "chunk reached", "chunks reached"), b.Approvals, plural(b.InitWaiting, "awaits", "await"))
		}
		return s
	case StatusNeedsReconcile:
		return fmt.Sprintf("%d %s UNKNOWN: iyzico may have acted on them and money may be moving, so the batch is not final and must not be submitted again. "+
			"The janitor reconciles them with growing waits; run `masspayout reconcile %s` to do it now, and ask iyzico support about the externalIds if they stay UNKNOWN",
			b.Chunks[ChunkUnknown], plural(b.Chunks[ChunkUnknown], "chunk is", "chunks are"), b.ID)
	case StatusSubmitFailed:
		return "the submission stopped before anything was stored and nothing was sent: submit the file again"
	case StatusSubmitting:
		return "the file is being submitted; an interrupted submission is completed by submitting the same file again"
	}
	return ""
}

func plural(n int, one string, many ...string) string {
	if n == 1 {
		return one
	}
	if len(many) > 0 {
		return many[0]
	}
	return one + "s"
}
