package sandbox

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/google/uuid"

	"github.com/masspayout/masspayout/iyzico"
)

// initRequest is the body of init as the sandbox reads it; unknown fields are ignored.
type initRequest struct {
	reqBase
	ExternalID string     `json:"externalId"`
	Purpose    string     `json:"purpose"`
	Items      []initItem `json:"items"`
}

// initItem is one item of an init body. Amount.Value stays raw so that a JSON number and a JSON
// string (the PHP and Node SDKs format prices as strings) both read exactly.
type initItem struct {
	ItemExternalID  string      `json:"itemExternalId"`
	RecipientType   string      `json:"recipientType"`
	RecipientInfo   string      `json:"recipientInfo"`
	RecipientName   string      `json:"recipientName"`
	Description     string      `json:"description"`
	Amount          *initAmount `json:"amount"`
	NonWithdrawable *bool       `json:"nonWithdrawable"`
}

type initAmount struct {
	Value    json.RawMessage `json:"value"`
	Currency string          `json:"currency"`
}

// handleInit answers POST /v1/mass/payout/init.
func (s *Server) handleInit(c *call) answer {
	var req initRequest
	if err := json.Unmarshal(c.body, &req); err != nil {
		c.useLenient()
		return c.fail(CodeInvalidRequest, &msgBadJSON)
	}
	c.use(req.reqBase)
	if req.ExternalID == "" {
		return c.fail(CodeInvalidRequest, &msgNoExternalID)
	}
	c.externalID = req.ExternalID
	hash := sha256.Sum256(c.body)
	s.count(func(k *counters) {
		k.initAttempts[req.ExternalID]++
		if !slices.Contains(k.initBodies[req.ExternalID], hash) {
			k.initBodies[req.ExternalID] = append(k.initBodies[req.ExternalID], hash)
		}
	})

	s.mu.RLock()
	existing := s.byExternal[req.ExternalID]
	s.mu.RUnlock()
	if existing != nil {
		return s.repeatInit(c, existing, hash)
	}
	if len(req.Items) == 0 {
		return c.fail(CodeInvalidRequest, &msgNoItems)
	}
	if req.Purpose != "" && !slices.Contains(iyzico.Purposes, req.Purpose) {
		return c.fail(CodeInvalidRequest, &msgBadPurpose)
	}

	p := newPayout(&req, hash)
	s.mu.Lock()
	if existing := s.byExternal[req.ExternalID]; existing != nil {
		s.mu.Unlock() // a concurrent init of the same externalId won
		return s.repeatInit(c, existing, hash)
	}
	s.byExternal[p.externalID] = p
	s.byRequest[p.requestID] = p
	for i := range p.items {
		it := &p.items[i]
		s.byRef[it.ref] = itemRef{p: p, idx: int32(i)}
		if it.externalID == "" {
			continue
		}
		first, seen := s.itemOwner[it.externalID]
		switch {
		case !seen:
			s.itemOwner[it.externalID] = p
		case first == p:
		case len(s.itemDups[it.externalID]) == 0:
			s.itemDups[it.externalID] = []string{first.externalID, p.externalID}
		case !slices.Contains(s.itemDups[it.externalID], p.externalID):
			s.itemDups[it.externalID] = append(s.itemDups[it.externalID], p.externalID)
		}
	}
	s.mu.Unlock()
	s.count(func(k *counters) { k.committedPayouts++; k.committedItems += len(p.items) })
	c.requestID = p.requestIDText
	c.outcome = "success"
	return s.initAnswer(c, p)
}

// repeatInit answers an init whose externalId exists: with DuplicateReplay the original answer
// for the same bytes, the dialect's DuplicateCode for other bytes; with DuplicateRefuse
// DuplicateCode whatever the bytes. Nothing is committed either way.
func (s *Server) repeatInit(c *call, p *payout, hash [32]byte) answer {
	why := &msgDuplicateExtID
	switch {
	case s.dialect.DuplicateInit == DuplicateRefuse:
		why = &msgExternalIDUsed
	case p.bodyHash == hash:
		s.count(func(k *counters) { k.initToExisting[p.externalID]++; k.initReplays++ })
		c.requestID = p.requestIDText
		c.outcome = "replay"
		return s.initAnswer(c, p)
	}
	s.count(func(k *counters) { k.initToExisting[p.externalID]++; k.initConflicts++ })
	return c.fail(s.dialect.DuplicateCode, why)
}

// initAnswer renders a successful init answer: requestId and invalidItems (always present, []
// when every item is valid). It reads only immutable parts of p.
func (s *Server) initAnswer(c *call, p *payout) answer {
	b := c.envelope(make([]byte, 0, 256+96*len(p.invalid)), iyzico.StatusSuccess, "", nil)
	b = append(b, `,"requestId":`...)
	b = iyzico.AppendJSONString(b, p.requestIDText)
	b = append(b, `,"invalidItems":[`...)
	for n, i := range p.invalid {
		it := &p.items[i]
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"externalId":`...)
		b = iyzico.AppendJSONString(b, it.externalID)
		b = append(b, `,"errorCode":`...)
		b = iyzico.AppendJSONString(b, string(it.code))
		b = append(b, `,"errorMessage":`...)
		b = iyzico.AppendJSONString(b, it.why.text(c.locale))
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	return answer{status: http.StatusOK, body: b}
}

// newPayout validates the items of req and builds the payout, with fresh UUIDs for it and for
// every item.
func newPayout(req *initRequest, hash [32]byte) *payout {
	ids := make([]byte, 16*(len(req.Items)+1))
	rand.Read(ids) // crypto/rand.Read never fails (Go ≥ 1.24)
	p := &payout{
		requestID:  newUUID(ids[:16]),
		externalID: req.ExternalID,
		bodyHash:   hash,
		items:      make([]item, len(req.Items)),
		status:     iyzico.PayoutInit,
		commission: centsMoney(0),
	}
	p.requestIDText = p.requestID.String()
	for i := range req.Items {
		in := &req.Items[i]
		it := &p.items[i]
		a, code, why := checkItem(in)
		it.externalID = in.ItemExternalID
		it.recipientType = intern(in.RecipientType, iyzico.RecipientIBAN, iyzico.RecipientPhone, iyzico.RecipientIdentityNumber, iyzico.RecipientMemberID)
		it.recipientInfo = in.RecipientInfo
		it.recipientName = in.RecipientName
		it.description = in.Description
		if in.Amount != nil {
			it.currency = intern(in.Amount.Currency, "TRY", "USD", "EUR")
		}
		if a.fast {
			it.amount = money{cents: a.cents, scale: int8(max(-a.value.Exponent(), 0))}
		} else {
			it.amount = moneyOf(a.value)
		}
		it.ref = newUUID(ids[16*(i+1) : 16*(i+2)])
		if code != "" {
			it.status, it.code, it.why = iyzico.ItemInvalid, code, why
			p.invalid = append(p.invalid, int32(i))
			continue
		}
		it.status = iyzico.ItemInit
		it.outcome = bankOutcome(a)
		if a.fast {
			it.commission = centsMoney(commissionCentsOf(a.cents))
		} else {
			it.commission = moneyOf(Commission(a.value))
		}
		p.valid = append(p.valid, int32(i))
		p.total = p.total.Add(it.amount)
		p.commission = p.commission.Add(it.commission)
		if p.currency == "" {
			p.currency = it.currency
		}
	}
	if p.currency == "" && len(p.items) > 0 {
		p.currency = p.items[0].currency
	}
	return p
}

// intern returns the known string equal to s, so that millions of items share one copy.
func intern(s string, known ...string) string {
	for _, k := range known {
		if s == k {
			return k
		}
	}
	return s
}

// newUUID makes a version 4 UUID of 16 random bytes.
func newUUID(b []byte) uuid.UUID {
	var u uuid.UUID
	copy(u[:], b)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}
