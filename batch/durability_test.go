package batch

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/masspayout/masspayout/internal/redistest"
)

func TestDurabilityChecks(t *testing.T) {
	ctx := context.Background()
	plain := redistest.Start(t, redistest.Volatile())
	if !plain.Real() {
		t.Skip("needs a real redis-server")
	}
	if v, detail := Durability(ctx, plain.Client()); v != VerdictUnsafe || !strings.Contains(detail, "appendonly yes") {
		t.Errorf("no persistence: %v %q", v, detail)
	}
	if v, _ := EvictionSafe(ctx, plain.Client()); v != VerdictSafe {
		t.Errorf("default noeviction: %v, want safe", v)
	}
	aof := redistest.Start(t, redistest.WithAOF(), redistest.WithArgs("--maxmemory-policy", "allkeys-lru"))
	if v, detail := Durability(ctx, aof.Client()); v != VerdictSafe || detail != "AOF on" {
		t.Errorf("AOF: %v %q", v, detail)
	}
	if v, detail := EvictionSafe(ctx, aof.Client()); v != VerdictUnsafe || !strings.Contains(detail, "allkeys-lru") {
		t.Errorf("allkeys-lru: %v %q", v, detail)
	}
	rdb := redistest.Start(t, redistest.Volatile(), redistest.WithArgs("--save", "900 1"))
	if v, detail := Durability(ctx, rdb.Client()); v != VerdictSafe || !strings.Contains(detail, "RDB") {
		t.Errorf("RDB: %v %q", v, detail)
	}
	if v, detail := Durability(ctx, redistest.Start(t).Client()); v != VerdictSafe || detail != "AOF on" {
		t.Errorf("redistest's default server: %v %q, want AOF on", v, detail)
	}
}

// TestDurabilityChecksWithoutConfig: an ACL user that may not run CONFIG gets VerdictUnknown
// where CONFIG is the only way to tell, and the detail says the check could not be made.
func TestDurabilityChecksWithoutConfig(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		opts       []redistest.Option
		durability Verdict
	}{
		{"aof", nil, VerdictSafe}, // INFO persistence answers: no CONFIG needed
		{"volatile", []redistest.Option{redistest.Volatile()}, VerdictUnknown},
	} {
		srv := redistest.Start(t, tc.opts...)
		if !srv.Real() {
			t.Skip("needs a real redis-server")
		}
		if err := srv.Client().Do(ctx, "ACL", "SETUSER", "app", "on", ">app-pass", "~*", "&*", "+@all", "-config").Err(); err != nil {
			t.Fatal(err)
		}
		app := redis.NewClient(&redis.Options{Addr: srv.Addr, Username: "app", Password: "app-pass"})
		t.Cleanup(func() { app.Close() })
		if v, detail := Durability(ctx, app); v != tc.durability || (v == VerdictUnknown && !strings.Contains(detail, "cannot be checked")) {
			t.Errorf("%s: Durability = %v %q, want %v", tc.name, v, detail, tc.durability)
		}
		if v, detail := EvictionSafe(ctx, app); v != VerdictUnknown || !strings.Contains(detail, "cannot be checked") {
			t.Errorf("%s: EvictionSafe = %v %q, want unknown", tc.name, v, detail)
		}
	}
}
