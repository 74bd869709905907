package schedule

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/masspayout/masspayout/internal/redistest"
)

func TestHistoryRecordAndRecent(t *testing.T) {
	rdb := redistest.Start(t).Client()
	h := NewHistory(rdb, 3)
	ctx := t.Context()
	at := mustTime(t, "2026-05-26T10:00:00+03:00")
	rec := func(period string, o Outcome, retrying bool) Record {
		at = at.Add(time.Minute)
		return Record{Schedule: "payroll", Period: period, Due: at, At: at, Trigger: TriggerSchedule, Outcome: o, Retrying: retrying, Message: fmt.Sprint(o, " ", at.Format("15:04"))}
	}
	steps := []struct {
		rec  Record
		want []string // outcomes, newest first
	}{
		{rec("2026-03", OutcomeSubmitted, false), []string{"SUBMITTED"}},
		{rec("2026-04", OutcomeWaiting, false), []string{"WAITING", "SUBMITTED"}},
		{rec("2026-04", OutcomeWaiting, false), []string{"WAITING", "SUBMITTED"}},                              // replaces the WAITING line
		{rec("2026-04", OutcomeMissed, false), []string{"MISSED", "SUBMITTED"}},                                // and so does the final outcome
		{rec("2026-04", OutcomeAlreadySubmitted, false), []string{"ALREADY_SUBMITTED", "MISSED", "SUBMITTED"}}, // a final line is kept
		{rec("2026-05", OutcomeFailed, true), []string{"FAILED", "ALREADY_SUBMITTED", "MISSED"}},               // bounded to 3
		{rec("2026-05", OutcomeSubmitted, false), []string{"SUBMITTED", "ALREADY_SUBMITTED", "MISSED"}},
	}
	for i, st := range steps {
		if err := h.Record(ctx, st.rec); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		got, err := h.Recent(ctx, "payroll", 10)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		var outcomes []string
		for _, r := range got {
			outcomes = append(outcomes, string(r.Outcome))
		}
		if !slices.Equal(outcomes, st.want) {
			t.Errorf("step %d: history %v, want %v", i, outcomes, st.want)
		}
		if got[0].Message != st.rec.Message || !got[0].At.Equal(st.rec.At) || got[0].Period != st.rec.Period {
			t.Errorf("step %d: newest record %+v, want %+v", i, got[0], st.rec)
		}
	}
	if got, _ := h.Recent(ctx, "payroll", 1); len(got) != 1 {
		t.Errorf("Recent(1) returned %d records", len(got))
	}
	if got, err := h.Recent(ctx, "nobody", 5); err != nil || len(got) != 0 {
		t.Errorf("Recent of a schedule that never ran = %v, %v", got, err)
	}
	if keys, _ := rdb.Keys(ctx, "*").Result(); len(keys) == 0 || !allPrefixed(keys, "mp:schedule:") {
		t.Errorf("keys %v, want every key prefixed mp:schedule:", keys)
	}
}

func allPrefixed(keys []string, prefix string) bool {
	for _, k := range keys {
		if len(k) < len(prefix) || k[:len(prefix)] != prefix {
			return false
		}
	}
	return true
}

func TestHistoryAssignFiles(t *testing.T) {
	rdb := redistest.Start(t).Client()
	h := NewHistory(rdb, 0)
	ctx := t.Context()
	may := Run{Schedule: "payroll", Period: "2026-05"}
	steps := []struct {
		found []string
		want  []string
	}{
		{nil, nil},
		{[]string{"/in/a.csv", "/in/b.csv"}, []string{"/in/a.csv", "/in/b.csv"}},
		// a retry after a.csv was moved away still finds it first
		{[]string{"/in/b.csv"}, []string{"/in/a.csv", "/in/b.csv"}},
		// a file that sorts first but arrives later takes the next position
		{[]string{"/in/0.csv", "/in/b.csv"}, []string{"/in/a.csv", "/in/b.csv", "/in/0.csv"}},
	}
	for i, st := range steps {
		got, err := h.AssignFiles(ctx, may, st.found, time.Hour)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if !slices.Equal(got, st.want) {
			t.Errorf("step %d: files %v, want %v", i, got, st.want)
		}
	}
	june, err := h.AssignFiles(ctx, Run{Schedule: "payroll", Period: "2026-06"}, []string{"/in/b.csv"}, 0)
	if err != nil || !slices.Equal(june, []string{"/in/b.csv"}) {
		t.Errorf("another period: %v, %v; want its own list", june, err)
	}
	if ttl := rdb.PTTL(ctx, filesKey("payroll", "2026-05")).Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("TTL of the period's files = %v, want at most 1h", ttl)
	}
}
