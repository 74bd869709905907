package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
	"github.com/shopspring/decimal"
)

// Metrics holds the series this process feeds, in a Prometheus registry of its own (never the
// global one): masspayout_chunks_total{outcome} (from worker.Pipeline.OnChunk),
// masspayout_iyzico_request_duration_seconds{endpoint,code} (from iyzico.Options.Observe), and
// the Go runtime's and the process's collectors. Safe for concurrent use.
type Metrics struct {
	reg    *prometheus.Registry
	chunks *prometheus.CounterVec
	iyzico *prometheus.HistogramVec
}

// iyzicoBuckets are the request duration buckets, in seconds, up to IYZICO_TIMEOUT's default.
var iyzicoBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// NewMetrics returns the registry with its series at zero.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		chunks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "masspayout_chunks_total",
			Help: "Chunk state changes recorded by this process's workers, by the chunk's new state (INIT, AUTHORIZED, DONE, ERROR, UNKNOWN, CANCELED).",
		}, []string{"outcome"}),
		iyzico: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "masspayout_iyzico_request_duration_seconds",
			Help:    "Duration of each HTTP attempt to iyzico by endpoint and HTTP status (\"error\" when no answer arrived).",
			Buckets: iyzicoBuckets,
		}, []string{"endpoint", "code"}),
	}
	m.reg.MustRegister(m.chunks, m.iyzico,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// CountChunk counts a chunk's change to state; it fits worker.Pipeline.OnChunk.
func (m *Metrics) CountChunk(state string) { m.chunks.WithLabelValues(state).Inc() }

// ObserveIyzico records one iyzico attempt; it fits iyzico.Options.Observe.
func (m *Metrics) ObserveIyzico(endpoint, code string, d time.Duration) {
	m.iyzico.WithLabelValues(endpoint, code).Observe(d.Seconds())
}

// Handler serves the metrics in the Prometheus text format (promhttp): m's series and, when g is
// not nil, g's, read at each scrape. A failed Redis read leaves its series out and sets
// masspayout_redis_up to 0; the scrape still answers 200.
func (m *Metrics) Handler(g *Gauges) http.Handler {
	var gatherer prometheus.Gatherer = m.reg
	opts := promhttp.HandlerOpts{}
	if g != nil {
		scraped := prometheus.NewRegistry()
		scraped.MustRegister(g)
		gatherer = prometheus.Gatherers{m.reg, scraped}
		opts.ErrorLog = promLogger{g.Log}
	}
	h := promhttp.HandlerFor(gatherer, opts)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// promLogger hands promhttp's errors (a collector sending an inconsistent series) to zerolog.
type promLogger struct{ log zerolog.Logger }

func (l promLogger) Println(v ...any) { l.log.Error().Msgf("metrics: %v", v) }

// Gauges are the series read from Redis at scrape time, as a prometheus.Collector: queue sizes
// from the asynq Inspector (masspayout_queue_tasks{queue,state}), the ledger's rows, amounts and
// batches per status over the newest MaxBatches batches (masspayout_rows_total{status},
// masspayout_amount_total{currency,status}, masspayout_batches{status},
// masspayout_ledger_batches_scanned), and masspayout_redis_up.
//
// The ledger's amounts are summed exactly, as decimals; only the exposed value becomes a float64,
// as Prometheus needs, so masspayout_amount_total is for dashboards and alerts, not for
// reconciliation: the batch report (GET /v1/batches/{id}/report, masspayout report) is exact.
type Gauges struct {
	Log       zerolog.Logger
	Store     *batch.Store
	Inspector *asynq.Inspector
	// MaxBatches bounds the ledger work of one scrape; default 1000.
	MaxBatches int
	// Timeout bounds one scrape's ledger reads; default 10s.
	Timeout time.Duration
}

var (
	descQueue = prometheus.NewDesc("masspayout_queue_tasks",
		"Tasks in each asynq queue by state, from the asynq Inspector.", []string{"queue", "state"}, nil)
	descRedisUp = prometheus.NewDesc("masspayout_redis_up",
		"1 when this scrape read Redis (queues and ledger) without error, else 0.", nil, nil)
)

// ledgerDescs are the ledger's series; their help names the bound of max batches.
type ledgerDescs struct{ rows, amounts, batches, scanned *prometheus.Desc }

func (g *Gauges) maxBatches() int {
	if g.MaxBatches <= 0 {
		return 1000
	}
	return g.MaxBatches
}

func (g *Gauges) ledgerDescs() ledgerDescs {
	max := strconv.Itoa(g.maxBatches())
	bound := " over the newest " + max + " batches in the ledger"
	return ledgerDescs{
		rows: prometheus.NewDesc("masspayout_rows_total",
			"Rows by status"+bound+" (a gauge: rows move between statuses).", []string{"status"}, nil),
		amounts: prometheus.NewDesc("masspayout_amount_total",
			"Amounts by currency and status"+bound+", in currency units. A float64: for dashboards, not reconciliation (the batch report is exact).",
			[]string{"currency", "status"}, nil),
		batches: prometheus.NewDesc("masspayout_batches", "Batches by status"+bound+".", []string{"status"}, nil),
		scanned: prometheus.NewDesc("masspayout_ledger_batches_scanned",
			"Batches read by this scrape (at most "+max+"; older ones are not in the ledger series).", nil, nil),
	}
}

// Describe sends every series Gauges can collect; it is part of prometheus.Collector.
func (g *Gauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- descRedisUp
	if g.Inspector != nil {
		ch <- descQueue
	}
	if g.Store != nil {
		d := g.ledgerDescs()
		ch <- d.rows
		ch <- d.amounts
		ch <- d.batches
		ch <- d.scanned
	}
}

// Collect reads Redis and sends the series; it is part of prometheus.Collector. A series whose
// read failed is left out, whole, and masspayout_redis_up is 0.
func (g *Gauges) Collect(ch chan<- prometheus.Metric) {
	up := 1.0
	if g.Inspector != nil {
		ms, err := g.queueMetrics()
		if err != nil {
			g.Log.Warn().Err(err).Msg("metrics: queue sizes not read")
			up = 0
		}
		send(ch, ms)
	}
	if g.Store != nil {
		timeout := g.Timeout
		if timeout <= 0 {
			timeout = 10 * time.Second
		}
		// Collect has no request context: the scrape's Redis work is bounded by this timeout.
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		ms, err := g.ledgerMetrics(ctx)
		cancel()
		if err != nil {
			g.Log.Warn().Err(err).Msg("metrics: ledger not read")
			up = 0
		}
		send(ch, ms)
	}
	ch <- prometheus.MustNewConstMetric(descRedisUp, prometheus.GaugeValue, up)
}

func send(ch chan<- prometheus.Metric, ms []prometheus.Metric) {
	for _, m := range ms {
		ch <- m
	}
}

// queueMetrics returns every queue's sizes by state, or none and the error.
func (g *Gauges) queueMetrics() ([]prometheus.Metric, error) {
	queues, err := g.Inspector.Queues()
	if err != nil {
		return nil, err
	}
	var out []prometheus.Metric
	for _, q := range queues {
		qi, err := g.Inspector.GetQueueInfo(q)
		if err != nil {
			return nil, err
		}
		for _, st := range []struct {
			name string
			n    int
		}{
			{"active", qi.Active}, {"aggregating", qi.Aggregating}, {"archived", qi.Archived}, {"completed", qi.Completed},
			{"pending", qi.Pending}, {"retry", qi.Retry}, {"scheduled", qi.Scheduled},
		} {
			out = append(out, prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(st.n), q, st.name))
		}
	}
	return out, nil
}

// ledgerMetrics sums the newest batches' counters, or returns none and the error. The sums are
// exact decimals; only the exposed value becomes a float.
func (g *Gauges) ledgerMetrics(ctx context.Context) ([]prometheus.Metric, error) {
	ids, err := g.Store.List(ctx, 0, g.maxBatches())
	if err != nil {
		return nil, err
	}
	rows := map[string]int{}
	batches := map[string]int{}
	amounts := map[string]map[string]decimal.Decimal{} // status → currency → amount
	scanned := 0
	for _, id := range ids {
		b, err := g.Store.Get(ctx, id)
		if errors.Is(err, batch.ErrNotFound) {
			continue // expired ledger; the index keeps its ID
		}
		if err != nil {
			return nil, err
		}
		scanned++
		batches[b.Status]++
		for st, n := range b.Counts {
			rows[st] += n
		}
		for st, byCur := range b.Amounts {
			if amounts[st] == nil {
				amounts[st] = map[string]decimal.Decimal{}
			}
			for cur, a := range byCur {
				amounts[st][cur] = amounts[st][cur].Add(a)
			}
		}
	}
	d := g.ledgerDescs()
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
		return prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	}
	var out []prometheus.Metric
	for st, n := range rows {
		out = append(out, gauge(d.rows, float64(n), st))
	}
	for st, byCur := range amounts {
		for cur, a := range byCur {
			out = append(out, gauge(d.amounts, a.InexactFloat64(), cur, st))
		}
	}
	for st, n := range batches {
		out = append(out, gauge(d.batches, float64(n), st))
	}
	return append(out, gauge(d.scanned, float64(scanned))), nil
}
