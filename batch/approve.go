package batch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/masspayout/masspayout/tasks"
	"github.com/redis/go-redis/v9"
)

// Errors of the two-phase operations.
var (
	// ErrNotAwaitingApproval: approve or cancel asked of a batch that is not (or no longer)
	// awaiting approval.
	ErrNotAwaitingApproval = errors.New("batch is not awaiting approval")
	// ErrFourEyes: APPROVAL_FOUR_EYES is on and the approver is the submitter.
	ErrFourEyes = errors.New("four-eyes rule: the approver must not be the submitter")
	// ErrCancelRefused: the batch was approved (money may be moving); it can no longer be canceled.
	ErrCancelRefused = errors.New("batch was approved: it can no longer be canceled")
)

// AutoApprover is the approver recorded for batches submitted with APPROVAL=auto.
const AutoApprover = "APPROVAL=auto"

// approveScript records an approval. KEYS: batch. ARGV: who, now.
// Returns {'ok'}, {'already', approver}, {'canceled'}, {'state', status} or {'missing'}.
var approveScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'status', 'approved_by', 'cancel_requested')
if not h[1] then return {'missing'} end
if h[2] and h[2] ~= '' then return {'already', h[2]} end
if h[3] == '1' then return {'canceled'} end
if h[1] ~= 'AWAITING_APPROVAL' then return {'state', h[1]} end
redis.call('HSET', KEYS[1], 'approved_by', ARGV[1], 'approved_at', ARGV[2], 'status', 'PROCESSING', 'updated', ARGV[2])
return {'ok'}
`)

// Approve releases a batch awaiting approval: it records who approved (refused by the four-eyes
// rule when fourEyes is on and who is the submitter) and enqueues one payout:auth task per
// initialized chunk. Approving an approved batch again enqueues nothing new (auth TaskIDs are
// deterministic) and is not an error, so an interrupted approval can simply be repeated.
func (s *Store) Approve(ctx context.Context, id, who string, fourEyes bool, q Enqueuer, topts tasks.Options) (*Batch, error) {
	b, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	who = strings.TrimSpace(who)
	if who == "" {
		return nil, fmt.Errorf("approve batch %s: %w: say who approves", id, ErrInvalidOptions)
	}
	if fourEyes && strings.EqualFold(who, b.Submitter) {
		return nil, fmt.Errorf("approve batch %s: %w (%s submitted it); another person must approve", id, ErrFourEyes, b.Submitter)
	}
	res, err := approveScript.Run(ctx, s.rdb, []string{batchKey(id)}, who, s.now().UTC().Format(time.RFC3339Nano)).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("approve batch %s: %w", id, err)
	}
	switch res[0] {
	case "missing":
		return nil, fmt.Errorf("batch %s: %w", id, ErrNotFound)
	case "canceled":
		return nil, fmt.Errorf("approve batch %s: %w: it was canceled", id, ErrNotAwaitingApproval)
	case "state":
		return nil, fmt.Errorf("approve batch %s: %w: it is %s; approve once every chunk is initialized (AWAITING_APPROVAL)", id, ErrNotAwaitingApproval, res[1])
	case "ok":
		if err := s.Audit(ctx, id, who, "approved", "auth released for every initialized chunk"); err != nil {
			return nil, err
		}
	}
	topts = b.TaskOptions(topts)
	if err := s.enqueueForChunks(ctx, id, ChunkInit, q, func(c tasks.Chunk) error {
		return Enqueue(ctx, q, tasks.NewAuthTask(c, topts))
	}); err != nil {
		return nil, fmt.Errorf("approve batch %s: %w", id, err)
	}
	return s.Get(ctx, id)
}

// cancelScript records a cancellation request. KEYS: batch. ARGV: who, now.
// Returns {'ok'}, {'already'}, {'approved', approver}, {'state', status} or {'missing'}.
var cancelScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'status', 'approved_by', 'cancel_requested')
if not h[1] then return {'missing'} end
if h[2] and h[2] ~= '' then return {'approved', h[2]} end
if h[3] == '1' then return {'already'} end
if h[1] ~= 'AWAITING_APPROVAL' then return {'state', h[1]} end
redis.call('HSET', KEYS[1], 'cancel_requested', '1', 'canceled_by', ARGV[1], 'canceled_at', ARGV[2], 'status', 'PROCESSING', 'updated', ARGV[2])
return {'ok'}
`)

// Cancel cancels a batch awaiting approval: it records the request and enqueues one
// payout:cancel task per chunk still in INIT, whose items end MASS_PAYOUT_CANCELED. It is refused
// with ErrCancelRefused once the batch was approved (automatic approval included). Repeating it is
// harmless.
func (s *Store) Cancel(ctx context.Context, id, who string, q Enqueuer, topts tasks.Options) (*Batch, error) {
	who = strings.TrimSpace(who)
	if who == "" {
		return nil, fmt.Errorf("cancel batch %s: %w: say who cancels", id, ErrInvalidOptions)
	}
	res, err := cancelScript.Run(ctx, s.rdb, []string{batchKey(id)}, who, s.now().UTC().Format(time.RFC3339Nano)).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("cancel batch %s: %w", id, err)
	}
	switch res[0] {
	case "missing":
		return nil, fmt.Errorf("batch %s: %w", id, ErrNotFound)
	case "approved":
		return nil, fmt.Errorf("cancel batch %s: %w (approved by %s); its payouts are with the bank", id, ErrCancelRefused, res[1])
	case "state":
		return nil, fmt.Errorf("cancel batch %s: %w: it is %s; cancel once every chunk is initialized (AWAITING_APPROVAL)", id, ErrNotAwaitingApproval, res[1])
	case "ok":
		if err := s.Audit(ctx, id, who, "canceled", "cancel requested for every chunk still in INIT"); err != nil {
			return nil, err
		}
	}
	b, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	topts = b.TaskOptions(topts)
	if err := s.enqueueForChunks(ctx, id, ChunkInit, q, func(c tasks.Chunk) error {
		return Enqueue(ctx, q, tasks.NewCancelTask(c, topts))
	}); err != nil {
		return nil, fmt.Errorf("cancel batch %s: %w", id, err)
	}
	return s.Get(ctx, id)
}

// enqueueForChunks calls enqueue for every chunk of the batch in state.
func (s *Store) enqueueForChunks(ctx context.Context, id, state string, q Enqueuer, enqueue func(tasks.Chunk) error) error {
	n, err := s.rdb.HGet(ctx, batchKey(id), "chunks_seen").Int()
	if err != nil {
		return wrapNotFound("batch "+id, err)
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, n)
	for seq := 1; seq <= n; seq++ {
		cmds[seq-1] = pipe.HGet(ctx, chunkKey(id, seq), "state")
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return err
	}
	for i, c := range cmds {
		if c.Val() == state {
			if err := enqueue(tasks.Chunk{Batch: id, Seq: i + 1}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Reopen clears a batch's final mark after reconcile (run number generation) changed a chunk: the
// ledger's expiry is removed, the status goes back to PROCESSING, and the next finalize sets it
// again and sends the callback again as a new event.
func (s *Store) Reopen(ctx context.Context, id string, generation int) error {
	b, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if !b.Final {
		return nil
	}
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, batchKey(id), "final", "0", "status", StatusProcessing, "reopened", generation, "updated", s.now().UTC().Format(time.RFC3339Nano))
	pipe.HDel(ctx, batchKey(id), "callback_delivered") // the receiver hears of the repaired outcome
	for _, k := range s.keys(b) {
		pipe.Persist(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("batch %s: reopen: %w", id, err)
	}
	// Outside the transaction: the file index entry has no hash tag, so it may sit in another
	// Redis Cluster slot than the batch.
	if k := s.contentKeyOf(ctx, b); k != "" {
		if err := s.rdb.Persist(ctx, k).Err(); err != nil {
			return fmt.Errorf("batch %s: reopen: %w", id, err)
		}
	}
	return nil
}

// NextGeneration counts one more reconcile run of the batch and returns its number.
func (s *Store) NextGeneration(ctx context.Context, id string) (int, error) {
	n, err := s.rdb.HIncrBy(ctx, batchKey(id), "reconciles", 1).Result()
	return int(n), err
}
