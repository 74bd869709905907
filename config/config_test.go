package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/shopspring/decimal"
)

func getenv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(getenv(nil))
	if err != nil {
		t.Fatalf("Load(empty) = %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"IyzicoLocale", c.IyzicoLocale, "tr"},
		{"IyzicoTimeout", c.IyzicoTimeout, 30 * time.Second},
		{"IyzicoRateLimit", c.IyzicoRateLimit, 10},
		{"ChunkSize", c.ChunkSize, 500},
		{"WorkerConcurrency", c.WorkerConcurrency, 10},
		{"MaxRetry", c.MaxRetry, 25},
		{"RetryBaseDelay", c.RetryBaseDelay, 2 * time.Second},
		{"RetryMaxDelay", c.RetryMaxDelay, 10 * time.Minute},
		{"Approval", c.Approval, "manual"},
		{"ApprovalFourEyes", c.ApprovalFourEyes, false},
		{"PollInterval", c.PollInterval, time.Minute},
		{"PollMaxInterval", c.PollMaxInterval, time.Hour},
		{"PollFor", c.PollFor, 168 * time.Hour},
		{"HTTPAddr", c.HTTPAddr, "127.0.0.1:8080"},
		{"ResultsDir", c.ResultsDir, "results"},
		{"LedgerTTL", c.LedgerTTL, 2160 * time.Hour},
		{"LogLevel", c.LogLevel, zerolog.InfoLevel},
		{"LogFormat", c.LogFormat, "json"},
		{"IyzicoAPIKey", c.IyzicoAPIKey.Reveal(), SandboxAPIKey},
		{"IyzicoSecretKey", c.IyzicoSecretKey.Reveal(), SandboxSecretKey},
		{"Currencies", strings.Join(c.Currencies, ","), "TRY,USD,EUR"},
		{"MaxUploadBytes", c.MaxUploadBytes, int64(512 << 20)},
		{"CatchUp", c.CatchUp, 24 * time.Hour},
		{"RedisAllowVolatile", c.RedisAllowVolatile, false},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if want := decimal.RequireFromString("10000000.00"); !c.MaxItemAmount.Equal(want) {
		t.Errorf("MaxItemAmount = %s, want %s", c.MaxItemAmount, want)
	}
	if !c.EmbeddedRedis() || !c.BuiltinSandbox() || c.AutoApprove() {
		t.Errorf("EmbeddedRedis, BuiltinSandbox, AutoApprove = %v %v %v, want true true false", c.EmbeddedRedis(), c.BuiltinSandbox(), c.AutoApprove())
	}
}

func TestLoadValues(t *testing.T) {
	c, err := Load(getenv(map[string]string{
		"REDIS_URL":         "redis://:pw@127.0.0.1:6380/2",
		"IYZICO_BASE_URL":   "https://sandbox-api.iyzipay.com/",
		"IYZICO_API_KEY":    "k",
		"IYZICO_SECRET_KEY": "s",
		"IYZICO_LOCALE":     "EN",
		"CHUNK_SIZE":        "100",
		"APPROVAL":          "auto",
		"API_TOKENS":        "payroll:submit:t1, ayse:approve:t2",
		"CURRENCIES":        "TRY, JPY",
		"LOG_LEVEL":         "debug",
	}))
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	if c.IyzicoBaseURL != "https://sandbox-api.iyzipay.com" || c.IyzicoLocale != "en" || c.ChunkSize != 100 || !c.AutoApprove() {
		t.Errorf("got base %q locale %q chunk %d approval %q", c.IyzicoBaseURL, c.IyzicoLocale, c.ChunkSize, c.Approval)
	}
	if len(c.APITokens) != 2 || c.APITokens[1].Name != "ayse" || c.APITokens[1].Role != "approve" || c.APITokens[1].Token.Reveal() != "t2" {
		t.Errorf("APITokens = %+v", c.APITokens)
	}
	if strings.Join(c.Currencies, ",") != "TRY,JPY" || c.LogLevel != zerolog.DebugLevel {
		t.Errorf("Currencies %v LogLevel %v", c.Currencies, c.LogLevel)
	}
}

func TestLoadErrorsNameVariableAndAllowedValues(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want []string
	}{
		{map[string]string{"IYZICO_LOCALE": "de"}, []string{"IYZICO_LOCALE", "tr, en"}},
		{map[string]string{"UI_LOCALE": "fr"}, []string{"UI_LOCALE", "tr, en"}},
		{map[string]string{"APPROVAL": "maybe"}, []string{"APPROVAL", "manual, auto"}},
		{map[string]string{"LOG_FORMAT": "xml"}, []string{"LOG_FORMAT", "json, console"}},
		{map[string]string{"LOG_LEVEL": "loud"}, []string{"LOG_LEVEL", "debug"}},
		{map[string]string{"CHUNK_SIZE": "0"}, []string{"CHUNK_SIZE", "from 1"}},
		{map[string]string{"CHUNK_SIZE": "ten"}, []string{"CHUNK_SIZE"}},
		{map[string]string{"IYZICO_TIMEOUT": "30"}, []string{"IYZICO_TIMEOUT", "duration"}},
		{map[string]string{"APPROVAL_FOUR_EYES": "yes please"}, []string{"APPROVAL_FOUR_EYES", "true, false"}},
		{map[string]string{"IYZICO_BASE_URL": "ftp://x"}, []string{"IYZICO_BASE_URL", "http"}},
		{map[string]string{"IYZICO_BASE_URL": "https://api.iyzipay.com"}, []string{"IYZICO_API_KEY is required", "IYZICO_SECRET_KEY is required"}},
		{map[string]string{"API_TOKENS": "a:boss:t"}, []string{"API_TOKENS", "submit, approve, read, admin"}},
		{map[string]string{"API_TOKENS": "a:read"}, []string{"API_TOKENS", "name:role:token"}},
		{map[string]string{"API_TOKENS": "a:read:t,a:admin:u"}, []string{"API_TOKENS", "unique"}},
		{map[string]string{"CURRENCIES": "try"}, []string{"CURRENCIES", "ISO 4217"}},
		{map[string]string{"RETRY_BASE_DELAY": "1m", "RETRY_MAX_DELAY": "1s"}, []string{"RETRY_MAX_DELAY"}},
		{map[string]string{"UI_USERNAME": "ops"}, []string{"UI_PASSWORD"}},
		{map[string]string{"REDIS_URL": "localhost:6379"}, []string{"REDIS_URL", "redis://"}},
		{map[string]string{"REDIS_ALLOW_VOLATILE": "sometimes"}, []string{"REDIS_ALLOW_VOLATILE", "true, false"}},
		{map[string]string{"MAX_ITEM_AMOUNT": "-5"}, []string{"MAX_ITEM_AMOUNT", "greater than 0"}},
	}
	for _, tt := range tests {
		_, err := Load(getenv(tt.env))
		if err == nil {
			t.Errorf("Load(%v) = nil error", tt.env)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Load(%v) error %q does not mention %q", tt.env, err, w)
			}
		}
	}
}

func TestLoadMaxItemAmount(t *testing.T) {
	for _, tt := range []struct {
		value, want string // want "" means Load refuses the value
	}{
		{"", "10000000.00"},
		{"  ", "10000000.00"},
		{"250000", "250000"},
		{"250000.50", "250000.5"},
		{" 99.999 ", "99.999"}, // any number of decimals: the limit is compared, never used as an amount
		{"0.01", "0.01"},
		{"999999999999999.99", "999999999999999.99"},
		{"0", ""},
		{"0.00", ""},
		{"-1", ""},
		{"+100", ""},
		{"ten", ""},
		{"1e6", ""},
		{"1,000.00", ""},
		{"1000,00", ""},
		{"1 000", ""},
		{".5", ""},
		{"5.", ""},
		{"NaN", ""},
		{"10000000.00 TRY", ""},
		{strings.Repeat("9", 40), ""},
	} {
		c, err := Load(getenv(map[string]string{"MAX_ITEM_AMOUNT": tt.value}))
		if tt.want == "" {
			if err == nil {
				t.Errorf("MAX_ITEM_AMOUNT=%q: accepted as %s, want an error", tt.value, c.MaxItemAmount)
			} else if msg := err.Error(); !strings.Contains(msg, "MAX_ITEM_AMOUNT") || !strings.Contains(msg, "greater than 0") || !strings.Contains(msg, "10000000.00") {
				t.Errorf("MAX_ITEM_AMOUNT=%q: error %q does not name the variable and the allowed values", tt.value, msg)
			}
			continue
		}
		if err != nil {
			t.Errorf("MAX_ITEM_AMOUNT=%q: %v", tt.value, err)
			continue
		}
		if want := decimal.RequireFromString(tt.want); !c.MaxItemAmount.Equal(want) {
			t.Errorf("MAX_ITEM_AMOUNT=%q: MaxItemAmount = %s, want %s", tt.value, c.MaxItemAmount, want)
		}
	}
}

func TestLoadRedisAllowVolatile(t *testing.T) {
	for value, want := range map[string]bool{"": false, "false": false, "0": false, "true": true, "TRUE": true, "1": true} {
		c, err := Load(getenv(map[string]string{"REDIS_ALLOW_VOLATILE": value}))
		if err != nil {
			t.Errorf("REDIS_ALLOW_VOLATILE=%q: %v", value, err)
			continue
		}
		if c.RedisAllowVolatile != want {
			t.Errorf("REDIS_ALLOW_VOLATILE=%q: RedisAllowVolatile = %v, want %v", value, c.RedisAllowVolatile, want)
		}
	}
}

func TestLoadReportsEveryBadVariable(t *testing.T) {
	_, err := Load(getenv(map[string]string{"CHUNK_SIZE": "-1", "APPROVAL": "x"}))
	if err == nil || !strings.Contains(err.Error(), "CHUNK_SIZE") || !strings.Contains(err.Error(), "APPROVAL") {
		t.Errorf("error = %v, want both CHUNK_SIZE and APPROVAL", err)
	}
}

func TestErrorsNeverShowSecrets(t *testing.T) {
	_, err := Load(getenv(map[string]string{"REDIS_URL": "localhost:6379?password=SENTINELPW", "API_TOKENS": "a:read"}))
	if err == nil || strings.Contains(err.Error(), "SENTINELPW") {
		t.Errorf("error = %v", err)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	const sentinel = "SKSENTINEL-123"
	s := Secret(sentinel)
	c := &Config{IyzicoSecretKey: s, CallbackSecret: s, APITokens: []Token{{Name: "n", Role: "read", Token: s}}}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%10s"} {
		outs = append(outs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, c), fmt.Sprintf(verb, *c))
	}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(js), s.String())
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	log.Info().Stringer("s", s).Interface("cfg", c).Object("o", s).Str("str", s.String()).Msg("x")
	outs = append(outs, buf.String())
	for _, o := range outs {
		if strings.Contains(o, sentinel) {
			t.Fatalf("secret printed: %s", o)
		}
	}
	if !strings.Contains(string(js), `"***"`) {
		t.Errorf("JSON %s does not show the mask", js)
	}
	if s.Reveal() != sentinel {
		t.Errorf("Reveal = %q", s.Reveal())
	}
}

func TestNewLoggerFormats(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, "json", zerolog.InfoLevel)
	log.Debug().Msg("hidden")
	log.Info().Str("batch", "b1").Msg("shown")
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil || m["batch"] != "b1" || m["time"] == nil {
		t.Fatalf("json log %q: %v", buf.String(), err)
	}
	buf.Reset()
	log = NewLogger(&buf, "console", zerolog.DebugLevel)
	log.Debug().Str("batch", "b1").Msg("hello")
	if out := buf.String(); !strings.Contains(out, "hello") || !strings.Contains(out, "batch=b1") || strings.HasPrefix(out, "{") {
		t.Errorf("console log = %q", out)
	}
}

func TestVariablesListsEveryVariable(t *testing.T) {
	got := strings.Join(Variables(), " ")
	for _, want := range []string{"REDIS_URL", "IYZICO_BASE_URL", "IYZICO_RATE_LIMIT", "CHUNK_SIZE", "API_TOKENS", "LEDGER_TTL", "SCHEDULE_FILE", "LOG_FORMAT", "METRICS_ADDR", "MAX_ITEM_AMOUNT", "REDIS_ALLOW_VOLATILE"} {
		if !strings.Contains(got, want) {
			t.Errorf("Variables() misses %s: %s", want, got)
		}
	}
}

// TestLoadCallbackPolicy: CALLBACK_ALLOWED_HOSTS is empty by default (callbacks off), its entries
// are trimmed and lower-cased, and an entry that is not a host, an address or a *.domain pattern
// stops start-up with a message that names the variable and what to write instead.
func TestLoadCallbackPolicy(t *testing.T) {
	c, err := Load(getenv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.CallbackAllowedHosts) != 0 || c.CallbackAllowPrivate || c.CallbackAllowHTTP {
		t.Errorf("defaults: hosts %q, private %v, http %v; want none, false, false", c.CallbackAllowedHosts, c.CallbackAllowPrivate, c.CallbackAllowHTTP)
	}
	c, err = Load(getenv(map[string]string{
		"CALLBACK_ALLOWED_HOSTS": " HR.Example.com, *.hooks.example.net,,10.0.0.5, 2001:db8::1, münchen.de ",
		"CALLBACK_ALLOW_PRIVATE": "true",
		"CALLBACK_ALLOW_HTTP":    "1",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"hr.example.com", "*.hooks.example.net", "10.0.0.5", "2001:db8::1", "münchen.de"}
	if got := strings.Join(c.CallbackAllowedHosts, ","); got != strings.Join(want, ",") {
		t.Errorf("CallbackAllowedHosts = %q, want %q", c.CallbackAllowedHosts, want)
	}
	if !c.CallbackAllowPrivate || !c.CallbackAllowHTTP {
		t.Errorf("private %v, http %v; want true, true", c.CallbackAllowPrivate, c.CallbackAllowHTTP)
	}
	for _, bad := range []string{"https://hr.example.com", "hr.example.com/hook", "hr.example.com:8443", "*", "a.*.example.com",
		"*example.com", "user@hr.example.com", "[::1]", "*.10.0.0.5", "hr..example.com", "hr_example.com", "hr example.com"} {
		_, err := Load(getenv(map[string]string{"CALLBACK_ALLOWED_HOSTS": "ok.example.com," + bad}))
		if err == nil || !strings.Contains(err.Error(), "CALLBACK_ALLOWED_HOSTS") || !strings.Contains(err.Error(), "*.domain") {
			t.Errorf("CALLBACK_ALLOWED_HOSTS=%q: %v; want an error naming the variable and the allowed values", bad, err)
		}
	}
	for _, name := range []string{"CALLBACK_ALLOW_PRIVATE", "CALLBACK_ALLOW_HTTP"} {
		if _, err := Load(getenv(map[string]string{name: "yes"})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=yes: %v; want an error naming it", name, err)
		}
	}
	got := strings.Join(Variables(), " ")
	for _, name := range []string{"CALLBACK_ALLOWED_HOSTS", "CALLBACK_ALLOW_PRIVATE", "CALLBACK_ALLOW_HTTP"} {
		if !strings.Contains(got, name) {
			t.Errorf("Variables() misses %s", name)
		}
	}
}

func TestMetricsAddrOff(t *testing.T) {
	for v, want := range map[string]string{"": "127.0.0.1:9090", "off": "", "OFF": "", "0.0.0.0:9191": "0.0.0.0:9191"} {
		c, err := Load(func(k string) string {
			if k == "METRICS_ADDR" {
				return v
			}
			return ""
		})
		if err != nil || c.MetricsAddr != want {
			t.Errorf("METRICS_ADDR=%q: %q, %v; want %q", v, c.MetricsAddr, err, want)
		}
	}
}
