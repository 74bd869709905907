package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/shopspring/decimal"

	"github.com/masspayout/masspayout/config"
	"github.com/masspayout/masspayout/iyzico/sandbox"
)

// cmdSandbox runs the fake iyzico Mass Payout server until ctx is done. It prints
// "listening on http://ADDR" on stdout once it accepts connections; logs go to stderr.
func cmdSandbox(ctx context.Context, e env) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: masspayout sandbox [flags]\n\n"+
			"Runs the fake iyzico Mass Payout API (see iyzico/sandbox). Credentials come from\n"+
			"IYZICO_API_KEY and IYZICO_SECRET_KEY (default %s / %s).\n\nflags:\n",
			config.SandboxAPIKey, config.SandboxSecretKey)
		fs.PrintDefaults()
	}
	addr := fs.String("addr", "127.0.0.1:8089", "listen address")
	settle := fs.Duration("settle-delay", 0, "time from auth to the bank's answer (0: visible on the next read)")
	seed := fs.Int64("seed", 1, "seed of the random fault decisions")
	balance := fs.String("balance", sandbox.DefaultInitialBalance.StringFixed(2), "initial mass payout balance")
	maxPage := fs.Int("max-page-size", sandbox.DefaultMaxPageSize, "largest retrieve page")
	paging := fs.String("paging", sandbox.PagingBoth, "where retrieve puts page/size/total: top, nested or both")
	dialectName := fs.String("dialect", sandbox.DialectOurs().String(), "how undocumented behaviour is answered: ours or foreign "+
		"(also sets --failure-status and --omit-request-id* unless given)")
	omitID := fs.Bool("omit-request-id", false, "leave massPayoutRequestId out of retrieved items")
	omitItemID := fs.Bool("omit-request-id-in-item", false, "leave massPayoutRequestId out of the retrieve item answer")
	failureStatus := fs.Int("failure-status", sandbox.DefaultFailureStatus, "HTTP status of business failures (400 or 200)")
	var f sandbox.Faults
	fs.Float64Var(&f.ServerErrorRate, "server-error-rate", 0, "probability of an injected 5xx")
	fs.Float64Var(&f.RateLimitRate, "rate-limit-rate", 0, "probability of an injected 429")
	fs.DurationVar(&f.RetryAfter, "retry-after", time.Second, "Retry-After of an injected 429")
	fs.Float64Var(&f.LatencyRate, "latency-rate", 0, "probability of injected latency")
	fs.DurationVar(&f.Latency, "latency", 0, "injected latency")
	fs.Float64Var(&f.CommitThenDropRate, "drop-rate", 0, "probability of handling a request and then dropping the connection")
	endpoints := fs.String("fault-endpoints", "", "comma-separated endpoints the faults apply to ("+strings.Join(sandbox.Endpoints, ",")+"; empty: all)")
	if err := fs.Parse(e.args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return withExit(exitUsage, err)
	}
	if fs.NArg() > 0 {
		return usageErrorf("sandbox takes no arguments, got %q", fs.Args())
	}
	if *endpoints != "" {
		f.Endpoints = strings.Split(*endpoints, ",")
	}
	if err := f.Validate(); err != nil {
		return usageErrorf("sandbox faults: %v", err)
	}
	bal, err := decimal.NewFromString(*balance)
	if err != nil || bal.Sign() <= 0 {
		return usageErrorf("--balance %q: want a positive decimal amount such as 1000000.00", *balance)
	}
	switch *paging {
	case sandbox.PagingTop, sandbox.PagingNested, sandbox.PagingBoth:
	default:
		return usageErrorf("--paging %q: want top, nested or both", *paging)
	}
	if *maxPage < 1 {
		return usageErrorf("--max-page-size %d: want 1 or more", *maxPage)
	}
	if *failureStatus < 200 || *failureStatus > 599 {
		return usageErrorf("--failure-status %d: want an HTTP status such as 400 or 200", *failureStatus)
	}
	dialect, ok := dialectNamed(*dialectName)
	if !ok {
		return usageErrorf("--dialect %q: want ours or foreign", *dialectName)
	}

	cfg, err := config.Load(e.getenv)
	if err != nil {
		return withExit(exitUsage, fmt.Errorf("configuration: %w", err))
	}
	log := cfg.NewLogger(zerolog.SyncWriter(e.stderr)).With().Str("command", "sandbox").Logger()
	opts := sandbox.Options{
		Credentials:    map[string]string{cfg.IyzicoAPIKey.Reveal(): cfg.IyzicoSecretKey.Reveal()},
		Seed:           *seed,
		Faults:         f,
		SettleDelay:    *settle,
		InitialBalance: bal,
		MaxPageSize:    *maxPage,
		Paging:         *paging,
		Log:            log,
	}
	// The dialect sets its answer shapes; the shape flags given on the command line override them.
	dialect.Apply(&opts)
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "omit-request-id":
			opts.OmitRequestIDInRetrieve = *omitID
		case "omit-request-id-in-item":
			opts.OmitRequestIDInItem = *omitItemID
		case "failure-status":
			opts.FailureStatus = *failureStatus
		}
	})
	srv := sandbox.New(opts)

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("sandbox listen on %s: %w", *addr, err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(l) }()
	url := "http://" + l.Addr().String()
	log.Info().Str("url", url).Str("dialect", dialect.String()).Dur("settle_delay", *settle).Int64("seed", *seed).Msg("sandbox listening")
	fmt.Fprintf(e.stdout, "listening on %s\n", url)

	select {
	case err := <-served:
		return fmt.Errorf("sandbox serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		hs.Close()
		return fmt.Errorf("sandbox shutdown: %w", err)
	}
	<-served
	log.Info().Msg("sandbox stopped")
	return nil
}

// dialectNamed returns the preset sandbox dialect called name.
func dialectNamed(name string) (sandbox.Dialect, bool) {
	for _, d := range sandbox.Dialects() {
		if d.String() == name {
			return d, true
		}
	}
	return sandbox.Dialect{}, false
}
