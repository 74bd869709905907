package schedule

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// DefaultTimezone is the time zone of a schedule file without timezone.
const DefaultTimezone = "Europe/Istanbul"

// DefaultBusinessDayEnd is the business_day_end of a schedule file without
// one: the wall-clock time until which the scheduler retries a run whose file
// has not arrived (noon on a half-day eve; see Calendar.BusinessDayEnd).
const DefaultBusinessDayEnd = "18:00"

// namePattern is the syntax of a schedule name. It has no ':' because the
// scheduler's task ID is "<name>:<period>".
var namePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// File is a parsed, valid schedule file. Build it with Parse or Load; it is
// immutable and safe for concurrent use.
type File struct {
	// Timezone is the IANA name of the file's time zone, DefaultTimezone
	// when the file has none.
	Timezone string
	// Location is Timezone loaded; every run time is in it.
	Location *time.Location
	// Holidays are the file's extra full-day holidays, in file order.
	Holidays []Date
	// BusinessDayEnd is the file's business_day_end, DefaultBusinessDayEnd
	// when the file has none.
	BusinessDayEnd Clock
	// Calendar is the business-day calendar of Location with the built-in
	// Turkish holidays and Holidays.
	Calendar *Calendar
	// Schedules are the file's schedules, in file order.
	Schedules []*Schedule
}

// Schedule is one entry of a schedule file's schedules list.
type Schedule struct {
	// Name identifies the schedule: 1 to 64 characters from A-Z a-z 0-9 . _ -
	// and unique in the file.
	Name string
	// When is the rule as written: "last-business-day HH:MM",
	// "business-day N HH:MM", "day N HH:MM" or a 5-field cron spec.
	When string
	// Source is the glob (filepath.Match syntax) of the payroll files a run
	// submits, as written in the file.
	Source string
	// Purpose is the iyzico purpose passed to the submission; "" for the
	// submission's default.
	Purpose string
	// ChunkSize is the chunk size passed to the submission; 0 for the
	// configured CHUNK_SIZE.
	ChunkSize int
	// DecimalComma says amounts are written like 1.234,56.
	DecimalComma bool
	// CallbackURL is the submission's callback URL; "" for none.
	CallbackURL string
	// BatchIDTemplate is the file's batch_id, DefaultBatchIDTemplate when
	// the file has none; see Schedule.BatchID.
	BatchIDTemplate string
	// Line is the line of the schedule's entry in the file.
	Line int

	rule  rule
	tmpl  batchTemplate
	cal   *Calendar
	month bool // rule is month-based, not cron
}

// Load reads and parses the schedule file at path; see Parse. A *FileError
// names path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load schedule file: %w", err)
	}
	f, err := Parse(bytes.NewReader(data))
	var fe *FileError
	if errors.As(err, &fe) {
		fe.Path = path
	}
	return f, err
}

// Parse reads a schedule file (YAML) and validates all of it. The file is a
// mapping with timezone (IANA name, default Europe/Istanbul), holidays (a
// list of YYYY-MM-DD dates), business_day_end (HH:MM, default 18:00) and
// schedules, a non-empty list of mappings with name, when and source
// (required) and purpose, chunk_size, decimal_comma, callback_url and batch_id
// (optional). An invalid file gives a *FileError listing every problem with
// its line: unknown or repeated keys, bad values, duplicate names, batch ID
// templates that cannot render a valid batch ID.
func Parse(r io.Reader) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read schedule file: %w", err)
	}
	p := &parser{}
	f := p.file(data)
	if len(p.problems) > 0 {
		slices.SortStableFunc(p.problems, func(a, b *LineError) int { return cmp.Compare(a.Line, b.Line) })
		return nil, &FileError{Problems: p.problems}
	}
	return f, nil
}

// Schedule returns the schedule called name.
func (f *File) Schedule(name string) (*Schedule, bool) {
	for _, s := range f.Schedules {
		if s.Name == name {
			return s, true
		}
	}
	return nil, false
}

// parser walks the YAML node tree and collects every problem.
type parser struct {
	problems []*LineError
}

func (p *parser) errorf(line int, format string, args ...any) {
	p.problems = append(p.problems, &LineError{Line: max(line, 1), Message: fmt.Sprintf(format, args...)})
}

var yamlLine = regexp.MustCompile(`^line (\d+): `)

func (p *parser) file(data []byte) *File {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p.yamlError(err)
		return nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		p.errorf(1, "the file is empty: want a mapping with timezone, holidays, business_day_end and schedules")
		return nil
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		p.errorf(root.Line, "the file must be a mapping with timezone, holidays, business_day_end and schedules")
		return nil
	}

	f := &File{Timezone: DefaultTimezone}
	f.BusinessDayEnd, _ = ParseClock(DefaultBusinessDayEnd)
	var schedules *yaml.Node
	tzLine := root.Line
	for key, val := range p.mapping(root, "timezone", "holidays", "business_day_end", "schedules") {
		switch key.Value {
		case "timezone":
			if s, ok := p.scalar(key.Value, val); ok && s != "" {
				f.Timezone, tzLine = s, val.Line
			}
		case "holidays":
			f.Holidays = p.holidays(val)
		case "business_day_end":
			if s, ok := p.scalar(key.Value, val); ok && s != "" {
				c, err := ParseClock(s)
				if err != nil {
					p.errorf(val.Line, "business_day_end: %v", err)
				}
				f.BusinessDayEnd = c
			}
		case "schedules":
			schedules = val
		}
	}

	f.Location = p.location(f.Timezone, tzLine)
	if f.Location == nil {
		f.Location = time.UTC // only to keep checking the rest of the file
	}
	f.Calendar = NewCalendar(f.Location, f.Holidays...)

	if schedules == nil || isNull(schedules) {
		p.errorf(root.Line, "schedules: missing: want a list of schedules with name, when and source")
		return f
	}
	if schedules.Kind != yaml.SequenceNode || len(schedules.Content) == 0 {
		p.errorf(schedules.Line, "schedules: want a non-empty list of schedules with name, when and source")
		return f
	}
	seen := make(map[string]int)
	for _, n := range schedules.Content {
		s := p.schedule(resolve(n), f.Calendar)
		if s == nil || s.Name == "" {
			continue
		}
		if line, dup := seen[s.Name]; dup {
			p.errorf(s.Line, "schedule name %q is already used at line %d: names must be unique", s.Name, line)
			continue
		}
		seen[s.Name] = s.Line
		f.Schedules = append(f.Schedules, s)
	}
	return f
}

// yamlError reports a YAML syntax error. yaml.v3 numbers a scanner error's
// line from 1 but a parser error's ("did not find expected ...") from 0, and
// gives for the latter the line where the enclosing block starts.
func (p *parser) yamlError(err error) {
	text := strings.TrimPrefix(err.Error(), "yaml: ")
	msg := yamlLine.ReplaceAllString(text, "")
	line := 1
	if m := yamlLine.FindStringSubmatch(text); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	for _, parserProblem := range []string{"<document start>", "node content", "expected key", "'-' indicator", "',' or ']'", "',' or '}'"} {
		if strings.Contains(msg, "did not find expected") && strings.HasSuffix(msg, parserProblem) {
			p.errorf(line+1, "not valid YAML in the block that starts here: %s", msg)
			return
		}
	}
	p.errorf(line, "not valid YAML: %s", msg)
}

func (p *parser) location(name string, line int) *time.Location {
	if name == "Local" {
		p.errorf(line, "timezone %q depends on the host: name a zone such as %s", name, DefaultTimezone)
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		p.errorf(line, "unknown timezone %q: want an IANA time zone name such as %s", name, DefaultTimezone)
		return nil
	}
	return loc
}

func (p *parser) holidays(val *yaml.Node) []Date {
	if isNull(val) {
		return nil
	}
	if val.Kind != yaml.SequenceNode {
		p.errorf(val.Line, "holidays: want a list of dates (YYYY-MM-DD)")
		return nil
	}
	var out []Date
	for _, n := range val.Content {
		n = resolve(n)
		if n.Kind != yaml.ScalarNode || isNull(n) {
			p.errorf(n.Line, "holidays: want a date (YYYY-MM-DD)")
			continue
		}
		d, err := ParseDate(n.Value)
		if err != nil {
			p.errorf(n.Line, "holidays: %v", err)
			continue
		}
		out = append(out, d)
	}
	return out
}

var scheduleKeys = []string{"name", "when", "source", "purpose", "chunk_size", "decimal_comma", "callback_url", "batch_id"}

func (p *parser) schedule(n *yaml.Node, cal *Calendar) *Schedule {
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "schedules: each schedule must be a mapping with name, when and source")
		return nil
	}
	s := &Schedule{Line: n.Line, BatchIDTemplate: DefaultBatchIDTemplate, cal: cal}
	prefix := "schedule"
	got := make(map[string]*yaml.Node)
	// The name first, so that every other message can say which schedule.
	for key, val := range p.mapping(n, scheduleKeys...) {
		got[key.Value] = val
		if key.Value == "name" {
			if name, ok := p.scalar(key.Value, val); ok {
				if !namePattern.MatchString(name) {
					p.errorf(val.Line, "schedule name %q: want 1 to 64 characters from A-Z a-z 0-9 . _ -", name)
				} else {
					s.Name = name
					prefix = fmt.Sprintf("schedule %q", name)
				}
			}
		}
	}
	for _, k := range []string{"name", "when", "source"} {
		if v, ok := got[k]; !ok || isNull(v) {
			p.errorf(n.Line, "%s: %s is required", prefix, k)
		}
	}
	for _, key := range scheduleKeys {
		val, ok := got[key]
		if !ok || isNull(val) || key == "name" {
			continue
		}
		switch key {
		case "when":
			if v, ok := p.scalar(key, val); ok {
				r, err := parseWhen(v)
				if err != nil {
					p.errorf(val.Line, "%s: %v", prefix, err)
					break
				}
				s.When, s.rule = v, r
				_, s.month = r.(monthRule)
			}
		case "source":
			if v, ok := p.scalar(key, val); ok {
				if _, err := filepath.Match(v, ""); err != nil || v == "" {
					p.errorf(val.Line, "%s: source %q is not a valid glob (filepath.Match syntax)", prefix, v)
				}
				s.Source = v
			}
		case "purpose":
			s.Purpose, _ = p.scalar(key, val)
		case "chunk_size":
			if v, ok := p.scalar(key, val); ok {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 {
					p.errorf(val.Line, "%s: chunk_size %q: want a whole number of at least 1", prefix, v)
				}
				s.ChunkSize = n
			}
		case "decimal_comma":
			if v, ok := p.scalar(key, val); ok {
				switch {
				case strings.EqualFold(v, "true"):
					s.DecimalComma = true
				case strings.EqualFold(v, "false"):
				default:
					p.errorf(val.Line, "%s: decimal_comma %q: want true or false", prefix, v)
				}
			}
		case "callback_url":
			if v, ok := p.scalar(key, val); ok {
				u, err := url.Parse(v)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					p.errorf(val.Line, "%s: callback_url %q: want an absolute http or https URL", prefix, v)
				}
				s.CallbackURL = v
			}
		case "batch_id":
			if v, ok := p.scalar(key, val); ok {
				s.BatchIDTemplate = v
			}
		}
	}
	tmpl, err := parseBatchTemplate(s.BatchIDTemplate)
	if err == nil && s.Name != "" {
		err = tmpl.check(s.BatchIDTemplate, s.Name)
	}
	if err != nil {
		line := n.Line
		if v, ok := got["batch_id"]; ok {
			line = v.Line
		}
		p.errorf(line, "%s: %v", prefix, err)
	}
	s.tmpl = tmpl
	return s
}

// mapping yields the key/value pairs of a mapping node, reporting unknown and
// repeated keys (and skipping them).
func (p *parser) mapping(n *yaml.Node, known ...string) func(yield func(key, val *yaml.Node) bool) {
	return func(yield func(key, val *yaml.Node) bool) {
		seen := make(map[string]int)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := resolve(n.Content[i]), resolve(n.Content[i+1])
			if key.Kind != yaml.ScalarNode {
				p.errorf(key.Line, "keys must be plain words: want one of %s", strings.Join(known, ", "))
				continue
			}
			if !slices.Contains(known, key.Value) {
				p.errorf(key.Line, "unknown key %q: want one of %s", key.Value, strings.Join(known, ", "))
				continue
			}
			if line, dup := seen[key.Value]; dup {
				p.errorf(key.Line, "key %q is repeated (first at line %d)", key.Value, line)
				continue
			}
			seen[key.Value] = key.Line
			if !yield(key, val) {
				return
			}
		}
	}
}

// scalar returns a scalar value's text, reporting a list or mapping where a
// single value belongs.
func (p *parser) scalar(key string, val *yaml.Node) (string, bool) {
	if val.Kind != yaml.ScalarNode {
		p.errorf(val.Line, "%s: want a single value, not a list or mapping", key)
		return "", false
	}
	if isNull(val) {
		return "", false
	}
	return val.Value, true
}

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}
