package batch

import (
	"bufio"
	"context"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Verdict is the answer of a Redis safety check: VerdictSafe, VerdictUnsafe, or VerdictUnknown when
// Redis refused the question (an ACL user without CONFIG, say).
type Verdict int

// Verdicts of Durability and EvictionSafe.
const (
	VerdictUnknown Verdict = iota // the check could not be made; the detail says why
	VerdictSafe
	VerdictUnsafe
)

// Durability reports whether Redis keeps the ledger across a restart: AOF on (read from INFO
// persistence, which every user may run) or RDB save points (CONFIG GET save, which an ACL may
// refuse: VerdictUnknown). detail says which, or what to change.
func Durability(ctx context.Context, rdb redis.UniversalClient) (v Verdict, detail string) {
	info, err := rdb.Info(ctx, "persistence").Result()
	if err != nil {
		return VerdictUnknown, "persistence cannot be checked (INFO persistence failed: " + err.Error() + "); it must have appendonly yes"
	}
	if infoField(info, "aof_enabled") == "1" {
		return VerdictSafe, "AOF on"
	}
	save, err := rdb.ConfigGet(ctx, "save").Result()
	if err != nil {
		return VerdictUnknown, "AOF off, and RDB snapshots cannot be checked (CONFIG GET refused: " + err.Error() + "); turn on appendonly yes"
	}
	points, ok := save["save"]
	switch {
	case !ok:
		return VerdictUnknown, "AOF off, and RDB snapshots cannot be checked (CONFIG GET save answered nothing); turn on appendonly yes"
	case strings.TrimSpace(points) != "":
		return VerdictSafe, "RDB snapshots on (save " + points + "); AOF loses less: appendonly yes"
	}
	return VerdictUnsafe, "not persistent: AOF and RDB snapshots are both off; a Redis restart would lose the ledger and the queue: turn on appendonly yes"
}

// EvictionSafe reports whether Redis refuses writes rather than evicting keys when memory is full
// (maxmemory-policy noeviction): evicted ledger or queue keys would be payouts silently lost.
// When the policy cannot be read (CONFIG refused) it is VerdictUnknown and detail says so.
func EvictionSafe(ctx context.Context, rdb redis.UniversalClient) (v Verdict, detail string) {
	cfg, err := rdb.ConfigGet(ctx, "maxmemory-policy").Result()
	if err != nil {
		return VerdictUnknown, "maxmemory-policy cannot be checked (CONFIG GET refused: " + err.Error() + "); it must be noeviction"
	}
	p, ok := cfg["maxmemory-policy"]
	if !ok {
		return VerdictUnknown, "maxmemory-policy cannot be checked (CONFIG GET answered nothing); it must be noeviction"
	}
	if p != "noeviction" {
		return VerdictUnsafe, "maxmemory-policy is " + p + ": Redis may evict ledger and queue keys under memory pressure; set maxmemory-policy noeviction"
	}
	return VerdictSafe, "maxmemory-policy noeviction"
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
