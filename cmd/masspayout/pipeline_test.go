package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/masspayout/masspayout/internal/payrollgen"
	"github.com/masspayout/masspayout/internal/redistest"
	"github.com/masspayout/masspayout/iyzico/sandbox"
)

type cli struct {
	t   *testing.T
	env map[string]string
}

// run runs one masspayout command and returns its stdout, stderr and exit code.
func (c *cli) run(ctx context.Context, args ...string) (string, string, int) {
	c.t.Helper()
	var out, errb lockedBuffer
	err := run(ctx, append([]string{"masspayout"}, args...), func(k string) string { return c.env[k] }, strings.NewReader(""), &out, &errb)
	if err != nil {
		errb.Write([]byte("masspayout: " + err.Error() + "\n"))
	}
	return out.String(), errb.String(), exitCode(err)
}

func (c *cli) must(ctx context.Context, args ...string) string {
	c.t.Helper()
	out, errs, code := c.run(ctx, args...)
	if code != 0 {
		c.t.Fatalf("masspayout %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, tail(errs, 3000))
	}
	return out
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func writePayroll(t *testing.T, rows, invalidEvery int, seed uint64) (string, payrollgen.Totals) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "payroll.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tot, err := payrollgen.WriteCSV(f, payrollgen.Options{Rows: rows, InvalidEvery: invalidEvery, Seed: seed, BankFailEvery: 13})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path, tot
}

// personalData lists every recipient identifier of a payroll file, to prove logs never show them.
func personalData(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs[1:] {
		if len(r[2]) >= 10 { // IBANs, identity numbers, phones
			out = append(out, r[2], strings.TrimPrefix(r[2], "0"))
		}
	}
	return out
}

func checkLogsClean(t *testing.T, logs string, personal []string, secrets ...string) {
	t.Helper()
	for _, s := range append(secrets, "IYZWSv2") {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain the secret %q", s)
		}
	}
	for _, p := range personal {
		if strings.Contains(logs, p) {
			t.Fatalf("logs contain the recipient identifier %q", p)
		}
	}
}

func TestRunCommandEmbedded(t *testing.T) {
	path, tot := writePayroll(t, 700, 31, 1)
	dir := t.TempDir()
	c := &cli{t: t, env: map[string]string{
		"APPROVAL": "auto", "POLL_INTERVAL": "50ms", "RESULTS_DIR": dir, "LOG_LEVEL": "debug",
		"CHUNK_SIZE": "100", "IYZICO_RATE_LIMIT": "0",
		"IYZICO_API_KEY": "AKSENTINEL-key", "IYZICO_SECRET_KEY": "SKSENTINEL-secret",
	}}
	report := filepath.Join(dir, "out", "report.csv")
	out, logs, code := c.run(context.Background(), "run", "--wait-final", "--report", report, "--batch-id", "cli-run", path)
	if code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, tail(logs, 3000))
	}
	for _, want := range []string{"batch cli-run: COMPLETED_WITH_ERRORS", "SUCCESS", "REJECTED", "report: " + report} {
		if !strings.Contains(out, want) {
			t.Errorf("run output lacks %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(recs)-1 != tot.Rows {
		t.Fatalf("report has %d rows (%v), want %d", len(recs)-1, err, tot.Rows)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "report.json")); err != nil {
		t.Errorf("summary JSON missing: %v", err)
	}
	if !strings.Contains(logs, "embedded in-memory Redis") || !strings.Contains(logs, "built-in iyzico sandbox") {
		t.Errorf("embedded defaults not logged")
	}
	checkLogsClean(t, logs, personalData(t, path), "AKSENTINEL", "SKSENTINEL")
}

func TestRunCommandUsageAndInputErrors(t *testing.T) {
	c := &cli{t: t, env: map[string]string{"RESULTS_DIR": t.TempDir()}}
	ctx := context.Background()
	if _, _, code := c.run(ctx, "run"); code != exitUsage {
		t.Errorf("run without FILE: exit %d, want %d", code, exitUsage)
	}
	if _, _, code := c.run(ctx, "run", "/does/not/exist.csv"); code != exitUsage {
		t.Errorf("missing file: exit %d, want %d", code, exitUsage)
	}
	empty := filepath.Join(t.TempDir(), "empty.csv")
	os.WriteFile(empty, nil, 0o600)
	if _, errs, code := c.run(ctx, "run", empty); code != exitUsage {
		t.Errorf("empty file: exit %d, want %d (%s)", code, exitUsage, errs)
	}
	if _, _, code := c.run(ctx, "run", "--chunk-size", "x", empty); code != exitUsage {
		t.Errorf("bad flag: exit %d", code)
	}
	if _, _, code := c.run(ctx, "run", "-h"); code != exitOK {
		t.Errorf("run -h: exit %d", code)
	}
	c.env["CHUNK_SIZE"] = "zero"
	if _, errs, code := c.run(ctx, "run", empty); code != exitUsage || !strings.Contains(errs, "CHUNK_SIZE") {
		t.Errorf("bad config: exit %d %s", code, errs)
	}
	delete(c.env, "CHUNK_SIZE")
	if _, errs, code := c.run(ctx, "enqueue", empty); code != exitUsage || !strings.Contains(errs, "REDIS_URL") {
		t.Errorf("enqueue without REDIS_URL: exit %d %s", code, errs)
	}
}

// TestSeparateProcesses drives a batch through the commands an operator uses with a shared Redis
// and an external iyzico (the sandbox over HTTP): enqueue, worker, status, approve (four-eyes),
// cancel (refused), report, reconcile, and resubmissions.
func TestSeparateProcesses(t *testing.T) {
	redis := redistest.Start(t)
	sb := sandbox.New(sandbox.Options{Credentials: map[string]string{"AKSENTINEL-k": "SKSENTINEL-s"}})
	hs := httptest.NewServer(sb)
	t.Cleanup(hs.Close)
	dir := t.TempDir()
	c := &cli{t: t, env: map[string]string{
		"REDIS_URL": redis.URL, "IYZICO_BASE_URL": hs.URL, "IYZICO_API_KEY": "AKSENTINEL-k", "IYZICO_SECRET_KEY": "SKSENTINEL-s",
		"POLL_INTERVAL": "50ms", "RESULTS_DIR": dir, "APPROVAL_FOUR_EYES": "true", "CHUNK_SIZE": "50",
		"IYZICO_RATE_LIMIT": "50", "LOG_LEVEL": "debug", "METRICS_ADDR": "127.0.0.1:0",
	}}
	ctx := context.Background()
	path, tot := writePayroll(t, 260, 17, 2)

	id := strings.TrimSpace(c.must(ctx, "enqueue", "--as", "tester", "--purpose", "salary", path))
	if !strings.HasPrefix(id, "mp-") {
		t.Fatalf("enqueue printed %q, want a batch ID", id)
	}
	if again := strings.TrimSpace(c.must(ctx, "enqueue", "--as", "tester", "--purpose", "SALARY", path)); again != id {
		t.Errorf("identical enqueue printed %q, want %q", again, id)
	}
	other, _ := writePayroll(t, 10, 0, 3)
	if _, errs, code := c.run(ctx, "enqueue", "--batch-id", id, "--purpose", "SALARY", other); code != exitConflict || !strings.Contains(errs, "different content") {
		t.Errorf("conflicting enqueue: exit %d, %s", code, errs)
	}
	if _, errs, code := c.run(ctx, "enqueue", "--batch-id", "payroll-again", "--purpose", "SALARY", path); code != exitConflict || !strings.Contains(errs, "already submitted as batch "+id) || !strings.Contains(errs, "--allow-duplicate") {
		t.Errorf("the same file under another batch ID: exit %d, %s", code, errs)
	}

	wctx, stop := context.WithCancel(ctx)
	var logs lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(wctx, []string{"masspayout", "worker"}, func(k string) string { return c.env[k] }, strings.NewReader(""), &logs, &logs)
	}()
	t.Cleanup(func() { stop(); <-done })

	out := c.must(ctx, "status", "--watch", id)
	if !strings.Contains(out, "AWAITING_APPROVAL") {
		t.Fatalf("status --watch: %s", out)
	}
	// With four-eyes on, approvals go through the API (TestServeWithWorkers); straight against
	// Redis they are refused, with a name typed or not.
	if _, errs, code := c.run(ctx, "approve", "--as", "tester", id); code != exitUsage || !strings.Contains(errs, "--as is not used") {
		t.Errorf("approve --as under four-eyes: exit %d, %s", code, errs)
	}
	if _, errs, code := c.run(ctx, "approve", id); code != exitFailed || !strings.Contains(errs, "MASSPAYOUT_URL") {
		t.Errorf("approve under four-eyes without the API: exit %d, %s", code, errs)
	}
	c.env["APPROVAL_FOUR_EYES"] = "false"
	c.must(ctx, "approve", "--as", "ayse", id)
	if _, errs, code := c.run(ctx, "cancel", "--as", "ops", id); code != exitFailed || !strings.Contains(errs, "can no longer be canceled") {
		t.Errorf("cancel after approval: exit %d, %s", code, errs)
	}
	out = c.must(ctx, "status", "--watch", id)
	if !strings.Contains(out, "COMPLETED") {
		t.Fatalf("final status: %s", out)
	}
	// The report from the command equals the one the finalize task wrote.
	reportPath := filepath.Join(t.TempDir(), "r.csv")
	c.must(ctx, "report", "-o", reportPath, id)
	got, _ := os.ReadFile(reportPath)
	written, err := os.ReadFile(filepath.Join(dir, id+".csv"))
	if err != nil || !bytes.Equal(got, written) {
		t.Errorf("report -o differs from the finalize task's report (%v)", err)
	}
	if n := bytes.Count(got, []byte("\n")) - 1; n != tot.Rows {
		t.Errorf("report has %d rows, want %d", n, tot.Rows)
	}
	stdout := c.must(ctx, "report", "-o", "-", id)
	if stdout != string(got) {
		t.Errorf("report -o - differs")
	}
	if out := c.must(ctx, "reconcile", id); !strings.Contains(out, "no changes") {
		t.Errorf("reconcile on a healthy batch: %s", out)
	}
	if _, errs, code := c.run(ctx, "status", "nope"); code != exitFailed || !strings.Contains(errs, "not found") {
		t.Errorf("status of an unknown batch: exit %d %s", code, errs)
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("worker ended with %v", err)
	}
	done <- nil
	checkLogsClean(t, logs.String(), personalData(t, path), "AKSENTINEL", "SKSENTINEL")
	if st := sb.Stats(); st.CommittedItems > tot.Valid || len(st.ItemsUnderManyExternalIDs) > 0 {
		t.Errorf("sandbox stats: %+v", st)
	}
}
