package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/masspayout/masspayout/internal/redistest"
)

// TestDiscardGhostBatch: an empty file refused at submit leaves a SUBMIT_FAILED batch, not a
// SUBMITTING ghost; discard removes it.
func TestDiscardGhostBatch(t *testing.T) {
	rs := redistest.Start(t)
	c := &cli{t: t, env: map[string]string{"REDIS_URL": rs.URL, "RESULTS_DIR": t.TempDir()}}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "empty.csv")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, code := c.run(ctx, "enqueue", "--batch-id", "ghost", path); code != exitUsage {
		t.Fatalf("enqueue of an empty file: exit %d", code)
	}
	if out := c.must(ctx, "status", "ghost"); !strings.Contains(out, "SUBMIT_FAILED") || !strings.Contains(out, "submit the file again") {
		t.Errorf("status of the failed submission: %s", out)
	}
	if out := c.must(ctx, "discard", "--as", "ops", "ghost"); !strings.Contains(out, "discarded") {
		t.Errorf("discard: %s", out)
	}
	if _, errs, code := c.run(ctx, "status", "ghost"); code != exitFailed || !strings.Contains(errs, "not found") {
		t.Errorf("status after discard: exit %d %s", code, errs)
	}
}

// TestSecondWorkerOnOneHost: a worker whose METRICS_ADDR is taken (another worker on the host)
// runs without metrics instead of dying.
func TestSecondWorkerOnOneHost(t *testing.T) {
	rs := redistest.Start(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	env := map[string]string{"REDIS_URL": rs.URL, "METRICS_ADDR": l.Addr().String(), "IYZICO_RATE_LIMIT": "0"}
	ctx, cancel := context.WithCancel(context.Background())
	var logs lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"masspayout", "worker"}, func(k string) string { return env[k] }, strings.NewReader(""), &logs, &logs)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(logs.String(), "workers running") {
		select {
		case err := <-done:
			t.Fatalf("the worker stopped: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker did not start:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("worker: %v", err)
	}
	if !strings.Contains(logs.String(), "running without /metrics") {
		t.Errorf("no warning about METRICS_ADDR:\n%s", logs.String())
	}
}
