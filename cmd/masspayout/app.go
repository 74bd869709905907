package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/config"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/iyzico/sandbox"
	"github.com/masspayout/masspayout/tasks"
	"github.com/masspayout/masspayout/worker"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// app is the wiring shared by the commands: configuration, logger, Redis, the ledger, the queue
// client and the iyzico client (with the in-process sandbox when IYZICO_BASE_URL is unset).
type app struct {
	cfg      *config.Config
	log      zerolog.Logger
	redisOpt asynq.RedisConnOpt
	rdb      redis.UniversalClient
	store    *batch.Store
	queue    *asynq.Client
	iyzico   *iyzico.Client
	sandbox  *sandbox.Server // nil unless started in-process
	closers  []func()

	observe func(endpoint, code string, d time.Duration) // iyzico.Options.Observe, or nil
	onChunk func(state string)                           // worker.Pipeline.OnChunk, or nil
}

// appNeeds says what a command needs wired.
type appNeeds struct {
	embeddedRedisOK bool // REDIS_URL may be unset: start an in-memory Redis (run, serve)
	iyzico          bool // an iyzico client (and the in-process sandbox when IYZICO_BASE_URL is unset)
	// observe and onChunk, when set, feed metrics: every iyzico attempt and every chunk state
	// change of this process's workers (serve, worker).
	observe func(endpoint, code string, d time.Duration)
	onChunk func(state string)
}

func newApp(ctx context.Context, e env, needs appNeeds, command string) (*app, error) {
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return nil, withExit(exitUsage, fmt.Errorf("configuration: %w", err))
	}
	a := &app{cfg: cfg, log: cfg.NewLogger(e.stderr).With().Str("command", command).Logger(), observe: needs.observe, onChunk: needs.onChunk}
	if err := a.connectRedis(ctx, needs.embeddedRedisOK, command); err != nil {
		a.close()
		return nil, err
	}
	a.store = batch.NewStore(a.rdb, cfg.LedgerTTL)
	a.queue = asynq.NewClientFromRedisClient(a.rdb)
	if needs.iyzico {
		if err := a.connectIyzico(); err != nil {
			a.close()
			return nil, err
		}
	}
	return a, nil
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

func (a *app) connectRedis(ctx context.Context, embeddedOK bool, command string) error {
	if a.cfg.EmbeddedRedis() {
		if !embeddedOK {
			return withExit(exitUsage, fmt.Errorf("REDIS_URL is not set: %s needs a shared Redis, e.g. REDIS_URL=redis://127.0.0.1:6379/0", command))
		}
		m := miniredis.NewMiniRedis()
		if err := m.Start(); err != nil {
			return fmt.Errorf("start embedded Redis: %w", err)
		}
		a.closers = append(a.closers, m.Close)
		a.log.Warn().Str("addr", m.Addr()).Msg("REDIS_URL is not set: using an embedded in-memory Redis; the ledger is lost when this process exits")
		a.redisOpt = asynq.RedisClientOpt{Addr: m.Addr()}
	} else {
		opt, err := parseRedisURL(a.cfg.RedisURL.Reveal())
		if err != nil {
			return withExit(exitUsage, errors.New("REDIS_URL cannot be parsed: use redis://[user:password@]host:port/db, rediss://... or redis-sentinel://[:password@]host:port,...?master=NAME[&password=...&db=N] (the value is not shown: it may hold a password)"))
		}
		a.redisOpt = opt
	}
	rdb, ok := a.redisOpt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return errors.New("REDIS_URL: unsupported Redis client type")
	}
	a.rdb = rdb
	a.closers = append(a.closers, func() { rdb.Close() })
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		return fmt.Errorf("Redis does not answer: %w; check REDIS_URL and that Redis is running", err)
	}
	if a.cfg.EmbeddedRedis() {
		return nil
	}
	// The ledger lives in Redis: refuse one that would lose it on a restart or under memory
	// pressure, unless REDIS_ALLOW_VOLATILE says this is a test or a throwaway setup.
	var unsafe []string
	for _, check := range []func(context.Context, redis.UniversalClient) (batch.Verdict, string){batch.Durability, batch.EvictionSafe} {
		switch v, detail := check(pctx, rdb); v {
		case batch.VerdictUnsafe:
			unsafe = append(unsafe, detail)
		case batch.VerdictUnknown:
			a.log.Error().Str("redis", detail).Msg("cannot check that Redis keeps the ledger safe; make sure it is configured like deploy/redis.conf (appendonly yes, maxmemory-policy noeviction)")
		}
	}
	if len(unsafe) == 0 {
		return nil
	}
	if a.cfg.RedisAllowVolatile {
		for _, detail := range unsafe {
			a.log.Error().Str("redis", detail).Msg("REDIS_ALLOW_VOLATILE=true: using a Redis that can lose the ledger and the queue; payouts may be sent twice or lost track of. Never do this with real money")
		}
		return nil
	}
	problems := unsafe[0]
	for _, detail := range unsafe[1:] {
		problems += "; " + detail
	}
	return withExit(exitFailed, fmt.Errorf("Redis at REDIS_URL can lose the ledger: %s. Configure it like deploy/redis.conf (appendonly yes, maxmemory-policy noeviction), or, for tests and throwaway setups only, set REDIS_ALLOW_VOLATILE=true", problems))
}

func (a *app) connectIyzico() error {
	base := a.cfg.IyzicoBaseURL
	if a.cfg.BuiltinSandbox() {
		srv := sandbox.New(sandbox.Options{
			Credentials: map[string]string{a.cfg.IyzicoAPIKey.Reveal(): a.cfg.IyzicoSecretKey.Reveal()},
			Log:         a.log.With().Str("component", "sandbox").Logger().Level(zerolog.WarnLevel),
		})
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("start the built-in sandbox: %w", err)
		}
		hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
		go hs.Serve(l)
		a.closers = append(a.closers, func() { hs.Close() })
		a.sandbox = srv
		base = "http://" + l.Addr().String()
		a.log.Info().Str("url", base).Msg("IYZICO_BASE_URL is not set: using the built-in iyzico sandbox")
	}
	opts := iyzico.Options{
		BaseURL:       base,
		APIKey:        a.cfg.IyzicoAPIKey.Reveal(),
		SecretKey:     a.cfg.IyzicoSecretKey.Reveal(),
		Locale:        a.cfg.IyzicoLocale,
		Timeout:       a.cfg.IyzicoTimeout,
		ClientVersion: "masspayout/" + version,
		Observe:       a.observe,
	}
	if l := worker.NewRateLimiter(a.rdb, "iyzico", a.cfg.IyzicoRateLimit); l != nil {
		opts.Limiter = l
	}
	c, err := iyzico.NewClient(opts)
	if err != nil {
		return withExit(exitUsage, fmt.Errorf("iyzico client: %w", err))
	}
	a.iyzico = c
	return nil
}

// taskOptions are the default options of every task this process enqueues. asynq retries a task
// without limit (a chunk step keeps its budget, MAX_RETRY, in the ledger); an attempt's timeout is
// above a step's deadline; a completed task stays visible in asynqmon for a day.
func (a *app) taskOptions() tasks.Options { return a.pipeline().TaskOptions }

func (a *app) pipeline() *worker.Pipeline {
	p := &worker.Pipeline{
		Log:             a.log,
		Store:           a.store,
		Iyzico:          a.iyzico,
		Queue:           a.queue,
		Budget:          a.cfg.MaxRetry,
		CallTimeout:     a.cfg.IyzicoTimeout,
		PollInterval:    a.cfg.PollInterval,
		PollMaxInterval: a.cfg.PollMaxInterval,
		PollFor:         a.cfg.PollFor,
		OnChunk:         a.onChunk,
	}
	p.TaskOptions = tasks.Options{MaxRetry: worker.MaxRetry, Timeout: p.StepDeadline() + 10*time.Second, Retention: 24 * time.Hour}
	return p
}

func (a *app) finalizer() *worker.Finalizer {
	return &worker.Finalizer{
		Log:        a.log,
		Store:      a.store,
		ResultsDir: a.cfg.ResultsDir,
		Callback:   &worker.Callback{Secret: a.cfg.CallbackSecret.Reveal(), Policy: callbackPolicy(a.cfg), Log: a.log},
	}
}

// janitor is the janitor of this process's workers.
func (a *app) janitor(p *worker.Pipeline) *worker.Janitor {
	return &worker.Janitor{Pipeline: p, Interval: a.cfg.JanitorInterval, Idle: a.cfg.JanitorInterval}
}

// startWorkers runs the asynq workers (and the janitor's clock) in this process until the
// returned stop is called. An idle worker looks for new tasks every idleCheck (0: the default).
func (a *app) startWorkers(idleCheck time.Duration) (stop func(), err error) {
	p := a.pipeline()
	cfg := worker.ServerConfig(p, a.cfg.WorkerConcurrency, worker.RetryPolicy{Base: a.cfg.RetryBaseDelay, Max: a.cfg.RetryMaxDelay})
	if idleCheck > 0 {
		cfg.TaskCheckInterval = idleCheck
	}
	srv := asynq.NewServerFromRedisClient(a.rdb, cfg)
	j := a.janitor(p)
	if err := srv.Start(worker.NewServeMux(p, a.finalizer(), j, nil)); err != nil {
		return nil, fmt.Errorf("start workers: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); j.Run(ctx) }()
	return func() {
		cancel()
		<-done
		srv.Shutdown()
	}, nil
}
