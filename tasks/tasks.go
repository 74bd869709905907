// Package tasks defines every asynq task type of masspayout once: its stable type name (stored in
// Redis: never rename one), its payload of IDs only, and a constructor carrying the default
// options, including a deterministic TaskID so that enqueueing the same step twice is refused by
// asynq with ErrTaskIDConflict while the task (or its retained completion) exists.
package tasks

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
)

// Task type names.
const (
	TypeInit        = "payout:init"    // send one chunk's init to iyzico
	TypeAuth        = "payout:auth"    // send auth for one initialized chunk
	TypePoll        = "payout:poll"    // re-read one authorized chunk until every item is final
	TypeCancel      = "payout:cancel"  // cancel one chunk still in INIT at iyzico
	TypeFinalize    = "batch:finalize" // set a batch's status, write its report, send its callback
	TypeScheduleRun = "schedule:run"   // submit a scheduled period's payroll file
)

// DefaultQueue is the queue every task goes to unless Options says otherwise.
const DefaultQueue = "default"

// Chunk identifies one chunk: the payload of init, auth and poll tasks. No personal data.
type Chunk struct {
	Batch string `json:"batch"`
	Seq   int    `json:"seq"`
}

// Finalize is the payload of a batch:finalize task. Phase is "init" when every chunk has its init
// outcome, "final" when every item has the bank's final status.
type Finalize struct {
	Batch string `json:"batch"`
	Phase string `json:"phase"`
}

// Finalize phases.
const (
	PhaseInit  = "init"
	PhaseFinal = "final"
)

// ScheduleRun is the payload of a schedule:run task.
type ScheduleRun struct {
	Schedule string `json:"schedule"`
	Period   string `json:"period"`
}

// Options are the defaults a constructor applies. Zero fields fall back to the package defaults.
type Options struct {
	Queue     string        // default DefaultQueue
	MaxRetry  int           // MAX_RETRY
	Timeout   time.Duration // per attempt; must exceed the iyzico calls one attempt makes
	Retention time.Duration // how long a completed task blocks its TaskID (the batch's lifetime)
	// IDSuffix is appended to every TaskID: reconcile uses it (":r<n>") to enqueue a step again
	// after the earlier task's retained ID would refuse it.
	IDSuffix string
}

func (o Options) list(taskID string, extra ...asynq.Option) []asynq.Option {
	q := o.Queue
	if q == "" {
		q = DefaultQueue
	}
	opts := []asynq.Option{asynq.Queue(q), asynq.MaxRetry(o.MaxRetry), asynq.TaskID(taskID + o.IDSuffix)}
	if o.Timeout > 0 {
		opts = append(opts, asynq.Timeout(o.Timeout))
	}
	if o.Retention > 0 {
		opts = append(opts, asynq.Retention(o.Retention))
	}
	return append(opts, extra...)
}

// ChunkExternalID is the iyzico externalId of a batch's seq-th chunk: "<batch>-<seq 5 digits>".
func ChunkExternalID(batch string, seq int) string {
	return fmt.Sprintf("%s-%05d", batch, seq)
}

// NewInitTask returns the payout:init task of a chunk, TaskID "<externalId>:init".
func NewInitTask(c Chunk, o Options) *asynq.Task {
	return newTask(TypeInit, c, o.list(ChunkExternalID(c.Batch, c.Seq)+":init"))
}

// NewAuthTask returns the payout:auth task of a chunk, TaskID "<externalId>:auth".
func NewAuthTask(c Chunk, o Options) *asynq.Task {
	return newTask(TypeAuth, c, o.list(ChunkExternalID(c.Batch, c.Seq)+":auth"))
}

// NewCancelTask returns the payout:cancel task of a chunk, TaskID "<externalId>:cancel".
func NewCancelTask(c Chunk, o Options) *asynq.Task {
	return newTask(TypeCancel, c, o.list(ChunkExternalID(c.Batch, c.Seq)+":cancel"))
}

// NewPollTask returns the n-th payout:poll task of a chunk, to run after delay, TaskID
// "<externalId>:poll:<n>". n comes from the chunk's poll counter, so it is never reused.
func NewPollTask(c Chunk, n int, delay time.Duration, o Options) *asynq.Task {
	return newTask(TypePoll, c, o.list(ChunkExternalID(c.Batch, c.Seq)+":poll:"+strconv.Itoa(n), asynq.ProcessIn(delay)))
}

// NewFinalizeTask returns the batch:finalize task of a batch's phase, TaskID "<batch>:finalize:<phase>".
func NewFinalizeTask(f Finalize, o Options) *asynq.Task {
	return newTask(TypeFinalize, f, o.list(f.Batch+":finalize:"+f.Phase))
}

// NewScheduleRunTask returns the schedule:run task of a schedule's period, TaskID "<name>:<period>",
// so replicas and restarts never run a period twice.
func NewScheduleRunTask(r ScheduleRun, o Options) *asynq.Task {
	return newTask(TypeScheduleRun, r, o.list(r.Schedule+":"+r.Period))
}

func newTask(typ string, payload any, opts []asynq.Option) *asynq.Task {
	b, err := json.Marshal(payload)
	if err != nil {
		panic(fmt.Sprintf("tasks: marshal %s payload: %v", typ, err)) // payloads are plain structs of strings and ints
	}
	return asynq.NewTask(typ, b, opts...)
}

// Decode reads a task's payload into T, naming the task type in the error.
func Decode[T any](t *asynq.Task) (T, error) {
	var v T
	if err := json.Unmarshal(t.Payload(), &v); err != nil {
		return v, fmt.Errorf("decode %s payload: %w", t.Type(), err)
	}
	return v, nil
}
