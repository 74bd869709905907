package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/masspayout/masspayout/batch"
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
// persistent. It needs no credentials, but only a caller with valid ones (any API token, the
// dashboard user) is shown Redis's error text: to anyone else Redis is just "unavailable".
func handleReadyz(rdb redis.UniversalClient, embedded bool, au *Auth) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		res := readiness{Redis: "reachable"}
		detailed := au.known(r)
		if err := rdb.Ping(ctx).Err(); err != nil {
			res.Redis = "unavailable"
			if detailed {
				res.Redis = "unreachable: " + err.Error()
			}
			writeJSON(w, http.StatusServiceUnavailable, res)
			return
		}
		if embedded {
			res.Ready, res.Persistence = true, "not persistent: embedded development Redis (REDIS_URL unset); the ledger is lost when the process exits"
			writeJSON(w, http.StatusOK, res)
			return
		}
		v, detail := batch.Durability(ctx, rdb)
		if v == batch.VerdictUnknown && !detailed {
			detail = "cannot be checked; send credentials to see why"
		}
		res.Ready, res.Persistence = v == batch.VerdictSafe, detail
		status := http.StatusOK
		if !res.Ready {
			status = http.StatusServiceUnavailable
		}
		writeJSON(w, status, res)
	})
}
