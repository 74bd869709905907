package schedule

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Date is a civil date (year, month, day) with no time of day and no time
// zone. The zero Date is not a valid date.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the civil date of t in t's own location; convert t with
// t.In(loc) first to get the date somewhere else.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate parses a date written YYYY-MM-DD. It rejects any other layout and
// dates that do not exist, such as 2026-02-30.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || len(s) != len(time.DateOnly) {
		return Date{}, fmt.Errorf("bad date %q: want YYYY-MM-DD, a real calendar date", s)
	}
	return DateOf(t), nil
}

// String formats d as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// AddDays returns the date n days after d (before it when n is negative).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// Compare returns -1 if d is before o, 0 if they are the same date, +1 if d
// is after o.
func (d Date) Compare(o Date) int {
	switch {
	case d.Year != o.Year:
		return cmp.Compare(d.Year, o.Year)
	case d.Month != o.Month:
		return cmp.Compare(int(d.Month), int(o.Month))
	default:
		return cmp.Compare(d.Day, o.Day)
	}
}

// At returns the instant at which the wall clock in loc shows c on date d. A
// wall time that a daylight saving change skips is moved forward by the
// length of the gap (02:30 on a day that jumps from 02:00 to 03:00 gives
// 03:30); one that a change repeats gives one of its two instants.
func (d Date) At(c Clock, loc *time.Location) time.Time {
	t := time.Date(d.Year, d.Month, d.Day, c.Hour, c.Minute, 0, 0, loc)
	// time.Date may resolve a skipped wall time backwards; push it forward.
	want := time.Date(d.Year, d.Month, d.Day, c.Hour, c.Minute, 0, 0, time.UTC)
	got := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
	if diff := want.Sub(got); diff > 0 {
		t = t.Add(diff)
	}
	return t
}

// daysIn returns the number of days of the month.
func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 12, 0, 0, 0, time.UTC).Day()
}

// Clock is a wall-clock time of day, to the minute.
type Clock struct {
	Hour   int // 0-23
	Minute int // 0-59
}

// ParseClock parses a time of day written HH:MM or H:MM on a 24-hour clock
// (00:00 to 23:59).
func ParseClock(s string) (Clock, error) {
	h, m, ok := strings.Cut(s, ":")
	bad := fmt.Errorf("bad time %q: want HH:MM on a 24-hour clock, 00:00 to 23:59", s)
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !digits(h) || !digits(m) {
		return Clock{}, bad
	}
	hour, _ := strconv.Atoi(h)
	minute, _ := strconv.Atoi(m)
	if hour > 23 || minute > 59 {
		return Clock{}, bad
	}
	return Clock{hour, minute}, nil
}

// ClockOf returns the wall-clock time of t, in t's own location.
func ClockOf(t time.Time) Clock {
	return Clock{t.Hour(), t.Minute()}
}

// String formats c as HH:MM.
func (c Clock) String() string {
	return fmt.Sprintf("%02d:%02d", c.Hour, c.Minute)
}

// Before reports whether c is earlier in the day than o.
func (c Clock) Before(o Clock) bool {
	return c.Hour < o.Hour || (c.Hour == o.Hour && c.Minute < o.Minute)
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
