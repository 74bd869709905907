package schedule

import (
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"
)

// cronRule is a standard 5-field cron spec: minute (0-59), hour (0-23), day
// of month (1-31), month (1-12 or jan-dec) and day of week (0-7 or sun-sat,
// 0 and 7 both Sunday). A field is a comma-separated list of *, N, N-M, each
// optionally followed by /STEP (N/STEP means N to the field's maximum). As in
// Vixie cron, when both the day-of-month and day-of-week fields are
// restricted (neither starts with *), a day matches if either does;
// otherwise it must match both.
//
// Times are wall-clock times in the calendar's time zone. A wall time that a
// daylight saving change skips does not run that day; one that a change
// repeats runs once. Cron specs ignore the business-day calendar.
type cronRule struct {
	minute, hour, dom, month, dow uint64 // bit i set: value i matches
	domStar, dowStar              bool   // field starts with *
}

type cronField struct {
	name     string
	min, max int
	names    []string // names[i] is value min+i; nil when the field has none
}

var cronFields = [5]cronField{
	{"minute", 0, 59, nil},
	{"hour", 0, 23, nil},
	{"day-of-month", 1, 31, nil},
	{"month", 1, 12, []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
	{"day-of-week", 0, 7, []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
}

func parseCron(f []string) (cronRule, error) {
	var bits [5]uint64
	for i, spec := range f {
		b, err := cronFields[i].parse(spec)
		if err != nil {
			return cronRule{}, err
		}
		bits[i] = b
	}
	c := cronRule{
		minute: bits[0], hour: bits[1], dom: bits[2], month: bits[3], dow: bits[4],
		domStar: strings.HasPrefix(f[2], "*"), dowStar: strings.HasPrefix(f[4], "*"),
	}
	if c.dow&(1<<7) != 0 {
		c.dow = c.dow&^(1<<7) | 1
	}
	if !c.domStar && c.dowStar && !c.domFits() {
		return cronRule{}, fmt.Errorf("cron spec never fires: no month chosen has the day of month chosen")
	}
	return c, nil
}

// domFits reports whether some chosen day of month exists in some chosen
// month (29 February counts).
func (c cronRule) domFits() bool {
	for m := time.January; m <= time.December; m++ {
		if c.month&(1<<m) == 0 {
			continue
		}
		for d := 1; d <= daysIn(2028, m); d++ {
			if c.dom&(1<<d) != 0 {
				return true
			}
		}
	}
	return false
}

func (f cronField) parse(spec string) (uint64, error) {
	var bits uint64
	for part := range strings.SplitSeq(spec, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 || n > f.max {
				return 0, fmt.Errorf("cron %s field %q: step %q must be a whole number from 1 to %d", f.name, spec, stepText, f.max)
			}
			step = n
		}
		lo, hi := f.min, f.max
		if rng != "*" {
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if lo, err = f.value(a, spec); err != nil {
				return 0, err
			}
			hi = lo
			switch {
			case isRange:
				if hi, err = f.value(b, spec); err != nil {
					return 0, err
				}
				if hi < lo {
					return 0, fmt.Errorf("cron %s field %q: range %q runs backwards", f.name, spec, rng)
				}
			case hasStep:
				hi = f.max
			}
		}
		for v := lo; v <= hi; v += step {
			bits |= 1 << v
		}
	}
	return bits, nil
}

func (f cronField) value(s, spec string) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(s, n) {
			return f.min + i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || !digits(s) || n < f.min || n > f.max {
		return 0, fmt.Errorf("cron %s field %q: %q is not a value from %d to %d%s", f.name, spec, s, f.min, f.max, f.nameHint())
	}
	return n, nil
}

func (f cronField) nameHint() string {
	if f.names == nil {
		return ""
	}
	return " or a name " + f.names[0] + "-" + f.names[len(f.names)-1]
}

func (c cronRule) dayMatches(d Date) bool {
	if c.month&(1<<d.Month) == 0 {
		return false
	}
	domOK := c.dom&(1<<d.Day) != 0
	dowOK := c.dow&(1<<d.Weekday()) != 0
	if c.domStar || c.dowStar {
		return domOK && dowOK
	}
	return domOK || dowOK
}

func (c cronRule) times(cal *Calendar, from time.Time) iter.Seq2[time.Time, string] {
	return func(yield func(time.Time, string) bool) {
		loc := cal.Location()
		d := DateOf(from.In(loc))
		for range horizonDays {
			if c.dayMatches(d) {
				for t := range c.onDay(d, loc) {
					if !t.Before(from) && !yield(t, FormatPeriod(d.Year, d.Month)) {
						return
					}
				}
			}
			d = d.AddDays(1)
		}
	}
}

// onDay yields the matching wall-clock times of d that exist in loc.
func (c cronRule) onDay(d Date, loc *time.Location) iter.Seq[time.Time] {
	return func(yield func(time.Time) bool) {
		for h := range 24 {
			if c.hour&(1<<h) == 0 {
				continue
			}
			for m := range 60 {
				if c.minute&(1<<m) == 0 {
					continue
				}
				t := d.At(Clock{h, m}, loc)
				if t.Hour() != h || t.Minute() != m || DateOf(t) != d {
					continue // skipped by a daylight saving change
				}
				if !yield(t) {
					return
				}
			}
		}
	}
}

func (c cronRule) inMonth(cal *Calendar, year int, month time.Month) (time.Time, bool) {
	loc := cal.Location()
	for day := 1; day <= daysIn(year, month); day++ {
		d := Date{year, month, day}
		if !c.dayMatches(d) {
			continue
		}
		for t := range c.onDay(d, loc) {
			return t, true
		}
	}
	return time.Time{}, false
}
