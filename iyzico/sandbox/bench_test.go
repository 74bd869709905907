package sandbox

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/masspayout/masspayout/iyzico"
)

// benchBodies prepares n init bodies of 500 items each.
func benchBodies(b *testing.B, n int) [][]byte {
	b.Helper()
	bodies := make([][]byte, n)
	for i := range bodies {
		items := make([]iyzico.Item, 500)
		for j := range items {
			items[j] = ibanItem(fmt.Sprintf("b%06d-%03d", i, j), "1234.56")
		}
		bodies[i] = bodyOf(b, initReq(fmt.Sprintf("bench-%06d", i), items...))
	}
	return bodies
}

// BenchmarkInit500HTTP posts 500-item inits over loopback HTTP from parallel clients, as the
// end-to-end benchmark does; it reports items/s.
func BenchmarkInit500HTTP(b *testing.B) {
	s := New(Options{})
	hs := httptest.NewServer(s)
	defer hs.Close()
	bodies := benchBodies(b, 64)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var seq atomic.Int64
	b.SetParallelism(8) // ×GOMAXPROCS goroutines
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			// Fresh externalIds so that every request commits.
			body := bytes.Replace(bodies[n%int64(len(bodies))], []byte(`"bench-`), fmt.Appendf(nil, `"%09d-`, n), 1)
			req, _ := http.NewRequest(http.MethodPost, hs.URL+iyzico.PathInit, bytes.NewReader(body))
			req.Header.Set("Authorization", iyzico.Authorization(DefaultAPIKey, DefaultSecretKey, "rk", iyzico.PathInit, body))
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "items/s")
}
