package batch

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/masspayout/masspayout/internal/payrollgen"
	"github.com/masspayout/masspayout/internal/redistest"
	"github.com/masspayout/masspayout/tasks"
)

// writeBenchPayroll writes a generated payroll to a temporary CSV file and returns its path.
func writeBenchPayroll(b *testing.B, o payrollgen.Options) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "payroll.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := payrollgen.WriteCSV(f, o); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkSubmit measures Submit of a 100,000-row file into a real Redis (no workers), against
// raw asynq enqueueing of the same chunk bodies in the same run (DESIGN.md §10: at least half).
func BenchmarkSubmit(b *testing.B) {
	const rows = 100_000
	path := writeBenchPayroll(b, payrollgen.Options{Rows: rows, Seed: 1})
	srv := redistest.Start(b)
	rdb := srv.Client()
	q := asynq.NewClientFromRedisClient(rdb)
	s := NewStore(rdb, time.Hour)
	ctx := context.Background()
	var bodies [][]byte
	var submit, raw time.Duration
	for i := 0; i < b.N; i++ {
		rdb.FlushAll(ctx)
		file, _ := os.Open(path)
		start := time.Now()
		res, err := s.Submit(ctx, SubmitRequest{File: file, BatchID: "bench", Submitter: "bench", Options: Options{Format: "csv", ChunkSize: 500}}, q, tasks.Options{MaxRetry: 25})
		submit += time.Since(start)
		file.Close()
		if err != nil {
			b.Fatal(err)
		}
		if bodies == nil {
			for seq := 1; seq <= res.Batch.ChunksTotal; seq++ {
				c, _ := s.GetChunk(ctx, "bench", seq)
				bodies = append(bodies, c.Body)
			}
		}
		rdb.FlushAll(ctx)
		start = time.Now()
		for j, body := range bodies {
			if _, err := q.Enqueue(asynq.NewTask("raw", body, asynq.TaskID("raw-"+strconv.Itoa(j)))); err != nil {
				b.Fatal(err)
			}
		}
		raw += time.Since(start)
	}
	b.ReportMetric(float64(rows*b.N)/submit.Seconds(), "submit-rows/s")
	b.ReportMetric(float64(rows*b.N)/raw.Seconds(), "raw-enqueue-rows/s")
	b.ReportMetric(raw.Seconds()/submit.Seconds(), "ratio")
}
