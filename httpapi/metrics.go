package httpapi

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/rs/zerolog"
	"github.com/shopspring/decimal"
)

// Metrics holds the series this process feeds: masspayout_chunks_total{outcome} (from
// worker.Pipeline.OnChunk) and masspayout_iyzico_request_duration_seconds{endpoint,code} (from
// iyzico.Options.Observe). It is its own registry; nothing is global. Safe for concurrent use.
type Metrics struct {
	chunks *counterVec
	iyzico *histogramVec
}

// iyzicoBuckets are the request duration buckets, in seconds, up to IYZICO_TIMEOUT's default.
var iyzicoBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// NewMetrics returns an empty registry.
func NewMetrics() *Metrics {
	return &Metrics{
		chunks: newCounterVec("masspayout_chunks_total",
			"Chunk state changes recorded by this process's workers, by the chunk's new state (INIT, AUTHORIZED, DONE, ERROR, UNKNOWN, CANCELED).", "outcome"),
		iyzico: newHistogramVec("masspayout_iyzico_request_duration_seconds",
			"Duration of each HTTP attempt to iyzico by endpoint and HTTP status (\"error\" when no answer arrived).", iyzicoBuckets, "endpoint", "code"),
	}
}

// CountChunk counts a chunk's change to state; it fits worker.Pipeline.OnChunk.
func (m *Metrics) CountChunk(state string) { m.chunks.add(1, state) }

// ObserveIyzico records one iyzico attempt; it fits iyzico.Options.Observe.
func (m *Metrics) ObserveIyzico(endpoint, code string, d time.Duration) {
	m.iyzico.observe(d.Seconds(), endpoint, code)
}

// Gauges are the series read from Redis at scrape time: queue sizes from the asynq Inspector and
// the ledger's rows, amounts and batches per status over the newest MaxBatches batches.
type Gauges struct {
	Log       zerolog.Logger
	Store     *batch.Store
	Inspector *asynq.Inspector
	// MaxBatches bounds the ledger work of one scrape; default 1000.
	MaxBatches int
	// Timeout bounds one scrape's Redis work; default 10s.
	Timeout time.Duration
}

// Handler serves the metrics in the Prometheus text format: m's series and, when g is not nil,
// g's. A failed Redis read leaves its series out and sets masspayout_redis_up to 0.
func (m *Metrics) Handler(g *Gauges) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fams := []family{m.chunks.family(), m.iyzico.family()}
		if g != nil {
			fams = append(fams, g.families(r.Context())...)
		}
		var buf bytes.Buffer
		if err := writeFamilies(&buf, fams); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(buf.Bytes())
	})
}

func (g *Gauges) families(ctx context.Context) []family {
	timeout := g.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	up := 1.0
	var fams []family
	if g.Inspector != nil {
		f, err := g.queueFamily()
		if err != nil {
			g.Log.Warn().Err(err).Msg("metrics: queue sizes not read")
			up = 0
		} else {
			fams = append(fams, f)
		}
	}
	if g.Store != nil {
		f, err := g.ledgerFamilies(ctx)
		if err != nil {
			g.Log.Warn().Err(err).Msg("metrics: ledger not read")
			up = 0
		} else {
			fams = append(fams, f...)
		}
	}
	return append(fams, family{name: "masspayout_redis_up", kind: "gauge",
		help:    "1 when this scrape read Redis (queues and ledger) without error, else 0.",
		samples: []sample{{value: up}}})
}

func (g *Gauges) queueFamily() (family, error) {
	f := family{name: "masspayout_queue_tasks", kind: "gauge", help: "Tasks in each asynq queue by state, from the asynq Inspector."}
	queues, err := g.Inspector.Queues()
	if err != nil {
		return f, err
	}
	for _, q := range queues {
		qi, err := g.Inspector.GetQueueInfo(q)
		if err != nil {
			return f, err
		}
		for _, st := range []struct {
			name string
			n    int
		}{
			{"active", qi.Active}, {"aggregating", qi.Aggregating}, {"archived", qi.Archived}, {"completed", qi.Completed},
			{"pending", qi.Pending}, {"retry", qi.Retry}, {"scheduled", qi.Scheduled},
		} {
			f.samples = append(f.samples, sample{labels: []string{"queue", q, "state", st.name}, value: float64(st.n)})
		}
	}
	return f, nil
}

// ledgerFamilies sums the newest batches' counters. The sums are exact decimals; only the exposed
// value becomes a float, as Prometheus needs.
func (g *Gauges) ledgerFamilies(ctx context.Context) ([]family, error) {
	max := g.MaxBatches
	if max <= 0 {
		max = 1000
	}
	ids, err := g.Store.List(ctx, 0, max)
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
	bound := " over the newest " + strconv.Itoa(max) + " batches in the ledger"
	fr := family{name: "masspayout_rows_total", kind: "gauge", help: "Rows by status" + bound + " (a gauge: rows move between statuses)."}
	for _, st := range sortedKeys(rows) {
		fr.samples = append(fr.samples, sample{labels: []string{"status", st}, value: float64(rows[st])})
	}
	fa := family{name: "masspayout_amount_total", kind: "gauge", help: "Amounts by currency and status" + bound + ", in currency units."}
	for _, st := range sortedKeys(amounts) {
		for _, cur := range sortedKeys(amounts[st]) {
			fa.samples = append(fa.samples, sample{labels: []string{"currency", cur, "status", st}, value: amounts[st][cur].InexactFloat64()})
		}
	}
	fb := family{name: "masspayout_batches", kind: "gauge", help: "Batches by status" + bound + "."}
	for _, st := range sortedKeys(batches) {
		fb.samples = append(fb.samples, sample{labels: []string{"status", st}, value: float64(batches[st])})
	}
	fs := family{name: "masspayout_ledger_batches_scanned", kind: "gauge",
		help: "Batches read by this scrape (at most " + strconv.Itoa(max) + "; older ones are not in the ledger series).", samples: []sample{{value: float64(scanned)}}}
	return []family{fr, fa, fb, fs}, nil
}
