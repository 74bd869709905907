package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/internal/payrollgen"
	"github.com/masspayout/masspayout/iyzico/sandbox"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"github.com/shopspring/decimal"
)

// Sentinel credentials: grep-able, so that the log check can prove they never leak.
const (
	apiKey    = "AKCHAOS-api-key-7f3e91"
	secretKey = "SKCHAOS-secret-key-52ac08"
)

// Client settings every masspayout process gets. The sandbox's injected latency is above the
// client timeout, so a delayed call is a timeout the client cannot tell from a lost answer.
const (
	clientTimeout   = time.Second
	injectedLatency = 1500 * time.Millisecond
	settleDelay     = 300 * time.Millisecond
)

// rig is one seed's world: its directory, Redis, sandbox, payroll file, processes and batch.
type rig struct {
	o    *options
	seed uint64
	dir  string
	tl   *timeline

	redis   *redisServer
	rdb     *redis.Client
	store   *batch.Store
	sb      *sandbox.Server
	sbClose func()
	sbLog   *os.File
	launch  *launcher
	workers *pool

	// world serialises what changes the set of processes: a worker is never started while Redis
	// is down, and two chaos actions never overlap.
	world   sync.Mutex
	resumes []*time.Timer // pending SIGCONTs
	closed  bool
	// redisDown is set while redis-server is killed and restarting: the ledger is not read then.
	redisDown atomic.Bool

	file    string
	tot     payrollgen.Totals
	batchID string
	tally   tally
	// finalAfter is when the batch was first seen settled, settledAfter when it was judged, both
	// since the seed started.
	finalAfter, settledAfter time.Duration
}

// tally counts what was done to the system.
type tally struct {
	workerKills, redisKills, redisCrashes, stops, approvals, reconciles, selfExits atomic.Int64
}

// timeline prints events with the wall clock and the time since the seed started.
type timeline struct {
	out   io.Writer
	seed  uint64
	start time.Time
	mu    sync.Mutex
}

func (t *timeline) say(format string, args ...any) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.out, "%s %+7.1fs seed %d  %s\n", now.Format("15:04:05.000"), now.Sub(t.start).Seconds(), t.seed, fmt.Sprintf(format, args...))
}

// newRig prepares a seed: directory, payroll file, Redis, sandbox and the first workers.
func newRig(o *options, seed uint64, out io.Writer) (*rig, error) {
	dir, err := os.MkdirTemp("", fmt.Sprintf("mpchaos-seed%d-", seed))
	if err != nil {
		return nil, err
	}
	r := &rig{o: o, seed: seed, dir: dir, tl: &timeline{out: out, seed: seed, start: time.Now()}}
	steps := []func() error{r.writePayroll, r.startRedis, r.startSandbox, r.startWorkers}
	for _, step := range steps {
		if err := step(); err != nil {
			r.close()
			return nil, err
		}
	}
	return r, nil
}

func (r *rig) writePayroll() error {
	r.file = filepath.Join(r.dir, "payroll.csv")
	f, err := os.Create(r.file)
	if err != nil {
		return err
	}
	defer f.Close()
	r.tot, err = payrollgen.WriteCSV(f, payrollgen.Options{Rows: r.o.rows, InvalidEvery: 97, BankFailEvery: 41, Seed: r.seed})
	if err != nil {
		return fmt.Errorf("write payroll %s: %w", r.file, err)
	}
	return nil
}

func (r *rig) startRedis() error {
	s, err := startRedis(filepath.Join(r.dir, "redis"))
	if err != nil {
		return err
	}
	r.redis = s
	r.rdb = redis.NewClient(&redis.Options{Addr: s.addr})
	r.store = batch.NewStore(r.rdb, 0)
	return nil
}

// startSandbox serves the sandbox on loopback, in this process, so its counters can be read.
func (r *rig) startSandbox() error {
	f, err := os.Create(filepath.Join(r.dir, "sandbox.log"))
	if err != nil {
		return err
	}
	r.sbLog = f
	opts := sandbox.Options{
		Credentials:    map[string]string{apiKey: secretKey},
		Seed:           int64(r.seed),
		SettleDelay:    settleDelay,
		InitialBalance: decimal.New(1, 15), // every batch fits: INSUFFICIENT_BALANCE is not this run's subject
		Faults: sandbox.Faults{
			ServerErrorRate: 0.05, RateLimitRate: 0.05, RetryAfter: time.Second,
			LatencyRate: 0.05, Latency: injectedLatency, CommitThenDropRate: 0.05,
		},
		Log: zerolog.New(f).With().Timestamp().Logger(),
	}
	if r.o.dialect == "foreign" {
		sandbox.DialectForeign().Apply(&opts)
	} else {
		sandbox.DialectOurs().Apply(&opts)
	}
	r.sb = sandbox.New(opts)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("sandbox listener: %w", err)
	}
	hs := &http.Server{Handler: r.sb, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(l)
	r.sbClose = func() { hs.Close() }
	r.launch = newLauncher(r.o.bin, r.dir, r.environ("http://"+l.Addr().String()))
	r.workers = &pool{l: r.launch}
	return nil
}

// environ is the environment of every masspayout process: nothing inherited but PATH and HOME.
func (r *rig) environ(baseURL string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"REDIS_URL=" + r.redis.URL(),
		"IYZICO_BASE_URL=" + baseURL, "IYZICO_API_KEY=" + apiKey, "IYZICO_SECRET_KEY=" + secretKey,
		"IYZICO_TIMEOUT=" + clientTimeout.String(), "IYZICO_RATE_LIMIT=0",
		"CHUNK_SIZE=" + strconv.Itoa(r.o.chunk), "WORKER_CONCURRENCY=4", "MAX_RETRY=8",
		"RETRY_BASE_DELAY=50ms", "RETRY_MAX_DELAY=1s",
		"POLL_INTERVAL=200ms", "POLL_MAX_INTERVAL=1s", "JANITOR_INTERVAL=1s",
		"APPROVAL=manual", "RESULTS_DIR=" + filepath.Join(r.dir, "results"),
		"LOG_LEVEL=info", "LOG_FORMAT=json",
		// Every worker on this host gets a free port of its own.
		"METRICS_ADDR=127.0.0.1:0",
	}
	return env
}

func (r *rig) startWorkers() error {
	for range r.o.workers {
		w, err := r.workers.add()
		if err != nil {
			return err
		}
		r.tl.say("started %s (pid %d)", w.label, w.pid())
	}
	return nil
}

// submit runs `masspayout enqueue` and records the batch ID it prints.
func (r *rig) submit(ctx context.Context) error {
	id := fmt.Sprintf("chaos-seed%d", r.seed)
	o, err := r.launch.run(ctx, "enqueue", "enqueue", "--batch-id", id, "--as", "chaos-submitter", r.file)
	if err != nil {
		return err
	}
	if o.code != 0 {
		return fmt.Errorf("%s exited %d: see %s", o.label, o.code, filepath.Join(r.dir, o.label+".log"))
	}
	fields := strings.Fields(o.stdout)
	if len(fields) == 0 || fields[len(fields)-1] != id {
		return fmt.Errorf("%s printed %q, want the batch ID %s", o.label, o.stdout, id)
	}
	r.batchID = id
	r.tl.say("enqueued %s: %d rows (%d valid, %d invalid), chunk size %d", id, r.tot.Rows, r.tot.Valid, r.tot.Invalid, r.o.chunk)
	return nil
}

// errRedisDown: the chaos has killed redis-server and not restarted it yet.
var errRedisDown = errors.New("redis-server is down (killed by the chaos)")

// getBatch reads the batch from the ledger; Redis may be down for a moment.
func (r *rig) getBatch(ctx context.Context) (*batch.Batch, error) {
	if r.redisDown.Load() {
		return nil, errRedisDown
	}
	gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return r.store.Get(gctx, r.batchID)
}

// close stops everything the rig started. It is safe to call more than once.
func (r *rig) close() {
	r.world.Lock()
	r.closed = true
	for _, t := range r.resumes {
		t.Stop()
	}
	r.resumes = nil
	r.world.Unlock()
	if r.workers != nil {
		r.workers.shutdown(10 * time.Second)
	}
	if r.sbClose != nil {
		r.sbClose()
		r.sbClose = nil
	}
	if r.sbLog != nil {
		r.sbLog.Close()
		r.sbLog = nil
	}
	if r.rdb != nil {
		r.rdb.Close()
		r.rdb = nil
	}
	if r.redis != nil {
		r.redis.kill()
	}
}

// finish removes the directory unless it is to be kept, and says where it is.
func (r *rig) finish(keep bool) {
	if keep {
		r.tl.say("logs, Redis AOF and report kept in %s", r.dir)
		return
	}
	if err := os.RemoveAll(r.dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		r.tl.say("could not remove %s: %v", r.dir, err)
		return
	}
	r.tl.say("removed %s (use -keep to keep it)", r.dir)
}
