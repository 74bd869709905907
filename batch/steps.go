package batch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/tasks"
	"github.com/redis/go-redis/v9"
)

// EnsureTask makes sure task t (TaskID id) exists on the queue: a pending, scheduled, retrying or
// running task of that ID is left alone; a completed or archived one is deleted and t enqueued in
// its place; a missing one is enqueued. It returns whether it enqueued t. Every step claims its
// chunk, so a task that runs once too often does nothing.
func (s *Store) EnsureTask(ctx context.Context, q Enqueuer, t *asynq.Task, queue, id string) (bool, error) {
	info, err := s.inspector.GetTaskInfo(queue, id)
	switch {
	case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
	case err != nil:
		return false, fmt.Errorf("look up task %s: %w", id, err)
	case info.State == asynq.TaskStateCompleted || info.State == asynq.TaskStateArchived:
		if err := s.inspector.DeleteTask(queue, id); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
			return false, fmt.Errorf("replace finished task %s: %w", id, err)
		}
	default:
		return false, nil
	}
	_, err = q.EnqueueContext(ctx, t)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return false, nil // enqueued by someone else in between
	}
	if err != nil {
		return false, fmt.Errorf("enqueue %s: %w", id, err)
	}
	return true, nil
}

// chunkView is what ensureSteps reads of a chunk.
type chunkView struct {
	state, approved string
	updated         time.Time
	claimUntil      int64
	polls           int
}

// ensureSteps makes sure every chunk of batch id has the task its state needs (EnsureStep).
func (s *Store) ensureSteps(ctx context.Context, id string, q Enqueuer, topts tasks.Options) error {
	_, _, err := s.EnsureSteps(ctx, id, q, topts, 0)
	return err
}

// EnsureSteps makes sure every chunk of batch id that has work left has its task: init for
// PENDING, cancel for INIT in a canceled batch, auth for approved INIT, the latest poll for
// AUTHORIZED. Chunks changed within minIdle, or holding a live claim, are skipped (their step is
// at work). It returns how many tasks it enqueued, and the UNKNOWN chunks (which only a
// reconcile moves on).
func (s *Store) EnsureSteps(ctx context.Context, id string, q Enqueuer, topts tasks.Options, minIdle time.Duration) (n int, unknown []int, err error) {
	b, err := s.Head(ctx, id)
	if err != nil {
		return 0, nil, err
	}
	views, err := s.chunkViews(ctx, id, b.ChunksSeen)
	if err != nil {
		return 0, nil, err
	}
	now := s.now()
	for seq := 1; seq <= b.ChunksSeen; seq++ {
		v := views[seq]
		if v.state == ChunkUnknown {
			unknown = append(unknown, seq)
		}
		if minIdle > 0 && (now.Sub(v.updated) < minIdle || v.claimUntil > now.UnixMilli()) {
			continue
		}
		ref := tasks.Chunk{Batch: id, Seq: seq}
		var t *asynq.Task
		var tid string
		switch {
		case v.state == ChunkPending:
			t, tid = tasks.NewInitTask(ref, topts), tasks.ChunkTaskID(tasks.TypeInit, ref, 0)
		case v.state == ChunkInit && b.CancelRequested:
			t, tid = tasks.NewCancelTask(ref, topts), tasks.ChunkTaskID(tasks.TypeCancel, ref, 0)
		case v.state == ChunkInit && v.approved != "":
			t, tid = tasks.NewAuthTask(ref, topts), tasks.ChunkTaskID(tasks.TypeAuth, ref, 0)
		case v.state == ChunkAuthorized:
			done, err := s.ensurePoll(ctx, q, topts, ref, v.polls)
			if err != nil {
				return n, unknown, err
			}
			if done {
				n++
			}
			continue
		default:
			continue
		}
		done, err := s.EnsureTask(ctx, q, t, topts.QueueName(), tid)
		if err != nil {
			return n, unknown, fmt.Errorf("chunk %s: %w", tasks.ChunkExternalID(id, seq), err)
		}
		if done {
			n++
		}
	}
	return n, unknown, nil
}

// ensurePoll makes sure an authorized chunk has its latest poll: poll <polls> when it is missing,
// a new one (the chunk's poll counter moved on) when that one finished.
func (s *Store) ensurePoll(ctx context.Context, q Enqueuer, topts tasks.Options, ref tasks.Chunk, polls int) (bool, error) {
	if polls > 0 {
		id := tasks.ChunkTaskID(tasks.TypePoll, ref, polls)
		info, err := s.inspector.GetTaskInfo(topts.QueueName(), id)
		switch {
		case err == nil && info.State != asynq.TaskStateCompleted && info.State != asynq.TaskStateArchived:
			return false, nil
		case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
			return s.EnsureTask(ctx, q, tasks.NewPollTask(ref, polls, 0, topts), topts.QueueName(), id)
		case err != nil:
			return false, fmt.Errorf("look up task %s: %w", id, err)
		}
	}
	n, err := s.NextPoll(ctx, ref)
	if err != nil {
		return false, err
	}
	return s.EnsureTask(ctx, q, tasks.NewPollTask(ref, n, 0, topts), topts.QueueName(), tasks.ChunkTaskID(tasks.TypePoll, ref, n))
}

// NextPoll counts one more scheduled poll of a chunk and returns its number (1 for the first).
func (s *Store) NextPoll(ctx context.Context, ref tasks.Chunk) (int, error) {
	n, err := s.rdb.HIncrBy(ctx, chunkKey(ref.Batch, ref.Seq), "polls", 1).Result()
	if err != nil {
		return 0, fmt.Errorf("chunk %s: count poll: %w", tasks.ChunkExternalID(ref.Batch, ref.Seq), err)
	}
	return int(n), nil
}

// NextReconcile counts one more janitor reconcile of an UNKNOWN chunk, and returns its number
// (1 for the first), if the chunk is still UNKNOWN and its last one is older than wait(n-1).
func (s *Store) NextReconcile(ctx context.Context, ref tasks.Chunk, wait func(n int) time.Duration) (int, bool, error) {
	key := chunkKey(ref.Batch, ref.Seq)
	vals, err := s.rdb.HMGet(ctx, key, "state", "reconciles", "reconciled_at").Result()
	if err != nil {
		return 0, false, fmt.Errorf("chunk %s: %w", tasks.ChunkExternalID(ref.Batch, ref.Seq), err)
	}
	str := func(v any) string { s, _ := v.(string); return s }
	if str(vals[0]) != ChunkUnknown {
		return 0, false, nil
	}
	n := atoi(str(vals[1]))
	at, _ := strconv.ParseInt(str(vals[2]), 10, 64)
	if now := s.now(); n > 0 && now.Before(time.UnixMilli(at).Add(wait(n))) {
		return 0, false, nil
	}
	pipe := s.rdb.TxPipeline()
	inc := pipe.HIncrBy(ctx, key, "reconciles", 1)
	pipe.HSet(ctx, key, "reconciled_at", s.now().UnixMilli())
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, false, fmt.Errorf("chunk %s: count reconcile: %w", tasks.ChunkExternalID(ref.Batch, ref.Seq), err)
	}
	return int(inc.Val()), true, nil
}

// chunkViews reads what ensureSteps needs of chunks 1..n in one round trip (index 0 unused).
func (s *Store) chunkViews(ctx context.Context, id string, n int) ([]chunkView, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, n+1)
	for seq := 1; seq <= n; seq++ {
		cmds[seq] = pipe.HMGet(ctx, chunkKey(id, seq), "state", "approved", "updated", "claim_until", "polls")
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("batch %s: read chunks: %w", id, err)
	}
	out := make([]chunkView, n+1)
	for seq := 1; seq <= n; seq++ {
		v := cmds[seq].Val()
		str := func(i int) string { s, _ := v[i].(string); return s }
		out[seq].state, out[seq].approved = str(0), str(1)
		out[seq].updated, _ = time.Parse(time.RFC3339Nano, str(2))
		out[seq].claimUntil, _ = strconv.ParseInt(str(3), 10, 64)
		out[seq].polls = atoi(str(4))
	}
	return out, nil
}

// ChunkStates counts a batch's chunks per state (from the batch's counters).
func (s *Store) ChunkStates(ctx context.Context, batchID string) (map[string]int, error) {
	b, err := s.Head(ctx, batchID)
	if err != nil {
		return nil, err
	}
	return b.Chunks, nil
}
