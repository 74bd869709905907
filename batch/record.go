package batch

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/masspayout/masspayout/payoutfile"
	"github.com/masspayout/masspayout/tasks"
	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"
)

// Options are the submission options of a batch. Together with the file's content hash they are
// the batch's fingerprint: a resubmission under the same batch ID must match both.
type Options struct {
	Format         string   `json:"format"`
	Purpose        string   `json:"purpose,omitempty"`
	ConversationID string   `json:"conversation_id,omitempty"`
	DecimalComma   bool     `json:"decimal_comma,omitempty"`
	ChunkSize      int      `json:"chunk_size"`
	CallbackURL    string   `json:"callback_url,omitempty"`
	Currencies     []string `json:"currencies,omitempty"`
}

// Batch is a batch record as read from the ledger.
type Batch struct {
	ID          string
	Status      string
	Options     Options
	ContentHash string
	Source      string // the file name given at submit, for display only
	Submitter   string
	Created     time.Time
	Updated     time.Time

	SubmitDone  bool
	Rows        int // rows in the file
	Valid       int // rows put into chunks
	Rejected    int // rows that failed validation
	ChunksTotal int // known once SubmitDone
	ChunksSeen  int // chunks stored so far
	InitDone    int // chunks with their init outcome
	Settled     int // chunks needing no more work

	// Counts holds rows per status; Amounts holds amounts per status and currency. Both include
	// REJECTED rows (amounts of rejected rows whose amount could be read).
	Counts  map[string]int
	Amounts map[string]map[string]decimal.Decimal

	ApprovedBy        string
	ApprovedAt        time.Time
	CancelRequested   bool
	CanceledBy        string
	ReportPath        string
	ReportStatus      string // the batch status when the report at ReportPath was written
	Final             bool   // the batch has its final status
	CallbackDelivered bool   // the final callback was accepted by the receiver
	// Generation counts reconcile runs. Tasks enqueued after one carry ":r<n>" in their IDs, since
	// the IDs of earlier tasks stay taken while asynq retains them.
	Generation int
	// Reopened is the reconcile generation that last reopened the batch after it was final (0:
	// never). Its next final callback is a new event: <batch>:final:r<Reopened>.
	Reopened int
}

// TaskOptions returns base with the batch's task ID suffix for its current generation.
func (b *Batch) TaskOptions(base tasks.Options) tasks.Options {
	if b.Generation > 0 {
		base.IDSuffix = ":r" + strconv.Itoa(b.Generation)
	}
	return base
}

// Progress is a batch's position, as returned by every chunk change.
type Progress struct {
	SubmitDone  bool
	ChunksTotal int
	InitDone    int
	Settled     int
}

// InitPhaseDone reports whether every chunk has its init outcome.
func (p Progress) InitPhaseDone() bool { return p.SubmitDone && p.InitDone >= p.ChunksTotal }

// AllSettled reports whether every chunk needs no more work.
func (p Progress) AllSettled() bool { return p.SubmitDone && p.Settled >= p.ChunksTotal }

// Progress returns the batch's progress counters.
func (b *Batch) Progress() Progress {
	return Progress{SubmitDone: b.SubmitDone, ChunksTotal: b.ChunksTotal, InitDone: b.InitDone, Settled: b.Settled}
}

// Get reads a batch with its counts and amounts. A missing batch yields ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (*Batch, error) {
	return s.get(ctx, id, true)
}

// Head reads a batch without its counts and amounts (Counts and Amounts hold only REJECTED): what
// the handlers need after each chunk, cheaply.
func (s *Store) Head(ctx context.Context, id string) (*Batch, error) {
	return s.get(ctx, id, false)
}

func (s *Store) get(ctx context.Context, id string, withCounts bool) (*Batch, error) {
	pipe := s.rdb.Pipeline()
	h := pipe.HGetAll(ctx, batchKey(id))
	c := &redis.MapStringStringCmd{}
	if withCounts {
		c = pipe.HGetAll(ctx, countsKey(id))
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("read batch %s: %w", id, err)
	}
	f := h.Val()
	if len(f) == 0 {
		return nil, fmt.Errorf("batch %s: %w", id, ErrNotFound)
	}
	b := &Batch{
		ID:          id,
		Status:      f["status"],
		ContentHash: f["content_hash"],
		Source:      f["source"],
		Submitter:   f["submitter"],
		SubmitDone:  f["submit_done"] == "1",
		Rows:        atoi(f["rows"]),
		Valid:       atoi(f["valid"]),
		Rejected:    atoi(f["rejected"]),
		ChunksTotal: atoi(f["chunks_total"]),
		ChunksSeen:  atoi(f["chunks_seen"]),
		InitDone:    atoi(f["init_done"]),
		Settled:     atoi(f["settled"]),
		ApprovedBy:  f["approved_by"],
		ReportPath:  f["report_path"],

		ReportStatus: f["report_status"],
		Final:        f["final"] == "1",

		CallbackDelivered: f["callback_delivered"] == "1",
		CancelRequested:   f["cancel_requested"] == "1",
		Generation:        atoi(f["reconciles"]),
		Reopened:          atoi(f["reopened"]),
		CanceledBy:        f["canceled_by"],
		Counts:            map[string]int{},
		Amounts:           map[string]map[string]decimal.Decimal{},
	}
	b.Created, _ = time.Parse(time.RFC3339Nano, f["created"])
	b.Updated, _ = time.Parse(time.RFC3339Nano, f["updated"])
	b.ApprovedAt, _ = time.Parse(time.RFC3339Nano, f["approved_at"])
	if err := json.Unmarshal([]byte(f["options"]), &b.Options); err != nil {
		return nil, fmt.Errorf("batch %s: options: %w", id, err)
	}
	for k, v := range c.Val() {
		n, _ := strconv.ParseInt(v, 10, 64)
		if n == 0 {
			continue
		}
		switch {
		case strings.HasPrefix(k, "n:"):
			b.Counts[k[2:]] += int(n)
		case strings.HasPrefix(k, "m:"):
			status, cur, ok := strings.Cut(k[2:], ":")
			if !ok {
				continue
			}
			scale, _ := payoutfile.MinorUnits(cur)
			addAmount(b.Amounts, status, cur, decimal.New(n, -scale))
		}
	}
	if b.Rejected > 0 {
		b.Counts[RowRejected] = b.Rejected
	}
	var rejAmounts map[string]decimal.Decimal
	if v := f["rejected_amounts"]; v != "" {
		if err := json.Unmarshal([]byte(v), &rejAmounts); err != nil {
			return nil, fmt.Errorf("batch %s: rejected amounts: %w", id, err)
		}
	}
	for cur, amt := range rejAmounts {
		addAmount(b.Amounts, RowRejected, cur, amt)
	}
	return b, nil
}

func addAmount(m map[string]map[string]decimal.Decimal, status, cur string, amt decimal.Decimal) {
	if m[status] == nil {
		m[status] = map[string]decimal.Decimal{}
	}
	m[status][cur] = m[status][cur].Add(amt)
}

// List returns up to limit batch IDs, newest first, skipping offset.
func (s *Store) List(ctx context.Context, offset, limit int) ([]string, error) {
	ids, err := s.rdb.ZRevRange(ctx, indexKey, int64(offset), int64(offset+limit-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("list batches: %w", err)
	}
	return ids, nil
}

// SetStatus sets a batch's status; final marks it final and starts the ledger's expiry clock.
func (s *Store) SetStatus(ctx context.Context, id, status string, final bool) error {
	now := s.now().UTC().Format(time.RFC3339Nano)
	fields := []any{"status", status, "updated", now}
	if final {
		fields = append(fields, "final", "1")
	}
	if err := s.rdb.HSet(ctx, batchKey(id), fields...).Err(); err != nil {
		return fmt.Errorf("batch %s: set status %s: %w", id, status, err)
	}
	if final {
		return s.expire(ctx, id)
	}
	return nil
}

// SetReportPath records where the batch's report was written and the status it reflects.
func (s *Store) SetReportPath(ctx context.Context, id, path, status string) error {
	return s.rdb.HSet(ctx, batchKey(id), "report_path", path, "report_status", status).Err()
}

// expire starts the ledger TTL on every key of a final batch.
func (s *Store) expire(ctx context.Context, id string) error {
	if s.ttl <= 0 {
		return nil
	}
	b, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	pipe := s.rdb.Pipeline()
	for _, k := range s.keys(b) {
		pipe.Expire(ctx, k, s.ttl)
	}
	if k := s.contentKeyOf(ctx, b); k != "" {
		pipe.Expire(ctx, k, s.ttl) // the file may be submitted again once its batch is gone
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("batch %s: expire ledger: %w", id, err)
	}
	return nil
}

// SetCallbackDelivered records that the batch's final callback was delivered.
func (s *Store) SetCallbackDelivered(ctx context.Context, id string) error {
	return s.rdb.HSet(ctx, batchKey(id), "callback_delivered", "1").Err()
}

// keys lists every ledger key of a batch (not the index).
func (s *Store) keys(b *Batch) []string {
	keys := []string{batchKey(b.ID), countsKey(b.ID), auditKey(b.ID)}
	for seq := 1; seq <= b.ChunksSeen; seq++ {
		keys = append(keys, chunkKey(b.ID, seq), chunkBodyKey(b.ID, seq), chunkItemsKey(b.ID, seq))
	}
	for p := 0; p*rejectedPageSize < b.Rejected; p++ {
		keys = append(keys, rejectedKey(b.ID, p))
	}
	return keys
}

// AuditEntry is one line of a batch's audit list.
type AuditEntry struct {
	At     time.Time `json:"at"`
	Who    string    `json:"who"`
	Action string    `json:"action"`
	Detail string    `json:"detail,omitempty"`
}

// Audit appends an entry to the batch's audit list.
func (s *Store) Audit(ctx context.Context, id, who, action, detail string) error {
	b, err := json.Marshal(AuditEntry{At: s.now().UTC(), Who: who, Action: action, Detail: detail})
	if err != nil {
		return err
	}
	if err := s.rdb.RPush(ctx, auditKey(id), b).Err(); err != nil {
		return fmt.Errorf("batch %s: audit %s: %w", id, action, err)
	}
	return nil
}

// AuditLog returns a batch's audit entries, oldest first.
func (s *Store) AuditLog(ctx context.Context, id string) ([]AuditEntry, error) {
	raw, err := s.rdb.LRange(ctx, auditKey(id), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("batch %s: read audit: %w", id, err)
	}
	out := make([]AuditEntry, 0, len(raw))
	for _, r := range raw {
		var e AuditEntry
		if err := json.Unmarshal([]byte(r), &e); err == nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// StatusesOf lists the statuses present in counts, in a stable order for display.
func StatusesOf(counts map[string]int) []string {
	out := make([]string, 0, len(counts))
	for s := range counts {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		return statusRank(out[i]) < statusRank(out[j]) || (statusRank(out[i]) == statusRank(out[j]) && out[i] < out[j])
	})
	return out
}

var statusOrder = []string{"SUCCESS", "DEPOSIT_SUCCESS", "DEPOSIT_FAIL", "FAILED", "PROCESSING", "QUEUED", "INIT", "PENDING", "INVALID", "REJECTED", "ERROR", "UNKNOWN", "MASS_PAYOUT_CANCELED"}

func statusRank(s string) int {
	for i, v := range statusOrder {
		if v == s {
			return i
		}
	}
	return len(statusOrder)
}
