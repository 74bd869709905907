package batch

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/masspayout/masspayout/internal/payrollgen"
	"github.com/masspayout/masspayout/tasks"
)

// BenchmarkWriteReport writes the report of a submitted 100,000-row batch.
func BenchmarkWriteReport(b *testing.B) {
	const rows = 100_000
	path := filepath.Join(b.TempDir(), "payroll.csv")
	f, _ := os.Create(path)
	payrollgen.WriteCSV(f, payrollgen.Options{Rows: rows, Seed: 1, InvalidEvery: 50})
	f.Close()
	s, q := newStore(b)
	file, _ := os.Open(path)
	defer file.Close()
	ctx := context.Background()
	if _, err := s.Submit(ctx, SubmitRequest{File: file, BatchID: "bench", Options: Options{Format: "csv", ChunkSize: 500}}, q, tasks.Options{MaxRetry: 25}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.WriteReport(ctx, "bench", io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
