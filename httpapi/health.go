package httpapi

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// handleHealthz is GET /healthz: the process answers.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

type readiness struct {
	Ready       bool   `json:"ready"`
	Redis       string `json:"redis"`
	Persistence string `json:"persistence"`
}

// handleReadyz is GET /readyz: 200 when Redis answers and keeps its data (AOF or RDB snapshots
// on), else 503 saying why. An embedded development Redis counts as ready; the body says it is not
// persistent.
func handleReadyz(rdb redis.UniversalClient, embedded bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		res := readiness{Redis: "reachable"}
		if err := rdb.Ping(ctx).Err(); err != nil {
			res.Redis = "unreachable: " + err.Error()
			writeJSON(w, http.StatusServiceUnavailable, res)
			return
		}
		if embedded {
			res.Ready, res.Persistence = true, "not persistent: embedded development Redis (REDIS_URL unset); the ledger is lost when the process exits"
			writeJSON(w, http.StatusOK, res)
			return
		}
		res.Ready, res.Persistence = persistence(ctx, rdb)
		status := http.StatusOK
		if !res.Ready {
			status = http.StatusServiceUnavailable
		}
		writeJSON(w, status, res)
	})
}

// persistence reports whether Redis keeps its data across a restart: AOF on (from INFO
// persistence, allowed to every user), or RDB save points (CONFIG GET save, which an ACL may deny).
func persistence(ctx context.Context, rdb redis.UniversalClient) (bool, string) {
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
