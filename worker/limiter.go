package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// RateLimiter is one IYZICO_RATE_LIMIT shared by every worker process: a GCRA limiter kept in
// Redis, so adding workers never exceeds what iyzico allows. It implements iyzico.Limiter; waiting
// is not a failure.
type RateLimiter struct {
	l     *redis_rate.Limiter
	limit redis_rate.Limit
	key   string
}

// NewRateLimiter returns a limiter of perSecond requests per second (burst 1: calls are spread
// evenly) under key; nil when perSecond is 0 (no limit).
func NewRateLimiter(rdb redis.UniversalClient, key string, perSecond int) *RateLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &RateLimiter{l: redis_rate.NewLimiter(rdb), limit: redis_rate.Limit{Rate: perSecond, Period: time.Second, Burst: 1}, key: key}
}

// Wait blocks until a call is allowed or ctx ends.
func (r *RateLimiter) Wait(ctx context.Context) error {
	for {
		res, err := r.l.Allow(ctx, r.key, r.limit)
		if err != nil {
			return fmt.Errorf("rate limiter: %w", err)
		}
		if res.Allowed > 0 {
			return nil
		}
		t := time.NewTimer(res.RetryAfter)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
