package main

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/internal/redistest"
	"github.com/masspayout/masspayout/iyzico/sandbox"
)

// TestHelperWorkerProcess is not a test: TestWorkerKilled runs the test binary with it as a
// separate `masspayout worker` process that it can kill -9.
func TestHelperWorkerProcess(t *testing.T) {
	if os.Getenv("MASSPAYOUT_HELPER_WORKER") != "1" {
		t.Skip("helper process for TestWorkerKilled")
	}
	err := run(context.Background(), []string{"masspayout", "worker"}, os.Getenv, strings.NewReader(""), os.Stdout, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
}

// TestWorkerKilled kills a worker process with SIGKILL while its init calls are in flight, then
// starts another: asynq's recoverer hands the orphaned tasks over once their lease expires (about
// 30s + up to a minute), the new worker reads each chunk back before sending, and the batch ends
// with every chunk initialized exactly once.
func TestWorkerKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 90s: the lease of a killed worker's tasks must expire")
	}
	rs := redistest.Start(t)
	sb := sandbox.New(sandbox.Options{Credentials: map[string]string{"k": "s"},
		Faults: sandbox.Faults{LatencyRate: 1, Latency: 5 * time.Second, Endpoints: []string{sandbox.EndpointInit}}})
	hs := httptest.NewServer(sb)
	t.Cleanup(hs.Close)
	env := map[string]string{"REDIS_URL": rs.URL, "IYZICO_BASE_URL": hs.URL, "IYZICO_API_KEY": "k", "IYZICO_SECRET_KEY": "s",
		"CHUNK_SIZE": "40", "WORKER_CONCURRENCY": "4", "IYZICO_RATE_LIMIT": "0", "IYZICO_TIMEOUT": "3s", "RETRY_BASE_DELAY": "100ms", "JANITOR_INTERVAL": "2s", "RESULTS_DIR": t.TempDir(), "METRICS_ADDR": "127.0.0.1:0"}
	c := &cli{t: t, env: env}
	ctx := context.Background()
	path, tot := writePayroll(t, 200, 0, 21)
	id := strings.TrimSpace(c.must(ctx, "enqueue", path))

	startWorker := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWorkerProcess$", "-test.v")
		cmd.Env = append(os.Environ(), "MASSPAYOUT_HELPER_WORKER=1")
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd
	}
	first := startWorker()
	deadline := time.Now().Add(30 * time.Second)
	for sb.Stats().Requests[sandbox.EndpointInit] < 4 {
		if time.Now().After(deadline) {
			t.Fatal("the first worker sent no init")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	sb.SetFaults(sandbox.Faults{})
	startWorker()

	store := batch.NewStore(rs.Client(), time.Hour)
	deadline = time.Now().Add(3 * time.Minute)
	for {
		b, err := store.Get(ctx, id)
		if err == nil && b.Status == batch.StatusAwaitingApproval {
			if b.Counts["INIT"] != tot.Valid {
				t.Errorf("counts %v, want %d INIT", b.Counts, tot.Valid)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("batch not recovered after the kill: %+v %v", b, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	st := sb.Stats()
	if st.CommittedPayouts != 5 || len(st.ItemsUnderManyExternalIDs) != 0 {
		t.Errorf("committed %d payouts for 5 chunks; items under several externalIds: %v", st.CommittedPayouts, st.ItemsUnderManyExternalIDs)
	}
	for ext, n := range st.InitBodies {
		if n != 1 {
			t.Errorf("%s sent with %d bodies", ext, n)
		}
	}
	// The killed worker's calls died with its connections (the sandbox never handled them), so
	// each payout was initialized by exactly one handled init; none went to a payout iyzico held.
	for ext, n := range st.InitAttempts {
		if n != 1 {
			t.Errorf("%s: %d init calls handled, want 1", ext, n)
		}
	}
	if len(st.InitToExisting) != 0 {
		t.Errorf("inits to payouts iyzico held: %v", st.InitToExisting)
	}
}
