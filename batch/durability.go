package batch

import (
	"bufio"
	"context"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Durability reports whether Redis keeps the ledger across a restart: AOF on (read from INFO
// persistence, which every user may run) or RDB save points (CONFIG GET save, which an ACL may
// refuse). detail says which, or what to change.
func Durability(ctx context.Context, rdb redis.UniversalClient) (persistent bool, detail string) {
	info, err := rdb.Info(ctx, "persistence").Result()
	if err != nil {
		return false, "unknown: INFO persistence failed: " + err.Error()
	}
	if infoField(info, "aof_enabled") == "1" {
		return true, "AOF on"
	}
	save, err := rdb.ConfigGet(ctx, "save").Result()
	if err != nil {
		return false, "AOF off, and RDB snapshots cannot be checked (CONFIG GET refused: " + err.Error() + "); turn on appendonly yes"
	}
	if strings.TrimSpace(save["save"]) != "" {
		return true, "RDB snapshots on (save " + save["save"] + "); AOF loses less: appendonly yes"
	}
	return false, "not persistent: AOF and RDB snapshots are both off; a Redis restart would lose the ledger and the queue: turn on appendonly yes"
}

// EvictionSafe reports whether Redis refuses writes rather than evicting keys when memory is full
// (maxmemory-policy noeviction): evicted ledger or queue keys would be payouts silently lost.
// ok is true as well when the policy cannot be read (CONFIG refused); detail then says so.
func EvictionSafe(ctx context.Context, rdb redis.UniversalClient) (ok bool, detail string) {
	cfg, err := rdb.ConfigGet(ctx, "maxmemory-policy").Result()
	if err != nil {
		return true, "maxmemory-policy cannot be checked (CONFIG GET refused: " + err.Error() + "); it must be noeviction"
	}
	if p := cfg["maxmemory-policy"]; p != "noeviction" {
		return false, "maxmemory-policy is " + p + ": Redis may evict ledger and queue keys under memory pressure; set maxmemory-policy noeviction"
	}
	return true, "maxmemory-policy noeviction"
}

// infoField returns a field of an INFO answer.
func infoField(info, name string) string {
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), name+":"); ok {
			return v
		}
	}
	return ""
}
