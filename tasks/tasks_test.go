package tasks

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/internal/redistest"
)

func TestConstructors(t *testing.T) {
	o := Options{MaxRetry: 7, Timeout: time.Minute, Retention: time.Hour}
	c := Chunk{Batch: "payroll-2026-11", Seq: 7}
	tests := []struct {
		task     *asynq.Task
		typ      string
		payload  string
		optsWant string
	}{
		{NewInitTask(c, o), TypeInit, `{"batch":"payroll-2026-11","seq":7}`, "payroll-2026-11-00007:init"},
		{NewAuthTask(c, o), TypeAuth, `{"batch":"payroll-2026-11","seq":7}`, "payroll-2026-11-00007:auth"},
		{NewPollTask(c, 3, time.Minute, o), TypePoll, `{"batch":"payroll-2026-11","seq":7}`, "payroll-2026-11-00007:poll:3"},
		{NewFinalizeTask(Finalize{Batch: "b", Phase: PhaseInit}, o), TypeFinalize, `{"batch":"b","phase":"init"}`, "b:finalize:init"},
		{NewScheduleRunTask(ScheduleRun{Schedule: "salary", Period: "2026-11"}, o), TypeScheduleRun, `{"schedule":"salary","period":"2026-11"}`, "salary:2026-11"},
	}
	for _, tt := range tests {
		if tt.task.Type() != tt.typ || string(tt.task.Payload()) != tt.payload {
			t.Errorf("task %s %s, want %s %s", tt.task.Type(), tt.task.Payload(), tt.typ, tt.payload)
		}
	}
	if got := ChunkExternalID("b", 12); got != "b-00012" {
		t.Errorf("ChunkExternalID = %q", got)
	}
	got, err := Decode[Chunk](NewInitTask(c, o))
	if err != nil || got != c {
		t.Errorf("Decode = %+v, %v", got, err)
	}
	if _, err := Decode[Chunk](asynq.NewTask(TypeInit, []byte("{"))); err == nil || !strings.Contains(err.Error(), TypeInit) {
		t.Errorf("Decode(bad) error = %v", err)
	}
}

// TestAsynqTaskIDSemantics pins what the design relies on (RELIABILITY.md §2.3): a TaskID blocks a
// second enqueue while the task is pending, retained after success, or archived; and only a
// completed task without retention frees its ID. An asynq upgrade that changes this must fail here.
func TestAsynqTaskIDSemantics(t *testing.T) {
	r := redistest.Start(t)
	opt := asynq.RedisClientOpt{Addr: r.Addr}
	client := asynq.NewClient(opt)
	t.Cleanup(func() { client.Close() })
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { insp.Close() })

	enqueue := func(id string, opts ...asynq.Option) error {
		_, err := client.Enqueue(asynq.NewTask("pin", []byte(id)), append([]asynq.Option{asynq.TaskID(id), asynq.MaxRetry(0)}, opts...)...)
		return err
	}
	for _, id := range []string{"retained", "plain", "fails"} {
		opts := []asynq.Option{}
		if id == "retained" {
			opts = append(opts, asynq.Retention(time.Hour))
		}
		if err := enqueue(id, opts...); err != nil {
			t.Fatalf("enqueue %s: %v", id, err)
		}
		if err := enqueue(id); !errors.Is(err, asynq.ErrTaskIDConflict) {
			t.Fatalf("second enqueue of pending %s = %v, want ErrTaskIDConflict", id, err)
		}
	}

	srv := asynq.NewServer(opt, asynq.Config{Concurrency: 2, LogLevel: asynq.FatalLevel})
	mux := asynq.NewServeMux()
	mux.HandleFunc("pin", func(_ context.Context, t *asynq.Task) error {
		if string(t.Payload()) == "fails" {
			return errors.New("always")
		}
		return nil
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		qi, err := insp.GetQueueInfo("default")
		if err == nil && qi.Completed == 1 && qi.Archived == 1 && qi.Pending == 0 && qi.Active == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tasks not processed: %+v %v", qi, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	srv.Shutdown()

	if err := enqueue("retained"); !errors.Is(err, asynq.ErrTaskIDConflict) {
		t.Errorf("enqueue of a completed task with Retention = %v, want ErrTaskIDConflict", err)
	}
	if err := enqueue("fails"); !errors.Is(err, asynq.ErrTaskIDConflict) {
		t.Errorf("enqueue of an archived task = %v, want ErrTaskIDConflict", err)
	}
	if err := enqueue("plain"); err != nil {
		t.Errorf("enqueue of a completed task without Retention = %v, want it accepted", err)
	}
}
