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
	if !a.cfg.EmbeddedRedis() {
		// The ledger lives in Redis: say loudly when it would not survive a restart or memory pressure.
		if ok, detail := batch.Durability(pctx, rdb); !ok {
			a.log.Warn().Str("redis", detail).Msg("Redis is not persistent; see deploy/redis.conf")
		}
		if ok, detail := batch.EvictionSafe(pctx, rdb); !ok {
			a.log.Warn().Str("redis", detail).Msg("Redis may evict keys; see deploy/redis.conf")
		}
	}
	return nil
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

// taskOptions are the default options of every task this process enqueues. An attempt's timeout
// covers the iyzico calls one handler may make (a paged read-back, a re-send and the call itself).
func (a *app) taskOptions() tasks.Options {
	return tasks.Options{
		MaxRetry:  a.cfg.MaxRetry,
		Timeout:   10*a.cfg.IyzicoTimeout + 30*time.Second,
		Retention: a.cfg.LedgerTTL,
	}
}

func (a *app) pipeline() *worker.Pipeline {
	return &worker.Pipeline{
		Log:             a.log,
		Store:           a.store,
		Iyzico:          a.iyzico,
		Queue:           a.queue,
		TaskOptions:     a.taskOptions(),
		PollInterval:    a.cfg.PollInterval,
		PollMaxInterval: a.cfg.PollMaxInterval,
		PollFor:         a.cfg.PollFor,
		OnChunk:         a.onChunk,
	}
}

func (a *app) finalizer() *worker.Finalizer {
	return &worker.Finalizer{
		Log:        a.log,
		Store:      a.store,
		ResultsDir: a.cfg.ResultsDir,
		Callback:   &worker.Callback{Secret: a.cfg.CallbackSecret.Reveal()},
	}
}

// startWorkers runs the asynq workers in this process until the returned stop is called. An idle
// worker looks for new tasks every idleCheck (0: the worker default).
func (a *app) startWorkers(idleCheck time.Duration) (stop func(), err error) {
	p := a.pipeline()
	cfg := worker.ServerConfig(p, a.cfg.WorkerConcurrency,
		worker.RetryPolicy{Base: a.cfg.RetryBaseDelay, Max: a.cfg.RetryMaxDelay}, a.cfg.IyzicoTimeout)
	if idleCheck > 0 {
		cfg.TaskCheckInterval = idleCheck
	}
	srv := asynq.NewServerFromRedisClient(a.rdb, cfg)
	if err := srv.Start(worker.NewServeMux(p, a.finalizer(), nil)); err != nil {
		return nil, fmt.Errorf("start workers: %w", err)
	}
	return srv.Shutdown, nil
}
