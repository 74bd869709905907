package payoutfile

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// writeBenchCSV writes a realistic payroll of n rows (all four recipient types, Turkish names,
// unique item external IDs when withIDs) to a file in dir and returns its path.
func writeBenchCSV(tb testing.TB, dir string, n int, withIDs bool) string {
	tb.Helper()
	path := filepath.Join(dir, fmt.Sprintf("payroll-%d.csv", n))
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(7, 11))
	names := []string{"Ayşe Yılmaz", "Mehmet Öztürk", "Şükrü Çağlar", "İsmail Işık", "Gülşen Ünal", "Ali Veli"}
	fmt.Fprintln(w, "item_external_id,recipient_type,recipient_info,recipient_name,amount,currency,description")
	for i := 0; i < n; i++ {
		id := ""
		if withIDs {
			id = fmt.Sprintf("EMP-2025-01-%07d", i)
		}
		var typ, info string
		switch i % 4 {
		case 0, 1:
			typ, info = "IBAN", randomIBANOf(r, "TR")
		case 2:
			typ, info = "IDENTITY_NUMBER", randomTCKN(r)
		default:
			typ, info = "PHONE", fmt.Sprintf("+905%09d", r.IntN(1e9))
		}
		fmt.Fprintf(w, "%s,%s,%s,%s,%d.%02d,TRY,Ocak 2025 maaş ödemesi\n", id, typ, info, names[i%len(names)], 1000+r.IntN(90000), r.IntN(100))
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// randomIBANOf returns a valid IBAN of country cc (digits only).
func randomIBANOf(r *rand.Rand, cc string) string {
	b := make([]byte, ibanLength(cc)-4)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	if cc == "TR" {
		b[5] = '0'
	}
	return withCheckDigits(cc, string(b))
}

// readWithPayoutfile reads and validates the whole file, returning the rows and valid rows.
func readWithPayoutfile(tb testing.TB, path string) (rows, valid int) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	// The limit is on, as masspayout always sets it (MAX_ITEM_AMOUNT).
	r, err := NewReader(f, Options{Format: FormatCSV, MaxAmount: decimal.New(10_000_000, 0)})
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return rows, valid
		}
		if err != nil {
			tb.Fatal(err)
		}
		rows++
		if rec.Valid() {
			valid++
		}
	}
}

// readPlain is the baseline: encoding/csv and decimal.NewFromString on the amount, nothing else.
func readPlain(tb testing.TB, path string) (rows int) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.ReuseRecord = true
	if _, err := cr.Read(); err != nil {
		tb.Fatal(err)
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows
		}
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := decimal.NewFromString(rec[4]); err != nil {
			tb.Fatal(err)
		}
		rows++
	}
}

func heapAllocs() (objects, bytes uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}, {Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

const benchRows = 100_000

// BenchmarkCSV reads and validates a generated 100,000-row payroll with payoutfile and, in the
// same iteration, reads it with the plain encoding/csv + decimal.NewFromString loop. It reports
// rows per second of both and their ratio (payoutfile/plain; the target is at least 0.6), the same
// in process CPU time, and allocations and bytes per row of both.
func BenchmarkCSV(b *testing.B) {
	path := writeBenchCSV(b, b.TempDir(), benchRows, true)
	if rows, valid := readWithPayoutfile(b, path); rows != benchRows || valid != benchRows {
		b.Fatalf("generated file: %d rows, %d valid", rows, valid)
	}
	var ours, plain, oursCPU, plainCPU time.Duration
	var oursObj, plainObj, oursBytes, plainBytes uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o0, y0 := heapAllocs()
		c0, t0 := cpuTime(), time.Now()
		readWithPayoutfile(b, path)
		c1, t1 := cpuTime(), time.Now()
		o1, y1 := heapAllocs()
		readPlain(b, path)
		c2, t2 := cpuTime(), time.Now()
		o2, y2 := heapAllocs()
		ours, plain = ours+t1.Sub(t0), plain+t2.Sub(t1)
		oursCPU, plainCPU = oursCPU+c1-c0, plainCPU+c2-c1
		oursObj, plainObj = oursObj+o1-o0, plainObj+o2-o1
		oursBytes, plainBytes = oursBytes+y1-y0, plainBytes+y2-y1
	}
	rows := float64(benchRows * b.N)
	b.ReportMetric(rows/ours.Seconds(), "rows/s")
	b.ReportMetric(rows/plain.Seconds(), "plain-rows/s")
	b.ReportMetric(plain.Seconds()/ours.Seconds(), "ratio")
	if oursCPU > 0 {
		// The same comparison in process CPU time (GC included), steadier on a busy machine.
		b.ReportMetric(rows/oursCPU.Seconds(), "rows/cpu-s")
		b.ReportMetric(rows/plainCPU.Seconds(), "plain-rows/cpu-s")
		b.ReportMetric(plainCPU.Seconds()/oursCPU.Seconds(), "cpu-ratio")
	}
	b.ReportMetric(float64(oursObj)/rows, "allocs/row")
	b.ReportMetric(float64(plainObj)/rows, "plain-allocs/row")
	b.ReportMetric(float64(oursBytes)/rows, "B/row")
	b.ReportMetric(float64(plainBytes)/rows, "plain-B/row")
}

// BenchmarkCSVPayoutfile and BenchmarkCSVPlain measure the two loops separately (ns/op is one
// 100,000-row file), for benchstat.
func BenchmarkCSVPayoutfile(b *testing.B) {
	path := writeBenchCSV(b, b.TempDir(), benchRows, true)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		readWithPayoutfile(b, path)
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkCSVPlain is the baseline loop of BenchmarkCSV on its own.
func BenchmarkCSVPlain(b *testing.B) {
	path := writeBenchCSV(b, b.TempDir(), benchRows, true)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		readPlain(b, path)
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
