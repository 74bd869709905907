package sandbox

import (
	"net/http"

	"github.com/masspayout/masspayout/iyzico"
)

// Dialect is how the sandbox answers where iyzico documents nothing. The zero value is the
// sandbox's historical behaviour ("ours").
type Dialect struct {
	Name string // for logs and test names; "" = "ours"
	// NotFoundCode is the errorCode of the failure answer to an unknown requestId,
	// externalMassPayoutId or referenceCode (retrieve, retrieve item, auth, cancel). Default
	// CodeNotFound ("10404").
	NotFoundCode iyzico.Code
	// NotFoundStatus is the HTTP status of those answers. Default: Options.FailureStatus.
	NotFoundStatus int
	// DuplicateInit: DuplicateReplay (default, ""; also for any other value): an init whose
	// externalId exists gets the ORIGINAL answer again when the body is byte-identical, and
	// DuplicateCode otherwise; DuplicateRefuse: every init whose externalId exists gets a failure
	// with DuplicateCode (nothing committed either way).
	DuplicateInit string
	// DuplicateCode is the errorCode for a refused repeated externalId. Default
	// CodeDuplicateExternalID ("10400").
	DuplicateCode iyzico.Code
	// InvalidStateCode answers auth or cancel of a payout not in INIT. Default
	// CodeInvalidState ("10409").
	InvalidStateCode iyzico.Code
	// FailedStays: failed items stay FAILED for good (no DEPOSIT_SUCCESS/DEPOSIT_FAIL step); at
	// the second settlement step the payout still takes its final status. Refunds (cents .99)
	// still go back to the balance at that step.
	FailedStays bool
	// CompletedStatus is the final payout status when some item succeeded. Default
	// iyzico.PayoutCompleted ("COMPLETED"); the Java SDK's enum suggests "SUCCESS".
	CompletedStatus string
	// FailStatus is the final payout status when no item succeeded. Default iyzico.PayoutFail
	// ("FAIL").
	FailStatus string
}

// Values of Dialect.DuplicateInit.
const (
	DuplicateReplay = "replay" // byte-identical repeat: the original answer; other bodies refused
	DuplicateRefuse = "refuse" // every repeat refused
)

const foreignName = "foreign"

// DialectOurs returns the zero Dialect (the sandbox's own choices).
func DialectOurs() Dialect { return Dialect{} }

// DialectForeign returns a dialect that shares no undocumented choice with ours: not-found code
// "5404" with HTTP 404, duplicate externalId refused (even for identical bytes) with code "6001",
// invalid state "6009", failed items stay FAILED, final statuses "SUCCESS"/"FAIL". Apply it with
// Dialect.Apply to get the answer shapes that go with it.
func DialectForeign() Dialect {
	return Dialect{
		Name:             foreignName,
		NotFoundCode:     "5404",
		NotFoundStatus:   http.StatusNotFound,
		DuplicateInit:    DuplicateRefuse,
		DuplicateCode:    "6001",
		InvalidStateCode: "6009",
		FailedStays:      true,
		CompletedStatus:  iyzico.PayoutSuccess,
		FailStatus:       iyzico.PayoutFail,
	}
}

// Dialects returns the preset dialects in a stable order: ours, foreign.
func Dialects() []Dialect { return []Dialect{DialectOurs(), DialectForeign()} }

// String returns d.Name, or "ours" when it is empty.
func (d Dialect) String() string {
	if d.Name == "" {
		return "ours"
	}
	return d.Name
}

// Apply sets d on o and, for the foreign dialect (Name "foreign"), the shapes that go with it:
// failure answers HTTP 200 (o.FailureStatus; not-found answers keep the dialect's 404), retrieve
// items without massPayoutRequestId (o.OmitRequestIDInRetrieve) while the retrieve-item answer
// keeps it (o.OmitRequestIDInItem false), as the Java SDK's MassPayoutOrderRetrieveVo suggests.
// For DialectOurs it changes nothing else.
func (d Dialect) Apply(o *Options) {
	o.Dialect = d
	if d.Name == foreignName {
		o.FailureStatus = http.StatusOK
		o.OmitRequestIDInRetrieve = true
		o.OmitRequestIDInItem = false
	}
}

// withDefaults fills the unset knobs of d; failureStatus is the server's business-failure status.
func (d Dialect) withDefaults(failureStatus int) Dialect {
	if d.NotFoundCode == "" {
		d.NotFoundCode = CodeNotFound
	}
	if d.NotFoundStatus == 0 {
		d.NotFoundStatus = failureStatus
	}
	if d.DuplicateCode == "" {
		d.DuplicateCode = CodeDuplicateExternalID
	}
	if d.InvalidStateCode == "" {
		d.InvalidStateCode = CodeInvalidState
	}
	if d.CompletedStatus == "" {
		d.CompletedStatus = iyzico.PayoutCompleted
	}
	if d.FailStatus == "" {
		d.FailStatus = iyzico.PayoutFail
	}
	return d
}
