// Package deploy holds masspayout's deployment files (Dockerfile, compose.yaml, redis.conf,
// Kubernetes manifests under k8s/, see README.md) and Probe, the HTTP check behind the image's
// healthcheck binary (deploy/healthcheck): the runtime image has no shell, curl or wget, so
// compose healthchecks run that binary. deploy_test.go checks the files against the command
// registry and config.Variables.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// DefaultProbeTimeout bounds one Probe when the caller gives no deadline.
const DefaultProbeTimeout = 5 * time.Second

// Probe sends GET rawURL and succeeds on a 2xx answer. Redirects are not followed (a redirect is
// a failure: a health endpoint answers itself), at most 64 KiB of the body is read, and ctx
// bounds the whole exchange (DefaultProbeTimeout when ctx has no deadline).
func Probe(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("probe: %q is not an http:// or https:// URL", rawURL)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultProbeTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	req.Header.Set("User-Agent", "masspayout-healthcheck")
	client := &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("probe %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("probe %s: HTTP %d", u.Redacted(), resp.StatusCode)
	}
	return nil
}

// ErrProbeUsage is returned by RunProbe for bad arguments.
var ErrProbeUsage = errors.New("usage: healthcheck URL [TIMEOUT]")

// RunProbe is the healthcheck binary: args are URL and an optional timeout (a Go duration,
// default DefaultProbeTimeout).
func RunProbe(ctx context.Context, args []string) error {
	if len(args) < 1 || len(args) > 2 {
		return ErrProbeUsage
	}
	timeout := DefaultProbeTimeout
	if len(args) == 2 {
		d, err := time.ParseDuration(args[1])
		if err != nil || d <= 0 {
			return fmt.Errorf("%w: TIMEOUT %q is not a positive Go duration such as 3s", ErrProbeUsage, args[1])
		}
		timeout = d
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return Probe(ctx, args[0])
}
