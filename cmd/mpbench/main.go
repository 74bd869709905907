// Command mpbench is masspayout's end-to-end benchmark (DESIGN.md §10), run by `make bench`. It
// generates a payroll file, starts a private redis-server (a fresh one per measurement) and the
// sandbox as separate processes on loopback, and measures, in the same run:
//
//   - submit: batch.Submit of the file (read, validate, store chunks, enqueue) into Redis, against
//     raw asynq enqueueing of the same chunk bodies (target: at least half the rate);
//   - end to end: `masspayout run` of the file with APPROVAL=manual (every chunk initialized at the
//     sandbox, report written), against a direct loop posting the same prepared bodies to a fresh
//     sandbox at the same concurrency (target: at least half the rate).
//
// Usage: go run ./cmd/mpbench [-rows 1000000] [-chunk 500] [-concurrency 16]
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/batch"
	"github.com/masspayout/masspayout/internal/payrollgen"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/payoutfile"
	"github.com/masspayout/masspayout/tasks"
	"github.com/redis/go-redis/v9"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mpbench:", err)
		os.Exit(1)
	}
}

const (
	apiKey    = "sandbox-masspayout-key"
	secretKey = "sandbox-masspayout-secret"
)

func run() error {
	rows := flag.Int("rows", 1_000_000, "rows in the generated payroll file")
	chunk := flag.Int("chunk", 500, "CHUNK_SIZE")
	conc := flag.Int("concurrency", 16, "WORKER_CONCURRENCY, and the baseline loop's concurrency")
	skipE2E := flag.Bool("skip-e2e", false, "measure submit only")
	flag.Parse()
	ctx := context.Background()

	dir, err := os.MkdirTemp("", "mpbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "masspayout")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/masspayout").CombinedOutput(); err != nil {
		return fmt.Errorf("build masspayout: %v\n%s", err, out)
	}
	file := filepath.Join(dir, "payroll.csv")
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	tot, err := payrollgen.WriteCSV(f, payrollgen.Options{Rows: *rows, Seed: 1})
	f.Close()
	if err != nil {
		return err
	}
	st, _ := os.Stat(file)
	fmt.Printf("file: %d rows (%d valid), %.1f MB; chunk size %d; concurrency %d; %d cores\n\n", tot.Rows, tot.Valid, float64(st.Size())/1e6, *chunk, *conc, numCPU())

	// Each measurement starts from an empty redis-server of its own.
	var subRate, rawRate float64
	var bodies [][]byte
	err = withRedis(dir, func(_ string, rdb redis.UniversalClient) error {
		subRate, bodies, err = benchSubmit(ctx, rdb, file, *chunk, tot.Rows)
		return err
	})
	if err != nil {
		return err
	}
	err = withRedis(dir, func(_ string, rdb redis.UniversalClient) error {
		rawRate, err = benchRawEnqueue(ctx, rdb, bodies, tot.Rows)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Printf("submit       %9.0f rows/s   raw asynq enqueue of the same %d bodies %9.0f rows/s   ratio %.2f (target ≥ 0.50)\n", subRate, len(bodies), rawRate, subRate/rawRate)
	if *skipE2E {
		return nil
	}

	// End to end vs a direct loop posting the same bodies.
	var runRate float64
	var rss int64
	err = withRedis(dir, func(redisURL string, _ redis.UniversalClient) error {
		sbURL, stopSandbox, err := startSandbox(bin, dir)
		if err != nil {
			return err
		}
		defer stopSandbox()
		runRate, rss, err = benchRun(bin, file, dir, redisURL, sbURL, *chunk, *conc, tot.Rows)
		return err
	})
	if err != nil {
		return err
	}
	sbURL, stopSandbox, err := startSandbox(bin, dir)
	if err != nil {
		return err
	}
	loopRate, err := benchLoop(ctx, sbURL, bodies, *conc, tot.Rows)
	stopSandbox()
	if err != nil {
		return err
	}
	fmt.Printf("end to end   %9.0f rows/s   direct loop posting the same bodies      %9.0f rows/s   ratio %.2f (target ≥ 0.50); run peak RSS %d MB\n", runRate, loopRate, runRate/loopRate, rss/1024)
	return nil
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}

// withRedis runs fn against a redis-server of its own (URL and client), stopped afterwards.
func withRedis(dir string, fn func(url string, rdb redis.UniversalClient) error) error {
	url, stop, err := startRedis(dir)
	if err != nil {
		return err
	}
	defer stop()
	opt, err := asynq.ParseRedisURI(url)
	if err != nil {
		return err
	}
	rdb := opt.MakeRedisClient().(redis.UniversalClient)
	defer rdb.Close()
	return fn(url, rdb)
}

func startRedis(dir string) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", dir,
		"--save", "", "--appendonly", "no", "--logfile", filepath.Join(dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start redis-server (install it: apt-get install -y redis-server): %w", err)
	}
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	defer c.Close()
	for i := 0; i < 200 && c.Ping(context.Background()).Err() != nil; i++ {
		time.Sleep(25 * time.Millisecond)
	}
	return url, func() { cmd.Process.Kill(); cmd.Wait() }, nil
}

func benchSubmit(ctx context.Context, rdb redis.UniversalClient, file string, chunk, rows int) (float64, [][]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	store := batch.NewStore(rdb, 0)
	q := asynq.NewClientFromRedisClient(rdb)
	start := time.Now()
	res, err := store.Submit(ctx, batch.SubmitRequest{
		File: f, Source: "bench.csv", BatchID: "bench", Submitter: "mpbench",
		Options: batch.Options{Format: "csv", ChunkSize: chunk, Currencies: payoutfile.DefaultCurrencies()},
	}, q, tasks.Options{MaxRetry: 25})
	if err != nil {
		return 0, nil, err
	}
	d := time.Since(start)
	bodies := make([][]byte, 0, res.Batch.ChunksTotal)
	for seq := 1; seq <= res.Batch.ChunksTotal; seq++ {
		c, err := store.GetChunk(ctx, "bench", seq)
		if err != nil {
			return 0, nil, err
		}
		bodies = append(bodies, c.Body)
	}
	return float64(rows) / d.Seconds(), bodies, nil
}

func benchRawEnqueue(ctx context.Context, rdb redis.UniversalClient, bodies [][]byte, rows int) (float64, error) {
	q := asynq.NewClientFromRedisClient(rdb)
	start := time.Now()
	for i, b := range bodies {
		if _, err := q.EnqueueContext(ctx, asynq.NewTask("raw", b, asynq.TaskID("raw-"+strconv.Itoa(i)), asynq.MaxRetry(25))); err != nil {
			return 0, err
		}
	}
	return float64(rows) / time.Since(start).Seconds(), nil
}

// startSandbox runs `masspayout sandbox` as its own process and returns its URL.
func startSandbox(bin, dir string) (string, func(), error) {
	cmd := exec.Command(bin, "sandbox", "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "LOG_LEVEL=error")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "http://"); i >= 0 {
			go func() {
				for sc.Scan() {
				}
			}()
			return strings.Fields(line[i:])[0], stop, nil
		}
	}
	stop()
	return "", nil, errors.New("sandbox did not print its address")
}

func benchRun(bin, file, dir, redisURL, sbURL string, chunk, conc, rows int) (float64, int64, error) {
	cmd := exec.Command(bin, "run", "--batch-id", "e2e", "--report", filepath.Join(dir, "e2e.csv"), file)
	cmd.Env = append(os.Environ(), "REDIS_URL="+redisURL, "IYZICO_BASE_URL="+sbURL,
		"IYZICO_API_KEY="+apiKey, "IYZICO_SECRET_KEY="+secretKey, "IYZICO_RATE_LIMIT=0",
		"CHUNK_SIZE="+strconv.Itoa(chunk), "WORKER_CONCURRENCY="+strconv.Itoa(conc),
		"APPROVAL=manual", "LOG_LEVEL=error", "RESULTS_DIR="+dir,
		"REDIS_ALLOW_VOLATILE=true") // a throwaway Redis per measurement: persistence would only measure the disk
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	// The peak RSS is read from /proc while the process runs: the rusage of a child started from
	// this (large) process also counts the memory the child shared with it before exec.
	var rss int64
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			d := time.Since(start)
			if err != nil {
				return 0, 0, fmt.Errorf("masspayout run: %v\n%s", err, out.String())
			}
			return float64(rows) / d.Seconds(), rss, nil
		case <-tick.C:
			rss = max(rss, peakRSS(cmd.Process.Pid))
		}
	}
}

// peakRSS returns a process's peak resident set size (VmHWM) in KiB, or 0 when it cannot be read.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// benchLoop posts every body once with the iyzico client at the given concurrency.
func benchLoop(ctx context.Context, sbURL string, bodies [][]byte, conc, rows int) (float64, error) {
	c, err := iyzico.NewClient(iyzico.Options{BaseURL: sbURL, APIKey: apiKey, SecretKey: secretKey, Timeout: time.Minute})
	if err != nil {
		return 0, err
	}
	next := make(chan []byte)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range next {
				if _, err := c.InitRaw(ctx, b); err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, b := range bodies {
		next <- b
	}
	close(next)
	wg.Wait()
	return float64(rows) / time.Since(start).Seconds(), firstErr
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
