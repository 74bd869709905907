package httpapi

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingListener counts the bytes the server reads from its connections.
type countingListener struct {
	net.Listener
	read *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{Conn: c, read: l.read}, nil
}

type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c countingConn) CloseWrite() error { return c.Conn.(*net.TCPConn).CloseWrite() }

// limited serves h with NewServer(h, o) on a loopback port until the test ends and returns its
// address, the server and a counter of the bytes it read.
func limited(t *testing.T, h http.Handler, o ServerOptions) (addr string, srv *Server, read *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	read = &atomic.Int64{}
	srv = NewServer(h, o)
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(countingListener{Listener: l, read: read})
	}()
	t.Cleanup(func() { srv.Close(); <-done })
	return l.Addr().String(), srv, read
}

// rawPost sends a request head on a new connection, then body in the background (a server that
// does not read it must not block the test), and reads the answer.
func rawPost(t *testing.T, addr, head string, body io.Reader) (*http.Response, net.Conn, time.Duration) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	start := time.Now()
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	if body != nil {
		go io.Copy(c, body)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer after %s: %v", time.Since(start), err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, readerConn{Conn: c, r: br}, time.Since(start)
}

type readerConn struct {
	net.Conn
	r *bufio.Reader
}

func (c readerConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// closedWithin reports whether the server closes c (EOF or reset) within d.
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// endless is an io.Reader of unlimited 'x' bytes.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// TestRefusedBodiesAreNotRead: a POST refused from its headers (no token, a token without the
// role, a declared length over the limit, no upload slot, too little disk) is answered at once
// with "Connection: close", and the server reads none of its body — whether the client stalls
// after 3 bytes of a declared 200 kB or keeps writing 10 MB.
func TestRefusedBodiesAreNotRead(t *testing.T) {
	r := setup(t, withDeps(func(d *Deps) {
		d.Submit.MaxUploadBytes = 1 << 20
		d.Submit.MaxConcurrentUploads = 1
	}))
	addr, _, read := limited(t, NewHandler(r.deps), ServerOptions{})
	noDisk := r.deps
	noDisk.Submit.MinFreeDisk = 1 << 60
	noDiskAddr, _, noDiskRead := limited(t, NewHandler(noDisk), ServerOptions{})

	head := func(length int64, token string) string {
		h := fmt.Sprintf("POST /v1/batches HTTP/1.1\r\nHost: masspayout\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n", length)
		if token != "" {
			h += "Authorization: Bearer " + tokenOf(token) + "\r\n"
		}
		return h + "\r\n"
	}
	// An authenticated upload that stalls holds the only upload slot.
	holder, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	io.WriteString(holder, head(1000, "submitter")+"row,")
	time.Sleep(100 * time.Millisecond)

	for _, c := range []struct {
		name   string
		addr   string
		read   *atomic.Int64
		head   string
		body   io.Reader
		status int
		code   string
	}{
		{"no token, stalled after 3 bytes of 200 kB", addr, read, head(200000, ""), strings.NewReader("abc"), 401, "UNAUTHORIZED"},
		{"no token, 10 MB sent", addr, read, head(10<<20, ""), io.LimitReader(endless{}, 10<<20), 401, "UNAUTHORIZED"},
		{"read token, 10 MB sent", addr, read, head(10<<20, "reader"), io.LimitReader(endless{}, 10<<20), 403, "FORBIDDEN"},
		{"declared over MAX_UPLOAD_BYTES", addr, read, head(10<<20, "submitter"), io.LimitReader(endless{}, 10<<20), 413, "TOO_LARGE"},
		{"every upload slot taken", addr, read, head(200000, "submitter"), strings.NewReader("abc"), 503, "BUSY"},
		{"too little disk", noDiskAddr, noDiskRead, head(200000, "submitter"), strings.NewReader("abc"), 503, "BUSY"},
	} {
		before := c.read.Load()
		resp, conn, elapsed := rawPost(t, c.addr, c.head, c.body)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != c.status || !strings.Contains(string(body), `"code": "`+c.code+`"`) || elapsed > time.Second {
			t.Errorf("%s: %d in %s, want %d %s within 1s\n%s", c.name, resp.StatusCode, elapsed, c.status, c.code, body)
		}
		if !resp.Close {
			t.Errorf("%s: no Connection: close (%v)", c.name, resp.Header)
		}
		if c.status == 503 && resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", c.name)
		}
		if !closedWithin(conn, time.Second) {
			t.Errorf("%s: the server kept the connection open", c.name)
		}
		// The server reads the head and its bufio.Reader's first 4 KiB, nothing more.
		if n := c.read.Load() - before; n > int64(len(c.head))+8<<10 {
			t.Errorf("%s: the server read %d bytes of a %d-byte head", c.name, n, len(c.head))
		}
	}
}

// TestUploadRate: an authenticated upload that stalls is cut off with 408 TOO_SLOW once a window
// passes without the minimum rate; one that is slow but above the rate is accepted, and its
// connection kept alive.
func TestUploadRate(t *testing.T) {
	r := setup(t)
	addr, _, _ := limited(t, NewHandler(r.deps), ServerOptions{MinBodyRate: 8 << 10, BodyWindow: 300 * time.Millisecond})
	file, _ := payroll(t, 1000, 0, 41)
	head := fmt.Sprintf("POST /v1/batches?batch_id=%%s HTTP/1.1\r\nHost: masspayout\r\nContent-Type: text/csv\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n", tokenOf("submitter"), len(file))

	resp, conn, elapsed := rawPost(t, addr, fmt.Sprintf(head, "stalled"), bytes.NewReader(file[:1000]))
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), "TOO_SLOW") || elapsed > 2*time.Second || !resp.Close {
		t.Errorf("stalled upload: %d in %s (close %v), want 408 TOO_SLOW within 2s\n%s", resp.StatusCode, elapsed, resp.Close, body)
	}
	if !closedWithin(conn, time.Second) {
		t.Error("stalled upload: the connection stays open")
	}

	// 4 KiB every 100 ms is 40 KiB/s, five times the minimum: slow, but honest.
	pr, pw := io.Pipe()
	go func() {
		for rest := file; len(rest) > 0; {
			n := min(4<<10, len(rest))
			pw.Write(rest[:n])
			rest = rest[n:]
			time.Sleep(100 * time.Millisecond)
		}
		pw.Close()
	}()
	resp, conn, elapsed = rawPost(t, addr, fmt.Sprintf(head, "slow-but-steady"), pr)
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted || resp.Close {
		t.Fatalf("slow upload above the rate: %d after %s (close %v)\n%s", resp.StatusCode, elapsed, resp.Close, body)
	}
	t.Logf("a %d-byte upload at 40 KiB/s took %s", len(file), elapsed)
	// The connection serves the next request.
	fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: masspayout\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err != nil || resp.StatusCode != 200 {
		t.Errorf("the kept-alive connection: %v", err)
	}
}

// TestConnectionCap: at the cap a new connection closes the oldest connection not in a request,
// so /healthz answers beside stalled clients; when every connection is in a request, a new one
// waits for one to finish.
func TestConnectionCap(t *testing.T) {
	release := make(chan struct{})
	var blocked atomic.Int32
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", handleHealthz())
	mux.HandleFunc("GET /block", func(w http.ResponseWriter, r *http.Request) { blocked.Add(1); <-release })
	addr, srv, _ := limited(t, mux, ServerOptions{MaxConns: 4})
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	get := func(path string, timeout time.Duration) (int, error) {
		c := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Get("http://" + addr + path)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	var stalled []net.Conn
	for range 4 {
		c := dial()
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n") // never finished
		stalled = append(stalled, c)
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	if status, err := get("/healthz", 2*time.Second); status != 200 || time.Since(start) > time.Second {
		t.Errorf("/healthz at the cap: %d %v after %s, want 200 within 1s", status, err, time.Since(start))
	}
	if !closedWithin(stalled[0], time.Second) {
		t.Error("the oldest stalled connection was not closed to make room")
	}
	if closedWithin(stalled[3], 100*time.Millisecond) {
		t.Error("the newest stalled connection was closed")
	}
	if _, evicted := srv.conns.stats(); evicted < 1 {
		t.Errorf("evicted %d connections, want at least 1", evicted)
	}
	for _, c := range stalled {
		c.Close()
	}

	// Four requests in handlers fill the cap: the fifth waits until one is done.
	results := make(chan error, 5)
	for range 4 {
		go func() { _, err := get("/block", 10*time.Second); results <- err }()
	}
	deadline := time.Now().Add(5 * time.Second)
	for blocked.Load() < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests in handlers, want 4", blocked.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	waited := make(chan time.Time, 1)
	go func() { get("/healthz", 10*time.Second); waited <- time.Now() }()
	time.Sleep(300 * time.Millisecond)
	select {
	case <-waited:
		t.Error("a fifth connection was served while four requests held the cap")
	default:
	}
	opened := time.Now()
	close(release)
	select {
	case at := <-waited:
		if at.Before(opened) {
			t.Error("served before a slot was free")
		}
	case <-time.After(5 * time.Second):
		t.Error("the waiting connection was not served when the requests finished")
	}
	for range 4 {
		if err := <-results; err != nil {
			t.Errorf("/block: %v", err)
		}
	}
}

// TestStalledUploadsAttack is issue 11's attack at the handler of serve, under a small cap:
// thousands of unauthenticated uploads that declare a 200 kB body and stall after 3 bytes, and a
// thousand connections that never finish their headers. /healthz and an authenticated upload
// answer within a second; every stalled upload is closed at once and every stalled header by
// ReadHeaderTimeout.
func TestStalledUploadsAttack(t *testing.T) {
	const uploads, headers, maxConns = 1500, 500, 256
	const headerTimeout = 2 * time.Second
	r := setup(t)
	addr, srv, _ := limited(t, NewHandler(r.deps), ServerOptions{MaxConns: maxConns, ReadHeaderTimeout: headerTimeout})
	open := func(req string) net.Conn {
		t.Helper()
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		io.WriteString(c, req)
		return c
	}
	start := time.Now()
	var stalledUploads, stalledHeaders []net.Conn
	for i := range uploads + headers {
		if i%4 == 3 {
			stalledHeaders = append(stalledHeaders, open("POST /v1/batches HTTP/1.1\r\nHost: masspayout\r\nX-Slow: "))
		} else {
			stalledUploads = append(stalledUploads, open("POST /v1/batches HTTP/1.1\r\nHost: masspayout\r\nContent-Type: text/csv\r\nContent-Length: 200000\r\n\r\nabc"))
		}
	}
	opened := time.Now()
	t.Logf("%d stalled uploads and %d stalled headers opened in %s", len(stalledUploads), len(stalledHeaders), opened.Sub(start))

	client := &http.Client{Timeout: 5 * time.Second}
	t0 := time.Now()
	resp, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("/healthz under attack: %v", err)
	}
	resp.Body.Close()
	if d := time.Since(t0); resp.StatusCode != 200 || d > time.Second {
		t.Errorf("/healthz under attack: %d in %s, want 200 within 1s", resp.StatusCode, d)
	}
	file, _ := payroll(t, 5, 0, 43)
	req, _ := http.NewRequest("POST", "http://"+addr+"/v1/batches?batch_id=under-attack", bytes.NewReader(file))
	req.Header.Set("Authorization", "Bearer "+tokenOf("submitter"))
	req.Header.Set("Content-Type", "text/csv")
	t0 = time.Now()
	resp, err = client.Do(req)
	if err != nil {
		t.Fatalf("authenticated upload under attack: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if d := time.Since(t0); resp.StatusCode != 202 || d > time.Second {
		t.Errorf("authenticated upload under attack: %d in %s, want 202 within 1s\n%s", resp.StatusCode, d, body)
	}

	// Stalled uploads are answered (or closed to make room) as their headers arrive; stalled
	// headers are closed to make room or at ReadHeaderTimeout.
	count := func(conns []net.Conn, by time.Time) (open int) {
		for _, c := range conns {
			// A closed connection answers EOF at once; a deadline already passed would not let
			// the read see it.
			c.SetReadDeadline(maxTime(by, time.Now().Add(20*time.Millisecond)))
			_, err := io.Copy(io.Discard, c)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				open++
			}
		}
		return open
	}
	if n := count(stalledUploads, opened.Add(time.Second)); n > 0 {
		t.Errorf("%d of %d stalled uploads still open 1s after the attack", n, len(stalledUploads))
	}
	if n := count(stalledHeaders, opened.Add(headerTimeout+time.Second)); n > 0 {
		t.Errorf("%d of %d stalled headers still open %s after the attack", n, len(stalledHeaders), headerTimeout+time.Second)
	}
	stillOpen, evicted := srv.conns.stats()
	t.Logf("after the attack: %d connections open, %d closed to make room", stillOpen, evicted)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
