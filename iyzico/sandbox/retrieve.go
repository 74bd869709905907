package sandbox

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/masspayout/masspayout/iyzico"
)

// retrieveRequest is the body of retrieve.
type retrieveRequest struct {
	reqBase
	RequestID            string `json:"requestId"`
	ExternalMassPayoutID string `json:"externalMassPayoutId"`
	ItemType             string `json:"itemType"`
	Page                 *int   `json:"page"`
	Size                 *int   `json:"size"`
}

// handleRetrieve answers POST /v1/mass/payout/retrieve: the payout's summary and one page of its
// items in init body order, filtered by itemType (VALID: every item but INVALID ones; INVALID:
// INVALID ones; absent: all).
func (s *Server) handleRetrieve(c *call) answer {
	var req retrieveRequest
	if err := json.Unmarshal(c.body, &req); err != nil {
		c.useLenient()
		return c.fail(CodeInvalidRequest, &msgBadJSON)
	}
	c.use(req.reqBase)
	c.requestID, c.externalID = req.RequestID, req.ExternalMassPayoutID
	switch {
	case req.RequestID == "" && req.ExternalMassPayoutID == "":
		return c.fail(CodeInvalidRequest, &msgNoRetrieveID)
	case req.ItemType != "" && req.ItemType != iyzico.ItemTypeValid && req.ItemType != iyzico.ItemTypeInvalid:
		return c.fail(CodeInvalidRequest, &msgBadItemType)
	case req.Page != nil && *req.Page < 0:
		return c.fail(CodeInvalidRequest, &msgBadPage)
	case req.Size == nil || *req.Size < 1:
		return c.fail(CodeInvalidRequest, &msgBadSize)
	}
	var p *payout
	if req.RequestID != "" {
		p = s.payoutByRequestID(req.RequestID)
	}
	if req.ExternalMassPayoutID != "" {
		s.mu.RLock()
		q := s.byExternal[req.ExternalMassPayoutID]
		s.mu.RUnlock()
		if req.RequestID == "" {
			p = q
		} else if p != q {
			p = nil
		}
	}
	if p == nil {
		return c.notFound(&msgPayoutNotFound)
	}
	page, size := 0, min(*req.Size, s.maxPageSize)
	if req.Page != nil {
		page = *req.Page
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	s.advance(p, c.now)
	var idx []int32 // nil: all items
	total := len(p.items)
	switch req.ItemType {
	case iyzico.ItemTypeValid:
		idx, total = p.valid, len(p.valid)
	case iyzico.ItemTypeInvalid:
		idx, total = p.invalid, len(p.invalid)
	}
	from, to := total, total
	if page < total/size+1 {
		from, to = page*size, min(page*size+size, total)
	}

	b := c.envelope(make([]byte, 0, 512+400*(to-from)), iyzico.StatusSuccess, "", nil)
	b = append(b, `,"massPayout":{"externalId":`...)
	b = iyzico.AppendJSONString(b, p.externalID)
	b = append(b, `,"merchantId":`...)
	b = strconv.AppendInt(b, MerchantID, 10)
	b = append(b, `,"totalAmount":`...)
	b = appendMoney(b, p.total)
	b = append(b, `,"totalSuccessfulAmount":`...)
	b = appendMoney(b, p.successTotal)
	b = append(b, `,"massPayoutStatus":`...)
	b = iyzico.AppendJSONString(b, p.status)
	b = append(b, `,"totalCommissionAmount":`...)
	b = appendMoney(b, p.commission)
	b = append(b, `,"currency":`...)
	b = iyzico.AppendJSONString(b, p.currency)
	b = append(b, `},"massPayoutItems":{"items":[`...)
	for n := from; n < to; n++ {
		i := n
		if idx != nil {
			i = int(idx[n])
		}
		if n > from {
			b = append(b, ',')
		}
		b = s.appendItem(b, c, p, &p.items[i], !s.omitIDInPage)
	}
	b = append(b, ']')
	if s.pagingNested {
		b = appendPaging(b, page, size, total)
	}
	b = append(b, '}')
	if s.pagingTop {
		b = appendPaging(b, page, size, total)
	}
	b = append(b, '}')
	c.outcome = "success"
	return answer{status: http.StatusOK, body: b}
}

func appendPaging(b []byte, page, size, total int) []byte {
	b = append(b, `,"page":`...)
	b = strconv.AppendInt(b, int64(page), 10)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, int64(size), 10)
	b = append(b, `,"total":`...)
	return strconv.AppendInt(b, int64(total), 10)
}

// appendItem renders one item (p.mu held), with massPayoutRequestId when withRequestID.
func (s *Server) appendItem(b []byte, c *call, p *payout, it *item, withRequestID bool) []byte {
	b = append(b, `{"itemExternalId":`...)
	b = iyzico.AppendJSONString(b, it.externalID)
	b = append(b, `,"referenceCode":`...)
	b = iyzico.AppendJSONString(b, it.ref.String())
	b = append(b, `,"recipientType":`...)
	b = iyzico.AppendJSONString(b, it.recipientType)
	b = append(b, `,"recipientInfo":`...)
	b = iyzico.AppendJSONString(b, it.recipientInfo)
	if it.recipientName != "" {
		b = append(b, `,"recipientName":`...)
		b = iyzico.AppendJSONString(b, it.recipientName)
	}
	if it.description != "" {
		b = append(b, `,"description":`...)
		b = iyzico.AppendJSONString(b, it.description)
	}
	b = append(b, `,"itemStatus":`...)
	b = iyzico.AppendJSONString(b, it.status)
	b = append(b, `,"errorMessages":[`...)
	for n, m := range p.itemMessages(it) {
		if n > 0 {
			b = append(b, ',')
		}
		b = iyzico.AppendJSONString(b, m.text(c.locale))
	}
	b = append(b, `],"totalAmount":`...)
	b = appendMoney(b, it.amount)
	b = append(b, `,"commissionAmount":`...)
	b = appendMoney(b, it.commission)
	b = append(b, `,"currencyCode":`...)
	b = iyzico.AppendJSONString(b, it.currency)
	if withRequestID {
		b = append(b, `,"massPayoutRequestId":`...)
		b = iyzico.AppendJSONString(b, p.requestIDText)
	}
	return append(b, '}')
}

// handleItem answers GET /v1/mass/payout/retrieve/items/{referenceCode}.
func (s *Server) handleItem(c *call) answer {
	c.useLenient()
	u, ok := parseID(c.rt.param)
	var ref itemRef
	if ok {
		s.mu.RLock()
		ref, ok = s.byRef[u]
		s.mu.RUnlock()
	}
	if !ok {
		return c.notFound(&msgItemNotFound)
	}
	p := ref.p
	c.externalID, c.requestID = p.externalID, p.requestIDText
	p.mu.Lock()
	defer p.mu.Unlock()
	s.advance(p, c.now)
	b := c.envelope(make([]byte, 0, 640), iyzico.StatusSuccess, "", nil)
	b = append(b, `,"item":`...)
	b = s.appendItem(b, c, p, &p.items[ref.idx], !s.omitIDInItem)
	b = append(b, '}')
	c.outcome = "success"
	return answer{status: http.StatusOK, body: b}
}

// handleBalance answers GET /v1/mass/payout/balance, after settling whatever is due. The balance
// is a JSON string, as in iyzico's example.
func (s *Server) handleBalance(c *call) answer {
	c.useLenient()
	s.settleAll(c.now)
	s.balMu.Lock()
	bal := s.balance
	s.balMu.Unlock()
	b := c.envelope(make([]byte, 0, 160), iyzico.StatusSuccess, "", nil)
	b = append(b, `,"balance":`...)
	b = iyzico.AppendJSONString(b, bal.String())
	b = append(b, '}')
	c.outcome = "success"
	return answer{status: http.StatusOK, body: b}
}
