package batch

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/masspayout/masspayout/internal/payrollgen"
	"github.com/masspayout/masspayout/iyzico"
	"github.com/masspayout/masspayout/tasks"
)

// BenchmarkWriteReport writes the report of a submitted 100,000-row batch whose valid rows have
// their init outcomes, as after `masspayout run`.
func BenchmarkWriteReport(b *testing.B) {
	const rows = 100_000
	path := writeBenchPayroll(b, payrollgen.Options{Rows: rows, Seed: 1, InvalidEvery: 50})
	s, q := newStore(b)
	file, _ := os.Open(path)
	defer file.Close()
	ctx := context.Background()
	if _, err := s.Submit(ctx, SubmitRequest{File: file, BatchID: "bench", Submitter: "bench", Options: Options{Format: "csv", ChunkSize: 500}}, q, tasks.Options{MaxRetry: 25}); err != nil {
		b.Fatal(err)
	}
	bt, _ := s.Get(ctx, "bench")
	for seq := 1; seq <= bt.ChunksTotal; seq++ {
		cl, err := s.Claim(ctx, "bench", seq, StepInit, time.Minute, []string{ChunkPending}, false)
		if err != nil {
			b.Fatal(err)
		}
		c := cl.Chunk
		outcomes := make([]Outcome, len(c.Rows))
		for i := range outcomes {
			outcomes[i] = Outcome{Status: iyzico.ItemInit}
		}
		if _, err := cl.Commit(ctx, Change{Event: EvInitAccepted, RequestID: "req-" + c.ExternalID(), Outcomes: outcomes}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.WriteReport(ctx, "bench", io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
