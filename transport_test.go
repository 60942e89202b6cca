package backoff_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/jarcoal/httpmock"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

// traceRecorder records the events of a Transport, as recorder does those
// of a Policy.
type traceRecorder struct {
	events []string
	all    []backoff.Event
}

// attach adds the recorder's hooks to tr's Trace, after those it has.
func (r *traceRecorder) attach(tr *backoff.Transport) {
	tr.Trace = backoff.JoinTraces(tr.Trace, &backoff.Trace{
		OnSuccess: func(e backoff.Event) { r.add("success", e) },
		OnBackoff: func(e backoff.Event) { r.add("backoff", e) },
		OnGiveUp:  func(e backoff.Event) { r.add("giveup", e) },
	})
}

func (r *traceRecorder) add(kind string, e backoff.Event) {
	s := fmt.Sprintf("%s tries=%d", kind, e.Attempt)
	if kind == "backoff" {
		s += fmt.Sprintf(" wait=%v", e.Wait)
	}
	if e.Reason != "" {
		s += " reason=" + string(e.Reason)
	}
	r.events = append(r.events, s)
	r.all = append(r.all, e)
}

func (r *traceRecorder) String() string { return strings.Join(r.events, "; ") }

// statusOf is the status of an event's response, or 0 without one.
func statusOf(e backoff.Event) int {
	if e.Response == nil {
		return 0
	}
	return e.Response.StatusCode
}

// step is one scripted outcome of the fake base transport.
type step struct {
	status int
	header http.Header
	body   string
	err    error
}

// fakeBase is a scripted http.RoundTripper. It records what it was sent and
// checks that every response body it hands out is closed.
type fakeBase struct {
	mu     sync.Mutex
	steps  []step
	sent   []sentRequest
	bodies []*trackedBody
	idle   int // CloseIdleConnections calls
}

type sentRequest struct {
	method string
	url    string
	header http.Header
	body   string
	ctx    context.Context
}

func (f *fakeBase) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := sentRequest{method: req.Method, url: req.URL.String(), header: req.Header.Clone(), ctx: req.Context()}
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		req.Body.Close()
		s.body = string(b)
	}
	f.sent = append(f.sent, s)
	st := f.steps[min(len(f.sent)-1, len(f.steps)-1)]
	if st.err != nil {
		return nil, st.err
	}
	body := &trackedBody{Reader: strings.NewReader(st.body)}
	f.bodies = append(f.bodies, body)
	h := st.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{
		StatusCode: st.status, Status: fmt.Sprintf("%d %s", st.status, http.StatusText(st.status)),
		Header: h, Body: body, Request: req, ContentLength: int64(len(st.body)),
	}, nil
}

func (f *fakeBase) CloseIdleConnections() { f.idle++ }

// checkBodies fails the test unless every body but the returned one was
// drained and closed.
func (f *fakeBase) checkBodies(t *testing.T, returned *http.Response) {
	t.Helper()
	for i, b := range f.bodies {
		if returned != nil && returned.Body == b {
			continue // the caller's to close
		}
		if !b.closed.Load() {
			t.Errorf("body %d was not closed", i)
		}
		if b.Len() != 0 {
			t.Errorf("body %d was closed with %d bytes unread", i, b.Len())
		}
	}
}

type trackedBody struct {
	*strings.Reader
	closed atomic.Bool
}

func (b *trackedBody) Close() error { b.closed.Store(true); return nil }

func newTransport(base http.RoundTripper) *backoff.Transport {
	return &backoff.Transport{
		Base: base,
		Wait: strategy.Constant{Interval: time.Second}, Jitter: jitter.None,
	}
}

func get(t *testing.T, rt http.RoundTripper, method, body string) (*http.Response, error) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://api.example.com/v1/items?token=secret", r)
	if err != nil {
		t.Fatal(err)
	}
	return rt.RoundTrip(req)
}

// attemptsFor sends a GET through a Transport with no waits over a
// fakeBase that plays steps, closes the response's body and returns the
// number of attempts the base saw.
func attemptsFor(t *testing.T, steps ...step) int {
	t.Helper()
	base := &fakeBase{steps: steps}
	tr := newTransport(base)
	tr.Wait = strategy.Immediate
	resp, err := get(t, tr, "GET", "")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return len(base.sent)
}

func TestTransportRetries503Then200(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{steps: []step{{status: 503, body: "busy"}, {status: 503, body: "busy"}, {status: 200, body: "ok"}}}
		tr := newTransport(base)
		var rec traceRecorder
		rec.attach(tr)
		start := time.Now()
		resp, err := get(t, tr, "GET", "")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("RoundTrip = %v, %v; want 200", resp, err)
		}
		if b, _ := io.ReadAll(resp.Body); string(b) != "ok" {
			t.Errorf("body = %q", b)
		}
		resp.Body.Close()
		if len(base.sent) != 3 || time.Since(start) != 2*time.Second {
			t.Errorf("%d attempts in %v; want 3 in 2s", len(base.sent), time.Since(start))
		}
		base.checkBodies(t, resp)
		want := "backoff tries=1 wait=1s; backoff tries=2 wait=1s; success tries=3"
		if rec.String() != want {
			t.Errorf("events = %s\nwant %s", rec.String(), want)
		}
		d := rec.all[0]
		if d.Request == nil || d.Request.Method != "GET" || d.Request.URL.Host != "api.example.com" || statusOf(d) != 503 || d.Err != nil {
			t.Errorf("backoff event = %+v", d)
		}
	})
}

func TestTransportGiveUpReturnsLastResponse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{steps: []step{{status: 503, body: "still busy"}}}
		tr := newTransport(base)
		tr.MaxAttempts = 3
		var rec traceRecorder
		rec.attach(tr)
		resp, err := get(t, tr, "GET", "")
		if err != nil || resp == nil || resp.StatusCode != 503 {
			t.Fatalf("RoundTrip = %v, %v; want the last 503 and no error", resp, err)
		}
		if b, _ := io.ReadAll(resp.Body); string(b) != "still busy" {
			t.Errorf("body = %q, want it unread", b)
		}
		resp.Body.Close()
		base.checkBodies(t, resp)
		if got := rec.events[len(rec.events)-1]; got != "giveup tries=3 reason=max_tries" {
			t.Errorf("last event = %q", got)
		}
		if base.idle != 0 {
			t.Errorf("CloseIdleConnections called %d times on give-up", base.idle)
		}
	})
}

func TestTransportGiveUpOnErrorReturnsError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
		base := &fakeBase{steps: []step{{err: reset}}}
		tr := newTransport(base)
		tr.MaxAttempts = 2
		resp, err := get(t, tr, "GET", "")
		if resp != nil {
			t.Fatalf("RoundTrip returned a response with error %v", err)
		}
		var e *backoff.Error
		if !errors.As(err, &e) || e.Reason != backoff.ErrMaxAttempts || e.Attempts != 2 || !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("err = %#v; want *Error{max_tries, 2} around ECONNRESET", err)
		}
	})
}

func TestTransportIdempotency(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	tests := []struct {
		name     string
		method   string
		header   string
		ctx      func(context.Context) context.Context
		first    step
		attempts int
	}{
		{"GET 503", "GET", "", nil, step{status: 503}, 2},
		{"PUT 503", "PUT", "", nil, step{status: 503}, 2},
		{"DELETE reset", "DELETE", "", nil, step{err: reset}, 2},
		{"POST 503", "POST", "", nil, step{status: 503}, 1},
		{"POST reset", "POST", "", nil, step{err: reset}, 1},
		{"PATCH 503", "PATCH", "", nil, step{status: 503}, 1},
		{"POST connection refused", "POST", "", nil, step{err: refused}, 2},
		{"POST with Idempotency-Key", "POST", "Idempotency-Key", nil, step{status: 503}, 2},
		{"POST with X-Idempotency-Key", "POST", "X-Idempotency-Key", nil, step{status: 503}, 2},
		{"POST allowed by context", "POST", "", func(ctx context.Context) context.Context { return backoff.WithIdempotent(ctx, true) }, step{status: 503}, 2},
		{"GET forbidden by context", "GET", "", func(ctx context.Context) context.Context { return backoff.WithIdempotent(ctx, false) }, step{status: 503}, 1},
		{"GET forbidden by context, refused", "GET", "", func(ctx context.Context) context.Context { return backoff.WithIdempotent(ctx, false) }, step{err: refused}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				base := &fakeBase{steps: []step{tt.first, {status: 200, body: "ok"}}}
				tr := newTransport(base)
				var rec traceRecorder
				rec.attach(tr)
				ctx := context.Background()
				if tt.ctx != nil {
					ctx = tt.ctx(ctx)
				}
				req, _ := http.NewRequestWithContext(ctx, tt.method, "http://api.example.com/", strings.NewReader("payload"))
				if tt.header != "" {
					req.Header.Set(tt.header, "k-1")
				}
				resp, err := tr.RoundTrip(req)
				if len(base.sent) != tt.attempts {
					t.Errorf("%d attempts, want %d", len(base.sent), tt.attempts)
				}
				if tt.attempts == 1 {
					if got := rec.String(); !strings.HasSuffix(got, "reason=not_replayable") {
						t.Errorf("events = %s, want a not_replayable give-up", got)
					}
				}
				if resp != nil {
					resp.Body.Close()
					if err != nil {
						t.Errorf("response and error %v returned together", err)
					}
				}
			})
		})
	}
}

func TestTransportReplaysBodies(t *testing.T) {
	payload := strings.Repeat("0123456789", 1000)
	tests := []struct {
		name     string
		getBody  bool
		limit    int64
		attempts int
	}{
		{"GetBody", true, 0, 3},
		{"GetBody, buffering off", true, -1, 3},
		{"no GetBody, under the limit", false, 0, 3},
		{"no GetBody, exactly the limit", false, int64(len(payload)), 3},
		{"no GetBody, over the limit", false, int64(len(payload) - 1), 1},
		{"no GetBody, buffering off", false, -1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				base := &fakeBase{steps: []step{{status: 503}, {status: 502}, {status: 200}}}
				tr := newTransport(base)
				tr.BufferLimit = tt.limit
				var rec traceRecorder
				rec.attach(tr)
				body := &closeCounter{Reader: strings.NewReader(payload)}
				req, _ := http.NewRequest("PUT", "http://api.example.com/", body)
				if tt.getBody {
					req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(payload)), nil }
				}
				resp, err := tr.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if len(base.sent) != tt.attempts {
					t.Fatalf("%d attempts, want %d", len(base.sent), tt.attempts)
				}
				for i, s := range base.sent {
					if s.body != payload {
						t.Errorf("attempt %d sent %d bytes, want the same %d bytes", i+1, len(s.body), len(payload))
					}
				}
				if body.closed.Load() == 0 {
					t.Errorf("the caller's request body was not closed")
				}
				if tt.attempts == 1 && rec.String() != "giveup tries=1 reason=not_replayable" {
					t.Errorf("events = %s, want a not_replayable give-up", rec.String())
				}
			})
		})
	}
}

func TestTransportDoesNotModifyRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{steps: []step{{status: 503}, {status: 200}}}
		tr := newTransport(base)
		tr.AttemptTimeout = time.Minute
		req, _ := http.NewRequest("PUT", "http://user:pw@api.example.com/x?q=1", strings.NewReader("body"))
		req.Header.Set("X-Test", "1")
		before := *req
		headerBefore := req.Header.Clone()
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if req.Method != before.Method || req.URL != before.URL || req.URL.String() != "http://user:pw@api.example.com/x?q=1" ||
			req.Body != before.Body || req.ContentLength != before.ContentLength || req.Context() != before.Context() {
			t.Errorf("the caller's request was modified")
		}
		if fmt.Sprint(req.Header) != fmt.Sprint(headerBefore) {
			t.Errorf("header changed: %v, was %v", req.Header, headerBefore)
		}
		for i, s := range base.sent {
			if s.ctx == req.Context() {
				t.Errorf("attempt %d was sent with the caller's context despite AttemptTimeout", i+1)
			}
		}
	})
}

func TestTransportStatusClassification(t *testing.T) {
	for code, retried := range map[int]bool{
		200: false, 201: false, 301: false, 400: false, 401: false, 403: false, 404: false,
		408: true, 409: false, 425: true, 429: true, 500: true, 501: false, 502: true,
		503: true, 504: true, 505: false, 511: false,
	} {
		if got := attemptsFor(t, step{status: code}, step{status: 299}) == 2; got != retried {
			t.Errorf("status %d: retried = %v, want %v", code, got, retried)
		}
	}
}

func TestTransportErrorClassification(t *testing.T) {
	certErr := &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}
	cancelledCtx, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		err     error
		ctx     context.Context
		retried bool
	}{
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, nil, true},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, nil, true},
		{"EOF", fmt.Errorf("net/http: transport: %w", io.EOF), nil, true},
		{"unexpected EOF", io.ErrUnexpectedEOF, nil, true},
		{"timeout", &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}, nil, true},
		{"DNS temporary", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "server misbehaving", IsTemporary: true}}, nil, true},
		{"DNS not found", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", IsNotFound: true}}, nil, false},
		{"certificate", certErr, nil, false},
		{"certificate in OpError", &net.OpError{Op: "remote error", Err: certErr}, nil, false},
		{"hostname", x509.HostnameError{}, nil, false},
		{"TLS record header", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, nil, false},
		{"unsupported scheme", errors.New(`unsupported protocol scheme "ftp"`), nil, false},
		{"invalid header", errors.New("net/http: invalid header field name"), nil, false},
		{"caller cancelled", context.Canceled, cancelledCtx, false},
		{"caller cancelled, reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, cancelledCtx, false},
		{"cancellation inside the base", context.Canceled, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://x/", nil)
			got := backoff.DefaultClassify(backoff.Attempt{Request: req, Err: tt.err, Number: 1})
			if got != tt.retried {
				t.Errorf("DefaultClassify(%v) = %v, want %v", tt.err, got, tt.retried)
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestTransportCustomClassify(t *testing.T) {
	var seen []backoff.Attempt
	base := &fakeBase{steps: []step{{status: 404}, {status: 404}, {status: 200}}}
	tr := newTransport(base)
	tr.Wait = strategy.Immediate
	tr.Classify = func(a backoff.Attempt) bool {
		seen = append(seen, a)
		return backoff.DefaultClassify(a) || a.Response != nil && a.Response.StatusCode == 404
	}
	resp, err := get(t, tr, "GET", "")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("RoundTrip = %v, %v", resp, err)
	}
	resp.Body.Close()
	for i, a := range seen {
		if a.Number != i+1 || a.Request == nil || a.Response == nil {
			t.Errorf("attempt %d: %+v", i+1, a)
		}
	}
}

func TestTransportRetryAfter(t *testing.T) {
	date := func(t time.Time) string { return t.UTC().Format(http.TimeFormat) }
	tests := []struct {
		name       string
		status     int
		retryAfter func(now time.Time) string
		dateHeader func(now time.Time) string
		maxTime    time.Duration
		deadline   time.Duration
		wantWait   time.Duration // lower bound of the wait; 0: the normal backoff (1s)
		wantReason backoff.Reason
	}{
		{name: "seconds", status: 503, retryAfter: func(time.Time) string { return "7" }, wantWait: 7 * time.Second},
		{name: "seconds on 429", status: 429, retryAfter: func(time.Time) string { return "3" }, wantWait: 3 * time.Second},
		{name: "ignored on 500", status: 500, retryAfter: func(time.Time) string { return "30" }},
		{name: "IMF-fixdate", status: 503, retryAfter: func(now time.Time) string { return date(now.Add(20 * time.Second)) }, wantWait: 20 * time.Second},
		{name: "RFC 850", status: 503, retryAfter: func(now time.Time) string {
			return now.Add(20 * time.Second).UTC().Format("Monday, 02-Jan-06 15:04:05 GMT")
		}, wantWait: 20 * time.Second},
		{name: "asctime", status: 503, retryAfter: func(now time.Time) string {
			return now.Add(20 * time.Second).UTC().Format(time.ANSIC)
		}, wantWait: 20 * time.Second},
		{name: "date against the Date header", status: 503,
			retryAfter: func(now time.Time) string { return date(now.Add(-time.Hour + 5*time.Second)) },
			dateHeader: func(now time.Time) string { return date(now.Add(-time.Hour)) },
			wantWait:   5 * time.Second},
		{name: "past date", status: 503, retryAfter: func(now time.Time) string { return date(now.Add(-time.Hour)) }},
		{name: "garbage", status: 503, retryAfter: func(time.Time) string { return "soon" }},
		{name: "negative", status: 503, retryAfter: func(time.Time) string { return "-5" }},
		{name: "fraction", status: 503, retryAfter: func(time.Time) string { return "1.5" }},
		{name: "overflowing", status: 503, retryAfter: func(time.Time) string { return "99999999999999999999999" }, wantReason: backoff.ErrRetryAfter},
		{name: "huge", status: 503, retryAfter: func(time.Time) string { return "86400" }, wantReason: backoff.ErrRetryAfter},
		{name: "over the cap", status: 503, retryAfter: func(time.Time) string { return "61" }, wantReason: backoff.ErrRetryAfter},
		{name: "at the cap", status: 503, retryAfter: func(time.Time) string { return "60" }, wantWait: 60 * time.Second},
		{name: "beyond the deadline", status: 503, retryAfter: func(time.Time) string { return "30" }, deadline: 20 * time.Second, wantReason: backoff.ErrRetryAfter},
		{name: "beyond the max time", status: 503, retryAfter: func(time.Time) string { return "30" }, maxTime: 20 * time.Second, wantReason: backoff.ErrRetryAfter},
		{name: "within the max time", status: 503, retryAfter: func(time.Time) string { return "15" }, maxTime: 20 * time.Second, wantWait: 15 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				now := time.Now()
				h := http.Header{"Retry-After": {tt.retryAfter(now)}}
				if tt.dateHeader != nil {
					h.Set("Date", tt.dateHeader(now))
				}
				base := &fakeBase{steps: []step{{status: tt.status, header: h, body: "wait"}, {status: 200}}}
				tr := newTransport(base)
				tr.Jitter = jitter.Full
				tr.MaxTime = tt.maxTime
				var rec traceRecorder
				rec.attach(tr)
				req, _ := http.NewRequestWithContext(timeoutContext(t, tt.deadline), "GET", "http://api.example.com/", nil)
				resp, err := tr.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				if tt.wantReason != "" {
					if resp.StatusCode != tt.status || len(base.sent) != 1 {
						t.Errorf("got %d after %d attempts; want the %d at once", resp.StatusCode, len(base.sent), tt.status)
					}
					if got := rec.String(); got != "giveup tries=1 reason="+string(tt.wantReason) {
						t.Errorf("events = %s", got)
					}
					return
				}
				if len(base.sent) != 2 {
					t.Fatalf("%d attempts, want 2", len(base.sent))
				}
				wait := rec.all[0].Wait
				if tt.wantWait == 0 {
					if wait > time.Second {
						t.Errorf("wait = %v, want the jittered backoff (at most 1s)", wait)
					}
					return
				}
				hi := tt.wantWait + time.Duration(float64(tt.wantWait)*backoff.DefaultRetryAfterSpread)
				if tt.maxTime > 0 {
					hi = min(hi, tt.maxTime)
				}
				if wait < tt.wantWait || wait > hi {
					t.Errorf("wait = %v, want in [%v, %v]", wait, tt.wantWait, hi)
				}
				if rec.all[0].RetryAfter != tt.wantWait {
					t.Errorf("details RetryAfter = %v, want %v", rec.all[0].RetryAfter, tt.wantWait)
				}
			})
		})
	}
}

func TestTransportCancelDuringWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{steps: []step{{status: 503, body: "busy"}}}
		tr := newTransport(base)
		tr.Wait = strategy.Constant{Interval: time.Hour}
		var rec traceRecorder
		rec.attach(tr)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(5*time.Second, cancel)
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://api.example.com/", nil)
		start := time.Now()
		resp, err := tr.RoundTrip(req)
		if resp != nil || !errors.Is(err, context.Canceled) || !errors.Is(err, backoff.ErrCanceled) {
			t.Errorf("RoundTrip = %v, %v; want nil, canceled", resp, err)
		}
		if d := time.Since(start); d != 5*time.Second {
			t.Errorf("returned after %v, want 5s", d)
		}
		base.checkBodies(t, nil)
		if got := rec.String(); got != "backoff tries=1 wait=1h0m0s; giveup tries=1 reason=canceled" {
			t.Errorf("events = %s", got)
		}
	})
}

func TestTransportDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{steps: []step{{status: 503}}}
		tr := newTransport(base)
		tr.Wait = strategy.Constant{Interval: 10 * time.Second}
		tr.MaxAttempts = backoff.Unlimited
		ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://api.example.com/", nil)
		resp, err := tr.RoundTrip(req)
		if err != nil || resp.StatusCode != 503 {
			t.Fatalf("RoundTrip = %v, %v; want the last 503", resp, err)
		}
		resp.Body.Close()
		if len(base.sent) != 3 {
			t.Errorf("%d attempts, want 3 (at 0s, 10s, 20s)", len(base.sent))
		}
	})
}

// slowBody is a response body that delivers its bytes after a delay.
type slowBody struct {
	delay time.Duration
	data  io.Reader
	ctx   context.Context
}

func (b *slowBody) Read(p []byte) (int, error) {
	select {
	case <-time.After(b.delay):
	case <-b.ctx.Done():
		return 0, b.ctx.Err()
	}
	return b.data.Read(p)
}
func (b *slowBody) Close() error { return nil }

func TestTransportAttemptTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := 0
		base := rtFunc(func(r *http.Request) (*http.Response, error) {
			n++
			if n == 1 { // hangs until the attempt's context ends
				<-r.Context().Done()
				return nil, r.Context().Err()
			}
			// Headers at once, then a body slower than the attempt timeout.
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: &slowBody{
				delay: 10 * time.Second, data: strings.NewReader("slow body"), ctx: r.Context(),
			}}, nil
		})
		tr := newTransport(base)
		tr.AttemptTimeout = 2 * time.Second
		var rec traceRecorder
		rec.attach(tr)
		start := time.Now()
		resp, err := get(t, tr, "GET", "")
		if err != nil {
			t.Fatalf("RoundTrip error = %v", err)
		}
		if got := time.Since(start); got != 3*time.Second {
			t.Errorf("response after %v, want 3s (2s timeout + 1s wait)", got)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "slow body" || err != nil {
			t.Errorf("body = %q, %v; the attempt timeout cut off the returned body", b, err)
		}
		if e := rec.all[0].Err; e == nil || !strings.Contains(e.Error(), "attempt timed out") {
			t.Errorf("first attempt error = %v", e)
		}
		var ne net.Error
		if !errors.As(rec.all[0].Err, &ne) || !ne.Timeout() {
			t.Errorf("attempt timeout error is not a net.Error with Timeout")
		}
	})
}

func TestTransportNeverResponseAndError(t *testing.T) {
	// A base that breaks the contract returns both.
	base := rtFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(""))}, errors.New("broken base")
	})
	tr := newTransport(base)
	tr.Wait = strategy.Immediate
	resp, err := get(t, tr, "GET", "")
	if resp != nil || err == nil {
		t.Errorf("RoundTrip = %v, %v; want only an error", resp, err)
	}
	// A base that returns neither.
	tr = newTransport(rtFunc(func(*http.Request) (*http.Response, error) { return nil, nil }))
	if resp, err := get(t, tr, "GET", ""); resp != nil || err == nil {
		t.Errorf("RoundTrip = %v, %v; want an error", resp, err)
	}
}

func TestTransportInvalidConfig(t *testing.T) {
	base := &fakeBase{steps: []step{{status: 200}}}
	tr := &backoff.Transport{Base: base, Wait: strategy.Sequence{}}
	if tr.Validate() == nil {
		t.Fatal("Validate() = nil for an empty Sequence")
	}
	body := &closeCounter{Reader: strings.NewReader("x")}
	req, _ := http.NewRequest("PUT", "http://x/", body)
	resp, err := tr.RoundTrip(req)
	if resp != nil || err == nil || len(base.sent) != 0 || body.closed.Load() != 1 {
		t.Errorf("RoundTrip = %v, %v after %d attempts, body closed %d times; want an error, no attempt, body closed",
			resp, err, len(base.sent), body.closed.Load())
	}
}

func TestTransportCloseIdleConnections(t *testing.T) {
	base := &fakeBase{}
	tr := &backoff.Transport{Base: base}
	client := &http.Client{Transport: tr}
	client.CloseIdleConnections()
	if base.idle != 1 {
		t.Errorf("CloseIdleConnections reached the base %d times, want 1", base.idle)
	}
}

func TestTransportLogsNoSecrets(t *testing.T) {
	var buf bytes.Buffer
	base := &fakeBase{steps: []step{{status: 503, header: http.Header{"Set-Cookie": {"session=secret"}}}, {err: &url.Error{Op: "Get", URL: "x", Err: io.EOF}}, {status: 200}}}
	tr := newTransport(base)
	tr.Wait = strategy.Immediate
	tr.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	req, _ := http.NewRequest("GET", "https://user:pass@api.example.com/v1?token=secret", nil)
	req.Header.Set("Authorization", "Bearer secret")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	log := buf.String()
	if strings.Contains(log, "secret") || strings.Contains(log, "pass") || strings.Contains(log, "/v1") {
		t.Errorf("log leaks URL, user info or headers:\n%s", log)
	}
	if !strings.Contains(log, `msg="Backing off GET https://api.example.com for 0s after 1 attempt (503 Service Unavailable)" method=GET host=api.example.com attempts=1 `) || !strings.Contains(log, " wait=0s status=503\n") {
		t.Errorf("log lacks the HTTP details:\n%s", log)
	}
}

func TestTransportZeroValueDefaults(t *testing.T) {
	// A zero Transport against a real server: retries a GET up to 4 tries.
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	tr := &backoff.Transport{Wait: strategy.Expo{Factor: time.Millisecond}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || hits.Load() != backoff.DefaultMaxAttempts {
		t.Errorf("status %d after %d hits; want 503 after %d", resp.StatusCode, hits.Load(), backoff.DefaultMaxAttempts)
	}
}

func TestTransportWithHTTPMock(t *testing.T) {
	mock := httpmock.NewMockTransport()
	var calls int
	mock.RegisterResponder("GET", "http://api.example.com/items", func(*http.Request) (*http.Response, error) {
		calls++
		if calls < 3 {
			return httpmock.NewStringResponse(503, "busy"), nil
		}
		return httpmock.NewStringResponse(200, "items"), nil
	})
	tr := newTransport(mock)
	tr.Wait = strategy.Immediate
	client := &http.Client{Transport: tr}
	resp, err := client.Get("http://api.example.com/items")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "items" || calls != 3 {
		t.Errorf("body %q after %d calls", b, calls)
	}
}

func TestTransportRedirects(t *testing.T) {
	var hits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new", http.StatusFound) })
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) < 2 {
			w.WriteHeader(503)
			return
		}
		io.WriteString(w, "moved")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tr := &backoff.Transport{Wait: strategy.Immediate}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/old")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "moved" || hits.Load() != 2 {
		t.Errorf("body %q after %d hits on /new", b, hits.Load())
	}
}

func TestTransportConnectionReuse(t *testing.T) {
	var newConns atomic.Int32
	var hits atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1)%2 == 1 {
			w.WriteHeader(503)
			io.WriteString(w, strings.Repeat("x", 4096)) // a body to drain
			return
		}
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	// Every request fails once: no budget, to retry them all.
	tr := &backoff.Transport{Wait: strategy.Immediate, Budget: backoff.DisabledBudget()}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	const requests = 1000
	for i := 0; i < requests; i++ {
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if hits.Load() != 2*requests {
		t.Fatalf("%d hits, want %d", hits.Load(), 2*requests)
	}
	// Each drained 503 leaves its connection to the retry. net/http puts a
	// connection back in its pool on a goroutine of its own, after the
	// body is read: on a busy machine the retry may find the pool empty
	// and dial, now and then. Without the drain, every retry would dial.
	if n := newConns.Load(); n < 1 || n > requests/20 {
		t.Errorf("%d connections for %d retried requests, want 1 and at most %d", n, requests, requests/20)
	}
}

func TestTransportConcurrent(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if hits.Add(1)%3 == 0 {
			w.WriteHeader(503)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()
	tr := &backoff.Transport{Wait: strategy.Immediate, MaxAttempts: 10}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				want := strconv.Itoa(i*100 + j)
				resp, err := client.Post(srv.URL, "text/plain", strings.NewReader(want))
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 && string(b) != want {
					t.Errorf("body %q, want %q", b, want)
				}
			}
		}()
	}
	wg.Wait()
}

func TestTransportRetriesResetConnection(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			// Drop the connection without a response: a reset, as a
			// crashing server or a proxy would.
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			if tc, ok := conn.(*net.TCPConn); ok {
				tc.SetLinger(0) // RST rather than FIN
			}
			conn.Close()
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	tr := &backoff.Transport{Wait: strategy.Immediate}
	defer tr.CloseIdleConnections()
	var rec traceRecorder
	rec.attach(tr)
	// POST, so that net/http does not retry by itself, and with an
	// Idempotency-Key so that this Transport may.
	req, _ := http.NewRequest("POST", srv.URL, strings.NewReader("order"))
	req.Header.Set("Idempotency-Key", "order-1")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" || hits.Load() != 2 {
		t.Errorf("body %q after %d hits; want ok after 2", b, hits.Load())
	}
	if len(rec.all) == 0 || rec.all[0].Err == nil {
		t.Errorf("events = %s; want a backoff on the reset", rec.String())
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "1", "120", "-1", "1.5", " 7 ", "", "soon",
		"99999999999999999999", "9223372036", "9223372037",
		"Wed, 21 Oct 2015 07:28:00 GMT", "Wednesday, 21-Oct-15 07:28:00 GMT", "Wed Oct 21 07:28:00 2015",
		"Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 0001 00:00:00 GMT"} {
		f.Add(s)
	}
	now := time.Date(2015, 10, 21, 7, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := backoff.ParseRetryAfter(s, now)
		if !ok {
			if d != 0 {
				t.Errorf("ParseRetryAfter(%q) = %v, false; want 0 when ignored", s, d)
			}
			return
		}
		if d < 0 {
			t.Errorf("ParseRetryAfter(%q) = %v, a negative wait", s, d)
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil && n >= 0 {
			want := maxDur // saturated
			if n <= int64(maxDur/time.Second) {
				want = time.Duration(n) * time.Second
			}
			if d != want {
				t.Errorf("ParseRetryAfter(%q) = %v, want %v", s, d, want)
			}
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2015, 10, 21, 7, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 5 ", 5 * time.Second, true},
		{"Wed, 21 Oct 2015 07:28:00 GMT", 28 * time.Minute, true},
		{"Wednesday, 21-Oct-15 07:28:00 GMT", 28 * time.Minute, true},
		{"Wed Oct 21 07:28:00 2015", 28 * time.Minute, true},
		{"Wed, 21 Oct 2015 06:00:00 GMT", 0, true}, // in the past: no wait
		{"9223372036", 9223372036 * time.Second, true},
		{"9223372037", maxDur, true}, // saturates
		{"99999999999999999999", maxDur, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"+5", 0, false},
		{"5s", 0, false},
		{"", 0, false},
		{"soon", 0, false},
		{"Fri, 31 Dec 9999 23:59:59 GMT", maxDur, true}, // saturates
	}
	for _, tt := range tests {
		d, ok := backoff.ParseRetryAfter(tt.in, now)
		if d != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, d, ok, tt.want, tt.ok)
		}
	}
}

// memBase is an in-memory base transport answering 200 "ok".
type memBase struct{}

func (memBase) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
}

func BenchmarkTransport(b *testing.B) {
	req, _ := http.NewRequest("GET", "http://api.example.com/", nil)
	run := func(b *testing.B, rt http.RoundTripper) {
		b.ReportAllocs()
		for b.Loop() {
			resp, err := rt.RoundTrip(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	b.Run("mem/bare", func(b *testing.B) { run(b, memBase{}) })
	b.Run("mem/backoff", func(b *testing.B) { run(b, &backoff.Transport{Base: memBase{}}) })
	b.Run("mem/backoff/outcome", func(b *testing.B) {
		var o backoff.Outcome
		req = req.WithContext(backoff.WithOutcome(context.Background(), &o))
		defer func() { req = req.WithContext(context.Background()) }()
		run(b, &backoff.Transport{Base: memBase{}})
	})

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	loop := func(b *testing.B, rt http.RoundTripper) {
		b.ReportAllocs()
		req, _ := http.NewRequest("GET", srv.URL, nil)
		for b.Loop() {
			resp, err := rt.RoundTrip(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	b.Run("loopback/bare", func(b *testing.B) {
		base := cleanhttp.DefaultPooledTransport()
		defer base.CloseIdleConnections()
		loop(b, base)
	})
	b.Run("loopback/backoff", func(b *testing.B) {
		base := cleanhttp.DefaultPooledTransport()
		defer base.CloseIdleConnections()
		loop(b, &backoff.Transport{Base: base})
	})
}

func TestTransportBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{steps: []step{{status: 503}}}
		tr := newTransport(base)
		tr.Wait = strategy.Immediate
		var rec traceRecorder
		rec.attach(tr)
		const requests = 100
		for i := 0; i < requests; i++ {
			resp, err := get(t, tr, "GET", "")
			if err != nil || resp.StatusCode != 503 {
				t.Fatalf("RoundTrip = %v, %v", resp, err)
			}
			resp.Body.Close()
		}
		// The reserve of 100, and 9 earned by the 99 requests made after
		// the first retry (the host's bucket is full before it).
		if got := len(base.sent); got != requests+109 {
			t.Errorf("%d attempts for %d requests, want %d", got, requests, requests+109)
		}
		budget := 0
		for _, d := range rec.all {
			if d.Reason == backoff.ErrBudget {
				budget++
			}
		}
		if budget == 0 {
			t.Errorf("no give-up for the budget")
		}
		base.checkBodies(t, nil)
	})
}

// TestTransportBudgetSequential measures how the budget and MaxAttempts
// interact with the default waits: sequential calls to a host that always
// fails get all their attempts until the reserve is spent, then about one
// retry in ten calls (the larger of 10% per request and 1 per second).
func TestTransportBudgetSequential(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &backoff.Transport{Base: always(http.StatusServiceUnavailable)}
		var attempts []int
		tr.Trace = &backoff.Trace{OnGiveUp: func(e backoff.Event) { attempts = append(attempts, e.Attempt) }}
		const calls = 1000
		for range calls {
			resp, err := tr.RoundTrip(httptest.NewRequest(http.MethodGet, "http://api.example/", nil))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		full := 0
		for full < len(attempts) && attempts[full] == backoff.DefaultMaxAttempts {
			full++
		}
		after := 0
		for _, n := range attempts[500:] {
			after += n
		}
		perCall := float64(after) / float64(len(attempts[500:]))
		t.Logf("the first %d calls made %d attempts each; calls 501 to %d made %.3f each", full, backoff.DefaultMaxAttempts, calls, perCall)
		if full < 33 || full > 70 {
			t.Errorf("the first %d calls made all their attempts, want 33 (the reserve of 100) to 70", full)
		}
		if perCall < 1 || perCall > 1.25 {
			t.Errorf("%.3f attempts per call once the reserve is spent, want 1 to 1.25", perCall)
		}
	})
}

func TestTransportSharedBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		shared := &backoff.Budget{}
		base := &fakeBase{steps: []step{{status: 503}}}
		a, b := newTransport(base), newTransport(base)
		a.Budget, b.Budget = shared, shared
		a.Wait, b.Wait = strategy.Immediate, strategy.Immediate
		for i := 0; i < 50; i++ {
			for _, tr := range []*backoff.Transport{a, b} {
				resp, _ := get(t, tr, "GET", "")
				resp.Body.Close()
			}
		}
		if got := len(base.sent); got != 100+109 {
			t.Errorf("%d attempts for 100 requests through two Transports, want 209", got)
		}
	})
}

func TestTransportNested(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{steps: []step{{status: 503}}}
		inner := newTransport(base)
		outer := newTransport(inner)
		resp, err := get(t, outer, "GET", "")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := len(base.sent); got != backoff.DefaultMaxAttempts {
			t.Errorf("%d attempts through two Transports, want %d (only the outer one retries)", got, backoff.DefaultMaxAttempts)
		}
		base.checkBodies(t, nil)
	})
}

func TestExclusivePolicyAroundClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{steps: []step{{status: 503}}}
		client := &http.Client{Transport: newTransport(base)}
		p := &backoff.Policy[int]{
			SingleAttemptBelow: true,
			RetryIf:            func(code int) bool { return code >= 500 },
			Wait:               strategy.Constant{Interval: time.Second},
			MaxAttempts:        3,
		}
		code, _ := p.Do(context.Background(), func(ctx context.Context) (int, error) {
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://api.example.com/", nil)
			resp, err := client.Do(req)
			if err != nil {
				return 0, err
			}
			resp.Body.Close()
			return resp.StatusCode, nil
		})
		if code != 503 || len(base.sent) != 3 {
			t.Errorf("status %d after %d attempts, want 503 after 3 (the Transport inside makes one each)", code, len(base.sent))
		}
	})
}

func TestTransportAttemptHeader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{steps: []step{{status: 503}, {status: 502}, {status: 200}}}
		tr := newTransport(base)
		tr.AttemptHeader = "X-Attempt"
		req, _ := http.NewRequest("GET", "http://api.example.com/", nil)
		req.Header.Set("Accept", "text/plain")
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for i, s := range base.sent {
			if got := s.header.Get("X-Attempt"); got != strconv.Itoa(i+1) || s.header.Get("Accept") != "text/plain" {
				t.Errorf("attempt %d headers %v", i+1, s.header)
			}
		}
		if req.Header.Get("X-Attempt") != "" {
			t.Errorf("the caller's header was modified")
		}
	})
}

// TestTransportAttemptHeaderValue checks the attempt header with the
// limit, in AWS's form, for each resolution of MaxAttempts.
func TestTransportAttemptHeaderValue(t *testing.T) {
	tests := []struct {
		maxAttempts int
		want        []string
	}{
		{0, []string{"attempt=1; max=4", "attempt=2; max=4", "attempt=3; max=4"}},
		{3, []string{"attempt=1; max=3", "attempt=2; max=3", "attempt=3; max=3"}},
		{backoff.Unlimited, []string{"attempt=1", "attempt=2", "attempt=3"}},
	}
	for _, tt := range tests {
		synctest.Test(t, func(t *testing.T) {
			base := &fakeBase{steps: []step{{status: 503}, {status: 502}, {status: 200}}}
			tr := newTransport(base)
			tr.MaxAttempts = tt.maxAttempts
			tr.AttemptHeader = "Amz-Sdk-Request"
			tr.AttemptHeaderValue = backoff.AttemptOfMax
			resp, err := get(t, tr, "GET", "")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			var got []string
			for _, s := range base.sent {
				got = append(got, s.header.Get("Amz-Sdk-Request"))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("MaxAttempts %d: headers %q, want %q", tt.maxAttempts, got, tt.want)
			}
		})
	}
	// Under another Transport, one attempt of one.
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{steps: []step{{status: 200}}}
		inner := newTransport(base)
		inner.AttemptHeader = "Amz-Sdk-Request"
		inner.AttemptHeaderValue = backoff.AttemptOfMax
		resp, err := get(t, newTransport(inner), "GET", "")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := base.sent[0].header.Get("Amz-Sdk-Request"); got != "attempt=1; max=1" {
			t.Errorf("under another Transport: %q, want attempt=1; max=1", got)
		}
	})
}

func TestTransportXShouldRetry(t *testing.T) {
	tests := []struct {
		status   int
		value    string
		attempts int
	}{
		{503, "false", 1},
		{503, "true", 2},
		{400, "true", 2},
		{409, "false", 1},
		{503, "maybe", 2},
		{200, "true", 1},
	}
	for _, tt := range tests {
		n := attemptsFor(t, step{status: tt.status, header: http.Header{"X-Should-Retry": {tt.value}}}, step{status: 200})
		if n != tt.attempts {
			t.Errorf("%d with X-Should-Retry: %s: %d attempts, want %d", tt.status, tt.value, n, tt.attempts)
		}
	}
}
