package batch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/internal/identity"
	"github.com/masspayout/masspayout/tasks"
	"github.com/redis/go-redis/v9"
)

// activeKey is the set of batches that are not final: the janitor's worklist. Like the index, it
// spans batches, so it has no hash tag.
const activeKey = "mp:active"

// Active returns the IDs of the batches that are not final.
func (s *Store) Active(ctx context.Context) ([]string, error) {
	ids, err := s.rdb.SMembers(ctx, activeKey).Result()
	if err != nil {
		return nil, fmt.Errorf("list active batches: %w", err)
	}
	return ids, nil
}

// Deactivate takes a batch off the janitor's worklist (it is final, or gone).
func (s *Store) Deactivate(ctx context.Context, id string) error {
	if err := s.rdb.SRem(ctx, activeKey, id).Err(); err != nil {
		return fmt.Errorf("batch %s: deactivate: %w", id, err)
	}
	return nil
}

// finalScript records a batch's final status once per generation. KEYS: batch. ARGV: generation,
// status, now. Returns 1 when this call made the batch final, 0 when it was final already in this
// generation, -1 when the batch is in another generation (reopened since it was read).
var finalScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'final', 'reopened')
if (h[2] or '0') ~= ARGV[1] then return -1 end
if h[1] == '1' then return 0 end
redis.call('HSET', KEYS[1], 'final', '1', 'final_status', ARGV[2], 'updated', ARGV[3])
return 1
`)

// MarkFinal records status as the final status of batch b's generation (b.Reopened) and starts the
// ledger's expiry (LEDGER_TTL). Only one caller wins: won is false when the batch was final
// already, or was reopened since b was read (then read it again).
func (s *Store) MarkFinal(ctx context.Context, b *Batch, status string) (won bool, err error) {
	res, err := finalScript.Run(ctx, s.rdb, []string{batchKey(b.ID)}, strconv.Itoa(b.Reopened), status, s.now().UTC().Format(time.RFC3339Nano)).Int()
	if err != nil {
		return false, fmt.Errorf("batch %s: mark final: %w", b.ID, err)
	}
	if res != 1 {
		return false, nil
	}
	b.Final, b.FinalAs = true, status
	if err := s.Deactivate(ctx, b.ID); err != nil {
		return true, err
	}
	return true, s.expire(ctx, b)
}

// expire starts the ledger TTL on every key of batch b.
func (s *Store) expire(ctx context.Context, b *Batch) error {
	if s.ttl <= 0 {
		return nil
	}
	pipe := s.rdb.Pipeline()
	for _, k := range s.keys(b) {
		pipe.Expire(ctx, k, s.ttl)
	}
	if k := s.contentKeyOf(ctx, b); k != "" {
		pipe.Expire(ctx, k, s.ttl) // the file may be submitted again once its batch is gone
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("batch %s: expire ledger: %w", b.ID, err)
	}
	return nil
}

// Reopen undoes the final mark of a batch after reconcile changed one of its chunks: a new
// generation starts, the ledger's expiry is removed, and the next finalize records the final
// status again and sends the callback again as a new event (Batch.CallbackEvent). A batch that is
// not final is left as it is.
func (s *Store) Reopen(ctx context.Context, id string) error {
	b, err := s.Head(ctx, id)
	if err != nil {
		return err
	}
	if !b.Final {
		return nil
	}
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, batchKey(id), "final", "0", "reopened", b.Reopened+1, "updated", s.now().UTC().Format(time.RFC3339Nano))
	for _, k := range s.keys(b) {
		pipe.Persist(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("batch %s: reopen: %w", id, err)
	}
	// Outside the transaction: these keys have no hash tag, so in a Redis Cluster they may sit in
	// another slot than the batch.
	if err := s.rdb.SAdd(ctx, activeKey, id).Err(); err != nil {
		return fmt.Errorf("batch %s: reopen: %w", id, err)
	}
	if k := s.contentKeyOf(ctx, b); k != "" {
		if err := s.rdb.Persist(ctx, k).Err(); err != nil {
			return fmt.Errorf("batch %s: reopen: %w", id, err)
		}
	}
	return nil
}

// callbackScript claims the sending of a generation's final callback. KEYS: batch. ARGV: token,
// generation + 1, ttl ms. Returns 'ok', 'done' (delivered already) or 'busy'.
var callbackScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'callback_gen', 'cb_claim_until')
if h[1] == ARGV[2] then return 'done' end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if (tonumber(h[2] or '0') or 0) > now then return 'busy' end
redis.call('HSET', KEYS[1], 'cb_claim', ARGV[1], 'cb_claim_until', tostring(now + tonumber(ARGV[3])))
return 'ok'
`)

// callbackDoneScript records delivery under the claim. KEYS: batch. ARGV: token, generation + 1,
// deliver (1) or release only (0). Returns 1 when the claim held.
var callbackDoneScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'cb_claim') ~= ARGV[1] then return 0 end
if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 'callback_gen', ARGV[2]) end
redis.call('HDEL', KEYS[1], 'cb_claim', 'cb_claim_until')
return 1
`)

// SendCallbackOnce runs send for the final callback of batch b's generation at most once at a
// time and until it succeeds: it claims the sending for ttl (longer than send can take), skips it
// when the generation's callback was delivered, and records delivery when send succeeds. A
// concurrent sender makes it return ErrBusy.
func (s *Store) SendCallbackOnce(ctx context.Context, b *Batch, ttl time.Duration, send func() error) (sent bool, err error) {
	tok := make([]byte, 12)
	rand.Read(tok)
	token := hex.EncodeToString(tok)
	gen := strconv.Itoa(b.Reopened + 1)
	res, err := callbackScript.Run(ctx, s.rdb, []string{batchKey(b.ID)}, token, gen, ttl.Milliseconds()).Text()
	if err != nil {
		return false, fmt.Errorf("batch %s: claim callback: %w", b.ID, err)
	}
	switch res {
	case "done":
		return false, nil
	case "busy":
		return false, fmt.Errorf("batch %s: callback: %w", b.ID, ErrBusy)
	}
	serr := send()
	deliver := "0"
	if serr == nil {
		deliver = "1"
	}
	if err := callbackDoneScript.Run(context.WithoutCancel(ctx), s.rdb, []string{batchKey(b.ID)}, token, gen, deliver).Err(); err != nil {
		return serr == nil, fmt.Errorf("batch %s: record callback: %w", b.ID, err)
	}
	return serr == nil, serr
}

// markSubmitFailedScript sets submit_failed unless the batch has a chunk or completed its
// submission. KEYS: batch. ARGV: now. Returns 1 when it set it.
var markSubmitFailedScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'submit_done', 'chunks_seen', 'content_hash')
if not h[3] or h[1] == '1' or (tonumber(h[2] or '0') or 0) > 0 then return 0 end
redis.call('HSET', KEYS[1], 'submit_failed', '1', 'updated', ARGV[1])
return 1
`)

// MarkSubmitFailed records that a batch's submission stopped before it completed with nothing
// sent (SUBMIT_FAILED) and starts its ledger's expiry. It refuses (ErrInvalidOptions) when a
// chunk was stored: its init may be on its way, so the batch must be resumed instead.
func (s *Store) MarkSubmitFailed(ctx context.Context, id, reason string) error {
	b, err := s.Head(ctx, id)
	if err != nil {
		return err
	}
	// Checked again in the script: a chunk stored meanwhile (putChunkScript) wins.
	marked, err := markSubmitFailedScript.Run(ctx, s.rdb, []string{batchKey(id)}, s.now().UTC().Format(time.RFC3339Nano)).Int()
	if err != nil {
		return fmt.Errorf("batch %s: mark submit failed: %w", id, err)
	}
	if marked == 0 {
		return fmt.Errorf("batch %s: %w: it has chunks; submit the same file again to resume it", id, ErrInvalidOptions)
	}
	if err := s.Audit(ctx, id, "masspayout", "submit-failed", reason); err != nil {
		return err
	}
	if err := s.Deactivate(ctx, id); err != nil {
		return err
	}
	return s.expire(ctx, b)
}

// ErrReachedIyzico: the batch, or part of it, may be at iyzico; it cannot be discarded.
var ErrReachedIyzico = errors.New("the batch reached iyzico")

// Discard removes a batch that never reached iyzico: one whose submission failed, or whose chunks
// are all PENDING with no init ever sent. It claims every chunk first (so no worker can send one
// meanwhile), checks under the claims, deletes the batch's ledger keys, its index entries and its
// chunks' waiting init tasks, and frees its file for another submission. A batch of which anything
// may be at iyzico is refused with ErrReachedIyzico: cancel it instead.
func (s *Store) Discard(ctx context.Context, id, who string) error {
	who, err := identity.Normalize(who)
	if err != nil {
		return fmt.Errorf("discard batch %s: %w: the name of who discards: %w", id, ErrInvalidOptions, err)
	}
	b, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	var claims []*Claim
	defer func() {
		for _, cl := range claims {
			cl.Release(context.WithoutCancel(ctx))
		}
	}()
	for seq := 1; seq <= b.ChunksSeen; seq++ {
		cl, err := s.Claim(ctx, id, seq, "discard", time.Minute, []string{ChunkPending}, false)
		var se *StateError
		switch {
		case errors.As(err, &se):
			return fmt.Errorf("discard batch %s: %w: chunk %s is %s; cancel the batch instead", id, ErrReachedIyzico, chunkName(id, seq), se.State)
		case errors.Is(err, ErrBusy):
			return fmt.Errorf("discard batch %s: %w: chunk %s is being sent right now; cancel the batch instead", id, ErrReachedIyzico, chunkName(id, seq))
		case err != nil:
			return fmt.Errorf("discard batch %s: %w", id, err)
		}
		claims = append(claims, cl)
		if cl.SentBefore {
			return fmt.Errorf("discard batch %s: %w: an init of chunk %s may have reached iyzico; cancel the batch instead, or reconcile it", id, ErrReachedIyzico, chunkName(id, seq))
		}
	}
	for seq := 1; seq <= b.ChunksSeen; seq++ {
		tid := tasks.ChunkTaskID(tasks.TypeInit, tasks.Chunk{Batch: id, Seq: seq}, 0)
		if err := s.inspector.DeleteTask(tasks.DefaultQueue, tid); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound) {
			return fmt.Errorf("discard batch %s: delete task %s: %w", id, tid, err)
		}
	}
	if k := s.contentKeyOf(ctx, b); k != "" {
		if err := s.rdb.Del(ctx, k).Err(); err != nil {
			return fmt.Errorf("discard batch %s: %w", id, err)
		}
	}
	pipe := s.rdb.Pipeline()
	pipe.ZRem(ctx, indexKey, id)
	pipe.SRem(ctx, activeKey, id)
	pipe.Del(ctx, s.keys(b)...)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("discard batch %s: %w", id, err)
	}
	claims = nil // their chunks are gone
	via, _ := ctx.Value(viaKey{}).(string)
	rec, _ := json.Marshal(map[string]any{"batch": id, "who": who, "via": via, "at": s.now().UTC(), "rows": b.Rows, "status": b.Status})
	pipe = s.rdb.Pipeline()
	pipe.RPush(ctx, discardedKey, rec)
	pipe.LTrim(ctx, discardedKey, -10000, -1)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("discard batch %s: record it: %w", id, err)
	}
	return nil
}

// discardedKey lists the batches Discard removed (who, when, how many rows; nothing personal): the
// audit list of a discarded batch goes with it.
const discardedKey = "mp:discarded"
