package sandbox

import (
	"strconv"

	"github.com/masspayout/masspayout/iyzico"
)

// Error codes of the sandbox's own making. iyzico documents none for mass payout (iyzico.md §7);
// the request-level ones answer the whole request, the item-level ones come back per item in
// invalidItems and as the item's errorMessages.
const (
	// CodeInvalidRequest answers a request the sandbox cannot act on: a body that is not JSON of
	// the endpoint's shape, a missing externalId, requestId or size, no items, an unknown purpose
	// or itemType, a negative page.
	CodeInvalidRequest iyzico.Code = "10422"

	// CodeRefused answers an injected refusal (FaultRefuse, FaultCommitThenRefuse).
	CodeRefused iyzico.Code = "10499"

	// CodeDuplicateExternalID answers an init whose externalId is already used (with another body,
	// or with any body under DuplicateRefuse). iyzico's own code is undocumented (iyzico.md §6).
	CodeDuplicateExternalID iyzico.Code = "10400"
	// CodeNotFound answers an unknown requestId, externalMassPayoutId or referenceCode.
	CodeNotFound iyzico.Code = "10404"
	// CodeInvalidState answers auth or cancel of a payout that is not in INIT.
	CodeInvalidState iyzico.Code = "10409"

	CodeMissingField          iyzico.Code = "20001" // itemExternalId, recipientInfo, amount or currency missing
	CodeInvalidRecipientType  iyzico.Code = "20002" // recipientType not PHONE, IBAN, IDENTITY_NUMBER, MEMBER_ID
	CodeInvalidIBAN           iyzico.Code = "20003" // IBAN country, length, characters or mod-97
	CodeInvalidIdentityNumber iyzico.Code = "20004" // TCKN: 11 digits, first not 0, both check digits
	CodeInvalidPhone          iyzico.Code = "20005" // not E.164 (+90 numbers: exactly 10 digits after +90)
	CodeInvalidMemberID       iyzico.Code = "20006" // not 1–20 ASCII digits
	CodeRecipientNameRequired iyzico.Code = "20007" // IBAN item without recipientName
	CodeInvalidAmount         iyzico.Code = "20008" // not a number, or not greater than 0
	CodeAmountScale           iyzico.Code = "20009" // more than 2 decimal places
	CodeUnsupportedCurrency   iyzico.Code = "20010" // currency not TRY, USD or EUR
)

// msg is a message in both of iyzico's locales.
type msg struct{ tr, en string }

func (m *msg) text(locale string) string {
	if locale == "en" {
		return m.en
	}
	return m.tr
}

// Messages. The Turkish texts of 1000, 1001, 1004 and 1009 are iyzico's own (iyzico.md §1.2).
var (
	msgNoAuthHeader     = msg{"Authorization header string gönderilmesi zorunludur", "Authorization header is required"}
	msgInvalidSignature = msg{"Geçersiz imza", "Invalid signature"}
	msgNoCredentials    = msg{"api bilgileri bulunamadı", "API credentials not found"}
	msgNoRandom         = msg{"Random string gönderilmesi zorunludur", "Random string is required"}
	msgRateLimited      = msg{"Request Limit Exceeded", "Request Limit Exceeded"}
	msgServerError      = msg{"Sistem hatası", "Internal server error"}
	msgRefused          = msg{"İşlem reddedildi", "Request refused"}

	msgBadJSON          = msg{"İstek gövdesi okunamadı", "request body is not valid JSON of the expected shape"}
	msgNoExternalID     = msg{"externalId zorunludur", "externalId is required"}
	msgNoItems          = msg{"En az bir kırılım gönderilmelidir", "items must hold at least one item"}
	msgBadPurpose       = msg{"Geçersiz purpose değeri", "purpose is not one of iyzico's purposes"}
	msgNoRequestID      = msg{"requestId zorunludur", "requestId is required"}
	msgNoRetrieveID     = msg{"requestId veya externalMassPayoutId alanlarından en az biri gönderilmelidir", "requestId or externalMassPayoutId is required"}
	msgBadItemType      = msg{"itemType VALID veya INVALID olmalıdır", "itemType must be VALID or INVALID"}
	msgBadPage          = msg{"page 0 veya daha büyük olmalıdır", "page must be 0 or more"}
	msgBadSize          = msg{"size 1 veya daha büyük olmalıdır", "size must be 1 or more"}
	msgDuplicateExtID   = msg{"Bu externalId farklı bir istekle daha önce kullanılmış", "externalId was already used with a different request body"}
	msgExternalIDUsed   = msg{"Bu externalId daha önce kullanılmış", "externalId was already used"}
	msgPayoutNotFound   = msg{"Toplu ödeme bulunamadı", "mass payout not found"}
	msgItemNotFound     = msg{"Kırılım bulunamadı", "mass payout item not found"}
	msgAlreadyAuthed    = msg{"Toplu ödeme INIT durumunda değil, yetkilendirilemez", "mass payout is not in INIT status and cannot be authorized"}
	msgNotCancelable    = msg{"Toplu ödeme INIT durumunda değil, iptal edilemez", "mass payout is not in INIT status and cannot be canceled"}
	msgBodyTooLarge     = msg{"İstek gövdesi çok büyük", "request body too large"}
	msgNoEndpoint       = msg{"Böyle bir servis yok", "no such endpoint"}
	msgMethodNotAllowed = msg{"Bu metot desteklenmiyor", "method not allowed"}

	msgMissingItemExternalID = msg{"itemExternalId zorunludur", "itemExternalId is required"}
	msgMissingRecipientInfo  = msg{"recipientInfo zorunludur", "recipientInfo is required"}
	msgMissingAmount         = msg{"amount.value zorunludur", "amount.value is required"}
	msgMissingCurrency       = msg{"amount.currency zorunludur", "amount.currency is required"}
	msgBadRecipientType      = msg{"Geçersiz alıcı tipi", "recipientType must be PHONE, IBAN, IDENTITY_NUMBER or MEMBER_ID"}
	msgBadIBAN               = msg{"Geçersiz IBAN", "invalid IBAN"}
	msgBadIdentityNumber     = msg{"Geçersiz T.C. kimlik numarası", "invalid identity number"}
	msgBadPhone              = msg{"Geçersiz telefon numarası", "invalid phone number (E.164, e.g. +905551234567)"}
	msgBadMemberID           = msg{"Geçersiz üye numarası", "invalid member id (digits only)"}
	msgNameRequired          = msg{"IBAN için alıcı adı zorunludur", "recipientName is required for IBAN"}
	msgBadAmount             = msg{"Tutar 0'dan büyük bir sayı olmalıdır", "amount must be a number greater than 0"}
	msgAmountScale           = msg{"Tutar en fazla 2 ondalık basamak içerebilir", "amount has more than 2 decimal places"}
	msgBadCurrency           = msg{"Desteklenmeyen para birimi", "currency must be TRY, USD or EUR"}

	msgBankRejected = msg{"Alıcı banka ödemeyi reddetti", "the recipient's bank rejected the payment"}
	msgRefundFailed = msg{"Tutar ve komisyon toplu ödeme bakiyesine iade edilemedi", "amount and commission could not be refunded to the mass payout balance"}
	msgNoBalance    = msg{"Toplu ödeme bakiyesi yetersiz", "insufficient mass payout balance"}
)

// answer is an HTTP status and a complete JSON body, ready to send.
type answer struct {
	status      int
	body        []byte
	contentType string // "" for JSON
}

// envelope starts an answer object with iyzico's common fields. The caller appends its own
// fields and the closing brace.
func (c *call) envelope(b []byte, st iyzico.Status, code iyzico.Code, m *msg) []byte {
	b = append(b, `{"status":`...)
	b = iyzico.AppendJSONString(b, string(st))
	if code != "" {
		b = append(b, `,"errorCode":`...)
		b = iyzico.AppendJSONString(b, string(code))
	}
	if m != nil {
		b = append(b, `,"errorMessage":`...)
		b = iyzico.AppendJSONString(b, m.text(c.locale))
	}
	b = append(b, `,"locale":`...)
	b = iyzico.AppendJSONString(b, c.locale)
	b = append(b, `,"systemTime":`...)
	b = strconv.AppendInt(b, c.now.UnixMilli(), 10)
	if c.conversationID != "" {
		b = append(b, `,"conversationId":`...)
		b = iyzico.AppendJSONString(b, c.conversationID)
	}
	return b
}

// fail answers a failure with the server's business-failure HTTP status.
func (c *call) fail(code iyzico.Code, m *msg) answer {
	return c.failWith(c.s.failureStatus, code, m)
}

// notFound answers the failure for an unknown requestId, externalMassPayoutId or referenceCode,
// with the dialect's code and HTTP status.
func (c *call) notFound(m *msg) answer {
	return c.failWith(c.s.dialect.NotFoundStatus, c.s.dialect.NotFoundCode, m)
}

// failWith answers a failure with the given HTTP status.
func (c *call) failWith(status int, code iyzico.Code, m *msg) answer {
	c.outcome = "failure " + string(code)
	b := c.envelope(make([]byte, 0, 192), iyzico.StatusFailure, code, m)
	return answer{status: status, body: append(b, '}')}
}
