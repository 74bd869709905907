package worker_test

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/masspayout/masspayout/internal/redistest"
	"github.com/masspayout/masspayout/worker"
)

// TestRateLimitSharedAcrossProcesses runs two limiters on separate Redis connections (as two
// worker processes would) with several callers each: in no one-second window do they let more
// calls through than the one shared limit.
func TestRateLimitSharedAcrossProcesses(t *testing.T) {
	srv := redistest.Start(t)
	const perSecond = 20
	a := worker.NewRateLimiter(srv.Client(), "iyzico", perSecond)
	b := worker.NewRateLimiter(srv.Client(), "iyzico", perSecond)
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	var mu sync.Mutex
	var at []time.Time
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l.Wait(ctx) == nil {
				mu.Lock()
				at = append(at, time.Now())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	if len(at) < perSecond {
		t.Fatalf("only %d calls allowed in 2.5s", len(at))
	}
	// GCRA with burst 1 spaces calls 1/rate apart; allow one call of slack for clock reads.
	for i := range at {
		j := i
		for j < len(at) && at[j].Sub(at[i]) < time.Second {
			j++
		}
		if n := j - i; n > perSecond+1 {
			t.Fatalf("%d calls within one second, limit %d/s", n, perSecond)
		}
	}
	if worker.NewRateLimiter(srv.Client(), "x", 0) != nil {
		t.Error("a rate of 0 must mean no limiter")
	}
}
