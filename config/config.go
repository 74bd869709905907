// Package config loads masspayout's configuration from the environment (DESIGN.md §4). Load is the
// only entry point; it takes a getenv function so tests pass a map. Every variable has its default
// beside its field, and a bad value is reported with the variable's name and the allowed values.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/rs/zerolog"
	"github.com/shopspring/decimal"
)

// Sandbox credentials: the built-in fake iyzico accepts these unless IYZICO_API_KEY and
// IYZICO_SECRET_KEY say otherwise.
const (
	SandboxAPIKey    = "sandbox-masspayout-key"
	SandboxSecretKey = "sandbox-masspayout-secret"
)

// Config is the whole configuration. Zero values are never used: Load fills every field.
type Config struct {
	// RedisURL is REDIS_URL (redis://, rediss://, redis-sentinel://). Empty: an embedded in-memory
	// Redis for run and serve only. It may hold a password, so it is a Secret.
	RedisURL Secret
	// RedisAllowVolatile is REDIS_ALLOW_VOLATILE, default false: commands refuse to start on a
	// REDIS_URL without persistence or with an evicting maxmemory-policy. true only warns: for
	// tests and throwaway setups.
	RedisAllowVolatile bool

	IyzicoBaseURL   string        // IYZICO_BASE_URL; empty: the built-in sandbox, started in-process
	IyzicoAPIKey    Secret        // IYZICO_API_KEY; default SandboxAPIKey, required with IYZICO_BASE_URL
	IyzicoSecretKey Secret        // IYZICO_SECRET_KEY; default SandboxSecretKey, required with IYZICO_BASE_URL
	IyzicoLocale    string        // IYZICO_LOCALE: tr (default) or en
	IyzicoTimeout   time.Duration // IYZICO_TIMEOUT: per call, default 30s
	IyzicoRateLimit int           // IYZICO_RATE_LIMIT: requests/s over all worker processes, default 10, 0 = none

	ChunkSize         int           // CHUNK_SIZE: items per iyzico mass payout, default 500
	WorkerConcurrency int           // WORKER_CONCURRENCY: default 10
	MaxRetry          int           // MAX_RETRY: default 25
	RetryBaseDelay    time.Duration // RETRY_BASE_DELAY: default 2s
	RetryMaxDelay     time.Duration // RETRY_MAX_DELAY: default 10m

	Approval         string // APPROVAL: manual (default) or auto
	ApprovalFourEyes bool   // APPROVAL_FOUR_EYES: default false
	// MasspayoutURL (MASSPAYOUT_URL) and MasspayoutToken (MASSPAYOUT_TOKEN): the `serve` address and
	// an API token with role approve, through which the CLI's approve goes with APPROVAL_FOUR_EYES
	// on, so that the approver is the person the token names.
	MasspayoutURL   string
	MasspayoutToken Secret
	PollInterval    time.Duration // POLL_INTERVAL: first retrieve after auth, default 1m
	PollMaxInterval time.Duration // POLL_MAX_INTERVAL: default 1h
	PollFor         time.Duration // POLL_FOR: give up polling after, default 168h

	HTTPAddr       string  // HTTP_ADDR: default 127.0.0.1:8080
	APITokens      []Token // API_TOKENS: name:role:token,...
	UIUsername     string  // UI_USERNAME
	UIPassword     Secret  // UI_PASSWORD
	UIReadWrite    bool    // UI_READ_WRITE: asynqmon may mutate tasks, default false
	UILocale       string  // UI_LOCALE: how the dashboard writes amounts, tr (default: 1.234,56 TL) or en (1,234.56 TRY)
	PrometheusURL  string  // PROMETHEUS_URL: shown by asynqmon when set
	MetricsAddr    string  // METRICS_ADDR: the worker's /metrics listener, default 127.0.0.1:9090 ("off" = none)
	MaxUploadBytes int64   // MAX_UPLOAD_BYTES: default 512 MiB

	// HTTPMaxConns is HTTP_MAX_CONNS: the most connections serve keeps open (the worker's
	// METRICS_ADDR keeps 64). At the cap, a new connection closes the oldest one not in a request (idle, or
	// still sending its headers); when all are in requests, new ones wait. Default 0: half the
	// process's open-file limit, at most 4096 (at least 64).
	HTTPMaxConns int
	// MaxConcurrentUploads is MAX_CONCURRENT_UPLOADS: uploads serve receives and submits at once;
	// one more is answered 503 BUSY with Retry-After. Default 4.
	MaxConcurrentUploads int
	// UploadMinRate is UPLOAD_MIN_RATE: the slowest a request body may arrive, in bytes per second
	// over each 10 s window; a slower one is cut off (408 TOO_SLOW). Default 16384.
	UploadMinRate int64

	CallbackSecret Secret        // CALLBACK_SECRET: signs batch callbacks
	ResultsDir     string        // RESULTS_DIR: default results
	LedgerTTL      time.Duration // LEDGER_TTL: how long a final batch's ledger is kept, default 2160h
	// JanitorInterval is JANITOR_INTERVAL: how often the janitor re-creates lost steps and
	// reconciles UNKNOWN chunks (one sweep per interval for the deployment), default 1m.
	JanitorInterval time.Duration

	// CallbackAllowedHosts is CALLBACK_ALLOWED_HOSTS: the hosts a batch's callback URL may name,
	// comma-separated host names, IP addresses or "*.domain" patterns ("*.example.com" matches
	// hr.example.com and a.b.example.com, not example.com), lower-cased. Empty (the default):
	// callbacks are off and a submission with a callback URL is refused.
	CallbackAllowedHosts []string
	// CallbackAllowPrivate is CALLBACK_ALLOW_PRIVATE, default false: callbacks may connect to
	// loopback and private-network addresses (otherwise public addresses only).
	CallbackAllowPrivate bool
	CallbackAllowHTTP    bool // CALLBACK_ALLOW_HTTP, default false: http:// callback URLs besides https://

	ScheduleFile string        // SCHEDULE_FILE
	CatchUp      time.Duration // CATCH_UP: scheduler catches up runs missed this long ago, default 24h

	Currencies    []string // CURRENCIES: allowed currencies, default TRY,USD,EUR
	MaxFileBytes  int64    // MAX_FILE_BYTES: largest payout file, default 512 MiB
	MaxRows       int      // MAX_ROWS: most rows in one file, default 5000000
	MaxFieldBytes int      // MAX_FIELD_BYTES: longest field, default 1024
	// MaxItemAmount is MAX_ITEM_AMOUNT: the largest amount of one row, in the row's own currency
	// (the same number for every currency), default 10000000.00. Larger rows are rejected with
	// AMOUNT_TOO_LARGE.
	MaxItemAmount decimal.Decimal

	LogLevel  zerolog.Level // LOG_LEVEL: trace, debug, info (default), warn, error
	LogFormat string        // LOG_FORMAT: json (default) or console
}

// Token is one API token from API_TOKENS.
type Token struct {
	Name  string
	Role  string
	Token Secret
}

// Roles an API token may have.
var Roles = []string{"submit", "approve", "read", "admin"}

// Load reads every variable through getenv, applies defaults and validates. The error lists every
// bad variable, each with its allowed values.
func Load(getenv func(string) string) (*Config, error) {
	l := loader{getenv: getenv}
	c := &Config{
		RedisURL:           Secret(l.str("REDIS_URL", "")),
		RedisAllowVolatile: l.bool("REDIS_ALLOW_VOLATILE", false),

		IyzicoBaseURL:   l.url("IYZICO_BASE_URL"),
		IyzicoAPIKey:    Secret(l.str("IYZICO_API_KEY", "")),
		IyzicoSecretKey: Secret(l.str("IYZICO_SECRET_KEY", "")),
		IyzicoLocale:    l.oneOf("IYZICO_LOCALE", "tr", "tr", "en"),
		IyzicoTimeout:   l.duration("IYZICO_TIMEOUT", 30*time.Second, time.Second),
		IyzicoRateLimit: l.int("IYZICO_RATE_LIMIT", 10, 0, 100000),

		ChunkSize:         l.int("CHUNK_SIZE", 500, 1, 100000),
		WorkerConcurrency: l.int("WORKER_CONCURRENCY", 10, 1, 1000),
		MaxRetry:          l.int("MAX_RETRY", 25, 0, 1000),
		RetryBaseDelay:    l.duration("RETRY_BASE_DELAY", 2*time.Second, time.Millisecond),
		RetryMaxDelay:     l.duration("RETRY_MAX_DELAY", 10*time.Minute, time.Millisecond),

		Approval:         l.oneOf("APPROVAL", "manual", "manual", "auto"),
		ApprovalFourEyes: l.bool("APPROVAL_FOUR_EYES", false),
		MasspayoutURL:    l.url("MASSPAYOUT_URL"),
		MasspayoutToken:  Secret(l.str("MASSPAYOUT_TOKEN", "")),
		PollInterval:     l.duration("POLL_INTERVAL", time.Minute, time.Millisecond),
		PollMaxInterval:  l.duration("POLL_MAX_INTERVAL", time.Hour, time.Millisecond),
		PollFor:          l.duration("POLL_FOR", 168*time.Hour, time.Second),

		HTTPAddr:       l.str("HTTP_ADDR", "127.0.0.1:8080"),
		APITokens:      l.tokens("API_TOKENS"),
		UIUsername:     l.str("UI_USERNAME", ""),
		UIPassword:     Secret(l.str("UI_PASSWORD", "")),
		UIReadWrite:    l.bool("UI_READ_WRITE", false),
		UILocale:       l.oneOf("UI_LOCALE", "tr", "tr", "en"),
		PrometheusURL:  l.url("PROMETHEUS_URL"),
		MetricsAddr:    l.metricsAddr("METRICS_ADDR", "127.0.0.1:9090"),
		MaxUploadBytes: l.int64("MAX_UPLOAD_BYTES", 512<<20, 1),

		HTTPMaxConns:         l.int("HTTP_MAX_CONNS", 0, 0, 1<<20),
		MaxConcurrentUploads: l.int("MAX_CONCURRENT_UPLOADS", 4, 1, 10000),
		UploadMinRate:        l.int64Range("UPLOAD_MIN_RATE", 16<<10, 1, 1<<40),

		CallbackSecret:  Secret(l.str("CALLBACK_SECRET", "")),
		ResultsDir:      l.str("RESULTS_DIR", "results"),
		LedgerTTL:       l.duration("LEDGER_TTL", 2160*time.Hour, time.Minute),
		JanitorInterval: l.duration("JANITOR_INTERVAL", time.Minute, time.Second),

		CallbackAllowedHosts: l.hosts("CALLBACK_ALLOWED_HOSTS"),
		CallbackAllowPrivate: l.bool("CALLBACK_ALLOW_PRIVATE", false),
		CallbackAllowHTTP:    l.bool("CALLBACK_ALLOW_HTTP", false),

		ScheduleFile: l.str("SCHEDULE_FILE", ""),
		CatchUp:      l.duration("CATCH_UP", 24*time.Hour, 0),

		Currencies:    l.currencies("CURRENCIES", []string{"TRY", "USD", "EUR"}),
		MaxFileBytes:  l.int64("MAX_FILE_BYTES", 512<<20, 1),
		MaxRows:       l.int("MAX_ROWS", 5_000_000, 1, 1<<31-1),
		MaxFieldBytes: l.int("MAX_FIELD_BYTES", 1024, 16, 1<<20),
		MaxItemAmount: l.amount("MAX_ITEM_AMOUNT", decimal.New(1000000000, -2)),

		LogLevel:  l.level("LOG_LEVEL"),
		LogFormat: l.oneOf("LOG_FORMAT", "json", "json", "console"),
	}
	if c.IyzicoBaseURL == "" {
		if c.IyzicoAPIKey == "" {
			c.IyzicoAPIKey = SandboxAPIKey
		}
		if c.IyzicoSecretKey == "" {
			c.IyzicoSecretKey = SandboxSecretKey
		}
	} else {
		if c.IyzicoAPIKey == "" {
			l.fail("IYZICO_API_KEY", "is required when IYZICO_BASE_URL is set: give the merchant's API key")
		}
		if c.IyzicoSecretKey == "" {
			l.fail("IYZICO_SECRET_KEY", "is required when IYZICO_BASE_URL is set: give the merchant's secret key")
		}
	}
	if c.RetryMaxDelay < c.RetryBaseDelay {
		l.fail("RETRY_MAX_DELAY", fmt.Sprintf("must not be below RETRY_BASE_DELAY (%s)", c.RetryBaseDelay))
	}
	if c.PollMaxInterval < c.PollInterval {
		l.fail("POLL_MAX_INTERVAL", fmt.Sprintf("must not be below POLL_INTERVAL (%s)", c.PollInterval))
	}
	if (c.UIUsername == "") != (c.UIPassword == "") {
		l.fail("UI_PASSWORD", "UI_USERNAME and UI_PASSWORD must be set together")
	}
	if c.RedisURL != "" {
		if _, err := url.Parse(string(c.RedisURL)); err != nil || !redisScheme.MatchString(string(c.RedisURL)) {
			l.fail("REDIS_URL", "must be a URL starting with redis://, rediss:// or redis-sentinel:// (the value is not shown: it may hold a password)")
		}
	}
	if err := errors.Join(l.errs...); err != nil {
		return nil, err
	}
	return c, nil
}

var redisScheme = regexp.MustCompile(`^(redis|rediss|redis-sentinel)://`)

// EmbeddedRedis reports whether REDIS_URL is unset, so run and serve use an in-memory Redis.
func (c *Config) EmbeddedRedis() bool { return c.RedisURL == "" }

// BuiltinSandbox reports whether IYZICO_BASE_URL is unset, so the sandbox runs in-process.
func (c *Config) BuiltinSandbox() bool { return c.IyzicoBaseURL == "" }

// AutoApprove reports whether APPROVAL=auto: chunks are authorized right after init.
func (c *Config) AutoApprove() bool { return c.Approval == "auto" }

type loader struct {
	getenv func(string) string
	errs   []error
}

func (l *loader) fail(name, problem string) {
	l.errs = append(l.errs, fmt.Errorf("%s %s", name, problem))
}

// metricsAddr reads a listen address where "off" means none ("" cannot: an empty variable reads
// as unset, which means the default).
func (l *loader) metricsAddr(name, def string) string {
	if v := l.str(name, def); !strings.EqualFold(v, "off") {
		return v
	}
	return ""
}

func (l *loader) str(name, def string) string {
	if v := strings.TrimSpace(l.getenv(name)); v != "" {
		return v
	}
	return def
}

func (l *loader) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(l.str(name, def))
	if slices.Contains(allowed, v) {
		return v
	}
	l.fail(name, fmt.Sprintf("is %q; allowed values: %s", l.getenv(name), strings.Join(allowed, ", ")))
	return def
}

func (l *loader) int(name string, def, lo, hi int) int {
	return int(l.int64Range(name, int64(def), int64(lo), int64(hi)))
}

func (l *loader) int64(name string, def, lo int64) int64 {
	return l.int64Range(name, def, lo, 1<<62)
}

func (l *loader) int64Range(name string, def, lo, hi int64) int64 {
	s := l.str(name, "")
	if s == "" {
		return def
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		l.fail(name, fmt.Sprintf("is %q; allowed values: a whole number from %d to %d", s, lo, hi))
		return def
	}
	return n
}

func (l *loader) duration(name string, def, min time.Duration) time.Duration {
	s := l.str(name, "")
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < min {
		l.fail(name, fmt.Sprintf("is %q; allowed values: a Go duration of at least %s, like 30s, 10m or 168h", s, min))
		return def
	}
	return d
}

func (l *loader) bool(name string, def bool) bool {
	s := l.str(name, "")
	if s == "" {
		return def
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		l.fail(name, fmt.Sprintf("is %q; allowed values: true, false", s))
		return def
	}
	return b
}

// maxAmountLen bounds the text of MAX_ITEM_AMOUNT, so a pasted blob is not parsed as a number.
const maxAmountLen = 32

// amount reads a positive plain decimal such as 10000000.00: no sign, exponent or separators.
func (l *loader) amount(name string, def decimal.Decimal) decimal.Decimal {
	s := l.str(name, "")
	if s == "" {
		return def
	}
	bad := func() decimal.Decimal {
		l.fail(name, fmt.Sprintf("is %q; allowed values: a decimal number greater than 0 with '.' for decimals and no sign or separators, like 10000000.00", s))
		return def
	}
	if len(s) > maxAmountLen || !plainDecimal.MatchString(s) {
		return bad()
	}
	d, err := decimal.NewFromString(s)
	if err != nil || d.Sign() <= 0 {
		return bad()
	}
	return d
}

var plainDecimal = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

func (l *loader) url(name string) string {
	s := l.str(name, "")
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.fail(name, fmt.Sprintf("is %q; allowed values: an http:// or https:// URL", s))
		return ""
	}
	return strings.TrimRight(s, "/")
}

func (l *loader) level(name string) zerolog.Level {
	s := strings.ToLower(l.str(name, "info"))
	lv, err := zerolog.ParseLevel(s)
	if err != nil || s == "" || lv == zerolog.NoLevel {
		l.fail(name, fmt.Sprintf("is %q; allowed values: trace, debug, info, warn, error", s))
		return zerolog.InfoLevel
	}
	return lv
}

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

func (l *loader) currencies(name string, def []string) []string {
	s := l.str(name, "")
	if s == "" {
		return def
	}
	var out []string
	for _, c := range strings.Split(s, ",") {
		c = strings.TrimSpace(c)
		if !currencyCode.MatchString(c) {
			l.fail(name, fmt.Sprintf("has %q; allowed values: comma-separated upper-case ISO 4217 codes, like TRY,USD,EUR", c))
			return def
		}
		out = append(out, c)
	}
	return out
}

// hosts reads a comma-separated list of host names, IP addresses and "*.domain" patterns,
// lower-cased. Only their shape is checked here (no scheme, port, path, user or space; '*' only as
// a leading "*."); package callback compares them in their ASCII (IDNA) form.
func (l *loader) hosts(name string) []string {
	s := l.str(name, "")
	if s == "" {
		return nil
	}
	var out []string
	for _, h := range strings.Split(s, ",") {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			continue
		}
		if problem := hostProblem(h); problem != "" {
			l.fail(name, fmt.Sprintf("has %q: %s; allowed values: comma-separated host names (hr.example.com), IP addresses or *.domain patterns (*.example.com matches hr.example.com, not example.com)", h, problem))
			continue
		}
		out = append(out, h)
	}
	return out
}

// hostProblem says what is wrong with one entry of a host list, or "".
func hostProblem(h string) string {
	rest := strings.TrimPrefix(h, "*.")
	_, ipErr := netip.ParseAddr(rest)
	switch {
	case strings.Contains(h, "://"):
		return "give the host alone, without a scheme"
	case strings.ContainsAny(h, "/?#"):
		return "give the host alone, without a path"
	case strings.Contains(h, "@"):
		return "give the host alone, without a user name"
	case strings.ContainsAny(h, "[]"):
		return "give an IPv6 address without brackets"
	case strings.Contains(rest, "*"):
		return "'*' may only begin a *.domain pattern"
	case strings.ContainsFunc(h, unicode.IsSpace):
		return "a host has no spaces"
	case ipErr == nil && rest != h:
		return "a *.domain pattern needs a domain name, not an address"
	case ipErr == nil:
		return ""
	case strings.Contains(rest, ":"):
		return "give the host without a port (any port is allowed)"
	case rest == "" || strings.HasPrefix(rest, ".") || strings.Contains(rest, ".."):
		return "it has an empty label"
	case strings.Trim(rest, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" && strings.IndexFunc(rest, func(r rune) bool { return r >= 0x80 }) < 0:
		return "host names have letters, digits, '-' and '.' only"
	}
	return ""
}

func (l *loader) tokens(name string) []Token {
	s := l.str(name, "")
	if s == "" {
		return nil
	}
	var out []Token
	seen := map[string]bool{}
	for i, entry := range strings.Split(s, ",") {
		parts := strings.SplitN(strings.TrimSpace(entry), ":", 3)
		if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
			l.fail(name, fmt.Sprintf("entry %d is not name:role:token (the token is not shown)", i+1))
			continue
		}
		role := strings.ToLower(parts[1])
		if !slices.Contains(Roles, role) {
			l.fail(name, fmt.Sprintf("entry %d (%s) has role %q; allowed roles: %s", i+1, parts[0], parts[1], strings.Join(Roles, ", ")))
			continue
		}
		if seen[parts[0]] {
			l.fail(name, fmt.Sprintf("entry %d repeats the name %q; names identify approvers and must be unique", i+1, parts[0]))
			continue
		}
		seen[parts[0]] = true
		out = append(out, Token{Name: parts[0], Role: role, Token: Secret(parts[2])})
	}
	return out
}

// Variables lists every environment variable Load reads, in the order it reads them.
func Variables() []string {
	var names []string
	Load(func(name string) string {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
		return ""
	})
	return names
}
