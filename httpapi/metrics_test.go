package httpapi

import (
	"bytes"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/internal/redistest"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/shopspring/decimal"
)

// parseMetrics reads a text-format answer with the Prometheus parser (expfmt) into
// "name{labels}" → value, labels in name order as in the exposition, a histogram as its _bucket
// (with le), _sum and _count samples. A malformed answer fails the test, and so does a family
// without # TYPE. Look values up with metricsMap.get, which accepts labels in any order.
func parseMetrics(t *testing.T, body []byte) metricsMap {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("not the Prometheus text format: %v\n%s", err, body)
	}
	out := metricsMap{t: t, v: map[string]float64{}}
	for name, f := range fams {
		if f.GetType() == dto.MetricType_UNTYPED {
			t.Errorf("%s has no # TYPE before it", name)
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, lp := range m.GetLabel() {
				labels = append(labels, lp.GetName()+`="`+labelEscaper.Replace(lp.GetValue())+`"`)
			}
			put := func(suffix string, v float64, extra ...string) {
				out.v[seriesKey(name+suffix, append(append([]string(nil), labels...), extra...))] = v
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				put("", m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				put("", m.GetGauge().GetValue())
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				for _, b := range h.GetBucket() {
					put("_bucket", float64(b.GetCumulativeCount()), `le="`+formatBound(b.GetUpperBound())+`"`)
				}
				put("_bucket", float64(h.GetSampleCount()), `le="+Inf"`)
				put("_sum", h.GetSampleSum())
				put("_count", float64(h.GetSampleCount()))
			default:
				put("", m.GetUntyped().GetValue())
			}
		}
	}
	return out
}

// metricsMap holds a scrape's samples by series key.
type metricsMap struct {
	t *testing.T
	v map[string]float64
}

// get returns the value of the series written as in the exposition, name{label="value",...},
// with its labels in any order; 0 when the scrape has no such series.
func (m metricsMap) get(series string) float64 {
	m.t.Helper()
	name, rest, ok := strings.Cut(series, "{")
	if !ok {
		return m.v[series]
	}
	labels := labelPair.FindAllString(strings.TrimSuffix(rest, "}"), -1)
	return m.v[seriesKey(name, labels)]
}

var (
	labelPair    = regexp.MustCompile(`[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
)

// seriesKey is name{labels} with the labels (name="escaped value") sorted.
func seriesKey(name string, labels []string) string {
	if len(labels) == 0 {
		return name
	}
	sort.Strings(labels)
	return name + "{" + strings.Join(labels, ",") + "}"
}

func formatBound(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// scrape serves GET /metrics from h and returns the answer's body.
func scrape(t *testing.T, h http.Handler) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

func TestExposition(t *testing.T) {
	m := NewMetrics()
	m.CountChunk("INIT")
	m.CountChunk("INIT")
	m.CountChunk("DONE")
	m.ObserveIyzico("init", "200", 30*time.Millisecond)
	m.ObserveIyzico("init", "200", 2*time.Second)
	m.ObserveIyzico("auth", "error", time.Minute)
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x_total", Help: "help with \\ and\nnewline"}, []string{"l"})
	c.WithLabelValues("a\"b\\c\nd").Add(1)
	m.reg.MustRegister(c)
	body := scrape(t, m.Handler(nil))
	got := parseMetrics(t, body)
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
		if got.get(k) != v {
			t.Errorf("%s = %v, want %v", k, got.get(k), v)
		}
	}
	if !strings.Contains(string(body), "# HELP x_total help with \\\\ and\\nnewline\n") {
		t.Errorf("help not escaped:\n%s", body)
	}
	// The Go runtime's and the process's collectors are in the same private registry.
	for _, k := range []string{"go_goroutines", "process_start_time_seconds"} {
		if got.get(k) <= 0 {
			t.Errorf("%s = %v, want > 0", k, got.get(k))
		}
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
		if k := `masspayout_rows_total{status="` + st + `"}`; got.get(k) != float64(n) {
			t.Errorf("%s = %v, want %d", k, got.get(k), n)
		}
	}
	for st, byCur := range final.Amounts {
		for cur, a := range byCur {
			want, _ := decimal.RequireFromString(a.String()).Float64()
			if k := `masspayout_amount_total{currency="` + cur + `",status="` + st + `"}`; got.get(k) != want {
				t.Errorf("%s = %v, want %v", k, got.get(k), want)
			}
		}
	}
	var rows float64
	for k, v := range got.v {
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
		if got.get(k) != want {
			t.Errorf("%s = %v, want %v", k, got.get(k), want)
		}
	}
	if got.get(`masspayout_queue_tasks{queue="default",state="completed"}`) < 4 {
		t.Errorf("completed tasks = %v, want at least 4", got.get(`masspayout_queue_tasks{queue="default",state="completed"}`))
	}
	for _, ep := range []string{"init", "auth", "retrieve"} {
		if k := `masspayout_iyzico_request_duration_seconds_count{endpoint="` + ep + `",code="200"}`; got.get(k) < 1 {
			t.Errorf("%s = %v, want at least 1", k, got.get(k))
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
	if status != http.StatusOK || got.get("masspayout_redis_up") != 0 {
		t.Errorf("/metrics with Redis down: %d, redis_up %v", status, got.get("masspayout_redis_up"))
	}
}

// TestReadiness: /healthz always; /readyz only with a persistent Redis, embedded counts.
func TestReadiness(t *testing.T) {
	plain := setup(t, withRedis(redistest.Volatile()))
	aof := setup(t, withRedis(redistest.WithAOF()))
	embedded := setup(t, withDeps(func(d *Deps) { d.EmbeddedRedis = true }))
	rdb := setup(t, withRedis(redistest.Volatile(), redistest.WithArgs("--save", "3600 1")))
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
		// Anyone is told Redis is unavailable; only a caller with credentials sees why.
		status, _, body := plain.do(request{method: "GET", path: "/readyz"})
		if status != 503 || !strings.Contains(string(body), `"redis": "unavailable"`) || strings.Contains(string(body), plain.redis.Addr) || strings.Contains(string(body), "refused") {
			t.Errorf("Redis down: /readyz without credentials %d %s, want 503 saying only unavailable", status, body)
		}
		for _, who := range []request{{bearer: "reader"}, {basic: uiUser}} {
			who.method, who.path = "GET", "/readyz"
			status, _, body := plain.do(who)
			if status != 503 || !strings.Contains(string(body), "unreachable: ") {
				t.Errorf("Redis down: /readyz with credentials %d %s, want the error", status, body)
			}
		}
		if status, _, _ := plain.do(request{method: "GET", path: "/healthz"}); status != 200 {
			t.Errorf("Redis down: /healthz %d", status)
		}
	}
}
