package schedule

import (
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"
)

// Search horizons: a rule that has not fired within them is taken to never
// fire again. They bound every loop in this package.
const (
	horizonMonths = 12 * 10  // month-based rules: ten years of months
	horizonDays   = 366 * 10 // cron specs: ten years of days (29 February fires every 4 to 8 years)
)

// maxBusinessDays is the most business days a month can have (31 days, 23
// weekdays).
const maxBusinessDays = 23

// rule is a parsed `when`. Month-based rules run once in some months; cron
// specs may run many times a month.
type rule interface {
	// times yields the run times at or after from, in order, with the period
	// each pays for, up to the rule's horizon.
	times(cal *Calendar, from time.Time) iter.Seq2[time.Time, string]
	// inMonth returns the first run time in the month, if any.
	inMonth(cal *Calendar, year int, month time.Month) (time.Time, bool)
}

// parseWhen parses a schedule's `when`: "last-business-day HH:MM",
// "business-day N HH:MM", "day N HH:MM" or a 5-field cron spec.
func parseWhen(s string) (rule, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return nil, fmt.Errorf("when is empty: %s", whenForms)
	}
	switch f[0] {
	case "last-business-day":
		if len(f) != 2 {
			return nil, fmt.Errorf("when %q: want \"last-business-day HH:MM\"", s)
		}
		at, err := ParseClock(f[1])
		if err != nil {
			return nil, fmt.Errorf("when %q: %w", s, err)
		}
		return monthRule{kind: businessDayRule, n: -1, at: at}, nil
	case "business-day", "day":
		if len(f) != 3 {
			return nil, fmt.Errorf("when %q: want \"%s N HH:MM\"", s, f[0])
		}
		n, err := strconv.Atoi(f[1])
		limit, kind := maxBusinessDays, businessDayRule
		if f[0] == "day" {
			limit, kind = 31, calendarDayRule
		}
		if err != nil || n == 0 || n > limit || n < -limit {
			return nil, fmt.Errorf("when %q: N must be a whole number from 1 to %d, or -1 to -%d counting from the end of the month", s, limit, limit)
		}
		at, err := ParseClock(f[2])
		if err != nil {
			return nil, fmt.Errorf("when %q: %w", s, err)
		}
		return monthRule{kind: kind, n: n, at: at}, nil
	}
	if len(f) == 5 {
		c, err := parseCron(f)
		if err != nil {
			return nil, fmt.Errorf("when %q: %w", s, err)
		}
		return c, nil
	}
	return nil, fmt.Errorf("when %q: %s", s, whenForms)
}

const whenForms = `want "last-business-day HH:MM", "business-day N HH:MM", "day N HH:MM" or a 5-field cron spec "MIN HOUR DOM MON DOW"`

type monthRuleKind int

const (
	businessDayRule monthRuleKind = iota + 1
	calendarDayRule
)

// monthRule runs once a month at a wall-clock time:
//   - businessDayRule: on the n-th day of the month (negative from the end)
//     on which at is business time, so an arife counts only when at is
//     before noon; a month with fewer such days has no run.
//   - calendarDayRule: on day n of the month whatever the calendar says;
//     n beyond the month's length is clamped to its last day (day 31 runs on
//     30 April and 28 or 29 February), and a negative n counts from the end
//     (-1 is the last day) and is clamped to the 1st.
type monthRule struct {
	kind monthRuleKind
	n    int
	at   Clock
}

func (r monthRule) inMonth(cal *Calendar, year int, month time.Month) (time.Time, bool) {
	if r.kind == businessDayRule {
		return cal.NthBusinessTime(year, month, r.n, r.at)
	}
	last := daysIn(year, month)
	day := r.n
	if day < 0 {
		day = max(1, last+1+day)
	}
	day = min(day, last)
	return Date{year, month, day}.At(r.at, cal.Location()), true
}

func (r monthRule) times(cal *Calendar, from time.Time) iter.Seq2[time.Time, string] {
	return func(yield func(time.Time, string) bool) {
		y, m, _ := from.In(cal.Location()).Date()
		for range horizonMonths {
			if t, ok := r.inMonth(cal, y, m); ok && !t.Before(from) {
				if !yield(t, FormatPeriod(y, m)) {
					return
				}
			}
			if m++; m > time.December {
				y, m = y+1, time.January
			}
		}
	}
}

// FormatPeriod formats a month as a period ID, YYYY-MM.
func FormatPeriod(year int, month time.Month) string {
	return fmt.Sprintf("%04d-%02d", year, int(month))
}

// ParsePeriod parses a period ID written YYYY-MM.
func ParsePeriod(s string) (year int, month time.Month, err error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || len(s) != len("2006-01") {
		return 0, 0, fmt.Errorf("bad period %q: want YYYY-MM", s)
	}
	return t.Year(), t.Month(), nil
}
