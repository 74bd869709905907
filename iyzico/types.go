package iyzico

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/shopspring/decimal"
)

// Endpoint paths of the mass payout API (iyzico.md §3). They are also the paths that are signed.
const (
	PathInit         = "/v1/mass/payout/init"
	PathAuth         = "/v1/mass/payout/auth"
	PathRetrieve     = "/v1/mass/payout/retrieve"
	PathCancelPrefix = "/v1/mass/payout/cancel/"         // + requestId
	PathItemPrefix   = "/v1/mass/payout/retrieve/items/" // + referenceCode
	PathBalance      = "/v1/mass/payout/balance"
)

// Status is the envelope's "status". Real answers carry "success" or "failure"; the gateway's
// authentication failure carries a number (401), which decodes as its decimal text.
type Status string

// Envelope statuses.
const (
	StatusSuccess Status = "success"
	StatusFailure Status = "failure"
)

// UnmarshalJSON accepts a JSON string or a JSON number.
func (s *Status) UnmarshalJSON(b []byte) error {
	v, err := flexText(b)
	*s = Status(v)
	return err
}

// Code is an iyzico error code. iyzico sends it as a string ("1000") in real answers and as a
// number (50000) in its rate-limit documentation; both decode to the same text.
type Code string

// Error codes this module reacts to (iyzico.md §1.2, §1.4, §7).
const (
	CodeInvalidSignature    Code = "1000"  // "Geçersiz imza"
	CodeCredentialsNotFound Code = "1001"  // "api bilgileri bulunamadı"
	CodeRandomRequired      Code = "1004"  // random string required
	CodeSignatureRequired   Code = "1007"  // signature required
	CodeAuthHeaderRequired  Code = "1009"  // Authorization header required
	CodeGatewayAuthFailed   Code = "5"     // gateway "Authentication failed!"
	CodeRateLimited         Code = "50000" // "Request Limit Exceeded"
)

// iyzico documents no code for "not found", "duplicate externalId" or "invalid state" (iyzico.md
// §7): no behaviour may depend on one. The sandbox's own choices live in package sandbox.

// UnmarshalJSON accepts a JSON string or a JSON number.
func (c *Code) UnmarshalJSON(b []byte) error {
	v, err := flexText(b)
	*c = Code(v)
	return err
}

func flexText(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		return "", nil
	case b[0] == '"':
		var s string
		err := json.Unmarshal(b, &s)
		return s, err
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return "", fmt.Errorf("want a string or a number, got %.20q", b)
		}
		return n.String(), nil
	}
}

// Response is the envelope common to every iyzico answer (iyzico.md §1.2).
type Response struct {
	Status         Status `json:"status"`
	ErrorCode      Code   `json:"errorCode,omitempty"`
	ErrorMessage   string `json:"errorMessage,omitempty"`
	ErrorGroup     string `json:"errorGroup,omitempty"`
	Locale         string `json:"locale,omitempty"`
	SystemTime     int64  `json:"systemTime,omitempty"`
	ConversationID string `json:"conversationId,omitempty"`
}

// Envelope returns the common part of an answer.
func (r *Response) Envelope() *Response { return r }

// Recipient types (iyzico.md §3.1).
const (
	RecipientIBAN           = "IBAN"
	RecipientPhone          = "PHONE"
	RecipientIdentityNumber = "IDENTITY_NUMBER"
	RecipientMemberID       = "MEMBER_ID"
)

// Purposes accepted by init (union of the EN and TR enums, iyzico.md §3.1).
var Purposes = []string{"SALARY", "BONUS", "SETTLEMENT", "GOODS", "SERVICES", "CASHBACK", "REBATES", "DONATIONS"}

// Item statuses (iyzico.md §4.1).
const (
	ItemInit               = "INIT"
	ItemInvalid            = "INVALID"
	ItemQueued             = "QUEUED"
	ItemProcessing         = "PROCESSING"
	ItemSuccess            = "SUCCESS"
	ItemFailed             = "FAILED"
	ItemDepositSuccess     = "DEPOSIT_SUCCESS"
	ItemDepositFail        = "DEPOSIT_FAIL"
	ItemMassPayoutCanceled = "MASS_PAYOUT_CANCELED"
)

// ItemFinal reports whether an item status is final: the bank (or iyzico) will not change it again.
// FAILED is not final by itself (iyzico.md §4.1: it is probably followed by DEPOSIT_SUCCESS or
// DEPOSIT_FAIL); it is once the payout's status is final (see ItemSettled).
func ItemFinal(status string) bool {
	switch status {
	case ItemSuccess, ItemInvalid, ItemMassPayoutCanceled, ItemDepositSuccess, ItemDepositFail:
		return true
	}
	return false
}

// ItemSettled reports whether an item of a payout with status payoutStatus will not change any
// more: ItemFinal, or FAILED in a payout whose status is final.
func ItemSettled(status, payoutStatus string) bool {
	return ItemFinal(status) || (status == ItemFailed && PayoutFinal(payoutStatus))
}

// PayoutFinal reports whether a mass payout status is final: iyzico finished with the payout
// (COMPLETED, SUCCESS, FAIL, INSUFFICIENT_BALANCE, IYZICO_INSUFFICIENT_BALANCE, CANCELED).
func PayoutFinal(status string) bool {
	switch status {
	case PayoutCompleted, PayoutSuccess, PayoutFail, PayoutInsufficientBalance, PayoutIyzicoInsufficientBalance, PayoutCanceled:
		return true
	}
	return false
}

// Mass payout statuses (iyzico.md §4.2; treat as an open set).
const (
	PayoutInit                      = "INIT"
	PayoutInProgress                = "IN_PROGRESS"
	PayoutPublishedToQueue          = "PUBLISHED_TO_QUEUE"
	PayoutSuccess                   = "SUCCESS"
	PayoutCompleted                 = "COMPLETED"
	PayoutFail                      = "FAIL"
	PayoutInsufficientBalance       = "INSUFFICIENT_BALANCE"
	PayoutIyzicoInsufficientBalance = "IYZICO_INSUFFICIENT_BALANCE"
	PayoutCanceled                  = "CANCELED"
)

// Amount is a money amount. Value is encoded as a JSON number with exactly the digits it holds
// (100.50 stays 100.50) and decoded from a JSON number or string.
type Amount struct {
	Value    decimal.Decimal `json:"value"`
	Currency string          `json:"currency"`
}

// MarshalJSON writes {"value":<number>,"currency":"..."} keeping Value's exact digits.
func (a Amount) MarshalJSON() ([]byte, error) {
	cur, err := json.Marshal(a.Currency)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 48)
	b = append(b, `{"value":`...)
	b = AppendDecimal(b, a.Value)
	b = append(b, `,"currency":`...)
	b = append(b, cur...)
	return append(b, '}'), nil
}

// AppendDecimal appends d as a JSON number with exactly its digits: the scale is kept, so 100.50
// is written as 100.50 and 100 as 100. It never uses scientific notation, whatever
// decimal.UseScientificNotation says.
func AppendDecimal(b []byte, d decimal.Decimal) []byte {
	exp := d.Exponent()
	if exp > 0 || exp < -18 || d.NumDigits() > 18 {
		// StringFixed with the value's own scale never rounds, and never writes an exponent.
		return append(b, d.StringFixed(max(-exp, 0))...)
	}
	// Fast path without allocation: the coefficient fits an int64 (NumDigits ≤ 18).
	c := d.CoefficientInt64()
	if c < 0 {
		b = append(b, '-')
		c = -c
	}
	var buf [40]byte
	digits := strconv.AppendInt(buf[:0], c, 10)
	scale := int(-exp)
	for len(digits) <= scale { // at least one digit before the point: 0.05, not .05
		digits = append(digits[:1], digits...)
		digits[0] = '0'
	}
	if scale == 0 {
		return append(b, digits...)
	}
	b = append(b, digits[:len(digits)-scale]...)
	b = append(b, '.')
	return append(b, digits[len(digits)-scale:]...)
}

// InitRequest is the body of POST /v1/mass/payout/init. Build it once per chunk and keep the bytes:
// every attempt must send the same bytes under the same ExternalID.
type InitRequest struct {
	ExternalID     string `json:"externalId"`
	ConversationID string `json:"conversationId,omitempty"`
	Purpose        string `json:"purpose,omitempty"`
	Items          []Item `json:"items"`
}

// Item is one payout item of an init request.
type Item struct {
	ItemExternalID  string `json:"itemExternalId"`
	RecipientType   string `json:"recipientType"`
	RecipientInfo   string `json:"recipientInfo"`
	Amount          Amount `json:"amount"`
	Description     string `json:"description,omitempty"`
	RecipientName   string `json:"recipientName,omitempty"`
	NonWithdrawable bool   `json:"nonWithdrawable,omitempty"`
}

// InitResponse is the answer to init.
type InitResponse struct {
	Response
	RequestID    string        `json:"requestId,omitempty"`
	InvalidItems []InvalidItem `json:"invalidItems,omitempty"`
}

// InvalidItem names an item iyzico refused at init. ExternalID carries the item's itemExternalId.
type InvalidItem struct {
	ExternalID   string `json:"externalId"`
	ErrorCode    Code   `json:"errorCode,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
}

// AuthRequest is the body of POST /v1/mass/payout/auth.
type AuthRequest struct {
	RequestID string `json:"requestId"`
}

// AuthResponse is the answer to auth and to cancel: the envelope only.
type AuthResponse struct {
	Response
}

// Retrieve item filters (iyzico.md §3.5).
const (
	ItemTypeValid   = "VALID"
	ItemTypeInvalid = "INVALID"
)

// RetrieveRequest is the body of POST /v1/mass/payout/retrieve. At least one of RequestID and
// ExternalMassPayoutID is needed. Page is 0-based.
type RetrieveRequest struct {
	RequestID            string `json:"requestId,omitempty"`
	ExternalMassPayoutID string `json:"externalMassPayoutId,omitempty"`
	ItemType             string `json:"itemType,omitempty"`
	Page                 int    `json:"page"`
	Size                 int    `json:"size"`
}

// RetrieveResponse is the answer to retrieve. Paging is read from the top level or from inside
// massPayoutItems, wherever it arrives: use Paging.
type RetrieveResponse struct {
	Response
	MassPayout      *MassPayoutSummary `json:"massPayout,omitempty"`
	MassPayoutItems ItemsPage          `json:"massPayoutItems"`
	Page            *int               `json:"page,omitempty"`
	Size            *int               `json:"size,omitempty"`
	Total           *int64             `json:"total,omitempty"`
}

// Paging returns the page index, page size and total item count of a retrieve answer, read from
// the top level first and from massPayoutItems otherwise. A missing total is reported as -1.
func (r *RetrieveResponse) Paging() (page, size int, total int64) {
	page, size, total = 0, 0, -1
	pick := func(top *int, nested *int) int {
		if top != nil {
			return *top
		}
		if nested != nil {
			return *nested
		}
		return 0
	}
	page = pick(r.Page, r.MassPayoutItems.Page)
	size = pick(r.Size, r.MassPayoutItems.Size)
	switch {
	case r.Total != nil:
		total = *r.Total
	case r.MassPayoutItems.Total != nil:
		total = *r.MassPayoutItems.Total
	}
	return page, size, total
}

// ItemsPage is one page of payout items.
type ItemsPage struct {
	Items []ItemDetail `json:"items"`
	Page  *int         `json:"page,omitempty"`
	Size  *int         `json:"size,omitempty"`
	Total *int64       `json:"total,omitempty"`
}

// MassPayoutSummary describes one mass payout (iyzico.md §3.5).
type MassPayoutSummary struct {
	ExternalID            string          `json:"externalId,omitempty"`
	RequestID             string          `json:"requestId,omitempty"`
	MerchantID            int64           `json:"merchantId,omitempty"`
	TotalAmount           decimal.Decimal `json:"totalAmount"`
	TotalSuccessfulAmount decimal.Decimal `json:"totalSuccessfulAmount"`
	MassPayoutStatus      string          `json:"massPayoutStatus,omitempty"`
	TotalCommissionAmount decimal.Decimal `json:"totalCommissionAmount"`
	Currency              string          `json:"currency,omitempty"`
}

// ItemDetail is one payout item as retrieve and retrieve-item report it. ErrorMessage (singular)
// and MassPayoutRequestID appear in the Java SDK's model, not in the documented schema.
type ItemDetail struct {
	ItemExternalID      string          `json:"itemExternalId"`
	ReferenceCode       string          `json:"referenceCode,omitempty"`
	RecipientType       string          `json:"recipientType,omitempty"`
	RecipientInfo       string          `json:"recipientInfo,omitempty"`
	RecipientName       string          `json:"recipientName,omitempty"`
	Description         string          `json:"description,omitempty"`
	ItemStatus          string          `json:"itemStatus"`
	ErrorMessages       []string        `json:"errorMessages"`
	ErrorMessage        string          `json:"errorMessage,omitempty"`
	TotalAmount         decimal.Decimal `json:"totalAmount"`
	CommissionAmount    decimal.Decimal `json:"commissionAmount"`
	CurrencyCode        string          `json:"currencyCode,omitempty"`
	MassPayoutRequestID string          `json:"massPayoutRequestId,omitempty"`
}

// ItemResponse is the answer to retrieve item.
type ItemResponse struct {
	Response
	Item *ItemDetail `json:"item,omitempty"`
}

// BalanceResponse is the answer to balance. iyzico sends balance as a JSON string.
type BalanceResponse struct {
	Response
	Balance decimal.Decimal `json:"balance"`
}
