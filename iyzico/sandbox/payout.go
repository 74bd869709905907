package sandbox

import (
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/masspayout/masspayout/iyzico"
)

// outcome is what the bank will do with an authorized item, fixed at init from its amount.
type outcome uint8

const (
	outcomeSuccess      outcome = iota
	outcomeFailRefund           // cents .99: FAILED, then DEPOSIT_SUCCESS
	outcomeFailNoRefund         // cents .98: FAILED, then DEPOSIT_FAIL
)

var (
	cents98 = decimal.New(98, -2)
	cents99 = decimal.New(99, -2)
)

// bankOutcome applies the documented rule on the amount's minor units.
func bankOutcome(a amount) outcome {
	if a.fast {
		switch a.cents % 100 {
		case 99:
			return outcomeFailRefund
		case 98:
			return outcomeFailNoRefund
		}
		return outcomeSuccess
	}
	frac := a.value.Sub(a.value.Truncate(0))
	switch {
	case frac.Equal(cents99):
		return outcomeFailRefund
	case frac.Equal(cents98):
		return outcomeFailNoRefund
	}
	return outcomeSuccess
}

var (
	commissionRate = decimal.New(5, -3) // 0.5%
	minCommission  = decimal.New(100, -2)
)

// Commission returns the sandbox's commission on one item: 0.5% of amount rounded half-up to 2
// decimals, at least 1.00, in the item's currency.
func Commission(amount decimal.Decimal) decimal.Decimal {
	if cents, ok := minorUnits(amount); ok && cents > 0 {
		return decimal.New(commissionCentsOf(cents), -2)
	}
	return decimal.Max(minCommission, amount.Mul(commissionRate).Round(2))
}

// commissionCentsOf is Commission in hundredths for a positive amount in hundredths: 5/1000 of it,
// half-up, at least 100.
func commissionCentsOf(cents int64) int64 {
	return max(100, (cents*5+500)/1000)
}

// item is one stored payout item. Every field but status is written once, before the payout is
// published, and read without the payout's lock.
type item struct {
	externalID    string
	recipientType string
	recipientInfo string
	recipientName string
	description   string
	currency      string
	amount        money
	commission    money // zero for INVALID items
	ref           uuid.UUID
	code          iyzico.Code // INVALID items: why
	why           *msg
	outcome       outcome
	status        string // guarded by payout.mu
}

// phase is where an authorized payout is in its life.
type phase uint8

const (
	phaseInit       phase = iota // initialized, awaiting auth or cancel
	phaseProcessing              // authorized: items PROCESSING
	phaseBank                    // bank answered: items SUCCESS or FAILED
	phaseFinal                   // failed items refunded or not: nothing changes any more
	phaseCanceled
)

// payout is one mass payout. mu guards status, phase, authAt, successTotal, successCount and the
// items' status; everything else is immutable once the payout is in the server's maps.
type payout struct {
	requestID     uuid.UUID
	requestIDText string
	externalID    string
	bodyHash      [32]byte
	items         []item
	valid         []int32 // indexes of valid items, in body order
	invalid       []int32 // indexes of INVALID items, in body order
	currency      string
	total         money // sum of valid items' amounts
	commission    money // sum of valid items' commissions

	mu           sync.Mutex
	status       string
	phase        phase
	authAt       time.Time
	insufficient bool
	successTotal money
	successCount int
}

// advance moves an authorized payout along by the clock (p.mu held): at authAt+SettleDelay the
// bank answers each item (SUCCESS or FAILED; payout PUBLISHED_TO_QUEUE), at authAt+2·SettleDelay
// failed items become DEPOSIT_SUCCESS (refunded) or DEPOSIT_FAIL, or stay FAILED under the
// dialect's FailedStays (refunds are still made), and the payout takes the dialect's
// CompletedStatus (some item succeeded) or FailStatus (none did). An INSUFFICIENT_BALANCE payout
// keeps that status; its items fail and become DEPOSIT_SUCCESS (or stay FAILED) without touching
// the balance (nothing was debited).
func (s *Server) advance(p *payout, now time.Time) {
	if p.phase == phaseProcessing && !now.Before(p.authAt.Add(s.settleDelay)) {
		for _, i := range p.valid {
			it := &p.items[i]
			if !p.insufficient && it.outcome == outcomeSuccess {
				it.status = iyzico.ItemSuccess
				p.successTotal = p.successTotal.Add(it.amount)
				p.successCount++
			} else {
				it.status = iyzico.ItemFailed
			}
		}
		if !p.insufficient {
			p.status = iyzico.PayoutPublishedToQueue
		}
		p.phase = phaseBank
	}
	if p.phase == phaseBank && !now.Before(p.authAt.Add(2*s.settleDelay)) {
		var refund money
		for _, i := range p.valid {
			it := &p.items[i]
			if it.status != iyzico.ItemFailed {
				continue
			}
			refunded := !p.insufficient && it.outcome == outcomeFailRefund
			if refunded {
				refund = refund.Add(it.amount).Add(it.commission)
			}
			switch {
			case s.dialect.FailedStays:
			case p.insufficient || refunded:
				it.status = iyzico.ItemDepositSuccess
			default:
				it.status = iyzico.ItemDepositFail
			}
		}
		if refund.Sign() > 0 {
			s.balMu.Lock()
			s.balance = s.balance.Add(refund.Decimal())
			s.balMu.Unlock()
		}
		if !p.insufficient {
			if p.successCount > 0 {
				p.status = s.dialect.CompletedStatus
			} else {
				p.status = s.dialect.FailStatus
			}
		}
		p.phase = phaseFinal
		s.pendMu.Lock()
		delete(s.pending, p)
		s.pendMu.Unlock()
	}
}

// settleAll advances every authorized payout that is not final yet.
func (s *Server) settleAll(now time.Time) {
	s.pendMu.Lock()
	ps := make([]*payout, 0, len(s.pending))
	for p := range s.pending {
		ps = append(ps, p)
	}
	s.pendMu.Unlock()
	for _, p := range ps {
		p.mu.Lock()
		s.advance(p, now)
		p.mu.Unlock()
	}
}

// itemMessages returns an item's errorMessages in its current status.
func (p *payout) itemMessages(it *item) []*msg {
	switch it.status {
	case iyzico.ItemInvalid:
		return []*msg{it.why}
	case iyzico.ItemFailed, iyzico.ItemDepositSuccess:
		if p.insufficient {
			return []*msg{&msgNoBalance}
		}
		return []*msg{&msgBankRejected}
	case iyzico.ItemDepositFail:
		return []*msg{&msgBankRejected, &msgRefundFailed}
	}
	return nil
}
