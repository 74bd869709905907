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
	// AllowRepeat pays rows that another batch paid or is paying (see repeat.go) again; the
	// audit names the batches and counts the rows.
	AllowRepeat bool `json:"allow_repeat,omitempty"`
}

// Batch is a batch record as read from the ledger.
type Batch struct {
	ID string
	// Status is derived from the batch's chunks (DeriveStatus); Head leaves it empty.
	Status      string
	Options     Options
	ContentHash string
	Source      string // the file name given at submit, for display only
	Submitter   string
	Created     time.Time
	Updated     time.Time

	SubmitDone   bool
	SubmitFailed bool // the submission stopped before it completed and nothing was sent
	Rows         int  // rows in the file
	Valid        int  // rows put into chunks
	Rejected     int  // rows that failed validation
	ChunksTotal  int  // known once SubmitDone
	ChunksSeen   int  // chunks stored so far
	// Chunks counts the chunks per state; InitWaiting those in INIT that await an approval.
	Chunks      map[string]int
	InitWaiting int
	InitDone    int // chunks with their init outcome (not PENDING)
	Settled     int // chunks needing no more work (DONE, ERROR, CANCELED)

	// Counts holds rows per status; Amounts holds amounts per status and currency. Both include
	// REJECTED rows (amounts of rejected rows whose amount could be read).
	Counts  map[string]int
	Amounts map[string]map[string]decimal.Decimal

	AutoApprove     bool      // APPROVAL=auto: each chunk is approved when it reaches INIT
	Approvals       int       // approvals recorded (see Approve)
	ApprovedBy      string    // who approved last
	ApprovedAt      time.Time // when
	CancelRequested bool
	CanceledBy      string
	ReportPath      string
	ReportStatus    string // the batch status when the report at ReportPath was written
	// Final: finalize recorded the batch's final status (FinalAs) and started the ledger's expiry.
	Final   bool
	FinalAs string
	// CallbackDelivered: the final callback of the current generation was accepted.
	CallbackDelivered bool
	// Reopened is the generation of the batch's final outcome: 0 at first, and one more each time
	// reconcile changed a batch that was final. Its final callback is event <batch>:final, then
	// <batch>:final:r<Reopened>.
	Reopened int
}

// Progress is a batch's position, as returned by every chunk commit.
type Progress struct {
	SubmitDone  bool
	ChunksTotal int
	// Chunks per non-settled state; InitWaiting counts the chunks in INIT awaiting approval.
	Pending, Init, Authorized, Unknown, InitWaiting int
}

// InitPhaseDone reports whether every chunk has its init outcome.
func (p Progress) InitPhaseDone() bool { return p.SubmitDone && p.Pending == 0 }

// Quiet reports whether no chunk has work of its own queued: every chunk is settled, UNKNOWN, or
// in INIT waiting for an approval. The batch's status then changes only through a person or a
// reconcile.
func (p Progress) Quiet() bool {
	return p.SubmitDone && p.Pending == 0 && p.Authorized == 0 && p.Init == p.InitWaiting
}

// Progress returns the batch's progress counters.
func (b *Batch) Progress() Progress {
	return Progress{
		SubmitDone: b.SubmitDone, ChunksTotal: b.ChunksTotal,
		Pending: b.Chunks[ChunkPending], Init: b.Chunks[ChunkInit], Authorized: b.Chunks[ChunkAuthorized],
		Unknown: b.Chunks[ChunkUnknown], InitWaiting: b.InitWaiting,
	}
}

// CallbackEvent is the ID of the batch's final callback in its current generation.
func (b *Batch) CallbackEvent() string {
	if b.Reopened > 0 {
		return b.ID + ":final:r" + strconv.Itoa(b.Reopened)
	}
	return b.ID + ":final"
}

// Get reads a batch with its counts and amounts, and derives its status. A missing batch yields
// ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (*Batch, error) {
	return s.get(ctx, id, true)
}

// Head reads a batch without its counts and amounts (Counts and Amounts hold only REJECTED, and
// Status is empty): what the handlers need after each chunk, cheaply.
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
		ID:           id,
		ContentHash:  f["content_hash"],
		Source:       f["source"],
		Submitter:    f["submitter"],
		SubmitDone:   f["submit_done"] == "1",
		SubmitFailed: f["submit_failed"] == "1",
		Rows:         atoi(f["rows"]),
		Valid:        atoi(f["valid"]),
		Rejected:     atoi(f["rejected"]),
		ChunksTotal:  atoi(f["chunks_total"]),
		ChunksSeen:   atoi(f["chunks_seen"]),
		Chunks:       map[string]int{},
		InitWaiting:  atoi(f["init_waiting"]),
		AutoApprove:  f["auto_approve"] == "1",
		Approvals:    atoi(f["approvals"]),
		ApprovedBy:   f["approved_by"],
		ReportPath:   f["report_path"],
		ReportStatus: f["report_status"],
		Final:        f["final"] == "1",
		FinalAs:      f["final_status"],
		Reopened:     atoi(f["reopened"]),

		CancelRequested: f["cancel_requested"] == "1",
		CanceledBy:      f["canceled_by"],
		Counts:          map[string]int{},
		Amounts:         map[string]map[string]decimal.Decimal{},
	}
	b.CallbackDelivered = f["callback_gen"] != "" && atoi(f["callback_gen"]) == b.Reopened+1
	for _, st := range ChunkStatesAll {
		if n := atoi(f["cs:"+st]); n != 0 {
			b.Chunks[st] = n
		}
	}
	b.InitDone = b.ChunksSeen - b.Chunks[ChunkPending]
	b.Settled = b.Chunks[ChunkDone] + b.Chunks[ChunkError] + b.Chunks[ChunkCanceled]
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
	if withCounts {
		b.Status = DeriveStatus(StatusInputs{
			SubmitDone: b.SubmitDone, SubmitFailed: b.SubmitFailed, CancelRequested: b.CancelRequested,
			Chunks: b.Chunks, InitWaiting: b.InitWaiting, Rows: b.Rows, RowCounts: b.Counts,
		})
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

// SetReportPath records where the batch's report was written and the status it reflects.
func (s *Store) SetReportPath(ctx context.Context, id, path, status string) error {
	return s.rdb.HSet(ctx, batchKey(id), "report_path", path, "report_status", status).Err()
}

// keys lists every ledger key of a batch (not the index).
func (s *Store) keys(b *Batch) []string {
	keys := []string{batchKey(b.ID), countsKey(b.ID), auditKey(b.ID), repeatsKey(b.ID)}
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
	// Via is how the person acted (ContextWithVia): "cli, OS user root", "api token ops", ….
	Via string `json:"via,omitempty"`
}

type viaKey struct{}

// ContextWithVia returns ctx carrying how the person behind the next ledger changes acts (the
// command line and its OS user, an API token, the dashboard): the audit list records it beside
// the person's name.
func ContextWithVia(ctx context.Context, via string) context.Context {
	return context.WithValue(ctx, viaKey{}, via)
}

// Audit appends an entry to the batch's audit list.
func (s *Store) Audit(ctx context.Context, id, who, action, detail string) error {
	via, _ := ctx.Value(viaKey{}).(string)
	b, err := json.Marshal(AuditEntry{At: s.now().UTC(), Who: who, Action: action, Detail: detail, Via: via})
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
