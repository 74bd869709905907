package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// action is one kind of chaos.
type action string

const (
	killWorker action = "kill -9 a worker"
	killRedis  action = "kill -9 redis-server"
	crashRedis action = "crash redis-server's host (kill -9, last writes lost)"
	stopWorker action = "SIGSTOP a worker"
)

// actions lists every action, in the order a plan counts them.
var actions = []action{killWorker, killRedis, crashRedis, stopWorker}

// event is one planned action: after the first approval (phase 2) or before it (phase 1), gap
// after the previous event.
type event struct {
	what  action
	phase int
	gap   time.Duration
}

// makePlan draws the seed's chaos: the actions of each phase in a random order, at random gaps.
// Phase 1 runs while chunks are initialized; phase 2 starts right after the first approval, while
// auths are in flight, so its gaps are short.
func makePlan(rng *rand.Rand, s planSpec) []event {
	var plan []event
	phase := func(n int, counts map[action]int, first, lo, hi time.Duration) {
		var acts []action
		for _, a := range actions {
			for range counts[a] {
				acts = append(acts, a)
			}
		}
		rng.Shuffle(len(acts), func(i, j int) { acts[i], acts[j] = acts[j], acts[i] })
		for i, a := range acts {
			gap := between(rng, lo, hi)
			if i == 0 {
				gap = between(rng, first/4, first)
			}
			plan = append(plan, event{what: a, phase: n, gap: gap})
		}
	}
	phase(1, s.init, 4*time.Second, 1500*time.Millisecond, 5*time.Second)
	phase(2, s.auth, 1500*time.Millisecond, 500*time.Millisecond, 3*time.Second)
	return plan
}

func between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rng.Int64N(int64(hi-lo)+1))
}

// chaos carries out the plan until ctx ends (the batch is final) or until passes. Phase 2 waits
// for approved to be closed.
func (r *rig) chaos(ctx context.Context, rng *rand.Rand, plan []event, approved <-chan struct{}, until time.Time) {
	window := time.NewTimer(time.Until(until))
	defer window.Stop()
	// pause waits for c and reports false when the chaos is over first.
	pause := func(c <-chan struct{}, left int) bool {
		select {
		case <-c:
			return true
		case <-ctx.Done():
			return false
		case <-window.C:
			r.tl.say("chaos window over: %d of %d planned events left undone", left, len(plan))
			return false
		}
	}
	for i, ev := range plan {
		if ev.phase == 2 && (i == 0 || plan[i-1].phase == 1) && !pause(approved, len(plan)-i) {
			return
		}
		gap := make(chan struct{})
		t := time.AfterFunc(ev.gap, func() { close(gap) })
		if !pause(gap, len(plan)-i) {
			t.Stop()
			return
		}
		r.world.Lock()
		err := r.act(ev.what, rng)
		r.world.Unlock()
		if err != nil {
			r.tl.say("chaos: %s: %v", ev.what, err)
		}
	}
	r.tl.say("chaos: every planned event done")
}

func (r *rig) act(a action, rng *rand.Rand) error {
	switch a {
	case killWorker:
		return r.killWorker(rng)
	case killRedis:
		return r.killRedis(rng)
	case crashRedis:
		return r.crashRedis(rng)
	case stopWorker:
		return r.stopWorker(rng)
	}
	return fmt.Errorf("unknown action %q", a)
}

// killWorker kills a random running worker with SIGKILL and starts a new one in its place.
func (r *rig) killWorker(rng *rand.Rand) error {
	w, err := r.workers.pick(rng)
	if err != nil {
		return err
	}
	r.workers.kill(w)
	r.tally.workerKills.Add(1)
	nw, err := r.workers.add()
	if err != nil {
		return fmt.Errorf("killed %s, could not start its replacement: %w", w.label, err)
	}
	r.tl.say("CHAOS kill -9 %s (pid %d); started %s (pid %d) in its place", w.label, w.pid(), nw.label, nw.pid())
	return nil
}

// killRedis kills redis-server with SIGKILL, leaves it down for a moment and starts it again
// from its AOF on the same port and directory. Clients see their connections drop and calls
// fail; nothing Redis acknowledged is lost (see crashRedis for that).
func (r *rig) killRedis(rng *rand.Rand) error {
	pid := r.redis.pid()
	r.redisDown.Store(true)
	defer r.redisDown.Store(false)
	r.redis.kill()
	r.tally.redisKills.Add(1)
	down := between(rng, 100*time.Millisecond, time.Second)
	r.tl.say("CHAOS kill -9 redis-server (pid %d); down for %s", pid, down.Round(time.Millisecond))
	time.Sleep(down)
	start := time.Now()
	if err := r.redis.restart(); err != nil {
		return err
	}
	r.tl.say("CHAOS redis-server started again from its AOF (pid %d) in %s", r.redis.pid(), time.Since(start).Round(time.Millisecond))
	return nil
}

// crashRedis is a host crash under redis-server: kill -9 alone loses nothing Redis acknowledged
// (it writes the AOF before it replies; fsync everysec only matters to the host's page cache), so
// the AOF is copied, Redis runs on for up to a second, then it is killed and started from the
// copy: the last writes are gone, as after a power cut.
func (r *rig) crashRedis(rng *rand.Rand) error {
	rollBack, err := r.redis.snapshot()
	if err != nil {
		return err
	}
	lost := between(rng, 200*time.Millisecond, time.Second)
	time.Sleep(lost)
	pid := r.redis.pid()
	r.redisDown.Store(true)
	defer r.redisDown.Store(false)
	start := time.Now()
	if err := rollBack(); err != nil {
		return err
	}
	r.tally.redisKills.Add(1)
	r.tally.redisCrashes.Add(1)
	r.tl.say("CHAOS host crash: kill -9 redis-server (pid %d), AOF rolled back by %s of writes; started again (pid %d) in %s",
		pid, lost.Round(time.Millisecond), r.redis.pid(), time.Since(start).Round(time.Millisecond))
	return nil
}

// stopWorker stops a random worker with SIGSTOP and resumes it with SIGCONT after stopFor.
func (r *rig) stopWorker(rng *rand.Rand) error {
	w, err := r.workers.pick(rng)
	if err != nil {
		return err
	}
	if err := r.workers.stop(w); err != nil {
		return fmt.Errorf("SIGSTOP %s: %w", w.label, err)
	}
	r.tally.stops.Add(1)
	d := r.o.plan.stopFor
	r.tl.say("CHAOS SIGSTOP %s (pid %d) for %s (asynq's lease is 30s)", w.label, w.pid(), d)
	r.resumes = append(r.resumes, time.AfterFunc(d, func() {
		r.world.Lock()
		defer r.world.Unlock()
		if r.closed {
			return
		}
		if err := r.workers.cont(w); err != nil {
			r.tl.say("CHAOS SIGCONT %s: %v", w.label, err)
			return
		}
		r.tl.say("CHAOS SIGCONT %s (pid %d) after %s", w.label, w.pid(), d)
	}))
	return nil
}

// replaceExited starts a new worker for each one that exited without being killed: a worker
// must survive Redis restarts, so each is reported.
func (r *rig) replaceExited() {
	r.world.Lock()
	defer r.world.Unlock()
	for _, w := range r.workers.reap() {
		r.tally.selfExits.Add(1)
		nw, err := r.workers.add()
		if err != nil {
			r.tl.say("WARNING %s exited by itself (%v; see %s.log); no replacement: %v", w.label, w.err, w.label, err)
			continue
		}
		r.tl.say("WARNING %s exited by itself (%v; see %s.log); started %s (pid %d)", w.label, w.err, w.label, nw.label, nw.pid())
	}
}
