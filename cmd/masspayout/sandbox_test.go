package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"github.com/masspayout/masspayout/internal/logbuf"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/masspayout/masspayout/iyzico"
)

// lockedBuffer collects output written by several goroutines.
type lockedBuffer = logbuf.Buffer

// startSandbox runs "masspayout sandbox args..." and returns its base URL, its stderr and a stop
// function that cancels it and returns run's error.
func startSandbox(t *testing.T, env map[string]string, args ...string) (base string, stderr *lockedBuffer, stop func() error) {
	t.Helper()
	return startListening(t, env, append([]string{"sandbox"}, args...)...)
}

// startListening runs a masspayout command that serves HTTP, waits for its "listening on URL"
// line and returns the URL, its stderr and a stop function that cancels it and returns run's error.
func startListening(t *testing.T, env map[string]string, args ...string) (base string, stderr *lockedBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr = &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"masspayout"}, args...), func(k string) string { return env[k] }, strings.NewReader(""), pw, stderr)
		pw.Close()
		done <- err
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				lines <- u
			}
		}
		close(lines)
	}()
	select {
	case base = <-lines:
	case err := <-done:
		cancel()
		t.Fatalf("%s ended before listening: %v\n%s", args[0], err, tail(stderr.String(), 3000))
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("%s did not print its address", args[0])
	}
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(60 * time.Second):
				t.Errorf("%s did not stop", args[0])
			}
		})
		return runErr
	}
	t.Cleanup(func() { stop() })
	return base, stderr, stop
}

func signedGet(t *testing.T, base, path, apiKey, secret string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+path, nil)
	req.Header.Set("Authorization", iyzico.Authorization(apiKey, secret, "rk", path, nil))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestSandboxCommand(t *testing.T) {
	base, stderr, stop := startSandbox(t, map[string]string{}, "--addr", "127.0.0.1:0", "--balance", "500.25")
	status, body := signedGet(t, base, iyzico.PathBalance, "sandbox-masspayout-key", "sandbox-masspayout-secret")
	var bal iyzico.BalanceResponse
	if err := json.Unmarshal(body, &bal); status != http.StatusOK || err != nil || bal.Balance.String() != "500.25" {
		t.Fatalf("balance %d %s, want 200 with 500.25", status, body)
	}
	status, _ = signedGet(t, base, iyzico.PathBalance, "other", "x")
	if status != http.StatusUnauthorized {
		t.Errorf("unknown key: %d, want 401", status)
	}
	if err := stop(); err != nil {
		t.Fatalf("run returned %v, want nil on cancel", err)
	}
	log := stderr.String()
	for _, want := range []string{`"message":"sandbox listening"`, `"path":"/v1/mass/payout/balance"`, `"message":"sandbox stopped"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
	if strings.Contains(log, "sandbox-masspayout-secret") {
		t.Errorf("log shows the secret key:\n%s", log)
	}
}

func TestSandboxCommandEnvAndFaults(t *testing.T) {
	env := map[string]string{"IYZICO_API_KEY": "k1", "IYZICO_SECRET_KEY": "s1", "LOG_FORMAT": "console"}
	base, stderr, _ := startSandbox(t, env, "--addr", "127.0.0.1:0", "--rate-limit-rate", "1", "--retry-after", "3s", "--fault-endpoints", "balance")
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+iyzico.PathBalance, nil)
	req.Header.Set("Authorization", iyzico.Authorization("k1", "s1", "rk", iyzico.PathBalance, nil))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "3" {
		t.Errorf("balance %d Retry-After %q, want 429 and 3", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if status, _ := signedGet(t, base, iyzico.PathBalance, "sandbox-masspayout-key", "sandbox-masspayout-secret"); status != http.StatusUnauthorized {
		t.Errorf("default key with IYZICO_API_KEY set: %d, want 401", status)
	}
	// Stats need no signature.
	resp, err = http.Get(base + "/sandbox/stats")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/sandbox/stats %d", resp.StatusCode)
	}
	if log := stderr.String(); strings.Contains(log, `{"level"`) || !strings.Contains(log, "sandbox listening") {
		t.Errorf("LOG_FORMAT=console: log is not console format:\n%s", log)
	}
}

func TestSandboxCommandDialect(t *testing.T) {
	base, stderr, _ := startSandbox(t, map[string]string{}, "--addr", "127.0.0.1:0", "--dialect", "foreign")
	status, body := signedGet(t, base, iyzico.PathItemPrefix+"b9a2f39c-0403-4869-a23a-371046c7431f", "sandbox-masspayout-key", "sandbox-masspayout-secret")
	var e iyzico.Response
	if err := json.Unmarshal(body, &e); err != nil || status != http.StatusNotFound || e.Status != iyzico.StatusFailure || e.ErrorCode != "5404" {
		t.Errorf("unknown referenceCode: %d %s, want 404 failure 5404", status, body)
	}
	if log := stderr.String(); !strings.Contains(log, `"dialect":"foreign"`) {
		t.Errorf("log does not name the dialect:\n%s", log)
	}
}

func TestSandboxCommandUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want int
	}{
		{"bad flag", []string{"--nope"}, nil, exitUsage},
		{"bad rate", []string{"--server-error-rate", "2"}, nil, exitUsage},
		{"bad endpoint", []string{"--fault-endpoints", "init,pay"}, nil, exitUsage},
		{"bad balance", []string{"--balance", "lots"}, nil, exitUsage},
		{"bad paging", []string{"--paging", "sideways"}, nil, exitUsage},
		{"bad dialect", []string{"--dialect", "klingon"}, nil, exitUsage},
		{"argument", []string{"extra"}, nil, exitUsage},
		{"bad LOG_FORMAT", []string{"--addr", "127.0.0.1:0"}, map[string]string{"LOG_FORMAT": "xml"}, exitUsage},
		{"bad address", []string{"--addr", "256.0.0.1:1"}, nil, exitFailed},
		{"help", []string{"-h"}, nil, exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(t.Context(), append([]string{"masspayout", "sandbox"}, tt.args...), func(k string) string { return tt.env[k] }, strings.NewReader(""), &out, &errb)
			if got := exitCode(err); got != tt.want || (tt.want != exitOK && err == nil) {
				t.Errorf("exit %d (%v), want %d; stderr:\n%s", got, err, tt.want, errb.String())
			}
		})
	}
}
