package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/payoutfile"
	"github.com/shopspring/decimal"
)

// Re-payment. The ledger keeps no recipient details once iyzico holds a payout (a chunk's body is
// deleted then, and the report masks IBANs and identity numbers), so the file of the rows to pay
// again is made from the original file: WriteRepay checks that it is the file the batch was
// submitted from (its SHA-256), reads it with the batch's options, and writes the rows that are
// definitively not paid, as a CSV file masspayout reads, with a reason column.

// RepayHeader is the repay file's header: the input columns, then why the row was not paid.
var RepayHeader = []string{"item_external_id", "recipient_type", "recipient_info", "recipient_name", "amount", "currency", "description", "non_withdrawable", "reason"}

// ErrNotOriginal: the file given to WriteRepay is not the one the batch was submitted from.
var ErrNotOriginal = errors.New("not the batch's original file")

// ErrStillSubmitting: the batch's submission has not completed; nothing can be repaid yet.
var ErrStillSubmitting = errors.New("the batch is still being submitted")

// RepaySummary says what WriteRepay wrote and what it left out.
type RepaySummary struct {
	Batch string `json:"batch"`
	// Rows were written; Amounts sums them per currency (rows whose amount can be read).
	Rows    int               `json:"rows"`
	Amounts map[string]string `json:"amounts"`
	// Left out: rows that may still be paid (pending, UNKNOWN, FAILED in a payout not final),
	// DEPOSIT_FAIL rows (money neither paid nor back: resolve them with iyzico first), and rows
	// refused because another batch pays them (re-pay them from that batch).
	StillOpen     int `json:"still_open"`
	DepositFail   int `json:"deposit_fail"`
	PaidElsewhere int `json:"paid_elsewhere"`
}

// repayReasons returns, for each file row of batch b that is definitively not paid, why; and
// counts the rows left out in sum.
func (s *Store) repayReasons(ctx context.Context, b *Batch, sum *RepaySummary) (map[int]string, error) {
	reasons := map[int]string{}
	for from := 1; from <= b.ChunksTotal; from += reportWindowSize {
		chunks, err := s.getChunks(ctx, b.ID, from, min(from+reportWindowSize-1, b.ChunksTotal))
		if err != nil {
			return nil, err
		}
		for _, c := range chunks {
			for i, st := range c.Statuses() {
				var oc Outcome
				if i < len(c.Outcomes) {
					oc = c.Outcomes[i]
				}
				switch {
				case NotPaidForGood(st, c.PayoutStatus):
					reasons[c.Rows[i]] = notPaidReason(st, oc, c)
				case st == iyzico.ItemDepositFail:
					sum.DepositFail++
				case Paid(st) != PaidYes:
					sum.StillOpen++
				}
			}
		}
	}
	it := &rejectedIter{s: s, ctx: ctx, id: b.ID, pages: (b.Rejected + rejectedPageSize - 1) / rejectedPageSize}
	for {
		r, err := it.peek()
		if err != nil {
			return nil, err
		}
		if r == nil {
			break
		}
		if r.Code == CodeAlreadyPaid || r.Code == CodePossibleDuplicate {
			sum.PaidElsewhere++
		} else {
			reasons[r.Row] = r.Code + ": " + r.Message
		}
		it.pop()
	}
	return reasons, nil
}

// notPaidReason says why an item of chunk c is not paid, in the report's terms.
func notPaidReason(status string, oc Outcome, c *Chunk) string {
	what := map[string]string{
		iyzico.ItemInvalid:            "iyzico refused the item",
		iyzico.ItemFailed:             "the bank did not pay it",
		iyzico.ItemDepositSuccess:     "the bank did not pay it and the money came back",
		iyzico.ItemMassPayoutCanceled: "the payout was canceled before it was sent",
		RowError:                      "iyzico refused the whole chunk",
	}[status]
	if what == "" {
		what = "not paid"
	}
	r := status + ": " + what
	detail := oc.Message
	if detail == "" && status == RowError {
		detail = c.LastError
	}
	if oc.Code != "" {
		r += " (" + oc.Code + ")"
	}
	if detail != "" {
		r += ": " + detail
	}
	return r
}

// WriteRepay writes to w the rows of batch id that are definitively not paid, read from original,
// which must be the file the batch was submitted from (else ErrNotOriginal); limits are the
// reader limits (MaxFileBytes, MaxFieldBytes, MaxRows), the format options come from the batch.
func (s *Store) WriteRepay(ctx context.Context, id string, original File, limits payoutfile.Options, w io.Writer) (*RepaySummary, error) {
	b, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !b.SubmitDone {
		return nil, fmt.Errorf("batch %s: %w; wait for it, or submit the same file again to complete it", id, ErrStillSubmitting)
	}
	sha, err := hashFile(original, limits.MaxFileBytes)
	if err != nil {
		return nil, err
	}
	if sha != b.ContentHash {
		return nil, fmt.Errorf("batch %s: %w: this file's sha256 is %s, the batch was submitted from a file with sha256 %s (%s); give that file, unchanged",
			id, ErrNotOriginal, sha[:16], b.ContentHash[:16], b.Source)
	}
	sum := &RepaySummary{Batch: id, Amounts: map[string]string{}}
	reasons, err := s.repayReasons(ctx, b, sum)
	if err != nil {
		return nil, err
	}
	if _, err := original.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("batch %s: rewind file: %w", id, err)
	}
	o := limits
	o.Format, o.DecimalComma, o.Currencies = payoutfile.Format(b.Options.Format), b.Options.DecimalComma, b.Options.Currencies
	r, err := payoutfile.NewReader(original, o)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	totals := map[string]decimal.Decimal{}
	line := make([]byte, 0, 512)
	for i, h := range RepayHeader {
		if i > 0 {
			line = append(line, ',')
		}
		line = append(line, h...)
	}
	line = append(line, '\n')
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("batch %s: read the original file: %w", id, err)
		}
		reason, ok := reasons[rec.Row]
		if !ok {
			continue
		}
		delete(reasons, rec.Row)
		line = appendRepayRow(line, &rec, reason)
		sum.Rows++
		if rec.AmountOK {
			totals[rec.Item.Currency] = totals[rec.Item.Currency].Add(rec.Item.Amount)
		}
		if len(line) > 64<<10 {
			if _, err := w.Write(line); err != nil {
				return nil, err
			}
			line = line[:0]
		}
	}
	if len(reasons) > 0 {
		// The file has the batch's hash, so this is a reader that changed under the ledger.
		rows := make([]int, 0, len(reasons))
		for row := range reasons {
			rows = append(rows, row)
		}
		slices.Sort(rows)
		return nil, fmt.Errorf("batch %s: %d rows not paid (first: row %d) are not in the file as this version reads it; nothing more was written", id, len(rows), rows[0])
	}
	if _, err := w.Write(line); err != nil {
		return nil, err
	}
	for cur, a := range totals {
		sum.Amounts[cur] = FormatAmount(a, cur)
	}
	return sum, nil
}

// appendRepayRow appends one repay line. A row that passed validation is written as it was
// paid (normalised); one refused by validation as it was read, cells a spreadsheet would run as
// formulas neutralised (it has to be corrected anyway).
func appendRepayRow(b []byte, rec *payoutfile.Record, reason string) []byte {
	it := &rec.Item
	valid := rec.Valid()
	cell := func(s string) string {
		if valid {
			return s
		}
		return safeCell(s)
	}
	amount := rec.AmountText
	if valid {
		amount = string(appendFixed(nil, iyzico.Amount{Value: it.Amount, Currency: it.Currency}))
	}
	nw := ""
	if it.NonWithdrawable {
		nw = "true"
	}
	for i, f := range []string{cell(it.ItemExternalID), cell(it.RecipientType), cell(it.RecipientInfo), cell(it.RecipientName),
		cell(amount), cell(it.Currency), cell(it.Description), nw, safeCell(reason)} {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCSVField(b, f)
	}
	return append(b, '\n')
}

// RepayFileName is the file name the API and dashboard offer for the repay file of batch id.
func RepayFileName(id string) string { return id + "-repay.csv" }
