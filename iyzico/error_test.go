package iyzico

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

func TestClassification(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want class
	}{
		{"nil", nil, class{}},
		{"plain context.Canceled (limiter)", context.Canceled, transientOnly},
		{"plain context.DeadlineExceeded", context.DeadlineExceeded, transientOnly},
		{"wrapped context error", fmt.Errorf("wait: %w", context.Canceled), transientOnly},
		{"plain net error", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, transientOnly},
		{"unknown plain error", errors.New("redis: connection pool timeout"), transientOnly},
		{"ErrInvalidRequest", ErrInvalidRequest, permanent},
		{"wrapped ErrInvalidRequest", &Error{Endpoint: "auth", Err: fmt.Errorf("%w: empty", ErrInvalidRequest)}, permanent},
		{"limiter error", &Error{Endpoint: "init", Err: context.DeadlineExceeded}, transientOnly},
		{"dial refused", &Error{Endpoint: "init", Err: syscall.ECONNREFUSED}, transientOnly},
		{"EOF after send", &Error{Endpoint: "init", Sent: true, Err: io.ErrUnexpectedEOF}, transientAmbiguous},
		{"reset after send", &Error{Endpoint: "init", Sent: true, Err: syscall.ECONNRESET}, transientAmbiguous},
		{"timeout after send", &Error{Endpoint: "init", Sent: true, Err: context.DeadlineExceeded}, transientAmbiguous},
		{"cancel after send", &Error{Endpoint: "auth", Sent: true, Err: context.Canceled}, transientAmbiguous},
		{"503 decoded", &Error{Endpoint: "init", HTTPStatus: 503, Sent: true, Code: "1"}, transientAmbiguous},
		{"500 undecodable", &Error{Endpoint: "init", HTTPStatus: 500, Sent: true, Err: errors.New("invalid character")}, transientAmbiguous},
		{"503 with 50000", &Error{Endpoint: "init", HTTPStatus: 503, Sent: true, Code: CodeRateLimited}, transientOnly},
		{"429", &Error{Endpoint: "init", HTTPStatus: 429, Sent: true}, transientOnly},
		{"429 undecodable", &Error{Endpoint: "init", HTTPStatus: 429, Sent: true, Err: errors.New("html")}, transientOnly},
		{"200 50000", &Error{Endpoint: "init", HTTPStatus: 200, Sent: true, Code: CodeRateLimited}, transientOnly},
		{"200 undecodable", &Error{Endpoint: "init", HTTPStatus: 200, Sent: true, Err: errors.New("eof")}, transientAmbiguous},
		{"200 1000", &Error{Endpoint: "init", HTTPStatus: 200, Sent: true, Code: CodeInvalidSignature}, permanent},
		{"401 1001", &Error{Endpoint: "init", HTTPStatus: 401, Sent: true, Code: CodeCredentialsNotFound}, permanent},
		{"200 1004", &Error{Endpoint: "init", HTTPStatus: 200, Sent: true, Code: CodeRandomRequired}, permanent},
		{"200 1007", &Error{Endpoint: "init", HTTPStatus: 200, Sent: true, Code: CodeSignatureRequired}, permanent},
		{"200 1009", &Error{Endpoint: "init", HTTPStatus: 200, Sent: true, Code: CodeAuthHeaderRequired}, permanent},
		{"gateway 5", &Error{Endpoint: "init", HTTPStatus: 401, Sent: true, Code: CodeGatewayAuthFailed}, permanent},
		{"duplicate externalId", &Error{Endpoint: "init", HTTPStatus: 200, Sent: true, Code: "10400"}, permanent},
		{"invalid state", &Error{Endpoint: "auth", HTTPStatus: 200, Sent: true, Code: "10409"}, permanent},
		{"wrapped permanent", fmt.Errorf("init chunk b-00001: %w", &Error{Endpoint: "init", HTTPStatus: 200, Sent: true, Code: "1000"}), permanent},
		{"wrapped ambiguous", fmt.Errorf("init chunk b-00001: %w", &Error{Endpoint: "init", Sent: true, Err: io.EOF}), transientAmbiguous},
	} {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("%s: classify(%v) = %+v, want %+v", tc.name, tc.err, got, tc.want)
		}
	}
}

func TestRetryAfterFunc(t *testing.T) {
	if d, ok := RetryAfter(fmt.Errorf("x: %w", &Error{HTTPStatus: 429, RetryAfter: 3 * time.Second})); d != 3*time.Second || !ok {
		t.Errorf("RetryAfter = %s, %v", d, ok)
	}
	for _, err := range []error{nil, context.Canceled, &Error{HTTPStatus: 429}} {
		if d, ok := RetryAfter(err); d != 0 || ok {
			t.Errorf("RetryAfter(%v) = %s, %v; want 0, false", err, d, ok)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"7", 7 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"-1", 0},
		{"1.5", 0},
		{"soon", 0},
		{"86401", maxRetryAfter},
		{"99999999999999999999999", maxRetryAfter},
		{"Tue, 30 Jun 2026 12:01:30 GMT", 90 * time.Second},
		{"Tuesday, 30-Jun-26 12:00:10 GMT", 10 * time.Second}, // RFC 850
		{"Tue Jun 30 12:00:05 2026", 5 * time.Second},         // ANSI C
		{"Tue, 30 Jun 2026 11:00:00 GMT", 0},                  // past
		{"Wed, 30 Jun 2027 12:00:00 GMT", maxRetryAfter},
	} {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestErrorText(t *testing.T) {
	for _, tc := range []struct {
		err  *Error
		want string
	}{
		{&Error{Endpoint: "init", HTTPStatus: 200, Sent: true, Code: "1000", Message: "Geçersiz imza"},
			"iyzico init: HTTP 200: errorCode 1000: Geçersiz imza"},
		{&Error{Endpoint: "auth", HTTPStatus: 429, Sent: true, Code: "50000", Group: "LIMIT", Message: "Request Limit Exceeded", RetryAfter: 3 * time.Second},
			"iyzico auth: HTTP 429: errorCode 50000 (LIMIT): Request Limit Exceeded (retry after 3s)"},
		{&Error{Endpoint: "init", Sent: true, Err: io.EOF},
			"iyzico init: EOF (request was sent; iyzico may have acted on it)"},
		{&Error{Endpoint: "balance", Err: syscall.ECONNREFUSED},
			"iyzico balance: connection refused"},
		{&Error{Endpoint: "init", HTTPStatus: 200, Sent: true, Code: "1", Message: "line\nbreak\x00"},
			"iyzico init: HTTP 200: errorCode 1: line break "},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
	long := &Error{Endpoint: "init", HTTPStatus: 200, Message: string(make([]byte, 1000))}
	if n := len([]rune(long.Error())); n > 300 {
		t.Errorf("a 1000-character message gave a %d-rune error text", n)
	}
	inner := errors.New("inner")
	if e := (&Error{Err: inner}); !errors.Is(e, inner) || e.Unwrap() != inner {
		t.Error("Unwrap does not return Err")
	}
}

func TestWhatIyzicoSaw(t *testing.T) {
	answered := &Error{Endpoint: "retrieve", HTTPStatus: 404, Sent: true, Code: "5404"}
	for _, tc := range []struct {
		name                                    string
		err                                     error
		notSent, rateLimited, answered, refusal bool
	}{
		{"nil", nil, false, false, false, false},
		{"plain error", errors.New("redis down"), false, false, false, false},
		{"invalid request", &Error{Endpoint: "auth", Err: fmt.Errorf("%w: empty", ErrInvalidRequest)}, true, false, false, false},
		{"limiter", &Error{Endpoint: "init", Err: fmt.Errorf("%w: %w", ErrRateLimiter, context.DeadlineExceeded)}, true, true, false, false},
		{"dial refused", &Error{Endpoint: "init", Err: syscall.ECONNREFUSED}, true, false, false, false},
		{"timeout after send", &Error{Endpoint: "init", Sent: true, Err: context.DeadlineExceeded}, false, false, false, false},
		{"429", &Error{Endpoint: "init", HTTPStatus: 429, Sent: true}, true, true, false, false},
		{"200 50000", &Error{Endpoint: "init", HTTPStatus: 200, Sent: true, Code: CodeRateLimited}, true, true, false, false},
		{"503", &Error{Endpoint: "init", HTTPStatus: 503, Sent: true}, false, false, false, false},
		{"foreign not found", answered, false, false, true, false},
		{"wrapped foreign code", fmt.Errorf("read back: %w", answered), false, false, true, false},
		{"failure without code", &Error{Endpoint: "init", HTTPStatus: 200, Sent: true}, false, false, true, false},
		{"undecodable 200", &Error{Endpoint: "init", HTTPStatus: 200, Sent: true, Err: errors.New("eof")}, false, false, false, false},
		{"1000", &Error{Endpoint: "init", HTTPStatus: 200, Sent: true, Code: CodeInvalidSignature}, false, false, true, true},
		{"403 any code", &Error{Endpoint: "init", HTTPStatus: 403, Sent: true, Code: "77"}, false, false, true, true},
		{"gateway 5", &Error{Endpoint: "init", HTTPStatus: 401, Sent: true, Code: CodeGatewayAuthFailed}, false, false, true, true},
	} {
		if got := NotSent(tc.err); got != tc.notSent {
			t.Errorf("%s: NotSent = %v, want %v", tc.name, got, tc.notSent)
		}
		if got := RateLimited(tc.err); got != tc.rateLimited {
			t.Errorf("%s: RateLimited = %v, want %v", tc.name, got, tc.rateLimited)
		}
		if got := Answered(tc.err); got != tc.answered {
			t.Errorf("%s: Answered = %v, want %v", tc.name, got, tc.answered)
		}
		if got := CredentialRefusal(tc.err); got != tc.refusal {
			t.Errorf("%s: CredentialRefusal = %v, want %v", tc.name, got, tc.refusal)
		}
	}
}
