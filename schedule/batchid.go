package schedule

import (
	"fmt"
	"regexp"
	"strings"
)

// DefaultBatchIDTemplate is the batch ID template of a schedule without
// batch_id: the schedule's name and the period, e.g. "payroll-2026-05".
const DefaultBatchIDTemplate = "{name}-{period}"

// batchIDPattern is the batch ID syntax of DESIGN §3 (--batch-id).
var batchIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// batchTemplate is a parsed batch_id template: literal text and the
// placeholders {name}, {period} (YYYY-MM) and {date} (YYYY-MM-DD, the run's
// local date).
type batchTemplate struct {
	parts []templatePart
}

type templatePart struct {
	literal     string
	placeholder string // "name", "period" or "date"; "" for a literal
}

// parseBatchTemplate parses a batch_id template. Braces are only for
// placeholders: an unknown placeholder or a lone { or } is an error.
func parseBatchTemplate(s string) (batchTemplate, error) {
	var t batchTemplate
	rest := s
	for rest != "" {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			t.parts = append(t.parts, templatePart{literal: rest})
			break
		}
		if rest[open] == '}' {
			return batchTemplate{}, fmt.Errorf("batch_id %q: } without {", s)
		}
		if open > 0 {
			t.parts = append(t.parts, templatePart{literal: rest[:open]})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return batchTemplate{}, fmt.Errorf("batch_id %q: { without }", s)
		}
		name := rest[open+1 : open+end]
		switch name {
		case "name", "period", "date":
		default:
			return batchTemplate{}, fmt.Errorf("batch_id %q: unknown placeholder {%s}: want {name}, {period} or {date}", s, name)
		}
		t.parts = append(t.parts, templatePart{placeholder: name})
		rest = rest[open+end+1:]
	}
	return t, nil
}

// render fills the template in. period is YYYY-MM and date YYYY-MM-DD.
func (t batchTemplate) render(name, period, date string) string {
	var b strings.Builder
	for _, p := range t.parts {
		switch p.placeholder {
		case "name":
			b.WriteString(name)
		case "period":
			b.WriteString(period)
		case "date":
			b.WriteString(date)
		default:
			b.WriteString(p.literal)
		}
	}
	return b.String()
}

// check renders the template for a sample run of the schedule and verifies
// the result is a valid batch ID. Placeholders have a fixed length once name
// is known, so one sample decides for every run.
func (t batchTemplate) check(template, name string) error {
	id := t.render(name, "2026-05", "2026-05-26")
	if !batchIDPattern.MatchString(id) {
		return fmt.Errorf("batch_id %q renders as %q: a batch ID must be 1 to 64 characters from A-Z a-z 0-9 . _ -", template, id)
	}
	return nil
}
