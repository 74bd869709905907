package main

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/masspayout/masspayout/internal/redistest"
)

// TestVolatileRedisRefused: a command refuses a REDIS_URL without persistence or with an evicting
// maxmemory-policy, saying what is wrong, where the right configuration is and how to override;
// REDIS_ALLOW_VOLATILE=true starts it anyway with a loud warning.
func TestVolatileRedisRefused(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		opts []redistest.Option
		want []string // in the refusal
	}{
		{"no persistence", []redistest.Option{redistest.Volatile()}, []string{"not persistent", "appendonly yes"}},
		{"eviction", []redistest.Option{redistest.WithArgs("--maxmemory-policy", "allkeys-lru")}, []string{"maxmemory-policy is allkeys-lru", "noeviction"}},
		{"both", []redistest.Option{redistest.Volatile(), redistest.WithArgs("--maxmemory-policy", "volatile-lru")}, []string{"not persistent", "maxmemory-policy is volatile-lru"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := redistest.Start(t, tc.opts...)
			if !rs.Real() {
				t.Skip("needs a real redis-server")
			}
			c := &cli{t: t, env: map[string]string{"REDIS_URL": rs.URL}}
			path, _ := writePayroll(t, 3, 0, 5)
			out, errs, code := c.run(ctx, "enqueue", path)
			if code != exitFailed {
				t.Fatalf("enqueue on a volatile Redis: exit %d, want %d\nstdout: %s\nstderr: %s", code, exitFailed, out, errs)
			}
			for _, want := range append(tc.want, "deploy/redis.conf", "REDIS_ALLOW_VOLATILE=true") {
				if !strings.Contains(errs, want) {
					t.Errorf("refusal does not say %q:\n%s", want, errs)
				}
			}
			if n := rs.Client().DBSize(ctx).Val(); n != 0 {
				t.Errorf("the refused enqueue wrote %d keys", n)
			}

			c.env["REDIS_ALLOW_VOLATILE"] = "true"
			out, errs, code = c.run(ctx, "enqueue", path)
			if code != exitOK || !strings.HasPrefix(strings.TrimSpace(out), "mp-") {
				t.Fatalf("enqueue with REDIS_ALLOW_VOLATILE=true: exit %d, stdout %q\nstderr: %s", code, out, errs)
			}
			if !strings.Contains(errs, `"level":"error"`) || !strings.Contains(errs, "REDIS_ALLOW_VOLATILE=true") || !strings.Contains(errs, tc.want[0]) {
				t.Errorf("no loud warning with REDIS_ALLOW_VOLATILE=true:\n%s", errs)
			}
		})
	}
}

// TestVolatileRedisUncheckable: when Redis refuses CONFIG (an ACL user) and persistence cannot be
// told, the command warns loudly and starts: it does not refuse what it cannot see.
func TestVolatileRedisUncheckable(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		opts []redistest.Option
	}{
		{"persistent", nil},
		{"no persistence visible without CONFIG", []redistest.Option{redistest.Volatile()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := redistest.Start(t, tc.opts...)
			if !rs.Real() {
				t.Skip("needs a real redis-server")
			}
			if err := rs.Client().Do(ctx, "ACL", "SETUSER", "app", "on", ">app-pass", "~*", "&*", "+@all", "-config").Err(); err != nil {
				t.Fatal(err)
			}
			u := &url.URL{Scheme: "redis", User: url.UserPassword("app", "app-pass"), Host: rs.Addr, Path: "/0"}
			c := &cli{t: t, env: map[string]string{"REDIS_URL": u.String()}}
			path, _ := writePayroll(t, 3, 0, 6)
			out, errs, code := c.run(ctx, "enqueue", path)
			if code != exitOK || !strings.HasPrefix(strings.TrimSpace(out), "mp-") {
				t.Fatalf("enqueue as an ACL user without CONFIG: exit %d, stdout %q\nstderr: %s", code, out, errs)
			}
			if !strings.Contains(errs, `"level":"error"`) || !strings.Contains(errs, "cannot be checked") || !strings.Contains(errs, "deploy/redis.conf") {
				t.Errorf("no loud warning that Redis cannot be checked:\n%s", errs)
			}
			if strings.Contains(errs, "app-pass") {
				t.Errorf("the Redis password is in the output:\n%s", errs)
			}
		})
	}
}
