package batch

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/payoutfile"
	"github.com/redis/go-redis/v9"
)

// Cross-batch protection. A file's SHA-256 guards against the same file twice; an edited file
// (three rows fixed, the rest unchanged) has another hash and would pay every unchanged row again.
// So every valid row of a submission is also looked up in the payment index: Redis hashes that map
// a row's identity to the batch and file row that pays it. The identity is the row's
// item_external_id when the file gives one, else its recipient, amount, currency and description.
// A row whose identity an earlier batch pays, or may still pay, is REJECTED (ALREADY_PAID,
// POSSIBLE_DUPLICATE_PAYMENT) naming that batch; one whose earlier row is definitively not paid
// (failed, refunded, canceled, refused, or its batch discarded) takes the entry over and is paid.
//
// The index is split into monthly buckets (mp:{pay}:<yyyymm>, one hash tag so that a script can
// read them all), each expiring LEDGER_TTL plus two months after its last write: an entry outlives
// the ledger of the batch it points to. Fields are 12 bytes of a SHA-256, values "<batch>|<row>".

// Rejection codes of the cross-batch check.
const (
	CodeAlreadyPaid       = "ALREADY_PAID"
	CodePossibleDuplicate = "POSSIBLE_DUPLICATE_PAYMENT"
)

const payBucketsKey = "mp:{pay}:buckets"

func payBucketKey(t time.Time) string { return "mp:{pay}:" + t.UTC().Format("200601") }

// repeatsKey holds the rows of batch B the cross-batch check rejected (row → JSON RowError), so
// that a resumed submission rejects the same rows and builds the same chunks.
func repeatsKey(b string) string { return "mp:{" + b + "}:repeats" }

// repeatBlock is how many rows are checked against the index in one round trip.
const repeatBlock = 1000

// bucketSlack is how much longer than the ledger an index bucket lives.
const bucketSlack = 62 * 24 * time.Hour

// payFieldSize is the length of an index field: the first bytes of a SHA-256.
const payFieldSize = 12

// appendPayField appends the index field of a valid row and says whether it is the row's
// item_external_id (else its recipient, amount, currency and description).
func appendPayField(dst []byte, it *payoutfile.Item) ([]byte, bool) {
	var buf [256]byte
	b := buf[:0]
	byID := it.ItemExternalID != ""
	if byID {
		b = append(append(b, "id\x00"...), it.ItemExternalID...)
	} else {
		b = append(b, "to\x00"...)
		b = append(append(b, it.RecipientType...), 0)
		b = append(append(b, it.RecipientInfo...), 0)
		b = append(appendFixed(b, iyzico.Amount{Value: it.Amount, Currency: it.Currency}), 0)
		b = append(append(b, it.Currency...), 0)
		b = append(b, it.Description...)
	}
	sum := sha256.Sum256(b)
	return append(dst, sum[:payFieldSize]...), byID
}

// takeOverScript moves entries to this batch where they still hold what the caller decided on.
// KEYS: the buckets, the one to write first. ARGV: TTL in seconds, then field/expected/new
// triples (expected "" for an entry no bucket holds). Returns the triples (counted from 1) whose entry changed meanwhile.
var takeOverScript = redis.NewScript(`
local out, wrote = {}, false
local i = 2
while i <= #ARGV do
  local cur = false
  for k = 1, #KEYS do
    cur = redis.call('HGET', KEYS[k], ARGV[i])
    if cur then break end
  end
  if (cur or '') == ARGV[i + 1] then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
    wrote = true
  else
    out[#out + 1] = (i + 1) / 3
  end
  i = i + 3
end
if wrote and ARGV[1] ~= '0' then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return out
`)

// claim sets every field of fields that no bucket holds to this batch's row (rows[i]), in one
// optimistic transaction: it watches the buckets, reads them, and writes only if no other
// submission wrote meanwhile (else it reads again). It returns, per field, the value another
// batch holds ("" where the field is now this batch's). Plain HMGET and HSET cost Redis a
// third of what the same work in a script does.
func (rc *repeatCheck) claim(ctx context.Context, fields []string, rows []int) ([]string, error) {
	self := rc.id + "|"
	held := make([]string, len(fields))
	for attempt := 0; attempt < 50; attempt++ {
		err := rc.store.rdb.Watch(ctx, func(tx *redis.Tx) error {
			clear(held)
			pipe := tx.Pipeline()
			reads := make([]*redis.SliceCmd, len(rc.buckets))
			for k, b := range rc.buckets {
				reads[k] = pipe.HMGet(ctx, b, fields...)
			}
			if _, err := pipe.Exec(ctx); err != nil {
				return err
			}
			set := make([]any, 0, 2*len(fields))
			for i := range fields {
				for _, r := range reads {
					if v, ok := r.Val()[i].(string); ok {
						held[i] = v
						break
					}
				}
				switch {
				case held[i] == "":
					set = append(set, fields[i], self+strconv.Itoa(rows[i]))
				case strings.HasPrefix(held[i], self):
					held[i] = ""
				}
			}
			if len(set) == 0 {
				return nil
			}
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.HSet(ctx, rc.buckets[0], set...)
				if rc.ttl != "0" {
					p.Expire(ctx, rc.buckets[0], time.Duration(atoi(rc.ttl))*time.Second)
				}
				return nil
			})
			return err
		}, rc.buckets...)
		if errors.Is(err, redis.TxFailedErr) {
			continue // another submission wrote to the index meanwhile: read again
		}
		if err != nil {
			return nil, fmt.Errorf("batch %s: check rows against earlier batches: %w", rc.id, err)
		}
		return held, nil
	}
	return nil, fmt.Errorf("batch %s: the payment index kept changing under other submissions; submit again", rc.id)
}

// repeatCheck is one submission's cross-batch check.
type repeatCheck struct {
	store   *Store
	id      string
	allow   bool // --allow-repeat: rows paid elsewhere are paid again (and counted)
	buckets []string
	ttl     string
	earlier map[int]payoutfile.RowError // rows an earlier run of this submission rejected

	heads  map[string]*Batch // nil: the batch is gone
	firsts map[string][]int  // per batch, the first file row of each chunk (index seq-1)
	chunks map[string]*Chunk // "<batch>|<seq>"; nil: missing

	// Repeated counts, per earlier batch, the rows paid again under allow.
	Repeated map[string]int
}

func (s *Store) newRepeatCheck(ctx context.Context, id string, allow bool) (*repeatCheck, error) {
	rc := &repeatCheck{store: s, id: id, allow: allow, ttl: "0", heads: map[string]*Batch{},
		firsts: map[string][]int{}, chunks: map[string]*Chunk{}, Repeated: map[string]int{}}
	now := s.now()
	current := payBucketKey(now)
	if s.ttl > 0 {
		rc.ttl = strconv.FormatInt(int64((s.ttl+bucketSlack)/time.Second), 10)
	}
	pipe := s.rdb.Pipeline()
	pipe.SAdd(ctx, payBucketsKey, current)
	members := pipe.SMembers(ctx, payBucketsKey)
	earlier := pipe.HGetAll(ctx, repeatsKey(id))
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("batch %s: read the payment index: %w", id, err)
	}
	oldest := ""
	if s.ttl > 0 {
		oldest = payBucketKey(now.Add(-s.ttl - bucketSlack))
	}
	rc.buckets = []string{current}
	for _, b := range members.Val() {
		if b != current && b >= oldest {
			rc.buckets = append(rc.buckets, b)
		}
	}
	// Newest first: a takeover written to the current bucket shadows the older entry.
	slices.SortFunc(rc.buckets[1:], func(a, b string) int { return strings.Compare(b, a) })
	rc.earlier = make(map[int]payoutfile.RowError, len(earlier.Val()))
	for row, j := range earlier.Val() {
		var e payoutfile.RowError
		if err := json.Unmarshal([]byte(j), &e); err != nil {
			return nil, fmt.Errorf("batch %s: read its earlier cross-batch rejections: %w", id, err)
		}
		rc.earlier[atoi(row)] = e
	}
	return rc, nil
}

// check looks the valid records of a block up in the payment index, claims the entries of those
// that may be paid, and adds an ALREADY_PAID or POSSIBLE_DUPLICATE_PAYMENT error to the others.
// When it returns, its decisions are in Redis, before any chunk holding these rows is stored.
func (rc *repeatCheck) check(ctx context.Context, recs []payoutfile.Record) error {
	type cand struct {
		rec   *payoutfile.Record
		field string
		byID  bool
	}
	cands := make([]cand, 0, len(recs))
	fields := make([]byte, 0, payFieldSize*len(recs))
	rows := make([]int, 0, len(recs))
	for i := range recs {
		r := &recs[i]
		if !r.Valid() {
			continue
		}
		if e, ok := rc.earlier[r.Row]; ok {
			r.Errors = append(r.Errors, e)
			continue
		}
		var byID bool
		fields, byID = appendPayField(fields, &r.Item)
		cands = append(cands, cand{rec: r, byID: byID})
		rows = append(rows, r.Row)
	}
	if len(cands) == 0 {
		return nil
	}
	packed := string(fields)
	for i := range cands {
		cands[i].field = packed[i*payFieldSize : (i+1)*payFieldSize]
	}
	fieldList := make([]string, len(cands))
	for i := range cands {
		fieldList[i] = cands[i].field
	}
	held, err := rc.claim(ctx, fieldList, rows)
	if err != nil {
		return err
	}
	type conflict struct {
		c   *cand
		cur string
	}
	conflicts := make([]conflict, 0, len(held))
	for i, cur := range held {
		if cur != "" {
			conflicts = append(conflicts, conflict{c: &cands[i], cur: cur})
		}
	}
	rejected := map[int]payoutfile.RowError{}
	for round := 0; len(conflicts) > 0; round++ {
		var take []conflict
		targs := []any{rc.ttl}
		for _, cf := range conflicts {
			e, paidElsewhere, err := rc.decide(ctx, cf.c.rec, cf.c.byID, cf.cur)
			if err != nil {
				return err
			}
			if e != nil && !rc.allow {
				rejected[cf.c.rec.Row] = *e
				continue
			}
			if paidElsewhere {
				b, _ := parsePayValue(cf.cur)
				rc.Repeated[b]++
			}
			take = append(take, cf)
			targs = append(targs, cf.c.field, cf.cur, rc.value(cf.c.rec.Row))
		}
		if len(take) == 0 {
			break
		}
		changed, err := takeOverScript.Run(ctx, rc.store.rdb, rc.buckets, targs...).Int64Slice()
		if err != nil {
			return fmt.Errorf("batch %s: take over index entries: %w", rc.id, err)
		}
		conflicts = conflicts[:0]
		for _, i := range changed {
			cf := take[i-1]
			if round >= 3 {
				rejected[cf.c.rec.Row] = rc.changedError(cf.c.rec, cf.c.byID)
				continue
			}
			// Another submission moved the entry meanwhile: decide again on what it holds now.
			cur, err := rc.current(ctx, cf.c.field)
			if err != nil {
				return err
			}
			if !strings.HasPrefix(cur, rc.id+"|") {
				conflicts = append(conflicts, conflict{c: cf.c, cur: cur})
			}
		}
	}
	if len(rejected) == 0 {
		return nil
	}
	hset := make([]any, 0, 2*len(rejected))
	for row, e := range rejected {
		j, err := json.Marshal(e)
		if err != nil {
			return err
		}
		hset = append(hset, strconv.Itoa(row), string(j))
	}
	if err := rc.store.rdb.HSet(ctx, repeatsKey(rc.id), hset...).Err(); err != nil {
		return fmt.Errorf("batch %s: record rows paid by other batches: %w", rc.id, err)
	}
	for i := range recs {
		if e, ok := rejected[recs[i].Row]; ok {
			recs[i].Errors = append(recs[i].Errors, e)
		}
	}
	return nil
}

func (rc *repeatCheck) value(row int) string { return rc.id + "|" + strconv.Itoa(row) }

func parsePayValue(v string) (batchID string, row int) {
	i := strings.LastIndexByte(v, '|')
	if i < 0 {
		return v, 0
	}
	row, _ = strconv.Atoi(v[i+1:])
	return v[:i], row
}

// current reads an index entry as a lookup sees it ("" when no bucket holds it).
func (rc *repeatCheck) current(ctx context.Context, field string) (string, error) {
	for _, b := range rc.buckets {
		v, err := rc.store.rdb.HGet(ctx, b, field).Result()
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, redis.Nil) {
			return "", fmt.Errorf("batch %s: read the payment index: %w", rc.id, err)
		}
	}
	return "", nil
}

// decide judges a row whose identity the index gives to another batch (cur, "" for none): a
// rejection when that batch's row is paid, may be paid or may still be paid; nil when the row may
// be paid here. paidElsewhere is false only when the earlier row is definitively not paid.
func (rc *repeatCheck) decide(ctx context.Context, rec *payoutfile.Record, byID bool, cur string) (e *payoutfile.RowError, paidElsewhere bool, err error) {
	if cur == "" {
		return nil, false, nil
	}
	other, row := parsePayValue(cur)
	status, payout, found, err := rc.statusOf(ctx, other, row)
	if err != nil {
		return nil, false, err
	}
	if found && NotPaidForGood(status, payout) {
		return nil, false, nil
	}
	if !found && status == "" {
		// The batch is gone (discarded, expired) or its submission failed with nothing stored.
		return nil, false, nil
	}
	var state string
	switch {
	case !found:
		state = "is still being submitted in batch " + other + " (row " + strconv.Itoa(row) + ")"
	case Paid(status) == PaidYes:
		state = "was already paid in batch " + other + " (row " + strconv.Itoa(row) + ")"
	case status == iyzico.ItemDepositFail:
		state = "left the account in batch " + other + " (row " + strconv.Itoa(row) + ", DEPOSIT_FAIL) without reaching the recipient or coming back; resolve it with iyzico first"
	case Paid(status) == PaidUnknown:
		state = "may have been paid in batch " + other + " (row " + strconv.Itoa(row) + ", UNKNOWN until reconcile)"
	case status == iyzico.ItemFailed:
		state = "failed in batch " + other + " (row " + strconv.Itoa(row) + ") but its payout is not final: the bank may still refund it (DEPOSIT_SUCCESS) or report it lost (DEPOSIT_FAIL); submit it again once that batch is final"
	default:
		state = "is in flight in batch " + other + " (row " + strconv.Itoa(row) + ", " + status + ")"
	}
	re := &payoutfile.RowError{Row: rec.Row, Line: rec.Line}
	if byID {
		re.Column, re.Code = "item_external_id", CodeAlreadyPaid
		re.Message = fmt.Sprintf("this item %s; it is not paid twice. If it really is another payment, give it a new item_external_id (or submit with --allow-repeat)", state)
	} else {
		re.Code = CodePossibleDuplicate
		re.Message = fmt.Sprintf("the same recipient, amount and description %s; it is not paid twice. If it really is another payment, give the row an item_external_id or another description (or submit with --allow-repeat)", state)
	}
	re.Message = rowPrefix(rec) + re.Message
	return re, true, nil
}

// rowPrefix names the row as payoutfile's messages do: the row, then its line in the file and
// its item_external_id when it has them ("row 19 (line 20, ID E-1042): ").
func rowPrefix(rec *payoutfile.Record) string {
	var where []string
	if rec.Line > 0 {
		where = append(where, "line "+strconv.Itoa(rec.Line))
	}
	if id := rec.Item.ItemExternalID; id != "" {
		where = append(where, "ID "+id)
	}
	if len(where) == 0 {
		return fmt.Sprintf("row %d: ", rec.Row)
	}
	return fmt.Sprintf("row %d (%s): ", rec.Row, strings.Join(where, ", "))
}

func (rc *repeatCheck) changedError(rec *payoutfile.Record, byID bool) payoutfile.RowError {
	re := payoutfile.RowError{Row: rec.Row, Line: rec.Line, Code: CodePossibleDuplicate,
		Message: rowPrefix(rec) + "another submission is paying the same row right now; it is not paid twice. Check the other batches, then submit this row again"}
	if byID {
		re.Column, re.Code = "item_external_id", CodeAlreadyPaid
	}
	return re
}

// statusOf returns the status of file row row in batch id and the massPayoutStatus of its chunk.
// found is false when no stored chunk holds the row; status is then "" when the batch is gone or
// its submission failed (nothing of it can be paid) and "SUBMITTING" while its submission may
// still store the row.
func (rc *repeatCheck) statusOf(ctx context.Context, id string, row int) (status, payout string, found bool, err error) {
	b, ok := rc.heads[id]
	if !ok {
		b, err = rc.store.Head(ctx, id)
		if errors.Is(err, ErrNotFound) {
			b, err = nil, nil
		}
		if err != nil {
			return "", "", false, err
		}
		rc.heads[id] = b
	}
	if b == nil || b.SubmitFailed {
		return "", "", false, nil
	}
	firsts, ok := rc.firsts[id]
	if !ok || (!b.SubmitDone && len(firsts) < b.ChunksSeen) {
		if firsts, err = rc.store.chunkFirstRows(ctx, id); err != nil {
			return "", "", false, err
		}
		rc.firsts[id] = firsts
	}
	seq := sort.Search(len(firsts), func(i int) bool { return firsts[i] > row }) // chunk seq-1 starts at or before row
	if seq > 0 {
		c, err := rc.chunk(ctx, id, seq)
		if err != nil {
			return "", "", false, err
		}
		if c != nil {
			if pos, ok := slices.BinarySearch(c.Rows, row); ok {
				return c.Statuses()[pos], c.PayoutStatus, true, nil
			}
		}
	}
	// Not in a stored chunk: a running submission may store it yet; a complete one never will,
	// but the entry says this batch pays it: count it as in flight rather than guess.
	return StatusSubmitting, "", false, nil
}

func (rc *repeatCheck) chunk(ctx context.Context, id string, seq int) (*Chunk, error) {
	key := id + "|" + strconv.Itoa(seq)
	if c, ok := rc.chunks[key]; ok {
		return c, nil
	}
	if len(rc.chunks) >= 256 {
		clear(rc.chunks)
	}
	cs, err := rc.store.getChunks(ctx, id, seq, seq)
	var c *Chunk
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return nil, err
	default:
		c = cs[0]
	}
	rc.chunks[key] = c
	return c, nil
}

// chunkFirstRows returns the first file row of each stored chunk of batch id, in seq order,
// stopping at the first chunk not stored.
func (s *Store) chunkFirstRows(ctx context.Context, id string) ([]int, error) {
	var out []int
	const window = 512
	for from := 1; ; from += window {
		pipe := s.rdb.Pipeline()
		cmds := make([]*redis.StringCmd, window)
		for i := range cmds {
			cmds[i] = pipe.HGet(ctx, chunkKey(id, from+i), "rows")
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("batch %s: read chunk rows: %w", id, err)
		}
		for _, c := range cmds {
			if c.Err() != nil {
				return out, nil
			}
			rows, err := decodeRows(c.Val())
			if err != nil || len(rows) == 0 {
				return out, nil
			}
			out = append(out, rows[0])
		}
	}
}

// repeatedDetail is the audit detail of an allowed repeat: the earlier batches and their rows.
func repeatedDetail(m map[string]int) string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	parts := make([]string, len(ids))
	n := 0
	for i, id := range ids {
		parts[i] = fmt.Sprintf("%s (%d)", id, m[id])
		n += m[id]
	}
	return fmt.Sprintf("--allow-repeat: %d %s that other batches paid or are paying %s paid again: %s",
		n, plural(n, "row", "rows"), plural(n, "is", "are"), strings.Join(parts, ", "))
}

// PreviewRepeats reads the payout file f with o (as a submission would) and returns the rows the
// cross-batch check would refuse now (ALREADY_PAID, POSSIBLE_DUPLICATE_PAYMENT), at most max of
// them, and how many there are. It claims nothing: a dry run for the upload page. Rows that
// another batch pays but that batch's row is definitively not paid are not reported.
func (s *Store) PreviewRepeats(ctx context.Context, f File, o payoutfile.Options, max int) (n int, sample []payoutfile.RowError, err error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, nil, fmt.Errorf("rewind file: %w", err)
	}
	r, err := payoutfile.NewReader(f, o)
	if err != nil {
		return 0, nil, err
	}
	defer r.Close()
	rc, err := s.newRepeatCheck(ctx, "", false)
	if err != nil {
		return 0, nil, err
	}
	block := make([]payoutfile.Record, 0, repeatBlock)
	flush := func() error {
		fields := make([]string, 0, len(block))
		recs := make([]*payoutfile.Record, 0, len(block))
		byID := make([]bool, 0, len(block))
		var buf []byte
		for i := range block {
			if block[i].Valid() {
				var id bool
				buf, id = appendPayField(buf[:0], &block[i].Item)
				fields = append(fields, string(buf))
				recs = append(recs, &block[i])
				byID = append(byID, id)
			}
		}
		block = block[:0]
		if len(fields) == 0 {
			return nil
		}
		pipe := s.rdb.Pipeline()
		reads := make([]*redis.SliceCmd, len(rc.buckets))
		for k, b := range rc.buckets {
			reads[k] = pipe.HMGet(ctx, b, fields...)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("read the payment index: %w", err)
		}
		for i := range fields {
			for _, rd := range reads {
				cur, ok := rd.Val()[i].(string)
				if !ok {
					continue
				}
				e, _, err := rc.decide(ctx, recs[i], byID[i], cur)
				if err != nil {
					return err
				}
				if e != nil {
					if n++; len(sample) < max {
						sample = append(sample, *e)
					}
				}
				break
			}
		}
		return nil
	}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, sample, err
		}
		if block = append(block, rec); len(block) == cap(block) {
			if err := flush(); err != nil {
				return n, sample, err
			}
		}
	}
	return n, sample, flush()
}
