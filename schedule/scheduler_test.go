package schedule

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/internal/redistest"
	"github.com/masspayout/masspayout/tasks"
)

// testClock is an injected clock that tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// recordingQueue enqueues on a private real Redis, remembers the TaskIDs it got accepted, and
// fails every enqueue while fail is set.
type recordingQueue struct {
	client *asynq.Client
	mu     sync.Mutex
	infos  []*asynq.TaskInfo
	fail   error
}

func newRecordingQueue(t *testing.T) *recordingQueue {
	t.Helper()
	r := redistest.Start(t)
	c := asynq.NewClientFromRedisClient(r.Client())
	return &recordingQueue{client: c}
}

func (q *recordingQueue) EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return nil, q.fail
	}
	info, err := q.client.EnqueueContext(ctx, t, opts...)
	if err == nil {
		q.infos = append(q.infos, info)
	}
	return info, err
}

func (q *recordingQueue) setFail(err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.fail = err
}

func (q *recordingQueue) IDs() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var ids []string
	for _, i := range q.infos {
		ids = append(ids, i.ID)
	}
	return ids
}

const tickFile = `timezone: Europe/Istanbul
schedules:
  - name: payroll
    when: last-business-day 10:00
    source: inbox/payroll-*.csv
  - name: rent
    when: day 26 09:30
    source: inbox/rent-*.csv
`

func TestSchedulerTickWindows(t *testing.T) {
	f := parseFile(t, tickFile)
	// May 2026: payroll runs on Tuesday 26 May at 10:00 (27-30 May is Kurban Bayramı); rent at 09:30.
	tests := []struct {
		name    string
		catchUp time.Duration
		ticks   []string // clock at each tick
		want    []string // TaskIDs enqueued, in order
	}{
		{"on time", 24 * time.Hour, []string{"2026-05-26T09:29:00+03:00", "2026-05-26T09:30:00+03:00", "2026-05-26T09:31:00+03:00", "2026-05-26T10:00:00+03:00", "2026-05-26T10:01:00+03:00"},
			[]string{"rent:2026-05", "payroll:2026-05"}},
		{"catch up both after a restart", 24 * time.Hour, []string{"2026-05-26T11:00:00+03:00", "2026-05-26T11:01:00+03:00"},
			[]string{"rent:2026-05", "payroll:2026-05"}},
		{"catch-up window too short", 45 * time.Minute, []string{"2026-05-26T10:40:00+03:00"},
			[]string{"payroll:2026-05"}},
		{"no catch-up", 0, []string{"2026-05-26T10:00:30+03:00", "2026-05-26T10:01:00+03:00"},
			nil},
		{"next day catches up yesterday", 24 * time.Hour, []string{"2026-05-27T08:00:00+03:00"},
			[]string{"rent:2026-05", "payroll:2026-05"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &testClock{}
			q := newRecordingQueue(t)
			s := NewScheduler(f, q, SchedulerOptions{CatchUp: tt.catchUp, Now: clock.Now})
			for _, at := range tt.ticks {
				clock.Set(mustTime(t, at))
				if _, err := s.Tick(t.Context()); err != nil {
					t.Fatalf("tick at %s: %v", at, err)
				}
			}
			if got := q.IDs(); !slices.Equal(got, tt.want) {
				t.Errorf("enqueued %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSchedulerTwoInstancesShareTaskIDs(t *testing.T) {
	f := parseFile(t, tickFile)
	clock := &testClock{t: mustTime(t, "2026-05-26T10:00:00+03:00")}
	q := newRecordingQueue(t)
	a := NewScheduler(f, q, SchedulerOptions{CatchUp: time.Hour, Now: clock.Now})
	b := NewScheduler(f, q, SchedulerOptions{CatchUp: time.Hour, Now: clock.Now})
	ra, errA := a.Tick(t.Context())
	rb, errB := b.Tick(t.Context())
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if n := len(ra) + len(rb); n != 2 {
		t.Errorf("the two schedulers enqueued %d runs, want 2 (rent and payroll once each)", n)
	}
	for _, i := range q.infos {
		if i.Queue != Queue || i.Retention != DefaultRetention || i.Type != tasks.TypeScheduleRun {
			t.Errorf("task %s: type %s, queue %q, retention %v; want %s, %q, %v", i.ID, i.Type, i.Queue, i.Retention, tasks.TypeScheduleRun, Queue, DefaultRetention)
		}
	}
}

func TestSchedulerTickKeepsWindowOnError(t *testing.T) {
	f := parseFile(t, tickFile)
	clock := &testClock{t: mustTime(t, "2026-05-26T09:59:00+03:00")}
	q := newRecordingQueue(t)
	s := NewScheduler(f, q, SchedulerOptions{Now: clock.Now})
	if _, err := s.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
	q.setFail(errors.New("redis down"))
	clock.Set(mustTime(t, "2026-05-26T10:00:00+03:00"))
	if _, err := s.Tick(t.Context()); err == nil {
		t.Fatal("tick with a failing queue: no error")
	}
	q.setFail(nil)
	clock.Set(mustTime(t, "2026-05-26T10:01:00+03:00"))
	runs, err := s.Tick(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Schedule != "payroll" || runs[0].Period != "2026-05" {
		t.Errorf("tick after the failure enqueued %+v, want payroll 2026-05", runs)
	}
}

func TestSchedulerRunStopsOnCancel(t *testing.T) {
	f := parseFile(t, tickFile)
	clock := &testClock{t: mustTime(t, "2026-05-26T10:00:00+03:00")}
	q := newRecordingQueue(t)
	s := NewScheduler(f, q, SchedulerOptions{CatchUp: time.Hour, Now: clock.Now, Interval: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(q.IDs()) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil after cancel", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if got := q.IDs(); !slices.Equal(got, []string{"rent:2026-05", "payroll:2026-05"}) {
		t.Errorf("Run enqueued %v", got)
	}
}

func TestTaskOptions(t *testing.T) {
	o := TaskOptions(7, 24*time.Hour)
	if o.Queue != Queue || o.MaxRetry != 7 || o.Retention != DefaultRetention || o.Timeout != DefaultTaskTimeout {
		t.Errorf("TaskOptions(7, 24h) = %+v", o)
	}
	if o := TaskOptions(0, 60*24*time.Hour); o.Retention != 120*24*time.Hour {
		t.Errorf("retention with a 60-day catch-up = %v, want 120 days", o.Retention)
	}
}
