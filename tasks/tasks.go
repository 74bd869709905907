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
	TypeInit        = "payout:init"      // send one chunk's init to iyzico
	TypeAuth        = "payout:auth"      // send auth for one initialized chunk
	TypePoll        = "payout:poll"      // re-read one authorized chunk until every item is final
	TypeCancel      = "payout:cancel"    // cancel one chunk still in INIT at iyzico
	TypeReconcile   = "payout:reconcile" // read one chunk back from iyzico and adopt what it shows
	TypeFinalize    = "batch:finalize"   // record a batch's final status, write its report, send its callback
	TypeJanitor     = "janitor:sweep"    // re-create lost steps of every batch that is not final
	TypeScheduleRun = "schedule:run"     // submit a scheduled period's payroll file
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
	Queue    string        // default DefaultQueue
	MaxRetry int           // asynq's retries; chunk steps keep their own budget in the ledger
	Timeout  time.Duration // per attempt; must exceed the iyzico calls one attempt makes
	// Retention keeps a completed task visible (in asynqmon) for that long; polls are never kept.
	// Nothing relies on it: every step claims its chunk, so a repeated task is harmless.
	Retention time.Duration
}

// QueueName is the queue of tasks made with o.
func (o Options) QueueName() string {
	if o.Queue == "" {
		return DefaultQueue
	}
	return o.Queue
}

func (o Options) list(taskID string, extra ...asynq.Option) []asynq.Option {
	opts := []asynq.Option{asynq.Queue(o.QueueName()), asynq.MaxRetry(o.MaxRetry), asynq.TaskID(taskID)}
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

// ChunkTaskID is the TaskID of a chunk's step task: "<externalId>:<step>", and for the numbered
// steps (poll, reconcile) "<externalId>:<step>:<n>". typ is a Type* of a chunk task.
func ChunkTaskID(typ string, c Chunk, n int) string {
	id := ChunkExternalID(c.Batch, c.Seq) + ":" + typ[len("payout:"):]
	if typ == TypePoll || typ == TypeReconcile {
		id += ":" + strconv.Itoa(n)
	}
	return id
}

// NewInitTask returns the payout:init task of a chunk, TaskID "<externalId>:init".
func NewInitTask(c Chunk, o Options) *asynq.Task {
	return newTask(TypeInit, c, o.list(ChunkTaskID(TypeInit, c, 0)))
}

// NewAuthTask returns the payout:auth task of a chunk, TaskID "<externalId>:auth".
func NewAuthTask(c Chunk, o Options) *asynq.Task {
	return newTask(TypeAuth, c, o.list(ChunkTaskID(TypeAuth, c, 0)))
}

// NewCancelTask returns the payout:cancel task of a chunk, TaskID "<externalId>:cancel".
func NewCancelTask(c Chunk, o Options) *asynq.Task {
	return newTask(TypeCancel, c, o.list(ChunkTaskID(TypeCancel, c, 0)))
}

// NewPollTask returns the n-th payout:poll task of a chunk, to run after delay, TaskID
// "<externalId>:poll:<n>". n comes from the chunk's poll counter. Polls are never retained.
func NewPollTask(c Chunk, n int, delay time.Duration, o Options) *asynq.Task {
	o.Retention = 0
	return newTask(TypePoll, c, o.list(ChunkTaskID(TypePoll, c, n), asynq.ProcessIn(delay)))
}

// NewReconcileTask returns the n-th payout:reconcile task of a chunk, to run after delay, TaskID
// "<externalId>:reconcile:<n>".
func NewReconcileTask(c Chunk, n int, delay time.Duration, o Options) *asynq.Task {
	return newTask(TypeReconcile, c, o.list(ChunkTaskID(TypeReconcile, c, n), asynq.ProcessIn(delay)))
}

// NewFinalizeTask returns the batch:finalize task of a batch's phase, TaskID "<batch>:finalize:<phase>".
func NewFinalizeTask(f Finalize, o Options) *asynq.Task {
	return newTask(TypeFinalize, f, o.list(f.Batch+":finalize:"+f.Phase))
}

// Janitor is the payload of a janitor:sweep task: the start of the period it sweeps.
type Janitor struct {
	Period int64 `json:"period"` // unix seconds
}

// NewJanitorTask returns the janitor:sweep task of the period starting at p (unix seconds), TaskID
// "janitor:<p>": every worker process enqueues one per period and only the first is kept.
func NewJanitorTask(p int64, o Options) *asynq.Task {
	return newTask(TypeJanitor, Janitor{Period: p}, o.list("janitor:"+strconv.FormatInt(p, 10)))
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
