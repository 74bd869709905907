package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/masspayout/masspayout/internal/redistest"
	"github.com/masspayout/masspayout/iyzico/sandbox"
)

// server is a "masspayout serve" (or worker) started through run() for a test.
type server struct {
	t      *testing.T
	base   string
	stderr *lockedBuffer
	stop   func() error
}

// startServe runs "masspayout serve" with env and waits for its "listening on" line.
func startServe(t *testing.T, env map[string]string) *server {
	t.Helper()
	s := &server{t: t}
	s.base, s.stderr, s.stop = startListening(t, env, "serve")
	return s
}

// call sends one request with optional credentials ("Bearer x" or "Basic x") and returns the
// status and body.
func (s *server) call(method, path, auth, ctype string, body []byte) (int, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type batchJSON struct {
	ID         string                     `json:"id"`
	Status     string                     `json:"status"`
	Final      bool                       `json:"final"`
	Rows       int                        `json:"rows"`
	Counts     map[string]int             `json:"counts"`
	Amounts    map[string]map[string]any  `json:"amounts"`
	ApprovedBy string                     `json:"approved_by"`
	Links      map[string]string          `json:"links"`
	Audit      []map[string]any           `json:"audit"`
	_          map[string]json.RawMessage // keep unknown fields out of the way
}

// waitBatch polls GET /v1/batches/{id} until its status is one of want.
func (s *server) waitBatch(id, auth string, want ...string) batchJSON {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		status, body := s.call("GET", "/v1/batches/"+id, auth, "", nil)
		var b batchJSON
		json.Unmarshal(body, &b)
		for _, w := range want {
			if status == 200 && b.Status == w {
				return b
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("batch %s: %d %s, want %v\n%s", id, status, body, want, tail(s.stderr.String(), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func bearer(tok string) string { return "Bearer " + tok }
func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

const testTokens = "sub:submit:tok-sub-4d1e-9f8e7d,apr:approve:tok-apr-8b2c-6a5b4c,rdr:read:tok-rdr-1f9a-3e2d1c"

// TestServeAllInOne runs "masspayout serve" with REDIS_URL unset: embedded Redis, built-in
// sandbox and in-process workers carry a batch from upload to its final status.
func TestServeAllInOne(t *testing.T) {
	path, tot := writePayroll(t, 40, 9, 5)
	file, _ := os.ReadFile(path)
	s := startServe(t, map[string]string{
		"HTTP_ADDR": "127.0.0.1:0", "RESULTS_DIR": t.TempDir(), "POLL_INTERVAL": "100ms", "CHUNK_SIZE": "10",
		"API_TOKENS": testTokens, "IYZICO_RATE_LIMIT": "0", "LOG_LEVEL": "debug",
	})
	status, body := s.call("POST", "/v1/batches?batch_id=aio", bearer("tok-sub-4d1e-9f8e7d"), "text/csv", file)
	if status != 202 {
		t.Fatalf("submit: %d %s", status, body)
	}
	s.waitBatch("aio", bearer("tok-rdr-1f9a-3e2d1c"), "AWAITING_APPROVAL")
	if status, body := s.call("POST", "/v1/batches/aio/approve", bearer("tok-sub-4d1e-9f8e7d"), "", nil); status != 403 {
		t.Errorf("approve with a submit token: %d %s", status, body)
	}
	if status, body := s.call("POST", "/v1/batches/aio/approve", bearer("tok-apr-8b2c-6a5b4c"), "", nil); status != 202 {
		t.Fatalf("approve: %d %s", status, body)
	}
	b := s.waitBatch("aio", bearer("tok-rdr-1f9a-3e2d1c"), "COMPLETED", "COMPLETED_WITH_ERRORS")
	if b.Rows != tot.Rows || b.ApprovedBy != "apr" {
		t.Errorf("final batch: %+v", b)
	}
	status, report := s.call("GET", "/v1/batches/aio/report", bearer("tok-rdr-1f9a-3e2d1c"), "", nil)
	recs, err := csv.NewReader(bytes.NewReader(report)).ReadAll()
	if status != 200 || err != nil || len(recs) != tot.Rows+1 {
		t.Fatalf("report: %d, %d records, %v", status, len(recs), err)
	}
	status, body = s.call("GET", "/readyz", "", "", nil)
	if status != 200 || !strings.Contains(string(body), "not persistent") {
		t.Errorf("/readyz: %d %s", status, body)
	}
	if status, _ := s.call("GET", "/monitoring/api/queues", "", "", nil); status != 401 {
		t.Errorf("asynqmon without credentials: %d", status)
	}
	if status, _ := s.call("GET", "/monitoring/api/queues", basicAuth("rdr", "tok-rdr-1f9a-3e2d1c"), "", nil); status != 200 {
		t.Errorf("asynqmon as a token holder: %d", status)
	}
	// The exposition (client_golang) writes each series' labels in name order.
	status, body = s.call("GET", "/metrics", bearer("tok-rdr-1f9a-3e2d1c"), "", nil)
	for _, want := range []string{`masspayout_chunks_total{outcome="DONE"} 4`, `masspayout_iyzico_request_duration_seconds_count{code="200",endpoint="init"} 4`, `masspayout_rows_total{status="REJECTED"} 4`, `masspayout_batches{status="` + b.Status + `"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s:\n%s", want, body)
		}
	}
	if err := s.stop(); err != nil {
		t.Fatalf("serve returned %v on cancel", err)
	}
	logs := s.stderr.String()
	if !strings.Contains(logs, "embedded in-memory Redis") || !strings.Contains(logs, "all-in-one: workers running") {
		t.Errorf("all-in-one start not logged:\n%s", tail(logs, 2000))
	}
	checkLogsClean(t, logs, personalData(t, path), "tok-sub-4d1e-9f8e7d", "tok-apr-8b2c-6a5b4c", "tok-rdr-1f9a-3e2d1c", "sandbox-masspayout-secret")
}

// TestServeCredentials: without any credential serve starts only as the all-in-one server (open,
// with a warning); with a shared Redis it refuses and names the variables to set.
func TestServeCredentials(t *testing.T) {
	s := startServe(t, map[string]string{"HTTP_ADDR": "127.0.0.1:0", "RESULTS_DIR": t.TempDir()})
	if status, body := s.call("GET", "/v1/batches", "", "", nil); status != 200 {
		t.Errorf("open development server: %d %s", status, body)
	}
	if status, _ := s.call("GET", "/", "", "", nil); status != 200 {
		t.Errorf("open dashboard: %d", status)
	}
	s.stop()
	if !strings.Contains(s.stderr.String(), `lets everyone in as \"anonymous\"`) {
		t.Errorf("no warning about the open server:\n%s", tail(s.stderr.String(), 2000))
	}

	rs := redistest.Start(t)
	c := &cli{t: t, env: map[string]string{"HTTP_ADDR": "127.0.0.1:0", "REDIS_URL": rs.URL}}
	_, errs, code := c.run(context.Background(), "serve")
	if code != exitUsage || !strings.Contains(errs, "API_TOKENS") || !strings.Contains(errs, "UI_USERNAME and UI_PASSWORD") {
		t.Errorf("serve without credentials on a shared Redis: exit %d\n%s", code, errs)
	}
	c.env["UI_USERNAME"], c.env["UI_PASSWORD"], c.env["API_TOKENS"] = "sub", "ui-pass-long-enough-1", testTokens
	if _, errs, code := c.run(context.Background(), "serve"); code != exitUsage || !strings.Contains(errs, "distinct names") {
		t.Errorf("dashboard user named like a token: exit %d\n%s", code, errs)
	}
	if _, errs, code := c.run(context.Background(), "serve", "extra"); code != exitUsage {
		t.Errorf("serve with an argument: exit %d\n%s", code, errs)
	}

	// Weak secrets are refused with a shared Redis: each named by its variable (and token name),
	// never shown, with what to do.
	for _, weak := range []struct {
		tokens, uiPass string
		want           []string
		secret         string
	}{
		{"ops:admin:short-tok-15chr", "", []string{"API_TOKENS entry 1 (ops)", "shorter than 16 characters", "openssl rand"}, "short-tok-15chr"},
		{"payroll:submit:" + "ok-token-0123456789,ops:admin:Change-Me-admin-token", "", []string{"API_TOKENS entry 2 (ops)", "CHANGE-ME placeholder"}, "Change-Me-admin-token"},
		{testTokens, "CHANGE-ME-ui-password", []string{"UI_PASSWORD", "CHANGE-ME placeholder"}, "CHANGE-ME-ui-password"},
		{testTokens, "pw-10-chars", []string{"UI_PASSWORD", "shorter than 16"}, "pw-10-chars"},
	} {
		c := &cli{t: t, env: map[string]string{"HTTP_ADDR": "127.0.0.1:0", "REDIS_URL": rs.URL, "API_TOKENS": weak.tokens}}
		if weak.uiPass != "" {
			c.env["UI_USERNAME"], c.env["UI_PASSWORD"] = "viewer", weak.uiPass
		}
		_, errs, code := c.run(context.Background(), "serve")
		if code != exitUsage || strings.Contains(errs, weak.secret) {
			t.Errorf("serve with a weak secret %s: exit %d, want %d, the value not shown\n%s", weak.want[0], code, exitUsage, errs)
		}
		for _, w := range weak.want {
			if !strings.Contains(errs, w) {
				t.Errorf("serve with a weak secret: the message lacks %q:\n%s", w, errs)
			}
		}
	}
	// The all-in-one development server takes any token.
	dev := startServe(t, map[string]string{"HTTP_ADDR": "127.0.0.1:0", "RESULTS_DIR": t.TempDir(), "API_TOKENS": "dev:admin:dev"})
	if status, body := dev.call("GET", "/v1/batches", bearer("dev"), "", nil); status != 200 {
		t.Errorf("development server with a short token: %d %s", status, body)
	}
	dev.stop()
}

// TestServeWithWorkers: serve and worker as separate processes on one Redis, against a sandbox
// over HTTP. The report served over HTTP is byte for byte what "masspayout report" writes, and
// the worker's METRICS_ADDR serves its counters.
func TestServeWithWorkers(t *testing.T) {
	rs := redistest.Start(t, redistest.WithAOF())
	sb := httptest.NewServer(sandbox.New(sandbox.Options{Credentials: map[string]string{"AK-serve": "SK-serve"}}))
	t.Cleanup(sb.Close)
	env := map[string]string{
		"REDIS_URL": rs.URL, "IYZICO_BASE_URL": sb.URL, "IYZICO_API_KEY": "AK-serve", "IYZICO_SECRET_KEY": "SK-serve",
		"HTTP_ADDR": "127.0.0.1:0", "METRICS_ADDR": "127.0.0.1:0", "RESULTS_DIR": t.TempDir(), "POLL_INTERVAL": "100ms",
		"API_TOKENS": testTokens, "UI_USERNAME": "ops", "UI_PASSWORD": "ops-pass-77-5k3j2h", "APPROVAL_FOUR_EYES": "true",
		"CHUNK_SIZE": "7", "IYZICO_RATE_LIMIT": "0",
	}
	s := startServe(t, env)
	if status, body := s.call("GET", "/readyz", "", "", nil); status != 200 || !strings.Contains(string(body), "AOF on") {
		t.Errorf("/readyz with AOF: %d %s", status, body)
	}

	wctx, stopWorker := context.WithCancel(context.Background())
	var wlogs lockedBuffer
	wdone := make(chan error, 1)
	go func() {
		wdone <- run(wctx, []string{"masspayout", "worker"}, func(k string) string { return env[k] }, strings.NewReader(""), &wlogs, &wlogs)
	}()
	t.Cleanup(func() { stopWorker(); <-wdone })

	path, tot := writePayroll(t, 30, 8, 9)
	file, _ := os.ReadFile(path)
	status, body := s.call("POST", "/v1/batches", bearer("tok-sub-4d1e-9f8e7d"), "text/csv", file)
	var b batchJSON
	if err := json.Unmarshal(body, &b); status != 202 || err != nil {
		t.Fatalf("submit: %d %s", status, body)
	}
	// Submitted twice: the same batch.
	if status, again := s.call("POST", "/v1/batches", bearer("tok-sub-4d1e-9f8e7d"), "text/csv", file); status != 202 || !strings.Contains(string(again), `"id": "`+b.ID+`"`) {
		t.Errorf("identical resubmission: %d %s", status, again)
	}
	s.waitBatch(b.ID, bearer("tok-rdr-1f9a-3e2d1c"), "AWAITING_APPROVAL")
	// The dashboard user views but may not approve; an approver logs in with the token.
	if status, _ := s.call("GET", "/batches/"+b.ID, basicAuth("ops", "ops-pass-77-5k3j2h"), "", nil); status != 200 {
		t.Errorf("dashboard as ops: %d", status)
	}
	if status, _ := s.call("POST", "/batches/"+b.ID+"/approve", basicAuth("ops", "ops-pass-77-5k3j2h"), "application/x-www-form-urlencoded", nil); status != 403 {
		t.Errorf("dashboard approve as ops: %d", status)
	}
	// With four-eyes on, the CLI approves through the API, as the token's person; straight against
	// Redis, or with a typed name, it refuses and says how.
	c := &cli{t: t, env: env}
	if _, errs, code := c.run(context.Background(), "approve", b.ID); code != exitFailed || !strings.Contains(errs, "MASSPAYOUT_URL") || !strings.Contains(errs, "MASSPAYOUT_TOKEN") {
		t.Errorf("approve without MASSPAYOUT_URL: exit %d %s", code, errs)
	}
	if _, errs, code := c.run(context.Background(), "approve", "--as", "apr", b.ID); code != exitUsage || !strings.Contains(errs, "--as is not used") {
		t.Errorf("approve --as with four-eyes: exit %d %s", code, errs)
	}
	apr := &cli{t: t, env: maps.Clone(env)}
	apr.env["MASSPAYOUT_URL"], apr.env["MASSPAYOUT_TOKEN"] = s.base, "tok-apr-8b2c-6a5b4c"
	if out := apr.must(context.Background(), "approve", b.ID); !strings.Contains(out, "approval 1 by apr released") {
		t.Errorf("approve through the API: %s", out)
	}
	if out := apr.must(context.Background(), "approve", b.ID); !strings.Contains(out, "already approved (approval 1 by apr") {
		t.Errorf("second approve through the API: %s", out)
	}
	final := s.waitBatch(b.ID, bearer("tok-rdr-1f9a-3e2d1c"), "COMPLETED", "COMPLETED_WITH_ERRORS")
	if final.Rows != tot.Rows {
		t.Errorf("rows %d, want %d", final.Rows, tot.Rows)
	}

	_, served := s.call("GET", "/v1/batches/"+b.ID+"/report", bearer("tok-rdr-1f9a-3e2d1c"), "", nil)
	_, fromUI := s.call("GET", "/batches/"+b.ID+"/report.csv", basicAuth("ops", "ops-pass-77-5k3j2h"), "", nil)
	cliReport := c.must(context.Background(), "report", "-o", "-", b.ID)
	if string(served) != cliReport || string(fromUI) != cliReport {
		t.Fatalf("served report differs from masspayout report:\nserved:\n%s\ncli:\n%s", served, cliReport)
	}

	m := regexp.MustCompile(`"addr":"([^"]+)"[^\n]*"message":"metrics on /metrics"`).FindStringSubmatch(wlogs.String())
	if m == nil {
		t.Fatalf("the worker did not log its metrics address:\n%s", tail(wlogs.String(), 2000))
	}
	resp, err := http.Get("http://" + m[1] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	wm, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`masspayout_chunks_total{outcome="INIT"}`, `masspayout_iyzico_request_duration_seconds_count{code="200",endpoint="auth"}`, "go_goroutines "} {
		if resp.StatusCode != 200 || !strings.Contains(string(wm), want) {
			t.Errorf("worker /metrics lacks %s: %d\n%s", want, resp.StatusCode, wm)
		}
	}
	if err := s.stop(); err != nil {
		t.Errorf("serve: %v", err)
	}
}

// TestServeSchedules: with SCHEDULE_FILE, serve's dashboard shows each schedule and the run
// "masspayout scheduler run" recorded, its batch linked; an invalid file stops serve (exit 2).
func TestServeSchedules(t *testing.T) {
	dir, _, env := schedulerDir(t)
	if err := os.WriteFile(filepath.Join(dir, "inbox", "payroll-october.csv"), []byte(schedulerCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := runSchedulerCmd(t, env, "run", "payroll", "--period", "2026-10", "--as", "tester"); err != nil {
		t.Fatalf("scheduler run: %v\n%s", err, errOut)
	}
	env["HTTP_ADDR"], env["RESULTS_DIR"], env["API_TOKENS"] = "127.0.0.1:0", t.TempDir(), testTokens
	env["UI_USERNAME"], env["UI_PASSWORD"] = "ops", "ops-pass-77-5k3j2h"
	s := startServe(t, env)
	ops := basicAuth("ops", "ops-pass-77-5k3j2h")
	status, body := s.call("GET", "/schedules", ops, "", nil)
	page := string(body)
	for _, want := range []string{`id="schedule-payroll"`, `id="schedule-rent"`, "Next run", `<span class="status ok">SUBMITTED</span>`,
		`<a href="/batches/payroll-2026-10">payroll-2026-10</a>`, "<td>manual</td>", "No runs recorded yet."} {
		if status != 200 || !strings.Contains(page, want) {
			t.Errorf("/schedules lacks %s: %d\n%s", want, status, page)
		}
	}
	if status, _ := s.call("GET", "/batches/payroll-2026-10", ops, "", nil); status != 200 {
		t.Errorf("the scheduled batch's page: %d", status)
	}
	if _, body := s.call("GET", "/", ops, "", nil); !strings.Contains(string(body), `href="/schedules"`) {
		t.Errorf("the batch list does not link to /schedules:\n%s", body)
	}
	if err := s.stop(); err != nil {
		t.Errorf("serve: %v", err)
	}

	env["SCHEDULE_FILE"] = "testdata/scheduler/invalid.yaml"
	c := &cli{t: t, env: env}
	if _, errs, code := c.run(context.Background(), "serve"); code != exitUsage || !strings.Contains(errs, "SCHEDULE_FILE") || !strings.Contains(errs, "line 4") {
		t.Errorf("serve with an invalid schedule file: exit %d\n%s", code, errs)
	}
}

// TestServeBrowser drives the dashboard with headless Chromium: a batch submitted over the API is
// approved with the dashboard's button, reaches its final status on the page, and the report
// downloaded from the page equals the ledger's. It skips without /usr/bin/chromium unless
// MASSPAYOUT_BROWSER_TEST=required.
func TestServeBrowser(t *testing.T) {
	chromium := os.Getenv("MASSPAYOUT_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(chromium); err != nil {
		if os.Getenv("MASSPAYOUT_BROWSER_TEST") == "required" {
			t.Fatalf("MASSPAYOUT_BROWSER_TEST=required but %s is missing (apt-get install -y chromium): %v", chromium, err)
		}
		t.Skipf("no %s; install chromium or set MASSPAYOUT_CHROMIUM", chromium)
	}
	s := startServe(t, map[string]string{
		"HTTP_ADDR": "127.0.0.1:0", "RESULTS_DIR": t.TempDir(), "POLL_INTERVAL": "100ms", "CHUNK_SIZE": "10",
		"API_TOKENS": testTokens, "IYZICO_RATE_LIMIT": "0", "APPROVAL_FOUR_EYES": "true",
		"SCHEDULE_FILE": "testdata/scheduler/schedule.yaml",
	})
	path, tot := writePayroll(t, 25, 6, 17)
	file, _ := os.ReadFile(path)
	if status, body := s.call("POST", "/v1/batches?batch_id=browser-1", bearer("tok-sub-4d1e-9f8e7d"), "text/csv", file); status != 202 {
		t.Fatalf("submit: %d %s", status, body)
	}
	s.waitBatch("browser-1", bearer("tok-rdr-1f9a-3e2d1c"), "AWAITING_APPROVAL")

	downloads := t.TempDir()
	// Screenshots of every page the test visits, kept in MASSPAYOUT_SCREENSHOTS when set.
	shots := os.Getenv("MASSPAYOUT_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromiumOptions(chromium, t.TempDir())...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	// Start the browser on a context without a deadline (a deadline would end the browser), then
	// bound the test's steps.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(bctx, 150*time.Second)
	defer cancel()

	// The approver logs in to the dashboard with the token's name and the token: the browser
	// answers the basic-auth challenge with the URL's credentials and keeps them for the site,
	// downloads included.
	login := strings.Replace(s.base, "http://", "http://apr:tok-apr-8b2c-6a5b4c@", 1)
	eventsOn := true
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: &eventsOn,
	}); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(login+"/"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/batches/browser-1"]`)),
	)
	if err != nil {
		t.Fatalf("dashboard: %v\n%s", err, tail(s.stderr.String(), 2000))
	}
	listText, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`table.batches`)))
	if err != nil || !strings.Contains(listText, "AWAITING_APPROVAL") {
		t.Fatalf("batch list shows %q (%v), want AWAITING_APPROVAL", listText, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[href="/batches/browser-1"]`)),
		chromedp.WaitVisible(chromedp.ID("approve")),
	); err != nil {
		t.Fatalf("batch page: %v", err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("batch-status")))
	if err != nil || status != "AWAITING_APPROVAL" {
		t.Fatalf("batch page shows %q (%v), want AWAITING_APPROVAL", status, err)
	}
	// The approve button opens the approval page: what would be released, and a typed
	// confirmation (the batch ID) before anything moves.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("approve")),
		chromedp.WaitVisible(chromedp.ID("confirm")),
	); err != nil {
		t.Fatalf("approve button: %v", err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("approve-rows")))
	if err != nil || strings.TrimSpace(rows) == "" || strings.TrimSpace(rows) == "0" {
		t.Fatalf("approval page shows %q rows (%v)", rows, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("confirm"), "browser-1"),
		chromedp.Click(chromedp.ID("approve")),
		chromedp.WaitVisible(chromedp.ID("batch-status")),
	); err != nil {
		t.Fatalf("confirm the approval: %v", err)
	}
	// The page reloads itself while the batch moves, until its final status.
	deadline := time.Now().Add(60 * time.Second)
	for !strings.HasPrefix(status, "COMPLETED") {
		if time.Now().After(deadline) {
			t.Fatalf("the page still shows %s\n%s", status, tail(s.stderr.String(), 2000))
		}
		time.Sleep(200 * time.Millisecond)
		if status, err = chromedp.Run(ctx, chromedp.Text(chromedp.ID("batch-status"))); err != nil {
			t.Fatalf("read status: %v", err)
		}
	}
	approvedBy, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("approved-by")))
	if err != nil || !strings.HasPrefix(approvedBy, "apr") {
		t.Errorf("approved by %q (%v), want apr", approvedBy, err)
	}
	// Amounts in tr-TR's way (UI_LOCALE's default), times in Europe/Istanbul.
	paid, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("paid")))
	if err != nil || !regexp.MustCompile(`\d,\d\d TL`).MatchString(paid) {
		t.Errorf("the paid table shows %q (%v), want amounts like 1.234,56 TL", paid, err)
	}
	if facts, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`dl.facts`))); err != nil || !strings.Contains(facts, "+03:00") || !strings.Contains(facts, "Commission") {
		t.Errorf("the batch's facts show %q (%v), want Istanbul times and the commission", facts, err)
	}
	shot := screenshot(t, ctx, shots, "batch-completed")
	if keep := os.Getenv("MASSPAYOUT_SCREENSHOT"); keep != "" {
		os.WriteFile(keep, shot, 0o644)
	}

	// Download the report with the page's link.
	progress := chromedp.BrowserEvents(ctx, browser.DownloadProgress)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("report-link"))); err != nil {
		t.Fatalf("report link: %v", err)
	}
	var guid string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			guid = ev.GUID
			break
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("the report download was canceled")
		}
	}
	got, err := os.ReadFile(filepath.Join(downloads, guid))
	if err != nil {
		t.Fatal(err)
	}
	_, want := s.call("GET", "/v1/batches/browser-1/report", bearer("tok-rdr-1f9a-3e2d1c"), "", nil)
	if !bytes.Equal(got, want) {
		t.Fatalf("downloaded report differs from the ledger's:\n%s\nwant:\n%s", got, want)
	}
	recs, err := csv.NewReader(bytes.NewReader(got)).ReadAll()
	if err != nil || len(recs) != tot.Rows+1 {
		t.Errorf("downloaded report: %d records, %v; want %d", len(recs), err, tot.Rows+1)
	}

	// The batch list links to the scheduled runs (SCHEDULE_FILE), which show the next run.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(login+"/"),
		chromedp.Click(chromedp.ID("schedules-link")),
		chromedp.WaitVisible(chromedp.ID("schedule-payroll")),
	); err != nil {
		t.Fatalf("scheduled runs page: %v", err)
	}
	next, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#schedule-payroll .next-run`)))
	if err != nil || !strings.Contains(next, "period 20") || !strings.Contains(next, "+03:00") {
		t.Errorf("payroll's next run shows %q (%v)", next, err)
	}

	// A payroll clerk (the submit token) uploads in a browser of their own (its own login): a
	// file with bad rows is validated and every problem shown before anything is submitted; the
	// corrected file is submitted from the page.
	cctx := browserSession(t, chromium, 60*time.Second)
	clerk := strings.Replace(s.base, "http://", "http://sub:tok-sub-4d1e-9f8e7d@", 1)
	bad, _ := writePayroll(t, 12, 5, 23) // rows 5 and 10 break a rule each
	if err := chromedp.Do(cctx,
		chromedp.Navigate(clerk+"/upload"),
		chromedp.WaitVisible(chromedp.ID("upload-form")),
	); err != nil {
		t.Fatalf("upload page: %v\n%s", err, tail(s.stderr.String(), 2000))
	}
	screenshot(t, cctx, shots, "upload")
	if err := chromedp.Do(cctx,
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{bad}),
		chromedp.Click(chromedp.ID("validate")),
		chromedp.WaitVisible(chromedp.ID("problems")),
	); err != nil {
		t.Fatalf("validate a file with bad rows: %v\n%s", err, tail(s.stderr.String(), 2000))
	}
	problems, err := chromedp.Run(cctx, chromedp.Text(chromedp.ID("problems")))
	if err != nil || !regexp.MustCompile(`(?m)^\s*5\s+\w+\s+[A-Z_]+\s+row 5\b`).MatchString(problems) || !regexp.MustCompile(`(?m)^\s*10\s+\w*\s*[A-Z_]+\s+row 10\b`).MatchString(problems) {
		t.Errorf("the problems table shows %q (%v), want rows 5 and 10 with column, code and message", problems, err)
	}
	summary, _ := chromedp.Run(cctx, chromedp.Text(chromedp.ID("validation-summary")))
	if !strings.Contains(summary, "2 of 12 rows are invalid") {
		t.Errorf("the validation summary says %q", summary)
	}
	screenshot(t, cctx, shots, "upload-problems")
	good, _ := writePayroll(t, 15, 0, 29)
	content, _ := os.ReadFile(good)
	good = filepath.Join(t.TempDir(), "kasim-2026.csv")
	os.WriteFile(good, bytes.ReplaceAll(content, []byte("\nemp-"), []byte("\nkasim-")), 0o644)
	if err := chromedp.Do(cctx,
		chromedp.Click(chromedp.ID("upload-again")),
		chromedp.WaitVisible(chromedp.ID("upload-form")),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{good}),
		chromedp.Click(chromedp.ID("validate")),
		chromedp.WaitVisible(chromedp.ID("submit-form")),
	); err != nil {
		t.Fatalf("validate the corrected file: %v", err)
	}
	summary, _ = chromedp.Run(cctx, chromedp.Text(chromedp.ID("validation-summary")))
	if !strings.Contains(summary, "All 15 rows are valid") {
		t.Errorf("the corrected file's summary says %q", summary)
	}
	screenshot(t, cctx, shots, "upload-valid")
	if err := chromedp.Do(cctx,
		chromedp.SendKeys(chromedp.ID("batch-id"), "kasim-2026"),
		chromedp.Click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.ID("batch-status")),
	); err != nil {
		t.Fatalf("submit from the page: %v\n%s", err, tail(s.stderr.String(), 2000))
	}
	if landed, err := chromedp.Run(cctx, chromedp.Location()); err != nil || !strings.HasSuffix(landed, "/batches/kasim-2026") {
		t.Errorf("Submit went to %s, want the batch's page", landed)
	}
	uploaded := s.waitBatch("kasim-2026", bearer("tok-rdr-1f9a-3e2d1c"), "AWAITING_APPROVAL")
	if uploaded.Rows != 15 {
		t.Errorf("the uploaded batch has %d rows, want 15", uploaded.Rows)
	}
	// The page reloads itself until the batch awaits approval, then holds still.
	deadline = time.Now().Add(30 * time.Second)
	for status = ""; status != "AWAITING_APPROVAL"; {
		if time.Now().After(deadline) {
			t.Fatalf("the uploaded batch's page still shows %s", status)
		}
		time.Sleep(200 * time.Millisecond)
		if status, err = chromedp.Run(cctx, chromedp.Text(chromedp.ID("batch-status"))); err != nil {
			t.Fatalf("read status: %v", err)
		}
	}
	reloads, err := chromedp.Run(cctx, chromedp.Evaluate[bool](`document.querySelector('meta[http-equiv="refresh"]') !== null`))
	if err != nil || reloads {
		t.Errorf("the page of a batch awaiting approval reloads itself (%v)", err)
	}
	screenshot(t, cctx, shots, "batch-awaiting-approval")

	// The approver filters the list: by status, then by an item ID of the uploaded file.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(login+"/"),
		chromedp.WaitVisible(chromedp.ID("filter")),
		chromedp.SetValue(chromedp.ID("filter-status"), "AWAITING_APPROVAL"),
		chromedp.Click(chromedp.ID("filter-apply")),
		chromedp.WaitVisible(chromedp.ID("filter-clear")), // on the filtered page only
		chromedp.WaitVisible(chromedp.CSS(`a[href="/batches/kasim-2026"]`)),
	); err != nil {
		t.Fatalf("filter the list by status: %v", err)
	}
	listText, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`table.batches`)))
	if err != nil || strings.Contains(listText, "browser-1") || !strings.Contains(listText, "kasim-2026") || !strings.Contains(listText, " TL") {
		t.Errorf("the list filtered by AWAITING_APPROVAL shows %q (%v)", listText, err)
	}
	screenshot(t, ctx, shots, "list-filtered")
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("filter-status"), ""),
		chromedp.SendKeys(chromedp.ID("filter-q"), "kasim-7"),
		chromedp.Click(chromedp.ID("filter-apply")),
		chromedp.WaitVisible(chromedp.ID("items-since")), // with a search only
		chromedp.WaitVisible(chromedp.CSS(`a[href="/batches/kasim-2026"]`)),
	); err != nil {
		t.Fatalf("search the list by item ID: %v", err)
	}
	if listText, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`table.batches`))); err != nil || strings.Contains(listText, "browser-1") {
		t.Errorf("the list searched for item kasim-7 shows %q (%v)", listText, err)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("browser test ran out of time")
	}
}

// chromiumOptions are TestServeBrowser's headless Chromium settings, with its profile in dir.
func chromiumOptions(chromium, dir string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1200, 1000),
	}
}

// browserSession starts another headless Chromium for TestServeBrowser (its own profile, so its
// own basic-auth login) and returns a context bounded by timeout; it ends with the test.
func browserSession(t *testing.T, chromium string, timeout time.Duration) context.Context {
	t.Helper()
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromiumOptions(chromium, t.TempDir())...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(bctx, timeout)
	t.Cleanup(cancel)
	return ctx
}

// screenshot saves a full-page PNG of ctx's page as dir/name.png for TestServeBrowser, logs its
// path and returns it.
func screenshot(t *testing.T, ctx context.Context, dir, name string) []byte {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(shot))
	return shot
}

// TestServeStalledUploads is the attack of issue 11 on "masspayout serve": thousands of
// unauthenticated uploads that declare a 200 kB body, send 3 bytes and stall, beside connections
// that never finish their headers. /healthz and an authenticated upload still answer within a
// second, and every stalled upload is answered 401 and closed at once: its body is never read.
// (Before the limits, the server drained each refused body and held the connection forever.)
func TestServeStalledUploads(t *testing.T) {
	const stalled, slow = 3000, 500
	s := startServe(t, map[string]string{
		"HTTP_ADDR": "127.0.0.1:0", "RESULTS_DIR": t.TempDir(), "API_TOKENS": testTokens, "IYZICO_RATE_LIMIT": "0", "LOG_LEVEL": "warn",
	})
	t.Cleanup(func() { s.stop() })
	addr := strings.TrimPrefix(s.base, "http://")
	var uploads []net.Conn
	t.Cleanup(func() {
		for _, c := range uploads {
			c.Close()
		}
	})
	open := func(req string) net.Conn {
		t.Helper()
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", len(uploads), err)
		}
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatalf("write: %v", err)
		}
		return c
	}
	started := time.Now()
	for range stalled {
		uploads = append(uploads, open("POST /v1/batches HTTP/1.1\r\nHost: masspayout\r\nContent-Type: text/csv\r\nContent-Length: 200000\r\n\r\nabc"))
	}
	var slowConns []net.Conn
	for range slow {
		slowConns = append(slowConns, open("POST /v1/batches HTTP/1.1\r\nHost: masspayout\r\nX-Slow: "))
	}
	t.Cleanup(func() {
		for _, c := range slowConns {
			c.Close()
		}
	})
	t.Logf("%d stalled uploads and %d stalled headers opened in %s", stalled, slow, time.Since(started))

	client := &http.Client{Timeout: 5 * time.Second}
	t0 := time.Now()
	resp, err := client.Get(s.base + "/healthz")
	if err != nil {
		t.Fatalf("/healthz under attack: %v", err)
	}
	resp.Body.Close()
	if d := time.Since(t0); resp.StatusCode != 200 || d > time.Second {
		t.Errorf("/healthz under attack: %d in %s, want 200 within 1s", resp.StatusCode, d)
	}
	path, _ := writePayroll(t, 5, 0, 31)
	file, _ := os.ReadFile(path)
	req, _ := http.NewRequest("POST", s.base+"/v1/batches?batch_id=under-attack", bytes.NewReader(file))
	req.Header.Set("Authorization", bearer("tok-sub-4d1e-9f8e7d"))
	req.Header.Set("Content-Type", "text/csv")
	t0 = time.Now()
	resp, err = client.Do(req)
	if err != nil {
		t.Fatalf("authenticated upload under attack: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if d := time.Since(t0); resp.StatusCode != 202 || d > time.Second {
		t.Errorf("authenticated upload under attack: %d in %s, want 202 within 1s\n%s", resp.StatusCode, d, body)
	}

	// Every stalled upload has its 401 and the server's end of the connection (EOF) by now.
	deadline := started.Add(5 * time.Second)
	var notClosed, not401 int
	for _, c := range uploads {
		// A closed connection answers EOF at once, but a deadline already passed hides it.
		if d := time.Now().Add(20 * time.Millisecond); d.After(deadline) {
			deadline = d
		}
		c.SetReadDeadline(deadline)
		b, err := io.ReadAll(c)
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			notClosed++
		case !bytes.HasPrefix(b, []byte("HTTP/1.1 401")) || !bytes.Contains(b, []byte("Connection: close")):
			not401++
		}
	}
	if notClosed > 0 || not401 > 0 {
		t.Errorf("of %d stalled unauthenticated uploads, %d were still open 5s after the attack began and %d had no 401 with Connection: close", stalled, notClosed, not401)
	}
}
