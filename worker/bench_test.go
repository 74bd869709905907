package worker_test

import (
	"testing"
	"time"

	"github.com/masspayout/masspayout/batch"
)

// BenchmarkPipelineInitPhase submits a 100,000-row file and runs the workers (16) until every
// chunk is initialized at the sandbox and the interim report is written; b.N files.
func BenchmarkPipelineInitPhase(b *testing.B) {
	const rows = 100_000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r := setup(b)
		path, _ := r.payroll(rows, 0, uint64(i))
		r.startWorkers(16)
		b.StartTimer()
		bt := r.mustSubmit(path, "bench", 500)
		r.waitFor(bt.ID, 5*time.Minute, "awaiting approval", func(b *batch.Batch) bool {
			return initPhaseReported(b)
		})
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
