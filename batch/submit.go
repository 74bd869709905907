package batch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/internal/identity"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/payoutfile"
	"github.com/masspayout/masspayout/tasks"
	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"
)

// Enqueuer puts tasks on the queue; *asynq.Client satisfies it.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Enqueue enqueues t, treating asynq.ErrTaskIDConflict as "already enqueued" (success): every task
// of ours has a deterministic TaskID, so a conflict means the same step is already on the queue.
func Enqueue(ctx context.Context, q Enqueuer, t *asynq.Task) error {
	_, err := q.EnqueueContext(ctx, t)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue %s: %w", t.Type(), err)
	}
	return nil
}

// File is a payout file that can be read twice (once to hash it, once to stream its rows).
// *os.File and *bytes.Reader satisfy it.
type File interface {
	io.ReadSeeker
	io.ReaderAt
}

// SubmitRequest is one submission.
type SubmitRequest struct {
	File      File
	Source    string // file name, for display
	BatchID   string // "" derives one: the JSON file's externalId, else "mp-" + 16 hex of the file's SHA-256
	Options   Options
	Limits    payoutfile.Options // MaxFileBytes, MaxFieldBytes, MaxRows (format options come from Options)
	Submitter string             // who submits: normalised (internal/identity), recorded in the audit list
	// AutoApprove (APPROVAL=auto) records the batch as approved by AutoApprover at creation:
	// workers authorize each chunk right after init, and the batch cannot be canceled.
	AutoApprove bool
	// AllowDuplicate lets a file already submitted as another batch be submitted again under a
	// new ID (it is then paid twice); without it Submit refuses with a *DuplicateContentError.
	AllowDuplicate bool
	// Progress, when set, is called every ProgressEvery rows and once at the end.
	Progress func(SubmitProgress)
}

// SubmitProgress reports how far a submission got.
type SubmitProgress struct {
	Rows, Valid, Rejected, Chunks int
	Done                          bool
}

// ProgressEvery is how many rows pass between Progress calls.
const ProgressEvery = 10000

// SubmitResult says what Submit did.
type SubmitResult struct {
	Batch *Batch
	// AlreadySubmitted: the batch existed, fully submitted, with the same content and options;
	// nothing was enqueued or sent.
	AlreadySubmitted bool
	// Resumed: an interrupted submission of the same content and options was completed.
	Resumed bool
}

// ConflictError details an ErrBatchConflict.
type ConflictError struct {
	BatchID string
	What    string // "content" or "options"
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("batch %s was already submitted with different %s; nothing was sent: use a new --batch-id, or resubmit the same file with the same options", e.BatchID, e.What)
}

// Unwrap makes errors.Is(err, ErrBatchConflict) true.
func (e *ConflictError) Unwrap() error { return ErrBatchConflict }

// Submit streams the file through payoutfile, records rejected rows, stores each chunk's init body
// and enqueues one payout:init task per chunk. It is idempotent: the same batch ID with the same
// content and options enqueues nothing new (and completes an interrupted submission); different
// content or options yield a *ConflictError (ErrBatchConflict) before anything is stored.
func (s *Store) Submit(ctx context.Context, req SubmitRequest, q Enqueuer, topts tasks.Options) (*SubmitResult, error) {
	o := req.Options
	// A file paid again on purpose pays its rows again: --allow-duplicate implies --allow-repeat.
	o.AllowRepeat = o.AllowRepeat || req.AllowDuplicate
	if o.ChunkSize < 1 {
		return nil, fmt.Errorf("%w: chunk size %d: must be at least 1", ErrInvalidOptions, o.ChunkSize)
	}
	who, err := identity.Normalize(req.Submitter)
	if err != nil {
		return nil, fmt.Errorf("%w: the submitter's name: %w", ErrInvalidOptions, err)
	}
	req.Submitter = who
	contentHash, err := hashFile(req.File, req.Limits.MaxFileBytes)
	if err != nil {
		return nil, err
	}
	ropts := req.Limits
	ropts.Format = payoutfile.Format(o.Format)
	ropts.DecimalComma = o.DecimalComma
	ropts.Currencies = o.Currencies

	id := req.BatchID
	if ropts.Format == payoutfile.FormatJSON {
		d, err := scanDefaults(req.File, ropts)
		if err != nil {
			return nil, err
		}
		if id == "" {
			id = d.ExternalID
		}
		if o.Purpose == "" {
			o.Purpose = d.Purpose
		}
		if o.ConversationID == "" {
			o.ConversationID = d.ConversationID
		}
	}
	if id == "" {
		id = "mp-" + contentHash[:16]
	}
	// The file may set these (a JSON file's externalId, purpose, conversationId): they are checked
	// as they will be used, whether a flag or the file gave them.
	if !ValidBatchID.MatchString(id) {
		return nil, fmt.Errorf("%w: batch ID %q: use 1 to 64 letters, digits, '.', '_' or '-', with at least one letter or digit", ErrInvalidOptions, id)
	}
	if o.Purpose != "" && !slices.Contains(iyzico.Purposes, o.Purpose) {
		return nil, fmt.Errorf("%w: purpose %q: allowed values are %s", ErrInvalidOptions, o.Purpose, strings.Join(iyzico.Purposes, ", "))
	}
	if err := checkConversationID(o.ConversationID); err != nil {
		return nil, err
	}

	// The file is held by one batch: the same file under another batch ID is refused, since it
	// would pay every row again.
	claimed, duplicateOf := false, ""
	if req.AllowDuplicate {
		if owner, _ := s.rdb.Get(ctx, contentKey(contentHash)).Result(); owner != id {
			duplicateOf = owner
		}
	} else {
		other, c, err := s.claimContent(ctx, contentHash, id)
		if err != nil {
			return nil, err
		}
		if other != "" {
			return nil, &DuplicateContentError{BatchID: id, Existing: other, SHA256: contentHash}
		}
		claimed = c
	}
	created, done, err := s.create(ctx, id, contentHash, o, req)
	if err != nil {
		if claimed {
			s.releaseContent(ctx, contentHash, id)
		}
		return nil, err
	}
	if done {
		b, err := s.Get(ctx, id)
		return &SubmitResult{Batch: b, AlreadySubmitted: true}, err
	}
	res, err := s.submit(ctx, id, contentHash, created, duplicateOf, o, ropts, req, q, topts)
	if err != nil {
		// Nothing stored (an empty or unreadable file, say): say so rather than leave the batch
		// SUBMITTING for ever. A chunk stored means a resumable submission: leave it.
		if b, herr := s.Head(context.WithoutCancel(ctx), id); herr == nil && b.ChunksSeen == 0 && !b.SubmitDone {
			_ = s.MarkSubmitFailed(context.WithoutCancel(ctx), id, "submission stopped before anything was stored: "+err.Error())
		}
		return nil, err
	}
	return res, nil
}

// submit records the submission in the audit list and streams the file into the batch.
func (s *Store) submit(ctx context.Context, id, contentHash string, created bool, duplicateOf string, o Options, ropts payoutfile.Options, req SubmitRequest, q Enqueuer, topts tasks.Options) (*SubmitResult, error) {
	if created {
		if err := s.Audit(ctx, id, req.Submitter, "submitted", fmt.Sprintf("file %s, sha256 %s", req.Source, contentHash)); err != nil {
			return nil, err
		}
		if duplicateOf != "" {
			if err := s.Audit(ctx, id, req.Submitter, "duplicate-allowed", "the same file was submitted as batch "+duplicateOf+"; its rows are paid again"); err != nil {
				return nil, err
			}
		}
		if req.AutoApprove {
			if err := s.Audit(ctx, id, AutoApprover, "approved", "automatic approval: each chunk is authorized right after init"); err != nil {
				return nil, err
			}
		}
	} else if err := s.Audit(ctx, id, req.Submitter, "submit-resumed", "an interrupted submission is being completed"); err != nil {
		return nil, err
	}

	if _, err := req.File.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("batch %s: rewind file: %w", id, err)
	}
	r, err := payoutfile.NewReader(req.File, ropts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	rc, err := s.newRepeatCheck(ctx, id, o.AllowRepeat)
	if err != nil {
		return nil, err
	}
	sp := &splitter{store: s, ctx: ctx, id: id, opts: o, q: q, topts: topts, progress: req.Progress, repeat: rc,
		block: make([]payoutfile.Record, 0, repeatBlock), rejAmounts: map[string]decimal.Decimal{}, total: map[string]int64{}}
	defer sp.drain()      // on an early return, wait for the writes already handed off
	defer sp.stopChecks() // and let the checking goroutine end
	for read := 1; ; read++ {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("batch %s: row %d: %w", id, read, err)
		}
		if err := sp.queue(rec); err != nil {
			return nil, err
		}
	}
	if err := sp.flushBlocks(); err != nil {
		return nil, err
	}
	if err := sp.finish(); err != nil {
		return nil, err
	}
	if len(rc.Repeated) > 0 {
		if err := s.Audit(ctx, id, req.Submitter, "repeat-allowed", repeatedDetail(rc.Repeated)); err != nil {
			return nil, err
		}
	}
	b, err := s.Get(ctx, id)
	return &SubmitResult{Batch: b, Resumed: !created}, err
}

func hashFile(f File, limit int64) (string, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("rewind file: %w", err)
	}
	h := sha256.New()
	var r io.Reader = f
	if limit > 0 {
		r = io.LimitReader(f, limit+1)
	}
	n, err := io.Copy(h, r)
	if err != nil {
		return "", fmt.Errorf("read file: %w", err)
	}
	if limit > 0 && n > limit {
		return "", &payoutfile.FileError{Code: "FILE_TOO_LARGE", Message: fmt.Sprintf("the file is larger than the limit of %d bytes; split it into smaller files or raise MAX_FILE_BYTES", limit)}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// scanDefaults reads a JSON file whole once to learn its batch-level fields (externalId,
// conversationId, purpose), which may come after its items.
func scanDefaults(f File, o payoutfile.Options) (payoutfile.BatchDefaults, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return payoutfile.BatchDefaults{}, fmt.Errorf("rewind file: %w", err)
	}
	r, err := payoutfile.NewReader(f, o)
	if err != nil {
		return payoutfile.BatchDefaults{}, err
	}
	defer r.Close()
	for {
		if _, err := r.Next(); err == io.EOF {
			return r.Defaults(), nil
		} else if err != nil {
			return payoutfile.BatchDefaults{}, err
		}
	}
}

// createScript creates a batch record, or reports on an existing one; a batch whose earlier
// submission failed (SUBMIT_FAILED) is taken up again.
// KEYS: batch. ARGV: content hash, options JSON, source, submitter, now, auto approve (1/0).
// Returns {1} created, {0, submit_done} same fingerprint exists, {-1, what} conflict.
var createScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'content_hash', 'options', 'submit_done', 'submit_failed')
if h[1] then
  if h[1] ~= ARGV[1] then return {-1, 'content'} end
  if h[2] ~= ARGV[2] then return {-1, 'options'} end
  if h[4] == '1' then
    redis.call('HDEL', KEYS[1], 'submit_failed')
    redis.call('PERSIST', KEYS[1])
  end
  return {0, h[3]}
end
redis.call('HSET', KEYS[1], 'status', 'SUBMITTING', 'content_hash', ARGV[1], 'options', ARGV[2],
  'source', ARGV[3], 'submitter', ARGV[4], 'created', ARGV[5], 'updated', ARGV[5], 'submit_done', '0',
  'chunks_seen', '0', 'init_waiting', '0', 'reopened', '0')
if ARGV[6] == '1' then
  redis.call('HSET', KEYS[1], 'auto_approve', '1', 'approved_by', 'APPROVAL=auto', 'approved_at', ARGV[5])
end
return {1, '0'}
`)

func (s *Store) create(ctx context.Context, id, contentHash string, o Options, req SubmitRequest) (created, done bool, err error) {
	optJSON, err := json.Marshal(o)
	if err != nil {
		return false, false, err
	}
	now := s.now().UTC()
	auto := "0"
	if req.AutoApprove {
		auto = "1"
	}
	res, err := createScript.Run(ctx, s.rdb, []string{batchKey(id)}, contentHash, string(optJSON), req.Source, req.Submitter, now.Format(time.RFC3339Nano), auto).Slice()
	if err != nil {
		return false, false, fmt.Errorf("batch %s: create: %w", id, err)
	}
	switch res[0].(int64) {
	case -1:
		return false, false, &ConflictError{BatchID: id, What: res[1].(string)}
	case 0:
		if res[1] != "1" {
			// Resuming: the batch is active again even if a failed submission retired it.
			if err := s.rdb.SAdd(ctx, activeKey, id).Err(); err != nil {
				return false, false, fmt.Errorf("batch %s: index: %w", id, err)
			}
		}
		return false, res[1] == "1", nil
	}
	// Outside the script: these keys have no hash tag (they span batches).
	pipe := s.rdb.Pipeline()
	pipe.ZAddNX(ctx, indexKey, redis.Z{Score: float64(now.UnixMilli()), Member: id})
	pipe.SAdd(ctx, activeKey, id)
	if _, err := pipe.Exec(ctx); err != nil {
		return false, false, fmt.Errorf("batch %s: index: %w", id, err)
	}
	return true, false, nil
}

// RejectedRow is a row that failed validation, as kept in the ledger: recipient info masked.
type RejectedRow struct {
	Row            int    `json:"row"`
	ItemExternalID string `json:"id,omitempty"`
	RecipientType  string `json:"type,omitempty"`
	RecipientInfo  string `json:"info,omitempty"` // masked
	Amount         string `json:"amount,omitempty"`
	Currency       string `json:"cur,omitempty"`
	Code           string `json:"code"`
	Message        string `json:"msg"`
}

// splitter turns the stream of records into stored chunks and rejected pages.
type splitter struct {
	store    *Store
	ctx      context.Context
	id       string
	opts     Options
	q        Enqueuer
	topts    tasks.Options
	progress func(SubmitProgress)
	repeat   *repeatCheck
	block    []payoutfile.Record // records waiting for the cross-batch check
	spare    [][]payoutfile.Record
	checkIn  chan []payoutfile.Record // to the checking goroutine (see queue)
	checkOut chan checkedBlock
	inFlight int // blocks sent and not yet added

	p           SubmitProgress
	items       []iyzico.Item
	rows        []int
	reportItems []byte // the chunk's ReportItems, see appendReportItem
	rejected    []RejectedRow
	rejPage     int
	rejAmounts  map[string]decimal.Decimal
	total       map[string]int64 // valid rows' amounts per currency, in minor units

	writes  chan func() error // to the writer goroutine (see write)
	written chan error
	failed  atomic.Bool
}

// queue collects records into blocks for the cross-batch check (repeat.go). A goroutine checks
// the blocks one after another, in file order, while the next block is read; add takes each
// checked block's records in file order.
func (sp *splitter) queue(rec payoutfile.Record) error {
	if id := rec.Item.ItemExternalID; len(rec.Errors) == 0 && len(id) > len(sp.id)+2 && isGeneratedItemID(sp.id, id) {
		// Another row without an ID would get this one: two items with one itemExternalId.
		rec.Errors = append(rec.Errors, payoutfile.RowError{Row: rec.Row, Line: rec.Line, Column: "item_external_id", Code: payoutfile.CodeReservedID,
			Message: fmt.Sprintf("%sitem_external_id: %q has the form given to rows without an ID (%s-r<row>); use another ID, or leave it empty", rowPrefix(&rec), id, sp.id)})
	}
	sp.block = append(sp.block, rec)
	if len(sp.block) < cap(sp.block) {
		return nil
	}
	sp.sendBlock()
	if sp.inFlight > 1 {
		// One block is checked while the next is read: add the older one.
		return sp.addChecked()
	}
	return nil
}

// checkedBlock is a block back from the check.
type checkedBlock struct {
	recs []payoutfile.Record
	err  error
}

func (sp *splitter) sendBlock() {
	if sp.checkIn == nil {
		in, out := make(chan []payoutfile.Record, 2), make(chan checkedBlock, 2)
		sp.checkIn, sp.checkOut = in, out
		go func() {
			var failed error
			for recs := range in {
				if failed == nil {
					failed = sp.repeat.check(sp.ctx, recs)
				}
				out <- checkedBlock{recs: recs, err: failed}
			}
		}()
	}
	sp.checkIn <- sp.block
	sp.inFlight++
	if n := len(sp.spare); n > 0 {
		sp.block, sp.spare = sp.spare[n-1], sp.spare[:n-1]
	} else {
		sp.block = make([]payoutfile.Record, 0, repeatBlock)
	}
}

// addChecked waits for the oldest block in the check and adds its records.
func (sp *splitter) addChecked() error {
	cb := <-sp.checkOut
	sp.inFlight--
	if cb.err != nil {
		return cb.err
	}
	for i := range cb.recs {
		if err := sp.add(cb.recs[i]); err != nil {
			return err
		}
	}
	clear(cb.recs) // let the records' strings go
	sp.spare = append(sp.spare, cb.recs[:0])
	return nil
}

// flushBlocks checks the last, partial block and adds every block still in the check.
func (sp *splitter) flushBlocks() error {
	if len(sp.block) > 0 {
		sp.sendBlock()
	}
	for sp.inFlight > 0 {
		if err := sp.addChecked(); err != nil {
			return err
		}
	}
	return nil
}

// stopChecks ends the checking goroutine; blocks still in it are dropped.
func (sp *splitter) stopChecks() {
	if sp.checkIn != nil {
		close(sp.checkIn)
		sp.checkIn = nil
	}
}

func (sp *splitter) add(rec payoutfile.Record) error {
	sp.p.Rows++
	if len(rec.Errors) == 0 {
		sp.p.Valid++
		it := rec.Item
		extID := it.ItemExternalID
		if extID == "" {
			extID = sp.id + "-r" + strconv.Itoa(rec.Row)
		}
		sp.items = append(sp.items, iyzico.Item{
			ItemExternalID:  extID,
			RecipientType:   it.RecipientType,
			RecipientInfo:   it.RecipientInfo,
			Amount:          iyzico.Amount{Value: it.Amount, Currency: it.Currency},
			Description:     it.Description,
			RecipientName:   it.RecipientName,
			NonWithdrawable: it.NonWithdrawable,
		})
		sp.rows = append(sp.rows, rec.Row)
		sp.reportItems = appendReportItem(sp.reportItems, &sp.items[len(sp.items)-1])
		if len(sp.items) == sp.opts.ChunkSize {
			if err := sp.flushChunk(); err != nil {
				return err
			}
		}
	} else {
		sp.p.Rejected++
		sp.rejected = append(sp.rejected, rejectedRow(rec))
		if rec.AmountOK {
			sp.rejAmounts[rec.Item.Currency] = sp.rejAmounts[rec.Item.Currency].Add(rec.Item.Amount)
		}
		if len(sp.rejected) == rejectedPageSize {
			if err := sp.flushRejected(); err != nil {
				return err
			}
		}
	}
	if sp.progress != nil && sp.p.Rows%ProgressEvery == 0 {
		sp.progress(sp.p)
	}
	return nil
}

// isGeneratedItemID reports whether id has the form of the item external ID a row without one
// gets in batch batchID: <batchID>-r<row>.
func isGeneratedItemID(batchID, id string) bool {
	n, ok := strings.CutPrefix(id, batchID)
	if !ok {
		return false
	}
	if n, ok = strings.CutPrefix(n, "-r"); !ok || n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return false
		}
	}
	return true
}

func rejectedRow(rec payoutfile.Record) RejectedRow {
	codes := make([]string, 0, len(rec.Errors))
	msgs := make([]string, 0, len(rec.Errors))
	for _, e := range rec.Errors {
		if !slices.Contains(codes, e.Code) {
			codes = append(codes, e.Code)
		}
		msgs = append(msgs, e.Message)
	}
	it := rec.Item
	amount := ""
	if rec.AmountOK {
		amount = it.Amount.String()
	}
	return RejectedRow{
		Row:            rec.Row,
		ItemExternalID: it.ItemExternalID,
		RecipientType:  it.RecipientType,
		RecipientInfo:  payoutfile.Mask(it.RecipientType, it.RecipientInfo),
		Amount:         amount,
		Currency:       it.Currency,
		Code:           strings.Join(codes, ";"),
		Message:        strings.Join(msgs, "; "),
	}
}

// putChunkScript stores a chunk's hash once; it runs in one transaction after the SET NX of the
// chunk's body and items keys (see storeChunk). KEYS: chunk, batch, counts, body. ARGV: body sha,
// rows, now, then field/delta pairs for counts. Returns {1, state} when stored, {0, state} when it
// existed with the same body (a body stored again for a chunk past its init is deleted again),
// {-1, ”} when it existed with another body, {-2, ”} when the batch's submission was declared
// failed.
var putChunkScript = redis.NewScript(redisRunLua + `
local sha = redis.call('HGET', KEYS[1], 'body_sha')
if sha then
  if sha ~= ARGV[1] then return {-1, ''} end
  local st = redis.call('HGET', KEYS[1], 'state')
  if st ~= 'PENDING' and st ~= 'UNKNOWN' then redis.call('DEL', KEYS[4]) end
  return {0, st}
end
if redis.call('HGET', KEYS[2], 'submit_failed') == '1' then return {-2, ''} end
redis.call('HSET', KEYS[1], 'body_sha', ARGV[1], 'rows', ARGV[2], 'state', 'PENDING',
  'version', '0', 'sent', '0', 'attempts', '0', 'created', ARGV[3], 'updated', ARGV[3], 'rid', (runOf()))
redis.call('HINCRBY', KEYS[2], 'chunks_seen', 1)
redis.call('HINCRBY', KEYS[2], 'cs:PENDING', 1)
redis.call('HSET', KEYS[2], 'updated', ARGV[3])
local i = 4
while i <= #ARGV do
  redis.call('HINCRBY', KEYS[3], ARGV[i], ARGV[i+1])
  i = i + 2
end
return {1, 'PENDING'}
`)

// storedChunk is a built chunk on its way to the ledger.
type storedChunk struct {
	seq         int
	extID       string
	body        []byte
	reportItems string
	args        []any // putChunkScript's ARGV
}

func (sp *splitter) flushChunk() error {
	if len(sp.items) == 0 {
		return nil
	}
	sp.p.Chunks++
	seq := sp.p.Chunks
	extID := tasks.ChunkExternalID(sp.id, seq)
	conv := sp.opts.ConversationID
	if conv == "" {
		conv = extID
	}
	body, err := iyzico.MarshalInit(&iyzico.InitRequest{ExternalID: extID, ConversationID: conv, Purpose: sp.opts.Purpose, Items: sp.items})
	if err != nil {
		return fmt.Errorf("chunk %s: build body: %w", extID, err)
	}
	sum := sha256.Sum256(body)
	c := &storedChunk{seq: seq, extID: extID, body: body, reportItems: string(sp.reportItems)}
	args := []any{hex.EncodeToString(sum[:]), encodeRows(sp.rows), sp.store.now().UTC().Format(time.RFC3339Nano)}
	minor := map[string]int64{}
	for _, it := range sp.items {
		m, err := minorUnits(it.Amount)
		if err != nil {
			return fmt.Errorf("chunk %s item %s: %w", extID, it.ItemExternalID, err)
		}
		cur := it.Amount.Currency
		// Every counter of the ledger holds a part of the batch's total per currency, so a total
		// that fits an int64 keeps them all from wrapping.
		if sp.total[cur] > math.MaxInt64-m {
			return fmt.Errorf("batch %s: the %s total passes %s: too large for the ledger's counters; split the file", sp.id, cur, FormatAmount(decimal.New(math.MaxInt64, -int32(scaleOf(cur))), cur))
		}
		sp.total[cur] += m
		minor[cur] += m
	}
	args = append(args, "n:"+RowPending, strconv.Itoa(len(sp.items)))
	for cur, m := range minor {
		args = append(args, "m:"+RowPending+":"+cur, strconv.FormatInt(m, 10))
	}
	c.args = args
	sp.items, sp.rows, sp.reportItems = sp.items[:0], sp.rows[:0], sp.reportItems[:0]
	return sp.write(func() error { return sp.storeChunk(c) })
}

// storeChunk stores a built chunk once, in one transaction (its body and items only where they
// are not stored yet: a chunk stored earlier keeps its bytes, and the script reports a different
// body as a conflict), and enqueues its init task while it is still PENDING.
func (sp *splitter) storeChunk(c *storedChunk) error {
	var put *redis.Cmd
	_, err := sp.store.rdb.TxPipelined(sp.ctx, func(pipe redis.Pipeliner) error {
		pipe.SetNX(sp.ctx, chunkBodyKey(sp.id, c.seq), c.body, 0)
		pipe.SetNX(sp.ctx, chunkItemsKey(sp.id, c.seq), c.reportItems, 0)
		put = putChunkScript.Eval(sp.ctx, pipe, []string{chunkKey(sp.id, c.seq), batchKey(sp.id), countsKey(sp.id), chunkBodyKey(sp.id, c.seq)}, c.args...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("chunk %s: store: %w", c.extID, err)
	}
	res, err := put.Slice()
	if err != nil {
		return fmt.Errorf("chunk %s: store: %w", c.extID, err)
	}
	switch res[0].(int64) {
	case -1:
		return fmt.Errorf("chunk %s: stored earlier with a different body: the file or the splitting changed; nothing more was stored for this batch", c.extID)
	case -2:
		return fmt.Errorf("chunk %s: the batch's submission was declared failed (SUBMIT_FAILED) while it ran: submit the file again", c.extID)
	}
	if res[1] == ChunkPending {
		return Enqueue(sp.ctx, sp.q, tasks.NewInitTask(tasks.Chunk{Batch: sp.id, Seq: c.seq}, sp.topts))
	}
	return nil
}

// write hands a Redis write to the writer goroutine, so reading and validating the next rows
// overlaps with storing the previous chunk. Writes run one at a time, in order; the first error
// stops the submission.
func (sp *splitter) write(w func() error) error {
	if sp.writes == nil {
		writes, written := make(chan func() error, 2), make(chan error, 1)
		sp.writes, sp.written = writes, written
		go func() {
			var first error
			for w := range writes {
				if first == nil {
					if first = w(); first != nil {
						sp.failed.Store(true)
					}
				}
			}
			written <- first
		}()
	}
	if sp.failed.Load() {
		return sp.drain()
	}
	sp.writes <- w
	return nil
}

// drain waits for every handed-off write and returns the first error.
func (sp *splitter) drain() error {
	if sp.writes == nil {
		return nil
	}
	close(sp.writes)
	sp.writes = nil
	err := <-sp.written
	if err != nil && sp.ctx.Err() != nil {
		// Redis clients report a cancelled call in their own words; say it plainly.
		return fmt.Errorf("batch %s: submission interrupted (run it again to resume): %w", sp.id, sp.ctx.Err())
	}
	return err
}

func (sp *splitter) flushRejected() error {
	if len(sp.rejected) == 0 {
		return nil
	}
	b, err := json.Marshal(sp.rejected)
	if err != nil {
		return err
	}
	page := sp.rejPage
	sp.rejPage++
	sp.rejected = sp.rejected[:0]
	return sp.write(func() error {
		if err := sp.store.rdb.Set(sp.ctx, rejectedKey(sp.id, page), b, 0).Err(); err != nil {
			return fmt.Errorf("batch %s: store rejected rows: %w", sp.id, err)
		}
		return nil
	})
}

// submitDoneScript records the totals of a complete submission. KEYS: batch. ARGV: rows, valid,
// rejected, chunks, rejected amounts JSON, now. Returns {pending, init, authorized, unknown,
// init waiting, chunks total}.
var submitDoneScript = redis.NewScript(`
redis.call('HSET', KEYS[1], 'rows', ARGV[1], 'valid', ARGV[2], 'rejected', ARGV[3], 'chunks_total', ARGV[4],
  'rejected_amounts', ARGV[5], 'submit_done', '1', 'status', 'PROCESSING', 'updated', ARGV[6])
local b = redis.call('HMGET', KEYS[1], 'cs:PENDING', 'cs:INIT', 'cs:AUTHORIZED', 'cs:UNKNOWN', 'init_waiting', 'chunks_total')
local out = {}
for k = 1, 6 do out[k] = tonumber(b[k] or '0') or 0 end
return out
`)

func (sp *splitter) finish() error {
	if err := sp.flushChunk(); err != nil {
		return err
	}
	if err := sp.flushRejected(); err != nil {
		return err
	}
	if err := sp.drain(); err != nil {
		return err
	}
	amounts := map[string]string{}
	for cur, a := range sp.rejAmounts {
		amounts[cur] = a.String()
	}
	aj, err := json.Marshal(amounts)
	if err != nil {
		return err
	}
	res, err := submitDoneScript.Run(sp.ctx, sp.store.rdb, []string{batchKey(sp.id)}, sp.p.Rows, sp.p.Valid, sp.p.Rejected, sp.p.Chunks, string(aj), sp.store.now().UTC().Format(time.RFC3339Nano)).Int64Slice()
	if err != nil {
		return fmt.Errorf("batch %s: finish submit: %w", sp.id, err)
	}
	sp.p.Done = true
	if sp.progress != nil {
		sp.progress(sp.p)
	}
	prog := Progress{SubmitDone: true, Pending: int(res[0]), Init: int(res[1]), Authorized: int(res[2]),
		Unknown: int(res[3]), InitWaiting: int(res[4]), ChunksTotal: int(res[5])}
	return sp.store.EnqueueFinalize(sp.ctx, sp.q, sp.topts, sp.id, prog)
}

// EnqueueFinalize makes sure the batch:finalize task of the phase that progress has reached
// exists: "final" once no chunk has work queued and none awaits approval (the status is final or
// NEEDS_RECONCILE), else "init" once every chunk has its init outcome (the report for the
// approver). The task records what it finds, so an extra one is harmless.
func (s *Store) EnqueueFinalize(ctx context.Context, q Enqueuer, topts tasks.Options, batchID string, p Progress) error {
	var phase string
	switch {
	case p.Quiet() && p.InitWaiting == 0:
		phase = tasks.PhaseFinal
	case p.InitPhaseDone():
		phase = tasks.PhaseInit
	default:
		return nil
	}
	f := tasks.Finalize{Batch: batchID, Phase: phase}
	_, err := s.EnsureTask(ctx, q, tasks.NewFinalizeTask(f, topts), topts.QueueName(), batchID+":finalize:"+phase)
	return err
}

func scaleOf(cur string) int {
	n, _ := payoutfile.MinorUnits(cur)
	return int(n)
}

// checkConversationID refuses a conversationId that is too long for iyzico's echo or holds
// characters that do not belong in an ID.
func checkConversationID(c string) error {
	if len(c) > 64 {
		return fmt.Errorf("%w: conversationId of %d bytes: at most 64", ErrInvalidOptions, len(c))
	}
	for _, r := range c {
		if r < 0x21 || r > 0x7e {
			return fmt.Errorf("%w: conversationId %q: use printable ASCII without spaces", ErrInvalidOptions, c)
		}
	}
	return nil
}
