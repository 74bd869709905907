package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a private redis-server with AOF (appendfsync everysec, as deploy/redis.conf) on
// a free loopback port, in a directory of its own. kill and start again keep the port and the
// directory, so a restart loads the AOF: everything but up to the last second's writes.
type redisServer struct {
	dir  string
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// startRedis starts a redis-server in dir on a free port.
func startRedis(dir string) (*redisServer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var err error
	for range 5 { // a free port can be taken before redis-server binds it
		var port int
		if port, err = freePort(); err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		s := &redisServer{dir: dir, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
		if err = s.start(); err == nil {
			return s, nil
		}
	}
	return nil, err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// URL is the REDIS_URL of the server.
func (s *redisServer) URL() string { return "redis://" + s.addr + "/0" }

// start runs redis-server and waits until it answers PING (after loading its AOF).
func (s *redisServer) start() error {
	_, port, _ := net.SplitHostPort(s.addr)
	logPath := filepath.Join(s.dir, "redis.log")
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", port, "--dir", s.dir,
		"--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no",
		"--maxmemory-policy", "noeviction", "--loglevel", "notice", "--logfile", logPath)
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server (install it: apt-get install -y redis-server): %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	c := redis.NewClient(&redis.Options{Addr: s.addr, MaxRetries: -1})
	defer c.Close()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-done:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("redis-server on %s exited at start: %s", s.addr, lastLines(string(log), 5))
		default:
		}
		// Dial first: go-redis logs every failed dial of its pool.
		conn, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err != nil {
			continue
		}
		conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = c.Ping(ctx).Err() // fails while the AOF loads
		cancel()
		if err == nil {
			s.cmd, s.done = cmd, done
			return nil
		}
	}
	cmd.Process.Kill()
	<-done
	return fmt.Errorf("redis-server on %s did not answer PING within 30s", s.addr)
}

// kill stops the server with SIGKILL, as a crash would, and waits until it is gone.
func (s *redisServer) kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// restart kills the server and starts it again on the same port and directory.
func (s *redisServer) restart() error {
	s.kill()
	var err error
	for range 3 {
		if err = s.start(); err == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("restart redis-server: %w", err)
}

// snapshot copies the server's AOF as it is now. rollBack kills the server, puts that copy back
// in place of everything written since and starts it again: what a host crash does to the writes
// of the last second, which the kernel held but had not yet flushed to disk.
func (s *redisServer) snapshot() (rollBack func() error, err error) {
	aof := filepath.Join(s.dir, "appendonlydir")
	saved := filepath.Join(s.dir, "..", "aof-snapshot")
	if err := os.RemoveAll(saved); err != nil {
		return nil, err
	}
	if err := os.CopyFS(saved, os.DirFS(aof)); err != nil {
		return nil, fmt.Errorf("snapshot the AOF: %w", err)
	}
	return func() error {
		s.kill()
		if err := os.RemoveAll(aof); err != nil {
			return err
		}
		if err := os.Rename(saved, aof); err != nil {
			return fmt.Errorf("roll the AOF back: %w", err)
		}
		return s.restart()
	}, nil
}

// pid is the running server's process ID, 0 when it is down.
func (s *redisServer) pid() int {
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
