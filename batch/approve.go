package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/masspayout/masspayout/internal/identity"
	"github.com/masspayout/masspayout/tasks"
	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"
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

// Approval is what one approval released: the chunks that were in INIT awaiting approval when it
// was given, and their totals per currency. A chunk that reaches INIT later needs another approval.
type Approval struct {
	N      int               `json:"n"`
	Who    string            `json:"who"`
	At     time.Time         `json:"at"`
	Chunks []int             `json:"chunks"`
	Rows   int               `json:"rows"`
	Totals map[string]string `json:"totals"` // per currency, items in INIT
	// Balance is the balance check's figures ("" when none was made); AllowedInsufficient says
	// the approval went through although the balance did not cover it.
	Balance             string `json:"balance,omitempty"`
	AllowedInsufficient bool   `json:"allowed_insufficient,omitempty"`
	Comment             string `json:"comment,omitempty"`
	// Repeated: nothing awaited approval any more and this is the batch's last approval, returned
	// again (an approval repeated after it went through).
	Repeated bool `json:"repeated,omitempty"`
}

// approveChunkScript approves one chunk if it is in INIT awaiting approval. KEYS: chunk, batch.
// ARGV: approval number. Returns 1 when it approved the chunk.
var approveChunkScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'state', 'approved')
if h[1] ~= 'INIT' or (h[2] or '') ~= '' then return 0 end
redis.call('HSET', KEYS[1], 'approved', ARGV[1])
redis.call('HINCRBY', KEYS[2], 'init_waiting', -1)
return 1
`)

// ErrInsufficientBalance: iyzico's mass payout balance does not cover what an approval would
// release (the INIT items and their commission).
var ErrInsufficientBalance = errors.New("insufficient mass payout balance")

// Pending is what an approval given now would release: the chunks in INIT that await an approval,
// their items in INIT, and those items' totals per currency.
type Pending struct {
	Chunks []int
	Rows   int
	Totals map[string]decimal.Decimal
	// ChunkTotals are the totals per currency of each chunk in Chunks (same order).
	ChunkTotals []map[string]decimal.Decimal
}

// BalanceCheck is iyzico's balance against what an approval would release. The balance has no
// currency and is taken to be TRY (iyzico.md §3.4): only TRY amounts are checked.
type BalanceCheck struct {
	Balance    decimal.Decimal // iyzico's mass payout balance
	Total      decimal.Decimal // the TRY items to release
	Commission decimal.Decimal // iyzico's commission on them
	// CommissionEstimated: iyzico did not say the commission of some chunks; it is estimated
	// from the ones it did (0 when it said none).
	CommissionEstimated bool
	Unchecked           []string // other currencies of the items, which the balance does not cover
}

// Short is how much the balance lacks; zero or less when it covers the release.
func (c *BalanceCheck) Short() decimal.Decimal { return c.Total.Add(c.Commission).Sub(c.Balance) }

// String says the check's figures in one sentence.
func (c *BalanceCheck) String() string {
	est := ""
	if c.CommissionEstimated {
		est = " (estimated)"
	}
	s := fmt.Sprintf("balance %s TRY; to release %s TRY + commission %s TRY%s", FormatAmount(c.Balance, "TRY"), FormatAmount(c.Total, "TRY"), FormatAmount(c.Commission, "TRY"), est)
	if short := c.Short(); short.Sign() > 0 {
		s += fmt.Sprintf(": short by %s TRY", FormatAmount(short, "TRY"))
	}
	if len(c.Unchecked) > 0 {
		s += "; not checked (the balance is in TRY): " + strings.Join(c.Unchecked, ", ")
	}
	return s
}

// ApproveOptions are the choices of one approval.
type ApproveOptions struct {
	// FourEyes refuses the submitter as approver (APPROVAL_FOUR_EYES).
	FourEyes bool
	// CheckBalance, when set, is asked for iyzico's balance against what the approval would
	// release; an approval the balance does not cover is refused with ErrInsufficientBalance
	// unless AllowInsufficient (recorded in the audit list).
	CheckBalance      func(ctx context.Context, p *Pending) (*BalanceCheck, error)
	AllowInsufficient bool
	// Comment is kept in the audit list with the approval.
	Comment string
}

// Pending returns what an approval of batch id given now would release.
func (s *Store) Pending(ctx context.Context, id string) (*Pending, error) {
	b, err := s.Head(ctx, id)
	if err != nil {
		return nil, err
	}
	views, err := s.chunkViews(ctx, id, b.ChunksSeen)
	if err != nil {
		return nil, err
	}
	p := &Pending{Totals: map[string]decimal.Decimal{}}
	for seq := 1; seq <= b.ChunksSeen; seq++ {
		if views[seq].state != ChunkInit || views[seq].approved != "" {
			continue
		}
		c, err := s.GetChunk(ctx, id, seq)
		if err != nil {
			return nil, err
		}
		items, err := c.ReportItems()
		if err != nil {
			return nil, err
		}
		ct := map[string]decimal.Decimal{}
		for i, st := range c.Statuses() {
			if st != "INIT" {
				continue
			}
			amt, err := decimal.NewFromString(items[i].Amount)
			if err != nil {
				return nil, fmt.Errorf("chunk %s: %w", c.ExternalID(), err)
			}
			p.Totals[items[i].Currency] = p.Totals[items[i].Currency].Add(amt)
			ct[items[i].Currency] = ct[items[i].Currency].Add(amt)
			p.Rows++
		}
		p.Chunks = append(p.Chunks, seq)
		p.ChunkTotals = append(p.ChunkTotals, ct)
	}
	return p, nil
}

// Approve releases the chunks of a batch that are in INIT awaiting approval: each is marked with
// this approval's number, and the approval (who, when, which chunks, totals per currency, the
// balance check) is kept in the audit list. It is refused by the four-eyes rule, with
// ErrInsufficientBalance when o.CheckBalance says the balance does not cover the release (unless
// o.AllowInsufficient), and with ErrNotAwaitingApproval when the batch is not AWAITING_APPROVAL
// (still initializing, canceled, or never approved and nothing waits). Then it makes sure every
// approved chunk in INIT has its auth task. Approving an approved batch in which nothing awaits
// approval returns its last approval again (Repeated) and completes an interrupted one.
func (s *Store) Approve(ctx context.Context, id, who string, o ApproveOptions, q Enqueuer, topts tasks.Options) (*Approval, error) {
	b, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	who, err = identity.Normalize(who)
	if err != nil {
		return nil, fmt.Errorf("approve batch %s: %w: the approver's name: %w", id, ErrInvalidOptions, err)
	}
	if o.FourEyes && identity.Same(who, b.Submitter) {
		return nil, fmt.Errorf("approve batch %s: %w (%s submitted it); another person must approve", id, ErrFourEyes, b.Submitter)
	}
	if b.CancelRequested {
		return nil, fmt.Errorf("approve batch %s: %w: it was canceled by %s", id, ErrNotAwaitingApproval, b.CanceledBy)
	}
	if b.Status != StatusAwaitingApproval && b.Approvals > 0 && b.InitWaiting == 0 {
		all, err := s.Approvals(ctx, id)
		if err != nil || len(all) == 0 {
			return nil, fmt.Errorf("approve batch %s: read its approvals: %v", id, err)
		}
		if err := s.ensureSteps(ctx, id, q, topts); err != nil {
			return nil, fmt.Errorf("approve batch %s: %w", id, err)
		}
		last := all[len(all)-1]
		last.Repeated = true
		return &last, nil
	}
	if b.Status != StatusAwaitingApproval {
		hint := "approve once every chunk is initialized (AWAITING_APPROVAL)"
		if FinalStatus(b.Status) || b.Status == StatusNeedsReconcile {
			hint = "nothing in it awaits approval"
		}
		return nil, fmt.Errorf("approve batch %s: %w: it is %s; %s", id, ErrNotAwaitingApproval, b.Status, hint)
	}
	pending, err := s.Pending(ctx, id)
	if err != nil {
		return nil, err
	}
	var check *BalanceCheck
	if o.CheckBalance != nil {
		if check, err = o.CheckBalance(ctx, pending); err != nil {
			return nil, fmt.Errorf("approve batch %s: check iyzico's balance: %w; try again, or approve with --allow-insufficient (API: allow_insufficient=true) to skip the check", id, err)
		}
		if check.Short().Sign() > 0 && !o.AllowInsufficient {
			return nil, fmt.Errorf("approve batch %s: %w: %s; top up the mass payout balance, or approve with --allow-insufficient (API: allow_insufficient=true)", id, ErrInsufficientBalance, check)
		}
	}
	n, err := s.rdb.HIncrBy(ctx, batchKey(id), "approvals", 1).Result()
	if err != nil {
		return nil, fmt.Errorf("approve batch %s: %w", id, err)
	}
	a := &Approval{N: int(n), Who: who, At: s.now().UTC(), Totals: map[string]string{}, Comment: o.Comment}
	if check != nil {
		a.Balance = check.String()
		a.AllowedInsufficient = check.Short().Sign() > 0
	}
	totals := map[string]decimal.Decimal{}
	for _, seq := range pending.Chunks {
		ok, err := approveChunkScript.Run(ctx, s.rdb, []string{chunkKey(id, seq), batchKey(id)}, strconv.Itoa(a.N)).Int()
		if err != nil {
			return nil, fmt.Errorf("approve batch %s: %w", id, err)
		}
		if ok != 1 {
			continue // another approval took it meanwhile
		}
		c, err := s.GetChunk(ctx, id, seq)
		if err != nil {
			return nil, err
		}
		items, err := c.ReportItems()
		if err != nil {
			return nil, err
		}
		for i, st := range c.Statuses() {
			if st != "INIT" {
				continue
			}
			amt, err := decimal.NewFromString(items[i].Amount)
			if err != nil {
				return nil, fmt.Errorf("chunk %s: %w", c.ExternalID(), err)
			}
			totals[items[i].Currency] = totals[items[i].Currency].Add(amt)
			a.Rows++
		}
		a.Chunks = append(a.Chunks, seq)
	}
	sort.Ints(a.Chunks)
	for cur, t := range totals {
		a.Totals[cur] = FormatAmount(t, cur)
	}
	if len(a.Chunks) == 0 {
		return nil, fmt.Errorf("approve batch %s: %w: no chunk awaits approval any more (another approval took them)", id, ErrNotAwaitingApproval)
	}
	detail, _ := json.Marshal(a)
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, batchKey(id), "approved_by", who, "approved_at", a.At.Format(time.RFC3339Nano), "approval:"+strconv.Itoa(a.N), detail)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("approve batch %s: %w", id, err)
	}
	text := fmt.Sprintf("approval %d: %d chunks, %d rows, %s", a.N, len(a.Chunks), a.Rows, formatTotals(a.Totals))
	if a.Balance != "" {
		text += "; " + a.Balance
	}
	if a.AllowedInsufficient {
		text += "; approved despite the insufficient balance (--allow-insufficient)"
	}
	if a.Comment != "" {
		text += "; comment: " + a.Comment
	}
	if err := s.Audit(ctx, id, who, "approved", text); err != nil {
		return nil, err
	}
	if err := s.ensureSteps(ctx, id, q, topts); err != nil {
		return nil, fmt.Errorf("approve batch %s: %w", id, err)
	}
	return a, nil
}

// Approvals returns a batch's approvals, oldest first.
func (s *Store) Approvals(ctx context.Context, id string) ([]Approval, error) {
	n, err := s.rdb.HGet(ctx, batchKey(id), "approvals").Int()
	if err == redis.Nil {
		return nil, nil
	}
	if err != nil {
		return nil, wrapNotFound("batch "+id, err)
	}
	fields := make([]string, n)
	for i := range fields {
		fields[i] = "approval:" + strconv.Itoa(i+1)
	}
	vals, err := s.rdb.HMGet(ctx, batchKey(id), fields...).Result()
	if err != nil {
		return nil, fmt.Errorf("batch %s: read approvals: %w", id, err)
	}
	var out []Approval
	for _, v := range vals {
		if v, ok := v.(string); ok {
			var a Approval
			if json.Unmarshal([]byte(v), &a) == nil {
				out = append(out, a)
			}
		}
	}
	return out, nil
}

func formatTotals(m map[string]string) string {
	curs := make([]string, 0, len(m))
	for c := range m {
		curs = append(curs, c)
	}
	sort.Strings(curs)
	parts := make([]string, len(curs))
	for i, c := range curs {
		parts[i] = m[c] + " " + c
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// cancelScript records a cancellation request. KEYS: batch. ARGV: who, now.
// Returns {'ok'}, {'already'}, {'approved', approver} or {'missing'}.
var cancelScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'status', 'approved_by', 'cancel_requested', 'auto_approve')
if not h[1] then return {'missing'} end
if h[4] == '1' then return {'approved', 'APPROVAL=auto'} end
if h[2] and h[2] ~= '' then return {'approved', h[2]} end
if h[3] == '1' then return {'already'} end
redis.call('HSET', KEYS[1], 'cancel_requested', '1', 'canceled_by', ARGV[1], 'canceled_at', ARGV[2], 'updated', ARGV[2])
return {'ok'}
`)

// Cancel cancels a batch awaiting approval that was never approved: it records the request and
// makes sure every chunk in INIT has its payout:cancel task, whose items end MASS_PAYOUT_CANCELED
// (a chunk that reaches INIT later, after a reconcile, is canceled then). It is refused with
// ErrCancelRefused once any approval was given (automatic approval included), and with
// ErrNotAwaitingApproval when the batch does not await approval. Repeating it is harmless.
func (s *Store) Cancel(ctx context.Context, id, who string, q Enqueuer, topts tasks.Options) (*Batch, error) {
	who, err := identity.Normalize(who)
	if err != nil {
		return nil, fmt.Errorf("cancel batch %s: %w: the name of who cancels: %w", id, ErrInvalidOptions, err)
	}
	b, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if b.Status != StatusAwaitingApproval && !b.CancelRequested {
		if b.Approvals > 0 || b.AutoApprove {
			return nil, fmt.Errorf("cancel batch %s: %w (approved by %s); its payouts are with the bank", id, ErrCancelRefused, b.ApprovedBy)
		}
		return nil, fmt.Errorf("cancel batch %s: %w: it is %s; cancel once every chunk is initialized (AWAITING_APPROVAL)", id, ErrNotAwaitingApproval, b.Status)
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
	case "ok":
		if err := s.Audit(ctx, id, who, "canceled", "cancel requested for every chunk in INIT"); err != nil {
			return nil, err
		}
	}
	if err := s.ensureSteps(ctx, id, q, topts); err != nil {
		return nil, fmt.Errorf("cancel batch %s: %w", id, err)
	}
	return s.Get(ctx, id)
}

// chunkStates reads the state of chunks 1..n (index 0 unused; "" for a missing chunk).
func (s *Store) chunkStates(ctx context.Context, id string, n int) ([]string, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, n+1)
	for seq := 1; seq <= n; seq++ {
		cmds[seq] = pipe.HGet(ctx, chunkKey(id, seq), "state")
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return nil, fmt.Errorf("batch %s: read chunk states: %w", id, err)
	}
	out := make([]string, n+1)
	for seq := 1; seq <= n; seq++ {
		out[seq] = cmds[seq].Val()
	}
	return out, nil
}
