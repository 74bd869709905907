package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/internal/callback"
)

// TestSubmitCallbackPolicy: callback_url passes CALLBACK_ALLOWED_HOSTS, CALLBACK_ALLOW_HTTP and
// the URL checks before any byte of the body is read; a refused one answers 400
// CALLBACK_NOT_ALLOWED (or BAD_OPTIONS for a malformed one) that says what to set, and nothing is
// submitted.
func TestSubmitCallbackPolicy(t *testing.T) {
	file, _ := payroll(t, 3, 0, 31)
	tests := []struct {
		name   string
		policy callback.Policy
		url    string
		status int
		code   string
		says   string
	}{
		{"callbacks off by default", callback.Policy{}, "https://hr.example.com/hook", 400, "CALLBACK_NOT_ALLOWED", "CALLBACK_ALLOWED_HOSTS is empty"},
		{"loopback not allowed", callback.Policy{AllowedHosts: []string{"hr.example.com"}}, "https://127.0.0.1:6379/", 400, "CALLBACK_NOT_ALLOWED", "not in CALLBACK_ALLOWED_HOSTS"},
		{"other host", callback.Policy{AllowedHosts: []string{"*.example.com"}}, "https://example.com/hook", 400, "CALLBACK_NOT_ALLOWED", "not in CALLBACK_ALLOWED_HOSTS"},
		{"http refused", callback.Policy{AllowedHosts: []string{"hr.example.com"}}, "http://hr.example.com/hook", 400, "CALLBACK_NOT_ALLOWED", "CALLBACK_ALLOW_HTTP=true"},
		{"userinfo refused", callback.Policy{AllowedHosts: []string{"hr.example.com"}}, "https://hr:s3cret@hr.example.com/hook", 400, "BAD_OPTIONS", "user name or password"},
		{"relative", callback.Policy{AllowedHosts: []string{"hr.example.com"}}, "/hook", 400, "BAD_OPTIONS", "absolute https:// URL"},
		{"allowed", callback.Policy{AllowedHosts: []string{"*.example.com"}}, "https://hr.example.com/hooks/masspayout", 202, "", ""},
		{"http allowed", callback.Policy{AllowedHosts: []string{"hr.example.com"}, AllowHTTP: true}, "http://hr.example.com/hook", 202, "", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := setup(t, withDeps(func(d *Deps) { d.Submit.Callbacks = tt.policy }))
			id := "cbp-" + string(rune('a'+i))
			status, res, body := r.submit("submitter", file, url.Values{"batch_id": {id}, "callback_url": {tt.url}}, nil)
			if status != tt.status {
				t.Fatalf("%d, want %d\n%s", status, tt.status, body)
			}
			if tt.status == http.StatusAccepted {
				if res.Options.CallbackURL != tt.url {
					t.Errorf("callback_url %q, want %q", res.Options.CallbackURL, tt.url)
				}
				return
			}
			if code := errorCode(t, body); code != tt.code || !strings.Contains(string(body), tt.says) {
				t.Errorf("answer %s; want %s saying %q", body, tt.code, tt.says)
			}
			if strings.Contains(string(body), "s3cret") {
				t.Errorf("the answer shows the password: %s", body)
			}
			if _, err := r.store.Get(context.Background(), id); !errors.Is(err, batch.ErrNotFound) {
				t.Errorf("batch %s: %v; want nothing submitted", id, err)
			}
		})
	}
}

// TestCallbackURLShownWithoutUserinfo: a callback URL stored with a user name and password (before
// they were refused at submission) is shown to the read role without them.
func TestCallbackURLShownWithoutUserinfo(t *testing.T) {
	r := setup(t)
	file, _ := payroll(t, 3, 0, 32)
	_, err := r.store.Submit(context.Background(), batch.SubmitRequest{
		File: bytes.NewReader(file), Source: "old.csv", BatchID: "cb-old",
		Options: batch.Options{Format: "csv", ChunkSize: 4, Currencies: []string{"TRY", "USD", "EUR"},
			CallbackURL: "https://hr:SENTINEL-pw@hr.example.com/hook?x=1"},
		Submitter: "tester",
	}, r.queue, r.topts)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/v1/batches/cb-old", "/v1/batches"} {
		status, _, body := r.do(request{method: "GET", path: path, bearer: "reader"})
		if status != http.StatusOK || strings.Contains(string(body), "SENTINEL-pw") || strings.Contains(string(body), "hr:") {
			t.Fatalf("GET %s: %d %s; want the callback URL without its userinfo", path, status, body)
		}
		if !strings.Contains(string(body), "https://hr.example.com/hook?x=1") {
			t.Errorf("GET %s: %s; want the redacted callback URL", path, body)
		}
	}
	res := r.getBatch("cb-old")
	var want = "https://hr.example.com/hook?x=1"
	if res.Options.CallbackURL != want {
		b, _ := json.Marshal(res.Options)
		t.Errorf("options %s; want callback_url %s", b, want)
	}
}
