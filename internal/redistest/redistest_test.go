package redistest

import (
	"context"
	"os/exec"
	"testing"
)

func TestStartSetGetAndRestartWithAOF(t *testing.T) {
	s := Start(t, WithAOF())
	ctx := context.Background()
	c := s.Client()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if !s.Real() {
		t.Skip("miniredis fallback: restart not possible")
	}
	s.Restart()
	got, err := c.Get(ctx, "k").Result()
	if err != nil || got != "v" {
		t.Fatalf("after restart Get = %q, %v; want v", got, err)
	}
}

func TestServersAreIsolated(t *testing.T) {
	a, b := Start(t), Start(t)
	ctx := context.Background()
	if a.URL == b.URL {
		t.Fatalf("same URL %s", a.URL)
	}
	a.Client().Set(ctx, "only-a", "1", 0)
	if n := b.Client().Exists(ctx, "only-a").Val(); n != 0 {
		t.Errorf("key leaked across servers")
	}
}

// TestPersistenceOptions: the default server is persistent (AOF, fsync every second), WithAOF
// fsyncs every write, Volatile has no persistence at all, and a later option overrides an earlier
// one (redis-server keeps the last value of a repeated option; save points add up after "").
func TestPersistenceOptions(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("needs a real redis-server")
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		opts []Option
		want map[string]string
	}{
		{"default", nil, map[string]string{"appendonly": "yes", "appendfsync": "everysec", "save": "", "maxmemory-policy": "noeviction"}},
		{"WithAOF", []Option{WithAOF()}, map[string]string{"appendonly": "yes", "appendfsync": "always", "save": ""}},
		{"Volatile", []Option{Volatile()}, map[string]string{"appendonly": "no", "save": ""}},
		{"WithAOF after Volatile", []Option{Volatile(), WithAOF()}, map[string]string{"appendonly": "yes", "appendfsync": "always"}},
		{"Volatile after WithAOF", []Option{WithAOF(), Volatile()}, map[string]string{"appendonly": "no", "save": ""}},
		{"RDB only", []Option{Volatile(), WithArgs("--save", "900 1")}, map[string]string{"appendonly": "no", "save": "900 1"}},
		{"save points cleared", []Option{WithArgs("--save", "900 1"), Volatile()}, map[string]string{"save": ""}},
		{"eviction", []Option{WithArgs("--maxmemory-policy", "allkeys-lru")}, map[string]string{"appendonly": "yes", "maxmemory-policy": "allkeys-lru"}},
	} {
		c := Start(t, tc.opts...).Client()
		for k, want := range tc.want {
			got, err := c.ConfigGet(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			if got[k] != want {
				t.Errorf("%s: %s = %q, want %q", tc.name, k, got[k], want)
			}
		}
	}
}

func TestRestartKeepsDataByDefaultAndLosesItWhenVolatile(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		opts []Option
		kept bool
	}{
		{"default", nil, true},
		{"Volatile", []Option{Volatile()}, false},
	} {
		s := Start(t, tc.opts...)
		if !s.Real() {
			t.Skip("miniredis fallback: restart not possible")
		}
		c := s.Client()
		if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		s.Restart()
		n, err := c.Exists(ctx, "k").Result()
		if err != nil {
			t.Fatal(err)
		}
		if kept := n == 1; kept != tc.kept {
			t.Errorf("%s: key kept across a restart = %v, want %v", tc.name, kept, tc.kept)
		}
	}
}

// TestSnapshotRestoresOlderData: what was written after Snapshot is gone after restore.
func TestSnapshotRestoresOlderData(t *testing.T) {
	s := Start(t, WithAOF())
	if !s.Real() {
		t.Skip("needs a real redis-server")
	}
	c := s.Client()
	ctx := context.Background()
	if err := c.Set(ctx, "before", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	restore := s.Snapshot()
	if err := c.Set(ctx, "after", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	restore()
	if n := c.Exists(ctx, "before").Val(); n != 1 {
		t.Error("a key written before the snapshot is gone")
	}
	if n := c.Exists(ctx, "after").Val(); n != 0 {
		t.Error("a key written after the snapshot survived the restore")
	}
}
