package worker_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Istanbul whatever the host has

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/internal/redistest"
	"github.com/masspayout/masspayout/schedule"
	"github.com/masspayout/masspayout/tasks"
	"github.com/masspayout/masspayout/worker"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// The schedule under test: June 2026's last business day is Tuesday 30 June, so the run is due
// at 10:00 that day and the business day ends at 18:00.
const (
	schedYAML = `timezone: Europe/Istanbul
schedules:
  - name: payroll
    when: last-business-day 10:00
    source: inbox/payroll-*.csv
    purpose: salary
    chunk_size: 2
`
	junePeriod = "2026-06"
	juneBatch  = "payroll-2026-06"
	juneTaskID = "payroll:2026-06"
)

// schedCSV is a payroll file of three valid rows.
const schedCSV = `item_external_id,recipient_type,recipient_info,recipient_name,amount,currency,description,non_withdrawable
S1,IBAN,TR33 0006 1005 1978 6457 8413 26,Ayşe Yılmaz,100.50,TRY,Haziran maaşı,false
S2,IDENTITY_NUMBER,17291716060,,2500,TRY,,
S3,PHONE,0532 123 45 67,,75.25,TRY,,
`

// schedClock is the injected clock of a scheduler test.
type schedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *schedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *schedClock) Set(t *testing.T, s string) {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = v
}

// schedLogs is a log sink safe for concurrent writers.
type schedLogs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *schedLogs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *schedLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// schedRig is a scheduler under test: a private redis-server, a directory holding the schedule
// file's inbox, the ledger, the history, an injected clock and the runner.
type schedRig struct {
	t       *testing.T
	dir     string
	inbox   string
	file    *schedule.File
	rdb     *redis.Client
	store   *batch.Store
	queue   *asynq.Client
	inspect *asynq.Inspector
	history *schedule.History
	clock   *schedClock
	logs    *schedLogs
	log     zerolog.Logger
	runOpts tasks.Options
	runner  *worker.ScheduleRunner
}

func newSchedRig(t *testing.T) *schedRig {
	t.Helper()
	r := &schedRig{t: t, dir: t.TempDir(), clock: &schedClock{}, logs: &schedLogs{}}
	r.inbox = filepath.Join(r.dir, "inbox")
	if err := os.Mkdir(r.inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := schedule.Parse(strings.NewReader(schedYAML))
	if err != nil {
		t.Fatal(err)
	}
	r.file = f
	r.log = zerolog.New(r.logs).Level(zerolog.DebugLevel)
	r.rdb = redistest.Start(t).Client()
	r.store = batch.NewStore(r.rdb, time.Hour)
	r.queue = asynq.NewClientFromRedisClient(r.rdb)
	r.inspect = asynq.NewInspectorFromRedisClient(r.rdb)
	r.history = schedule.NewHistory(r.rdb, 0)
	r.runOpts = schedule.TaskOptions(3, 24*time.Hour)
	r.runner = &worker.ScheduleRunner{
		Log: r.log, File: f, Dir: r.dir, Store: r.store, Queue: r.queue, History: r.history,
		TaskOptions:    tasks.Options{MaxRetry: 3, Timeout: time.Minute, Retention: time.Hour},
		RunTaskOptions: r.runOpts,
		ChunkSize:      500,
		Currencies:     []string{"TRY", "USD", "EUR"},
		Now:            r.clock.Now,
	}
	return r
}

// scheduler returns a new scheduler instance (a replica, or one after a restart) on the rig's clock.
func (r *schedRig) scheduler() *schedule.Scheduler {
	return schedule.NewScheduler(r.file, r.queue, schedule.SchedulerOptions{
		TaskOptions: r.runOpts, CatchUp: 24 * time.Hour, Now: r.clock.Now, Log: r.log,
	})
}

// tick ticks s at the given clock time and returns how many runs it enqueued.
func (r *schedRig) tick(s *schedule.Scheduler, at string) int {
	r.t.Helper()
	r.clock.Set(r.t, at)
	runs, err := s.Tick(context.Background())
	if err != nil {
		r.t.Fatalf("tick at %s: %v", at, err)
	}
	return len(runs)
}

// startServer runs the scheduler process's asynq server for the schedule queue.
func (r *schedRig) startServer() {
	r.t.Helper()
	cfg := worker.ScheduleServerConfig(r.log, worker.RetryPolicy{Base: 5 * time.Millisecond, Max: 50 * time.Millisecond})
	cfg.ShutdownTimeout = 2 * time.Second
	cfg.DelayedTaskCheckInterval = 50 * time.Millisecond
	srv := asynq.NewServerFromRedisClient(r.rdb, cfg)
	mux := worker.NewServeMux(nil, nil, nil, map[string]asynq.Handler{tasks.TypeScheduleRun: worker.HandleScheduleRun(r.runner)})
	if err := srv.Start(mux); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(srv.Shutdown)
}

// drop writes a payroll file into the inbox (or a path relative to the rig's directory).
func (r *schedRig) drop(name, content string) string {
	r.t.Helper()
	path := filepath.Join(r.inbox, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
	return path
}

// records returns the schedule's history, newest first.
func (r *schedRig) records() []schedule.Record {
	r.t.Helper()
	recs, err := r.history.Recent(context.Background(), "payroll", 100)
	if err != nil {
		r.t.Fatal(err)
	}
	return recs
}

// waitRecord waits until the newest record of period satisfies cond.
func (r *schedRig) waitRecord(period string, what string, cond func(schedule.Record) bool) schedule.Record {
	r.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		recs := r.records()
		if len(recs) > 0 && recs[0].Period == period && cond(recs[0]) {
			return recs[0]
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("history of %s: %s not reached: %+v\nlogs:\n%s", period, what, recs, r.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func outcomeIs(o schedule.Outcome) func(schedule.Record) bool {
	return func(rec schedule.Record) bool { return rec.Outcome == o }
}

// runTask makes a scheduled (delayed) task run now, as if its time had come.
func (r *schedRig) runTask(id string) {
	r.t.Helper()
	if err := r.inspect.RunTask(schedule.Queue, id); err != nil {
		r.t.Fatalf("run task %s: %v", id, err)
	}
}

func (r *schedRig) taskState(id string) asynq.TaskState {
	r.t.Helper()
	info, err := r.inspect.GetTaskInfo(schedule.Queue, id)
	if err != nil {
		r.t.Fatalf("task %s: %v", id, err)
	}
	return info.State
}

func (r *schedRig) noTask(id string) {
	r.t.Helper()
	if _, err := r.inspect.GetTaskInfo(schedule.Queue, id); !errors.Is(err, asynq.ErrTaskNotFound) {
		r.t.Errorf("task %s exists (err %v), want none", id, err)
	}
}

// files lists a directory's file names.
func (r *schedRig) files(dir string) []string {
	r.t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		r.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

func (r *schedRig) checkBatch(id string, rows int) *batch.Batch {
	r.t.Helper()
	b, err := r.store.Get(context.Background(), id)
	if err != nil {
		r.t.Fatalf("batch %s: %v", id, err)
	}
	if !b.SubmitDone || b.Rows != rows || b.Valid != rows {
		r.t.Errorf("batch %s: submit done %v, rows %d, valid %d; want a complete submission of %d rows", id, b.SubmitDone, b.Rows, b.Valid, rows)
	}
	return b
}

// defaultQueueSize counts the chunk and finalize tasks enqueued for the workers.
func (r *schedRig) defaultQueueSize() int {
	r.t.Helper()
	qi, err := r.inspect.GetQueueInfo(tasks.DefaultQueue)
	if err != nil {
		return 0
	}
	return qi.Size + qi.Completed
}

func TestScheduleTwoSchedulersFireOncePerPeriod(t *testing.T) {
	r := newSchedRig(t)
	r.drop("payroll-2026-06.csv", schedCSV)
	a, b := r.scheduler(), r.scheduler()
	if n := r.tick(a, "2026-06-30T09:59:00+03:00") + r.tick(b, "2026-06-30T09:59:00+03:00"); n != 0 {
		t.Fatalf("%d runs enqueued before the due time", n)
	}
	r.clock.Set(t, "2026-06-30T10:00:00+03:00")
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i, s := range []*schedule.Scheduler{a, b} {
		wg.Go(func() {
			runs, err := s.Tick(context.Background())
			if err != nil {
				t.Error(err)
			}
			counts[i] = len(runs)
		})
	}
	wg.Wait()
	if counts[0]+counts[1] != 1 {
		t.Fatalf("the two schedulers enqueued %v runs at the due time, want 1 in all", counts)
	}

	r.startServer()
	rec := r.waitRecord(junePeriod, "SUBMITTED", outcomeIs(schedule.OutcomeSubmitted))
	if !slices.Equal(rec.Batches, []string{juneBatch}) || !slices.Equal(rec.Files, []string{"payroll-2026-06.csv"}) || rec.Trigger != schedule.TriggerSchedule {
		t.Errorf("record %+v", rec)
	}
	if want := "2026-06-30T10:00:00+03:00"; rec.Due.Format(time.RFC3339) != want {
		t.Errorf("record due %s, want %s", rec.Due.Format(time.RFC3339), want)
	}
	bt := r.checkBatch(juneBatch, 3)
	if bt.Options.Purpose != "SALARY" || bt.Options.ChunkSize != 2 || bt.ChunksTotal != 2 || bt.Options.Format != "csv" {
		t.Errorf("batch options %+v, %d chunks; want purpose SALARY, chunk size 2 (2 chunks), csv", bt.Options, bt.ChunksTotal)
	}
	if got := r.files(r.inbox); len(got) != 0 {
		t.Errorf("inbox still holds %v", got)
	}
	if got := r.files(filepath.Join(r.inbox, "processed")); !slices.Equal(got, []string{"payroll-2026-06.csv"}) {
		t.Errorf("processed/ holds %v", got)
	}

	// Later ticks of both replicas, and a third replica starting with a catch-up window, start
	// nothing: the completed task keeps its TaskID.
	if n := r.tick(a, "2026-06-30T10:01:00+03:00") + r.tick(b, "2026-06-30T10:01:00+03:00") + r.tick(r.scheduler(), "2026-06-30T10:05:00+03:00"); n != 0 {
		t.Errorf("%d more runs enqueued for the same period", n)
	}
	if st := r.taskState(juneTaskID); st != asynq.TaskStateCompleted {
		t.Errorf("task %s is %v, want completed (retained)", juneTaskID, st)
	}
	if recs := r.records(); len(recs) != 1 {
		t.Errorf("history has %d records, want 1: %+v", len(recs), recs)
	}
	if logs := r.logs.String(); strings.Contains(logs, "17291716060") || strings.Contains(logs, "TR33") || strings.Contains(logs, "Ayşe") {
		t.Errorf("logs contain personal data:\n%s", logs)
	}
}

func TestScheduleRestartCatchesUpOnce(t *testing.T) {
	r := newSchedRig(t)
	r.drop("payroll-2026-06.csv", schedCSV)
	if n := r.tick(r.scheduler(), "2026-06-30T09:55:00+03:00"); n != 0 {
		t.Fatalf("%d runs before the due time", n)
	}
	// The scheduler was down at 10:00; a new one starts at 10:30 and catches the run up.
	r.startServer()
	if n := r.tick(r.scheduler(), "2026-06-30T10:30:00+03:00"); n != 1 {
		t.Fatalf("restart at 10:30 enqueued %d runs, want 1", n)
	}
	r.waitRecord(junePeriod, "SUBMITTED", outcomeIs(schedule.OutcomeSubmitted))
	// Another restart, and one the next morning, catch nothing up again.
	if n := r.tick(r.scheduler(), "2026-06-30T10:45:00+03:00") + r.tick(r.scheduler(), "2026-07-01T09:00:00+03:00"); n != 0 {
		t.Errorf("later restarts enqueued %d runs, want 0", n)
	}
	r.checkBatch(juneBatch, 3)
	if recs := r.records(); len(recs) != 1 {
		t.Errorf("history has %d records, want 1: %+v", len(recs), recs)
	}
}

func TestScheduleLateFileIsPickedUpByTheRetry(t *testing.T) {
	r := newSchedRig(t)
	r.startServer()
	if n := r.tick(r.scheduler(), "2026-06-30T10:00:00+03:00"); n != 1 {
		t.Fatalf("enqueued %d runs, want 1", n)
	}
	rec := r.waitRecord(junePeriod, "WAITING", outcomeIs(schedule.OutcomeWaiting))
	if !strings.Contains(rec.Message, "2026-06-30T10:15:00+03:00") || !strings.Contains(rec.Message, "2026-06-30T18:00:00+03:00") {
		t.Errorf("WAITING message %q, want the next look at 10:15 and the end at 18:00", rec.Message)
	}
	wait1 := juneTaskID + ":wait-1"
	if st := r.taskState(wait1); st != asynq.TaskStateScheduled {
		t.Fatalf("follow-up %s is %v, want scheduled", wait1, st)
	}
	if _, err := r.store.Get(context.Background(), juneBatch); !errors.Is(err, batch.ErrNotFound) {
		t.Fatalf("batch exists before the file arrived: %v", err)
	}

	r.drop("payroll-2026-06.csv", schedCSV)
	r.clock.Set(t, "2026-06-30T10:15:00+03:00")
	r.runTask(wait1)
	rec = r.waitRecord(junePeriod, "SUBMITTED", outcomeIs(schedule.OutcomeSubmitted))
	if !slices.Equal(rec.Batches, []string{juneBatch}) {
		t.Errorf("record %+v", rec)
	}
	r.checkBatch(juneBatch, 3)
	r.noTask(juneTaskID + ":wait-2")
	if recs := r.records(); len(recs) != 1 {
		t.Errorf("history has %d records, want the WAITING line replaced: %+v", len(recs), recs)
	}
}

func TestScheduleMissingFileEndsMissed(t *testing.T) {
	r := newSchedRig(t)
	r.startServer()
	r.tick(r.scheduler(), "2026-06-30T10:00:00+03:00")
	r.waitRecord(junePeriod, "WAITING", outcomeIs(schedule.OutcomeWaiting))

	// The last look before the end of the day is at the end itself.
	r.clock.Set(t, "2026-06-30T17:50:00+03:00")
	r.runTask(juneTaskID + ":wait-1")
	r.waitRecord(junePeriod, "WAITING until 18:00", func(rec schedule.Record) bool {
		return rec.Outcome == schedule.OutcomeWaiting && strings.Contains(rec.Message, "looking again at 2026-06-30T18:00:00+03:00")
	})
	r.clock.Set(t, "2026-06-30T18:00:00+03:00")
	r.runTask(juneTaskID + ":wait-2")
	rec := r.waitRecord(junePeriod, "MISSED", outcomeIs(schedule.OutcomeMissed))
	if len(rec.Batches) != 0 || !strings.Contains(rec.Message, "inbox/payroll-*.csv") {
		t.Errorf("MISSED record %+v", rec)
	}
	r.noTask(juneTaskID + ":wait-3")
	if recs := r.records(); len(recs) != 1 {
		t.Errorf("history has %d records, want 1: %+v", len(recs), recs)
	}
	if !strings.Contains(r.logs.String(), `"level":"error"`) || !strings.Contains(r.logs.String(), "scheduled run missed") {
		t.Errorf("no error logged for the missed run:\n%s", r.logs.String())
	}

	// A file arriving later is not picked up by the scheduler: the period is done.
	r.drop("payroll-2026-06.csv", schedCSV)
	if n := r.tick(r.scheduler(), "2026-06-30T18:30:00+03:00"); n != 0 {
		t.Errorf("%d runs enqueued after MISSED", n)
	}
}

func TestScheduleManualTriggerForAPastPeriod(t *testing.T) {
	r := newSchedRig(t)
	r.clock.Set(t, "2026-07-15T12:00:00+03:00")
	ctx := context.Background()

	if _, err := r.runner.Trigger(ctx, "payroll", "2026-05", "tester"); !errors.Is(err, worker.ErrNoFiles) {
		t.Fatalf("trigger with an empty inbox = %v, want ErrNoFiles", err)
	}
	if recs := r.records(); len(recs) != 0 {
		t.Fatalf("a trigger without files recorded %+v", recs)
	}

	r.drop("payroll-may.csv", schedCSV)
	rec, err := r.runner.Trigger(ctx, "payroll", "2026-05", "tester")
	if err != nil {
		t.Fatal(err)
	}
	// May 2026: 27-30 May is Kurban Bayramı, so the last business day at 10:00 is the 26th (its eve).
	if rec.Outcome != schedule.OutcomeSubmitted || !slices.Equal(rec.Batches, []string{"payroll-2026-05"}) ||
		rec.Trigger != schedule.TriggerManual || rec.Due.Format(time.RFC3339) != "2026-05-26T10:00:00+03:00" {
		t.Errorf("first trigger: %+v", rec)
	}
	r.checkBatch("payroll-2026-05", 3)
	queued := r.defaultQueueSize()

	// Again: the file is in processed/ and the batch is complete.
	rec, err = r.runner.Trigger(ctx, "payroll", "2026-05", "tester")
	if err != nil || rec.Outcome != schedule.OutcomeAlreadySubmitted {
		t.Errorf("second trigger: %+v, %v; want ALREADY_SUBMITTED", rec, err)
	}
	// The same file dropped again: AlreadySubmitted, and moved beside the first copy.
	r.drop("payroll-may.csv", schedCSV)
	rec, err = r.runner.Trigger(ctx, "payroll", "2026-05", "tester")
	if err != nil || rec.Outcome != schedule.OutcomeAlreadySubmitted {
		t.Errorf("trigger with the file dropped again: %+v, %v; want ALREADY_SUBMITTED", rec, err)
	}
	if got := r.files(filepath.Join(r.inbox, "processed")); !slices.Equal(got, []string{"payroll-may.2.csv", "payroll-may.csv"}) {
		t.Errorf("processed/ holds %v, want both copies", got)
	}
	if n := r.defaultQueueSize(); n != queued {
		t.Errorf("repeated triggers enqueued %d more tasks", n-queued)
	}

	// A changed file under the same name: a batch conflict, not submitted, left in the inbox.
	r.drop("payroll-may.csv", strings.Replace(schedCSV, "2500", "2600", 1))
	rec, err = r.runner.Trigger(ctx, "payroll", "2026-05", "tester")
	if !errors.Is(err, batch.ErrBatchConflict) || rec.Outcome != schedule.OutcomeFailed {
		t.Errorf("trigger with a changed file: %+v, %v; want FAILED with ErrBatchConflict", rec, err)
	}
	if got := r.files(r.inbox); !slices.Equal(got, []string{"payroll-may.csv"}) {
		t.Errorf("inbox holds %v, want the changed file left there", got)
	}

	var outcomes []schedule.Outcome
	for _, rec := range r.records() {
		outcomes = append(outcomes, rec.Outcome)
	}
	want := []schedule.Outcome{schedule.OutcomeFailed, schedule.OutcomeAlreadySubmitted, schedule.OutcomeAlreadySubmitted, schedule.OutcomeSubmitted}
	if !slices.Equal(outcomes, want) {
		t.Errorf("history %v, want %v", outcomes, want)
	}
	if _, err := r.runner.Trigger(ctx, "nosuch", "2026-05", "tester"); !errors.Is(err, schedule.ErrUnknownSchedule) {
		t.Errorf("trigger of an unknown schedule = %v", err)
	}
}

func TestScheduleRetryAfterTheFileWasMoved(t *testing.T) {
	r := newSchedRig(t)
	r.clock.Set(t, "2026-06-30T10:00:00+03:00")
	handler := worker.HandleScheduleRun(r.runner)
	task := tasks.NewScheduleRunTask(tasks.ScheduleRun{Schedule: "payroll", Period: junePeriod}, r.runOpts)
	r.drop("payroll-2026-06.csv", schedCSV)
	if err := handler(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	queued := r.defaultQueueSize()
	// The same task again, as asynq runs it when an attempt's success was not recorded: the
	// file is already in processed/, the batch complete.
	if err := handler(context.Background(), task); err != nil {
		t.Fatalf("retried run: %v", err)
	}
	recs := r.records()
	if len(recs) != 2 || recs[0].Outcome != schedule.OutcomeAlreadySubmitted || recs[1].Outcome != schedule.OutcomeSubmitted ||
		!slices.Equal(recs[0].Batches, []string{juneBatch}) {
		t.Errorf("history %+v, want SUBMITTED then ALREADY_SUBMITTED of %s", recs, juneBatch)
	}
	if n := r.defaultQueueSize(); n != queued {
		t.Errorf("the retried run enqueued %d more tasks", n-queued)
	}
	if got := r.files(filepath.Join(r.inbox, "processed")); !slices.Equal(got, []string{"payroll-2026-06.csv"}) {
		t.Errorf("processed/ holds %v", got)
	}

	// A file taken by the run that disappeared before its batch was complete is an error to act on.
	r2 := newSchedRig(t)
	r2.clock.Set(t, "2026-06-30T10:00:00+03:00")
	lost := r2.drop("payroll-2026-06.csv", schedCSV)
	run, _ := r2.file.RunFor("payroll", junePeriod)
	if _, err := r2.history.AssignFiles(context.Background(), run, []string{lost}, time.Hour); err != nil {
		t.Fatal(err)
	}
	os.Remove(lost)
	err := worker.HandleScheduleRun(r2.runner)(context.Background(), task)
	if !errors.Is(err, asynq.SkipRetry) || !strings.Contains(err.Error(), "scheduler run payroll --period 2026-06") {
		t.Errorf("run whose file vanished = %v, want a permanent error saying what to do", err)
	}
}

func TestScheduleSubmittedButNotMovedIsMovedOnRetry(t *testing.T) {
	r := newSchedRig(t)
	r.clock.Set(t, "2026-06-30T10:00:00+03:00")
	path := r.drop("payroll-2026-06.csv", schedCSV)
	// An earlier attempt submitted the file and died before moving it.
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.store.Submit(context.Background(), batch.SubmitRequest{
		File: f, Source: "payroll-2026-06.csv", BatchID: juneBatch,
		Options:   batch.Options{Format: "csv", Purpose: "SALARY", ChunkSize: 2, Currencies: []string{"TRY", "USD", "EUR"}},
		Submitter: "scheduler",
	}, r.queue, r.runner.TaskOptions)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	task := tasks.NewScheduleRunTask(tasks.ScheduleRun{Schedule: "payroll", Period: junePeriod}, r.runOpts)
	if err := worker.HandleScheduleRun(r.runner)(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	if recs := r.records(); len(recs) != 1 || recs[0].Outcome != schedule.OutcomeAlreadySubmitted {
		t.Errorf("history %+v, want ALREADY_SUBMITTED", recs)
	}
	if got := r.files(r.inbox); len(got) != 0 {
		t.Errorf("inbox still holds %v", got)
	}
}

func TestScheduleSeveralFiles(t *testing.T) {
	r := newSchedRig(t)
	r.clock.Set(t, "2026-06-30T10:00:00+03:00")
	other := strings.NewReplacer("S1,", "T1,", "S2,", "T2,", "S3,", "T3,").Replace(schedCSV)
	r.drop("payroll-b.csv", other)
	r.drop("payroll-a.csv", schedCSV)
	r.drop("payroll-c.csv", strings.NewReplacer("T1,", "U1,", "T2,", "U2,", "T3,", "U3,").Replace(other))
	r.drop("notes.txt", "not a payroll file")
	if err := os.Mkdir(filepath.Join(r.inbox, "payroll-dir.csv"), 0o755); err != nil {
		t.Fatal(err)
	}
	// processed/ already holds a file of that name from an earlier period: it is not replaced.
	if err := os.MkdirAll(filepath.Join(r.inbox, "processed"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.inbox, "processed", "payroll-a.csv"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	task := tasks.NewScheduleRunTask(tasks.ScheduleRun{Schedule: "payroll", Period: junePeriod}, r.runOpts)
	if err := worker.HandleScheduleRun(r.runner)(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	rec := r.records()[0]
	if rec.Outcome != schedule.OutcomeSubmitted ||
		!slices.Equal(rec.Files, []string{"payroll-a.csv", "payroll-b.csv", "payroll-c.csv"}) ||
		!slices.Equal(rec.Batches, []string{juneBatch, juneBatch + "-2", juneBatch + "-3"}) {
		t.Errorf("record %+v, want a, b, c as %s, -2, -3", rec, juneBatch)
	}
	for _, id := range rec.Batches {
		r.checkBatch(id, 3)
	}
	if got := r.files(r.inbox); !slices.Equal(got, []string{"notes.txt"}) {
		t.Errorf("inbox holds %v, want only notes.txt", got)
	}
	processed := filepath.Join(r.inbox, "processed")
	if got := r.files(processed); !slices.Equal(got, []string{"payroll-a.2.csv", "payroll-a.csv", "payroll-b.csv", "payroll-c.csv"}) {
		t.Errorf("processed/ holds %v", got)
	}
	if old, _ := os.ReadFile(filepath.Join(processed, "payroll-a.csv")); string(old) != "old" {
		t.Errorf("processed/payroll-a.csv was replaced")
	}
}

func TestScheduleBatchConflictIsNotRetried(t *testing.T) {
	r := newSchedRig(t)
	r.clock.Set(t, "2026-06-30T10:00:00+03:00")
	// Somebody submitted other content under the period's batch ID.
	r.submitByHand(t, strings.Replace(schedCSV, "2500", "2600", 1), juneBatch)
	r.drop("payroll-2026-06.csv", schedCSV)
	r.startServer()
	r.tick(r.scheduler(), "2026-06-30T10:00:00+03:00")
	rec := r.waitRecord(junePeriod, "FAILED", outcomeIs(schedule.OutcomeFailed))
	if rec.Retrying || !strings.Contains(rec.Message, "different content") {
		t.Errorf("record %+v, want a final FAILED naming the conflict", rec)
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.taskState(juneTaskID) != asynq.TaskStateArchived {
		if time.Now().After(deadline) {
			t.Fatalf("task %s is %v, want archived without retries", juneTaskID, r.taskState(juneTaskID))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if info, _ := r.inspect.GetTaskInfo(schedule.Queue, juneTaskID); info.Retried != 0 {
		t.Errorf("task retried %d times", info.Retried)
	}
	if got := r.files(r.inbox); !slices.Equal(got, []string{"payroll-2026-06.csv"}) {
		t.Errorf("inbox holds %v, want the file left there", got)
	}
}

// submitByHand submits content as batch id outside the scheduler, with the schedule's options.
func (r *schedRig) submitByHand(t *testing.T, content, id string) {
	t.Helper()
	_, err := r.store.Submit(context.Background(), batch.SubmitRequest{
		File: strings.NewReader(content), Source: id + ".csv", BatchID: id,
		Options:   batch.Options{Format: "csv", Purpose: "SALARY", ChunkSize: 2, Currencies: []string{"TRY", "USD", "EUR"}},
		Submitter: "someone",
	}, r.queue, r.runner.TaskOptions)
	if err != nil {
		t.Fatal(err)
	}
}

// TestScheduleRefusesLastPeriodsFile: May's file, already paid as May's batch, is dropped into the
// inbox again for June: June's run refuses it (it would pay every row twice), does not retry and
// leaves the file for a person to look at.
func TestScheduleRefusesLastPeriodsFile(t *testing.T) {
	r := newSchedRig(t)
	r.clock.Set(t, "2026-06-30T10:00:00+03:00")
	r.submitByHand(t, schedCSV, "payroll-2026-05")
	r.drop("payroll-2026-06.csv", schedCSV)
	r.startServer()
	r.tick(r.scheduler(), "2026-06-30T10:00:00+03:00")
	rec := r.waitRecord(junePeriod, "FAILED", outcomeIs(schedule.OutcomeFailed))
	if rec.Retrying || !strings.Contains(rec.Message, "already submitted as batch payroll-2026-05") {
		t.Errorf("record %+v, want a final FAILED naming May's batch", rec)
	}
	if _, err := r.store.Get(context.Background(), juneBatch); !errors.Is(err, batch.ErrNotFound) {
		t.Errorf("June's batch exists: %v", err)
	}
	if got := r.files(r.inbox); !slices.Equal(got, []string{"payroll-2026-06.csv"}) {
		t.Errorf("inbox holds %v, want the file left there", got)
	}
}

func TestCheckScheduleFile(t *testing.T) {
	f, err := schedule.Parse(strings.NewReader(`schedules:
  - name: ok
    when: day 1 09:00
    source: a/*.csv
    purpose: bonus
  - name: bad
    when: day 1 09:00
    source: a/*.csv
    purpose: WAGES
`))
	if err != nil {
		t.Fatal(err)
	}
	err = worker.CheckScheduleFile("s.yaml", f)
	var fe *schedule.FileError
	if !errors.As(err, &fe) || len(fe.Problems) != 1 || fe.Problems[0].Line != 6 {
		t.Fatalf("CheckScheduleFile = %v, want one problem at line 6", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "s.yaml: line 6") || !strings.Contains(msg, `"WAGES"`) || !strings.Contains(msg, "SALARY") {
		t.Errorf("message %q", msg)
	}
}
