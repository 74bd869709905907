package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
