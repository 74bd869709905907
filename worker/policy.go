// Package worker holds masspayout's asynq handlers: the chunk steps (init, auth, cancel, poll,
// reconcile), each claim → read back → call → commit on the state machine of package batch; the
// batch's finalize; the janitor; retry delays; the Redis-backed rate limiter shared by every
// worker process; and NewServeMux, the one registry of task handlers.
package worker

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/iyzico"
)

// RetryPolicy computes retry delays: RETRY_BASE_DELAY·2^n with full jitter, capped at
// RETRY_MAX_DELAY, or iyzico's Retry-After when it gave one (never less), or, for a chunk claimed
// by another execution, the time left on that claim.
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
	if busy, ok := errors.AsType[*batch.BusyError](err); ok {
		d = busy.Left + time.Duration(rnd(int64(time.Second)))
	}
	return d
}

// IsFailure is an asynq IsFailure func: being rate limited (HTTP 429, iyzico 50000), finding the
// chunk claimed by another execution and shutting down are not failures.
func IsFailure(err error) bool {
	return !iyzico.RateLimited(err) && !errors.Is(err, batch.ErrBusy) && !errors.Is(err, context.Canceled)
}
