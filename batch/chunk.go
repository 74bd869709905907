package batch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/payoutfile"
	"github.com/masspayout/masspayout/tasks"
	"github.com/redis/go-redis/v9"
)

// Outcome is one item's latest known status. Status is an iyzico item status or one of ours
// (PENDING, ERROR, UNKNOWN).
type Outcome struct {
	Status     string
	Code       string
	Message    string
	Ref        string // iyzico referenceCode
	Commission string // decimal text of commissionAmount
}

// Chunk is one chunk as read from the ledger.
type Chunk struct {
	Batch        string
	Seq          int
	State        string
	Version      int
	Body         []byte // the exact init request body; every attempt sends these bytes
	Rows         []int  // the file row of each item, in body order
	Sent         bool   // an init attempt may have reached iyzico
	RequestID    string
	Attempts     int
	LastError    string
	PayoutStatus string    // iyzico's massPayoutStatus, last seen
	Outcomes     []Outcome // one per item, in body order; all PENDING until first recorded
	AuthSent     bool      // an auth attempt may have reached iyzico
	AuthorizedAt time.Time // when iyzico accepted auth (zero before)
	Polls        int       // polls scheduled so far
	Updated      time.Time

	reportItems string       // ReportItems in the ledger's compact form
	items       []ReportItem // reportItems decoded, once
}

// ReportItems returns what the report shows of each item (recipient info masked). The slice is
// the chunk's own: read it, do not change it.
func (c *Chunk) ReportItems() ([]ReportItem, error) {
	if c.items != nil || len(c.Rows) == 0 {
		return c.items, nil
	}
	items, err := decodeReportItems(c.reportItems, len(c.Rows))
	if err != nil {
		return nil, fmt.Errorf("chunk %s: %w", c.ExternalID(), err)
	}
	c.items = items
	return items, nil
}

// ExternalID is the chunk's iyzico externalId.
func (c *Chunk) ExternalID() string { return tasks.ChunkExternalID(c.Batch, c.Seq) }

// Statuses returns each item's status (PENDING before any outcome was recorded).
func (c *Chunk) Statuses() []string {
	out := make([]string, len(c.Rows))
	for i := range out {
		out[i] = RowPending
		if i < len(c.Outcomes) && c.Outcomes[i].Status != "" {
			out[i] = c.Outcomes[i].Status
		}
	}
	return out
}

// GetChunk reads one chunk, body included. A missing chunk yields ErrNotFound.
func (s *Store) GetChunk(ctx context.Context, batchID string, seq int) (*Chunk, error) {
	cs, err := s.readChunks(ctx, batchID, seq, seq, true)
	if err != nil {
		return nil, err
	}
	return cs[0], nil
}

// chunkFields are the chunk hash fields a read returns.
var chunkFields = []string{"state", "version", "sent", "request_id", "attempts", "last_error", "payout_status",
	"auth_sent", "polls", "updated", "authorized_at", "rows", "outcomes"}

// getChunks reads chunks from..to (inclusive) without their bodies in one round trip.
func (s *Store) getChunks(ctx context.Context, batchID string, from, to int) ([]*Chunk, error) {
	return s.readChunks(ctx, batchID, from, to, false)
}

// readChunks reads chunks from..to (inclusive) in one round trip: each chunk's hash, its report
// items and, withBody, its body.
func (s *Store) readChunks(ctx context.Context, batchID string, from, to int, withBody bool) ([]*Chunk, error) {
	type read struct {
		hash        *redis.SliceCmd
		items, body *redis.StringCmd
	}
	pipe := s.rdb.Pipeline()
	reads := make([]read, 0, to-from+1)
	for seq := from; seq <= to; seq++ {
		r := read{hash: pipe.HMGet(ctx, chunkKey(batchID, seq), chunkFields...), items: pipe.Get(ctx, chunkItemsKey(batchID, seq))}
		if withBody {
			r.body = pipe.Get(ctx, chunkBodyKey(batchID, seq))
		}
		reads = append(reads, r)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("batch %s: read chunks %d-%d: %w", batchID, from, to, err)
	}
	out := make([]*Chunk, len(reads))
	for i, r := range reads {
		c, err := parseChunk(batchID, from+i, chunkFields, r.hash.Val())
		if err != nil {
			return nil, err
		}
		// The chunk's hash, items and body are stored together (putChunk), so one without the
		// others is a damaged ledger.
		if r.items.Err() != nil || (withBody && r.body.Err() != nil) {
			return nil, fmt.Errorf("chunk %s: items or body missing from the ledger: %w", c.ExternalID(), ErrNotFound)
		}
		c.reportItems = r.items.Val()
		if withBody {
			c.Body = []byte(r.body.Val())
		}
		out[i] = c
	}
	return out, nil
}

func parseChunk(batchID string, seq int, fields []string, vals []any) (*Chunk, error) {
	var err error
	f := make(map[string]string, len(fields))
	for i, v := range vals {
		if v, ok := v.(string); ok {
			f[fields[i]] = v
		}
	}
	if f["state"] == "" {
		return nil, fmt.Errorf("chunk %s: %w", tasks.ChunkExternalID(batchID, seq), ErrNotFound)
	}
	c := &Chunk{
		Batch:        batchID,
		Seq:          seq,
		State:        f["state"],
		Version:      atoi(f["version"]),
		Sent:         f["sent"] == "1",
		RequestID:    f["request_id"],
		Attempts:     atoi(f["attempts"]),
		LastError:    f["last_error"],
		PayoutStatus: f["payout_status"],
		AuthSent:     f["auth_sent"] == "1",
		Polls:        atoi(f["polls"]),
	}
	c.Updated, _ = time.Parse(time.RFC3339Nano, f["updated"])
	c.AuthorizedAt, _ = time.Parse(time.RFC3339Nano, f["authorized_at"])
	c.Rows, err = decodeRows(f["rows"])
	if err != nil {
		return nil, fmt.Errorf("chunk %s: rows: %w", c.ExternalID(), err)
	}
	if c.Outcomes, err = decodeOutcomes(f["outcomes"], len(c.Rows)); err != nil {
		return nil, fmt.Errorf("chunk %s: %w", c.ExternalID(), err)
	}
	return c, nil
}

func encodeRows(rows []int) string {
	b := make([]byte, 0, len(rows)*7)
	for i, r := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(r), 10)
	}
	return string(b)
}

func decodeRows(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// BeginInitAttempt counts an init attempt and records, before any call, that it may reach iyzico:
// every later attempt then asks iyzico first (retrieve by externalMassPayoutId) instead of sending
// blindly. c.Sent keeps what was recorded before, so this attempt knows whether to ask first.
func (s *Store) BeginInitAttempt(ctx context.Context, c *Chunk) (attempt int, err error) {
	key := chunkKey(c.Batch, c.Seq)
	pipe := s.rdb.TxPipeline()
	n := pipe.HIncrBy(ctx, key, "attempts", 1)
	pipe.HSet(ctx, key, "sent", "1")
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("chunk %s: begin attempt: %w", c.ExternalID(), err)
	}
	c.Attempts = int(n.Val())
	return c.Attempts, nil
}

// MarkAuthSent records, before an auth call, that the call may reach iyzico.
func (s *Store) MarkAuthSent(ctx context.Context, c *Chunk) error {
	if err := s.rdb.HSet(ctx, chunkKey(c.Batch, c.Seq), "auth_sent", "1").Err(); err != nil {
		return fmt.Errorf("chunk %s: mark auth sent: %w", c.ExternalID(), err)
	}
	return nil
}

// NextPoll counts one more scheduled poll of the chunk and returns its number (1 for the first).
func (s *Store) NextPoll(ctx context.Context, c *Chunk) (int, error) {
	n, err := s.rdb.HIncrBy(ctx, chunkKey(c.Batch, c.Seq), "polls", 1).Result()
	if err != nil {
		return 0, fmt.Errorf("chunk %s: count poll: %w", c.ExternalID(), err)
	}
	c.Polls = int(n)
	return int(n), nil
}

// SetLastError records the last error of a chunk without changing its state.
func (s *Store) SetLastError(ctx context.Context, c *Chunk, msg string) error {
	return s.rdb.HSet(ctx, chunkKey(c.Batch, c.Seq), "last_error", msg).Err()
}

// Change is a state change of a chunk. Empty string fields are left as they are.
type Change struct {
	State        string
	Outcomes     []Outcome // nil keeps the outcomes; else one per item
	RequestID    string
	PayoutStatus string
	LastError    string
	AuthorizedAt time.Time // set when auth was accepted
}

// applyScript changes a chunk if its version is still the one read (compare-and-set), applies the
// row and amount count deltas computed from the old and new outcomes, and keeps the batch's
// init_done and settled counters. So a change is counted once, however often a handler runs.
//
// KEYS: chunk, batch, counts. ARGV: version, new state, now, N, N field/value pairs for the chunk
// hash, then field/delta pairs for the counts hash.
// Returns {new version, init_done, settled, chunks_total, submit_done}, or {-1} on a version
// conflict, {-2} when the chunk is missing.
var applyScript = redis.NewScript(`
local v = redis.call('HGET', KEYS[1], 'version')
if not v then return {-2} end
if v ~= ARGV[1] then return {-1} end
local old = redis.call('HGET', KEYS[1], 'state')
local new = ARGV[2]
local settled = {DONE=true, ERROR=true, UNKNOWN=true, CANCELED=true}
local nv = tonumber(v) + 1
redis.call('HSET', KEYS[1], 'state', new, 'version', nv, 'updated', ARGV[3])
local n = tonumber(ARGV[4])
local i = 5
for j = 1, n do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i+1])
  i = i + 2
end
while i <= #ARGV do
  redis.call('HINCRBY', KEYS[3], ARGV[i], ARGV[i+1])
  i = i + 2
end
if old == 'PENDING' and new ~= 'PENDING' then redis.call('HINCRBY', KEYS[2], 'init_done', 1) end
if old ~= 'PENDING' and new == 'PENDING' then redis.call('HINCRBY', KEYS[2], 'init_done', -1) end
if settled[new] and not settled[old] then redis.call('HINCRBY', KEYS[2], 'settled', 1) end
if settled[old] and not settled[new] then redis.call('HINCRBY', KEYS[2], 'settled', -1) end
redis.call('HSET', KEYS[2], 'updated', ARGV[3])
local b = redis.call('HMGET', KEYS[2], 'init_done', 'settled', 'chunks_total', 'submit_done')
return {nv, tonumber(b[1] or 0), tonumber(b[2] or 0), tonumber(b[3] or 0), tonumber(b[4] or 0)}
`)

// Apply changes chunk c as read (compare-and-set on c.Version) and returns the batch's progress.
// When the chunk changed since it was read it returns ErrVersionConflict: read it again and
// decide again. On success c reflects the change.
func (s *Store) Apply(ctx context.Context, c *Chunk, ch Change) (Progress, error) {
	if ch.Outcomes != nil && len(ch.Outcomes) != len(c.Rows) {
		return Progress{}, fmt.Errorf("chunk %s: %d outcomes for %d items", c.ExternalID(), len(ch.Outcomes), len(c.Rows))
	}
	now := s.now().UTC().Format(time.RFC3339Nano)
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
	if !ch.AuthorizedAt.IsZero() {
		fields = append(fields, "authorized_at", ch.AuthorizedAt.UTC().Format(time.RFC3339Nano))
	}
	args := []any{strconv.Itoa(c.Version), ch.State, now, len(fields) / 2}
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
	res, err := applyScript.Run(ctx, s.rdb, []string{chunkKey(c.Batch, c.Seq), batchKey(c.Batch), countsKey(c.Batch)}, args...).Int64Slice()
	if err != nil {
		return Progress{}, fmt.Errorf("chunk %s: apply %s: %w", c.ExternalID(), ch.State, err)
	}
	switch res[0] {
	case -1:
		return Progress{}, fmt.Errorf("chunk %s: %w", c.ExternalID(), ErrVersionConflict)
	case -2:
		return Progress{}, fmt.Errorf("chunk %s: %w", c.ExternalID(), ErrNotFound)
	}
	c.Version = int(res[0])
	c.State = ch.State
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
	if !ch.AuthorizedAt.IsZero() {
		c.AuthorizedAt = ch.AuthorizedAt
	}
	return Progress{InitDone: int(res[1]), Settled: int(res[2]), ChunksTotal: int(res[3]), SubmitDone: res[4] == 1}, nil
}

// countDeltas returns the counts-hash deltas (n:<STATUS> rows, m:<STATUS>:<CUR> minor units) of
// moving c's items from their current statuses to the new outcomes.
func countDeltas(c *Chunk, next []Outcome) (map[string]int64, error) {
	items, err := c.ReportItems()
	if err != nil {
		return nil, err
	}
	old := c.Statuses()
	type move struct{ from, to, currency string }
	type total struct{ rows, minor int64 }
	moves := map[move]*total{} // a chunk's items make few distinct moves: sum per move first
	for i, it := range items {
		from, to := old[i], next[i].Status
		if from == to {
			continue
		}
		// The stored amount has exactly the currency's minor-unit digits, so its digits are the
		// amount in minor units.
		minor, scale, ok := parseUnits(it.Amount)
		if want, known := payoutfile.MinorUnits(it.Currency); !ok || !known || scale != want {
			return nil, fmt.Errorf("chunk %s item %d: stored amount %q %s is not in minor units", c.ExternalID(), i, it.Amount, it.Currency)
		}
		m := move{from, to, it.Currency}
		t := moves[m]
		if t == nil {
			t = &total{}
			moves[m] = t
		}
		t.rows++
		t.minor += minor
	}
	d := map[string]int64{}
	for m, t := range moves {
		d["n:"+m.from] -= t.rows
		d["n:"+m.to] += t.rows
		d["m:"+m.from+":"+m.currency] -= t.minor
		d["m:"+m.to+":"+m.currency] += t.minor
	}
	return d, nil
}

// minorUnits converts an amount to integer minor units of its currency. Amounts were validated to
// have no more decimals than the currency allows, so this is exact; anything else is an error.
func minorUnits(a iyzico.Amount) (int64, error) {
	scale, ok := payoutfile.MinorUnits(a.Currency)
	if !ok {
		return 0, fmt.Errorf("unknown currency %q", a.Currency)
	}
	shifted := a.Value.Shift(scale)
	if !shifted.Equal(shifted.Truncate(0)) || !shifted.IsInteger() {
		return 0, fmt.Errorf("amount %s has more than %d decimals", a.Value, scale)
	}
	return shifted.IntPart(), nil
}

// ChunkStates counts a batch's stored chunks per state.
func (s *Store) ChunkStates(ctx context.Context, batchID string) (map[string]int, error) {
	n, err := s.rdb.HGet(ctx, batchKey(batchID), "chunks_seen").Int()
	if err != nil {
		return nil, wrapNotFound("batch "+batchID, err)
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, n)
	for seq := 1; seq <= n; seq++ {
		cmds[seq-1] = pipe.HGet(ctx, chunkKey(batchID, seq), "state")
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("batch %s: read chunk states: %w", batchID, err)
	}
	out := map[string]int{}
	for _, c := range cmds {
		out[c.Val()]++
	}
	return out, nil
}
