package backoff_test

// Tests that pin behaviour no other test pins: each fails when the line
// of the engine or the Transport that it names is changed.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/f99b3bbb/backoff"
)

var errRunaway = errors.New("test: runaway call, cancelled")

// runawayGuard returns a context derived from ctx and a function that an
// operation calls once per attempt. Past limit attempts, it fails the test
// and cancels the context, so that a call that would otherwise never end
// (a limit not reached, waits of 0 that leave a synctest clock where it
// is) ends at once with a clear message instead of hanging the suite.
func runawayGuard(t *testing.T, ctx context.Context, limit int) (context.Context, func()) {
	t.Helper()
	ctx, cancel := context.WithCancelCause(ctx)
	t.Cleanup(func() { cancel(nil) })
	n := 0
	return ctx, func() {
		n++
		if n == limit+1 {
			t.Errorf("more than %d attempts: the call does not end; cancelled", limit)
			cancel(errRunaway)
		}
	}
}

// guarded returns op behind a runawayGuard of limit attempts, and the
// guard's context, derived from ctx, to call it with.
func guarded[T any](t *testing.T, ctx context.Context, limit int, op func(context.Context) (T, error)) (context.Context, func(context.Context) (T, error)) {
	t.Helper()
	ctx, attempt := runawayGuard(t, ctx, limit)
	return ctx, func(ctx context.Context) (T, error) {
		attempt()
		return op(ctx)
	}
}

// A call that gives up on its context's deadline returns its error even
// with NoErrorOnGiveUp: the caller's context decided, not the Policy.
func TestPinDeadlineNotSwallowedByNoErrorOnGiveUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := fixed[int](time.Second)
		p.MaxAttempts = backoff.Unlimited
		p.NoErrorOnGiveUp = true
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		ctx, op := guarded(t, ctx, 100, func(context.Context) (int, error) { return 0, errBoom })
		_, err := p.Do(ctx, op)
		var e *backoff.Error
		if !errors.As(err, &e) || e.Reason != backoff.ErrDeadline || e.Attempts != 2 {
			t.Errorf("Do = %v; want a *backoff.Error with reason %s after 2 tries", err, backoff.ErrDeadline)
		}
	})
}

// A call whose last attempt outlived the context's deadline gives up with
// ErrDeadline and records the context's cause; errors.Is finds both the
// cause and context.DeadlineExceeded.
func TestPinDeadlineCauseRecorded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cause := errors.New("the request's budget of time is spent")
		ctx, cancel := context.WithTimeoutCause(context.Background(), time.Second, cause)
		defer cancel()
		p := fixed[int](time.Second)
		_, err := p.Do(ctx, func(context.Context) (int, error) {
			time.Sleep(2 * time.Second) // past the deadline
			return 0, errBoom
		})
		var e *backoff.Error
		if !errors.As(err, &e) || e.Reason != backoff.ErrDeadline || e.Cause != cause {
			t.Fatalf("Do = %#v; want reason %s with the context's cause", err, backoff.ErrDeadline)
		}
		if !errors.Is(err, cause) || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, errBoom) {
			t.Errorf("errors.Is(%v): cause %v, DeadlineExceeded %v, last error %v; want all three",
				err, errors.Is(err, cause), errors.Is(err, context.DeadlineExceeded), errors.Is(err, errBoom))
		}
	})
}

// Error.Unwrap yields context.DeadlineExceeded for ErrDeadline with a
// cause of its own, context.Canceled for ErrCanceled, and neither for a
// give-up that the context did not decide.
func TestPinErrorUnwrapContextErrors(t *testing.T) {
	cause := errors.New("cause")
	tests := []struct {
		e                  *backoff.Error
		deadline, canceled bool
	}{
		{&backoff.Error{Reason: backoff.ErrDeadline, Attempts: 1, Cause: cause}, true, false},
		{&backoff.Error{Reason: backoff.ErrCanceled, Attempts: 1, Cause: cause}, false, true},
		{&backoff.Error{Reason: backoff.ErrDeadline, Attempts: 1}, false, false}, // no cause: the wait would end after the deadline
		{&backoff.Error{Reason: backoff.ErrMaxAttempts, Attempts: 1, Cause: cause}, false, false},
	}
	for _, tt := range tests {
		if got := errors.Is(tt.e, context.DeadlineExceeded); got != tt.deadline {
			t.Errorf("errors.Is(%v, context.DeadlineExceeded) = %v, want %v", tt.e, got, tt.deadline)
		}
		if got := errors.Is(tt.e, context.Canceled); got != tt.canceled {
			t.Errorf("errors.Is(%v, context.Canceled) = %v, want %v", tt.e, got, tt.canceled)
		}
	}
}

// A context that ends during a wait gives up with ErrDeadline when its
// deadline passed, and ErrCanceled when it was cancelled.
func TestPinContextEndDuringWaitReason(t *testing.T) {
	for _, deadline := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
			defer cancel()
			p := fixed[int](time.Second)
			p.OnBackoff = []backoff.Handler[int]{func(backoff.Details[int]) {
				// The wait of 1s was decided, ending before the deadline;
				// the context ends before it starts.
				if deadline {
					time.Sleep(2 * time.Second)
				} else {
					cancel()
				}
			}}
			_, err := p.Do(ctx, func(context.Context) (int, error) { return 0, errBoom })
			want, ctxErr := backoff.ErrCanceled, context.Canceled
			if deadline {
				want, ctxErr = backoff.ErrDeadline, context.DeadlineExceeded
			}
			var e *backoff.Error
			if !errors.As(err, &e) || e.Reason != want || e.Attempts != 1 || !errors.Is(err, ctxErr) {
				t.Errorf("deadline %v: Do = %v; want reason %s after 1 try, around %v", deadline, err, want, ctxErr)
			}
		})
	}
}

// A base that returns a response together with an error breaks the
// RoundTripper contract: the Transport closes that response's body and
// returns the error alone.
func TestPinBodyWithErrorClosed(t *testing.T) {
	errBroken := errors.New("broken base")
	body := &trackedBody{Reader: strings.NewReader("half")}
	tr := &backoff.Transport{Base: rtFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: body, Request: r}, errBroken
	})}
	resp, err := get(t, tr, "GET", "")
	if resp != nil || !errors.Is(err, errBroken) {
		t.Errorf("RoundTrip = %v, %v; want no response and the base's error", resp, err)
	}
	if !body.closed.Load() {
		t.Errorf("the body of the response returned with an error was not closed")
	}
}

// AttemptHeader on a request whose Header is nil: each attempt gets the
// header, and the caller's request keeps its nil Header.
func TestPinAttemptHeaderNilRequestHeader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{steps: []step{{status: 503}, {status: 200, body: "ok"}}}
		tr := newTransport(base)
		tr.AttemptHeader = "Attempt"
		u, _ := url.Parse("http://api.example.com/")
		req := (&http.Request{Method: "GET", URL: u}).WithContext(context.Background())
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("RoundTrip of a request with a nil Header panicked: %v", r)
			}
		}()
		resp, err := tr.RoundTrip(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("RoundTrip = %v, %v; want 200", resp, err)
		}
		resp.Body.Close()
		if len(base.sent) != 2 || base.sent[0].header.Get("Attempt") != "1" || base.sent[1].header.Get("Attempt") != "2" {
			t.Errorf("attempts sent %v; want 2 with Attempt: 1 and 2", base.sent)
		}
		if req.Header != nil {
			t.Errorf("the caller's request Header was changed to %v", req.Header)
		}
	})
}

// The status and Retry-After in Details are the current attempt's: a 503
// with Retry-After followed by a transport error reports neither.
func TestPinDetailsStatusResetPerAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{steps: []step{
			{status: 503, header: http.Header{"Retry-After": {"1"}}},
			{err: syscall.ECONNRESET},
		}}
		tr := newTransport(base)
		tr.Budget = backoff.DisabledBudget()
		tr.MaxAttempts = 2
		var rec traceRecorder
		rec.attach(tr)
		resp, err := get(t, tr, "GET", "")
		if resp != nil || !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("RoundTrip = %v, %v; want the reset", resp, err)
		}
		if len(rec.all) != 2 {
			t.Fatalf("events %s; want a backoff and a give-up", rec.String())
		}
		if d := rec.all[0]; statusOf(d) != 503 || d.RetryAfter != time.Second {
			t.Errorf("backoff event: status %d, Retry-After %v; want 503, 1s", statusOf(d), d.RetryAfter)
		}
		if d := rec.all[1]; statusOf(d) != 0 || d.RetryAfter != 0 {
			t.Errorf("give-up on a transport error: status %d, Retry-After %v; want 0, 0 (not the previous attempt's)", statusOf(d), d.RetryAfter)
		}
		base.checkBodies(t, nil)
	})
}

// A Transport under another retrying layer makes one attempt and deposits
// nothing into its budget: the layer above counts the request.
func TestPinNestedTransportDoesNotDeposit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const host = "api.example.com"
		base := &fakeBase{steps: []step{{status: 200, body: "ok"}}}
		budget := &backoff.Budget{Ratio: 0.5, MinPerSecond: -1}
		spend(budget, host, 1) // a full bucket would not show a deposit
		inner := newTransport(base)
		inner.Budget = budget
		outer := newTransport(inner)
		before := budget.Tokens(host)
		for range 4 {
			resp, err := get(t, outer, "GET", "")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		if after := budget.Tokens(host); after != before {
			t.Errorf("the inner Transport's budget went from %v to %v tokens; want no deposit under a retrying layer", before, after)
		}
		// The same Transport, on its own, deposits.
		resp, err := get(t, inner, "GET", "")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if after := budget.Tokens(host); after != before+0.5 {
			t.Errorf("budget %v tokens after a request of its own, want %v", after, before+0.5)
		}
	})
}

// When the attempt timeout fired and the caller's context ended too, the
// caller gets its own context's cause, as it is, not a timeout.
func TestPinAttemptTimeoutVersusCallerCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cause := errors.New("the caller went away")
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		tr := &backoff.Transport{
			AttemptTimeout: time.Second,
			Budget:         backoff.DisabledBudget(),
			Base: rtFunc(func(r *http.Request) (*http.Response, error) {
				<-r.Context().Done() // the attempt timeout
				cancel(cause)
				return nil, context.Cause(r.Context())
			}),
		}
		req, err := http.NewRequestWithContext(ctx, "GET", "http://api.example.com/", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := tr.RoundTrip(req)
		var be *backoff.Error
		if resp != nil || err != cause || errors.As(err, &be) {
			t.Errorf("RoundTrip = %v, %v (%T); want the caller's cause itself", resp, err, err)
		}
	})
}

// The context of the attempt that produced the returned response lives
// until its body is closed, and is released then.
func TestPinAttemptContextReleasedOnClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var attemptCtx context.Context
		tr := &backoff.Transport{
			AttemptTimeout: time.Hour,
			Base: rtFunc(func(r *http.Request) (*http.Response, error) {
				attemptCtx = r.Context()
				return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("ok")), Request: r}, nil
			}),
		}
		resp, err := get(t, tr, "GET", "")
		if err != nil {
			t.Fatal(err)
		}
		if attemptCtx.Err() != nil {
			t.Fatalf("the attempt's context ended before the body was closed: %v", attemptCtx.Err())
		}
		resp.Body.Close()
		if attemptCtx.Err() == nil {
			t.Errorf("the attempt's context is still alive after the body was closed")
		}
	})
}

// Among HTTP/2 stream errors only REFUSED_STREAM proves that a request was
// not processed: a POST whose stream was reset with INTERNAL_ERROR is not
// sent again, even by a classifier that retries every error.
// (TestFaultHTTP2RefusedBeyondNetHTTP pins the REFUSED_STREAM side.)
func TestPinHTTP2OnlyRefusedStreamNeverSent(t *testing.T) {
	for _, tt := range []struct {
		name     string
		action   h2Action
		attempts int32
	}{
		{"INTERNAL_ERROR", h2Internal, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := &rawServer{}
				serve := h2(func(n int) h2Action {
					if n == 0 {
						return tt.action
					}
					return h2Answer
				})
				base := h2cTransport()
				defer pipeDial(base, srv, serve)()
				tr, tb := faultTransport(t, base)
				defer tr.CloseIdleConnections()
				tr.Classify = func(a backoff.Attempt) bool { return a.Err != nil }
				var seen []error
				tr.Trace = backoff.JoinTraces(tr.Trace, &backoff.Trace{OnAttempt: func(e backoff.Event) { seen = append(seen, e.Err) }})
				resp, err := tr.RoundTrip(newRequest(t, context.Background(), "POST", "http://api.example.com/", "payload"))
				if resp != nil {
					readBody(resp)
				}
				if tb.attempts.Load() != tt.attempts {
					t.Errorf("%d attempts, want %d (RoundTrip = %v, %v; attempt errors %v)", tb.attempts.Load(), tt.attempts, resp, err, seen)
				}
				if len(seen) == 0 || seen[0] == nil || !strings.Contains(seen[0].Error(), tt.name) {
					t.Errorf("attempt errors %v; want the first about %s", seen, tt.name)
				}
				tb.allClosed(t)
			})
		})
	}
}
