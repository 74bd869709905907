package httpapi

import (
	"container/list"
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// connLimiter caps the connections of one Server. A connection is idle (may be closed to make
// room) from its accept until a handler takes its request, and again between requests; it is
// busy while a handler runs and until its answer is written. When the cap is reached, the next
// accepted connection closes the oldest idle one — a stalled client that never finishes its
// headers, or a kept-alive connection nobody uses — and when every connection is busy, Accept
// waits until one is done. So a flood of slow connections never takes the file descriptors a
// health check or an honest upload needs, and never drops a request a handler is working on.
type connLimiter struct {
	max int
	log zerolog.Logger

	mu       sync.Mutex
	cond     sync.Cond
	open     int
	idle     list.List // of *trackedConn, oldest first
	closed   bool
	evicted  int64
	lastWarn time.Time
}

func newConnLimiter(max int, log zerolog.Logger) *connLimiter {
	l := &connLimiter{max: max, log: log}
	l.cond.L = &l.mu
	return l
}

// listen wraps ln so that its Accept keeps to the cap.
func (l *connLimiter) listen(ln net.Listener) net.Listener {
	return &limitedListener{Listener: ln, lim: l}
}

type limitedListener struct {
	net.Listener
	lim  *connLimiter
	once sync.Once
}

// Accept returns the next connection once there is room for it: at once below the cap, after
// closing the oldest idle connection at the cap, else when a busy connection is done.
func (ll *limitedListener) Accept() (net.Conn, error) {
	c, err := ll.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc, err := ll.lim.admit(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	return tc, nil
}

// Close closes the listener and wakes an Accept waiting for room.
func (ll *limitedListener) Close() error {
	ll.once.Do(func() {
		ll.lim.mu.Lock()
		ll.lim.closed = true
		ll.lim.cond.Broadcast()
		ll.lim.mu.Unlock()
	})
	return ll.Listener.Close()
}

// admit waits for room for c and returns it tracked.
func (l *connLimiter) admit(c net.Conn) (*trackedConn, error) {
	l.mu.Lock()
	for l.open >= l.max {
		if l.closed {
			l.mu.Unlock()
			return nil, net.ErrClosed
		}
		if e := l.idle.Front(); e != nil {
			victim := e.Value.(*trackedConn)
			l.idle.Remove(e)
			victim.elem = nil
			l.evicted++
			if now := time.Now(); now.Sub(l.lastWarn) >= time.Minute {
				l.lastWarn = now
				l.log.Warn().Int("max_conns", l.max).Int64("closed", l.evicted).
					Msg("HTTP connection cap reached: closing the oldest connections not in a request to make room (slow or idle clients; HTTP_MAX_CONNS)")
			}
			l.mu.Unlock()
			victim.Close()
			l.mu.Lock()
			continue
		}
		l.cond.Wait()
	}
	l.open++
	tc := &trackedConn{Conn: c, lim: l}
	tc.elem = l.idle.PushBack(tc)
	l.mu.Unlock()
	return tc, nil
}

// stats returns the connections open and how many were closed to make room.
func (l *connLimiter) stats() (open int, evicted int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open, l.evicted
}

type trackedKey struct{}

// connContext is http.Server.ConnContext: it lets guardRequests find the request's connection.
func (l *connLimiter) connContext(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*trackedConn); ok {
		return context.WithValue(ctx, trackedKey{}, tc)
	}
	return ctx
}

func trackedFrom(ctx context.Context) *trackedConn {
	tc, _ := ctx.Value(trackedKey{}).(*trackedConn)
	return tc
}

// connState is http.Server.ConnState: a connection waiting for its next request is idle again;
// a hijacked one is the hijacker's and never closed by the cap.
func (l *connLimiter) connState(c net.Conn, st http.ConnState) {
	tc, ok := c.(*trackedConn)
	if !ok {
		return
	}
	switch st {
	case http.StateIdle:
		tc.idle()
	case http.StateHijacked:
		tc.enter()
	}
}

// trackedConn is an accepted connection counted by its connLimiter until closed.
type trackedConn struct {
	net.Conn
	lim    *connLimiter
	elem   *list.Element // in lim.idle while idle; guarded by lim.mu
	closed bool          // guarded by lim.mu
	once   sync.Once
}

// enter marks the connection busy: a handler has its request.
func (tc *trackedConn) enter() {
	l := tc.lim
	l.mu.Lock()
	if tc.elem != nil {
		l.idle.Remove(tc.elem)
		tc.elem = nil
	}
	l.mu.Unlock()
}

// idle marks the connection idle: it waits for its next request.
func (tc *trackedConn) idle() {
	l := tc.lim
	l.mu.Lock()
	if tc.elem == nil && !tc.closed {
		tc.elem = l.idle.PushBack(tc)
		l.cond.Broadcast()
	}
	l.mu.Unlock()
}

// CloseWrite half-closes a TCP connection, so that net/http's last answer before closing reaches
// the client with a FIN rather than a reset.
func (tc *trackedConn) CloseWrite() error {
	if cw, ok := tc.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Close closes the connection and gives its room back (once).
func (tc *trackedConn) Close() error {
	tc.once.Do(func() {
		l := tc.lim
		l.mu.Lock()
		tc.closed = true
		if tc.elem != nil {
			l.idle.Remove(tc.elem)
			tc.elem = nil
		}
		l.open--
		l.cond.Broadcast()
		l.mu.Unlock()
	})
	return tc.Conn.Close()
}
