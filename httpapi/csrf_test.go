package httpapi

import (
	"testing"
	"time"
)

// TestCSRFWindow: a form token is valid in the 12-hour window it was issued in and the next one
// (a page left open for 12 hours still submits), not later, and only for its user.
func TestCSRFWindow(t *testing.T) {
	c := newCSRF([]byte(testCSRFKey))
	issued := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	tok := c.tokenAt("approver", issued)
	for _, tc := range []struct {
		after time.Duration
		valid bool
	}{
		// Windows run 00:00-12:00 and 12:00-24:00 UTC; issued at 09:00, the token is good until
		// the next window ends at midnight: at least 12 hours, at most 24.
		{0, true},
		{3 * time.Hour, true},
		{12 * time.Hour, true},
		{15*time.Hour - time.Second, true},
		{15 * time.Hour, false},
		{7 * 24 * time.Hour, false},
		{-24 * time.Hour, false},
	} {
		c.now = func() time.Time { return issued.Add(tc.after) }
		if got := c.valid(tok, "approver"); got != tc.valid {
			t.Errorf("token issued at %s, checked %s later: valid %v, want %v", issued, tc.after, got, tc.valid)
		}
	}
	c.now = func() time.Time { return issued }
	if c.valid(tok, "root") {
		t.Error("another user's token is valid")
	}
	if c.token("approver") != tok {
		t.Error("token() is not the token of the current window")
	}
}
