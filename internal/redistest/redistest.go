// Package redistest starts a private Redis for a test: a real redis-server on a free loopback port
// in a temporary directory, stopped in t.Cleanup. Tests never touch a Redis they did not start.
// The server is persistent by default (AOF with fsync every second, as masspayout requires of a
// shared Redis: commands refuse one without persistence unless REDIS_ALLOW_VOLATILE=true); Volatile
// starts one without.
// Where no redis-server binary exists it falls back to an in-process miniredis and says so in the
// test log (Restart and Kill then fail the test: persistence cannot be faked).
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Server is a Redis started for one test.
type Server struct {
	// URL is the address to give the code under test, like redis://127.0.0.1:41234/0.
	URL string
	// Addr is host:port.
	Addr string

	t    testing.TB
	bin  string
	dir  string
	args []string
	cmd  *exec.Cmd
	done chan struct{}
	mini *miniredis.Miniredis
}

// Option changes how the server is started. Options add redis-server arguments after the defaults
// and after the options before them; redis-server keeps the last value of an option, except that
// save points add up ("--save", "" clears them).
type Option func(*[]string)

// WithAOF makes fsync run on every write instead of every second, so Restart keeps everything that
// was acknowledged.
func WithAOF() Option {
	return func(a *[]string) { *a = append(*a, "--appendonly", "yes", "--appendfsync", "always") }
}

// Volatile starts a server without any persistence (no AOF, no RDB snapshots), which masspayout
// refuses unless REDIS_ALLOW_VOLATILE=true. Restart then loses everything.
func Volatile() Option {
	return func(a *[]string) { *a = append(*a, "--appendonly", "no", "--save", "") }
}

// WithArgs passes extra redis-server arguments, like "--maxmemory-policy", "allkeys-lru".
func WithArgs(args ...string) Option {
	return func(a *[]string) { *a = append(*a, args...) }
}

// Start starts a private Redis for t and stops it when t ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return startMini(t)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir()}
	for _, o := range opts {
		o(&s.args)
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("redistest: find a free port: %v", err)
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if lastErr = s.start(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("redistest: start redis-server: %v", lastErr)
	}
	s.URL = "redis://" + s.Addr + "/0"
	t.Cleanup(s.stop)
	return s
}

func startMini(t testing.TB) *Server {
	t.Helper()
	t.Log("redistest: no redis-server binary on PATH; falling back to in-process miniredis (install redis-server for real-Redis tests)")
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		t.Fatalf("redistest: start miniredis: %v", err)
	}
	t.Cleanup(m.Close)
	return &Server{t: t, mini: m, Addr: m.Addr(), URL: "redis://" + m.Addr() + "/0"}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) start() error {
	_, port, _ := net.SplitHostPort(s.Addr)
	args := append([]string{
		"--bind", "127.0.0.1", "--port", port, "--dir", s.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--daemonize", "no",
		"--protected-mode", "yes", "--loglevel", "warning",
		"--logfile", filepath.Join(s.dir, "redis.log"),
	}, s.args...)
	cmd := exec.Command(s.bin, args...)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			return fmt.Errorf("redis-server exited at start: %s", strings.TrimSpace(string(log)))
		default:
		}
		c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
		err := c.Ping(context.Background()).Err()
		c.Close()
		if err == nil {
			s.cmd, s.done = cmd, done
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Kill()
	<-done
	return fmt.Errorf("redis-server on %s did not answer PING within 10s", s.Addr)
}

func (s *Server) stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Client returns a go-redis client for the server, closed when the test ends.
func (s *Server) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	s.t.Cleanup(func() { c.Close() })
	return c
}

// Kill stops the server abruptly (SIGKILL), as a crash would.
func (s *Server) Kill() {
	s.t.Helper()
	if s.mini != nil {
		s.t.Fatal("redistest: Kill needs a real redis-server")
	}
	s.stop()
}

// Restart kills the server and starts it again on the same port and directory. The data written
// before the kill is back: all of it with WithAOF, all but the last second's by default, none with
// Volatile.
func (s *Server) Restart() {
	s.t.Helper()
	if s.mini != nil {
		s.t.Fatal("redistest: Restart needs a real redis-server")
	}
	s.stop()
	if err := s.start(); err != nil {
		s.t.Fatalf("redistest: restart: %v", err)
	}
}

// Real reports whether this is a real redis-server rather than the miniredis fallback.
func (s *Server) Real() bool { return s.mini == nil }

// Snapshot copies the server's persisted data (its AOF and RDB files) as they are now, and
// returns a restore func that kills the server, puts that copy back in place of everything
// written since, and starts it again: a Redis that lost its last writes. With WithAOF the copy
// holds every write acknowledged before Snapshot.
func (s *Server) Snapshot() (restore func()) {
	s.t.Helper()
	if s.mini != nil {
		s.t.Fatal("redistest: Snapshot needs a real redis-server")
	}
	saved := s.t.TempDir()
	if err := os.CopyFS(saved, os.DirFS(s.dir)); err != nil {
		s.t.Fatalf("redistest: snapshot: %v", err)
	}
	return func() {
		s.t.Helper()
		s.stop()
		for _, name := range []string{"appendonlydir", "dump.rdb"} {
			if err := os.RemoveAll(filepath.Join(s.dir, name)); err != nil {
				s.t.Fatalf("redistest: restore: %v", err)
			}
			src := filepath.Join(saved, name)
			if _, err := os.Stat(src); err != nil {
				continue
			}
			if name == "dump.rdb" {
				b, err := os.ReadFile(src)
				if err == nil {
					err = os.WriteFile(filepath.Join(s.dir, name), b, 0o600)
				}
				if err != nil {
					s.t.Fatalf("redistest: restore: %v", err)
				}
				continue
			}
			if err := os.CopyFS(filepath.Join(s.dir, name), os.DirFS(src)); err != nil {
				s.t.Fatalf("redistest: restore: %v", err)
			}
		}
		if err := s.start(); err != nil {
			s.t.Fatalf("redistest: restart after restore: %v", err)
		}
	}
}
