package batch

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/payoutfile"
	"github.com/masspayout/masspayout/tasks"
	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"
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
	Body         []byte // the exact init request body, every attempt sends these bytes; nil once iyzico holds the payout
	Rows         []int  // the file row of each item, in body order
	Sent         bool   // an init attempt may have reached iyzico
	RequestID    string // iyzico's requestId; once recorded it never changes
	Attempts     int    // failed attempts of the current step (the retry budget)
	LastError    string
	PayoutStatus string    // iyzico's massPayoutStatus, last seen
	Outcomes     []Outcome // one per item, in body order; all PENDING until first recorded
	Approved     string    // the approval that released the chunk for auth ("" none, "auto")
	AuthorizedAt time.Time // when the chunk entered AUTHORIZED (zero before)
	Polls        int       // polls scheduled so far
	Reconciles   int       // janitor reconciles of an UNKNOWN chunk so far
	ClaimStep    string    // the step holding a live claim, if any
	ClaimUntil   time.Time // when that claim expires
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
	"approved", "polls", "reconciles", "claim_step", "claim_until", "updated", "authorized_at", "rows", "outcomes"}

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
		// The chunk's hash, items and body are stored together (putChunk), and the body is
		// deleted once iyzico holds the payout: anything else missing is a damaged ledger.
		needBody := c.State == ChunkPending || (c.State == ChunkUnknown && c.RequestID == "")
		if r.items.Err() != nil || (withBody && needBody && r.body.Err() != nil) {
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
		Approved:     f["approved"],
		Polls:        atoi(f["polls"]),
		Reconciles:   atoi(f["reconciles"]),
	}
	if ms, err := strconv.ParseInt(f["claim_until"], 10, 64); err == nil {
		c.ClaimStep, c.ClaimUntil = f["claim_step"], time.UnixMilli(ms)
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
		if t.minor > math.MaxInt64-minor {
			return nil, fmt.Errorf("chunk %s: amounts too large to count in minor units", c.ExternalID())
		}
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

var maxMinorUnits = decimal.NewFromInt(math.MaxInt64)

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
	if shifted.Sign() < 0 || shifted.GreaterThan(maxMinorUnits) {
		return 0, fmt.Errorf("amount %s %s is beyond what the ledger counts (%s minor units at most)", a.Value, a.Currency, maxMinorUnits)
	}
	return shifted.IntPart(), nil
}
