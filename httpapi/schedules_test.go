package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Istanbul whatever the host has

	"github.com/masspayout/masspayout/schedule"
)

const testScheduleFile = `timezone: Europe/Istanbul
schedules:
  - name: payroll
    when: last-business-day 10:00
    source: inbox/payroll-*.csv
    batch_id: "{name}-{period}"
  - name: bonus
    when: day 15 09:30
    source: inbox/bonus-*.csv
`

// TestDashboardSchedules: with a schedule file, /schedules shows each schedule's next run and its
// last runs, newest first, batches linked to their pages, everything escaped; the list page links
// to it; it needs credentials and only reads. Without one, there is no page and no link.
func TestDashboardSchedules(t *testing.T) {
	f, err := schedule.Parse(strings.NewReader(testScheduleFile))
	if err != nil {
		t.Fatal(err)
	}
	r := setup(t, withSchedules(f))
	file, _ := payroll(t, 6, 0, 3)
	r.mustSubmit("submitter", file, url.Values{"batch_id": {"payroll-2026-04"}})

	due := time.Date(2026, 4, 30, 10, 0, 0, 0, f.Location)
	for _, rec := range []schedule.Record{
		{Schedule: "payroll", Period: "2026-03", Due: due.AddDate(0, -1, 1), At: due.AddDate(0, -1, 1).Add(8 * time.Hour),
			Trigger: schedule.TriggerSchedule, Outcome: schedule.OutcomeMissed, Message: "no file matched inbox/payroll-*.csv"},
		{Schedule: "payroll", Period: "2026-04", Due: due, At: due.Add(time.Minute), Trigger: schedule.TriggerSchedule,
			Outcome: schedule.OutcomeSubmitted, Batches: []string{"payroll-2026-04", `x"><script>alert(1)</script>`},
			Files: []string{"payroll-april.csv", "payroll-april-2.csv"}, Message: "2 files <b>submitted</b> & moved"},
	} {
		if err := r.history.Record(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
	}

	before := time.Now()
	status, hdr, body := r.do(request{method: "GET", path: "/schedules", basic: uiUser})
	page := string(body)
	if status != http.StatusOK || hdr.Get("Content-Security-Policy") == "" {
		t.Fatalf("GET /schedules: %d\n%s", status, page)
	}
	// The next run of each schedule, as the schedule file computes it, in its time zone.
	for _, s := range f.Schedules {
		ok := false
		for _, at := range []time.Time{before, time.Now()} {
			n := s.Next(at, 1)[0]
			want := htmlTime(n.At.In(f.Location).Format("2006-01-02 15:04 -07:00")) + " · period " + n.Period + " · batch <code>" + s.BatchID(n) + "</code>"
			ok = ok || strings.Contains(page, want)
		}
		if !ok {
			t.Errorf("no next run of %s:\n%s", s.Name, page)
		}
	}
	if !contains(page, `id="schedule-payroll"`, `id="schedule-bonus"`, "Europe/Istanbul", "<code>last-business-day 10:00</code>",
		"No runs recorded yet.", `<span class="status ok">SUBMITTED</span>`, `<span class="status bad">MISSED</span>`,
		htmlTime("2026-04-30 10:01 +03:00"), `<a href="/batches/payroll-2026-04">payroll-2026-04</a>`, "no file matched inbox/payroll-*.csv") {
		t.Errorf("schedules page:\n%s", page)
	}
	// Newest first.
	if i, j := strings.Index(page, "SUBMITTED"), strings.Index(page, "MISSED"); i < 0 || j < i {
		t.Errorf("runs not newest first:\n%s", page)
	}
	// What the history holds is text, never markup.
	if strings.Contains(page, "<script>") || strings.Contains(page, "<b>submitted") ||
		!contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;", "2 files &lt;b&gt;submitted&lt;/b&gt; &amp; moved", `href="/batches/x%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E"`) {
		t.Errorf("history not escaped:\n%s", page)
	}
	// The batch link leads to the batch's page.
	if status, _, _ := r.do(request{method: "GET", path: "/batches/payroll-2026-04", basic: uiUser}); status != http.StatusOK {
		t.Errorf("linked batch page: %d", status)
	}

	// Linked from the list page and the navigation.
	if _, _, body := r.do(request{method: "GET", path: "/", basic: uiUser}); !contains(string(body), `id="schedules-link" href="/schedules"`, `<a href="/schedules">Scheduled runs</a>`) {
		t.Errorf("the list page does not link to /schedules:\n%s", body)
	}
	// Credentials needed; nothing to post.
	if status, _, _ := r.do(request{method: "GET", path: "/schedules"}); status != http.StatusUnauthorized {
		t.Errorf("/schedules without credentials: %d", status)
	}
	if status, _, _ := r.do(request{method: "POST", path: "/schedules", basic: "root"}); status != http.StatusMethodNotAllowed {
		t.Errorf("POST /schedules: %d, want 405", status)
	}

	// Without a schedule file: no page, no link.
	plain := setup(t)
	if status, _, _ := plain.do(request{method: "GET", path: "/schedules", basic: uiUser}); status != http.StatusNotFound {
		t.Errorf("/schedules without a schedule file: %d, want 404", status)
	}
	if _, _, body := plain.do(request{method: "GET", path: "/", basic: uiUser}); strings.Contains(string(body), "/schedules") {
		t.Errorf("the list page links to /schedules without a schedule file:\n%s", body)
	}

	// Redis gone: an error page, not a partial history.
	if r.redis.Real() {
		r.redis.Kill()
		if status, _, body := r.do(request{method: "GET", path: "/schedules", basic: uiUser}); status != http.StatusInternalServerError {
			t.Errorf("/schedules with Redis down: %d\n%s", status, body)
		}
	}
}

// htmlTime is a time as html/template writes it: "+" as "&#43;".
func htmlTime(s string) string { return strings.ReplaceAll(s, "+", "&#43;") }

func TestOutcomeClass(t *testing.T) {
	tests := []struct {
		rec  schedule.Record
		want string
	}{
		{schedule.Record{Outcome: schedule.OutcomeSubmitted}, "ok"},
		{schedule.Record{Outcome: schedule.OutcomeAlreadySubmitted}, "off"},
		{schedule.Record{Outcome: schedule.OutcomeWaiting}, "wait"},
		{schedule.Record{Outcome: schedule.OutcomeMissed}, "bad"},
		{schedule.Record{Outcome: schedule.OutcomeFailed}, "bad"},
		{schedule.Record{Outcome: schedule.OutcomeFailed, Retrying: true}, "warn"},
	}
	for _, tt := range tests {
		if got := outcomeClass(tt.rec); got != tt.want {
			t.Errorf("outcomeClass(%s, retrying %v) = %q, want %q", tt.rec.Outcome, tt.rec.Retrying, got, tt.want)
		}
	}
}
