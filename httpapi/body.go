package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// rateBody is a request body that must keep arriving: each time need bytes have been read, the
// connection's read deadline moves window ahead, so a body slower than need bytes per window
// fails with *slowBodyError while an honest upload of any size goes on. At the end of the body
// it drops the deadline (the handler may work long after reading) and the "Connection: close"
// that guardRequests set, so the connection is kept alive.
type rateBody struct {
	body   io.ReadCloser
	rc     *http.ResponseController
	header http.Header
	window time.Duration
	need   int64 // bytes per window
	got    int64 // bytes since the deadline last moved
	read   int64 // bytes in all
	done   bool
}

func (b *rateBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	b.got += int64(n)
	b.read += int64(n)
	switch {
	case err == io.EOF:
		if !b.done {
			b.done = true
			b.rc.SetReadDeadline(time.Time{})
			if b.header.Get("Connection") == "close" {
				b.header.Del("Connection")
			}
		}
	case err != nil && errors.Is(err, os.ErrDeadlineExceeded):
		err = &slowBodyError{rate: b.need * int64(time.Second) / int64(b.window), window: b.window, read: b.read}
	case err == nil && b.got >= b.need:
		b.got = 0
		b.rc.SetReadDeadline(time.Now().Add(b.window))
	}
	return n, err
}

func (b *rateBody) Close() error { return b.body.Close() }

// slowBodyError: a request body arrived slower than the minimum rate (UPLOAD_MIN_RATE).
type slowBodyError struct {
	rate   int64 // bytes/s
	window time.Duration
	read   int64
}

func (e *slowBodyError) Error() string {
	return fmt.Sprintf("the request body arrived slower than %d bytes/s over %s (UPLOAD_MIN_RATE) and was cut off after %d bytes; check the connection and send it again", e.rate, e.window, e.read)
}
