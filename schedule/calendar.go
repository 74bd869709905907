package schedule

import "time"

// halfDayEnd is the wall-clock time at which a half-day eve (arife) stops
// being business time: on such a day only times before 12:00 are business
// time.
var halfDayEnd = Clock{12, 0}

// HolidayKind says whether a holiday takes the whole day or only the
// afternoon.
type HolidayKind int

const (
	// FullDay is a public holiday: not a business day.
	FullDay HolidayKind = iota + 1
	// HalfDay is a half-day eve (arife): a business day until noon (12:00 local).
	HalfDay
)

// String returns "full day" or "half day".
func (k HolidayKind) String() string {
	switch k {
	case FullDay:
		return "full day"
	case HalfDay:
		return "half day"
	}
	return "unknown"
}

// Holiday is one public holiday on one date.
type Holiday struct {
	Date Date
	Name string
	Kind HolidayKind
}

// ExtraHolidayName is the name of a holiday that comes from a schedule file's
// holidays list rather than the built-in data.
const ExtraHolidayName = "holiday (schedule file)"

// Calendar answers business-day questions in one time zone: Monday to Friday
// are business days unless they are a built-in Turkish public holiday (see
// TurkishHolidays) or one of the calendar's extra holidays; half-day eves are
// business days before noon only. A Calendar is immutable and safe for
// concurrent use.
type Calendar struct {
	loc       *time.Location
	religious map[Date]Holiday
	extra     map[Date]bool
}

// NewCalendar returns the calendar of loc with the built-in Turkish holidays
// and the given extra full-day holidays. It panics if loc is nil, as
// time.Date does.
func NewCalendar(loc *time.Location, extra ...Date) *Calendar {
	if loc == nil {
		panic("schedule: NewCalendar with nil location")
	}
	c := &Calendar{loc: loc, religious: make(map[Date]Holiday), extra: make(map[Date]bool)}
	for _, b := range religiousHolidays {
		eve := b.first.AddDays(-1)
		if _, ok := c.religious[eve]; !ok {
			c.religious[eve] = Holiday{Date: eve, Name: b.name + " arifesi", Kind: HalfDay}
		}
		for i := range b.days {
			d := b.first.AddDays(i)
			c.religious[d] = Holiday{Date: d, Name: b.name, Kind: FullDay}
		}
	}
	for _, d := range extra {
		c.extra[d] = true
	}
	return c
}

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Holiday returns the holiday on d, if any. A full-day holiday wins over a
// half day on the same date, and a built-in holiday's name wins over an extra
// one's.
func (c *Calendar) Holiday(d Date) (Holiday, bool) {
	var half *Holiday
	for _, f := range fixedHolidays {
		if f.month == d.Month && f.day == d.Day && d.Year >= f.sinceYear {
			h := Holiday{Date: d, Name: f.name, Kind: f.kind}
			if h.Kind == FullDay {
				return h, true
			}
			half = &h
		}
	}
	if h, ok := c.religious[d]; ok {
		if h.Kind == FullDay {
			return h, true
		}
		if half == nil {
			half = &h
		}
	}
	if c.extra[d] {
		return Holiday{Date: d, Name: ExtraHolidayName, Kind: FullDay}, true
	}
	if half != nil {
		return *half, true
	}
	return Holiday{}, false
}

// Holidays returns every holiday of year, built-in and extra, in date order.
func (c *Calendar) Holidays(year int) []Holiday {
	var out []Holiday
	for d := (Date{year, time.January, 1}); d.Year == year; d = d.AddDays(1) {
		if h, ok := c.Holiday(d); ok {
			out = append(out, h)
		}
	}
	return out
}

// IsBusinessDay reports whether d is a business day: Monday to Friday and not
// a full-day holiday. A half-day eve is a business day (its afternoon is not
// business time: see IsBusinessTime).
func (c *Calendar) IsBusinessDay(d Date) bool {
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	h, ok := c.Holiday(d)
	return !ok || h.Kind == HalfDay
}

// IsHalfDay reports whether d is a business day that ends at noon (a half-day eve).
func (c *Calendar) IsHalfDay(d Date) bool {
	h, ok := c.Holiday(d)
	return ok && h.Kind == HalfDay && c.IsBusinessDay(d)
}

// IsBusinessTime reports whether t, seen in the calendar's time zone, falls on
// a business day, and before 12:00 when that day is a half day. Any time
// of a full business day is business time.
func (c *Calendar) IsBusinessTime(t time.Time) bool {
	t = t.In(c.loc)
	d := DateOf(t)
	if !c.IsBusinessDay(d) {
		return false
	}
	return !c.IsHalfDay(d) || ClockOf(t).Before(halfDayEnd)
}

// BusinessDays returns the business days of the month in order.
func (c *Calendar) BusinessDays(year int, month time.Month) []Date {
	var out []Date
	for day := 1; day <= daysIn(year, month); day++ {
		if d := (Date{year, month, day}); c.IsBusinessDay(d) {
			out = append(out, d)
		}
	}
	return out
}

// NthBusinessDay returns the n-th business day of the month: 1 is the first,
// -1 the last, -2 the one before it. It returns false when n is 0 or the
// month has fewer than |n| business days.
func (c *Calendar) NthBusinessDay(year int, month time.Month, n int) (Date, bool) {
	return nth(c.BusinessDays(year, month), n)
}

// LastBusinessDay returns the last business day of the month (which may be a
// half-day eve); false only if extra holidays leave the month without one.
func (c *Calendar) LastBusinessDay(year int, month time.Month) (Date, bool) {
	return c.NthBusinessDay(year, month, -1)
}

// NthBusinessTime returns the wall-clock time at on the n-th day of the month
// (negative n counts from the end, -1 is the last) on which that time is
// business time, in the calendar's time zone. Unlike NthBusinessDay it skips
// a half-day eve when at is 12:00 or later. It returns false when n is 0
// or there are fewer than |n| such days.
func (c *Calendar) NthBusinessTime(year int, month time.Month, n int, at Clock) (time.Time, bool) {
	var days []Date
	for day := 1; day <= daysIn(year, month); day++ {
		d := Date{year, month, day}
		if c.IsBusinessTime(d.At(at, c.loc)) {
			days = append(days, d)
		}
	}
	d, ok := nth(days, n)
	if !ok {
		return time.Time{}, false
	}
	return d.At(at, c.loc), true
}

// BusinessDayEnd returns the instant business ends on d: end on the
// calendar's wall clock, or 12:00 on a half-day eve when that is earlier.
// The scheduler retries a run whose file has not arrived until this time.
func (c *Calendar) BusinessDayEnd(d Date, end Clock) time.Time {
	if c.IsHalfDay(d) && halfDayEnd.Before(end) {
		end = halfDayEnd
	}
	return d.At(end, c.loc)
}

func nth(days []Date, n int) (Date, bool) {
	switch {
	case n > 0 && n <= len(days):
		return days[n-1], true
	case n < 0 && -n <= len(days):
		return days[len(days)+n], true
	}
	return Date{}, false
}
