package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"github.com/masspayout/masspayout/payoutfile"
)

// Bounds of the uploads the dashboard keeps between validation and submission.
const (
	// stagedMax is how many validated uploads are kept at once.
	stagedMax = 16
	// stagedTTL is how long a validated upload waits for its Submit.
	stagedTTL = 30 * time.Minute
)

// stagedUpload is a dashboard upload that was validated and waits for its Submit: the spooled
// file, who uploaded it, and what validation found.
type stagedUpload struct {
	id           string
	owner        string
	up           *upload
	decimalComma bool
	report       *payoutfile.Report
	problems     []payoutfile.RowError // the first maxRowErrors
	problemCount int                   // every problem found
	repeats      []payoutfile.RowError // the first maxRowErrors rows other batches pay (batch.PreviewRepeats)
	repeatCount  int
	at           time.Time
	busy         bool // being submitted
	timer        *time.Timer
}

// stagedUploads keeps the dashboard's validated uploads on disk (in SubmitOptions.TempDir)
// under random IDs, so that Submit submits exactly the bytes that were validated, without the
// user sending them again. At most stagedMax uploads and maxBytes bytes are kept: a new one
// pushes out the oldest that is not being submitted; each is removed stagedTTL after its upload.
// They live in this process: behind a load balancer, the Submit must reach the serve process
// that validated (the page says to upload again otherwise).
type stagedUploads struct {
	mu       sync.Mutex
	m        map[string]*stagedUpload
	maxBytes int64
	ttl      time.Duration
}

func newStagedUploads(maxBytes int64) *stagedUploads {
	return &stagedUploads{m: map[string]*stagedUpload{}, maxBytes: maxBytes, ttl: stagedTTL}
}

// put keeps su under a new random ID and returns the ID, pushing out the oldest uploads that do
// not fit the bounds.
func (s *stagedUploads) put(su *stagedUpload) string {
	var b [16]byte
	rand.Read(b[:])
	su.id = hex.EncodeToString(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.m) > 0 && (len(s.m) >= stagedMax || s.bytes()+su.up.size > s.maxBytes) {
		if !s.dropOldest() {
			break
		}
	}
	s.m[su.id] = su
	id := su.id
	su.timer = time.AfterFunc(s.ttl, func() { s.expire(id) })
	return id
}

// bytes is what the kept uploads take. The caller holds mu.
func (s *stagedUploads) bytes() int64 {
	var n int64
	for _, su := range s.m {
		n += su.up.size
	}
	return n
}

// dropOldest removes the oldest upload that is not being submitted; false when there is none.
// The caller holds mu.
func (s *stagedUploads) dropOldest() bool {
	var old *stagedUpload
	for _, su := range s.m {
		if !su.busy && (old == nil || su.at.Before(old.at)) {
			old = su
		}
	}
	if old == nil {
		return false
	}
	s.removeLocked(old)
	return true
}

func (s *stagedUploads) removeLocked(su *stagedUpload) {
	delete(s.m, su.id)
	su.timer.Stop()
	su.up.close()
}

// expire removes an upload whose time is up, unless it is being submitted (then its submission
// removes it).
func (s *stagedUploads) expire(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if su := s.m[id]; su != nil && !su.busy {
		s.removeLocked(su)
	}
}

// errStagedGone: the upload is not kept (any more) for this user.
var errStagedGone = errorf(http.StatusNotFound, "UPLOAD_GONE",
	"this upload is no longer kept (uploads wait 30 minutes for their Submit, and only on the server that validated them): upload the file again")

// get returns owner's upload id.
func (s *stagedUploads) get(id, owner string) (*stagedUpload, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	su := s.m[id]
	if su == nil || su.owner != owner {
		return nil, errStagedGone
	}
	return su, nil
}

// claim marks owner's upload id as being submitted; a second claim is refused until done.
func (s *stagedUploads) claim(id, owner string) (*stagedUpload, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	su := s.m[id]
	if su == nil || su.owner != owner {
		return nil, errStagedGone
	}
	if su.busy {
		return nil, errorf(http.StatusConflict, "UPLOAD_BUSY", "this upload is being submitted already; look for its batch in the list")
	}
	su.busy = true
	return su, nil
}

// done ends a claim: a submitted upload is removed, one that failed is kept (until its time is up)
// for another try.
func (s *stagedUploads) done(su *stagedUpload, submitted bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	su.busy = false
	if submitted || time.Since(su.at) > s.ttl {
		s.removeLocked(su)
	}
}
