package worker

import (
	"context"
	"fmt"
	"sort"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/tasks"
	"github.com/shopspring/decimal"
)

// balanceSample is how many chunks of an approval are read back for their commission; the others'
// is estimated from them, so that approving a country-sized batch does not wait on thousands of
// calls.
const balanceSample = 20

// CheckBalance reads iyzico's mass payout balance and the commission of (a sample of) the chunks
// an approval would release, from their read-back (the payout's totalCommissionAmount), and
// returns the check batch.Approve makes: the TRY items to release plus their commission against
// the balance. Chunks not read back get the commission ratio of those that were.
func (p *Pipeline) CheckBalance(ctx context.Context, batchID string, pend *batch.Pending) (*batch.BalanceCheck, error) {
	resp, err := p.Iyzico.Balance(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the mass payout balance: %w", err)
	}
	check := &batch.BalanceCheck{Balance: resp.Balance, Total: pend.Totals["TRY"]}
	for cur, t := range pend.Totals {
		if cur != "TRY" && t.Sign() > 0 {
			check.Unchecked = append(check.Unchecked, batch.FormatAmount(t, cur)+" "+cur)
		}
	}
	sort.Strings(check.Unchecked)
	step := max(1, len(pend.Chunks)/balanceSample)
	var readTotal, readCommission decimal.Decimal
	read := map[int]bool{}
	for i := 0; i < len(pend.Chunks); i += step {
		ref := tasks.Chunk{Batch: batchID, Seq: pend.Chunks[i]}
		r, err := p.Iyzico.Retrieve(ctx, iyzico.RetrieveRequest{ExternalMassPayoutID: tasks.ChunkExternalID(ref.Batch, ref.Seq), Size: 1})
		if err != nil || r.MassPayout == nil || r.MassPayout.Currency != "TRY" {
			continue // estimated below
		}
		read[i] = true
		readTotal = readTotal.Add(pend.ChunkTotals[i]["TRY"])
		readCommission = readCommission.Add(r.MassPayout.TotalCommissionAmount)
		check.Commission = check.Commission.Add(r.MassPayout.TotalCommissionAmount)
	}
	for i := range pend.Chunks {
		t := pend.ChunkTotals[i]["TRY"]
		if read[i] || t.IsZero() {
			continue
		}
		check.CommissionEstimated = true
		if readTotal.Sign() > 0 {
			check.Commission = check.Commission.Add(t.Mul(readCommission).Div(readTotal).Round(2))
		}
	}
	return check, nil
}
