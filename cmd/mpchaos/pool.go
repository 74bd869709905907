package main

import (
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"syscall"
	"time"
)

// pool is the set of `masspayout worker` processes. It is safe for concurrent use.
type pool struct {
	l *launcher

	mu      sync.Mutex
	live    []*worker
	retired []*worker
}

// worker is one worker process and what the chaos did to it.
type worker struct {
	*proc
	stopped bool // SIGSTOP sent, no SIGCONT yet
	killed  bool // SIGKILL sent by the chaos
}

var errNoWorker = errors.New("no worker to pick")

// add starts a new worker process.
func (p *pool) add() (*worker, error) {
	pr, err := p.l.start("worker", "worker")
	if err != nil {
		return nil, err
	}
	w := &worker{proc: pr}
	p.mu.Lock()
	p.live = append(p.live, w)
	p.mu.Unlock()
	return w, nil
}

// pick chooses a running worker that is not stopped.
func (p *pool) pick(r *rand.Rand) (*worker, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ok []*worker
	for _, w := range p.live {
		if !w.stopped && !w.exited() {
			ok = append(ok, w)
		}
	}
	if len(ok) == 0 {
		return nil, errNoWorker
	}
	return ok[r.IntN(len(ok))], nil
}

// kill sends SIGKILL to w, waits until it is gone and retires it.
func (p *pool) kill(w *worker) {
	p.mu.Lock()
	w.killed = true
	p.mu.Unlock()
	w.kill()
	p.retire(w)
}

func (p *pool) retire(w *worker) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i := slices.Index(p.live, w); i >= 0 {
		p.live = slices.Delete(p.live, i, i+1)
		p.retired = append(p.retired, w)
	}
}

// stop sends SIGSTOP to w; cont sends SIGCONT.
func (p *pool) stop(w *worker) error {
	p.mu.Lock()
	w.stopped = true
	p.mu.Unlock()
	return w.signal(syscall.SIGSTOP)
}

func (p *pool) cont(w *worker) error {
	p.mu.Lock()
	w.stopped = false
	p.mu.Unlock()
	return w.signal(syscall.SIGCONT)
}

// anyStopped reports whether a worker is stopped (SIGSTOP without SIGCONT yet).
func (p *pool) anyStopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.ContainsFunc(p.live, func(w *worker) bool { return w.stopped })
}

// reap retires and returns the workers that exited without being killed by the chaos.
func (p *pool) reap() []*worker {
	p.mu.Lock()
	var gone []*worker
	for _, w := range p.live {
		if w.exited() && !w.killed {
			gone = append(gone, w)
		}
	}
	p.mu.Unlock()
	for _, w := range gone {
		p.retire(w)
	}
	return gone
}

// shutdown stops every worker: SIGCONT, SIGTERM, and SIGKILL after grace.
func (p *pool) shutdown(grace time.Duration) {
	p.mu.Lock()
	live := slices.Clone(p.live)
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, w := range live {
		wg.Go(func() { w.terminate(grace) })
	}
	wg.Wait()
	for _, w := range live {
		p.retire(w)
	}
}
