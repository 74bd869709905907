package schedule

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func loadTestdata(t *testing.T) *File {
	t.Helper()
	f, err := Load(filepath.Join("testdata", "schedule.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return f
}

func TestLoadTestdata(t *testing.T) {
	f := loadTestdata(t)
	if f.Timezone != "Europe/Istanbul" || f.Location.String() != "Europe/Istanbul" {
		t.Errorf("timezone = %q / %v", f.Timezone, f.Location)
	}
	if f.BusinessDayEnd != (Clock{18, 0}) {
		t.Errorf("business_day_end = %v", f.BusinessDayEnd)
	}
	if len(f.Holidays) != 2 || f.Holidays[0].String() != "2026-12-31" {
		t.Errorf("holidays = %v", f.Holidays)
	}
	if f.Calendar.IsBusinessDay(mustDate(t, "2026-12-31")) {
		t.Error("the file's extra holiday 2026-12-31 is a business day in its calendar")
	}
	var names []string
	for _, s := range f.Schedules {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "payroll,bonus,rent,weekly" {
		t.Fatalf("schedules = %s", got)
	}
	p := f.Schedules[0]
	want := Schedule{
		Name: "payroll", When: "last-business-day 10:00", Source: "/srv/payroll/inbox/payroll-*.csv",
		Purpose: "SALARY", ChunkSize: 500, CallbackURL: "https://hr.example.com/hooks/masspayout",
		BatchIDTemplate: "{name}-{period}", Line: 9,
	}
	if p.Name != want.Name || p.When != want.When || p.Source != want.Source || p.Purpose != want.Purpose ||
		p.ChunkSize != want.ChunkSize || p.CallbackURL != want.CallbackURL || p.BatchIDTemplate != want.BatchIDTemplate ||
		p.Line != want.Line || p.DecimalComma {
		t.Errorf("payroll = %+v\nwant %+v", *p, want)
	}
	if b, _ := f.Schedule("bonus"); !b.DecimalComma || b.BatchIDTemplate != "bonus_{date}" {
		t.Errorf("bonus = %+v", *b)
	}
	if r, _ := f.Schedule("rent"); r.BatchIDTemplate != DefaultBatchIDTemplate || r.ChunkSize != 0 {
		t.Errorf("rent = %+v", *r)
	}
	if _, ok := f.Schedule("nope"); ok {
		t.Error("Schedule(nope) found")
	}
}

// The documented sample shipped to users must stay valid.
func TestExampleFileParses(t *testing.T) {
	f, err := Load(filepath.Join("..", "examples", "schedule.yaml"))
	if err != nil {
		t.Fatalf("examples/schedule.yaml: %v", err)
	}
	if len(f.Schedules) == 0 {
		t.Error("examples/schedule.yaml has no schedules")
	}
}

func TestParseDefaults(t *testing.T) {
	f, err := Parse(strings.NewReader("schedules:\n  - name: p\n    when: last-business-day 10:00\n    source: in/*.csv\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Timezone != DefaultTimezone || f.Location.String() != DefaultTimezone {
		t.Errorf("timezone = %q, want %q", f.Timezone, DefaultTimezone)
	}
	if f.BusinessDayEnd.String() != DefaultBusinessDayEnd {
		t.Errorf("business_day_end = %v, want %s", f.BusinessDayEnd, DefaultBusinessDayEnd)
	}
	if s := f.Schedules[0]; s.BatchIDTemplate != DefaultBatchIDTemplate || s.ChunkSize != 0 || s.DecimalComma || s.Purpose != "" {
		t.Errorf("schedule defaults = %+v", *s)
	}
}

func TestParseInvalid(t *testing.T) {
	const good = "    when: last-business-day 10:00\n    source: in/*.csv\n"
	tests := []struct {
		name string
		yaml string
		want []string // "line N: text the message contains"
	}{
		{"empty file", "", []string{"line 1: the file is empty"}},
		{"not a mapping", "- a\n- b\n", []string{"line 1: the file must be a mapping"}},
		{"bad yaml block", "schedules:\n  - name: p\n   when: x\n", []string{"line 2: not valid YAML in the block that starts here: did not find expected '-' indicator"}},
		{"bad yaml tab", "timezone: UTC\n\tschedules: []\n", []string{"line 2: not valid YAML: found a tab character"}},
		{"bad yaml flow", "timezone: UTC\nholidays: [2026-01-02,\nschedules: []\n", []string{"line 2: not valid YAML in the block that starts here"}},
		{"unknown top key", "timezone: UTC\nschedule:\n  - name: p\n", []string{
			"line 1: schedules: missing",
			`line 2: unknown key "schedule": want one of timezone, holidays, business_day_end, schedules`,
		}},
		{"repeated key", "timezone: UTC\ntimezone: UTC\nschedules:\n  - name: p\n" + good, []string{
			`line 2: key "timezone" is repeated (first at line 1)`,
		}},
		{"unknown timezone", "timezone: Europe/Istambul\nschedules:\n  - name: p\n" + good, []string{
			`line 1: unknown timezone "Europe/Istambul"`,
		}},
		{"local timezone", "timezone: Local\nschedules:\n  - name: p\n" + good, []string{
			`line 1: timezone "Local" depends on the host`,
		}},
		{"bad holiday", "holidays:\n  - 2026-12-31\n  - 2026-02-30\n  - [x]\nschedules:\n  - name: p\n" + good, []string{
			`line 3: holidays: bad date "2026-02-30"`,
			"line 4: holidays: want a date",
		}},
		{"holidays not a list", "holidays: 2026-12-31\nschedules:\n  - name: p\n" + good, []string{
			"line 1: holidays: want a list of dates",
		}},
		{"bad business_day_end", "business_day_end: 25:00\nschedules:\n  - name: p\n" + good, []string{
			`line 1: business_day_end: bad time "25:00"`,
		}},
		{"no schedules", "timezone: UTC\nschedules: []\n", []string{"line 2: schedules: want a non-empty list"}},
		{"schedule not a mapping", "schedules:\n  - payroll\n", []string{"line 2: schedules: each schedule must be a mapping"}},
		{"missing fields", "schedules:\n  - purpose: SALARY\n", []string{
			"line 2: schedule: name is required",
			"line 2: schedule: when is required",
			"line 2: schedule: source is required",
		}},
		{"unknown schedule key", "schedules:\n  - name: p\n    when: day 1 10:00\n    source: x\n    chunksize: 10\n", []string{
			`line 5: unknown key "chunksize": want one of name, when, source, purpose, chunk_size, decimal_comma, callback_url, batch_id`,
		}},
		{"bad time", "schedules:\n  - name: p\n    when: last-business-day 25:00\n    source: x\n", []string{
			`line 3: schedule "p": when "last-business-day 25:00": bad time "25:00"`,
		}},
		{"bad when", "schedules:\n  - name: p\n    when: every month\n    source: x\n", []string{
			`line 3: schedule "p": when "every month": want "last-business-day HH:MM"`,
		}},
		{"business-day 0", "schedules:\n  - name: p\n    when: business-day 0 10:00\n    source: x\n", []string{
			`line 3: schedule "p": when "business-day 0 10:00": N must be a whole number from 1 to 23`,
		}},
		{"business-day 24", "schedules:\n  - name: p\n    when: business-day 24 10:00\n    source: x\n", []string{
			`line 3: schedule "p": when "business-day 24 10:00": N must be`,
		}},
		{"day 32", "schedules:\n  - name: p\n    when: day 32 10:00\n    source: x\n", []string{
			`line 3: schedule "p": when "day 32 10:00": N must be a whole number from 1 to 31`,
		}},
		{"bad cron", "schedules:\n  - name: p\n    when: \"61 * * * *\"\n    source: x\n", []string{
			`line 3: schedule "p": when "61 * * * *": cron minute field "61": "61" is not a value from 0 to 59`,
		}},
		{"cron never fires", "schedules:\n  - name: p\n    when: \"0 10 30 feb *\"\n    source: x\n", []string{
			`line 3: schedule "p": when "0 10 30 feb *": cron spec never fires`,
		}},
		{"duplicate name", "schedules:\n  - name: p\n" + good + "  - name: q\n" + good + "  - name: p\n" + good, []string{
			`line 8: schedule name "p" is already used at line 2`,
		}},
		{"bad name", "schedules:\n  - name: pay roll\n" + good, []string{
			`line 2: schedule name "pay roll": want 1 to 64 characters`,
		}},
		{"name with colon", "schedules:\n  - name: \"pay:roll\"\n" + good, []string{`line 2: schedule name "pay:roll"`}},
		{"bad placeholder", "schedules:\n  - name: p\n" + good + "    batch_id: \"{name}-{month}\"\n", []string{
			`line 5: schedule "p": batch_id "{name}-{month}": unknown placeholder {month}: want {name}, {period} or {date}`,
		}},
		{"unclosed placeholder", "schedules:\n  - name: p\n" + good + "    batch_id: \"{name\"\n", []string{
			`line 5: schedule "p": batch_id "{name": { without }`,
		}},
		{"stray brace", "schedules:\n  - name: p\n" + good + "    batch_id: \"name}\"\n", []string{
			`line 5: schedule "p": batch_id "name}": } without {`,
		}},
		{"batch id bad characters", "schedules:\n  - name: p\n" + good + "    batch_id: \"pay roll/{period}\"\n", []string{
			`line 5: schedule "p": batch_id "pay roll/{period}" renders as "pay roll/2026-05": a batch ID must be 1 to 64 characters`,
		}},
		{"batch id too long", "schedules:\n  - name: " + strings.Repeat("n", 60) + "\n" + good, []string{
			`line 2: schedule "` + strings.Repeat("n", 60) + `": batch_id "{name}-{period}" renders as`,
		}},
		{"bad chunk size", "schedules:\n  - name: p\n" + good + "    chunk_size: 0\n", []string{
			`line 5: schedule "p": chunk_size "0": want a whole number of at least 1`,
		}},
		{"bad decimal_comma", "schedules:\n  - name: p\n" + good + "    decimal_comma: maybe\n", []string{
			`line 5: schedule "p": decimal_comma "maybe": want true or false`,
		}},
		{"bad callback", "schedules:\n  - name: p\n" + good + "    callback_url: hr.example.com/hook\n", []string{
			`line 5: schedule "p": callback_url "hr.example.com/hook": want an absolute http or https URL`,
		}},
		{"bad glob", "schedules:\n  - name: p\n    when: day 1 10:00\n    source: \"in/[a-.csv\"\n", []string{
			`line 4: schedule "p": source "in/[a-.csv" is not a valid glob`,
		}},
		{"list where a value belongs", "schedules:\n  - name: p\n    when: [day, 1]\n    source: x\n", []string{
			"line 3: when: want a single value",
		}},
		{"every problem at once", "timezone: Nowhere/City\nschedules:\n  - name: a\n    when: day 0 10:00\n    source: x\n  - name: b\n    when: business-day 2 9:7\n    source: y\n    batch_id: \"{x}\"\n", []string{
			`line 1: unknown timezone "Nowhere/City"`,
			`line 4: schedule "a": when "day 0 10:00"`,
			`line 7: schedule "b": when "business-day 2 9:7": bad time "9:7"`,
			`line 9: schedule "b": batch_id "{x}": unknown placeholder {x}`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(strings.NewReader(tt.yaml))
			if err == nil {
				t.Fatalf("Parse = %+v, nil error; want %v", f, tt.want)
			}
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v is not a *FileError", err, err)
			}
			var got []string
			for _, p := range fe.Problems {
				got = append(got, p.Error())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("problem %d = %q\nwant prefix %q", i, got[i], tt.want[i])
				}
			}
			var le *LineError
			if !errors.As(err, &le) || le.Line < 1 {
				t.Errorf("errors.As(*LineError) = %v", le)
			}
		})
	}
}

func TestLoadNamesThePath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(path, []byte("timezone: Mars/Olympus\nschedules:\n  - name: p\n    when: day 1 10:00\n    source: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	want := "schedule file " + path + `: line 1: unknown timezone "Mars/Olympus"`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Load error = %v\nwant prefix %s", err, want)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want os.ErrNotExist", err)
	}
}

func TestParseAnchorsAndQuotes(t *testing.T) {
	src := `
defaults: &d
  source: in/*.csv
schedules:
  - name: p
    when: "last-business-day 10:00"
    source: *d
`
	// An alias to a mapping where a value belongs is a problem, not a panic;
	// the unknown top-level key is reported too.
	if _, err := Parse(strings.NewReader(src)); err == nil {
		t.Error("Parse accepted an alias to a mapping as source")
	}
	ok := `
timezone: UTC
schedules:
  - name: p
    when: &w 'day 31 23:59'
    source: in/*.csv
  - name: q
    when: *w
    source: in/*.csv
`
	f, err := Parse(strings.NewReader(ok))
	if err != nil {
		t.Fatal(err)
	}
	if f.Schedules[1].When != "day 31 23:59" {
		t.Errorf("aliased when = %q", f.Schedules[1].When)
	}
	if f.Location != time.UTC {
		t.Errorf("location = %v", f.Location)
	}
}

func FuzzParse(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "schedule.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(data))
	f.Add("schedules:\n  - name: p\n    when: \"*/5 1-3,7 */2 jan-mar mon-fri\"\n    source: x\n")
	f.Add("schedules:\n  - {name: a, when: business-day -3 09:00, source: '*', batch_id: '{name}.{date}'}\n")
	f.Add("a: &a [*a]\n")
	f.Fuzz(func(t *testing.T, src string) {
		file, err := Parse(strings.NewReader(src))
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || len(fe.Problems) == 0 {
				t.Fatalf("error %v is not a *FileError with problems", err)
			}
			return
		}
		// A valid file must answer every question without panicking, and
		// every batch ID it renders must be valid.
		from := time.Date(2026, 1, 1, 0, 0, 0, 0, file.Location)
		for _, r := range file.Next(from, 3) {
			id, err := file.BatchID(r)
			if err != nil || !batchIDPattern.MatchString(id) {
				t.Fatalf("BatchID(%+v) = %q, %v", r, id, err)
			}
		}
		file.DueBetween(from, from.Add(48*time.Hour))
	})
}
