// Package sandbox is a faithful fake of iyzico's Mass Payout API (shared/iyzico.md), used by
// our tests, by "make run" and by "masspayout sandbox". New returns a *Server, an http.Handler
// over in-memory state that is safe for concurrent use. Where iyzico's behaviour is undocumented
// the sandbox picks one behaviour, states it below, and keeps to it: these rules are contracts
// that tests rely on. The most doubtful of those choices can be switched to another dialect (see
// "Dialects" below), so that a client is not tested against the sandbox's choices alone.
//
// # Endpoints and HTTP statuses
//
//	POST      /v1/mass/payout/init                           init
//	POST      /v1/mass/payout/auth                           auth
//	POST      /v1/mass/payout/cancel/{requestId}             cancel (body ignored)
//	POST      /v1/mass/payout/retrieve                       retrieve
//	GET       /v1/mass/payout/retrieve/items/{referenceCode} retrieve item (body ignored)
//	GET       /v1/mass/payout/balance                        balance (body ignored)
//	GET       /sandbox/stats                                 Stats as JSON, no Authorization
//	GET, POST /sandbox/faults                                read or replace Faults (JSON), no Authorization
//
// Answers carry iyzico's envelope: status ("success"/"failure"), errorCode and errorMessage on
// failure, locale, systemTime (epoch ms of Options.Clock) and conversationId when the request
// body had one. HTTP statuses: 200 success; 401 authentication failure; Dialect.NotFoundStatus
// (default Options.FailureStatus) for not found; Options.FailureStatus (default 400) for every
// other "failure" answer (invalid request, duplicate externalId, invalid state); 404 unknown path;
// 405 wrong method (with Allow); 413 body over MaxBodyBytes; 429 and 5xx only as injected faults.
// A client must read the JSON body whatever the status, as iyzico's SDKs do.
//
// # Authentication
//
// Every API request must carry "Authorization: IYZWSv2 base64(apiKey:K&randomKey:R&signature:S)"
// with S the lower- or upper-case hex HMAC-SHA256, keyed with K's secret, of R + r.URL.Path + the
// raw body bytes exactly as received (nothing when there is no body; the query is not signed).
// When the path arrived with escapes (r.URL.EscapedPath() differs from r.URL.Path), a signature
// over the escaped form is accepted too.
// The body is never re-serialised, so any SDK's layout is accepted: Python's spaced JSON, Node's
// "{}" on body-less calls, .NET's explicit nulls, Java's \u003d escapes, locale inside the body.
// x-iyzi-rnd is not needed. Failures, all HTTP 401:
//
//	1009 "Authorization header string gönderilmesi zorunludur"  no or blank Authorization
//	1000 "Geçersiz imza"                                      unparsable header, or wrong signature
//	1004 "Random string gönderilmesi zorunludur"              empty randomKey
//	1001 "api bilgileri bulunamadı"                           unknown apiKey
//
// Signatures are compared in constant time. Every credential acts for one shared merchant: one
// balance, one set of payouts, merchantId 1.
//
// # Locale and request bodies
//
// The locale comes from the "locale" query parameter, else from the body's "locale", else "tr";
// "en" (any case) gives English messages, anything else Turkish. Unknown body fields are
// ignored; a body that is not JSON of the endpoint's shape is CodeInvalidRequest.
//
// # Init
//
// Checks, in order: the body decodes; externalId is non-empty; if the externalId exists
// (counted per externalId in Stats.InitToExisting), a byte-identical body gets the ORIGINAL
// answer again (same requestId, same invalidItems; a fresh systemTime, nothing committed;
// Stats.InitReplays) and any other body gets failure Dialect.DuplicateCode, default
// CodeDuplicateExternalID (Stats.InitConflicts), which with DuplicateRefuse every body
// gets; items holds at least one item; purpose, when present, is one of iyzico.Purposes. Then
// every item is validated on its own, first broken rule wins:
//
//	CodeMissingField          itemExternalId empty
//	CodeInvalidRecipientType  recipientType not PHONE, IBAN, IDENTITY_NUMBER or MEMBER_ID
//	CodeMissingField          recipientInfo empty
//	CodeInvalidIBAN           IBAN: registry country, that country's length (TR 26), upper-case
//	                          letters and digits only, mod-97 = 1
//	CodeRecipientNameRequired IBAN without a (non-blank) recipientName
//	CodeInvalidPhone          PHONE: E.164 "+" then 8–15 digits, first not 0; +90 numbers exactly
//	                          10 digits after +90
//	CodeInvalidIdentityNumber IDENTITY_NUMBER: 11 digits, first not 0, both TCKN check digits
//	CodeInvalidMemberID       MEMBER_ID: 1–20 digits
//	CodeMissingField          amount or amount.value absent or null
//	CodeInvalidAmount         value not a decimal number (a JSON number or a numeric string), or ≤ 0
//	CodeAmountScale           more than 2 decimal places by value (100.500 is fine, 1.005 is not)
//	CodeMissingField          currency empty
//	CodeUnsupportedCurrency   currency not TRY, USD or EUR
//
// description is optional; nonWithdrawable is accepted and ignored; several items may share an
// itemExternalId. The payout is committed with status INIT: valid items INIT, invalid ones
// INVALID (even when no item is valid). The answer is success with a new UUID requestId and
// invalidItems (always present, [] when empty) of {externalId: itemExternalId, errorCode,
// errorMessage} in body order. Every item, INVALID ones too, gets its own UUID referenceCode.
//
// # Money
//
// Commission per valid item: max(1.00, 0.5% of the amount rounded half-up to 2 decimals), see
// Commission; INVALID items have commission 0. A payout's totalAmount and totalCommissionAmount
// sum its valid items (any currency mix is summed as is; the payout's currency is its first
// valid item's). Amounts are answered as JSON numbers with the digits received (100.50 stays
// 100.50), sums with the larger scale of their terms (100.50 + 100 = 200.50), commissions with 2
// decimals, the balance as a JSON string (decimal.String(), e.g. "25399393.5").
//
// # Auth and the bank
//
// auth {requestId} of a payout in INIT: when the balance covers the amount plus commission of its
// valid items it is debited by that sum, the payout becomes IN_PROGRESS and its valid items
// PROCESSING; otherwise nothing is debited and the payout becomes INSUFFICIENT_BALANCE (the
// answer is success either way: auth only accepts the work). Any other state: failure
// Dialect.InvalidStateCode, default CodeInvalidState (counted in Stats.AuthInvalidState
// and, per requestId, in Stats.AuthToNonInit); unknown requestId (or one not in canonical
// lower-case UUID form): Dialect.NotFoundCode, default CodeNotFound.
//
// Settlement is lazy, evaluated from Options.Clock whenever the payout is read (retrieve,
// retrieve item) or the balance is read. At auth+SettleDelay every valid item gets the bank's
// answer, by the cents of its amount:
//
//	cents .99  FAILED, then DEPOSIT_SUCCESS (amount + commission refunded to the balance)
//	cents .98  FAILED, then DEPOSIT_FAIL    (nothing refunded)
//	otherwise  SUCCESS
//
// and the payout becomes PUBLISHED_TO_QUEUE; at auth+2·SettleDelay failed items take their
// DEPOSIT_ status (or stay FAILED with Dialect.FailedStays, refunds made all the same) and the
// payout becomes Dialect.CompletedStatus (default COMPLETED) if any item succeeded,
// Dialect.FailStatus (default FAIL) if none did. With SettleDelay 0 both steps happen on the
// first read after auth. errorMessages: FAILED and DEPOSIT_SUCCESS carry the bank's rejection,
// DEPOSIT_FAIL also the failed refund, INVALID the validation message. An INSUFFICIENT_BALANCE
// payout keeps that status; its items go FAILED then DEPOSIT_SUCCESS (or stay FAILED; message:
// insufficient balance) on the same clock, without touching the balance. totalSuccessfulAmount
// sums SUCCESS items.
//
// # Cancel, retrieve, retrieve item, balance
//
// cancel of a payout in INIT makes it CANCELED and its valid items MASS_PAYOUT_CANCELED (INVALID
// stay INVALID); any other state: Dialect.InvalidStateCode; unknown: Dialect.NotFoundCode.
//
// retrieve needs requestId and/or externalMassPayoutId (both: they must name the same payout,
// else not found), size ≥ 1 (capped at Options.MaxPageSize, the capped size is answered),
// page ≥ 0 (0-based, default 0), itemType VALID (all but INVALID), INVALID, or absent (all).
// Items come in init body order. page, size and total (of the filtered items) are placed per
// Options.Paging. The summary carries externalId, merchantId, totalAmount,
// totalSuccessfulAmount, massPayoutStatus, totalCommissionAmount and currency, but no requestId
// (like iyzico's); items carry massPayoutRequestId unless Options.OmitRequestIDInRetrieve.
// retrieve item finds any item, INVALID ones included, by referenceCode; its item carries
// massPayoutRequestId unless Options.OmitRequestIDInItem. An unknown requestId,
// externalMassPayoutId or referenceCode gets Dialect.NotFoundCode with Dialect.NotFoundStatus.
// balance answers the balance after settling what is due.
//
// # Dialects
//
// Options.Dialect decides what iyzico leaves undocumented (iyzico.md §6–8); every knob's zero
// value is the behaviour described above:
//
//	NotFoundCode, NotFoundStatus   errorCode and HTTP status for an unknown requestId,
//	                               externalMassPayoutId or referenceCode (10404, FailureStatus)
//	DuplicateInit, DuplicateCode   repeated externalId: DuplicateReplay (identical bytes get the
//	                               original answer) or DuplicateRefuse (always refused); 10400
//	InvalidStateCode               auth or cancel of a payout not in INIT (10409)
//	FailedStays                    failed items stay FAILED, no DEPOSIT_ step (refunds still made)
//	CompletedStatus, FailStatus    final payout status, some item succeeded or none (COMPLETED, FAIL)
//
// Two presets: DialectOurs (the zero Dialect) and DialectForeign, which shares no undocumented
// choice with ours: not found 5404 with HTTP 404, every repeated externalId refused with 6001,
// invalid state 6009, failed items stay FAILED, final statuses SUCCESS (the Java SDK's enum) and
// FAIL. Dialect.Apply sets a dialect on Options together with the answer shapes that go with it:
// for the foreign one, business failures answered HTTP 200 (not found keeps its 404) and
// massPayoutRequestId left out of retrieve items but kept in the retrieve item answer (as the
// Java SDK's MassPayoutOrderRetrieveVo suggests). Dialects lists both, for tests that run a whole
// pipeline against each; a client that passes only against DialectOurs depends on guesses.
//
// # Faults
//
// Faults (Options.Faults, SetFaults, POST /sandbox/faults) are applied after authentication, to
// the endpoints listed (all when none): injected latency first (a done request context ends it
// and nothing is done), then a 5xx (500 with a JSON failure body, 502 empty, or 503 HTML) or a
// 429 (Retry-After in whole seconds, errorCode 50000 "Request Limit Exceeded"), in which cases
// nothing is done; else the request is handled, and with commit-then-drop the connection is
// then closed without an answer (the state change stays). Random decisions depend only on
// Options.Seed, the endpoint, the path, the exact body and how many times that same request was
// seen while random faults were on, so concurrency does not change them. FailNext queues faults
// for the next requests of an endpoint ahead of the random ones; two kinds exist only there:
// FaultRefuse (a failure with CodeRefused, nothing done) and FaultCommitThenRefuse (handled, then
// that failure answered instead). Note for GET endpoints: Go's
// http.Transport silently retries an idempotent request whose reused connection is dropped.
//
// # Logging and statistics
//
// Options.Log gets one line per request: method, path, external_id, request_id, outcome,
// http_status, duration. Never a header, an IBAN, identity number, phone or name. Stats counts
// what was committed per externalId, requestId and itemExternalId (see Stats).
//
// # Performance
//
// Per-item work is validation and two map inserts at init; the server-wide lock is held only for
// map lookups and inserts, each payout has its own lock, and no lock is held while a request
// sleeps for injected latency. Memory is proportional to the items stored.
package sandbox
