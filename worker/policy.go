// Package worker holds masspayout's asynq handlers (init, auth, poll, finalize), the single retry
// decision (Decide) and its retry delays, the Redis-backed rate limiter shared by every worker
// process, and NewServeMux, the one registry of task handlers.
package worker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/iyzico"
)

// Decision is what to do about an error from iyzico.
type Decision int

// The decisions.
const (
	// Retry later with backoff: the call did not change anything at iyzico, or it may have, in
	// which case the next attempt asks iyzico first (the chunk is marked sent before every call).
	Retry Decision = iota
	// Adopt: iyzico already holds this externalId; read it back and adopt what exists.
	Adopt
	// Permanent: iyzico refused; retrying cannot help (asynq.SkipRetry, chunk ERROR).
	Permanent
)

func (d Decision) String() string {
	switch d {
	case Retry:
		return "retry"
	case Adopt:
		return "adopt"
	}
	return "permanent"
}

// Decide is the one place that classifies an error (DESIGN.md §8): transient and ambiguous errors
// (network, timeouts, 5xx, 429, 50000, undecodable answers) are retried; a duplicate externalId is
// adopted; every other failure answer (signature, credentials, validation, state) is permanent.
// Errors that are not iyzico answers (Redis, context) are retried.
func Decide(err error) Decision {
	var ie *iyzico.Error
	if !errors.As(err, &ie) {
		return Retry
	}
	switch {
	case ie.Code == iyzico.CodeDuplicateExternalID:
		return Adopt
	case iyzico.IsTransient(err):
		return Retry
	case iyzico.IsPermanent(err):
		return Permanent
	}
	return Retry
}

// permanent wraps err so asynq does not retry it.
func permanent(err error) error {
	return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
}

// RetryPolicy computes retry delays: RETRY_BASE_DELAY·2^n with full jitter, capped at
// RETRY_MAX_DELAY, or iyzico's Retry-After when it gave one (never less).
type RetryPolicy struct {
	Base, Max time.Duration
	// Rand returns a pseudo-random number in [0, n); nil uses math/rand/v2.
	Rand func(n int64) int64
}

// Delay is an asynq.RetryDelayFunc.
func (p RetryPolicy) Delay(n int, err error, _ *asynq.Task) time.Duration {
	ceil := p.Max
	if n < 62 {
		if d := p.Base << uint(n); d > 0 && d < ceil {
			ceil = d
		}
	}
	rnd := p.Rand
	if rnd == nil {
		rnd = rand.Int64N
	}
	d := time.Duration(0)
	if ceil > 0 {
		d = time.Duration(rnd(int64(ceil) + 1))
	}
	if ra, ok := iyzico.RetryAfter(err); ok && ra > d {
		d = ra
	}
	return d
}

// IsFailure is an asynq IsFailure func: being rate limited (HTTP 429, iyzico 50000) is not a
// failure, so it does not use up a chunk's retries.
func IsFailure(err error) bool {
	var ie *iyzico.Error
	if errors.As(err, &ie) && (ie.HTTPStatus == 429 || ie.Code == iyzico.CodeRateLimited) {
		return false
	}
	return !errors.Is(err, context.Canceled)
}
