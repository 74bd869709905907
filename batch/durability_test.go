package batch

import (
	"context"
	"strings"
	"testing"

	"github.com/masspayout/masspayout/internal/redistest"
)

func TestDurabilityChecks(t *testing.T) {
	ctx := context.Background()
	plain := redistest.Start(t)
	if !plain.Real() {
		t.Skip("needs a real redis-server")
	}
	if ok, detail := Durability(ctx, plain.Client()); ok || !strings.Contains(detail, "appendonly yes") {
		t.Errorf("no persistence: %v %q", ok, detail)
	}
	if ok, _ := EvictionSafe(ctx, plain.Client()); !ok {
		t.Error("default noeviction reported unsafe")
	}
	aof := redistest.Start(t, redistest.WithAOF(), redistest.WithArgs("--maxmemory-policy", "allkeys-lru"))
	if ok, detail := Durability(ctx, aof.Client()); !ok || detail != "AOF on" {
		t.Errorf("AOF: %v %q", ok, detail)
	}
	if ok, detail := EvictionSafe(ctx, aof.Client()); ok || !strings.Contains(detail, "allkeys-lru") {
		t.Errorf("allkeys-lru: %v %q", ok, detail)
	}
	rdb := redistest.Start(t, redistest.WithArgs("--save", "900 1"))
	if ok, detail := Durability(ctx, rdb.Client()); !ok || !strings.Contains(detail, "RDB") {
		t.Errorf("RDB: %v %q", ok, detail)
	}
}
