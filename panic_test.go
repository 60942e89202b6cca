package backoff_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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

	"go.uber.org/goleak"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

// panicToken is the value the hooks of these tests panic with: a pointer,
// so that the value recovered can be compared with the one thrown.
type panicToken struct{ hook string }

// panicBody is a request body that records whether it was closed.
type panicBody struct {
	closeCounter
	name string
}

// panicBase is a Base that sends through a transport of its own, wraps
// every response body to see it closed, and can fail or panic on a given
// attempt.
type panicBase struct {
	rt        *http.Transport
	failFirst bool  // the first attempt fails with a dial error, unsent
	panicAt   int32 // RoundTrip panics on this attempt (1-based); 0: never
	value     any   // the panic value

	n atomic.Int32
	bodyLog
}

func (b *panicBase) RoundTrip(req *http.Request) (*http.Response, error) {
	n := b.n.Add(1)
	if n == b.panicAt {
		panic(b.value)
	}
	if n == 1 && b.failFirst {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	resp, err := b.rt.RoundTrip(req)
	b.track(resp, n)
	return resp, err
}

func (b *panicBase) CloseIdleConnections() { b.rt.CloseIdleConnections() }

// opaqueContext hides its cancellation from the context package, which
// then watches it with a goroutine of its own for every context derived
// with a cancel function: a derived context that is never cancelled (an
// attempt's AttemptTimeout context) leaves that goroutine behind, and
// goleak sees it.
type opaqueContext struct {
	context.Context
	done chan struct{}
}

func (c opaqueContext) Done() <-chan struct{} { return c.done }

func (c opaqueContext) Err() error {
	select {
	case <-c.done:
		return context.Canceled
	default:
		return nil
	}
}

// panicStrategy is a wait strategy whose Next calls boom.
type panicStrategy struct{ boom func() }

func (s panicStrategy) Next(strategy.State) (time.Duration, bool) {
	s.boom()
	return time.Millisecond, true
}

// panicHandler is an slog.Handler whose Handle calls boom.
type panicHandler struct{ boom func() }

func (panicHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h panicHandler) Handle(context.Context, slog.Record) error {
	h.boom()
	return nil
}
func (h panicHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h panicHandler) WithGroup(string) slog.Handler      { return h }

// panicRig is what a case of TestTransportPanic configures.
type panicRig struct {
	tr      *backoff.Transport
	base    *panicBase
	boom    func() // panics with the case's value
	getBody func() // called by the request's GetBody, if set
}

// TestTransportPanic checks that a panic in any hook of a Transport, or in
// its Base, reaches the caller with its own value, after every response
// the Base returned and every request body have been closed and the
// attempt's context released, so that no goroutine of net/http or of the
// context package is left behind.
func TestTransportPanic(t *testing.T) {
	tests := []struct {
		name  string
		setup func(r *panicRig)
		// want reports whether v is the value thrown; nil means the token.
		want func(v any) bool
	}{
		{name: "OnAttempt", setup: func(r *panicRig) {
			r.tr.Trace = &backoff.Trace{OnAttempt: func(backoff.Event) { r.boom() }}
		}},
		{name: "OnAttempt/final", setup: func(r *panicRig) {
			r.tr.Trace = &backoff.Trace{OnAttempt: func(e backoff.Event) {
				if e.Final {
					r.boom()
				}
			}}
		}},
		{name: "OnBackoff", setup: func(r *panicRig) {
			r.tr.Trace = &backoff.Trace{OnBackoff: func(backoff.Event) { r.boom() }}
		}},
		{name: "OnSuccess", setup: func(r *panicRig) {
			r.tr.Trace = &backoff.Trace{OnSuccess: func(backoff.Event) { r.boom() }}
		}},
		{name: "OnGiveUp", setup: func(r *panicRig) {
			r.tr.MaxAttempts = 1
			r.tr.Trace = &backoff.Trace{OnGiveUp: func(backoff.Event) { r.boom() }}
		}},
		{name: "Classify", setup: func(r *panicRig) {
			r.tr.Classify = func(backoff.Attempt) bool { r.boom(); return false }
		}},
		{name: "Classify/success", setup: func(r *panicRig) {
			r.tr.Classify = func(a backoff.Attempt) bool {
				if a.Response != nil && a.Response.StatusCode == http.StatusOK {
					r.boom()
				}
				return backoff.DefaultClassify(a)
			}
		}},
		{name: "Idempotent", setup: func(r *panicRig) {
			r.tr.Idempotent = func(*http.Request) bool { r.boom(); return true }
		}},
		{name: "Classify/error", setup: func(r *panicRig) {
			r.base.failFirst = true
			r.tr.Classify = func(a backoff.Attempt) bool {
				if a.Err != nil {
					r.boom()
				}
				return backoff.DefaultClassify(a)
			}
		}},
		{name: "Wait", setup: func(r *panicRig) {
			r.tr.Wait = panicStrategy{r.boom}
		}},
		{name: "Jitter", setup: func(r *panicRig) {
			r.tr.Jitter = func(time.Duration, float64) time.Duration { r.boom(); return 0 }
		}},
		{name: "Logger/backoff", setup: func(r *panicRig) {
			r.tr.Logger = slog.New(panicHandler{r.boom})
		}},
		{name: "Logger/giveup", setup: func(r *panicRig) {
			r.tr.MaxAttempts = 1
			r.tr.Logger = slog.New(panicHandler{r.boom})
		}},
		{name: "GetBody", setup: func(r *panicRig) {
			r.getBody = r.boom
		}},
		{name: "Base", setup: func(r *panicRig) {
			r.base.panicAt = 1
		}},
		{name: "Base/retry", setup: func(r *panicRig) {
			r.base.panicAt = 2
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testTransportPanic(t, tt.setup, tt.want)
		})
	}
}

func testTransportPanic(t *testing.T, setup func(*panicRig), want func(any) bool) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "unavailable")
			return
		}
		io.WriteString(w, "ok")
	}))
	serverClosed := false
	defer func() {
		if !serverClosed {
			srv.Close()
		}
	}()

	token := &panicToken{t.Name()}
	if want == nil {
		want = func(v any) bool { return v == token }
	}
	base := &panicBase{rt: &http.Transport{}, value: token}
	r := &panicRig{
		tr: &backoff.Transport{
			Base:           base,
			AttemptTimeout: time.Minute,
			Wait:           strategy.Constant{Interval: time.Millisecond},
			Jitter:         jitter.None,
		},
		base: base,
		boom: func() { panic(token) },
	}
	setup(r)
	if err := r.tr.Validate(); err != nil {
		t.Fatal(err)
	}

	ctx := opaqueContext{Context: context.Background(), done: make(chan struct{})}
	t.Cleanup(func() { close(ctx.done) })
	var reqMu sync.Mutex
	reqBodies := []*panicBody{{closeCounter: closeCounter{Reader: strings.NewReader("payload")}, name: "request body"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, srv.URL, reqBodies[0])
	if err != nil {
		t.Fatal(err)
	}
	req.GetBody = func() (io.ReadCloser, error) {
		if r.getBody != nil {
			r.getBody()
		}
		reqMu.Lock()
		defer reqMu.Unlock()
		b := &panicBody{closeCounter: closeCounter{Reader: strings.NewReader("payload")}, name: fmt.Sprintf("request body %d", len(reqBodies)+1)}
		reqBodies = append(reqBodies, b)
		return b, nil
	}

	got, resp, err := func() (v any, resp *http.Response, err error) {
		defer func() { v = recover() }()
		resp, err = r.tr.RoundTrip(req)
		return nil, resp, err
	}()
	if resp != nil {
		resp.Body.Close()
	}
	if got == nil {
		t.Fatalf("RoundTrip = %v, %v; want a panic", resp, err)
	}
	if !want(got) {
		t.Errorf("recovered %#v, want the value the hook panicked with", got)
	}

	base.mu.Lock()
	for _, b := range base.bodies {
		if !b.closed.Load() {
			t.Errorf("%s returned by the Base was not closed", b.name)
		}
	}
	base.mu.Unlock()

	// The Base may close a request body from another goroutine, after its
	// RoundTrip returned: give it time.
	deadline := time.Now().Add(5 * time.Second)
	for {
		reqMu.Lock()
		var open []string
		for _, b := range reqBodies {
			if b.closed.Load() == 0 {
				open = append(open, b.name)
			}
		}
		reqMu.Unlock()
		if len(open) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("not closed 5s after the panic: %s", strings.Join(open, ", "))
			break
		}
		time.Sleep(5 * time.Millisecond)
	}

	r.tr.CloseIdleConnections()
	srv.Close()
	serverClosed = true
	goleak.VerifyNone(t)
}

// TestPolicyPanic checks that a panic in a hook of the engine reaches the
// caller with its own value and leaves no goroutine behind (synctest.Test
// fails when a goroutine of its bubble outlives it).
func TestPolicyPanic(t *testing.T) {
	errFlaky := errors.New("flaky")
	tests := []struct {
		name  string
		setup func(p *backoff.Policy[int], boom func())
	}{
		{"OnAttempt", func(p *backoff.Policy[int], boom func()) {
			p.OnAttempt = []backoff.Handler[int]{func(backoff.Details[int]) { boom() }}
		}},
		{"OnBackoff", func(p *backoff.Policy[int], boom func()) {
			p.OnBackoff = []backoff.Handler[int]{func(backoff.Details[int]) { boom() }}
		}},
		{"OnSuccess", func(p *backoff.Policy[int], boom func()) {
			p.OnSuccess = []backoff.Handler[int]{func(backoff.Details[int]) { boom() }}
		}},
		{"OnGiveUp", func(p *backoff.Policy[int], boom func()) {
			p.MaxAttempts = 1
			p.OnGiveUp = []backoff.Handler[int]{func(backoff.Details[int]) { boom() }}
		}},
		{"RetryOn", func(p *backoff.Policy[int], boom func()) {
			p.RetryOn = func(error) bool { boom(); return true }
		}},
		{"GiveUp", func(p *backoff.Policy[int], boom func()) {
			p.GiveUp = func(error) bool { boom(); return false }
		}},
		{"Wait", func(p *backoff.Policy[int], boom func()) { p.Wait = panicStrategy{boom} }},
		{"Jitter", func(p *backoff.Policy[int], boom func()) {
			p.Jitter = func(time.Duration, float64) time.Duration { boom(); return 0 }
		}},
		{"Logger", func(p *backoff.Policy[int], boom func()) { p.Logger = slog.New(panicHandler{boom}) }},
		{"MaxTimeFunc", func(p *backoff.Policy[int], boom func()) {
			p.MaxTimeFunc = func() time.Duration { boom(); return 0 }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				token := &panicToken{tt.name}
				p := &backoff.Policy[int]{Wait: strategy.Constant{Interval: time.Second}, Jitter: jitter.None}
				tt.setup(p, func() { panic(token) })
				ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
				defer cancel()
				n := 0
				op := func(context.Context) (int, error) {
					if n++; n == 1 {
						return 0, errFlaky
					}
					return 1, nil
				}
				got := func() (v any) {
					defer func() { v = recover() }()
					p.Do(ctx, op)
					return nil
				}()
				if got != token {
					t.Errorf("recovered %#v, want the value the hook panicked with", got)
				}
			})
			goleak.VerifyNone(t)
		})
	}
}
