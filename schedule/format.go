package schedule

import (
	"fmt"
	"io"
	"time"
)

// FormatRun formats r as one line of `masspayout scheduler --next` output,
// without the newline: name, a tab, At in RFC 3339 with its offset
// (2026-05-26T10:00:00+03:00), a tab, the period.
func FormatRun(r Run) string {
	return r.Schedule + "\t" + r.At.Format(time.RFC3339) + "\t" + r.Period
}

// WriteRuns writes each run as a FormatRun line ending in a newline.
func WriteRuns(w io.Writer, runs []Run) error {
	for _, r := range runs {
		if _, err := fmt.Fprintln(w, FormatRun(r)); err != nil {
			return fmt.Errorf("write runs: %w", err)
		}
	}
	return nil
}
