package httpapi

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
)

func TestFormatPayload(t *testing.T) {
	tests := []struct{ payload, want string }{
		{`{"batch":"b1","seq":7}`, "batch=b1 seq=7"},
		{`{"batch":"b1","phase":"final"}`, "batch=b1 phase=final"},
		{`{"schedule":"monthly","period":"2026-01"}`, "period=2026-01 schedule=monthly"},
		{`{"batch":"b1","seq":1,"iban":"TR330006100519786457841326","tckn":"10000000146"}`, "batch=b1 seq=1 (2 more fields hidden)"},
		{`{"batch":{"iban":"TR330006100519786457841326"}}`, "batch=(hidden)"},
		{`["TR330006100519786457841326"]`, "(payload hidden: 30 bytes, not a JSON object)"},
		{"TR330006100519786457841326", "(payload hidden: 26 bytes, not a JSON object)"},
		{``, "(payload hidden: 0 bytes, not a JSON object)"},
	}
	for _, tt := range tests {
		if got := formatPayload("payout:init", []byte(tt.payload)); got != tt.want {
			t.Errorf("formatPayload(%s) = %q, want %q", tt.payload, got, tt.want)
		}
	}
	if got := formatResult("payout:init", []byte("TR330006100519786457841326")); strings.Contains(got, "TR33") {
		t.Errorf("formatResult shows the result: %q", got)
	}
}

// Sentinels that must never reach asynqmon's answers.
const (
	sentinelIBAN = "TR330006100519786457841326"
	sentinelTCKN = "10000000146"
)

// TestMonitorNoPersonalData fills the queues with real chunk tasks (from a file whose recipients
// are all sentinels) and with foreign tasks whose payloads carry an IBAN and an identity number,
// in every state, and reads everything asynqmon shows: no personal data appears. It also shows
// that asynqmon v0.7.2 reads asynq v0.26's queues.
func TestMonitorNoPersonalData(t *testing.T) {
	r := setup(t)
	file, _ := payroll(t, 12, 0, 21)
	recs, _ := csv.NewReader(bytes.NewReader(file)).ReadAll()
	sentinels := []string{sentinelIBAN, sentinelTCKN}
	for _, rec := range recs[1:] {
		sentinels = append(sentinels, rec[2], rec[3]) // recipient_info, recipient_name
	}
	res := r.mustSubmit("submitter", file, url.Values{"batch_id": {"mon"}})

	pii := []byte(`{"batch":"mon","seq":99,"iban":"` + sentinelIBAN + `","identityNumber":"` + sentinelTCKN + `"}`)
	q := asynq.NewClientFromRedisClient(r.rdb)
	var archivedID string
	for i, opt := range []asynq.Option{asynq.ProcessIn(time.Hour), nil, nil} {
		opts := []asynq.Option{asynq.Queue("foreign")}
		if opt != nil {
			opts = append(opts, opt)
		}
		info, err := q.Enqueue(asynq.NewTask("payout:init", pii), opts...)
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			archivedID = info.ID
		}
	}
	insp := asynq.NewInspectorFromRedisClient(r.rdb)
	if err := insp.ArchiveTask("foreign", archivedID); err != nil {
		t.Fatal(err)
	}

	check := func(path string) string {
		t.Helper()
		status, _, body := r.do(request{method: "GET", path: path, basic: uiUser})
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
		for _, s := range sentinels {
			if s != "" && bytes.Contains(body, []byte(s)) {
				t.Errorf("GET %s shows %q:\n%s", path, s, body)
			}
		}
		return string(body)
	}
	queues := check("/monitoring/api/queues")
	if !contains(queues, `"queue":"default"`, `"queue":"foreign"`) {
		t.Errorf("asynqmon does not list the queues:\n%s", queues)
	}
	if body := check("/monitoring/api/queues/default/pending_tasks"); !contains(body, "batch=mon seq=1", "batch=mon seq=3") {
		t.Errorf("pending chunk tasks not shown as batch/seq:\n%s", body)
	}
	for _, state := range []string{"pending", "scheduled", "archived", "retry", "active", "completed"} {
		body := check("/monitoring/api/queues/foreign/" + state + "_tasks")
		if state == "pending" || state == "scheduled" || state == "archived" {
			if !strings.Contains(body, "batch=mon seq=99 (2 more fields hidden)") {
				t.Errorf("%s: foreign task not shown redacted:\n%s", state, body)
			}
		}
	}
	check("/monitoring/api/queues/foreign/tasks/" + archivedID)
	check("/monitoring/api/queues/default/tasks/" + url.PathEscape("mon-00001:init"))

	// Let the chunks run: completed tasks and the servers' view show no personal data either.
	r.startWorkers()
	r.waitStatus(res.ID, batch.StatusAwaitingApproval)
	if body := check("/monitoring/api/queues/default/completed_tasks"); !strings.Contains(body, "batch=mon") {
		t.Errorf("completed tasks not listed:\n%s", body)
	}
	check("/monitoring/api/servers")
	check("/monitoring/api/queue_stats")
	if status, hdr, _ := r.do(request{method: "GET", path: "/monitoring/", basic: uiUser}); status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
		t.Errorf("asynqmon page: %d %s", status, hdr.Get("Content-Type"))
	}
}

// TestMonitorReadOnly: read-only asynqmon refuses every mutating call with 405, for admins too,
// and nothing changes.
func TestMonitorReadOnly(t *testing.T) {
	r := setup(t)
	q := asynq.NewClientFromRedisClient(r.rdb)
	info, err := q.Enqueue(asynq.NewTask("payout:init", []byte(`{"batch":"x","seq":1}`)), asynq.Queue("ro"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ method, path string }{
		{"POST", "/monitoring/api/queues/ro:pause"},
		{"DELETE", "/monitoring/api/queues/ro"},
		{"DELETE", "/monitoring/api/queues/ro/pending_tasks/" + info.ID},
		{"DELETE", "/monitoring/api/queues/ro/pending_tasks:delete_all"},
		{"POST", "/monitoring/api/queues/ro/pending_tasks/" + info.ID + ":archive"},
		{"POST", "/monitoring/api/queues/ro/pending_tasks:archive_all"},
		{"POST", "/monitoring/api/queues/ro/archived_tasks:run_all"},
	} {
		for _, who := range []string{"root", uiUser} {
			status, _, body := r.do(request{method: c.method, path: c.path, basic: who, header: map[string]string{"Content-Type": "application/json"}})
			if status != http.StatusMethodNotAllowed {
				t.Errorf("%s %s as %s: %d, want 405\n%s", c.method, c.path, who, status, body)
			}
		}
		if status, _, _ := r.do(request{method: c.method, path: c.path}); status != http.StatusUnauthorized {
			t.Errorf("%s %s anonymous: %d, want 401", c.method, c.path, status)
		}
	}
	insp := asynq.NewInspectorFromRedisClient(r.rdb)
	qi, err := insp.GetQueueInfo("ro")
	if err != nil || qi.Paused || qi.Pending != 1 || qi.Archived != 0 {
		t.Errorf("queue changed: %+v %v", qi, err)
	}
}

// TestMonitorReadWrite: with UI_READ_WRITE only admins may change tasks, and not cross-site.
func TestMonitorReadWrite(t *testing.T) {
	r := setup(t, withMonitorReadWrite())
	insp := asynq.NewInspectorFromRedisClient(r.rdb)
	q := asynq.NewClientFromRedisClient(r.rdb)
	if _, err := q.Enqueue(asynq.NewTask("payout:init", []byte(`{"batch":"x","seq":1}`)), asynq.Queue("rw")); err != nil {
		t.Fatal(err)
	}
	pause := request{method: "POST", path: "/monitoring/api/queues/rw:pause"}
	for _, who := range []string{uiUser, "reader", "submitter", "approver"} {
		req := pause
		req.basic = who
		if status, _, _ := r.do(req); status != http.StatusForbidden {
			t.Errorf("pause as %s: %d, want 403", who, status)
		}
	}
	req := pause
	req.basic, req.header = "root", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
	if status, _, _ := r.do(req); status != http.StatusForbidden {
		t.Errorf("cross-site pause as admin: %d, want 403", status)
	}
	if qi, _ := insp.GetQueueInfo("rw"); qi.Paused {
		t.Fatal("queue paused by a refused call")
	}
	req.header = nil
	if status, _, body := r.do(req); status != http.StatusNoContent && status != http.StatusOK {
		t.Fatalf("pause as admin: %d %s", status, body)
	}
	if qi, _ := insp.GetQueueInfo("rw"); !qi.Paused {
		t.Error("queue not paused by the admin")
	}
}
