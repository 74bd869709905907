package httpapi

import (
	"net/http"
	"os"
	"sync"
	"time"
)

// Retry-After of a 503 BUSY: how long to wait when every upload slot is taken, and when the
// upload directory's disk is short of space.
const (
	busyRetryAfter = 10 * time.Second
	diskRetryAfter = time.Minute
)

// uploadSlots bounds the uploads POST /v1/batches spools and submits at once, and checks before
// each one starts that its file system keeps minFree bytes free beyond every upload in progress,
// each counted at its Content-Length (at the upload limit when the length is not declared).
type uploadSlots struct {
	slots    chan struct{}
	dir      string
	minFree  int64
	free     func(dir string) (int64, bool) // freeDisk; tests replace it
	mu       sync.Mutex
	reserved int64 // bytes promised to the uploads in progress
}

func newUploadSlots(n int, dir string, minFree int64) *uploadSlots {
	if dir == "" {
		dir = os.TempDir()
	}
	return &uploadSlots{slots: make(chan struct{}, n), dir: dir, minFree: minFree, free: freeDisk}
}

// acquire takes a slot for an upload of at most size bytes, or returns a 503 BUSY *apiError with
// its Retry-After. release gives the slot and the space back.
func (s *uploadSlots) acquire(size int64) (release func(), err error) {
	select {
	case s.slots <- struct{}{}:
	default:
		return nil, busyf(busyRetryAfter, "%d uploads are being received already (MAX_CONCURRENT_UPLOADS); send this one again in %s", cap(s.slots), busyRetryAfter)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if free, ok := s.free(s.dir); ok && free-s.reserved-size < s.minFree {
		<-s.slots
		return nil, busyf(diskRetryAfter, "the server is short of disk space for uploads (%d MiB free, %d MiB in use by uploads in progress, this one may take %d MiB, %d MiB must stay free); send it again later, and tell the operator to free space in %s", free>>20, s.reserved>>20, size>>20, s.minFree>>20, s.dir)
	}
	s.reserved += size
	return func() {
		s.mu.Lock()
		s.reserved -= size
		s.mu.Unlock()
		<-s.slots
	}, nil
}

// busyf returns a 503 BUSY *apiError that asks the client to come back after retryAfter.
func busyf(retryAfter time.Duration, format string, args ...any) *apiError {
	e := errorf(http.StatusServiceUnavailable, "BUSY", format, args...)
	e.RetryAfter = retryAfter
	return e
}
