package schedule

import (
	"testing"
	"time"
	_ "time/tzdata" // the tests' zones do not depend on the host's database
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func mustDate(t *testing.T, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func istanbulCalendar(t *testing.T, extra ...string) *Calendar {
	t.Helper()
	var ds []Date
	for _, s := range extra {
		ds = append(ds, mustDate(t, s))
	}
	return NewCalendar(mustLoc(t, "Europe/Istanbul"), ds...)
}

// The built-in religious holidays, day by day, as published by Diyanet (see
// holidays_tr.go for the sources and the cross-check).
func TestReligiousHolidayData(t *testing.T) {
	type feast struct {
		eve  string
		days []string
	}
	want := map[string]feast{
		"Ramazan 2025": {"2025-03-29", []string{"2025-03-30", "2025-03-31", "2025-04-01"}},
		"Kurban 2025":  {"2025-06-05", []string{"2025-06-06", "2025-06-07", "2025-06-08", "2025-06-09"}},
		"Ramazan 2026": {"2026-03-19", []string{"2026-03-20", "2026-03-21", "2026-03-22"}},
		"Kurban 2026":  {"2026-05-26", []string{"2026-05-27", "2026-05-28", "2026-05-29", "2026-05-30"}},
		"Ramazan 2027": {"2027-03-08", []string{"2027-03-09", "2027-03-10", "2027-03-11"}},
		"Kurban 2027":  {"2027-05-15", []string{"2027-05-16", "2027-05-17", "2027-05-18", "2027-05-19"}},
		"Ramazan 2028": {"2028-02-25", []string{"2028-02-26", "2028-02-27", "2028-02-28"}},
		"Kurban 2028":  {"2028-05-04", []string{"2028-05-05", "2028-05-06", "2028-05-07", "2028-05-08"}},
		"Ramazan 2029": {"2029-02-13", []string{"2029-02-14", "2029-02-15", "2029-02-16"}},
		"Kurban 2029":  {"", []string{"2029-04-24", "2029-04-25", "2029-04-26", "2029-04-27"}}, // eve is 23 April, a full holiday
		"Ramazan 2030": {"2030-02-03", []string{"2030-02-04", "2030-02-05", "2030-02-06"}},
		"Kurban 2030":  {"2030-04-12", []string{"2030-04-13", "2030-04-14", "2030-04-15", "2030-04-16"}},
	}
	c := istanbulCalendar(t)
	for name, f := range want {
		if f.eve != "" {
			h, ok := c.Holiday(mustDate(t, f.eve))
			if !ok || h.Kind != HalfDay {
				t.Errorf("%s: eve %s = %+v, %v; want a half day", name, f.eve, h, ok)
			}
		}
		for _, s := range f.days {
			h, ok := c.Holiday(mustDate(t, s))
			if !ok || h.Kind != FullDay {
				t.Errorf("%s: %s = %+v, %v; want a full-day holiday", name, s, h, ok)
			}
		}
		after := mustDate(t, f.days[len(f.days)-1]).AddDays(1)
		if h, ok := c.Holiday(after); ok && h.Name != "Ulusal Egemenlik ve Çocuk Bayramı" {
			t.Errorf("%s: day after the bayram %s is a holiday: %+v", name, after, h)
		}
	}
}

func TestTurkishHolidaysYear(t *testing.T) {
	got := TurkishHolidays(2029)
	var full, half int
	for _, h := range got {
		switch h.Kind {
		case FullDay:
			full++
		case HalfDay:
			half++
		}
	}
	// 7 fixed + 3 Ramazan + 4 Kurban; halves: Ramazan eve and 28 October
	// (the Kurban eve is 23 April, already a full holiday).
	if full != 14 || half != 2 {
		t.Errorf("2029: %d full days, %d half days; want 14 and 2: %v", full, half, got)
	}
	for i := 1; i < len(got); i++ {
		if got[i-1].Date.Compare(got[i].Date) >= 0 {
			t.Errorf("not in date order: %v then %v", got[i-1].Date, got[i].Date)
		}
	}
	if h := TurkishHolidays(2016); len(h) != 7 { // no 15 July before 2017, no religious data
		t.Errorf("2016: %d holidays, want 7 fixed ones without 15 July: %v", len(h), h)
	}
}

func TestCalendarHolidaysWithExtra(t *testing.T) {
	c := istanbulCalendar(t, "2026-12-31", "2026-05-01", "2026-10-28")
	got := c.Holidays(2026)
	want := map[string]string{
		"2026-05-01": "Emek ve Dayanışma Günü", // built-in name wins over the extra
		"2026-05-26": "Kurban Bayramı arifesi",
		"2026-10-28": ExtraHolidayName, // an extra full day wins over a half day
		"2026-12-31": ExtraHolidayName,
	}
	found := 0
	for _, h := range got {
		if name, ok := want[h.Date.String()]; ok {
			found++
			if h.Name != name {
				t.Errorf("%s: %q, want %q", h.Date, h.Name, name)
			}
		}
	}
	if found != len(want) {
		t.Errorf("Holidays(2026) = %v, missing some of %v", got, want)
	}
	if c.IsBusinessDay(mustDate(t, "2026-10-28")) || c.IsHalfDay(mustDate(t, "2026-10-28")) {
		t.Error("28 October made a full holiday by the file is still a business day")
	}
	if FullDay.String() != "full day" || HalfDay.String() != "half day" {
		t.Errorf("HolidayKind strings: %s, %s", FullDay, HalfDay)
	}
}

func TestIsBusinessDay(t *testing.T) {
	c := istanbulCalendar(t, "2026-12-31", "2027-01-04")
	tests := []struct {
		date string
		want bool
		why  string
	}{
		{"2026-05-23", false, "Saturday"},
		{"2026-05-24", false, "Sunday"},
		{"2026-05-25", true, "Monday before the Kurban eve"},
		{"2026-05-26", true, "Kurban eve: a half day is a business day"},
		{"2026-05-27", false, "Kurban Bayramı day 1"},
		{"2026-05-29", false, "Kurban Bayramı day 3, a Friday"},
		{"2026-05-19", false, "19 May"},
		{"2026-01-01", false, "New Year"},
		{"2026-01-02", true, "first Friday of 2026"},
		{"2026-04-23", false, "23 April"},
		{"2026-05-01", false, "1 May"},
		{"2026-07-15", false, "15 July"},
		{"2026-08-31", true, "Monday after Zafer Bayramı (30 Aug is a Sunday)"},
		{"2026-10-28", true, "28 October: half day"},
		{"2026-10-29", false, "Republic Day"},
		{"2025-03-31", false, "Ramazan Bayramı day 2, a Monday"},
		{"2025-04-01", false, "Ramazan Bayramı day 3, a Tuesday"},
		{"2025-04-02", true, "after Ramazan Bayramı 2025"},
		{"2027-03-08", true, "Ramazan eve 2027, a Monday"},
		{"2027-03-11", false, "Ramazan Bayramı 2027 day 3"},
		{"2028-05-08", false, "Kurban Bayramı 2028 day 4, a Monday"},
		{"2028-05-09", true, "after Kurban Bayramı 2028"},
		{"2029-02-14", false, "Ramazan Bayramı 2029 day 1"},
		{"2029-04-23", false, "23 April and Kurban eve 2029"},
		{"2030-02-04", false, "Ramazan Bayramı 2030 day 1, a Monday"},
		{"2030-04-16", false, "Kurban Bayramı 2030 day 4, a Tuesday"},
		{"2026-12-31", false, "extra holiday from the file"},
		{"2027-01-04", false, "extra holiday from the file, a Monday"},
		{"2027-01-05", true, "ordinary Tuesday"},
	}
	for _, tt := range tests {
		if got := c.IsBusinessDay(mustDate(t, tt.date)); got != tt.want {
			t.Errorf("IsBusinessDay(%s) = %v, want %v (%s)", tt.date, got, tt.want, tt.why)
		}
	}
}

func TestIsBusinessTime(t *testing.T) {
	c := istanbulCalendar(t)
	ny := mustLoc(t, "America/New_York")
	tests := []struct {
		at   string
		want bool
	}{
		{"2026-05-26T10:00:00+03:00", true},  // Kurban eve, morning
		{"2026-05-26T11:59:00+03:00", true},  // last business minute of the eve
		{"2026-05-26T12:00:00+03:00", false}, // noon: the eve's afternoon is off
		{"2026-05-26T14:00:00+03:00", false},
		{"2026-05-26T08:59:00Z", true},  // 11:59 in Istanbul
		{"2026-05-26T09:00:00Z", false}, // 12:00 in Istanbul
		{"2026-05-25T23:30:00+03:00", true},
		{"2026-05-25T21:30:00Z", true}, // 00:30 on the eve in Istanbul: its morning
		{"2026-10-28T09:00:00+03:00", true},
		{"2026-10-28T13:00:00+03:00", false},
		{"2026-05-27T10:00:00+03:00", false}, // bayram
		{"2026-05-30T10:00:00+03:00", false}, // Saturday
	}
	for _, tt := range tests {
		if got := c.IsBusinessTime(mustTime(t, tt.at)); got != tt.want {
			t.Errorf("IsBusinessTime(%s) = %v, want %v", tt.at, got, tt.want)
		}
	}
	// The same instant is judged on the calendar's wall clock, not the
	// caller's: 05:00 in New York is 12:00 in Istanbul.
	if c.IsBusinessTime(time.Date(2026, 5, 26, 5, 0, 0, 0, ny)) {
		t.Error("05:00 New York on the Kurban eve (12:00 Istanbul) is business time, want not")
	}
}

func TestLastBusinessDay(t *testing.T) {
	c := istanbulCalendar(t, "2026-12-31")
	tests := []struct {
		year  int
		month time.Month
		want  string
		why   string
	}{
		{2025, time.March, "2025-03-28", "29 Sat eve, 30 Sun, 31 Mon Ramazan day 2"},
		{2025, time.June, "2025-06-30", "Monday"},
		{2025, time.August, "2025-08-29", "30-31 weekend"},
		{2025, time.October, "2025-10-31", "Friday, after the 28/29 Oct holidays"},
		{2026, time.May, "2026-05-26", "the Kurban eve: 27-30 bayram, 31 Sunday"},
		{2026, time.October, "2026-10-30", "31 Saturday"},
		{2026, time.December, "2026-12-30", "31 is an extra holiday"},
		{2027, time.February, "2027-02-26", "27-28 weekend"},
		{2027, time.May, "2027-05-31", "Monday"},
		{2028, time.February, "2028-02-29", "leap day, after Ramazan Bayramı"},
		{2028, time.April, "2028-04-28", "29-30 weekend"},
		{2029, time.April, "2029-04-30", "Monday after the Kurban week"},
		{2029, time.September, "2029-09-28", "29-30 weekend"},
		{2030, time.June, "2030-06-28", "29-30 weekend"},
		{2030, time.August, "2030-08-29", "30 Zafer Bayramı (Friday), 31 Saturday"},
		{2030, time.November, "2030-11-29", "30 Saturday"},
	}
	for _, tt := range tests {
		got, ok := c.LastBusinessDay(tt.year, tt.month)
		if !ok || got.String() != tt.want {
			t.Errorf("LastBusinessDay(%d, %s) = %v, %v; want %s (%s)", tt.year, tt.month, got, ok, tt.want, tt.why)
		}
	}
}

func TestNthBusinessDay(t *testing.T) {
	c := istanbulCalendar(t)
	tests := []struct {
		year  int
		month time.Month
		n     int
		want  string // "" for none
	}{
		{2026, time.May, 1, "2026-05-04"}, // 1 May is a Friday holiday
		{2026, time.May, 2, "2026-05-05"},
		{2026, time.May, 16, "2026-05-26"},
		{2026, time.May, 17, ""}, // May 2026 has 16 business days
		{2026, time.May, -1, "2026-05-26"},
		{2026, time.May, -2, "2026-05-25"},
		{2026, time.May, -16, "2026-05-04"},
		{2026, time.May, -17, ""},
		{2026, time.May, 0, ""},
		{2026, time.January, 1, "2026-01-02"},
		{2029, time.April, -2, "2029-04-20"}, // 23-27 April 2029 are all holidays
		{2029, time.April, -3, "2029-04-19"},
	}
	for _, tt := range tests {
		got, ok := c.NthBusinessDay(tt.year, tt.month, tt.n)
		if tt.want == "" {
			if ok {
				t.Errorf("NthBusinessDay(%d, %s, %d) = %v, want none", tt.year, tt.month, tt.n, got)
			}
			continue
		}
		if !ok || got.String() != tt.want {
			t.Errorf("NthBusinessDay(%d, %s, %d) = %v, %v; want %s", tt.year, tt.month, tt.n, got, ok, tt.want)
		}
	}
	if n := len(c.BusinessDays(2026, time.May)); n != 16 {
		t.Errorf("BusinessDays(2026, May) has %d days, want 16", n)
	}
}

func TestNthBusinessTime(t *testing.T) {
	c := istanbulCalendar(t)
	tests := []struct {
		year  int
		month time.Month
		n     int
		at    Clock
		want  string
	}{
		{2026, time.May, -1, Clock{10, 0}, "2026-05-26T10:00:00+03:00"}, // on the eve, before noon
		{2026, time.May, -1, Clock{11, 59}, "2026-05-26T11:59:00+03:00"},
		{2026, time.May, -1, Clock{12, 0}, "2026-05-25T12:00:00+03:00"}, // noon is too late on the eve
		{2026, time.May, -1, Clock{14, 0}, "2026-05-25T14:00:00+03:00"},
		{2025, time.June, 4, Clock{10, 0}, "2025-06-05T10:00:00+03:00"}, // 2,3,4, eve 5
		{2025, time.June, 4, Clock{14, 0}, "2025-06-10T14:00:00+03:00"}, // eve skipped, 6-9 bayram
		{2026, time.October, 20, Clock{9, 0}, "2026-10-28T09:00:00+03:00"},
		{2026, time.October, 20, Clock{15, 0}, "2026-10-30T15:00:00+03:00"},
	}
	for _, tt := range tests {
		got, ok := c.NthBusinessTime(tt.year, tt.month, tt.n, tt.at)
		if !ok || got.Format(time.RFC3339) != tt.want {
			t.Errorf("NthBusinessTime(%d, %s, %d, %s) = %v, %v; want %s", tt.year, tt.month, tt.n, tt.at, got, ok, tt.want)
		}
	}
}

func TestBusinessDayEnd(t *testing.T) {
	c := istanbulCalendar(t)
	tests := []struct {
		date string
		end  Clock
		want string
	}{
		{"2026-05-25", Clock{18, 0}, "2026-05-25T18:00:00+03:00"},
		{"2026-05-26", Clock{18, 0}, "2026-05-26T12:00:00+03:00"}, // eve ends at noon
		{"2026-05-26", Clock{11, 0}, "2026-05-26T11:00:00+03:00"}, // an earlier end stays
		{"2026-10-28", Clock{17, 30}, "2026-10-28T12:00:00+03:00"},
	}
	for _, tt := range tests {
		if got := c.BusinessDayEnd(mustDate(t, tt.date), tt.end).Format(time.RFC3339); got != tt.want {
			t.Errorf("BusinessDayEnd(%s, %s) = %s, want %s", tt.date, tt.end, got, tt.want)
		}
	}
}

// A calendar in another zone uses that zone's wall clock and offset: the
// Turkish dates stay, the offsets follow the location, with daylight saving.
func TestCalendarOtherZones(t *testing.T) {
	for _, tt := range []struct {
		zone string
		want string
	}{
		{"UTC", "2026-05-26T10:00:00Z"},
		{"Asia/Tokyo", "2026-05-26T10:00:00+09:00"},
		{"America/New_York", "2026-05-26T10:00:00-04:00"},
		{"Europe/Berlin", "2026-05-26T10:00:00+02:00"},
	} {
		c := NewCalendar(mustLoc(t, tt.zone))
		got, ok := c.NthBusinessTime(2026, time.May, -1, Clock{10, 0})
		if !ok || got.Format(time.RFC3339) != tt.want {
			t.Errorf("%s: last business 10:00 of May 2026 = %v, want %s", tt.zone, got, tt.want)
		}
	}
	ny := NewCalendar(mustLoc(t, "America/New_York"))
	got, _ := ny.NthBusinessTime(2026, time.January, 1, Clock{10, 0})
	if got.Format(time.RFC3339) != "2026-01-02T10:00:00-05:00" {
		t.Errorf("New York, January: %s, want -05:00 standard time", got.Format(time.RFC3339))
	}
}

func TestNewCalendarNilLocationPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewCalendar(nil) did not panic")
		}
	}()
	NewCalendar(nil)
}

func TestParseDateAndClock(t *testing.T) {
	for _, s := range []string{"2026-02-30", "2026-2-01", "26-02-01", "2026/02/01", "", "2026-02-01x"} {
		if _, err := ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q) = nil error, want one", s)
		}
	}
	if d, err := ParseDate("2028-02-29"); err != nil || d != (Date{2028, time.February, 29}) {
		t.Errorf("ParseDate(2028-02-29) = %v, %v", d, err)
	}
	for _, s := range []string{"24:00", "10:60", "1000", "10:0", "ten:00", "-1:00", "", "10:00:00"} {
		if _, err := ParseClock(s); err == nil {
			t.Errorf("ParseClock(%q) = nil error, want one", s)
		}
	}
	for s, want := range map[string]Clock{"9:05": {9, 5}, "09:05": {9, 5}, "00:00": {0, 0}, "23:59": {23, 59}} {
		if got, err := ParseClock(s); err != nil || got != want {
			t.Errorf("ParseClock(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
}
