package batch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/masspayout/masspayout/tasks"
	"github.com/redis/go-redis/v9"
)

// Steps that claim a chunk. Each is one kind of call to iyzico.
const (
	StepInit      = "init"
	StepAuth      = "auth"
	StepCancel    = "cancel"
	StepPoll      = "poll"
	StepReconcile = "reconcile"
)

// Claim errors.
var (
	// ErrBusy: another execution holds a live claim on the chunk; try again once it expires.
	ErrBusy = errors.New("chunk is claimed by another execution")
	// ErrClaimLost: the claim expired (or was taken over) before the commit; nothing was written.
	ErrClaimLost = errors.New("claim on the chunk was lost")
	// ErrNotClaimable: the chunk is not in a state the step acts on.
	ErrNotClaimable = errors.New("chunk is not in a state this step acts on")
	// ErrUnapproved: the chunk awaits an approval before auth.
	ErrUnapproved = errors.New("chunk awaits approval")
)

// BusyError details ErrBusy: which step holds the claim and for how much longer at most.
type BusyError struct {
	Step string
	Left time.Duration
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("%v (%s, for up to %s more)", ErrBusy, e.Step, e.Left.Round(time.Millisecond))
}

// Unwrap makes errors.Is(err, ErrBusy) true.
func (e *BusyError) Unwrap() error { return ErrBusy }

// StateError details ErrNotClaimable and ErrUnapproved with the state the chunk is in.
type StateError struct {
	State string
	Err   error
}

func (e *StateError) Error() string { return fmt.Sprintf("%v (it is %s)", e.Err, e.State) }

// Unwrap returns ErrNotClaimable or ErrUnapproved.
func (e *StateError) Unwrap() error { return e.Err }

// redisRunLua defines runOf(): the run_id of the Redis process (a new one after every restart)
// and its uptime in seconds; "" and nil where INFO is not available to scripts. Every script that
// writes a chunk records the run_id in its "rid" field.
const redisRunLua = `
local function runOf()
  local ok, info = pcall(redis.call, 'INFO', 'server')
  if not ok or type(info) ~= 'string' then return '', nil end
  return string.match(info, 'run_id:(%w+)') or '', tonumber(string.match(info, 'uptime_in_seconds:(%d+)'))
end
`

// claimScript wins a claim on a chunk: its state is one of the expected ones, no live claim is
// held, and (for auth) it is approved. Times come from Redis's clock, so the workers' clocks do not
// matter. A chunk last written by an earlier Redis process (it restarted since, perhaps losing its
// last writes, a claim among them) is not claimed until one claim lifetime after the restart: the
// lost claim's call may still be in flight.
//
// KEYS: chunk. ARGV: token, step, ttl ms, expected states (space-separated), need approval (1/0).
// Returns {'ok', claims of this step, sent before, until ms}, {'missing'}, {'state', state},
// {'unapproved', state} or {'busy', step, ms left}.
var claimScript = redis.NewScript(redisRunLua + `
local h = redis.call('HMGET', KEYS[1], 'state', 'approved', 'claim_until', 'claim_step', 'sent', 'rid')
if not h[1] then return {'missing'} end
if not string.find(' ' .. ARGV[4] .. ' ', ' ' .. h[1] .. ' ', 1, true) then return {'state', h[1]} end
if ARGV[5] == '1' and (h[2] or '') == '' then return {'unapproved', h[1]} end
local ttl = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rid, up = runOf()
if up and rid ~= '' and (h[6] or '') ~= '' and h[6] ~= rid and up * 1000 < ttl then
  return {'busy', 'redis restart', tostring(ttl - up * 1000)}
end
local untilMs = tonumber(h[3] or '0') or 0
if untilMs > now then return {'busy', h[4] or '', tostring(untilMs - now)} end
redis.call('HSET', KEYS[1], 'claim', ARGV[1], 'claim_until', tostring(now + ttl), 'claim_step', ARGV[2], 'rid', rid)
local n = redis.call('HINCRBY', KEYS[1], 'claims:' .. ARGV[2], 1)
if ARGV[2] == 'init' then redis.call('HSET', KEYS[1], 'sent', '1') end
return {'ok', tostring(n), h[5] or '0', tostring(now + ttl)}
`)

// Claim is a live claim of one step on one chunk: the only way to change the chunk. Commit while
// it holds; every write checks the token against Redis's clock.
type Claim struct {
	store *Store
	key   string
	token string
	Step  string
	// Chunk is the chunk as read right after the claim was won (body included).
	Chunk *Chunk
	// Until is when the claim expires; a step's calls must end before it.
	Until time.Time
	// SentBefore: an earlier init attempt may have reached iyzico (init claims only).
	SentBefore bool
	// Nth counts this step's claims on the chunk, this one included.
	Nth int
}

// Claim wins a claim of step on chunk seq of a batch for ttl, when the chunk is in one of states
// (and, with needApproval, approved), and reads the chunk. It fails with *BusyError (ErrBusy),
// *StateError (ErrNotClaimable, ErrUnapproved) or ErrNotFound. ttl must exceed the longest the
// step's calls can last, plus a margin for iyzico to finish a request the caller gave up on.
func (s *Store) Claim(ctx context.Context, batchID string, seq int, step string, ttl time.Duration, states []string, needApproval bool) (*Claim, error) {
	tok := make([]byte, 12)
	rand.Read(tok)
	token := hex.EncodeToString(tok)
	need := "0"
	if needApproval {
		need = "1"
	}
	key := chunkKey(batchID, seq)
	res, err := claimScript.Run(ctx, s.rdb, []string{key}, token, step, ttl.Milliseconds(), strings.Join(states, " "), need).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("chunk %s: claim %s: %w", chunkName(batchID, seq), step, err)
	}
	switch res[0] {
	case "missing":
		return nil, fmt.Errorf("chunk %s: %w", chunkName(batchID, seq), ErrNotFound)
	case "state":
		return nil, &StateError{State: res[1], Err: ErrNotClaimable}
	case "unapproved":
		return nil, &StateError{State: res[1], Err: ErrUnapproved}
	case "busy":
		ms, _ := strconv.ParseInt(res[2], 10, 64)
		return nil, &BusyError{Step: res[1], Left: time.Duration(ms) * time.Millisecond}
	}
	until, _ := strconv.ParseInt(res[3], 10, 64)
	cl := &Claim{store: s, key: key, token: token, Step: step, Until: time.UnixMilli(until), SentBefore: res[2] == "1", Nth: atoi(res[1])}
	c, err := s.GetChunk(ctx, batchID, seq)
	if err != nil {
		cl.Release(context.WithoutCancel(ctx))
		return nil, err
	}
	cl.Chunk = c
	return cl, nil
}

func chunkName(batchID string, seq int) string { return tasks.ChunkExternalID(batchID, seq) }

// Change is what a commit records: the event (its next state comes from the state machine), the
// items' new outcomes (nil keeps them), and what iyzico told.
type Change struct {
	Event        Event
	Outcomes     []Outcome // nil keeps the outcomes; else one per item
	RequestID    string    // recorded once; a different one is refused
	PayoutStatus string
	LastError    string
	ClearSent    bool // iyzico answered that it holds nothing: the next init is a first send
	// Keep holds the claim after the commit (the step goes on); by default it is released.
	Keep bool
}

// commitScript applies a change under a claim: it checks the token and the claim's expiry by
// Redis's clock, moves the chunk's state, applies the row and amount count deltas, keeps the
// batch's per-state chunk counters and its count of chunks awaiting approval, approves a chunk of
// an automatically approved batch when it reaches INIT, records when it entered AUTHORIZED, resets
// the step's attempt counter, deletes the chunk's stored body once iyzico holds the payout or
// refused it (its recipients' data has no more use; the body's SHA-256 stays), and releases the
// claim unless told to keep it.
//
// KEYS: chunk, batch, counts, body. ARGV: token, new state, now (RFC 3339), keep (1/0), N, N field/value
// pairs for the chunk hash, then field/delta pairs for the counts hash.
// Returns {1, version, pending, init, authorized, unknown, init waiting, submit done, chunks total}
// or {-3} when the claim does not hold.
var commitScript = redis.NewScript(redisRunLua + `
local h = redis.call('HMGET', KEYS[1], 'claim', 'claim_until', 'state', 'approved', 'authorized_at', 'version')
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if h[1] ~= ARGV[1] or (tonumber(h[2] or '0') or 0) <= now then return {-3} end
local old, new = h[3], ARGV[2]
local nv = tonumber(h[6] or '0') + 1
redis.call('HSET', KEYS[1], 'state', new, 'version', nv, 'updated', ARGV[3], 'attempts', '0', 'rid', (runOf()))
local n = tonumber(ARGV[5])
local i = 6
for j = 1, n do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i <= #ARGV do
  redis.call('HINCRBY', KEYS[3], ARGV[i], ARGV[i + 1])
  i = i + 2
end
local approved = h[4] or ''
if new == 'INIT' and approved == '' and redis.call('HGET', KEYS[2], 'auto_approve') == '1' then
  approved = 'auto'
  redis.call('HSET', KEYS[1], 'approved', approved)
end
if old ~= new then
  redis.call('HINCRBY', KEYS[2], 'cs:' .. old, -1)
  redis.call('HINCRBY', KEYS[2], 'cs:' .. new, 1)
end
local wasWaiting = (old == 'INIT' and (h[4] or '') == '') and 1 or 0
local isWaiting = (new == 'INIT' and approved == '') and 1 or 0
if wasWaiting ~= isWaiting then redis.call('HINCRBY', KEYS[2], 'init_waiting', isWaiting - wasWaiting) end
if new == 'AUTHORIZED' and (h[5] or '') == '' then redis.call('HSET', KEYS[1], 'authorized_at', ARGV[3]) end
if new ~= 'PENDING' and new ~= 'UNKNOWN' then redis.call('DEL', KEYS[4]) end
if ARGV[4] ~= '1' then redis.call('HDEL', KEYS[1], 'claim', 'claim_until', 'claim_step') end
redis.call('HSET', KEYS[2], 'updated', ARGV[3])
local b = redis.call('HMGET', KEYS[2], 'cs:PENDING', 'cs:INIT', 'cs:AUTHORIZED', 'cs:UNKNOWN', 'init_waiting', 'submit_done', 'chunks_total')
local out = {1, nv}
for k = 1, 7 do out[k + 2] = tonumber(b[k] or '0') or 0 end
return out
`)

// Commit records ch under the claim: the chunk's next state is Next(state, ch.Event). It fails
// with ErrClaimLost (nothing written) when the claim no longer holds, and refuses a requestId
// that differs from the recorded one. On success the claim's Chunk reflects the change.
func (cl *Claim) Commit(ctx context.Context, ch Change) (Progress, error) {
	c := cl.Chunk
	next, err := Next(c.State, ch.Event)
	if err != nil {
		return Progress{}, fmt.Errorf("chunk %s: %w", c.ExternalID(), err)
	}
	if ch.Outcomes != nil && len(ch.Outcomes) != len(c.Rows) {
		return Progress{}, fmt.Errorf("chunk %s: %d outcomes for %d items", c.ExternalID(), len(ch.Outcomes), len(c.Rows))
	}
	if ch.RequestID != "" && c.RequestID != "" && ch.RequestID != c.RequestID {
		return Progress{}, fmt.Errorf("chunk %s: requestId %s would replace the recorded %s: refused", c.ExternalID(), ch.RequestID, c.RequestID)
	}
	now := cl.store.now().UTC()
	var fields []any
	if ch.Outcomes != nil {
		fields = append(fields, "outcomes", encodeOutcomes(ch.Outcomes))
	}
	if ch.RequestID != "" {
		fields = append(fields, "request_id", ch.RequestID)
	}
	if ch.PayoutStatus != "" {
		fields = append(fields, "payout_status", ch.PayoutStatus)
	}
	if ch.LastError != "" {
		fields = append(fields, "last_error", ch.LastError)
	}
	if ch.ClearSent {
		fields = append(fields, "sent", "0")
	}
	keep := "0"
	if ch.Keep {
		keep = "1"
	}
	args := []any{cl.token, next, now.Format(time.RFC3339Nano), keep, len(fields) / 2}
	args = append(args, fields...)
	if ch.Outcomes != nil {
		deltas, err := countDeltas(c, ch.Outcomes)
		if err != nil {
			return Progress{}, err
		}
		for k, d := range deltas {
			if d != 0 {
				args = append(args, k, strconv.FormatInt(d, 10))
			}
		}
	}
	res, err := commitScript.Run(ctx, cl.store.rdb, []string{cl.key, batchKey(c.Batch), countsKey(c.Batch), chunkBodyKey(c.Batch, c.Seq)}, args...).Int64Slice()
	if err != nil {
		return Progress{}, fmt.Errorf("chunk %s: commit %s: %w", c.ExternalID(), ch.Event, err)
	}
	if res[0] == -3 {
		return Progress{}, fmt.Errorf("chunk %s: commit %s: %w", c.ExternalID(), ch.Event, ErrClaimLost)
	}
	c.Version = int(res[1])
	if next == ChunkAuthorized && c.AuthorizedAt.IsZero() {
		c.AuthorizedAt = now
	}
	c.State = next
	c.Attempts = 0
	if ch.Outcomes != nil {
		c.Outcomes = ch.Outcomes
	}
	if ch.RequestID != "" {
		c.RequestID = ch.RequestID
	}
	if ch.PayoutStatus != "" {
		c.PayoutStatus = ch.PayoutStatus
	}
	if ch.LastError != "" {
		c.LastError = ch.LastError
	}
	if ch.ClearSent {
		c.Sent = false
	}
	if !ch.Keep {
		cl.token = ""
	}
	return Progress{
		Pending: int(res[2]), Init: int(res[3]), Authorized: int(res[4]), Unknown: int(res[5]),
		InitWaiting: int(res[6]), SubmitDone: res[7] == 1, ChunksTotal: int(res[8]),
	}, nil
}

// failScript records a failed attempt under a claim. KEYS: chunk. ARGV: token, counted (1/0),
// clear sent (1/0), last error, release (1/0). Returns the attempt count, or -3 when the claim
// does not hold (nothing written).
var failScript = redis.NewScript(redisRunLua + `
local h = redis.call('HMGET', KEYS[1], 'claim', 'claim_until')
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if h[1] ~= ARGV[1] or (tonumber(h[2] or '0') or 0) <= now then return -3 end
redis.call('HSET', KEYS[1], 'rid', (runOf()))
local n = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0') or 0
if ARGV[2] == '1' then n = redis.call('HINCRBY', KEYS[1], 'attempts', 1) end
if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 'sent', '0') end
redis.call('HSET', KEYS[1], 'last_error', ARGV[4])
if ARGV[5] == '1' then redis.call('HDEL', KEYS[1], 'claim', 'claim_until', 'claim_step') end
return n
`)

// Failure is a failed attempt of a step.
type Failure struct {
	Err error
	// Counted: the failure uses up the step's retry budget (429s and limiter waits do not).
	Counted bool
	// NotSent: nothing of the step's calls can be at iyzico (the client knows its call was not
	// sent, and no earlier one is there), so the next init is a first send again.
	NotSent bool
	// Keep holds the claim (the step goes on to record an outcome under it).
	Keep bool
}

// Fail records a failed attempt under the claim and returns the step's attempt count so far;
// without f.Keep it releases the claim. A lost claim gives ErrClaimLost.
func (cl *Claim) Fail(ctx context.Context, f Failure) (attempts int, err error) {
	c := cl.Chunk
	flag := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}
	msg := ""
	if f.Err != nil {
		msg = f.Err.Error()
	}
	n, err := failScript.Run(ctx, cl.store.rdb, []string{cl.key}, cl.token, flag(f.Counted), flag(f.NotSent && cl.Step == StepInit), msg, flag(!f.Keep)).Int()
	if err != nil {
		return 0, fmt.Errorf("chunk %s: record failure: %w", c.ExternalID(), err)
	}
	if n == -3 {
		return 0, fmt.Errorf("chunk %s: record failure: %w", c.ExternalID(), ErrClaimLost)
	}
	c.Attempts, c.LastError = n, msg
	if !f.Keep {
		cl.token = ""
	}
	return n, nil
}

// releaseScript drops a claim if the token still holds it. KEYS: chunk. ARGV: token.
var releaseScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'claim') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'claim', 'claim_until', 'claim_step')
  return 1
end
return 0
`)

// Release gives the claim up without changing the chunk. Releasing twice, or after a commit, is
// harmless.
func (cl *Claim) Release(ctx context.Context) {
	if cl.token == "" {
		return
	}
	_ = releaseScript.Run(ctx, cl.store.rdb, []string{cl.key}, cl.token).Err()
	cl.token = ""
}

// Held reports whether the claim has not been committed, failed or released yet.
func (cl *Claim) Held() bool { return cl.token != "" }
