package sandbox

import (
	"encoding/json"
	"net/http"

	"github.com/google/uuid"

	"github.com/masspayout/masspayout/iyzico"
)

// authRequest is the body of auth.
type authRequest struct {
	reqBase
	RequestID string `json:"requestId"`
}

// handleAuth answers POST /v1/mass/payout/auth: it authorizes a payout in INIT. The balance is
// debited by the amount plus commission of its valid items; when it is short, nothing is debited
// and the payout becomes INSUFFICIENT_BALANCE (the answer is still success, as iyzico reports
// that status asynchronously).
func (s *Server) handleAuth(c *call) answer {
	var req authRequest
	if err := json.Unmarshal(c.body, &req); err != nil {
		c.useLenient()
		return c.fail(CodeInvalidRequest, &msgBadJSON)
	}
	c.use(req.reqBase)
	if req.RequestID == "" {
		return c.fail(CodeInvalidRequest, &msgNoRequestID)
	}
	c.requestID = req.RequestID
	s.count(func(k *counters) { k.authCalls[req.RequestID]++ })
	p := s.payoutByRequestID(req.RequestID)
	if p == nil {
		return c.notFound(&msgPayoutNotFound)
	}
	c.externalID = p.externalID

	p.mu.Lock()
	if p.phase != phaseInit {
		p.mu.Unlock()
		s.count(func(k *counters) { k.authInvalidState++; k.authToNonInit[req.RequestID]++ })
		return c.fail(s.dialect.InvalidStateCode, &msgAlreadyAuthed)
	}
	need := p.total.Add(p.commission).Decimal()
	s.balMu.Lock()
	p.insufficient = s.balance.LessThan(need)
	if !p.insufficient {
		s.balance = s.balance.Sub(need)
	}
	s.balMu.Unlock()
	for _, i := range p.valid {
		p.items[i].status = iyzico.ItemProcessing
	}
	p.status = iyzico.PayoutInProgress
	if p.insufficient {
		p.status = iyzico.PayoutInsufficientBalance
	}
	p.phase = phaseProcessing
	p.authAt = c.now
	s.pendMu.Lock()
	s.pending[p] = struct{}{}
	s.pendMu.Unlock()
	p.mu.Unlock()

	s.count(func(k *counters) { k.authCommits[req.RequestID]++ })
	c.outcome = "success"
	return c.ok()
}

// handleCancel answers POST /v1/mass/payout/cancel/{requestId}: a payout in INIT becomes
// CANCELED and its valid items MASS_PAYOUT_CANCELED. The body, if any, is not needed.
func (s *Server) handleCancel(c *call) answer {
	c.useLenient()
	id := c.rt.param
	c.requestID = id
	s.count(func(k *counters) { k.cancelCalls[id]++ })
	p := s.payoutByRequestID(id)
	if p == nil {
		return c.notFound(&msgPayoutNotFound)
	}
	c.externalID = p.externalID
	p.mu.Lock()
	if p.phase != phaseInit {
		p.mu.Unlock()
		return c.fail(s.dialect.InvalidStateCode, &msgNotCancelable)
	}
	for _, i := range p.valid {
		p.items[i].status = iyzico.ItemMassPayoutCanceled
	}
	p.status = iyzico.PayoutCanceled
	p.phase = phaseCanceled
	p.mu.Unlock()
	s.count(func(k *counters) { k.cancelCommits++ })
	c.outcome = "success"
	return c.ok()
}

// ok answers a success carrying the envelope only.
func (c *call) ok() answer {
	b := c.envelope(make([]byte, 0, 128), iyzico.StatusSuccess, "", nil)
	return answer{status: http.StatusOK, body: append(b, '}')}
}

// payoutByRequestID finds a payout by its requestId text; nil when unknown or not a UUID.
func (s *Server) payoutByRequestID(id string) *payout {
	u, ok := parseID(id)
	if !ok {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byRequest[u]
}

// parseID reads a UUID in its canonical lower-case text form only, as the sandbox issues them.
func parseID(text string) (uuid.UUID, bool) {
	u, err := uuid.Parse(text)
	if err != nil || u.String() != text {
		return uuid.UUID{}, false
	}
	return u, true
}
