package redistest

import (
	"context"
	"testing"
)

func TestStartSetGetAndRestartWithAOF(t *testing.T) {
	s := Start(t, WithAOF())
	ctx := context.Background()
	c := s.Client()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if !s.Real() {
		t.Skip("miniredis fallback: restart not possible")
	}
	s.Restart()
	got, err := c.Get(ctx, "k").Result()
	if err != nil || got != "v" {
		t.Fatalf("after restart Get = %q, %v; want v", got, err)
	}
}

func TestServersAreIsolated(t *testing.T) {
	a, b := Start(t), Start(t)
	ctx := context.Background()
	if a.URL == b.URL {
		t.Fatalf("same URL %s", a.URL)
	}
	a.Client().Set(ctx, "only-a", "1", 0)
	if n := b.Client().Exists(ctx, "only-a").Val(); n != 0 {
		t.Errorf("key leaked across servers")
	}
}
