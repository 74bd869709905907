package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/internal/redistest"
	"github.com/masspayout/masspayout/schedule"
	"github.com/masspayout/masspayout/worker"
)

// runSchedulerCmd runs "masspayout scheduler args..." with env and returns stdout, stderr and the error.
func runSchedulerCmd(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), append([]string{"masspayout", "scheduler"}, args...), func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func TestSchedulerNext(t *testing.T) {
	env := map[string]string{"SCHEDULE_FILE": "testdata/scheduler/schedule.yaml"}
	out, errOut, err := runSchedulerCmd(t, env, "--next", "3", "--from", "2026-11-01T00:00:00+03:00")
	if err != nil {
		t.Fatalf("scheduler --next: %v\n%s", err, errOut)
	}
	want := "rent\t2026-11-15T09:00:00+03:00\t2026-11\n" +
		"payroll\t2026-11-30T10:00:00+03:00\t2026-11\n" +
		"rent\t2026-12-15T09:00:00+03:00\t2026-12\n"
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
	// 31 December 2026 is the file's extra holiday: December's payroll runs on the 30th.
	out, _, err = runSchedulerCmd(t, env, "--from", "2026-12-16T00:00:00Z", "--next", "1")
	if err != nil || out != "payroll\t2026-12-30T10:00:00+03:00\t2026-12\n" {
		t.Errorf("--next 1 from 16 December = %q, %v", out, err)
	}
	out, _, err = runSchedulerCmd(t, env, "--next", "4")
	if err != nil || strings.Count(out, "\n") != 4 {
		t.Errorf("--next 4 from now = %q, %v; want 4 lines", out, err)
	}
}

func TestSchedulerUsage(t *testing.T) {
	env := map[string]string{"SCHEDULE_FILE": "testdata/scheduler/schedule.yaml"}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-h"}, exitOK, "scheduler run NAME"},
		{[]string{"run", "-h"}, exitOK, "--period"},
		{[]string{"status", "-h"}, exitOK, "last runs"},
		{[]string{"--from", "2026-11-01T00:00:00+03:00"}, exitUsage, "--from needs --next"},
		{[]string{"--next", "3", "--from", "1 November"}, exitUsage, "RFC 3339"},
		{[]string{"--next", "-1"}, exitUsage, "positive"},
		{[]string{"start"}, exitUsage, "unknown subcommand"},
		{[]string{"run"}, exitUsage, "exactly one schedule NAME"},
		{[]string{"run", "nosuch", "--period", "2026-10"}, exitUsage, `no schedule "nosuch"`},
		{[]string{"run", "payroll", "--period", "2026-13"}, exitUsage, "YYYY-MM"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, errOut, err := runSchedulerCmd(t, env, tt.args...)
			if code := exitCode(err); code != tt.code {
				t.Errorf("exit %d (%v), want %d", code, err, tt.code)
			}
			msg := errOut
			if err != nil {
				msg += err.Error()
			}
			if !strings.Contains(msg, tt.want) {
				t.Errorf("output %q does not mention %q", msg, tt.want)
			}
		})
	}
}

func TestSchedulerInvalidFiles(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string
	}{
		{"unset", "", []string{"SCHEDULE_FILE is not set"}},
		{"missing", "testdata/scheduler/nosuch.yaml", []string{"nosuch.yaml", "no such file"}},
		{"invalid", "testdata/scheduler/invalid.yaml", []string{
			"schedule file testdata/scheduler/invalid.yaml",
			`line 4: schedule "payroll": when "last-business-day 25:00"`,
			`line 6: unknown key "colour"`,
			`line 7: schedule name "payroll" is already used at line 3`,
		}},
		{"purpose", "testdata/scheduler/bad_purpose.yaml", []string{`line 3: schedule "payroll": purpose "WAGES": want one of SALARY`}},
		// CALLBACK_ALLOWED_HOSTS is empty: callbacks are refused before the first run, not at it.
		{"callback", "testdata/scheduler/bad_callback.yaml", []string{"schedule payroll", "CALLBACK_ALLOWED_HOSTS"}},
	}
	for _, tt := range tests {
		env := map[string]string{}
		if tt.file != "" {
			env["SCHEDULE_FILE"] = tt.file
		}
		// Every form checks the file before anything else (no Redis is needed to be told).
		for _, args := range [][]string{{"--next", "3"}, {}, {"run", "payroll"}, {"status"}} {
			t.Run(tt.name+"/"+strings.Join(args, " "), func(t *testing.T) {
				out, _, err := runSchedulerCmd(t, env, args...)
				if code := exitCode(err); code != exitUsage {
					t.Fatalf("exit %d (%v), want %d", code, err, exitUsage)
				}
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				if out != "" {
					t.Errorf("stdout %q, want nothing", out)
				}
			})
		}
	}
}

const schedulerCSV = `item_external_id,recipient_type,recipient_info,recipient_name,amount,currency,description,non_withdrawable
K1,IBAN,TR33 0006 1005 1978 6457 8413 26,Ayşe Yılmaz,100.50,TRY,Ekim maaşı,false
K2,IDENTITY_NUMBER,17291716060,,2500,TRY,,
`

// schedulerDir copies the test schedule file into a fresh directory with an inbox, so that its
// relative sources resolve there.
func schedulerDir(t *testing.T) (dir string, redis *redistest.Server, env map[string]string) {
	t.Helper()
	dir = t.TempDir()
	src, err := os.ReadFile("testdata/scheduler/schedule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "schedule.yaml"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "inbox"), 0o755); err != nil {
		t.Fatal(err)
	}
	redis = redistest.Start(t)
	return dir, redis, map[string]string{
		"SCHEDULE_FILE": filepath.Join(dir, "schedule.yaml"),
		"REDIS_URL":     redis.URL,
		"LOG_LEVEL":     "warn",
	}
}

func TestSchedulerRunAndStatus(t *testing.T) {
	dir, _, env := schedulerDir(t)
	if err := os.WriteFile(filepath.Join(dir, "inbox", "payroll-october.csv"), []byte(schedulerCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runSchedulerCmd(t, env, "run", "payroll", "--period", "2026-10", "--as", "tester")
	if err != nil {
		t.Fatalf("scheduler run: %v\n%s", err, errOut)
	}
	if !strings.Contains(out, "SUBMITTED") || !strings.Contains(out, "payroll-2026-10") || !strings.Contains(out, "manual") {
		t.Errorf("scheduler run output:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "inbox", "processed", "payroll-october.csv")); err != nil {
		t.Errorf("file not moved to processed/: %v", err)
	}
	out, _, err = runSchedulerCmd(t, env, "run", "--period", "2026-10", "payroll")
	if err != nil || !strings.Contains(out, "ALREADY_SUBMITTED") {
		t.Errorf("second scheduler run: %v\n%s", err, out)
	}
	_, _, err = runSchedulerCmd(t, env, "run", "payroll", "--period", "2026-09")
	if !errors.Is(err, worker.ErrNoFiles) || exitCode(err) != exitFailed {
		t.Errorf("scheduler run without a file = %v (exit %d), want the no-file error, exit 1", err, exitCode(err))
	}

	out, errOut, err = runSchedulerCmd(t, env, "status")
	if err != nil {
		t.Fatalf("scheduler status: %v\n%s", err, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "SCHEDULE") ||
		!strings.Contains(lines[1], "ALREADY_SUBMITTED") || !strings.Contains(lines[2], "SUBMITTED") ||
		!strings.Contains(lines[2], "2026-10-30T10:00:00+03:00") || !strings.Contains(lines[3], "no runs recorded") ||
		!strings.HasPrefix(lines[3], "rent") {
		t.Errorf("scheduler status:\n%s", out)
	}
	out, _, err = runSchedulerCmd(t, env, "status", "-n", "1", "payroll")
	if err != nil || strings.Count(out, "\n") != 2 {
		t.Errorf("scheduler status -n 1 payroll = %v\n%s", err, out)
	}
}

func TestSchedulerLoopEnqueuesAndStops(t *testing.T) {
	_, redis, env := schedulerDir(t)
	// Every minute: the catch-up window on start always holds a run of the current period.
	yaml := "timezone: Europe/Istanbul\nschedules:\n  - name: tick\n    when: \"* * * * *\"\n    source: inbox/tick-*.csv\n"
	env["LOG_LEVEL"] = "info"
	if err := os.WriteFile(env["SCHEDULE_FILE"], []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := schedule.Load(env["SCHEDULE_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"masspayout", "scheduler"}, func(k string) string { return env[k] }, strings.NewReader(""), &bytes.Buffer{}, &stderr)
	}()

	rdb := redis.Client()
	insp := asynq.NewInspectorFromRedisClient(rdb)
	hist := schedule.NewHistory(rdb, 0)
	period := f.PeriodOf(time.Now())
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, terr := insp.GetTaskInfo(schedule.Queue, "tick:"+period)
		recs, herr := hist.Recent(t.Context(), "tick", 5)
		if terr == nil && herr == nil && len(recs) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no run of tick for %s enqueued and recorded: task %v, history %v %v\n%s", period, terr, recs, herr, stderr.String())
		}
		select {
		case err := <-done:
			t.Fatalf("scheduler stopped early: %v\n%s", err, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("scheduler = %v after cancel, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("scheduler did not stop after cancel")
	}
	if !strings.Contains(stderr.String(), "scheduler running") {
		t.Errorf("logs:\n%s", stderr.String())
	}
}
