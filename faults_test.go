package backoff_test

// Real network faults, on loopback sockets: each test runs a small fault
// server (a raw net.Listener speaking just enough HTTP/1.1 or HTTP/2 to
// misbehave in one way) and checks what the Transport does about it: how
// many attempts reached the server, what the caller gets, that every
// response body the base handed out was closed, and (through TestMain's
// goleak) that nothing is left running.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hashicorp/go-cleanhttp"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

// rawServer is a TCP server on 127.0.0.1 whose connections are handed, one
// goroutine each, to a handler. Closing it (at the test's cleanup) closes
// the listener and every connection, and waits for the handlers.
type rawServer struct {
	ln       net.Listener
	wg       sync.WaitGroup
	accepted atomic.Int32 // connections
	requests atomic.Int32 // requests (HTTP/1) or streams (HTTP/2) seen

	mu     sync.Mutex
	closed bool
	conns  []net.Conn
}

func newRawServer(t *testing.T, handle func(s *rawServer, c net.Conn)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.mu.Lock()
			if s.closed {
				s.mu.Unlock()
				c.Close()
				return
			}
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				handle(s, c)
			}()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *rawServer) close() {
	s.ln.Close()
	s.mu.Lock()
	s.closed = true
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *rawServer) URL() string { return "http://" + s.ln.Addr().String() }

// http1 returns a connection handler that reads HTTP/1.1 requests one
// after the other (bodies included) and lets reply answer request number n
// (0-based, over all connections) by writing to c. The connection ends when
// reply returns false.
func http1(reply func(n int, req *http.Request, c net.Conn) bool) func(*rawServer, net.Conn) {
	return func(s *rawServer, c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			n := int(s.requests.Add(1)) - 1
			if !reply(n, req, c) {
				return
			}
		}
	}
}

// respond writes a complete response with a Content-Length.
func respond(c net.Conn, status int, body string) {
	fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Length: %d\r\nContent-Type: text/plain\r\n\r\n%s",
		status, http.StatusText(status), len(body), body)
}

// reset closes c with an RST rather than a FIN.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// waitClosed blocks until the peer closes c (or the server shuts down),
// reading and discarding whatever arrives: a server that never answers.
func waitClosed(c net.Conn) { io.Copy(io.Discard, c) }

// trackingBase wraps a RoundTripper, counts the attempts that go through
// it and records every response body it hands out, to check that the
// Transport closes all of those it does not return.
type trackingBase struct {
	rt       http.RoundTripper
	attempts atomic.Int32
	bodyLog
}

func (tb *trackingBase) RoundTrip(req *http.Request) (*http.Response, error) {
	n := tb.attempts.Add(1)
	resp, err := tb.rt.RoundTrip(req)
	tb.track(resp, n)
	return resp, err
}

func (tb *trackingBase) CloseIdleConnections() {
	if ci, ok := tb.rt.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// checkBodies fails the test unless every body handed out was closed but
// the one of the response returned to the caller (nil if none), which must
// still be open: the caller's to read and close.
func (tb *trackingBase) checkBodies(t *testing.T, returned *http.Response) {
	t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for i, b := range tb.bodies {
		last := i == len(tb.bodies)-1
		switch {
		case last && returned != nil && b.closed.Load():
			t.Errorf("the body of the returned response was closed before the caller read it")
		case !(last && returned != nil) && !b.closed.Load():
			t.Errorf("body %d of %d, discarded, was not closed", i+1, len(tb.bodies))
		}
	}
	if returned != nil && len(tb.bodies) == 0 {
		t.Errorf("a response was returned that the base never handed out")
	}
}

// allClosed fails the test unless every body handed out was closed.
func (tb *trackingBase) allClosed(t *testing.T) {
	t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for i, b := range tb.bodies {
		if !b.closed.Load() {
			t.Errorf("body %d of %d was not closed", i+1, len(tb.bodies))
		}
	}
}

// faultTransport returns a Transport over base (a pooled HTTP/1.1
// transport when nil) that waits 5ms between attempts, and the tracking
// layer between them. The idle connections are closed at cleanup.
func faultTransport(t *testing.T, base http.RoundTripper) (*backoff.Transport, *trackingBase) {
	if base == nil {
		base = cleanhttp.DefaultPooledTransport()
	}
	tb := &trackingBase{rt: base}
	tr := &backoff.Transport{
		Base: tb,
		Wait: strategy.Constant{Interval: 5 * time.Millisecond}, Jitter: jitter.None,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr, tb
}

// readBody reads and closes resp's body.
func readBody(resp *http.Response) (string, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestFaultResetBeforeResponse(t *testing.T) {
	for _, method := range []string{"GET", "POST"} {
		t.Run(method, func(t *testing.T) {
			srv := newRawServer(t, http1(func(n int, _ *http.Request, c net.Conn) bool {
				if n == 0 {
					reset(c)
					return false
				}
				respond(c, 200, "ok")
				return true
			}))
			tr, tb := faultTransport(t, nil)
			var rec traceRecorder
			rec.attach(tr)
			resp, err := tr.RoundTrip(newRequest(t, context.Background(), method, srv.URL(), "payload"))
			tb.checkBodies(t, resp)
			if method == "GET" {
				// Idempotent: retried on a new connection.
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("RoundTrip = %v, %v; want 200", resp, err)
				}
				if body, err := readBody(resp); body != "ok" || err != nil {
					t.Errorf("body = %q, %v", body, err)
				}
				if srv.requests.Load() != 2 || tb.attempts.Load() != 2 {
					t.Errorf("server saw %d requests, base %d attempts; want 2", srv.requests.Load(), tb.attempts.Load())
				}
				if len(rec.all) != 2 || !errors.Is(rec.all[0].Err, syscall.ECONNRESET) {
					t.Errorf("events %s; want a backoff on ECONNRESET, then success", rec.String())
				}
			} else {
				// A POST without Idempotency-Key may have been processed
				// before the reset: not retried.
				var e *backoff.Error
				if resp != nil || !errors.As(err, &e) || e.Reason != backoff.ErrNotReplayable || !errors.Is(err, syscall.ECONNRESET) {
					t.Fatalf("RoundTrip = %v, %v; want *Error not_replayable around ECONNRESET", resp, err)
				}
				if srv.requests.Load() != 1 || tb.attempts.Load() != 1 {
					t.Errorf("server saw %d requests, base %d attempts; want 1", srv.requests.Load(), tb.attempts.Load())
				}
			}
			tb.allClosed(t)
		})
	}
}

func TestFaultResetMidBody(t *testing.T) {
	proceed := make(chan struct{})
	srv := newRawServer(t, http1(func(n int, _ *http.Request, c net.Conn) bool {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
		io.WriteString(c, strings.Repeat("x", 100))
		<-proceed // the caller has the response and the first 100 bytes
		reset(c)
		return false
	}))
	tr, tb := faultTransport(t, nil)
	tr.AttemptTimeout = time.Second
	resp, err := tr.RoundTrip(newRequest(t, context.Background(), "GET", srv.URL(), ""))
	if err != nil || resp.StatusCode != 200 {
		close(proceed)
		t.Fatalf("RoundTrip = %v, %v; want the 200", resp, err)
	}
	tb.checkBodies(t, resp)
	head := make([]byte, 100)
	if _, err := io.ReadFull(resp.Body, head); err != nil {
		t.Errorf("reading the bytes sent before the reset: %v", err)
	}
	close(proceed)
	rest, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	// What the caller sees: the headers and what arrived before the reset,
	// then a read error. The response was returned, so nothing is retried.
	t.Logf("mid-body reset: read %d more bytes, then %v", len(rest), err)
	if err == nil || !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("body read error = %v; want ECONNRESET", err)
	}
	if srv.requests.Load() != 1 || tb.attempts.Load() != 1 {
		t.Errorf("server saw %d requests, base %d attempts; want 1", srv.requests.Load(), tb.attempts.Load())
	}
	tb.allClosed(t)
}

func TestFaultShortBody(t *testing.T) {
	t.Run("returned", func(t *testing.T) {
		srv := newRawServer(t, http1(func(n int, _ *http.Request, c net.Conn) bool {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
			return false // FIN after 10 of the 100 bytes announced
		}))
		tr, tb := faultTransport(t, nil)
		resp, err := tr.RoundTrip(newRequest(t, context.Background(), "GET", srv.URL(), ""))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("RoundTrip = %v, %v; want the 200", resp, err)
		}
		tb.checkBodies(t, resp)
		body, err := readBody(resp)
		// What the caller sees: the bytes that came, then
		// io.ErrUnexpectedEOF. Not retried: the response was returned.
		if body != "0123456789" || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("body = %q, %v; want the 10 bytes, then io.ErrUnexpectedEOF", body, err)
		}
		if srv.requests.Load() != 1 || tb.attempts.Load() != 1 {
			t.Errorf("server saw %d requests, base %d attempts; want 1", srv.requests.Load(), tb.attempts.Load())
		}
		tb.allClosed(t)
	})
	t.Run("discarded", func(t *testing.T) {
		// A 503 with a short body: draining it fails, which must not stop
		// the retry (on a new connection).
		srv := newRawServer(t, http1(func(n int, _ *http.Request, c net.Conn) bool {
			if n == 0 {
				io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100\r\n\r\nbusy")
				return false
			}
			respond(c, 200, "ok")
			return true
		}))
		tr, tb := faultTransport(t, nil)
		resp, err := tr.RoundTrip(newRequest(t, context.Background(), "GET", srv.URL(), ""))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("RoundTrip = %v, %v; want 200", resp, err)
		}
		tb.checkBodies(t, resp)
		if body, err := readBody(resp); body != "ok" || err != nil {
			t.Errorf("body = %q, %v", body, err)
		}
		if srv.requests.Load() != 2 || srv.accepted.Load() != 2 || tb.attempts.Load() != 2 {
			t.Errorf("server saw %d requests on %d connections, base %d attempts; want 2, 2, 2",
				srv.requests.Load(), srv.accepted.Load(), tb.attempts.Load())
		}
		tb.allClosed(t)
	})
}

// pipeTransport returns a pooled HTTP/1.1 transport whose connections are
// in-memory pipes, each served by handle on srv, for the tests that run in
// a synctest bubble: a slow or silent server is a matter of time, not of
// sockets, and virtual time makes such a test exact whatever the load of
// the machine. wait closes the idle connections and waits for the handlers;
// it must be called before the bubble ends.
func pipeTransport(srv *rawServer, handle func(*rawServer, net.Conn)) (base *http.Transport, wait func()) {
	base = cleanhttp.DefaultPooledTransport()
	return base, pipeDial(base, srv, handle)
}

// pipeDial makes base dial in-memory pipes, each served by handle on srv,
// as pipeTransport does, and returns its wait.
func pipeDial(base *http.Transport, srv *rawServer, handle func(*rawServer, net.Conn)) (wait func()) {
	var wg sync.WaitGroup
	base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		client, server := net.Pipe()
		srv.accepted.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer server.Close()
			handle(srv, server)
		}()
		return client, nil
	}
	return func() {
		base.CloseIdleConnections()
		wg.Wait()
	}
}

func TestFaultNoAnswer(t *testing.T) {
	const timeout = 100 * time.Millisecond
	tests := []struct {
		name  string
		first func(c net.Conn) // the first request's fate
	}{
		// Accepts, reads the request, never answers.
		{"never answers", waitClosed},
		// Answers, but only after three attempt timeouts.
		{"slow headers", func(c net.Conn) {
			c.SetReadDeadline(time.Now().Add(3 * timeout))
			waitClosed(c) // returns early if the client gives up first
			respond(c, 200, "too late")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// In a bubble, over pipes: the times below are exact.
			synctest.Test(t, func(t *testing.T) {
				firstDone := make(chan struct{})
				srv := &rawServer{}
				base, wait := pipeTransport(srv, http1(func(n int, _ *http.Request, c net.Conn) bool {
					if n == 0 {
						defer close(firstDone)
						tt.first(c)
						return false
					}
					respond(c, 200, "ok")
					return true
				}))
				defer wait()
				tr, tb := faultTransport(t, base)
				tr.AttemptTimeout = timeout
				var rec traceRecorder
				rec.attach(tr)
				start := time.Now()
				resp, err := tr.RoundTrip(newRequest(t, context.Background(), "GET", "http://api.example.com/", ""))
				elapsed := time.Since(start)
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("RoundTrip = %v, %v; want 200", resp, err)
				}
				tb.checkBodies(t, resp)
				if body, err := readBody(resp); body != "ok" || err != nil {
					t.Errorf("body = %q, %v", body, err)
				}
				// The attempt timeout, then the 5ms wait.
				if want := timeout + 5*time.Millisecond; elapsed != want {
					t.Errorf("answered after %v; want the attempt timeout and the wait, %v", elapsed, want)
				}
				if srv.requests.Load() != 2 || tb.attempts.Load() != 2 {
					t.Errorf("server saw %d requests, base %d attempts; want 2", srv.requests.Load(), tb.attempts.Load())
				}
				var ne net.Error
				if len(rec.all) != 2 || !errors.As(rec.all[0].Err, &ne) || !ne.Timeout() {
					t.Errorf("events %s; want a backoff on a timeout, then success", rec.String())
				}
				// The timed-out attempt's connection was closed by the
				// client, not left to hang.
				select {
				case <-firstDone:
				case <-time.After(time.Second):
					t.Errorf("the connection of the timed-out attempt is still open")
				}
				tb.allClosed(t)
			})
		})
	}
}

func TestFaultSlowBodyNotCutOff(t *testing.T) {
	// In a bubble, over a pipe: the server's pauses are exact.
	synctest.Test(t, func(t *testing.T) {
		const timeout = 50 * time.Millisecond
		srv := &rawServer{}
		base, wait := pipeTransport(srv, http1(func(n int, _ *http.Request, c net.Conn) bool {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n")
			for i := 0; i < 3; i++ {
				time.Sleep(timeout)
				io.WriteString(c, "0123456789")
			}
			return true
		}))
		defer wait()
		tr, tb := faultTransport(t, base)
		tr.AttemptTimeout = timeout
		start := time.Now()
		resp, err := tr.RoundTrip(newRequest(t, context.Background(), "GET", "http://api.example.com/", ""))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("RoundTrip = %v, %v; want 200", resp, err)
		}
		tb.checkBodies(t, resp)
		body, err := readBody(resp)
		if body != strings.Repeat("0123456789", 3) || err != nil {
			t.Errorf("body = %q, %v; want the whole body: AttemptTimeout must not cut it off", body, err)
		}
		if d := time.Since(start); d != 3*timeout {
			t.Errorf("the body took %v, want %v", d, 3*timeout)
		}
		if srv.requests.Load() != 1 || tb.attempts.Load() != 1 {
			t.Errorf("server saw %d requests, base %d attempts; want 1", srv.requests.Load(), tb.attempts.Load())
		}
		tb.allClosed(t)
	})
}

func TestFaultUntrustedCertificate(t *testing.T) {
	var handled atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handled.Add(1)
	}))
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake error it logs
	srv.StartTLS()
	defer srv.Close()
	tr, tb := faultTransport(t, nil) // trusts the system roots, not the test certificate
	var rec traceRecorder
	rec.attach(tr)
	resp, err := tr.RoundTrip(newRequest(t, context.Background(), "GET", srv.URL, ""))
	if resp != nil {
		resp.Body.Close()
		t.Fatalf("RoundTrip returned a response: %v", resp.Status)
	}
	var certErr *tls.CertificateVerificationError
	if !errors.As(err, &certErr) {
		t.Fatalf("err = %v (%T); want a *tls.CertificateVerificationError", err, err)
	}
	// Not retryable: returned as it is, after one attempt, with no event.
	var e *backoff.Error
	if errors.As(err, &e) || len(rec.events) != 0 {
		t.Errorf("err = %v, events %q; want the TLS error itself and no event", err, rec.events)
	}
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("err = %q; want a message that names the certificate", err)
	}
	if tb.attempts.Load() != 1 || conns.Load() != 1 || handled.Load() != 0 {
		t.Errorf("%d attempts, %d connections, %d requests handled; want 1, 1, 0", tb.attempts.Load(), conns.Load(), handled.Load())
	}
	tb.allClosed(t)
}

func TestFaultKeepAliveClosedByServer(t *testing.T) {
	// After each response the server waits a little and closes the
	// connection, as one does whose keep-alive timeout is short: the next
	// request finds the pooled connection closed, or about to be.
	for _, method := range []string{"GET", "POST"} {
		t.Run(method, func(t *testing.T) {
			srv := newRawServer(t, http1(func(n int, _ *http.Request, c net.Conn) bool {
				respond(c, 200, "ok")
				time.Sleep(5 * time.Millisecond)
				return false
			}))
			// The client's side of each connection, to know when net/http
			// has seen the server's close: a sleep cannot tell on a busy
			// machine, and a POST sent on a connection that the server is
			// closing is not one net/http may send again.
			base := cleanhttp.DefaultPooledTransport()
			var clientClosed atomic.Int32
			dial := base.DialContext
			base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := dial(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return &closeCountingConn{Conn: c, closed: &clientClosed}, nil
			}
			tr, tb := faultTransport(t, base)
			const requests = 5
			for i := 0; i < requests; i++ {
				resp, err := tr.RoundTrip(newRequest(t, context.Background(), method, srv.URL(), "payload"))
				if err != nil {
					t.Fatalf("request %d: %v", i+1, err)
				}
				if body, err := readBody(resp); body != "ok" || err != nil {
					t.Fatalf("request %d: body %q, %v", i+1, body, err)
				}
				// The server closes meanwhile; net/http closes its side
				// (marking the pooled connection broken first) when it
				// reads the FIN.
				for deadline := time.Now().Add(10 * time.Second); clientClosed.Load() < int32(i+1); time.Sleep(time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("request %d: net/http did not close its side of the connection within 10s of the server's close", i+1)
					}
				}
			}
			if srv.requests.Load() != requests || srv.accepted.Load() != requests || tb.attempts.Load() != requests {
				t.Errorf("server saw %d requests on %d connections, base %d attempts; want %d of each",
					srv.requests.Load(), srv.accepted.Load(), tb.attempts.Load(), requests)
			}
			tb.allClosed(t)
		})
	}
}

// closeCountingConn counts, once per connection, the closes of a
// connection.
type closeCountingConn struct {
	net.Conn
	once   sync.Once
	closed *atomic.Int32
}

func (c *closeCountingConn) Close() error {
	c.once.Do(func() { c.closed.Add(1) })
	return c.Conn.Close()
}

func TestFaultKeepAliveClosedUnderTheRequest(t *testing.T) {
	// The race that a keep-alive timeout cannot avoid: the server closes
	// an idle connection just as the client sends the next request on it.
	// The server answers the first request on each connection and closes
	// the connection when a second one arrives on it.
	tests := []struct {
		method   string
		header   string
		ctx      func(context.Context) context.Context
		requests int32 // seen by the server for the second request
		attempts int32 // made by the Transport for the second request
		ok       bool
	}{
		// net/http itself retries an idempotent request on a new
		// connection: the Transport sees one attempt.
		{method: "GET", requests: 2, attempts: 1, ok: true},
		{method: "POST", header: "Idempotency-Key", requests: 2, attempts: 1, ok: true},
		// A POST may have been processed: net/http does not retry it,
		// nor does the Transport.
		{method: "POST", requests: 1, attempts: 1},
		// Unless the caller said that it is idempotent: net/http does not
		// know, returns the EOF, and the Transport retries.
		{method: "POST", ctx: func(ctx context.Context) context.Context { return backoff.WithIdempotent(ctx, true) }, requests: 2, attempts: 2, ok: true},
	}
	for _, tt := range tests {
		name := tt.method + " " + tt.header
		if tt.ctx != nil {
			name += "WithIdempotent"
		}
		t.Run(name, func(t *testing.T) {
			srv := newRawServer(t, func(s *rawServer, c net.Conn) {
				br := bufio.NewReader(c)
				for i := 0; ; i++ {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					s.requests.Add(1)
					if i > 0 {
						return // closed under the request
					}
					respond(c, 200, "ok")
				}
			})
			tr, tb := faultTransport(t, nil)
			ctx := context.Background()
			first := newRequest(t, ctx, "GET", srv.URL(), "")
			resp, err := tr.RoundTrip(first)
			if err != nil {
				t.Fatal(err)
			}
			readBody(resp)
			srv.requests.Store(0)
			tb.attempts.Store(0)
			if tt.ctx != nil {
				ctx = tt.ctx(ctx)
			}
			req := newRequest(t, ctx, tt.method, srv.URL(), "payload")
			if tt.header != "" {
				req.Header.Set(tt.header, "k-1")
			}
			resp, err = tr.RoundTrip(req)
			if tt.ok {
				if err != nil {
					t.Fatalf("RoundTrip: %v", err)
				}
				if body, err := readBody(resp); body != "ok" || err != nil {
					t.Errorf("body %q, %v", body, err)
				}
			} else if resp != nil || err == nil {
				t.Errorf("RoundTrip = %v, %v; want an error", resp, err)
			}
			if srv.requests.Load() != tt.requests || tb.attempts.Load() != tt.attempts {
				t.Errorf("server saw %d requests, base %d attempts; want %d, %d", srv.requests.Load(), tb.attempts.Load(), tt.requests, tt.attempts)
			}
			tb.allClosed(t)
		})
	}
}

// HTTP/2 without TLS ("h2c" with prior knowledge), spoken by hand: just
// enough frames to answer, refuse a stream or go away, with HPACK limited
// to the one indexed field ":status: 200" (static table entry 8).

const (
	h2Data        = 0x0
	h2Headers     = 0x1
	h2RSTStream   = 0x3
	h2Settings    = 0x4
	h2Ping        = 0x6
	h2GoAway      = 0x7
	h2FlagEndStrm = 0x1
	h2FlagAck     = 0x1
	h2FlagEndHdrs = 0x4
	h2NoError     = 0x0
	h2RefusedStrm = 0x7
	h2InternalErr = 0x2
	h2Status200   = 0x88 // HPACK: indexed field 8, ":status: 200"
	h2Preface     = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
)

func writeH2Frame(w io.Writer, typ, flags byte, stream uint32, payload []byte) error {
	var h [9]byte
	h[0], h[1], h[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	h[3], h[4] = typ, flags
	binary.BigEndian.PutUint32(h[5:], stream&0x7fffffff)
	_, err := w.Write(append(h[:], payload...))
	return err
}

// h2Action is what the server does with a new stream.
type h2Action int

const (
	h2Answer     h2Action = iota // 200 "ok"
	h2Refuse                     // RST_STREAM REFUSED_STREAM
	h2GoAwayNone                 // GOAWAY, last stream 0 (this one never processed), then close
	h2GoAwayThis                 // GOAWAY, last stream = this one (maybe processed), then close
	h2Internal                   // RST_STREAM INTERNAL_ERROR (maybe processed)
)

// h2 returns a connection handler that speaks HTTP/2 and lets act decide
// the fate of stream number n (0-based, over all connections). Frames are
// written by a goroutine of their own, so that the handler keeps reading
// even over an unbuffered net.Pipe.
func h2(act func(n int) h2Action) func(*rawServer, net.Conn) {
	return func(s *rawServer, c net.Conn) {
		frames := make(chan []byte, 16)
		written := make(chan struct{})
		go func() {
			defer close(written)
			for f := range frames {
				c.Write(f)
			}
		}()
		defer func() { close(frames); <-written }()
		send := func(typ, flags byte, stream uint32, payload []byte) {
			var b bytes.Buffer
			writeH2Frame(&b, typ, flags, stream, payload)
			frames <- b.Bytes()
		}

		preface := make([]byte, len(h2Preface))
		if _, err := io.ReadFull(c, preface); err != nil || string(preface) != h2Preface {
			return
		}
		send(h2Settings, 0, 0, nil)
		var hdr [9]byte
		for {
			if _, err := io.ReadFull(c, hdr[:]); err != nil {
				return
			}
			length := int(hdr[0])<<16 | int(hdr[1])<<8 | int(hdr[2])
			typ, flags := hdr[3], hdr[4]
			stream := binary.BigEndian.Uint32(hdr[5:]) & 0x7fffffff
			payload := make([]byte, length)
			if _, err := io.ReadFull(c, payload); err != nil {
				return
			}
			switch typ {
			case h2Settings:
				if flags&h2FlagAck == 0 {
					send(h2Settings, h2FlagAck, 0, nil)
				}
			case h2Ping:
				if flags&h2FlagAck == 0 {
					send(h2Ping, h2FlagAck, 0, payload)
				}
			case h2Headers:
				n := int(s.requests.Add(1)) - 1
				switch a := act(n); a {
				case h2Answer:
					send(h2Headers, h2FlagEndHdrs, stream, []byte{h2Status200})
					send(h2Data, h2FlagEndStrm, stream, []byte("ok"))
				case h2Refuse:
					send(h2RSTStream, 0, stream, binary.BigEndian.AppendUint32(nil, h2RefusedStrm))
				case h2Internal:
					send(h2RSTStream, 0, stream, binary.BigEndian.AppendUint32(nil, h2InternalErr))
				case h2GoAwayNone, h2GoAwayThis:
					last := uint32(0)
					if a == h2GoAwayThis {
						last = stream
					}
					p := binary.BigEndian.AppendUint32(nil, last)
					send(h2GoAway, 0, 0, binary.BigEndian.AppendUint32(p, h2NoError))
					return
				}
			}
		}
	}
}

// h2cTransport is a net/http Transport that speaks HTTP/2 without TLS to
// http:// URLs, as gRPC-style internal services often do.
func h2cTransport() *http.Transport {
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	return tr
}

func TestFaultHTTP2(t *testing.T) {
	tests := []struct {
		name      string
		method    string
		noGetBody bool // the request body has no GetBody
		script    []h2Action
		streams   int32 // seen by the server
		attempts  int32 // made by the Transport
		ok        bool
		err       string // in the error, when not ok
	}{
		// A refused stream was not processed: net/http itself sends it
		// again at once, even a POST, if it can rewind the body. The
		// Transport sees one successful attempt.
		{name: "refused GET", method: "GET", script: []h2Action{h2Refuse}, streams: 2, attempts: 1, ok: true},
		{name: "refused POST", method: "POST", script: []h2Action{h2Refuse}, streams: 2, attempts: 1, ok: true},
		// A body without GetBody: net/http cannot rewind it and reports the
		// refusal in an error of its own, without the stream error's type,
		// which the Transport does not retry (a known limitation).
		// Without GetBody too: the Transport gives the first attempt a
		// GetBody over the body it keeps, so net/http can resend it.
		{name: "refused POST without GetBody", method: "POST", noGetBody: true, script: []h2Action{h2Refuse}, streams: 2, attempts: 1, ok: true},
		// GOAWAY whose last stream is below ours: not processed, and
		// net/http retries it on a new connection by itself.
		{name: "GOAWAY before the stream, GET", method: "GET", script: []h2Action{h2GoAwayNone}, streams: 2, attempts: 1, ok: true},
		{name: "GOAWAY before the stream, POST", method: "POST", script: []h2Action{h2GoAwayNone}, streams: 2, attempts: 1, ok: true},
		// GOAWAY that covers our stream, then the connection closes: it
		// may have been processed; net/http returns the GOAWAY error, and
		// the Transport retries an idempotent request only.
		{name: "GOAWAY after the stream, GET", method: "GET", script: []h2Action{h2GoAwayThis}, streams: 2, attempts: 2, ok: true},
		{name: "GOAWAY after the stream, POST", method: "POST", script: []h2Action{h2GoAwayThis}, streams: 1, attempts: 1, err: "not_replayable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRawServer(t, h2(func(n int) h2Action {
				if n < len(tt.script) {
					return tt.script[n]
				}
				return h2Answer
			}))
			tr, tb := faultTransport(t, h2cTransport())
			var rec traceRecorder
			rec.attach(tr)
			body := ""
			if tt.method == "POST" {
				body = "payload"
			}
			req := newRequest(t, context.Background(), tt.method, srv.URL(), body)
			if tt.noGetBody {
				req.GetBody = nil
			}
			resp, err := tr.RoundTrip(req)
			tb.checkBodies(t, resp)
			if resp != nil {
				if resp.ProtoMajor != 2 {
					t.Errorf("protocol %s, want HTTP/2", resp.Proto)
				}
				body, rerr := readBody(resp)
				if body != "ok" || rerr != nil {
					t.Errorf("body %q, %v", body, rerr)
				}
			}
			if (err == nil) != tt.ok || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("RoundTrip = %v, %v; want success %v or an error about %s (events %s)", resp, err, tt.ok, tt.err, rec.String())
			}
			if srv.requests.Load() != tt.streams || tb.attempts.Load() != tt.attempts {
				t.Errorf("server saw %d streams, base %d attempts; want %d, %d", srv.requests.Load(), tb.attempts.Load(), tt.streams, tt.attempts)
			}
			tb.allClosed(t)
		})
	}
}

func TestFaultHTTP2RefusedBeyondNetHTTP(t *testing.T) {
	// net/http retries a refused stream by itself, 8 times in all, over
	// about a minute (1s, 2s, 4s, …); only then does the Transport see the
	// REFUSED_STREAM error. That proves the request was not processed, so
	// the Transport retries it even for a POST without Idempotency-Key.
	// A minute of net/http's own backoff is run in a synctest bubble, over
	// an in-memory connection, with the same hand-made HTTP/2 server.
	synctest.Test(t, func(t *testing.T) {
		const refusals = 8
		srv := &rawServer{}
		serve := h2(func(n int) h2Action {
			if n < refusals {
				return h2Refuse
			}
			return h2Answer
		})
		base := h2cTransport()
		wait := pipeDial(base, srv, serve)
		tr, tb := faultTransport(t, base)
		tr.Wait = strategy.Constant{Interval: time.Second}
		var rec traceRecorder
		rec.attach(tr)
		start := time.Now()
		resp, err := tr.RoundTrip(newRequest(t, context.Background(), "POST", "http://api.example.com/", "payload"))
		if err != nil {
			t.Fatalf("RoundTrip: %v (events %s)", err, rec.String())
		}
		tb.checkBodies(t, resp)
		if body, err := readBody(resp); body != "ok" || err != nil {
			t.Errorf("body %q, %v", body, err)
		}
		if srv.requests.Load() != refusals+1 || tb.attempts.Load() != 2 {
			t.Errorf("server saw %d streams, base %d attempts; want %d, 2", srv.requests.Load(), tb.attempts.Load(), refusals+1)
		}
		if len(rec.all) != 2 || rec.all[0].Err == nil || !strings.Contains(rec.all[0].Err.Error(), "REFUSED_STREAM") {
			t.Errorf("events %s; want a backoff on REFUSED_STREAM, then success", rec.String())
		}
		t.Logf("%v of virtual time", time.Since(start))
		tb.allClosed(t)
		wait()
	})
}
