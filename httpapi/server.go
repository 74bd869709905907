package httpapi

import (
	"context"
	stdlog "log"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"
)

// Defaults of ServerOptions.
const (
	// DefaultReadHeaderTimeout is how long a connection may take to send a request's headers. No
	// request body is read before its headers are authenticated, so this is also the deadline of
	// an unauthenticated caller: a request without valid credentials is answered at once, with
	// "Connection: close", and its body is never read.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultIdleTimeout is how long a kept-alive connection may wait for its next request.
	DefaultIdleTimeout = time.Minute
	// DefaultMaxHeaderBytes bounds a request's header block.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultMinBodyRate is the slowest a request body may arrive, in bytes per second
	// (UPLOAD_MIN_RATE), measured over each BodyWindow.
	DefaultMinBodyRate = 16 << 10
	// DefaultBodyWindow is the window over which DefaultMinBodyRate is measured.
	DefaultBodyWindow = 10 * time.Second
)

// ServerOptions are the limits of NewServer. Zero values take the defaults above.
type ServerOptions struct {
	// Log receives net/http's own errors and a warning (at most one a minute) while the
	// connection cap closes connections to make room.
	Log zerolog.Logger
	// MaxConns caps the connections open at once (HTTP_MAX_CONNS). When the cap is reached, a new
	// connection closes the oldest one that is not in a request (idle between requests, or still
	// sending its headers); when every connection is in a request, new ones wait to be accepted.
	// 0: half the process's open-file limit, at most 4096 (and at least 64).
	MaxConns int
	// MinBodyRate is the slowest a request body may arrive (UPLOAD_MIN_RATE), in bytes per second:
	// at least MinBodyRate×BodyWindow bytes in every BodyWindow, else the read fails and the
	// request is answered 408 TOO_SLOW. Default DefaultMinBodyRate over DefaultBodyWindow.
	MinBodyRate int64
	BodyWindow  time.Duration
	// ReadHeaderTimeout, IdleTimeout and MaxHeaderBytes are net/http's; defaults above.
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
}

func (o ServerOptions) withDefaults() ServerOptions {
	if o.MaxConns <= 0 {
		o.MaxConns = defaultMaxConns()
	}
	if o.MinBodyRate <= 0 {
		o.MinBodyRate = DefaultMinBodyRate
	}
	if o.BodyWindow <= 0 {
		o.BodyWindow = DefaultBodyWindow
	}
	if o.ReadHeaderTimeout <= 0 {
		o.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	return o
}

// defaultMaxConns is half the open-file limit (the rest is for Redis, spooled uploads and
// reports), at most 4096 (a connection costs about 30 KiB of memory under a flood), at least 64;
// 4096 when the limit cannot be read.
func defaultMaxConns() int {
	n, ok := openFileLimit()
	if !ok {
		return 4096
	}
	return int(min(max(n/2, 64), 4096))
}

// Server is the HTTP server of masspayout serve and of the worker's metrics listener: net/http
// with the limits of ServerOptions and a cap on open connections.
type Server struct {
	srv   *http.Server
	conns *connLimiter
	opts  ServerOptions
}

// NewServer returns a server for h with the limits of o. Every request with a body gets
// "Connection: close" until its body has been read to the end, so that an answer given without
// reading the body (401, 403, 413, 503) closes the connection instead of draining it; the body
// must keep arriving at o.MinBodyRate.
func NewServer(h http.Handler, o ServerOptions) *Server {
	o = o.withDefaults()
	lim := newConnLimiter(o.MaxConns, o.Log)
	return &Server{
		srv: &http.Server{
			Handler:           guardRequests(h, o.MinBodyRate, o.BodyWindow),
			ReadHeaderTimeout: o.ReadHeaderTimeout,
			IdleTimeout:       o.IdleTimeout,
			MaxHeaderBytes:    o.MaxHeaderBytes,
			ConnContext:       lim.connContext,
			ConnState:         lim.connState,
			ErrorLog:          stdlog.New(o.Log.With().Str("component", "net/http").Logger(), "", 0),
		},
		conns: lim,
		opts:  o,
	}
}

// Options returns the limits in force, defaults filled in.
func (s *Server) Options() ServerOptions { return s.opts }

// Serve accepts connections on l, at most MaxConns at once, until Shutdown or Close; it returns
// http.ErrServerClosed then. Call it once.
func (s *Server) Serve(l net.Listener) error { return s.srv.Serve(s.conns.listen(l)) }

// Shutdown stops accepting, closes idle connections and waits until the requests in flight are
// done or ctx ends (see http.Server.Shutdown).
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

// Close closes the listener and every connection at once.
func (s *Server) Close() error { return s.srv.Close() }

// guardRequests marks the connection as in a request (the connection cap never closes it while
// a handler runs) and guards request bodies: "Connection: close" until the body has been read to
// its end, and a read deadline that moves on only while the body arrives at rate bytes/s or more.
func guardRequests(h http.Handler, rate int64, window time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tc := trackedFrom(r.Context())
		if tc != nil {
			tc.enter()
		}
		var rb *rateBody
		if r.Body != nil && r.Body != http.NoBody {
			w.Header().Set("Connection", "close")
			rc := http.NewResponseController(w)
			rc.SetReadDeadline(time.Now().Add(window))
			rb = &rateBody{body: r.Body, rc: rc, header: w.Header(), window: window, need: max(1, rate*int64(window)/int64(time.Second))}
			r.Body = rb
		}
		h.ServeHTTP(w, r)
		if rb != nil && !rb.done {
			// net/http closes the body after the handler, and closing drains up to 256 KiB of
			// what is left: with the deadline passed it reads nothing, and the connection closes.
			rb.rc.SetReadDeadline(time.Now())
		}
		// A connection that closes after this answer lingers a little (net/http waits for the
		// client to read it); it may be closed sooner to make room, behind every older one.
		if tc != nil && w.Header().Get("Connection") == "close" {
			tc.idle()
		}
	})
}
