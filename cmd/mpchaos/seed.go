package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/masspayout/masspayout/batch"
)

// nonFinalItems are item statuses that may still change: a batch is done only without them.
var nonFinalItems = []string{batch.RowPending, "INIT", "PROCESSING", "QUEUED", batch.RowUnknown}

// runSeed runs one seed from an empty Redis to the verdict and prints it. The seed's directory
// is kept when asked, and whenever the verdict is not clean.
func runSeed(ctx context.Context, o *options, seed uint64, out io.Writer) (*result, error) {
	form := "full"
	if o.short {
		form = "-short"
	}
	fmt.Fprintf(out, "\n=== seed %d (%s): %d rows, chunk %d, %d workers, dialect %s, timeout %s\n",
		seed, form, o.rows, o.chunk, o.workers, o.dialect, o.timeout)
	r, err := newRig(o, seed, out)
	if err != nil {
		return nil, err
	}
	res, err := r.run(ctx)
	r.close()
	if err == nil {
		res.print(out)
	}
	r.finish(o.keep || err != nil || !res.ok())
	return res, err
}

// run submits the batch, lets the chaos loose until the batch settles or the deadline passes,
// stops the workers and draws the verdicts.
func (r *rig) run(ctx context.Context) (*result, error) {
	r.tl.say("redis-server %s (pid %d, AOF everysec), sandbox %s dialect, logs in %s", r.redis.addr, r.redis.pid(), r.o.dialect, r.dir)
	if err := r.submit(ctx); err != nil {
		return nil, err
	}
	b, settled := r.inFlight(ctx, r.tl.start.Add(r.o.timeout))
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.settledAfter = time.Since(r.tl.start)
	r.tl.say("stopping the workers")
	r.workers.shutdown(10 * time.Second)
	return r.check(ctx, b, settled)
}

// quiet is how long the batch must stay settled, with the chaos over and no worker stopped,
// before it is judged: a resumed worker's stale work would show within it.
const quiet = 3 * time.Second

// inFlight lets the chaos and the approver loose on the batch and waits until it has settled or
// until deadline. It returns the last batch read and whether it settled.
func (r *rig) inFlight(ctx context.Context, deadline time.Time) (*batch.Batch, bool) {
	rng := rand.New(rand.NewPCG(r.seed, 0xc4a05))
	plan := makePlan(rng, r.o.plan)
	for i, ev := range plan {
		r.tl.say("plan %d/%d: phase %d, +%s: %s", i+1, len(plan), ev.phase, ev.gap.Round(time.Millisecond), ev.what)
	}
	cctx, stopChaos := context.WithCancel(ctx)
	defer stopChaos()
	actx, stopApprover := context.WithCancel(ctx)
	approved := make(chan struct{})
	chaosDone := make(chan struct{})
	// The chaos ends halfway to the deadline at the latest, so the system has time to settle.
	chaosUntil := r.tl.start.Add(deadline.Sub(r.tl.start) / 2)
	go func() { defer close(chaosDone); r.chaos(cctx, rng, plan, approved, chaosUntil) }()
	var wg sync.WaitGroup
	wg.Go(func() { r.approver(actx, approved) })
	b, settled := r.waitSettled(ctx, deadline, stopChaos, chaosDone)
	stopChaos()
	<-chaosDone
	stopApprover()
	wg.Wait()
	return b, settled
}

// waitSettled polls the ledger until the batch has settled, or until deadline: final (COMPLETED
// or COMPLETED_WITH_ERRORS) with no item in a non-final status, the chaos over and no worker
// stopped, for quiet in a row. Once the batch is final the rest of the chaos is called off (a
// stopped worker is still resumed on time). It replaces workers that died on their own and
// prints the progress every 10 seconds.
func (r *rig) waitSettled(ctx context.Context, deadline time.Time, stopChaos func(), chaosDone <-chan struct{}) (*batch.Batch, bool) {
	var last *batch.Batch
	var lastSaid, finalSince, calmSince time.Time
	for time.Now().Before(deadline) && ctx.Err() == nil {
		r.replaceExited()
		b, err := r.getBatch(ctx)
		if time.Since(lastSaid) >= 10*time.Second {
			lastSaid = time.Now()
			r.sayProgress(b, err)
		}
		if err != nil { // Redis is down for a moment
			time.Sleep(250 * time.Millisecond)
			continue
		}
		last = b
		switch final := settledBatch(b); {
		case !final:
			if !finalSince.IsZero() {
				r.tl.say("batch %s is no longer settled: %s, items %s", r.batchID, b.Status, describeCounts(b.Counts))
			}
			finalSince, calmSince = time.Time{}, time.Time{}
		case finalSince.IsZero():
			finalSince = time.Now()
			r.finalAfter = time.Since(r.tl.start)
			r.tl.say("batch %s is %s, final, every item final: the rest of the chaos is called off", b.ID, b.Status)
			stopChaos()
		case !closed(chaosDone) || r.workers.anyStopped():
			calmSince = time.Time{}
		case calmSince.IsZero():
			calmSince = time.Now()
			r.tl.say("chaos over, no worker stopped: the batch must stay settled for %s", quiet)
		case time.Since(calmSince) >= quiet:
			return b, true
		}
		time.Sleep(250 * time.Millisecond)
	}
	r.tl.say("DEADLINE: the batch did not settle within %s", r.o.timeout)
	if b, err := r.getBatch(context.WithoutCancel(ctx)); err == nil {
		last = b
	}
	return last, false
}

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func settledBatch(b *batch.Batch) bool {
	if !b.Final || (b.Status != batch.StatusCompleted && b.Status != batch.StatusCompletedWithErrors) {
		return false
	}
	for _, st := range nonFinalItems {
		if b.Counts[st] > 0 {
			return false
		}
	}
	return true
}

func (r *rig) sayProgress(b *batch.Batch, err error) {
	if err != nil {
		r.tl.say("progress: ledger unreadable for now: %v", err)
		return
	}
	r.tl.say("progress: %s, chunks %s, items %s", b.Status, batch.DescribeChunkStates(b.Chunks), describeCounts(b.Counts))
}
