package worker_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"github.com/masspayout/masspayout/internal/logbuf"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/internal/payrollgen"
	"github.com/masspayout/masspayout/internal/redistest"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/iyzico/sandbox"
	"github.com/masspayout/masspayout/tasks"
	"github.com/masspayout/masspayout/worker"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"github.com/shopspring/decimal"
)

const (
	apiKey    = "AKSENTINEL-api-key-4711"
	secretKey = "SKSENTINEL-secret-key-4711"
)

// syncBuffer collects output written by several goroutines.
type syncBuffer = logbuf.Buffer

// rig is one pipeline under test: a private redis-server, the sandbox over real HTTP, the iyzico
// client, the ledger and a queue client.
type rig struct {
	t       testing.TB
	redis   *redistest.Server
	rdb     *redis.Client
	store   *batch.Store
	queue   *asynq.Client
	inspect *asynq.Inspector
	sandbox *sandbox.Server
	client  *iyzico.Client
	baseURL string
	logs    *syncBuffer
	log     zerolog.Logger
	results string
	topts   tasks.Options
	auto    bool
	tot     payrollgen.Totals

	redisOpts []redistest.Option
	maxRetry  int
	timeout   time.Duration
	dialect   sandbox.Dialect
	// initToExisting: inits sent for a payout iyzico already held are expected (a wiped ledger).
	initToExisting bool
}

type rigOption func(*rig, *sandbox.Options)

func withAutoApprove() rigOption { return func(r *rig, _ *sandbox.Options) { r.auto = true } }
func withMaxRetry(n int) rigOption {
	return func(r *rig, _ *sandbox.Options) { r.maxRetry = n }
}
func withClientTimeout(d time.Duration) rigOption {
	return func(r *rig, _ *sandbox.Options) { r.timeout = d }
}
func withRedis(opts ...redistest.Option) rigOption {
	return func(r *rig, _ *sandbox.Options) { r.redisOpts = opts }
}
func withSandbox(f func(*sandbox.Options)) rigOption {
	return func(_ *rig, o *sandbox.Options) { f(o) }
}
func withDialect(d sandbox.Dialect) rigOption {
	return func(r *rig, o *sandbox.Options) { r.dialect = d; d.Apply(o) }
}

// forDialects runs f as a subtest under every sandbox dialect: money-path behaviour must not
// depend on a code or a shape only one of them has.
func forDialects(t *testing.T, f func(t *testing.T, d rigOption)) {
	for _, d := range sandbox.Dialects() {
		t.Run(d.String(), func(t *testing.T) { f(t, withDialect(d)) })
	}
}

func setup(t testing.TB, opts ...rigOption) *rig {
	t.Helper()
	r := &rig{t: t, logs: &syncBuffer{}, results: t.TempDir(), maxRetry: 25, timeout: 5 * time.Second}
	sbo := sandbox.Options{Credentials: map[string]string{apiKey: secretKey}, Seed: 42}
	for _, o := range opts {
		o(r, &sbo)
	}
	r.log = zerolog.New(r.logs).Level(zerolog.DebugLevel).With().Timestamp().Logger()
	r.redis = redistest.Start(t, r.redisOpts...)
	r.rdb = r.redis.Client()
	r.store = batch.NewStore(r.rdb, time.Hour)
	r.queue = asynq.NewClientFromRedisClient(r.rdb)
	r.inspect = asynq.NewInspectorFromRedisClient(r.rdb)
	r.sandbox = sandbox.New(sbo)
	hs := httptest.NewServer(r.sandbox)
	t.Cleanup(hs.Close)
	r.baseURL = hs.URL
	c, err := iyzico.NewClient(iyzico.Options{BaseURL: hs.URL, APIKey: apiKey, SecretKey: secretKey, Timeout: r.timeout})
	if err != nil {
		t.Fatal(err)
	}
	r.client = c
	r.topts = tasks.Options{MaxRetry: worker.MaxRetry, Timeout: 30 * time.Second, Retention: time.Hour}
	return r
}

func (r *rig) pipeline() *worker.Pipeline {
	return &worker.Pipeline{
		Log: r.log, Store: r.store, Iyzico: r.client, Queue: r.queue, TaskOptions: r.topts,
		PageSize: 50, Budget: r.maxRetry, CallTimeout: r.timeout, StepTimeout: 4 * r.timeout,
		PollInterval: 20 * time.Millisecond, PollMaxInterval: 200 * time.Millisecond, PollFor: time.Hour,
	}
}

// janitor is a fast janitor for tests.
func (r *rig) janitor(p *worker.Pipeline) *worker.Janitor {
	return &worker.Janitor{Pipeline: p, Interval: 200 * time.Millisecond, Idle: 300 * time.Millisecond,
		ReconcileWait: func(int) time.Duration { return 200 * time.Millisecond }}
}

// startWorkers runs an asynq server with a janitor on the rig; stop shuts it down (idempotent).
func (r *rig) startWorkers(concurrency int) (stop func()) {
	r.t.Helper()
	p := r.pipeline()
	f := &worker.Finalizer{Log: r.log, Store: r.store, ResultsDir: r.results, Callback: &worker.Callback{Secret: "CBSENTINEL-callback-secret", Policy: loopbackCallbacks, Log: r.log}}
	cfg := worker.ServerConfig(p, concurrency, worker.RetryPolicy{Base: 5 * time.Millisecond, Max: 50 * time.Millisecond})
	cfg.ShutdownTimeout = 2 * time.Second
	cfg.DelayedTaskCheckInterval = 50 * time.Millisecond
	cfg.TaskCheckInterval = 50 * time.Millisecond
	srv := asynq.NewServerFromRedisClient(r.rdb, cfg)
	j := r.janitor(p)
	if err := srv.Start(worker.NewServeMux(p, f, j, nil)); err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); j.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
			srv.Shutdown()
		})
	}
	r.t.Cleanup(stop)
	return stop
}

// payroll generates a CSV payroll file of n rows (every invalidEvery-th invalid) on disk.
func (r *rig) payroll(n, invalidEvery int, seed uint64) (string, payrollgen.Totals) {
	r.t.Helper()
	path := filepath.Join(r.t.TempDir(), "payroll.csv")
	f, err := os.Create(path)
	if err != nil {
		r.t.Fatal(err)
	}
	defer f.Close()
	// Files of different seeds are different payrolls: their rows carry different IDs.
	tot, err := payrollgen.WriteCSV(f, payrollgen.Options{Rows: n, InvalidEvery: invalidEvery, Seed: seed, IDPrefix: fmt.Sprintf("s%d-", seed)})
	if err != nil {
		r.t.Fatal(err)
	}
	return path, tot
}

func (r *rig) clientBase() string { return r.baseURL }

func (r *rig) submit(ctx context.Context, path, batchID string, chunkSize int) (*batch.SubmitResult, error) {
	return r.submitWithProgress(ctx, path, batchID, chunkSize, nil)
}

func (r *rig) submitWithProgress(ctx context.Context, path, batchID string, chunkSize int, progress func(batch.SubmitProgress)) (*batch.SubmitResult, error) {
	return r.submitOptions(ctx, path, batchID, batch.Options{Format: "csv", ChunkSize: chunkSize, Currencies: []string{"TRY", "USD", "EUR"}}, progress)
}

func (r *rig) submitOptions(ctx context.Context, path, batchID string, o batch.Options, progress func(batch.SubmitProgress)) (*batch.SubmitResult, error) {
	f, err := os.Open(path)
	if err != nil {
		r.t.Fatal(err)
	}
	defer f.Close()
	return r.store.Submit(ctx, batch.SubmitRequest{
		File: f, Source: filepath.Base(path), BatchID: batchID,
		Options:   o,
		Submitter: "tester", AutoApprove: r.auto,
		Progress: progress,
	}, r.queue, r.topts)
}

func (r *rig) mustSubmit(path, batchID string, chunkSize int) *batch.Batch {
	r.t.Helper()
	res, err := r.submit(context.Background(), path, batchID, chunkSize)
	if err != nil {
		r.t.Fatalf("submit: %v", err)
	}
	return res.Batch
}

// waitFor polls the batch until cond holds or the deadline passes.
func (r *rig) waitFor(id string, d time.Duration, what string, cond func(*batch.Batch) bool) *batch.Batch {
	r.t.Helper()
	deadline := time.Now().Add(d)
	for {
		b, err := r.store.Get(context.Background(), id)
		if err == nil && cond(b) {
			return b
		}
		if time.Now().After(deadline) {
			states, _ := r.store.ChunkStates(context.Background(), id)
			r.t.Fatalf("batch %s: %s not reached within %s: %+v, chunks %v, err %v\nlogs:\n%s", id, what, d, b, states, err, tail(r.logs.String(), 4000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func initPhaseReported(b *batch.Batch) bool {
	return b.Progress().InitPhaseDone() && b.ReportStatus == b.Status && b.Status != batch.StatusProcessing
}

func finalReported(b *batch.Batch) bool { return b.Final && b.ReportStatus == b.Status }

// reportRows reads the report CSV of a batch from the ledger.
func (r *rig) reportRows(id string) [][]string {
	r.t.Helper()
	var buf bytes.Buffer
	if _, err := r.store.WriteReport(context.Background(), id, &buf); err != nil {
		r.t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		r.t.Fatal(err)
	}
	return rows
}

// checkInvariants asserts DESIGN.md §7: conservation (rows and amount totals per currency equal the
// file's, every row once, in order, with one status), at most once (no externalId with two bodies,
// no item committed under two externalIds, no item committed twice, auth at most once per payout
// and never past INIT, no init to a payout iyzico holds), and no secret in the logs.
func (r *rig) checkInvariants(id string, tot payrollgen.Totals) map[string]int {
	r.t.Helper()
	rows := r.reportRows(id)
	if got := len(rows) - 1; got != tot.Rows {
		r.t.Errorf("report has %d rows, file has %d", got, tot.Rows)
	}
	statuses := map[string]int{}
	amounts := map[string]decimal.Decimal{}
	for i, row := range rows[1:] {
		if row[0] != itoa(i+1) {
			r.t.Fatalf("report row %d is file row %s: rows missing, repeated or out of order", i+1, row[0])
		}
		if row[6] == "" {
			r.t.Errorf("row %s has no status", row[0])
		}
		statuses[row[6]]++
		if a, err := decimal.NewFromString(row[4]); err == nil && row[5] != "" {
			amounts[row[5]] = amounts[row[5]].Add(a)
		}
	}
	for cur, want := range tot.Amounts {
		if !amounts[cur].Equal(want) {
			r.t.Errorf("report total %s = %s, file total %s", cur, amounts[cur], want)
		}
	}
	st := r.sandbox.Stats()
	for ext, n := range st.InitBodies {
		if n > 1 {
			r.t.Errorf("externalId %s was sent with %d different bodies", ext, n)
		}
	}
	if len(st.ItemsUnderManyExternalIDs) > 0 {
		r.t.Errorf("items committed under several externalIds: %v", st.ItemsUnderManyExternalIDs)
	}
	if st.CommittedItems > tot.Valid {
		r.t.Errorf("sandbox committed %d items for %d valid rows", st.CommittedItems, tot.Valid)
	}
	for req, n := range st.AuthCommits {
		if n > 1 {
			r.t.Errorf("payout %s authorized %d times", req, n)
		}
	}
	// Counted calls, not what the sandbox's replay makes of them: auth goes out at most once per
	// payout, never to one past INIT, and init never goes to a payout iyzico already holds.
	for req, n := range st.AuthCalls {
		if n > 1 {
			r.t.Errorf("auth sent %d times for payout %s", n, req)
		}
	}
	for req, n := range st.AuthToNonInit {
		r.t.Errorf("auth sent %d times for payout %s past INIT", n, req)
	}
	if !r.initToExisting {
		for ext, n := range st.InitToExisting {
			r.t.Errorf("init sent %d times for %s, which iyzico already held", n, ext)
			if os.Getenv("DEBUG_LOGS") != "" {
				for _, l := range strings.Split(r.logs.String(), "\n") {
					if strings.Contains(l, ext) {
						r.t.Log(l)
					}
				}
			}
		}
	}
	logs := r.logs.String()
	for _, secret := range []string{apiKey, secretKey, "CBSENTINEL", "IYZWSv2"} {
		if bytes.Contains([]byte(logs), []byte(secret)) {
			r.t.Errorf("logs contain %q", secret)
		}
	}
	return statuses
}

func itoa(n int) string { return decimal.NewFromInt(int64(n)).String() }

// chunkTasks counts the chunk tasks (payout:*) of every state in the default queue.
func (r *rig) chunkTasks() int {
	r.t.Helper()
	n := 0
	for _, list := range []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
		r.inspect.ListPendingTasks, r.inspect.ListActiveTasks, r.inspect.ListScheduledTasks,
		r.inspect.ListRetryTasks, r.inspect.ListArchivedTasks, r.inspect.ListCompletedTasks,
	} {
		ts, err := list(tasks.DefaultQueue, asynq.PageSize(10000))
		if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
			r.t.Fatal(err)
		}
		for _, t := range ts {
			if strings.HasPrefix(t.Type, "payout:") {
				n++
			}
		}
	}
	return n
}

func chunkRef(batchID string, seq int) tasks.Chunk { return tasks.Chunk{Batch: batchID, Seq: seq} }
