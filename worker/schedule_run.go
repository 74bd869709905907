package worker

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/payoutfile"
	"github.com/masspayout/masspayout/schedule"
	"github.com/masspayout/masspayout/tasks"
	"github.com/rs/zerolog"
)

// DefaultWaitEvery is how often a scheduled run whose file has not arrived looks again.
const DefaultWaitEvery = 15 * time.Minute

// ProcessedDir is the directory, next to each submitted file, that the file is moved to.
const ProcessedDir = "processed"

// ErrNoFiles is returned by ScheduleRunner.Trigger when no file matches the schedule's source.
var ErrNoFiles = errors.New("no file matches the schedule's source")

// errNotRetryable marks a run error that retrying cannot help (see permanentRunError).
var errNotRetryable = errors.New("not retryable")

// ScheduleRunner carries what a scheduled run needs: the schedule file, the ledger, the queue and
// the run history. HandleScheduleRun runs it for schedule:run tasks, Trigger for a manual run.
//
// A run of a schedule for a period:
//   - takes the regular files matching the schedule's source glob, sorted by path; a relative
//     glob is resolved against Dir (the schedule file's directory); files in a directory named
//     processed are never taken;
//   - gives each file a position in the run, kept in the History: the first file is submitted
//     under the schedule's batch ID, the k-th under "<batch ID>-k" (k ≥ 2). A retry finds the
//     same positions, so each file keeps its batch ID, and a file that appears later in the same
//     period gets the next position;
//   - submits each file with the schedule's purpose, chunk_size (default ChunkSize),
//     decimal_comma and callback_url, the format taken from its extension; batch-ID
//     idempotency makes a repeated submission AlreadySubmitted;
//   - moves each submitted file to processed/ in its own directory (created when missing),
//     never replacing a file there: the moved file is renamed NAME.2.EXT, NAME.3.EXT, ...;
//   - when no file matches, looks again every WaitEvery until the end of the run's business day
//     (schedule.File.EndOfBusinessDay) and then records MISSED.
//
// A file whose submission fails stays in the inbox, where the next period's run would take it:
// the FAILED record and the error log say so, and someone must fix or remove it. Upstream
// systems must drop files atomically (write under a name the glob does not match, then rename):
// a run takes whatever matches when it looks.
type ScheduleRunner struct {
	Log     zerolog.Logger
	File    *schedule.File
	Dir     string // relative source globs are resolved against it
	Store   *batch.Store
	Queue   batch.Enqueuer // chunk tasks of submitted batches and follow-up schedule:run tasks
	History *schedule.History

	TaskOptions    tasks.Options // options of the chunk tasks Submit enqueues
	RunTaskOptions tasks.Options // options of follow-up schedule:run tasks (schedule.TaskOptions)

	ChunkSize   int      // CHUNK_SIZE, for schedules without chunk_size
	Currencies  []string // CURRENCIES
	Limits      payoutfile.Options
	AutoApprove bool // APPROVAL=auto: submitted batches are approved at creation, as with enqueue

	WaitEvery time.Duration // default DefaultWaitEvery
	Now       func() time.Time
}

func (r *ScheduleRunner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *ScheduleRunner) waitEvery() time.Duration {
	if r.WaitEvery > 0 {
		return r.WaitEvery
	}
	return DefaultWaitEvery
}

// HandleScheduleRun is the schedule:run handler: it runs the task's schedule for its period and
// records the outcome. A run that finds no file enqueues a follow-up task
// "<name>:<period>:wait-<n>" to look again. Errors that retrying cannot help (a batch ID
// conflict, an unreadable file, a schedule the file no longer defines) are recorded FAILED and
// not retried; others are retried by asynq, and every attempt replaces the last FAILED record.
func HandleScheduleRun(r *ScheduleRunner) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		p, err := tasks.Decode[tasks.ScheduleRun](t)
		if err != nil {
			return permanent(err)
		}
		taskID, _ := asynq.GetTaskID(ctx)
		retried, _ := asynq.GetRetryCount(ctx)
		maxRetry, _ := asynq.GetMaxRetry(ctx)
		log := r.Log.With().Str("schedule", p.Schedule).Str("period", p.Period).
			Str("task_id", taskID).Int("attempt", retried+1).Logger()
		rec, err := r.run(ctx, log, p.Schedule, p.Period, runMode{
			trigger:   schedule.TriggerSchedule,
			wait:      waitNumber(taskID),
			submitter: "scheduler",
		})
		perm := err != nil && permanentRunError(err)
		if err != nil {
			rec.Retrying = !perm && retried < maxRetry
		}
		if ctx.Err() == nil {
			r.record(ctx, log, rec)
		}
		if perm {
			return permanent(err)
		}
		return err
	}
}

// Trigger runs the schedule called name for period now, in this process, as
// `masspayout scheduler run` does, and records the outcome with trigger "manual". It works for a
// past, current or future period and is idempotent like a scheduled run: files already submitted
// for the period are found in the History and the ledger, a file submitted again is
// AlreadySubmitted. It neither takes nor needs the period's TaskID: a scheduled run of the same
// period before or after it finds the same files and batch IDs. It does not wait for a late
// file: with no file it returns ErrNoFiles and records nothing. who, the person who triggers it,
// is the batches' submitter (so the four-eyes rule keeps them from approving their own run), and
// the audit list says it came from a manual scheduler run.
func (r *ScheduleRunner) Trigger(ctx context.Context, name, period, who string) (schedule.Record, error) {
	log := r.Log.With().Str("schedule", name).Str("period", period).Str("trigger", schedule.TriggerManual).Logger()
	s, ok := r.File.Schedule(name)
	if !ok {
		return schedule.Record{}, fmt.Errorf("%w %q: the schedule file defines %s", schedule.ErrUnknownSchedule, name, r.scheduleNames())
	}
	if _, err := s.RunFor(period); err != nil {
		return schedule.Record{}, err
	}
	ctx = batch.ContextWithVia(ctx, "manual scheduler run of "+name+" for "+period)
	rec, err := r.run(ctx, log, name, period, runMode{trigger: schedule.TriggerManual, submitter: who})
	if errors.Is(err, ErrNoFiles) {
		return rec, err
	}
	r.record(ctx, log, rec)
	return rec, err
}

func (r *ScheduleRunner) scheduleNames() string {
	names := make([]string, len(r.File.Schedules))
	for i, s := range r.File.Schedules {
		names[i] = strconv.Quote(s.Name)
	}
	return strings.Join(names, ", ")
}

func (r *ScheduleRunner) record(ctx context.Context, log zerolog.Logger, rec schedule.Record) {
	rec.At = r.now()
	if err := r.History.Record(context.WithoutCancel(ctx), rec); err != nil {
		log.Error().Err(err).Str("status", string(rec.Outcome)).Msg("could not record the run in the history")
	}
}

// runMode says how a run was started.
type runMode struct {
	trigger   string
	wait      int // n of the follow-up task "<name>:<period>:wait-<n>" running now; 0 for the first
	submitter string
}

// fileResult is what a run did with one file.
type fileResult struct {
	name   string // base name
	batch  string
	fresh  bool // submitted as a new batch (not AlreadySubmitted)
	detail string
	err    error
}

func (r *ScheduleRunner) run(ctx context.Context, log zerolog.Logger, name, period string, m runMode) (schedule.Record, error) {
	rec := schedule.Record{Schedule: name, Period: period, Trigger: m.trigger}
	s, ok := r.File.Schedule(name)
	if !ok {
		err := fmt.Errorf("%w: run %s for %s: %w %q: the schedule file no longer defines it", errNotRetryable, name, period, schedule.ErrUnknownSchedule, name)
		return failed(log, rec, err)
	}
	run, err := s.RunFor(period)
	if err != nil {
		return failed(log, rec, fmt.Errorf("%w: %w", errNotRetryable, err))
	}
	rec.Due = run.At
	pattern, err := r.SourcePattern(s)
	if err != nil {
		return failed(log, rec, err)
	}
	found, err := inboxFiles(pattern)
	if err != nil {
		return failed(log, rec, err)
	}
	files, err := r.History.AssignFiles(ctx, run, found, r.assignTTL())
	if err != nil {
		return failed(log, rec, err)
	}
	if len(files) == 0 {
		return r.noFiles(ctx, log, rec, run, pattern, m)
	}

	base := s.BatchID(run)
	var results []fileResult
	for k, path := range files {
		res := fileResult{name: filepath.Base(path), batch: numberedBatchID(base, k+1)}
		flog := log.With().Str("batch", res.batch).Str("file", res.name).Logger()
		switch {
		case !batch.ValidBatchID.MatchString(res.batch):
			res.err = fmt.Errorf("%w: file %s would be batch %q, longer than 64 characters: shorten the schedule's batch_id or put fewer files in the inbox", errNotRetryable, res.name, res.batch)
		case slices.Contains(found, path):
			r.submitFile(ctx, s, run, path, m.submitter, &res)
		default:
			r.checkSubmitted(ctx, s, run, &res)
		}
		if res.err != nil {
			flog.Error().Err(res.err).Msg("scheduled file not submitted")
		} else {
			flog.Info().Bool("new", res.fresh).Str("detail", res.detail).Msg("scheduled file submitted")
		}
		results = append(results, res)
	}
	return summarize(rec, results)
}

// failed records err as the run's outcome.
func failed(log zerolog.Logger, rec schedule.Record, err error) (schedule.Record, error) {
	rec.Outcome = schedule.OutcomeFailed
	rec.Message = err.Error()
	log.Error().Err(err).Msg("scheduled run failed")
	return rec, err
}

// summarize turns the files' results into the run's record: FAILED if any file failed,
// else SUBMITTED if any file was new, else ALREADY_SUBMITTED. The error joins the files' errors;
// it is retryable unless every one of them is permanent.
func summarize(rec schedule.Record, results []fileResult) (schedule.Record, error) {
	var errs []error
	fresh, perm := false, true
	msgs := make([]string, 0, len(results))
	for _, res := range results {
		rec.Batches = append(rec.Batches, res.batch)
		rec.Files = append(rec.Files, res.name)
		if res.err != nil {
			errs = append(errs, res.err)
			perm = perm && permanentRunError(res.err)
			msgs = append(msgs, fmt.Sprintf("%s → %s: %v", res.name, res.batch, res.err))
			continue
		}
		fresh = fresh || res.fresh
		msgs = append(msgs, fmt.Sprintf("%s → %s: %s", res.name, res.batch, res.detail))
	}
	rec.Message = strings.Join(msgs, "; ")
	switch {
	case len(errs) > 0:
		rec.Outcome = schedule.OutcomeFailed
		return rec, &runError{err: errors.Join(errs...), permanent: perm}
	case fresh:
		rec.Outcome = schedule.OutcomeSubmitted
	default:
		rec.Outcome = schedule.OutcomeAlreadySubmitted
	}
	return rec, nil
}

// submitFile submits one file of the run under res.batch and moves it to processed/.
func (r *ScheduleRunner) submitFile(ctx context.Context, s *schedule.Schedule, run schedule.Run, path, who string, res *fileResult) {
	format, err := payoutfile.FormatFromName(path)
	if err != nil {
		res.err = fmt.Errorf("%w: %w", errNotRetryable, err)
		return
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		// Moved away since the glob: by a concurrent run of the same period, or by hand.
		r.checkSubmitted(ctx, s, run, res)
		return
	}
	if err != nil {
		res.err = fmt.Errorf("open %s: %w", res.name, err)
		return
	}
	chunk := s.ChunkSize
	if chunk == 0 {
		chunk = r.ChunkSize
	}
	sub, err := r.Store.Submit(ctx, batch.SubmitRequest{
		File:    f,
		Source:  res.name,
		BatchID: res.batch,
		Options: batch.Options{
			Format:       string(format),
			Purpose:      strings.ToUpper(s.Purpose),
			DecimalComma: s.DecimalComma,
			ChunkSize:    chunk,
			CallbackURL:  s.CallbackURL,
			Currencies:   r.Currencies,
		},
		Limits:      r.Limits,
		Submitter:   who,
		AutoApprove: r.AutoApprove,
	}, r.Queue, r.TaskOptions)
	f.Close()
	if err != nil {
		res.err = err
		return
	}
	b := sub.Batch
	res.fresh = !sub.AlreadySubmitted
	res.detail = fmt.Sprintf("%d rows, %d valid, %d rejected, %d chunks", b.Rows, b.Valid, b.Rejected, b.ChunksTotal)
	if sub.AlreadySubmitted {
		res.detail = "already submitted"
	}
	dest, err := moveToProcessed(path)
	switch {
	case err != nil:
		res.err = fmt.Errorf("batch %s is submitted but %s could not be moved to %s/: %w; move it out of the inbox by hand, or a later period's run submits it again", res.batch, res.name, ProcessedDir, err)
	case dest != "":
		res.detail += "; moved to " + filepath.Join(ProcessedDir, filepath.Base(dest))
	}
}

// checkSubmitted handles a file the run took earlier that is no longer in the inbox: a retried
// run after the file was moved to processed/. Its batch must exist and be completely submitted.
func (r *ScheduleRunner) checkSubmitted(ctx context.Context, s *schedule.Schedule, run schedule.Run, res *fileResult) {
	b, err := r.Store.Get(ctx, res.batch)
	switch {
	case errors.Is(err, batch.ErrNotFound) || (err == nil && !b.SubmitDone):
		res.err = fmt.Errorf("%w: %s was taken by this run as batch %s but is no longer in the inbox, and the batch was never completely submitted: put the file back and run `masspayout scheduler run %s --period %s`",
			errNotRetryable, res.name, res.batch, s.Name, run.Period)
	case err != nil:
		res.err = err
	default:
		res.detail = "already submitted; the file is no longer in the inbox"
	}
}

// noFiles handles a run that found no file: a manual run ends with ErrNoFiles; a scheduled one
// waits with a follow-up task until the end of the business day, then is MISSED.
func (r *ScheduleRunner) noFiles(ctx context.Context, log zerolog.Logger, rec schedule.Record, run schedule.Run, pattern string, m runMode) (schedule.Record, error) {
	if m.trigger == schedule.TriggerManual {
		return rec, fmt.Errorf("%w %s: nothing was submitted", ErrNoFiles, pattern)
	}
	loc := r.File.Location
	now := r.now()
	end := r.File.EndOfBusinessDay(run.At)
	if now.Before(end) {
		next := now.Add(r.waitEvery())
		if next.After(end) {
			next = end
		}
		id := waitTaskID(run.Schedule, run.Period, m.wait+1)
		t := tasks.NewScheduleRunTask(tasks.ScheduleRun{Schedule: run.Schedule, Period: run.Period}, r.RunTaskOptions)
		_, err := r.Queue.EnqueueContext(ctx, t, asynq.TaskID(id), asynq.ProcessIn(next.Sub(now)))
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return failed(log, rec, fmt.Errorf("enqueue %s: %w", id, err))
		}
		rec.Outcome = schedule.OutcomeWaiting
		rec.Message = fmt.Sprintf("no file matches %s yet; looking again at %s, until %s",
			pattern, next.In(loc).Format(time.RFC3339), end.In(loc).Format(time.RFC3339))
		log.Warn().Str("next_task_id", id).Time("next", next).Time("until", end).Msg("payroll file not there yet; waiting")
		return rec, nil
	}
	rec.Outcome = schedule.OutcomeMissed
	rec.Message = fmt.Sprintf("no file matched %s by the end of the business day (%s)", pattern, end.In(loc).Format(time.RFC3339))
	log.Error().Time("due", run.At).Time("until", end).Str("status", string(rec.Outcome)).
		Str("fix", fmt.Sprintf("masspayout scheduler run %s --period %s", run.Schedule, run.Period)).
		Msg("scheduled run missed: no payroll file arrived by the end of the business day; once it is in the inbox, run it by hand")
	return rec, nil
}

// SourcePattern returns the schedule's source glob as an absolute pattern: a relative source
// is resolved against Dir.
func (r *ScheduleRunner) SourcePattern(s *schedule.Schedule) (string, error) {
	p := s.Source
	if !filepath.IsAbs(p) {
		p = filepath.Join(r.Dir, p)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("source %s: %w", s.Source, err)
	}
	return abs, nil
}

func (r *ScheduleRunner) assignTTL() time.Duration {
	return max(r.RunTaskOptions.Retention, schedule.DefaultRetention)
}

// runError is the error of a run over several files, with the retry decision taken once for
// all of them: permanent only when every file's error is.
type runError struct {
	err       error
	permanent bool
}

func (e *runError) Error() string { return e.err.Error() }
func (e *runError) Unwrap() error { return e.err }

// permanentRunError is the retry decision for schedule:run tasks: a batch ID conflict, an
// unreadable file, bad options, or a run that cannot be resolved by trying again are permanent;
// anything else (Redis, I/O) is retried. A run's error over several files is permanent only
// when every file's error is, so a transient failure of one file is retried.
func permanentRunError(err error) bool {
	if re, ok := errors.AsType[*runError](err); ok {
		return re.permanent
	}
	var fe *payoutfile.FileError
	return errors.Is(err, errNotRetryable) || errors.Is(err, batch.ErrBatchConflict) ||
		errors.Is(err, batch.ErrInvalidOptions) || errors.As(err, &fe)
}

// numberedBatchID is the batch ID of the k-th file (from 1) of a run whose batch ID is base.
func numberedBatchID(base string, k int) string {
	if k == 1 {
		return base
	}
	return base + "-" + strconv.Itoa(k)
}

// waitTaskID is the TaskID of the n-th follow-up of a run that found no file.
func waitTaskID(name, period string, n int) string {
	return name + ":" + period + ":wait-" + strconv.Itoa(n)
}

// waitNumber returns n of a follow-up TaskID "<name>:<period>:wait-<n>"; 0 for any other.
func waitNumber(taskID string) int {
	i := strings.LastIndex(taskID, ":wait-")
	if i < 0 {
		return 0
	}
	n, err := strconv.Atoi(taskID[i+len(":wait-"):])
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// inboxFiles returns the regular files matching pattern, sorted, leaving out any in a
// directory named processed.
func inboxFiles(pattern string) ([]string, error) {
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, fmt.Errorf("%w: source %s: %w", errNotRetryable, pattern, err)
	}
	var out []string
	for _, m := range matches {
		if filepath.Base(filepath.Dir(m)) == ProcessedDir {
			continue
		}
		fi, err := os.Stat(m)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("inbox: %w", err)
		}
		if fi.Mode().IsRegular() {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out, nil
}

// moveToProcessed moves path into processed/ beside it, never replacing a file there: the moved
// file becomes NAME.EXT, or NAME.2.EXT, NAME.3.EXT, ... when that is taken. It returns the new
// path, or "" when path had already gone (moved by a concurrent run).
func moveToProcessed(path string) (string, error) {
	dir := filepath.Join(filepath.Dir(path), ProcessedDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	base := filepath.Base(path)
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	for i := 1; i <= 10000; i++ {
		dst := filepath.Join(dir, base)
		if i > 1 {
			dst = filepath.Join(dir, stem+"."+strconv.Itoa(i)+ext)
		}
		// A hard link fails when dst exists, so a file there is never replaced, even by a
		// concurrent move.
		err := os.Link(path, dst)
		switch {
		case err == nil:
			return dst, os.Remove(path)
		case errors.Is(err, fs.ErrExist):
			continue
		case errors.Is(err, fs.ErrNotExist):
			if _, serr := os.Lstat(path); errors.Is(serr, fs.ErrNotExist) {
				return "", nil
			}
			return "", err
		}
		// The file system has no hard links: rename when the name is free.
		if _, serr := os.Lstat(dst); serr == nil {
			continue
		} else if !errors.Is(serr, fs.ErrNotExist) {
			return "", serr
		}
		return dst, os.Rename(path, dst)
	}
	return "", fmt.Errorf("%s: too many files named like %s", dir, base)
}

// CheckScheduleFile checks what schedule.Parse cannot know: that each schedule's purpose is one
// of iyzico.Purposes (in any case). The error is a *schedule.FileError naming path and each
// schedule's line.
func CheckScheduleFile(path string, f *schedule.File) error {
	var problems []*schedule.LineError
	for _, s := range f.Schedules {
		if s.Purpose != "" && !slices.Contains(iyzico.Purposes, strings.ToUpper(s.Purpose)) {
			problems = append(problems, &schedule.LineError{Line: s.Line, Message: fmt.Sprintf(
				"schedule %q: purpose %q: want one of %s", s.Name, s.Purpose, strings.Join(iyzico.Purposes, ", "))})
		}
	}
	if len(problems) > 0 {
		return &schedule.FileError{Path: path, Problems: problems}
	}
	return nil
}

// ScheduleServerConfig returns the asynq server configuration of a scheduler process: it
// consumes only schedule.Queue, one run at a time, with the retry delays of retry, and logs
// every failed attempt (the handler has recorded it in the history).
func ScheduleServerConfig(log zerolog.Logger, retry RetryPolicy) asynq.Config {
	return asynq.Config{
		Concurrency:     1,
		Queues:          map[string]int{schedule.Queue: 1},
		RetryDelayFunc:  retry.Delay,
		ShutdownTimeout: 30 * time.Second,
		Logger:          asynqLogger{log},
		LogLevel:        asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			retried, _ := asynq.GetRetryCount(ctx)
			maxRetry, _ := asynq.GetMaxRetry(ctx)
			taskID, _ := asynq.GetTaskID(ctx)
			l := log.With().Str("task_id", taskID).Int("attempt", retried+1).Logger()
			switch {
			case errors.Is(err, asynq.SkipRetry):
				l.Error().Err(err).Msg("scheduled run failed permanently")
			case retried >= maxRetry:
				l.Error().Err(err).Msg("scheduled run failed; retries exhausted")
			default:
				l.Warn().Err(err).Msg("scheduled run failed; will retry")
			}
		}),
	}
}
