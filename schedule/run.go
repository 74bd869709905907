package schedule

import (
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"
)

// Run is one scheduled run: which schedule, when it is due, and the period
// (YYYY-MM) it pays for. For month-based rules the period is the month the
// rule picked the day in; for cron specs it is the month of At in the file's
// time zone, so a cron spec that fires several times a month gives several
// runs with the same period.
type Run struct {
	Schedule string
	At       time.Time // in the file's time zone
	Period   string
}

// Next returns the schedule's next n runs at or after from, in time order
// (fewer if the rule stops firing within ten years).
func (s *Schedule) Next(from time.Time, n int) []Run {
	var out []Run
	if n <= 0 {
		return out
	}
	for r := range s.runs(from) {
		out = append(out, r)
		if len(out) == n {
			break
		}
	}
	return out
}

// DueBetween returns the schedule's runs due after after and at or before
// upTo, in time order.
func (s *Schedule) DueBetween(after, upTo time.Time) []Run {
	var out []Run
	if !upTo.After(after) {
		return out
	}
	for r := range s.runs(after.Add(time.Nanosecond)) {
		if r.At.After(upTo) {
			break
		}
		out = append(out, r)
	}
	return out
}

// RunFor returns the schedule's run for period (YYYY-MM): the month's run of
// a month-based rule, or the first run of that month for a cron spec. It is
// what a manual trigger runs, and may be in the past or the future. It
// returns ErrNoRun when the rule does not fire that month.
func (s *Schedule) RunFor(period string) (Run, error) {
	y, m, err := ParsePeriod(period)
	if err != nil {
		return Run{}, err
	}
	t, ok := s.rule.inMonth(s.cal, y, m)
	if !ok {
		return Run{}, fmt.Errorf("schedule %q, period %s: %w", s.Name, period, ErrNoRun)
	}
	return Run{Schedule: s.Name, At: t, Period: FormatPeriod(y, m)}, nil
}

// BatchID renders the schedule's batch ID template for r: {name} is the
// schedule's name, {period} r.Period and {date} the date of r.At in the
// file's time zone. The result is always a valid batch ID
// ([A-Za-z0-9._-]{1,64}): Parse checked the template.
func (s *Schedule) BatchID(r Run) string {
	date := DateOf(r.At.In(s.cal.Location())).String()
	return s.tmpl.render(s.Name, r.Period, date)
}

// runs yields the schedule's runs at or after from, in time order, up to the
// rule's horizon.
func (s *Schedule) runs(from time.Time) iter.Seq[Run] {
	return func(yield func(Run) bool) {
		for t, period := range s.rule.times(s.cal, from) {
			if !yield(Run{Schedule: s.Name, At: t, Period: period}) {
				return
			}
		}
	}
}

// Next returns the next n runs at or after from over every schedule, sorted
// by time, then schedule name.
func (f *File) Next(from time.Time, n int) []Run {
	var out []Run
	if n <= 0 {
		return out
	}
	for _, s := range f.Schedules {
		out = append(out, s.Next(from, n)...)
	}
	sortRuns(out)
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// DueBetween returns every run of every schedule due after after and at or
// before upTo, sorted by time, then schedule name: what a scheduler that last
// looked at after and now looks at upTo must start, including runs it missed
// while it was down.
func (f *File) DueBetween(after, upTo time.Time) []Run {
	var out []Run
	for _, s := range f.Schedules {
		out = append(out, s.DueBetween(after, upTo)...)
	}
	sortRuns(out)
	return out
}

// RunFor returns the run of the schedule called name for period (YYYY-MM);
// see Schedule.RunFor. The error wraps ErrUnknownSchedule or ErrNoRun.
func (f *File) RunFor(name, period string) (Run, error) {
	s, ok := f.Schedule(name)
	if !ok {
		return Run{}, fmt.Errorf("run for %s: %w %q", period, ErrUnknownSchedule, name)
	}
	return s.RunFor(period)
}

// BatchID returns the batch ID of r; see Schedule.BatchID. The error wraps
// ErrUnknownSchedule when r.Schedule is not in the file.
func (f *File) BatchID(r Run) (string, error) {
	s, ok := f.Schedule(r.Schedule)
	if !ok {
		return "", fmt.Errorf("batch ID: %w %q", ErrUnknownSchedule, r.Schedule)
	}
	return s.BatchID(r), nil
}

// EndOfBusinessDay returns the end of the business day that t falls on, in
// the file's time zone: BusinessDayEnd on that date, or 12:00 when the date is
// a half-day eve. The scheduler retries a run whose file has not arrived until
// then and records it missed after; the result is before t when t is already
// past the end (a run at 20:00 has no retry window).
func (f *File) EndOfBusinessDay(t time.Time) time.Time {
	return f.Calendar.BusinessDayEnd(DateOf(t.In(f.Location)), f.BusinessDayEnd)
}

// PeriodOf returns the period (YYYY-MM) that t falls in, in the file's time
// zone: the default period of a manual trigger at t.
func (f *File) PeriodOf(t time.Time) string {
	y, m, _ := t.In(f.Location).Date()
	return FormatPeriod(y, m)
}

func sortRuns(rs []Run) {
	slices.SortStableFunc(rs, func(a, b Run) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.Schedule, b.Schedule)
	})
}
