package iyzico

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// ErrInvalidRequest marks a call the client refused to send because its arguments are unusable
// (an empty requestId, an init without items, …). Nothing reached iyzico; retrying cannot help, so
// IsPermanent reports true.
var ErrInvalidRequest = errors.New("invalid request")

// ErrRateLimiter marks a call that ended while it waited on Options.Limiter: nothing was sent.
var ErrRateLimiter = errors.New("rate limiter")

// errUnexpectedAnswer marks an answer that is JSON but not an iyzico answer we can trust (no
// status, "success" with an error status, inconsistent paging). It classifies like an undecodable
// answer: transient, and ambiguous when the request was sent.
var errUnexpectedAnswer = errors.New("unexpected answer")

// Error is the only error type the client returns. Classify it with IsTransient, IsAmbiguous and
// IsPermanent rather than by its fields; the fields are for logs, metrics and reports. Its text
// never carries the Authorization header, the API key or the secret key.
type Error struct {
	Endpoint   string        // "init", "auth", "cancel", "retrieve", "item" or "balance"
	HTTPStatus int           // HTTP status of the answer; 0 when no answer arrived
	Code       Code          // errorCode from the answer's body, when there is one
	Message    string        // errorMessage from the answer's body
	Group      string        // errorGroup from the answer's body
	RetryAfter time.Duration // from the Retry-After header (seconds or HTTP-date); 0 when absent
	// Sent reports that the whole request was written (or an answer arrived) before the failure:
	// iyzico may have acted on it.
	Sent bool
	Err  error // transport, timeout, limiter or decoding cause; nil for a decoded failure answer
}

// Error describes the failure in one line: endpoint, HTTP status, iyzico's code and message, and
// the underlying cause.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("iyzico ")
	b.WriteString(e.Endpoint)
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.HTTPStatus)
	}
	if e.Code != "" {
		b.WriteString(": errorCode ")
		b.WriteString(printable(string(e.Code), 32))
	}
	if e.Group != "" {
		b.WriteString(" (")
		b.WriteString(printable(e.Group, 64))
		b.WriteString(")")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(printable(e.Message, 256))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if IsAmbiguous(e) {
		b.WriteString(" (request was sent; iyzico may have acted on it)")
	}
	return b.String()
}

// Unwrap returns the transport, timeout, limiter or decoding cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// IsTransient reports whether trying the same call again later may succeed: network errors,
// timeouts (the client's or the context's), context cancellation, rate-limiter errors, HTTP 5xx,
// HTTP 429, iyzico's errorCode 50000 and answers that cannot be decoded. Any error that is not an
// *Error (a context error, say) is transient unless it wraps ErrInvalidRequest. It is false for nil.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, ErrInvalidRequest) {
		return false
	}
	e, ok := errors.AsType[*Error](err)
	if !ok {
		return true
	}
	switch {
	case e.HTTPStatus == 0: // no answer: network, timeout, cancellation, limiter
		return true
	case e.Err != nil: // an answer we could not read or trust
		return true
	case e.HTTPStatus == http.StatusTooManyRequests, e.HTTPStatus >= 500, e.Code == CodeRateLimited:
		return true
	}
	return false
}

// IsAmbiguous reports whether the request may have been committed by iyzico although no usable
// answer arrived: it was sent (Error.Sent) and then the call timed out or was cancelled, the
// connection broke before a complete answer, the answer was a 5xx, or it could not be decoded.
// It is false for 429 and errorCode 50000 (refused, not processed), for every decoded failure
// answer below 500, for failures before the request was written (dial refused, limiter) and for
// errors that are not an *Error. Before repeating an ambiguous init or auth, read the payout back.
func IsAmbiguous(err error) bool {
	if err == nil || errors.Is(err, ErrInvalidRequest) {
		return false
	}
	e, ok := errors.AsType[*Error](err)
	if !ok || !e.Sent {
		return false
	}
	if e.HTTPStatus == http.StatusTooManyRequests || e.Code == CodeRateLimited {
		return false
	}
	return e.HTTPStatus == 0 || e.HTTPStatus >= 500 || e.Err != nil
}

// IsPermanent reports whether err is final: repeating the call cannot change the outcome. That is
// a decoded failure answer that is not transient (signature and credential codes 1000, 1001, 1004,
// 1007, 1009 and the gateway's 5, a duplicate externalId, an invalid state, any other code) and
// ErrInvalidRequest. For a non-nil err exactly one of IsTransient and IsPermanent holds.
func IsPermanent(err error) bool {
	return err != nil && !IsTransient(err)
}

// NotSent reports whether the client knows that iyzico did not act on the call: the request was
// never completely written (dial refused, limiter, a timeout before writing), or iyzico refused it
// unprocessed (HTTP 429, errorCode 50000), or the client refused to send it (ErrInvalidRequest).
// It is false for nil and for errors that are not an *Error.
func NotSent(err error) bool {
	if errors.Is(err, ErrInvalidRequest) {
		return true
	}
	e, ok := errors.AsType[*Error](err)
	if !ok {
		return false
	}
	return !e.Sent || RateLimited(err)
}

// RateLimited reports whether err is iyzico's refusal for going too fast (HTTP 429, errorCode
// 50000) or a wait on the client's own limiter that ended: neither is a failure of the call.
func RateLimited(err error) bool {
	if errors.Is(err, ErrRateLimiter) {
		return true
	}
	e, ok := errors.AsType[*Error](err)
	return ok && (e.HTTPStatus == http.StatusTooManyRequests || e.Code == CodeRateLimited)
}

// Answered reports whether err is a failure answer iyzico gave and the client read: a decoded
// "failure" that is not transient. Whatever its errorCode, iyzico saw the request and said no.
func Answered(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.HTTPStatus != 0 && e.Err == nil && !IsTransient(err)
}

// CredentialRefusal reports whether err is an answered refusal of the request's credentials or
// signature (HTTP 401 or 403, errorCode 1000, 1001, 1004, 1007, 1009 or the gateway's 5): it
// says nothing about the payout asked for, and repeating it cannot help until the keys change.
func CredentialRefusal(err error) bool {
	if !Answered(err) {
		return false
	}
	e, _ := errors.AsType[*Error](err)
	switch {
	case e.HTTPStatus == http.StatusUnauthorized, e.HTTPStatus == http.StatusForbidden:
		return true
	}
	switch e.Code {
	case CodeInvalidSignature, CodeCredentialsNotFound, CodeRandomRequired, CodeSignatureRequired, CodeAuthHeaderRequired, CodeGatewayAuthFailed:
		return true
	}
	return false
}

// RetryAfter returns the delay iyzico asked for in a Retry-After header, if the error carries a
// positive one.
func RetryAfter(err error) (time.Duration, bool) {
	if e, ok := errors.AsType[*Error](err); ok && e.RetryAfter > 0 {
		return e.RetryAfter, true
	}
	return 0, false
}

// maxRetryAfter caps a Retry-After so that a broken header cannot park a chunk for years.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP-date. Absent, malformed or
// past values give 0; values beyond maxRetryAfter are capped.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		if n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if errors.Is(err, strconv.ErrRange) {
		return maxRetryAfter
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// printable shortens s to at most n runes and replaces control characters, so that text from an
// answer body cannot break a log line.
func printable(s string, n int) string {
	var b strings.Builder
	for i, r := range []rune(s) {
		if i == n {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(r) {
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}
