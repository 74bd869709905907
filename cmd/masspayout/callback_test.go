package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// TestSubmitCallbackURLPolicy: --callback-url must pass CALLBACK_ALLOWED_HOSTS (empty by default:
// callbacks off), CALLBACK_ALLOW_HTTP and the URL checks; a refused one exits 2 with a message
// that says which variable to set, before anything is submitted.
func TestSubmitCallbackURLPolicy(t *testing.T) {
	path, _ := writePayroll(t, 5, 0, 41)
	tests := []struct {
		name string
		env  map[string]string
		url  string
		says string
	}{
		{"callbacks off by default", nil, "https://hr.example.com/hook", "CALLBACK_ALLOWED_HOSTS is empty"},
		{"host not allowed", map[string]string{"CALLBACK_ALLOWED_HOSTS": "hr.example.com"}, "https://127.0.0.1:6379/", "not in CALLBACK_ALLOWED_HOSTS"},
		{"pattern does not cover the domain", map[string]string{"CALLBACK_ALLOWED_HOSTS": "*.example.com"}, "https://example.com/hook", "not in CALLBACK_ALLOWED_HOSTS"},
		{"https required", map[string]string{"CALLBACK_ALLOWED_HOSTS": "hr.example.com"}, "http://hr.example.com/hook", "CALLBACK_ALLOW_HTTP=true"},
		{"userinfo refused", map[string]string{"CALLBACK_ALLOWED_HOSTS": "hr.example.com"}, "https://hr:s3cret@hr.example.com/hook", "user name or password"},
		{"not absolute", map[string]string{"CALLBACK_ALLOWED_HOSTS": "hr.example.com"}, "hr.example.com/hook", "absolute https:// URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &cli{t: t, env: map[string]string{"RESULTS_DIR": t.TempDir()}}
			for k, v := range tt.env {
				c.env[k] = v
			}
			out, errs, code := c.run(context.Background(), "run", "--callback-url", tt.url, path)
			if code != exitUsage || !strings.Contains(errs, "--callback-url") || !strings.Contains(errs, tt.says) {
				t.Errorf("exit %d, stderr %s; want exit %d saying %q", code, tail(errs, 2000), exitUsage, tt.says)
			}
			if strings.Contains(errs, "s3cret") || strings.Contains(out, "s3cret") {
				t.Errorf("the password is shown: %s", errs)
			}
			if strings.Contains(errs, "batch submitted") {
				t.Errorf("something was submitted: %s", tail(errs, 2000))
			}
		})
	}
}

// TestRunCallbackToLocalReceiver: with the receiver's host allowed, CALLBACK_ALLOW_PRIVATE and
// CALLBACK_ALLOW_HTTP, the local receiver gets the final callback; without
// CALLBACK_ALLOW_PRIVATE the same run finishes but the receiver gets nothing.
func TestRunCallbackToLocalReceiver(t *testing.T) {
	var hits atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Masspayout-Signature") != "" {
			hits.Add(1)
		}
	}))
	t.Cleanup(recv.Close)
	u, _ := url.Parse(recv.URL)
	hook := "http://localhost:" + u.Port() + "/hook"
	for _, private := range []string{"true", "false"} {
		path, _ := writePayroll(t, 20, 0, 42)
		c := &cli{t: t, env: map[string]string{
			"RESULTS_DIR": t.TempDir(), "APPROVAL": "auto", "POLL_INTERVAL": "20ms", "CALLBACK_SECRET": "whsec-test",
			"CALLBACK_ALLOWED_HOSTS": "localhost", "CALLBACK_ALLOW_HTTP": "true", "CALLBACK_ALLOW_PRIVATE": private,
		}}
		before := hits.Load()
		_, errs, code := c.run(context.Background(), "run", "--wait-final", "--callback-url", hook, path)
		if code != exitOK {
			t.Fatalf("CALLBACK_ALLOW_PRIVATE=%s: exit %d\n%s", private, code, tail(errs, 3000))
		}
		got := hits.Load() - before
		switch {
		case private == "true" && got != 1:
			t.Errorf("CALLBACK_ALLOW_PRIVATE=true: the receiver got %d signed callbacks, want 1\n%s", got, tail(errs, 3000))
		case private == "false" && got != 0:
			t.Errorf("CALLBACK_ALLOW_PRIVATE=false: the receiver got %d callbacks, want 0", got)
		case private == "false" && !strings.Contains(errs, "loopback"):
			t.Errorf("CALLBACK_ALLOW_PRIVATE=false: the log does not say the loopback address was refused:\n%s", tail(errs, 3000))
		}
	}
}
