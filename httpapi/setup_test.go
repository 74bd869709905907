package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/masspayout/masspayout/internal/logbuf"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/config"
	"github.com/masspayout/masspayout/internal/payrollgen"
	"github.com/masspayout/masspayout/internal/redistest"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/iyzico/sandbox"
	"github.com/masspayout/masspayout/schedule"
	"github.com/masspayout/masspayout/tasks"
	"github.com/masspayout/masspayout/worker"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// The credentials of every test server: one token per role, and the dashboard user.
var testTokens = []config.Token{
	{Name: "reader", Role: "read", Token: "tok-read-0c1d"},
	{Name: "submitter", Role: "submit", Token: "tok-submit-9a8b"},
	{Name: "approver", Role: "approve", Token: "tok-approve-7e6f"},
	{Name: "root", Role: "admin", Token: "tok-admin-5a4b"},
}

const testCSRFKey = "csrf-key-for-tests-0123456789abcdef"

const (
	uiUser = "viewer"
	uiPass = "view-pass-3c2d"
)

func tokenOf(name string) string {
	for _, t := range testTokens {
		if t.Name == name {
			return t.Token.Reveal()
		}
	}
	return ""
}

// syncBuffer collects output written by several goroutines.
type syncBuffer = logbuf.Buffer

// rig is one HTTP surface under test: a private redis-server, the ledger, the queue, the sandbox
// over real HTTP, and NewHandler behind httptest. Workers start on demand.
type rig struct {
	t       *testing.T
	redis   *redistest.Server
	rdb     *redis.Client
	store   *batch.Store
	queue   *asynq.Client
	sandbox *sandbox.Server
	client  *iyzico.Client
	metrics *Metrics
	monitor *Monitor
	topts   tasks.Options
	deps    Deps
	srv     *httptest.Server
	logs    *syncBuffer
	log     zerolog.Logger
	uploads string // Submit.TempDir
	rw      bool   // asynqmon read-write
	// schedules, when set, is the dashboard's schedule file, with its history on the rig's Redis.
	schedules *schedule.File
	history   *schedule.History
}

type rigOption func(*rig)

func withDeps(f func(*Deps)) rigOption         { return func(r *rig) { f(&r.deps) } }
func withMonitorReadWrite() rigOption          { return func(r *rig) { r.rw = true } }
func withSchedules(f *schedule.File) rigOption { return func(r *rig) { r.schedules = f } }
func withRedis(opts ...redistest.Option) rigOption {
	return func(r *rig) { r.redis = redistest.Start(r.t, opts...) }
}

func setup(t *testing.T, opts ...rigOption) *rig {
	t.Helper()
	r := &rig{t: t, logs: &syncBuffer{}, uploads: t.TempDir()}
	r.log = zerolog.New(r.logs).Level(zerolog.DebugLevel).With().Timestamp().Logger()
	r.metrics = NewMetrics()
	r.topts = tasks.Options{MaxRetry: 5, Timeout: 30 * time.Second, Retention: time.Hour}
	auth, err := NewAuth(AuthOptions{Tokens: testTokens, UIUsername: uiUser, UIPassword: uiPass})
	if err != nil {
		t.Fatal(err)
	}
	r.deps = Deps{
		Log: r.log, TaskOptions: r.topts, Auth: auth, Metrics: r.metrics,
		Submit:  SubmitOptions{TempDir: r.uploads, ChunkSize: 4, Currencies: []string{"TRY", "USD", "EUR"}},
		Refresh: time.Second,
		CSRFKey: []byte(testCSRFKey),
	}
	for _, o := range opts {
		o(r)
	}
	if r.redis == nil {
		r.redis = redistest.Start(t)
	}
	r.rdb = r.redis.Client()
	r.store = batch.NewStore(r.rdb, time.Hour)
	r.queue = asynq.NewClientFromRedisClient(r.rdb)
	r.sandbox = sandbox.New(sandbox.Options{Credentials: map[string]string{"AK-test": "SK-test"}, Seed: 7})
	sb := httptest.NewServer(r.sandbox)
	t.Cleanup(sb.Close)
	r.client, err = iyzico.NewClient(iyzico.Options{BaseURL: sb.URL, APIKey: "AK-test", SecretKey: "SK-test", Timeout: 5 * time.Second, Observe: r.metrics.ObserveIyzico})
	if err != nil {
		t.Fatal(err)
	}
	r.deps.Store, r.deps.Queue = r.store, r.queue
	if r.schedules != nil {
		r.history = schedule.NewHistory(r.rdb, 0)
		r.deps.Schedules, r.deps.ScheduleRuns = r.schedules, r.history
	}
	if r.deps.Monitor == nil {
		r.monitor = NewMonitor(MonitorOptions{Redis: asynq.RedisClientOpt{Addr: r.redis.Addr}, ReadWrite: r.rw})
		t.Cleanup(func() { r.monitor.Close() })
		r.deps.Monitor = r.monitor
	}
	r.srv = httptest.NewServer(NewHandler(r.deps))
	t.Cleanup(r.srv.Close)
	return r
}

// startWorkers runs the pipeline's workers (with the metrics hooks) until the test ends.
func (r *rig) startWorkers() {
	r.t.Helper()
	p := &worker.Pipeline{
		Log: r.log, Store: r.store, Iyzico: r.client, Queue: r.queue, TaskOptions: r.topts, PageSize: 50,
		PollInterval: 20 * time.Millisecond, PollMaxInterval: 100 * time.Millisecond, PollFor: time.Hour,
		OnChunk: r.metrics.CountChunk,
	}
	f := &worker.Finalizer{Log: r.log, Store: r.store, ResultsDir: r.t.TempDir()}
	cfg := worker.ServerConfig(p, 4, worker.RetryPolicy{Base: 5 * time.Millisecond, Max: 50 * time.Millisecond})
	cfg.ShutdownTimeout = 2 * time.Second
	cfg.DelayedTaskCheckInterval = 50 * time.Millisecond
	srv := asynq.NewServerFromRedisClient(r.rdb, cfg)
	if err := srv.Start(worker.NewServeMux(p, f, nil, nil)); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(srv.Shutdown)
}

// request is one HTTP call of a test.
type request struct {
	method, path string
	body         []byte
	ctype        string
	bearer       string // token name from testTokens; "" sends none
	basic        string // "viewer" for the dashboard user, else a token name; "" sends none
	header       map[string]string
}

// do sends req and returns the status, the headers and the body.
func (r *rig) do(req request) (int, http.Header, []byte) {
	r.t.Helper()
	hr, err := http.NewRequestWithContext(r.t.Context(), req.method, r.srv.URL+req.path, bytes.NewReader(req.body))
	if err != nil {
		r.t.Fatal(err)
	}
	if req.ctype != "" {
		hr.Header.Set("Content-Type", req.ctype)
	}
	if req.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+tokenOf(req.bearer))
	}
	switch req.basic {
	case "":
	case uiUser:
		hr.SetBasicAuth(uiUser, uiPass)
	default:
		hr.SetBasicAuth(req.basic, tokenOf(req.basic))
	}
	for k, v := range req.header {
		hr.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(hr)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// submit posts a CSV file as submitter and returns the status and the decoded batch.
func (r *rig) submit(who string, file []byte, query url.Values, header map[string]string) (int, batchResource, []byte) {
	r.t.Helper()
	path := "/v1/batches"
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	status, _, body := r.do(request{method: "POST", path: path, body: file, ctype: "text/csv", bearer: who, header: header})
	var res batchResource
	if status == http.StatusAccepted {
		if err := json.Unmarshal(body, &res); err != nil {
			r.t.Fatalf("202 body is not a batch: %v\n%s", err, body)
		}
	}
	return status, res, body
}

// mustSubmit submits and fails the test unless the answer is 202.
func (r *rig) mustSubmit(who string, file []byte, query url.Values) batchResource {
	r.t.Helper()
	status, res, body := r.submit(who, file, query, nil)
	if status != http.StatusAccepted {
		r.t.Fatalf("submit: %d %s", status, body)
	}
	return res
}

// getBatch reads a batch over the API.
func (r *rig) getBatch(id string) batchResource {
	r.t.Helper()
	status, _, body := r.do(request{method: "GET", path: "/v1/batches/" + id, bearer: "reader"})
	if status != http.StatusOK {
		r.t.Fatalf("GET batch %s: %d %s", id, status, body)
	}
	var res batchResource
	if err := json.Unmarshal(body, &res); err != nil {
		r.t.Fatal(err)
	}
	return res
}

// waitStatus polls the batch over the API until its status is one of want and its report caught up.
func (r *rig) waitStatus(id string, want ...string) batchResource {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res := r.getBatch(id)
		b, _ := r.store.Get(context.Background(), id)
		for _, w := range want {
			if res.Status == w && b != nil && b.ReportStatus == b.Status {
				return res
			}
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("batch %s: status %s, want %v\nlogs:\n%s", id, res.Status, want, tail(r.logs.String(), 3000))
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

// payroll returns a generated CSV payroll of n rows, every invalidEvery-th invalid.
func payroll(t *testing.T, n, invalidEvery int, seed uint64) ([]byte, payrollgen.Totals) {
	t.Helper()
	var buf bytes.Buffer
	tot, err := payrollgen.WriteCSV(&buf, payrollgen.Options{Rows: n, InvalidEvery: invalidEvery, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), tot
}

// errorCode decodes an error answer's code.
func errorCode(t *testing.T, body []byte) string {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" {
		t.Fatalf("not an error body: %v\n%s", err, body)
	}
	return e.Error.Code
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
