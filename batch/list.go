package batch

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// ListCreated returns up to limit IDs of the batches created at or after from and before to,
// newest first, skipping offset of them. A zero from or to leaves that side open. It reads the
// index only (the creation time is its score), so a narrow window costs what its batches cost.
func (s *Store) ListCreated(ctx context.Context, from, to time.Time, offset, limit int) ([]string, error) {
	rng := &redis.ZRangeBy{Min: "-inf", Max: "+inf", Offset: int64(offset), Count: int64(limit)}
	if !from.IsZero() {
		rng.Min = strconv.FormatInt(from.UnixMilli(), 10)
	}
	if !to.IsZero() {
		rng.Max = "(" + strconv.FormatInt(to.UnixMilli(), 10)
	}
	ids, err := s.rdb.ZRevRangeByScore(ctx, indexKey, rng).Result()
	if err != nil {
		return nil, fmt.Errorf("list batches: %w", err)
	}
	return ids, nil
}
