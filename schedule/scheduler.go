package schedule

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/tasks"
	"github.com/rs/zerolog"
)

// Queue is the asynq queue of schedule:run tasks. Only scheduler processes consume it: the inbox
// files a run submits live on the scheduler's filesystem, not on the workers'.
const Queue = "schedule"

// DefaultRetention is how long a completed schedule:run task keeps its TaskID "<name>:<period>"
// taken, so that no later tick, catch-up or replica can run the period again.
const DefaultRetention = 45 * 24 * time.Hour

// DefaultTaskTimeout is the time one attempt of a schedule:run task may take: reading,
// validating and storing every matching file.
const DefaultTaskTimeout = time.Hour

// TaskOptions returns the options of schedule:run tasks: Queue, maxRetry (MAX_RETRY),
// DefaultTaskTimeout, and a retention of DefaultRetention, or twice catchUp when that is longer
// so a catch-up window never reaches a period whose TaskID has been freed.
func TaskOptions(maxRetry int, catchUp time.Duration) tasks.Options {
	return tasks.Options{
		Queue:     Queue,
		MaxRetry:  maxRetry,
		Timeout:   DefaultTaskTimeout,
		Retention: max(DefaultRetention, 2*catchUp),
	}
}

// Enqueuer puts tasks on the queue; *asynq.Client satisfies it.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// SchedulerOptions configure a Scheduler. The zero value of each field means its default.
type SchedulerOptions struct {
	// TaskOptions are the options of the schedule:run tasks; default TaskOptions(0, CatchUp).
	TaskOptions tasks.Options
	// CatchUp is how far back the first tick looks for runs that fell due while no scheduler was
	// running (CATCH_UP); zero catches nothing up.
	CatchUp time.Duration
	// Interval is the time between ticks; default time.Minute. Run aligns ticks to multiples of
	// it on the clock.
	Interval time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Log receives one line per enqueued run and per failed tick.
	Log zerolog.Logger
}

// Scheduler enqueues a schedule:run task for every run of a schedule file as it falls due. Each
// task's TaskID is "<name>:<period>", so asynq refuses a second one for the same period
// (asynq.ErrTaskIDConflict) while the first is queued, running, retained or archived: several
// scheduler replicas, or one restarted inside its catch-up window, start each period once.
// A cron spec that fires several times in a month therefore starts one run per period, at its
// first firing. A Scheduler is safe for concurrent use.
type Scheduler struct {
	file  *File
	queue Enqueuer
	opts  SchedulerOptions

	mu   sync.Mutex
	last time.Time // the upper end of the last complete tick; zero before the first
}

// NewScheduler returns a scheduler of f's schedules that enqueues on q.
func NewScheduler(f *File, q Enqueuer, o SchedulerOptions) *Scheduler {
	if o.TaskOptions == (tasks.Options{}) {
		o.TaskOptions = TaskOptions(0, o.CatchUp)
	}
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Scheduler{file: f, queue: q, opts: o}
}

// Tick enqueues the runs due since the previous tick, up to now; the first tick looks back
// CatchUp. It returns the runs it enqueued; runs whose TaskID was already taken are not
// returned. When an enqueue fails the window is kept, so the next tick tries the same runs again.
func (s *Scheduler) Tick(ctx context.Context) ([]Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	after, catchUp := s.last, false
	if after.IsZero() {
		after, catchUp = now.Add(-s.opts.CatchUp), true
	}
	var enqueued []Run
	var errs []error
	for _, r := range s.file.DueBetween(after, now) {
		ok, err := s.enqueue(ctx, r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		log := s.opts.Log.With().Str("schedule", r.Schedule).Str("period", r.Period).
			Str("task_id", r.Schedule+":"+r.Period).Time("due", r.At).Logger()
		switch {
		case !ok:
			log.Debug().Msg("run already enqueued")
		case catchUp && now.Sub(r.At) > s.opts.Interval:
			enqueued = append(enqueued, r)
			log.Info().Msg("run fell due while no scheduler was running: catching up")
		default:
			enqueued = append(enqueued, r)
			log.Info().Msg("run enqueued")
		}
	}
	if err := errors.Join(errs...); err != nil {
		return enqueued, err
	}
	s.last = now
	return enqueued, nil
}

// enqueue enqueues r's task; false when its TaskID was taken.
func (s *Scheduler) enqueue(ctx context.Context, r Run) (bool, error) {
	t := tasks.NewScheduleRunTask(tasks.ScheduleRun{Schedule: r.Schedule, Period: r.Period}, s.opts.TaskOptions)
	_, err := s.queue.EnqueueContext(ctx, t)
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("enqueue run of %s for %s: %w", r.Schedule, r.Period, err)
	}
	return true, nil
}

// Run ticks at once and then at every multiple of Interval on the clock until ctx is done; it
// returns nil then. A failed tick is logged and its runs are tried again on the next one.
func (s *Scheduler) Run(ctx context.Context) error {
	for {
		if _, err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.opts.Log.Error().Err(err).Msg("scheduler tick failed; trying again on the next tick")
		}
		now := s.opts.Now()
		wait := s.opts.Interval - time.Duration(now.UnixNano()%int64(s.opts.Interval))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}
