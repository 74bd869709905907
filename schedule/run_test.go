package schedule

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func parseFile(t *testing.T, src string) *File {
	t.Helper()
	f, err := Parse(strings.NewReader(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

// oneSchedule parses a file with a single schedule "s" firing at when.
func oneSchedule(t *testing.T, zone, when string) *Schedule {
	t.Helper()
	f := parseFile(t, "timezone: "+zone+"\nschedules:\n  - name: s\n    when: \""+when+"\"\n    source: in/*.csv\n")
	return f.Schedules[0]
}

func formatTimes(rs []Run) string {
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(r.At.Format(time.RFC3339))
	}
	return b.String()
}

// Every month-end payroll run of 2025-2030 under "last-business-day 10:00",
// with the file's extra holiday 2026-12-31.
func TestPayrollRunsAcrossYears(t *testing.T) {
	want := strings.Fields(`
2025-01-31 2025-02-28 2025-03-28 2025-04-30 2025-05-30 2025-06-30 2025-07-31 2025-08-29 2025-09-30 2025-10-31 2025-11-28 2025-12-31
2026-01-30 2026-02-27 2026-03-31 2026-04-30 2026-05-26 2026-06-30 2026-07-31 2026-08-31 2026-09-30 2026-10-30 2026-11-30 2026-12-30
2027-01-29 2027-02-26 2027-03-31 2027-04-30 2027-05-31 2027-06-30 2027-07-30 2027-08-31 2027-09-30 2027-10-28 2027-11-30 2027-12-31
2028-01-31 2028-02-29 2028-03-31 2028-04-28 2028-05-31 2028-06-30 2028-07-31 2028-08-31 2028-09-29 2028-10-31 2028-11-30 2028-12-29
2029-01-31 2029-02-28 2029-03-30 2029-04-30 2029-05-31 2029-06-29 2029-07-31 2029-08-31 2029-09-28 2029-10-31 2029-11-30 2029-12-31
2030-01-31 2030-02-28 2030-03-29 2030-04-30 2030-05-31 2030-06-28 2030-07-31 2030-08-29 2030-09-30 2030-10-31 2030-11-29 2030-12-31`)
	f := loadTestdata(t)
	s, _ := f.Schedule("payroll")
	runs := s.Next(time.Date(2025, 1, 1, 0, 0, 0, 0, f.Location), len(want))
	if len(runs) != len(want) {
		t.Fatalf("%d runs, want %d", len(runs), len(want))
	}
	for i, r := range runs {
		wantAt := want[i] + "T10:00:00+03:00"
		if got := r.At.Format(time.RFC3339); got != wantAt || r.Period != want[i][:7] || r.Schedule != "payroll" {
			t.Errorf("run %d = %s %s %s, want payroll %s %s", i, r.Schedule, got, r.Period, wantAt, want[i][:7])
		}
	}
}

func TestMonthRules(t *testing.T) {
	tests := []struct {
		zone, when, from string
		want             string // RFC 3339 times, space-separated
	}{
		// Arife before and after noon.
		{"Europe/Istanbul", "last-business-day 10:00", "2026-05-01T00:00:00+03:00", "2026-05-26T10:00:00+03:00 2026-06-30T10:00:00+03:00"},
		{"Europe/Istanbul", "last-business-day 14:00", "2026-05-01T00:00:00+03:00", "2026-05-25T14:00:00+03:00 2026-06-30T14:00:00+03:00"},
		{"Europe/Istanbul", "last-business-day 11:59", "2027-10-01T00:00:00+03:00", "2027-10-28T11:59:00+03:00"},
		{"Europe/Istanbul", "last-business-day 12:00", "2027-10-01T00:00:00+03:00", "2027-10-27T12:00:00+03:00"},
		// From is inclusive; a run earlier in from's month is skipped.
		{"Europe/Istanbul", "last-business-day 10:00", "2026-05-26T10:00:00+03:00", "2026-05-26T10:00:00+03:00"},
		{"Europe/Istanbul", "last-business-day 10:00", "2026-05-26T10:00:01+03:00", "2026-06-30T10:00:00+03:00"},
		// Business day N, positive and negative.
		{"Europe/Istanbul", "business-day 1 09:00", "2026-01-01T00:00:00+03:00", "2026-01-02T09:00:00+03:00 2026-02-02T09:00:00+03:00 2026-03-02T09:00:00+03:00"},
		{"Europe/Istanbul", "business-day 3 09:00", "2026-05-01T00:00:00+03:00", "2026-05-06T09:00:00+03:00"},
		{"Europe/Istanbul", "business-day -2 14:00", "2026-05-01T00:00:00+03:00", "2026-05-22T14:00:00+03:00 2026-06-29T14:00:00+03:00"},
		{"Europe/Istanbul", "business-day -2 10:00", "2026-05-01T00:00:00+03:00", "2026-05-25T10:00:00+03:00"},
		{"Europe/Istanbul", "business-day 4 14:00", "2025-06-01T00:00:00+03:00", "2025-06-10T14:00:00+03:00"},
		// A month without an N-th business day is skipped: May 2026 has 16.
		{"Europe/Istanbul", "business-day 17 09:00", "2026-05-01T00:00:00+03:00", "2026-06-23T09:00:00+03:00"},
		{"Europe/Istanbul", "business-day 23 09:00", "2026-01-01T00:00:00+03:00", "2026-12-31T09:00:00+03:00"},
		// Calendar days: day 31 is clamped to the month's last day; holidays
		// and weekends do not matter.
		{"Europe/Istanbul", "day 31 09:30", "2026-01-01T00:00:00+03:00", "2026-01-31T09:30:00+03:00 2026-02-28T09:30:00+03:00 2026-03-31T09:30:00+03:00 2026-04-30T09:30:00+03:00 2026-05-31T09:30:00+03:00"},
		{"Europe/Istanbul", "day 30 09:30", "2028-02-01T00:00:00+03:00", "2028-02-29T09:30:00+03:00 2028-03-30T09:30:00+03:00"},
		{"Europe/Istanbul", "day -1 23:59", "2026-02-01T00:00:00+03:00", "2026-02-28T23:59:00+03:00 2026-03-31T23:59:00+03:00"},
		{"Europe/Istanbul", "day -31 08:00", "2026-02-01T00:00:00+03:00", "2026-02-01T08:00:00+03:00 2026-03-01T08:00:00+03:00"},
		{"Europe/Istanbul", "day 1 00:00", "2026-12-15T00:00:00+03:00", "2027-01-01T00:00:00+03:00"},
		// Other zones: the wall clock and offset follow the file's zone.
		{"UTC", "last-business-day 10:00", "2026-05-01T00:00:00Z", "2026-05-26T10:00:00Z"},
		{"Asia/Tokyo", "day 15 10:00", "2026-05-01T00:00:00+09:00", "2026-05-15T10:00:00+09:00"},
		{"America/New_York", "day 15 10:00", "2026-02-01T00:00:00-05:00", "2026-02-15T10:00:00-05:00 2026-03-15T10:00:00-04:00"},
		// A wall time skipped by daylight saving still runs, moved forward.
		{"America/New_York", "day 8 02:30", "2026-03-01T00:00:00-05:00", "2026-03-08T03:30:00-04:00"},
		// from in another zone: 2026-05-26 07:00 UTC is 10:00 in Istanbul.
		{"Europe/Istanbul", "last-business-day 10:00", "2026-05-26T07:00:00Z", "2026-05-26T10:00:00+03:00"},
		{"Europe/Istanbul", "last-business-day 10:00", "2026-05-26T07:00:01Z", "2026-06-30T10:00:00+03:00"},
	}
	for _, tt := range tests {
		s := oneSchedule(t, tt.zone, tt.when)
		want := strings.Fields(tt.want)
		got := s.Next(mustTime(t, tt.from), len(want))
		if g := formatTimes(got); g != tt.want {
			t.Errorf("%s %q from %s:\n got %s\nwant %s", tt.zone, tt.when, tt.from, g, tt.want)
		}
	}
}

func TestCronRules(t *testing.T) {
	tests := []struct {
		when, from string
		want       string
	}{
		// Cron ignores holidays: 1 May 2026 is a Friday holiday.
		{"0 16 * * fri", "2026-05-01T00:00:00+03:00", "2026-05-01T16:00:00+03:00 2026-05-08T16:00:00+03:00 2026-05-15T16:00:00+03:00"},
		{"0 16 * * 5", "2026-05-01T16:00:00+03:00", "2026-05-01T16:00:00+03:00"},
		// Both day fields restricted: the 13th OR a Friday.
		{"0 9 13 * fri", "2026-04-01T00:00:00+03:00", "2026-04-03T09:00:00+03:00 2026-04-10T09:00:00+03:00 2026-04-13T09:00:00+03:00 2026-04-17T09:00:00+03:00 2026-04-24T09:00:00+03:00 2026-05-01T09:00:00+03:00"},
		// Day of month starts with *: both must match (odd days that are Mondays).
		{"0 9 */2 * mon", "2026-06-01T00:00:00+03:00", "2026-06-01T09:00:00+03:00 2026-06-15T09:00:00+03:00 2026-06-29T09:00:00+03:00 2026-07-13T09:00:00+03:00 2026-07-27T09:00:00+03:00"},
		// Day of week *: day of month alone.
		{"30 8 1,15 * *", "2026-05-02T00:00:00+03:00", "2026-05-15T08:30:00+03:00 2026-06-01T08:30:00+03:00"},
		// Steps, ranges and lists in minutes and hours.
		{"*/20 9-10 1 1 *", "2027-01-01T00:00:00+03:00", "2027-01-01T09:00:00+03:00 2027-01-01T09:20:00+03:00 2027-01-01T09:40:00+03:00 2027-01-01T10:00:00+03:00 2027-01-01T10:20:00+03:00 2027-01-01T10:40:00+03:00 2028-01-01T09:00:00+03:00"},
		{"5-20/5 12 1 jan,JUL *", "2026-01-01T00:00:00+03:00", "2026-01-01T12:05:00+03:00 2026-01-01T12:10:00+03:00 2026-01-01T12:15:00+03:00 2026-01-01T12:20:00+03:00 2026-07-01T12:05:00+03:00"},
		{"45/5 23 31 12 *", "2026-12-31T23:50:00+03:00", "2026-12-31T23:50:00+03:00 2026-12-31T23:55:00+03:00 2027-12-31T23:45:00+03:00"},
		// 7 is Sunday, like 0.
		{"0 0 * 5 7", "2026-05-01T00:00:00+03:00", "2026-05-03T00:00:00+03:00 2026-05-10T00:00:00+03:00"},
		{"0 0 * 5 5-7", "2026-05-01T00:00:00+03:00", "2026-05-01T00:00:00+03:00 2026-05-02T00:00:00+03:00 2026-05-03T00:00:00+03:00 2026-05-08T00:00:00+03:00"},
		// 29 February only fires in leap years.
		{"0 10 29 2 *", "2026-03-01T00:00:00+03:00", "2028-02-29T10:00:00+03:00 2032-02-29T10:00:00+03:00"},
	}
	for _, tt := range tests {
		s := oneSchedule(t, "Europe/Istanbul", tt.when)
		want := strings.Fields(tt.want)
		got := s.Next(mustTime(t, tt.from), len(want))
		if g := formatTimes(got); g != tt.want {
			t.Errorf("%q from %s:\n got %s\nwant %s", tt.when, tt.from, g, tt.want)
		}
		for _, r := range got {
			if r.Period != r.At.Format("2006-01") {
				t.Errorf("%q: run %s has period %s, want the run's month", tt.when, r.At, r.Period)
			}
		}
	}
}

func TestCronDaylightSaving(t *testing.T) {
	// 8 March 2026 02:00-03:00 does not exist in New York: no 02:30 run that day.
	s := oneSchedule(t, "America/New_York", "30 2 * * *")
	got := formatTimes(s.Next(mustTime(t, "2026-03-07T00:00:00-05:00"), 2))
	if want := "2026-03-07T02:30:00-05:00 2026-03-09T02:30:00-04:00"; got != want {
		t.Errorf("spring forward: %s, want %s", got, want)
	}
	// 1 November 2026 01:30 happens twice in New York: one run.
	s = oneSchedule(t, "America/New_York", "30 1 * * *")
	runs := s.Next(mustTime(t, "2026-11-01T00:00:00-04:00"), 2)
	if len(runs) != 2 || DateOf(runs[0].At) != (Date{2026, time.November, 1}) || DateOf(runs[1].At) != (Date{2026, time.November, 2}) {
		t.Errorf("fall back: %s, want one run on 1 November and one on 2 November", formatTimes(runs))
	}
}

func TestCronParseErrors(t *testing.T) {
	for _, when := range []string{
		"5-1 * * * *", "*/0 * * * *", "a * * * *", "* * * * 8", "1,,2 * * * *", "* * * *", "* * * * * *",
		"* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * foo *", "-1 * * * *", "*/61 * * * *", "1-2-3 * * * *",
		"0 0 31 4,6,9,11 *", "@monthly",
	} {
		if _, err := parseWhen(when); err == nil {
			t.Errorf("parseWhen(%q) = nil error, want one", when)
		}
	}
	// 31 in a list with a month that has 31 days is fine; so is 30 February
	// when the day of week is restricted too (OR rule).
	for _, when := range []string{"0 0 31 4,5 *", "0 0 30 2 mon", "0 0 * * *", "59 23 31 12 sun"} {
		if _, err := parseWhen(when); err != nil {
			t.Errorf("parseWhen(%q) = %v", when, err)
		}
	}
}

func TestFileNextSortsByTimeThenName(t *testing.T) {
	f := loadTestdata(t)
	got := f.Next(mustTime(t, "2026-05-01T00:00:00+03:00"), 8)
	want := []string{
		"weekly\t2026-05-01T16:00:00+03:00\t2026-05",
		"weekly\t2026-05-08T16:00:00+03:00\t2026-05",
		"weekly\t2026-05-15T16:00:00+03:00\t2026-05",
		"bonus\t2026-05-22T14:00:00+03:00\t2026-05",
		"weekly\t2026-05-22T16:00:00+03:00\t2026-05",
		"payroll\t2026-05-26T10:00:00+03:00\t2026-05",
		"weekly\t2026-05-29T16:00:00+03:00\t2026-05",
		"rent\t2026-05-31T09:30:00+03:00\t2026-05",
	}
	var lines []string
	for _, r := range got {
		lines = append(lines, FormatRun(r))
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("Next:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}

	tie := parseFile(t, "schedules:\n  - {name: b, when: day 1 10:00, source: x}\n  - {name: a, when: \"0 10 1 * *\", source: x}\n")
	got = tie.Next(mustTime(t, "2026-05-01T00:00:00+03:00"), 3)
	if len(got) != 3 || got[0].Schedule != "a" || got[1].Schedule != "b" || got[2].Schedule != "a" || !got[0].At.Equal(got[1].At) {
		t.Errorf("tie: %+v, want a, b at the same time, then a", got)
	}
	if n := len(f.Next(time.Now(), 0)); n != 0 {
		t.Errorf("Next(0) returned %d runs", n)
	}
}

func TestDueBetween(t *testing.T) {
	f := loadTestdata(t)
	tests := []struct {
		after, upTo string
		want        []string
	}{
		// after is exclusive, upTo inclusive.
		{"2026-05-22T14:00:00+03:00", "2026-05-26T10:00:00+03:00", []string{"weekly 2026-05-22T16:00:00+03:00", "payroll 2026-05-26T10:00:00+03:00"}},
		{"2026-05-22T13:59:59+03:00", "2026-05-22T14:00:00+03:00", []string{"bonus 2026-05-22T14:00:00+03:00"}},
		// A scheduler down for a day catches up every run it missed.
		{"2026-05-25T10:00:00+03:00", "2026-05-26T10:30:00+03:00", []string{"payroll 2026-05-26T10:00:00+03:00"}},
		// Bounds given in UTC work the same.
		{"2026-05-26T06:59:00Z", "2026-05-26T07:00:00Z", []string{"payroll 2026-05-26T10:00:00+03:00"}},
		{"2026-05-26T10:00:00+03:00", "2026-05-26T10:00:00+03:00", nil},
		{"2026-05-27T00:00:00+03:00", "2026-05-26T00:00:00+03:00", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, r := range f.DueBetween(mustTime(t, tt.after), mustTime(t, tt.upTo)) {
			got = append(got, r.Schedule+" "+r.At.Format(time.RFC3339))
		}
		if strings.Join(got, ", ") != strings.Join(tt.want, ", ") {
			t.Errorf("DueBetween(%s, %s) = %v, want %v", tt.after, tt.upTo, got, tt.want)
		}
	}
	// A month of a cron spec firing every 15 minutes is all there.
	s := oneSchedule(t, "UTC", "*/15 * * * *")
	if n := len(s.DueBetween(mustTime(t, "2026-04-30T23:59:00Z"), mustTime(t, "2026-05-31T23:59:00Z"))); n != 31*24*4 {
		t.Errorf("every 15 minutes in May: %d runs, want %d", n, 31*24*4)
	}
}

func TestRunFor(t *testing.T) {
	f := loadTestdata(t)
	tests := []struct {
		name, period string
		want         string
	}{
		{"payroll", "2026-05", "2026-05-26T10:00:00+03:00"},
		{"payroll", "2025-03", "2025-03-28T10:00:00+03:00"},
		{"payroll", "2026-12", "2026-12-30T10:00:00+03:00"},
		{"bonus", "2026-05", "2026-05-22T14:00:00+03:00"},
		{"rent", "2026-02", "2026-02-28T09:30:00+03:00"},
		{"rent", "2028-02", "2028-02-29T09:30:00+03:00"},
		{"weekly", "2026-05", "2026-05-01T16:00:00+03:00"},
		{"payroll", "2031-01", "2031-01-31T10:00:00+03:00"},
	}
	for _, tt := range tests {
		r, err := f.RunFor(tt.name, tt.period)
		if err != nil || r.At.Format(time.RFC3339) != tt.want || r.Period != tt.period || r.Schedule != tt.name {
			t.Errorf("RunFor(%s, %s) = %+v, %v; want %s", tt.name, tt.period, r, err, tt.want)
		}
	}
	if _, err := f.RunFor("nope", "2026-05"); !errors.Is(err, ErrUnknownSchedule) {
		t.Errorf("RunFor(nope) error = %v, want ErrUnknownSchedule", err)
	}
	for _, p := range []string{"2026-13", "2026-5", "202605", "2026-05-01", ""} {
		if _, err := f.RunFor("payroll", p); err == nil {
			t.Errorf("RunFor(payroll, %q) = nil error", p)
		}
	}
	if got := f.PeriodOf(mustTime(t, "2026-05-31T22:00:00Z")); got != "2026-06" {
		t.Errorf("PeriodOf(2026-05-31T22:00Z) = %s, want 2026-06 (01:00 on 1 June in Istanbul)", got)
	}
	s := oneSchedule(t, "Europe/Istanbul", "business-day 17 09:00")
	if _, err := s.RunFor("2026-05"); !errors.Is(err, ErrNoRun) {
		t.Errorf("business-day 17 in May 2026 (16 business days): error %v, want ErrNoRun", err)
	}
}

func TestBatchID(t *testing.T) {
	f := loadTestdata(t)
	tests := []struct {
		run  Run
		want string
	}{
		{Run{"payroll", mustTime(t, "2026-05-26T10:00:00+03:00"), "2026-05"}, "payroll-2026-05"},
		{Run{"bonus", mustTime(t, "2026-05-22T14:00:00+03:00"), "2026-05"}, "bonus_2026-05-22"},
		// {date} is the run's date in the file's zone, whatever zone At is in:
		// 22:30 UTC on the 25th is 01:30 on the 26th in Istanbul.
		{Run{"bonus", mustTime(t, "2026-05-25T22:30:00Z"), "2026-05"}, "bonus_2026-05-26"},
		{Run{"rent", mustTime(t, "2026-02-28T09:30:00+03:00"), "2026-02"}, "rent-2026-02"},
	}
	for _, tt := range tests {
		got, err := f.BatchID(tt.run)
		if err != nil || got != tt.want {
			t.Errorf("BatchID(%+v) = %q, %v; want %q", tt.run, got, err, tt.want)
		}
	}
	if _, err := f.BatchID(Run{Schedule: "nope"}); !errors.Is(err, ErrUnknownSchedule) {
		t.Errorf("BatchID(nope) error = %v, want ErrUnknownSchedule", err)
	}
	g := parseFile(t, "schedules:\n  - {name: p.1, when: day 1 10:00, source: x, batch_id: \"acme.{name}.{period}.{date}\"}\n")
	r, _ := g.RunFor("p.1", "2026-07")
	if got := g.Schedules[0].BatchID(r); got != "acme.p.1.2026-07.2026-07-01" {
		t.Errorf("all placeholders: %q", got)
	}
}

func TestEndOfBusinessDay(t *testing.T) {
	f := loadTestdata(t)
	for at, want := range map[string]string{
		"2026-05-25T10:00:00+03:00": "2026-05-25T18:00:00+03:00",
		"2026-05-26T10:00:00+03:00": "2026-05-26T12:00:00+03:00", // Kurban eve
		"2026-05-25T22:00:00Z":      "2026-05-26T12:00:00+03:00", // already the 26th in Istanbul
		"2026-10-28T09:00:00+03:00": "2026-10-28T12:00:00+03:00",
	} {
		if got := f.EndOfBusinessDay(mustTime(t, at)).Format(time.RFC3339); got != want {
			t.Errorf("EndOfBusinessDay(%s) = %s, want %s", at, got, want)
		}
	}
	g := parseFile(t, "business_day_end: \"17:30\"\nschedules:\n  - {name: p, when: day 1 10:00, source: x}\n")
	if got := g.EndOfBusinessDay(mustTime(t, "2026-05-25T10:00:00+03:00")).Format(time.RFC3339); got != "2026-05-25T17:30:00+03:00" {
		t.Errorf("business_day_end 17:30: %s", got)
	}
}

func TestWriteRuns(t *testing.T) {
	f := loadTestdata(t)
	var b bytes.Buffer
	if err := WriteRuns(&b, f.Next(mustTime(t, "2026-05-22T14:00:00+03:00"), 3)); err != nil {
		t.Fatal(err)
	}
	want := "bonus\t2026-05-22T14:00:00+03:00\t2026-05\n" +
		"weekly\t2026-05-22T16:00:00+03:00\t2026-05\n" +
		"payroll\t2026-05-26T10:00:00+03:00\t2026-05\n"
	if b.String() != want {
		t.Errorf("WriteRuns:\n%q\nwant\n%q", b.String(), want)
	}
}

// The documented example's claims about May 2026 hold.
func TestExampleFileClaims(t *testing.T) {
	f, err := Load("../examples/schedule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"payroll":     "2026-05-26T10:00:00+03:00",
		"bonus":       "2026-05-22T14:00:00+03:00",
		"rent":        "2026-05-31T09:30:00+03:00",
		"contractors": "2026-05-15T16:00:00+03:00",
	} {
		r, err := f.RunFor(name, "2026-05")
		if err != nil || r.At.Format(time.RFC3339) != want {
			t.Errorf("example %s, May 2026: %v, %v; want %s", name, r.At, err, want)
		}
	}
	if r, _ := f.RunFor("rent", "2026-04"); r.At.Format(time.DateOnly) != "2026-04-30" {
		t.Errorf("example rent, April 2026: %v, want 30 April", r.At)
	}
}
