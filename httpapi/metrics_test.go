package httpapi

import (
	"bufio"
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/internal/redistest"
	"github.com/shopspring/decimal"
)

// sampleLine is one line of the text format: name{labels} value.
var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*)?\})? (\S+)$`)

// parseMetrics reads a text-format answer strictly into "name{labels}" → value; a line that is
// not a comment or a well-formed sample fails the test, and so does a sample without # TYPE.
func parseMetrics(t *testing.T, body []byte) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	typed := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, kind, _ := strings.Cut(rest, " ")
			typed[name] = kind
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("not a sample line: %q", line)
		}
		name := m[1]
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
		if typed[name] == "" && typed[base] != "histogram" {
			t.Errorf("%s has no # TYPE before it", name)
		}
		v, err := strconv.ParseFloat(strings.Replace(m[len(m)-1], "+Inf", "Inf", 1), 64)
		if err != nil {
			t.Fatalf("bad value in %q", line)
		}
		out[name+m[2]] = v
	}
	return out
}

func TestExposition(t *testing.T) {
	m := NewMetrics()
	m.CountChunk("INIT")
	m.CountChunk("INIT")
	m.CountChunk("DONE")
	m.ObserveIyzico("init", "200", 30*time.Millisecond)
	m.ObserveIyzico("init", "200", 2*time.Second)
	m.ObserveIyzico("auth", "error", time.Minute)
	c := newCounterVec("x_total", "help with \\ and\nnewline", "l")
	c.add(1, "a\"b\\c\nd")
	var buf bytes.Buffer
	if err := writeFamilies(&buf, []family{m.chunks.family(), m.iyzico.family(), c.family()}); err != nil {
		t.Fatal(err)
	}
	got := parseMetrics(t, buf.Bytes())
	want := map[string]float64{
		`masspayout_chunks_total{outcome="INIT"}`:                                                   2,
		`masspayout_chunks_total{outcome="DONE"}`:                                                   1,
		`masspayout_iyzico_request_duration_seconds_bucket{endpoint="init",code="200",le="0.025"}`:  0,
		`masspayout_iyzico_request_duration_seconds_bucket{endpoint="init",code="200",le="0.05"}`:   1,
		`masspayout_iyzico_request_duration_seconds_bucket{endpoint="init",code="200",le="2.5"}`:    2,
		`masspayout_iyzico_request_duration_seconds_bucket{endpoint="init",code="200",le="+Inf"}`:   2,
		`masspayout_iyzico_request_duration_seconds_count{endpoint="init",code="200"}`:              2,
		`masspayout_iyzico_request_duration_seconds_sum{endpoint="init",code="200"}`:                2.03,
		`masspayout_iyzico_request_duration_seconds_bucket{endpoint="auth",code="error",le="30"}`:   0,
		`masspayout_iyzico_request_duration_seconds_bucket{endpoint="auth",code="error",le="+Inf"}`: 1,
		`x_total{l="a\"b\\c\nd"}`: 1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if !strings.Contains(buf.String(), "# HELP x_total help with \\\\ and\\nnewline\n") {
		t.Errorf("help not escaped:\n%s", buf.String())
	}
}

// TestMetricsAfterRun runs a batch to its end and reads /metrics: every series with real values.
func TestMetricsAfterRun(t *testing.T) {
	r := setup(t)
	r.startWorkers()
	file, tot := payroll(t, 9, 5, 31) // row 5 invalid; 8 valid in 2 chunks of 4
	res := r.mustSubmit("submitter", file, url.Values{"batch_id": {"met"}})
	r.waitStatus(res.ID, batch.StatusAwaitingApproval)
	if status, _, body := r.do(request{method: "POST", path: "/v1/batches/met/approve", bearer: "approver"}); status != http.StatusAccepted {
		t.Fatalf("approve: %d %s", status, body)
	}
	final := r.waitStatus(res.ID, batch.StatusCompleted, batch.StatusCompletedWithErrors)

	status, hdr, body := r.do(request{method: "GET", path: "/metrics", bearer: "reader"})
	if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics: %d %s", status, hdr.Get("Content-Type"))
	}
	got := parseMetrics(t, body)
	t.Logf("metrics:\n%s", body)
	for st, n := range final.Counts {
		if k := `masspayout_rows_total{status="` + st + `"}`; got[k] != float64(n) {
			t.Errorf("%s = %v, want %d", k, got[k], n)
		}
	}
	for st, byCur := range final.Amounts {
		for cur, a := range byCur {
			want, _ := decimal.RequireFromString(a.String()).Float64()
			if k := `masspayout_amount_total{currency="` + cur + `",status="` + st + `"}`; got[k] != want {
				t.Errorf("%s = %v, want %v", k, got[k], want)
			}
		}
	}
	var rows float64
	for k, v := range got {
		if strings.HasPrefix(k, "masspayout_rows_total{") {
			rows += v
		}
	}
	if rows != float64(tot.Rows) {
		t.Errorf("rows over all statuses = %v, want %d", rows, tot.Rows)
	}
	for k, want := range map[string]float64{
		`masspayout_batches{status="` + final.Status + `"}`:       1,
		`masspayout_ledger_batches_scanned`:                       1,
		`masspayout_redis_up`:                                     1,
		`masspayout_chunks_total{outcome="INIT"}`:                 2,
		`masspayout_chunks_total{outcome="AUTHORIZED"}`:           2,
		`masspayout_chunks_total{outcome="DONE"}`:                 2,
		`masspayout_queue_tasks{queue="default",state="pending"}`: 0,
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	if got[`masspayout_queue_tasks{queue="default",state="completed"}`] < 4 {
		t.Errorf("completed tasks = %v, want at least 4", got[`masspayout_queue_tasks{queue="default",state="completed"}`])
	}
	for _, ep := range []string{"init", "auth", "retrieve"} {
		if k := `masspayout_iyzico_request_duration_seconds_count{endpoint="` + ep + `",code="200"}`; got[k] < 1 {
			t.Errorf("%s = %v, want at least 1", k, got[k])
		}
	}
	// Basic auth scrapes too; no credentials do not.
	if status, _, _ := r.do(request{method: "GET", path: "/metrics", basic: uiUser}); status != http.StatusOK {
		t.Errorf("/metrics with basic auth: %d", status)
	}
}

// TestMetricsRedisDown: a scrape while Redis is gone still answers, with masspayout_redis_up 0.
func TestMetricsRedisDown(t *testing.T) {
	r := setup(t)
	if !r.redis.Real() {
		t.Skip("needs redis-server")
	}
	r.redis.Kill()
	status, _, body := r.do(request{method: "GET", path: "/metrics", bearer: "reader"})
	got := parseMetrics(t, body)
	if status != http.StatusOK || got["masspayout_redis_up"] != 0 {
		t.Errorf("/metrics with Redis down: %d, redis_up %v", status, got["masspayout_redis_up"])
	}
}

// TestReadiness: /healthz always; /readyz only with a persistent Redis, embedded counts.
func TestReadiness(t *testing.T) {
	plain := setup(t)
	aof := setup(t, withRedis(redistest.WithAOF()))
	embedded := setup(t, withDeps(func(d *Deps) { d.EmbeddedRedis = true }))
	rdb := setup(t, withRedis(redistest.WithArgs("--save", "3600 1")))
	for _, c := range []struct {
		name   string
		r      *rig
		status int
		want   string
	}{
		{"no persistence", plain, 503, "not persistent"},
		{"aof", aof, 200, "AOF on"},
		{"rdb", rdb, 200, "RDB snapshots on"},
		{"embedded", embedded, 200, "not persistent: embedded"},
	} {
		if !c.r.redis.Real() && c.name != "embedded" {
			t.Logf("%s: skipped, needs redis-server", c.name)
			continue
		}
		status, _, body := c.r.do(request{method: "GET", path: "/readyz"})
		if status != c.status || !strings.Contains(string(body), c.want) {
			t.Errorf("%s: /readyz %d %s, want %d with %q", c.name, status, body, c.status, c.want)
		}
		if status, _, _ := c.r.do(request{method: "GET", path: "/healthz"}); status != 200 {
			t.Errorf("%s: /healthz %d", c.name, status)
		}
	}
	if plain.redis.Real() {
		plain.redis.Kill()
		status, _, body := plain.do(request{method: "GET", path: "/readyz"})
		if status != 503 || !strings.Contains(string(body), "unreachable") {
			t.Errorf("Redis down: /readyz %d %s", status, body)
		}
		if status, _, _ := plain.do(request{method: "GET", path: "/healthz"}); status != 200 {
			t.Errorf("Redis down: /healthz %d", status)
		}
	}
}
