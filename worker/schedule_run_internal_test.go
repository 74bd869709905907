package worker

import (
	"errors"
	"fmt"
	"testing"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/schedule"
)

func TestScheduleRunRetryDecision(t *testing.T) {
	conflict := &batch.ConflictError{BatchID: "payroll-2026-06", What: "content"}
	transient := errors.New("redis: connection refused")
	gone := fmt.Errorf("%w: file gone", errNotRetryable)
	ok := fileResult{name: "c.csv", batch: "payroll-2026-06-3", fresh: true, detail: "3 rows"}
	tests := []struct {
		name    string
		results []fileResult
		outcome schedule.Outcome
		perm    bool
	}{
		{"all submitted", []fileResult{ok}, schedule.OutcomeSubmitted, false},
		{"conflict only", []fileResult{{name: "a.csv", batch: "payroll-2026-06", err: conflict}, ok}, schedule.OutcomeFailed, true},
		{"conflict and a vanished file", []fileResult{{name: "a.csv", err: conflict}, {name: "b.csv", err: gone}}, schedule.OutcomeFailed, true},
		// One file's transient failure makes the run retried, even beside a permanent one.
		{"conflict and transient", []fileResult{{name: "a.csv", err: conflict}, {name: "b.csv", err: transient}}, schedule.OutcomeFailed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := summarize(schedule.Record{}, tt.results)
			if rec.Outcome != tt.outcome {
				t.Errorf("outcome %s, want %s", rec.Outcome, tt.outcome)
			}
			if err == nil {
				if tt.outcome == schedule.OutcomeFailed {
					t.Fatal("no error for a failed run")
				}
				return
			}
			if got := permanentRunError(err); got != tt.perm {
				t.Errorf("permanent = %v, want %v (%v)", got, tt.perm, err)
			}
			if errors.Is(err, batch.ErrBatchConflict) != (tt.results[0].err == conflict) {
				t.Errorf("errors.Is(err, ErrBatchConflict) wrong for %v", err)
			}
		})
	}
}

func TestWaitTaskIDs(t *testing.T) {
	for _, tt := range []struct {
		id   string
		want int
	}{{"payroll:2026-06", 0}, {"payroll:2026-06:wait-1", 1}, {waitTaskID("payroll", "2026-06", 12), 12}, {"payroll:2026-06:wait-x", 0}, {"", 0}} {
		if got := waitNumber(tt.id); got != tt.want {
			t.Errorf("waitNumber(%q) = %d, want %d", tt.id, got, tt.want)
		}
	}
	if got := numberedBatchID("payroll-2026-06", 1) + " " + numberedBatchID("payroll-2026-06", 3); got != "payroll-2026-06 payroll-2026-06-3" {
		t.Errorf("numberedBatchID = %q", got)
	}
}
