package batch

import (
	"errors"
	"testing"

	"github.com/masspayout/masspayout/tasks"
)

var testTaskOptions = tasks.Options{MaxRetry: 3}

func TestTransitions(t *testing.T) {
	for _, tc := range []struct {
		from string
		ev   Event
		to   string // "" = illegal
	}{
		{ChunkPending, EvInitAccepted, ChunkInit},
		{ChunkPending, EvInitAllInvalid, ChunkDone},
		{ChunkPending, EvInitRefused, ChunkError},
		{ChunkPending, EvBudgetSpent, ChunkUnknown},
		{ChunkPending, EvSeenAbsent, ChunkPending},
		{ChunkPending, EvSeenNoID, ChunkUnknown},
		{ChunkInit, EvAuthAccepted, ChunkAuthorized},
		{ChunkInit, EvAuthRefused, ChunkError},
		{ChunkInit, EvCancelAccepted, ChunkCanceled},
		{ChunkInit, EvSeenMoving, ChunkAuthorized},
		{ChunkInit, EvSeenAbsent, ""},
		{ChunkAuthorized, EvSeenFinal, ChunkDone},
		{ChunkAuthorized, EvBudgetSpent, ChunkUnknown},
		{ChunkAuthorized, EvSeenInit, ChunkUnknown},
		{ChunkAuthorized, EvAuthAccepted, ""},
		{ChunkUnknown, EvSeenAbsent, ChunkPending},
		{ChunkUnknown, EvSeenInit, ChunkInit},
		{ChunkUnknown, EvSeenMoving, ChunkAuthorized},
		{ChunkUnknown, EvInitAccepted, ""},
		{ChunkDone, EvSeenFinal, ChunkDone},
		{ChunkDone, EvSeenMoving, ""},
		{ChunkCanceled, EvAuthAccepted, ""},
		{ChunkError, EvSeenAbsent, ChunkError},
	} {
		got, err := Next(tc.from, tc.ev)
		if tc.to == "" {
			if !errors.Is(err, ErrIllegalTransition) {
				t.Errorf("%s on %s = %q, %v; want illegal", tc.from, tc.ev, got, err)
			}
			continue
		}
		if err != nil || got != tc.to {
			t.Errorf("%s on %s = %q, %v; want %s", tc.from, tc.ev, got, err, tc.to)
		}
	}
	for _, st := range ChunkStatesAll {
		if _, ok := transitions[st]; !ok {
			t.Errorf("state %s has no transitions", st)
		}
	}
}

func TestDeriveStatus(t *testing.T) {
	base := func(f func(*StatusInputs)) StatusInputs {
		in := StatusInputs{SubmitDone: true, Chunks: map[string]int{}, RowCounts: map[string]int{}, Rows: 10}
		f(&in)
		return in
	}
	for _, tc := range []struct {
		name string
		in   StatusInputs
		want string
	}{
		{"submitting", StatusInputs{}, StatusSubmitting},
		{"submit failed", StatusInputs{SubmitFailed: true}, StatusSubmitFailed},
		{"pending", base(func(in *StatusInputs) { in.Chunks[ChunkPending] = 1; in.Chunks[ChunkInit] = 1; in.InitWaiting = 1 }), StatusProcessing},
		{"awaiting approval", base(func(in *StatusInputs) { in.Chunks[ChunkInit] = 2; in.InitWaiting = 1; in.Chunks[ChunkUnknown] = 1 }), StatusAwaitingApproval},
		{"canceling", base(func(in *StatusInputs) { in.Chunks[ChunkInit] = 2; in.InitWaiting = 2; in.CancelRequested = true }), StatusProcessing},
		{"authorized", base(func(in *StatusInputs) { in.Chunks[ChunkAuthorized] = 1; in.Chunks[ChunkUnknown] = 1 }), StatusProcessing},
		{"unknown", base(func(in *StatusInputs) { in.Chunks[ChunkUnknown] = 1; in.Chunks[ChunkDone] = 3 }), StatusNeedsReconcile},
		{"all paid", base(func(in *StatusInputs) { in.Chunks[ChunkDone] = 1; in.RowCounts["SUCCESS"] = 10 }), StatusCompleted},
		{"some paid", base(func(in *StatusInputs) {
			in.Chunks[ChunkDone] = 1
			in.RowCounts["SUCCESS"] = 9
			in.RowCounts["REJECTED"] = 1
		}), StatusCompletedWithErrors},
		// Authorized but nothing paid (refunded, or failed at the bank): never FAILED.
		{"authorized, nothing paid", base(func(in *StatusInputs) { in.Chunks[ChunkDone] = 1; in.RowCounts["DEPOSIT_SUCCESS"] = 10 }), StatusCompletedWithErrors},
		{"canceled", base(func(in *StatusInputs) { in.Chunks[ChunkCanceled] = 1; in.RowCounts["MASS_PAYOUT_CANCELED"] = 10 }), StatusCanceled},
		{"refused", base(func(in *StatusInputs) { in.Chunks[ChunkError] = 1; in.RowCounts["ERROR"] = 10 }), StatusFailed},
		{"nothing valid", base(func(in *StatusInputs) { in.RowCounts["REJECTED"] = 10 }), StatusFailed},
	} {
		if got := DeriveStatus(tc.in); got != tc.want {
			t.Errorf("%s: DeriveStatus = %s, want %s", tc.name, got, tc.want)
		}
	}
}
