package schedule

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownSchedule is returned for a schedule name the file does not define.
var ErrUnknownSchedule = errors.New("unknown schedule")

// ErrNoRun is returned by RunFor when a schedule has no run in the period (a
// "business-day 23" rule in a month with 22 business days, or a cron spec
// that does not fire that month).
var ErrNoRun = errors.New("no run in that period")

// LineError is one problem in a schedule file: the 1-based line it is on and
// what is wrong.
type LineError struct {
	Line    int
	Message string
}

// Error returns "line N: message".
func (e *LineError) Error() string {
	return fmt.Sprintf("line %d: %s", e.Line, e.Message)
}

// FileError is every problem found in a schedule file, in line order; Parse
// and Load return one whenever a file is invalid. Path is empty for Parse.
type FileError struct {
	Path     string
	Problems []*LineError
}

// Error returns "schedule file PATH: line N: message; line M: message".
func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString("schedule file")
	if e.Path != "" {
		b.WriteString(" " + e.Path)
	}
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap returns each problem, so errors.As finds a *LineError.
func (e *FileError) Unwrap() []error {
	out := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p
	}
	return out
}
