package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/config"
	"github.com/masspayout/masspayout/payoutfile"
	"github.com/masspayout/masspayout/schedule"
	"github.com/masspayout/masspayout/tasks"
	"github.com/masspayout/masspayout/worker"
)

const schedulerUsage = `scheduler [--next N [--from RFC3339]]
       masspayout scheduler run NAME [--period YYYY-MM] [--as NAME]
       masspayout scheduler status [-n N] [NAME...]

Without flags: run the scheduled month-end runs until interrupted (needs REDIS_URL and
SCHEDULE_FILE). Every minute each run that falls due is enqueued once per period, whatever the
number of scheduler replicas; on start, runs missed in the last CATCH_UP (default 24h) are caught
up. The runs' files are read from the inbox of each schedule's source (a relative glob is relative
to the schedule file's directory) by this process, so run it where the inbox is.
  --next N      print the next N runs of every schedule (name, time, period) and exit; needs only SCHEDULE_FILE
  run NAME      submit NAME's files for a period now, in this process (idempotent; see "scheduler run -h")
  status        show the last runs of each schedule`

// cmdScheduler runs the scheduler (the loop that enqueues due runs, and an asynq server for the
// schedule queue that submits them), or with --next prints upcoming runs; "run" and "status"
// are its subcommands.
func cmdScheduler(ctx context.Context, e env) error {
	if len(e.args) > 0 {
		switch e.args[0] {
		case "run":
			return cmdSchedulerRun(ctx, e, e.args[1:])
		case "status":
			return cmdSchedulerStatus(ctx, e, e.args[1:])
		}
	}
	fs := newFlagSet(e, "scheduler", schedulerUsage)
	next := fs.Int("next", 0, "print the next `N` runs of every schedule and exit")
	from := fs.String("from", "", "with --next: list runs at or after this `time`, RFC 3339 like 2026-11-01T00:00:00+03:00 (default: now)")
	args, err := parseInterleaved(fs, e.args)
	if err != nil {
		return err
	}
	switch {
	case len(args) > 0:
		fs.Usage()
		return usageErrorf("scheduler: unknown subcommand %q: want run or status", args[0])
	case *next < 0:
		return usageErrorf("--next %d: want a positive number of runs", *next)
	case *from != "" && *next == 0:
		return usageErrorf("--from needs --next N")
	case *next > 0:
		return printNextRuns(e, *next, *from)
	}
	return runScheduler(ctx, e)
}

// printNextRuns prints the next n runs of every schedule from from (RFC 3339; "" for now).
func printNextRuns(e env, n int, from string) error {
	start := time.Now()
	if from != "" {
		t, err := time.Parse(time.RFC3339, from)
		if err != nil {
			return usageErrorf("--from %q: want an RFC 3339 time like 2026-11-01T00:00:00+03:00", from)
		}
		start = t
	}
	_, f, err := loadScheduleFile(e)
	if err != nil {
		return err
	}
	return schedule.WriteRuns(e.stdout, f.Next(start, n))
}

// loadScheduleFile loads the configuration and SCHEDULE_FILE, checked whole: an invalid file
// stops the command with every problem and its line (exit 2).
func loadScheduleFile(e env) (*config.Config, *schedule.File, error) {
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return nil, nil, withExit(exitUsage, fmt.Errorf("configuration: %w", err))
	}
	if cfg.ScheduleFile == "" {
		return nil, nil, usageErrorf("SCHEDULE_FILE is not set: point it at the schedule file (see examples/schedule.yaml)")
	}
	f, err := schedule.Load(cfg.ScheduleFile)
	if err != nil {
		return nil, nil, withExit(exitUsage, err)
	}
	if err := worker.CheckScheduleFile(cfg.ScheduleFile, f); err != nil {
		return nil, nil, withExit(exitUsage, err)
	}
	for _, s := range f.Schedules {
		if s.CallbackURL == "" {
			continue
		}
		if err := callbackPolicy(cfg).CheckURL(s.CallbackURL); err != nil {
			return nil, nil, withExit(exitUsage, fmt.Errorf("%s: schedule %s: %w", cfg.ScheduleFile, s.Name, err))
		}
	}
	return cfg, f, nil
}

// scheduleRunner wires the runner of scheduled runs: relative sources are resolved against the
// schedule file's directory.
func (a *app) scheduleRunner(f *schedule.File) (*worker.ScheduleRunner, error) {
	dir, err := filepath.Abs(filepath.Dir(a.cfg.ScheduleFile))
	if err != nil {
		return nil, fmt.Errorf("SCHEDULE_FILE: %w", err)
	}
	return &worker.ScheduleRunner{
		Log:            a.log,
		File:           f,
		Dir:            dir,
		Store:          a.store,
		Queue:          a.queue,
		History:        schedule.NewHistory(a.rdb, schedule.DefaultHistoryLength),
		TaskOptions:    a.taskOptions(),
		RunTaskOptions: a.scheduleTaskOptions(),
		ChunkSize:      a.cfg.ChunkSize,
		Currencies:     a.cfg.Currencies,
		Limits:         payoutfile.Options{MaxFileBytes: a.cfg.MaxFileBytes, MaxFieldBytes: a.cfg.MaxFieldBytes, MaxRows: a.cfg.MaxRows, MaxAmount: a.cfg.MaxItemAmount},
		AutoApprove:    a.cfg.AutoApprove(),
	}, nil
}

func (a *app) scheduleTaskOptions() tasks.Options {
	return schedule.TaskOptions(a.cfg.MaxRetry, a.cfg.CatchUp)
}

// runScheduler runs the loop and the schedule queue's server until ctx is done.
func runScheduler(ctx context.Context, e env) error {
	_, f, err := loadScheduleFile(e)
	if err != nil {
		return err
	}
	a, err := newApp(ctx, e, appNeeds{}, "scheduler")
	if err != nil {
		return err
	}
	defer a.close()
	runner, err := a.scheduleRunner(f)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, s := range f.Schedules {
		log := a.log.With().Str("schedule", s.Name).Logger()
		if p, err := runner.SourcePattern(s); err == nil {
			if dir := filepath.Dir(p); !hasGlobMeta(dir) {
				if _, err := os.Stat(dir); err != nil {
					log.Warn().Err(err).Str("source", p).Msg("the schedule's inbox is not there yet")
				}
			}
			log = log.With().Str("source", p).Logger()
		}
		if next := s.Next(now, 1); len(next) == 1 {
			log.Info().Time("next", next[0].At).Str("period", next[0].Period).Msg("schedule loaded")
		}
	}

	srv := asynq.NewServerFromRedisClient(a.rdb, worker.ScheduleServerConfig(a.log,
		worker.RetryPolicy{Base: a.cfg.RetryBaseDelay, Max: a.cfg.RetryMaxDelay}))
	// This server consumes only schedule.Queue: of the registry's handlers only schedule:run is
	// ever reached, so the chunk handlers need no pipeline here.
	mux := worker.NewServeMux(nil, nil, nil, map[string]asynq.Handler{tasks.TypeScheduleRun: worker.HandleScheduleRun(runner)})
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start the schedule queue's server: %w", err)
	}
	sched := schedule.NewScheduler(f, a.queue, schedule.SchedulerOptions{
		TaskOptions: a.scheduleTaskOptions(),
		CatchUp:     a.cfg.CatchUp,
		Log:         a.log,
	})
	a.log.Info().Int("schedules", len(f.Schedules)).Dur("catch_up", a.cfg.CatchUp).Msg("scheduler running")
	err = sched.Run(ctx)
	a.log.Info().Msg("shutting down")
	srv.Shutdown()
	return err
}

func hasGlobMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) }

// cmdSchedulerRun triggers a schedule's run by hand.
func cmdSchedulerRun(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "scheduler run", `scheduler run NAME [--period YYYY-MM] [--as NAME]

Submit the files of schedule NAME for a period now, in this process, exactly as the scheduled run
would (same batch IDs, options and processed/ moves), and record the run. Works for a past period
too. Idempotent: files already submitted for the period are reported ALREADY_SUBMITTED. It does
not wait for a missing file: with none it exits 1 and records nothing. Needs REDIS_URL and
SCHEDULE_FILE; the chunks are processed by the workers.`)
	period := fs.String("period", "", "the `period` to pay, YYYY-MM (default: the current month in the schedule file's time zone)")
	as := fs.String("as", "", "your name, recorded in the batches' audit lists (default: $USER)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usageErrorf("scheduler run needs exactly one schedule NAME")
	}
	name := pos[0]
	_, f, err := loadScheduleFile(e)
	if err != nil {
		return err
	}
	if *period == "" {
		*period = f.PeriodOf(time.Now())
	} else if _, _, err := schedule.ParsePeriod(*period); err != nil {
		return usageErrorf("--period %q: want YYYY-MM", *period)
	}
	if _, ok := f.Schedule(name); !ok {
		return usageErrorf("scheduler run: no schedule %q in %s: want one of %s", name, e.getenv("SCHEDULE_FILE"), scheduleNames(f))
	}
	if _, err := f.RunFor(name, *period); err != nil {
		return withExit(exitUsage, err)
	}
	who := *as
	if who == "" {
		who = e.getenv("USER")
	}
	if who == "" {
		who = "cli"
	}
	a, err := newApp(ctx, e, appNeeds{}, "scheduler run")
	if err != nil {
		return err
	}
	defer a.close()
	runner, err := a.scheduleRunner(f)
	if err != nil {
		return err
	}
	rec, err := runner.Trigger(ctx, name, *period, who)
	if rec.Outcome != "" {
		if werr := writeRecords(e.stdout, f.Location, []schedule.Record{rec}); werr != nil {
			return werr
		}
	}
	if errors.Is(err, batch.ErrBatchConflict) {
		return withExit(exitConflict, err)
	}
	return err
}

// cmdSchedulerStatus prints the last runs of each schedule.
func cmdSchedulerStatus(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "scheduler status", `scheduler status [-n N] [NAME...]

Show the last runs of each schedule of SCHEDULE_FILE (or of the NAMEs given), newest first:
when the outcome was recorded, the period, the outcome (SUBMITTED, ALREADY_SUBMITTED, WAITING,
MISSED, FAILED), what started it, the batch IDs and a message. Needs REDIS_URL and SCHEDULE_FILE.`)
	n := fs.Int("n", 10, "show the last `N` runs of each schedule")
	names, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if *n < 1 {
		return usageErrorf("-n %d: want at least 1", *n)
	}
	_, f, err := loadScheduleFile(e)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		for _, s := range f.Schedules {
			names = append(names, s.Name)
		}
	}
	a, err := newApp(ctx, e, appNeeds{}, "scheduler status")
	if err != nil {
		return err
	}
	defer a.close()
	hist := schedule.NewHistory(a.rdb, schedule.DefaultHistoryLength)
	var recs []schedule.Record
	for _, name := range names {
		rs, err := hist.Recent(ctx, name, *n)
		if err != nil {
			return err
		}
		if len(rs) == 0 {
			rs = []schedule.Record{{Schedule: name, Message: "no runs recorded"}}
		}
		recs = append(recs, rs...)
	}
	return writeRecords(e.stdout, f.Location, recs)
}

// writeRecords prints run records as a table, times in loc.
func writeRecords(w io.Writer, loc *time.Location, recs []schedule.Record) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCHEDULE\tPERIOD\tOUTCOME\tRECORDED\tDUE\tTRIGGER\tBATCHES\tMESSAGE")
	for _, r := range recs {
		outcome := string(r.Outcome)
		if r.Retrying {
			outcome += " (retrying)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Schedule, dash(r.Period), dash(outcome),
			formatTime(r.At, loc), formatTime(r.Due, loc), dash(r.Trigger), dash(strings.Join(r.Batches, ",")), r.Message)
	}
	return tw.Flush()
}

func formatTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format(time.RFC3339)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// scheduleNames is used in messages.
func scheduleNames(f *schedule.File) string {
	names := make([]string, len(f.Schedules))
	for i, s := range f.Schedules {
		names[i] = strconv.Quote(s.Name)
	}
	return strings.Join(names, ", ")
}
