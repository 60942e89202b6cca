package backoff_test

// Hostile servers and odd bases: a body that never ends, a timeout that
// surfaces on the wrong request, a response without a Body, an upgraded
// connection, and the timeout a caller sees through http.Client.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/strategy"
)

// A response with a nil Body, which http.Client tolerates: the Transport
// treats it as http.NoBody wherever it touches it.
func TestHostileNilBody(t *testing.T) {
	nilBody := func(status int) *http.Response {
		return &http.Response{StatusCode: status, Header: http.Header{}}
	}
	tests := []struct {
		name    string
		timeout time.Duration
		base    func(n int) (*http.Response, error)
	}{
		{"retried then returned", 0, func(n int) (*http.Response, error) {
			if n == 1 {
				return nilBody(503), nil
			}
			return nilBody(200), nil
		}},
		{"returned under AttemptTimeout", time.Second, func(int) (*http.Response, error) {
			return nilBody(200), nil
		}},
		{"retried under AttemptTimeout", time.Second, func(n int) (*http.Response, error) {
			if n == 1 {
				return nilBody(503), nil
			}
			return nilBody(200), nil
		}},
		{"with an error", 0, func(n int) (*http.Response, error) {
			if n == 1 {
				return nilBody(200), errors.New("broken base")
			}
			return nilBody(200), nil
		}},
		{"with an error under AttemptTimeout", time.Second, func(n int) (*http.Response, error) {
			if n == 1 {
				return nilBody(200), errors.New("broken base")
			}
			return nilBody(200), nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := 0
				tr := newTransport(rtFunc(func(*http.Request) (*http.Response, error) {
					n++
					return tt.base(n)
				}))
				tr.AttemptTimeout = tt.timeout
				// A base that returns both breaks the contract; the
				// error is retried here so that the next attempt shows
				// the call went on.
				tr.Classify = func(a backoff.Attempt) bool {
					return a.Err != nil || backoff.DefaultClassify(a)
				}
				noPanic(t, "RoundTrip", func() {
					resp, err := get(t, tr, "GET", "")
					if err != nil || resp == nil || resp.StatusCode != 200 {
						t.Fatalf("RoundTrip = %v, %v; want 200", resp, err)
					}
					if resp.Body == nil {
						t.Fatalf("returned response has a nil Body")
					}
					if b, err := io.ReadAll(resp.Body); len(b) != 0 || err != nil {
						t.Errorf("body = %q, %v; want empty", b, err)
					}
					if err := resp.Body.Close(); err != nil {
						t.Errorf("Body.Close() = %v", err)
					}
				})
			})
		})
	}
}

// attemptTimeoutCause returns the cause with which a Transport cancels the
// context of an attempt cut off by AttemptTimeout, as a base sees it.
func attemptTimeoutCause(t *testing.T) error {
	t.Helper()
	var cause error
	tr := newTransport(rtFunc(func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		cause = context.Cause(r.Context())
		return nil, cause
	}))
	tr.AttemptTimeout = time.Second
	tr.MaxAttempts = 1
	if _, err := get(t, tr, "GET", ""); err == nil {
		t.Fatal("RoundTrip of an attempt that times out succeeded")
	}
	if cause == nil || !strings.Contains(cause.Error(), "attempt timed out") {
		t.Fatalf("cause of a timed-out attempt = %v", cause)
	}
	return cause
}

// hasTimeout reports whether anything in err's chain has a Timeout method
// that reports true.
func hasTimeout(err error) bool {
	if err == nil {
		return false
	}
	if te, ok := err.(interface{ Timeout() bool }); ok && te.Timeout() {
		return true
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return hasTimeout(u.Unwrap())
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if hasTimeout(e) {
				return true
			}
		}
	}
	return false
}

// One attempt's timeout can surface on another request: net/http may fail
// a request with the cancel cause of another one that shared its
// connection. It is transient wherever it surfaces, and an attempt whose
// own timer did not fire does not report itself as timed out.
func TestHostileForeignAttemptTimeout(t *testing.T) {
	var sentinel error
	synctest.Test(t, func(t *testing.T) { sentinel = attemptTimeoutCause(t) })
	surfaced := []struct {
		name string
		err  error
	}{
		{"bare", sentinel},
		{"url.Error", &url.Error{Op: "Get", URL: "http://api.example.com/", Err: sentinel}},
		{"wrapped", fmt.Errorf("net/http: request canceled: %w", sentinel)},
	}
	for _, s := range surfaced {
		for _, timeout := range []time.Duration{0, time.Hour} {
			name := fmt.Sprintf("%s/AttemptTimeout=%v", s.name, timeout)
			t.Run(name+"/then 200", func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					base := &fakeBase{steps: []step{{err: s.err}, {status: 200, body: "ok"}}}
					tr := newTransport(base)
					tr.AttemptTimeout = timeout
					var rec traceRecorder
					rec.attach(tr)
					resp, err := get(t, tr, "GET", "")
					if err != nil || resp.StatusCode != 200 {
						t.Fatalf("RoundTrip = %v, %v; want the retry's 200", resp, err)
					}
					resp.Body.Close()
					if len(rec.all) != 2 {
						t.Fatalf("events %s; want a backoff, then success", rec.String())
					}
					e := rec.all[0].Err
					if hasTimeout(e) {
						t.Errorf("attempt error %q reports a timeout; its own timer did not fire", e)
					}
					if strings.HasPrefix(e.Error(), "backoff: attempt timed out") {
						t.Errorf("attempt error %q says the attempt timed out", e)
					}
				})
			})
			t.Run(name+"/always", func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					base := &fakeBase{steps: []step{{err: s.err}}}
					tr := newTransport(base)
					tr.AttemptTimeout = timeout
					_, err := get(t, tr, "GET", "")
					var be *backoff.Error
					if !errors.As(err, &be) || be.Reason != backoff.ErrMaxAttempts {
						t.Fatalf("RoundTrip error = %v (%T), want an *Error with reason %s", err, err, backoff.ErrMaxAttempts)
					}
					if hasTimeout(be) {
						t.Errorf("error %q reports a timeout; no attempt of this call timed out", be)
					}
				})
			})
		}
	}
}

// Through http.Client, url.Error.Timeout reports whether the call ended on
// a timeout, as it does without the Transport.
func TestHostileClientTimeout(t *testing.T) {
	tests := []struct {
		name     string
		deadline time.Duration // of the caller's context; 0 for none
		base     http.RoundTripper
		want     bool
	}{
		{"last attempt timed out", 0, rtFunc(func(r *http.Request) (*http.Response, error) {
			<-r.Context().Done() // until the attempt timeout
			return nil, context.Cause(r.Context())
		}), true},
		{"net.Error timeout", 0, rtFunc(func(*http.Request) (*http.Response, error) {
			return nil, &url.Error{Op: "Get", URL: "http://api.example.com/", Err: timeoutErr{}}
		}), true},
		{"next wait past the deadline", 1500 * time.Millisecond, rtFunc(func(*http.Request) (*http.Response, error) {
			return nil, syscall.ECONNRESET
		}), true},
		{"connection reset", 0, rtFunc(func(*http.Request) (*http.Response, error) {
			return nil, syscall.ECONNRESET
		}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tr := newTransport(tt.base)
				tr.AttemptTimeout = time.Second
				tr.MaxAttempts = 3
				client := &http.Client{Transport: tr}
				req := newRequest(t, timeoutContext(t, tt.deadline), "GET", "http://api.example.com/", "")
				resp, err := client.Do(req)
				if err == nil {
					resp.Body.Close()
					t.Fatalf("Do succeeded")
				}
				var ue *url.Error
				if !errors.As(err, &ue) {
					t.Fatalf("Do error = %v (%T), want a *url.Error", err, err)
				}
				if got := ue.Timeout(); got != tt.want {
					t.Errorf("url.Error.Timeout() = %v, want %v; error: %v", got, tt.want, err)
				}
				var be *backoff.Error
				if !errors.As(err, &be) {
					t.Fatalf("Do error = %v, want an *Error inside", err)
				}
				te, ok := error(be).(interface{ Timeout() bool })
				if !ok {
					t.Fatalf("*Error has no Timeout method")
				}
				if got := te.Timeout(); got != tt.want {
					t.Errorf("(*Error).Timeout() = %v, want %v", got, tt.want)
				}
			})
		})
	}
}

// A 101 Switching Protocols response through a Transport with an
// AttemptTimeout keeps its body an io.ReadWriteCloser: the upgraded
// connection stays usable.
func TestHostileUpgradeKeepsWriter(t *testing.T) {
	handlerDone := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(handlerDone)
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "upgrade required", http.StatusUpgradeRequired)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		brw.Flush()
		io.Copy(conn, brw) // echo until the client closes
	}))
	defer srv.Close()
	tr := &backoff.Transport{AttemptTimeout: 5 * time.Second}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	req, err := http.NewRequest("GET", srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		resp.Body.Close()
		select {
		case <-handlerDone:
		case <-time.After(10 * time.Second):
			t.Errorf("the server's side of the upgraded connection is still open after Close")
		}
	}()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status = %d, want 101", resp.StatusCode)
	}
	rw, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		t.Fatalf("the body of a 101 response is a %T, not an io.ReadWriteCloser", resp.Body)
	}
	if _, err := io.WriteString(rw, "hello"); err != nil {
		t.Fatalf("Write on the upgraded connection: %v", err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(rw, buf); err != nil || string(buf) != "hello" {
		t.Errorf("echo = %q, %v; want hello", buf, err)
	}
}

// trickleBody is a response body that never ends: one byte every 50ms
// until it is closed. A Read pending when it is closed returns at once.
type trickleBody struct {
	start    time.Time
	closed   chan struct{}
	once     sync.Once
	reads    atomic.Int32
	closedAt time.Duration // since start; written once, by Close
}

func newTrickleBody() *trickleBody {
	return &trickleBody{start: time.Now(), closed: make(chan struct{})}
}

func (b *trickleBody) Read(p []byte) (int, error) {
	b.reads.Add(1)
	select {
	case <-b.closed:
		return 0, errors.New("read on a closed body")
	case <-time.After(50 * time.Millisecond):
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = 'x'
	return 1, nil
}

func (b *trickleBody) Close() error {
	b.once.Do(func() {
		b.closedAt = time.Since(b.start)
		close(b.closed)
	})
	return nil
}

func (b *trickleBody) isClosed() bool {
	select {
	case <-b.closed:
		return true
	default:
		return false
	}
}

// drainTimeout is backoff.DrainTimeout.
const drainTimeout = 100 * time.Millisecond

// Draining a discarded response is bounded in time as well as in bytes,
// and the time spent draining counts toward the wait that follows.
func TestHostileDrainBoundedInTime(t *testing.T) {
	tests := []struct {
		name           string
		wait           time.Duration // 0 for 1s
		maxTime        time.Duration
		attemptTimeout time.Duration
		deadline       time.Duration // of the caller's context; 0 for none
		contentLength  int64
		wantClosed     time.Duration // when the first body is closed
		wantEnd        time.Duration // when RoundTrip returns
		atDeadline     bool          // the call may end with ErrDeadline
	}{
		// Wait 1s; the second attempt's 503 ends the call (MaxAttempts 2).
		{name: "DrainTimeout", contentLength: -1, wantClosed: drainTimeout, wantEnd: time.Second},
		{name: "AttemptTimeout", attemptTimeout: 30 * time.Millisecond, contentLength: -1, wantClosed: 30 * time.Millisecond, wantEnd: time.Second},
		// The wait is clamped to MaxTime, 40ms; so is the drain.
		{name: "MaxTime", maxTime: 40 * time.Millisecond, contentLength: -1, wantClosed: 40 * time.Millisecond, wantEnd: 40 * time.Millisecond},
		// A wait of 20ms fits before the deadline; the drain ends at it,
		// and so does the call (with the deadline, or with an attempt
		// made at the deadline's instant, before its timer fired).
		{name: "deadline", wait: 20 * time.Millisecond, deadline: 50 * time.Millisecond, contentLength: -1, wantClosed: 50 * time.Millisecond, wantEnd: 50 * time.Millisecond, atDeadline: true},
		// A Content-Length over DrainLimit: closed at once, never read.
		{name: "over DrainLimit", contentLength: backoff.DefaultDrainLimit + 1, wantClosed: 0, wantEnd: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var bodies []*trickleBody
				tr := newTransport(rtFunc(func(r *http.Request) (*http.Response, error) {
					b := newTrickleBody()
					bodies = append(bodies, b)
					return &http.Response{StatusCode: 503, Header: http.Header{}, Body: b, ContentLength: tt.contentLength, Request: r}, nil
				}))
				if tt.wait > 0 {
					tr.Wait = strategy.Constant{Interval: tt.wait}
				}
				tr.MaxAttempts = 2
				tr.MaxTime = tt.maxTime
				tr.AttemptTimeout = tt.attemptTimeout
				req := newRequest(t, timeoutContext(t, tt.deadline), "GET", "http://api.example.com/", "")
				start := time.Now()
				resp, err := tr.RoundTrip(req)
				if got := time.Since(start); got != tt.wantEnd {
					t.Errorf("RoundTrip returned after %v, want %v", got, tt.wantEnd)
				}
				wantTries := 2
				var be *backoff.Error
				if tt.atDeadline && errors.As(err, &be) && be.Reason == backoff.ErrDeadline {
					wantTries = 1
				} else if err != nil || resp.StatusCode != 503 {
					t.Fatalf("RoundTrip = %v, %v; want the last 503", resp, err)
				}
				if len(bodies) != wantTries {
					t.Fatalf("%d attempts, want %d", len(bodies), wantTries)
				}
				first := bodies[0]
				if !first.isClosed() {
					t.Fatalf("the discarded body was not closed")
				}
				if first.closedAt != tt.wantClosed {
					t.Errorf("the discarded body was closed after %v, want %v", first.closedAt, tt.wantClosed)
				}
				if tt.contentLength > backoff.DefaultDrainLimit && first.reads.Load() != 0 {
					t.Errorf("a body over DrainLimit was read %d times before it was closed", first.reads.Load())
				}
				if resp != nil {
					if bodies[1].isClosed() {
						t.Errorf("the returned body was closed")
					}
					resp.Body.Close()
				}
			})
		})
	}
}

// A hostile server holds a discarded response open: a Content-Length it
// never honours, or a body trickling in. The call still ends within
// MaxTime plus one attempt.
func TestHostileDrainRealServer(t *testing.T) {
	const (
		maxTime        = 500 * time.Millisecond
		attemptTimeout = 200 * time.Millisecond
		bound          = 2 * time.Second // maxTime + attemptTimeout, and a generous margin
	)
	tests := []struct {
		name  string
		reply func(c net.Conn)
	}{
		{"Content-Length never honoured", func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100000\r\n\r\nbusy!")
			waitClosed(c)
		}},
		{"trickling body", func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 1000\r\n\r\n")
			for range 1000 {
				if _, err := io.WriteString(c, "x"); err != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}},
		{"trickling chunks", func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n")
			for range 1000 {
				if _, err := io.WriteString(c, "1\r\nx\r\n"); err != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRawServer(t, http1(func(_ int, _ *http.Request, c net.Conn) bool {
				tt.reply(c)
				return false
			}))
			tr, tb := faultTransport(t, nil)
			tr.Wait = strategy.Constant{Interval: 100 * time.Millisecond}
			tr.MaxAttempts = backoff.Unlimited
			tr.MaxTime = maxTime
			tr.AttemptTimeout = attemptTimeout
			tr.Budget = backoff.DisabledBudget()
			// Without the bound, the call would last until this deadline.
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			start := time.Now()
			resp, err := tr.RoundTrip(newRequest(t, ctx, "GET", srv.URL(), ""))
			elapsed := time.Since(start)
			if err != nil || resp.StatusCode != 503 {
				t.Fatalf("RoundTrip = %v, %v after %v; want the last 503", resp, err, elapsed)
			}
			tb.checkBodies(t, resp)
			resp.Body.Close()
			if elapsed > bound {
				t.Errorf("RoundTrip took %v; MaxTime %v plus one attempt (%v) is bounded by %v", elapsed, maxTime, attemptTimeout, bound)
			}
			t.Logf("%d attempts in %v", tb.attempts.Load(), elapsed)
			if n := tb.attempts.Load(); n < 2 {
				t.Errorf("%d attempts in %v, want at least 2", n, elapsed)
			}
			tb.allClosed(t)
		})
	}
}
