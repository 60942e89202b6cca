package backoff_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

var errBoom = errors.New("boom")

// script returns an operation that returns the given results in turn, and
// a pointer to the number of calls made.
func script[T any](results ...result[T]) (func(context.Context) (T, error), *int) {
	n := new(int)
	return func(context.Context) (T, error) {
		r := results[min(*n, len(results)-1)]
		*n++
		return r.v, r.err
	}, n
}

type result[T any] struct {
	v   T
	err error
}

func ok[T any](v T) result[T]         { return result[T]{v: v} }
func fail[T any](err error) result[T] { return result[T]{err: err} }

// recorder records the events of a policy.
type recorder[T any] struct {
	events []string
	all    []backoff.Details[T]
}

func (r *recorder[T]) attach(p *backoff.Policy[T]) {
	p.OnSuccess = append(p.OnSuccess, func(d backoff.Details[T]) { r.add("success", d) })
	p.OnBackoff = append(p.OnBackoff, func(d backoff.Details[T]) { r.add("backoff", d) })
	p.OnGiveUp = append(p.OnGiveUp, func(d backoff.Details[T]) { r.add("giveup", d) })
}

func (r *recorder[T]) add(kind string, d backoff.Details[T]) {
	s := fmt.Sprintf("%s tries=%d", kind, d.Attempts)
	if kind == "backoff" {
		s += fmt.Sprintf(" wait=%v", d.Wait)
	}
	if d.Reason != "" {
		s += " reason=" + string(d.Reason)
	}
	r.events = append(r.events, s)
	r.all = append(r.all, d)
}

func (r *recorder[T]) String() string { return strings.Join(r.events, "; ") }

// fixed is a policy with fixed, unjittered waits.
func fixed[T any](wait time.Duration) *backoff.Policy[T] {
	return &backoff.Policy[T]{Wait: strategy.Constant{Interval: wait}, Jitter: jitter.None}
}

func TestRetryOnErrorUntilSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := fixed[string](time.Second)
		var rec recorder[string]
		rec.attach(p)
		op, calls := script(fail[string](errBoom), fail[string](errBoom), ok("done"))
		start := time.Now()
		v, err := p.Do(context.Background(), op)
		if v != "done" || err != nil {
			t.Fatalf("Do = %q, %v; want done, nil", v, err)
		}
		if *calls != 3 {
			t.Errorf("calls = %d, want 3", *calls)
		}
		if got := time.Since(start); got != 2*time.Second {
			t.Errorf("elapsed = %v, want 2s", got)
		}
		want := "backoff tries=1 wait=1s; backoff tries=2 wait=1s; success tries=3"
		if rec.String() != want {
			t.Errorf("events = %s\nwant %s", rec.String(), want)
		}
		if d := rec.all[0]; d.Err != errBoom || d.Name != "operation" || d.Elapsed != 0 {
			t.Errorf("first backoff details = %+v", d)
		}
		if d := rec.all[2]; d.Value != "done" || d.Err != nil || d.Elapsed != 2*time.Second {
			t.Errorf("success details = %+v", d)
		}
	})
}

func TestNonRetryableErrorReturnsAtOnce(t *testing.T) {
	notFound := fmt.Errorf("lookup: %w", fs.ErrNotExist)
	tests := []struct {
		name    string
		retryOn func(error) bool
		retried error
	}{
		{"Is", backoff.ErrorIs(io.ErrUnexpectedEOF, context.DeadlineExceeded), fmt.Errorf("read: %w", io.ErrUnexpectedEOF)},
		{"As", backoff.ErrorAs[*fs.PathError](), &fs.PathError{Op: "open", Err: errBoom}},
		{"AnyOf", backoff.AnyOf(nil, backoff.ErrorIs(errBoom)), errBoom},
		{"func", func(err error) bool { return err == errBoom }, errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &backoff.Policy[int]{RetryOn: tt.retryOn, Wait: strategy.Immediate}
			var rec recorder[int]
			rec.attach(p)
			op, calls := script(fail[int](notFound))
			if _, err := p.Do(context.Background(), op); err != notFound {
				t.Errorf("Do error = %v, want %v untouched", err, notFound)
			}
			if *calls != 1 || len(rec.events) != 0 {
				t.Errorf("calls = %d, events = %q; want 1 call, no event", *calls, rec.events)
			}

			op, calls = script(fail[int](tt.retried), ok(7))
			if v, err := p.Do(context.Background(), op); v != 7 || err != nil || *calls != 2 {
				t.Errorf("Do = %d, %v after %d calls; want 7, nil after 2", v, err, *calls)
			}
		})
	}
}

func TestAsSeesJoinedAndAsMethodErrors(t *testing.T) {
	pathErr := &fs.PathError{Op: "open", Err: errBoom}
	match := backoff.ErrorAs[*fs.PathError]()
	for _, err := range []error{
		pathErr,
		fmt.Errorf("x: %w", pathErr),
		errors.Join(errBoom, fmt.Errorf("y: %w", pathErr)),
		asErr{},
	} {
		if !match(err) {
			t.Errorf("As[*fs.PathError]()(%v) = false, want true", err)
		}
	}
	for _, err := range []error{errBoom, errors.Join(errBoom, io.EOF), nil} {
		if match(err) {
			t.Errorf("As[*fs.PathError]()(%v) = true, want false", err)
		}
	}
}

// asErr converts itself to a *fs.PathError through an As method.
type asErr struct{}

func (asErr) Error() string { return "as" }
func (asErr) As(target any) bool {
	if p, ok := target.(**fs.PathError); ok {
		*p = &fs.PathError{}
		return true
	}
	return false
}

func TestRetryOnValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := fixed[int](time.Second)
		p.RetryIf = backoff.IsZero[int]
		p.MaxAttempts = 3
		var rec recorder[int]
		rec.attach(p)

		op, calls := script(ok(0), ok(0), ok(5))
		if v, err := p.Do(context.Background(), op); v != 5 || err != nil || *calls != 3 {
			t.Errorf("Do = %d, %v after %d calls; want 5, nil after 3", v, err, *calls)
		}

		// Errors are not retried in value mode: they propagate untouched.
		rec = recorder[int]{}
		op, calls = script(ok(0), fail[int](errBoom))
		if _, err := p.Do(context.Background(), op); err != errBoom || *calls != 2 {
			t.Errorf("Do error = %v after %d calls; want boom after 2", err, *calls)
		}
		if rec.String() != "backoff tries=1 wait=1s" {
			t.Errorf("events = %s; want only the first backoff", rec.String())
		}

		// Giving up on a value returns the last value and the error.
		rec = recorder[int]{}
		op, _ = script(ok(0))
		v, err := p.Do(context.Background(), op)
		var e *backoff.Error
		if v != 0 || !errors.As(err, &e) || e.Reason != backoff.ErrMaxAttempts || e.Attempts != 3 || e.Err != nil {
			t.Errorf("Do = %d, %#v; want 0, *Error{max_tries, 3 tries, nil Err}", v, err)
		}
		if d := rec.all[len(rec.all)-1]; d.Reason != backoff.ErrMaxAttempts || d.Attempts != 3 {
			t.Errorf("give-up details = %+v", d)
		}
	})
}

func TestRetryOnValueGiveUpReturnsLastValue(t *testing.T) {
	type status struct{ state string }
	p := &backoff.Policy[status]{
		RetryIf:     func(s status) bool { return s.state == "pending" },
		Wait:        strategy.Immediate,
		MaxAttempts: 2,
	}
	op, _ := script(ok(status{"pending"}))
	v, err := p.Do(context.Background(), op)
	if v.state != "pending" || !errors.Is(err, backoff.ErrMaxAttempts) {
		t.Errorf("Do = %v, %v; want last value and ErrMaxAttempts", v, err)
	}
	p.NoErrorOnGiveUp = true
	v, err = p.Do(context.Background(), op)
	if v.state != "pending" || err != nil {
		t.Errorf("NoErrorOnGiveUp: Do = %v, %v; want last value, nil", v, err)
	}
}

func TestBothModes(t *testing.T) {
	p := &backoff.Policy[int]{
		RetryOn: backoff.ErrorIs(errBoom),
		RetryIf: func(v int) bool { return v < 0 },
		Wait:    strategy.Immediate,
	}
	op, calls := script(fail[int](errBoom), ok(-1), ok(3))
	if v, err := p.Do(context.Background(), op); v != 3 || err != nil || *calls != 3 {
		t.Errorf("Do = %d, %v after %d calls; want 3, nil after 3", v, err, *calls)
	}
}

func TestMaxAttempts(t *testing.T) {
	tests := []struct {
		maxAttempts int
		wantCalls   int
	}{
		{0, backoff.DefaultMaxAttempts},
		{1, 1},
		{2, 2},
		{7, 7},
	}
	for _, tt := range tests {
		p := &backoff.Policy[int]{Wait: strategy.Immediate, MaxAttempts: tt.maxAttempts}
		var rec recorder[int]
		rec.attach(p)
		op, calls := script(fail[int](errBoom))
		_, err := p.Do(context.Background(), op)
		if *calls != tt.wantCalls {
			t.Errorf("MaxAttempts %d: calls = %d, want %d", tt.maxAttempts, *calls, tt.wantCalls)
		}
		var e *backoff.Error
		if !errors.As(err, &e) || e.Reason != backoff.ErrMaxAttempts || e.Attempts != tt.wantCalls || e.Err != errBoom {
			t.Errorf("MaxAttempts %d: err = %#v", tt.maxAttempts, err)
		}
		if got := rec.events[len(rec.events)-1]; got != fmt.Sprintf("giveup tries=%d reason=max_tries", tt.wantCalls) {
			t.Errorf("MaxAttempts %d: last event %q", tt.maxAttempts, got)
		}
		if len(rec.events) != tt.wantCalls {
			t.Errorf("MaxAttempts %d: %d events, want %d", tt.maxAttempts, len(rec.events), tt.wantCalls)
		}
	}
}

func TestUnlimitedTriesBoundedByMaxTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := fixed[int](time.Second)
		p.MaxAttempts = backoff.Unlimited
		p.MaxTime = time.Minute
		op, calls := script(fail[int](errBoom))
		ctx, op := guarded(t, context.Background(), 1000, op)
		_, err := p.Do(ctx, op)
		if !errors.Is(err, backoff.ErrMaxTime) || *calls != 61 {
			t.Errorf("Do error = %v after %d calls; want max_time after 61", err, *calls)
		}
	})
}

func TestLimitFuncsEvaluatedOncePerCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		triesCalls, timeCalls := 0, 0
		p := fixed[int](time.Second)
		p.MaxAttempts = 100 // overridden
		p.MaxAttemptsFunc = func() int { triesCalls++; return 3 }
		p.MaxTime = time.Hour // overridden
		p.MaxTimeFunc = func() time.Duration { timeCalls++; return 90 * time.Second }
		for call := 1; call <= 2; call++ {
			op, calls := script(fail[int](errBoom))
			if _, err := p.Do(context.Background(), op); !errors.Is(err, backoff.ErrMaxAttempts) || *calls != 3 {
				t.Fatalf("Do error = %v after %d calls", err, *calls)
			}
			if triesCalls != call || timeCalls != call {
				t.Errorf("after %d calls: MaxAttemptsFunc called %d times, MaxTimeFunc %d", call, triesCalls, timeCalls)
			}
		}
		p.MaxAttemptsFunc = func() int { return backoff.Unlimited }
		op, calls := script(fail[int](errBoom))
		ctx, op := guarded(t, context.Background(), 1000, op)
		if _, err := p.Do(ctx, op); !errors.Is(err, backoff.ErrMaxTime) || *calls != 91 {
			t.Errorf("Do error = %v after %d calls; want max_time after 91", err, *calls)
		}
	})
}

// TestMaxTimeBound checks Python 2.4.0's guarantee over a grid: a call never
// runs longer than max time plus one attempt, and the last wait is clamped.
func TestMaxTimeBound(t *testing.T) {
	for attempt := time.Duration(0); attempt <= 9*time.Second; attempt += time.Second {
		for maxTime := time.Second; maxTime <= 9*time.Second; maxTime += time.Second {
			for _, wait := range []time.Duration{time.Second, 1500 * time.Millisecond, 4 * time.Second} {
				synctest.Test(t, func(t *testing.T) {
					p := fixed[int](wait)
					p.MaxAttempts = backoff.Unlimited
					p.MaxTime = maxTime
					var waits []time.Duration
					p.OnBackoff = []backoff.Handler[int]{func(d backoff.Details[int]) { waits = append(waits, d.Wait) }}
					ctx, op := guarded(t, context.Background(), 1000, func(context.Context) (int, error) {
						time.Sleep(attempt)
						return 0, errBoom
					})
					start := time.Now()
					_, err := p.Do(ctx, op)
					total := time.Since(start)
					if !errors.Is(err, backoff.ErrMaxTime) {
						t.Errorf("attempt %v, max %v: err = %v, want max_time", attempt, maxTime, err)
					}
					if total > maxTime+attempt {
						t.Errorf("attempt %v, max %v, wait %v: total %v > max time + one attempt", attempt, maxTime, wait, total)
					}
					for i, w := range waits {
						if w > wait || w <= 0 {
							t.Errorf("attempt %v, max %v: wait %d = %v, want in (0, %v]", attempt, maxTime, i, w, wait)
						}
					}
				})
			}
		}
	}
}

func TestMaxTimeExample(t *testing.T) {
	// Python 2.4.0: constant wait 1s, no jitter, an attempt takes 3s,
	// max_time 5: two attempts, 7s in all.
	synctest.Test(t, func(t *testing.T) {
		p := fixed[int](time.Second)
		p.MaxAttempts = backoff.Unlimited
		p.MaxTime = 5 * time.Second
		calls := 0
		start := time.Now()
		p.Do(context.Background(), func(context.Context) (int, error) {
			calls++
			time.Sleep(3 * time.Second)
			return 0, errBoom
		})
		if total := time.Since(start); calls != 2 || total != 7*time.Second {
			t.Errorf("calls = %d, total = %v; want 2, 7s", calls, total)
		}
	})
}

func TestNegativeMaxTimeGivesUpOnFirstFailure(t *testing.T) {
	p := &backoff.Policy[int]{Wait: strategy.Immediate, MaxTime: -time.Second}
	op, calls := script(fail[int](errBoom))
	if _, err := p.Do(context.Background(), op); !errors.Is(err, backoff.ErrMaxTime) || *calls != 1 {
		t.Errorf("Do error = %v after %d calls; want max_time after 1", err, *calls)
	}
}

func TestDeadlineGivesUpWithoutWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p := fixed[int](4 * time.Second)
		p.MaxAttempts = backoff.Unlimited
		var rec recorder[int]
		rec.attach(p)
		op, calls := script(fail[int](errBoom))
		start := time.Now()
		_, err := p.Do(ctx, op)
		// Attempts at 0s, 4s, 8s; the next wait would end at 12s > 10s.
		if *calls != 3 || time.Since(start) != 8*time.Second {
			t.Errorf("calls = %d at %v; want 3 at 8s", *calls, time.Since(start))
		}
		var e *backoff.Error
		if !errors.As(err, &e) || e.Reason != backoff.ErrDeadline || e.Err != errBoom || e.Cause != nil {
			t.Errorf("err = %#v; want *Error{deadline, last error boom, no cause}", err)
		}
		if ctx.Err() != nil {
			t.Errorf("context already done: the engine waited for the deadline")
		}
		if got := rec.events[len(rec.events)-1]; got != "giveup tries=3 reason=deadline" {
			t.Errorf("last event %q", got)
		}
	})
}

func TestWaitEndingExactlyAtDeadlineGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		p := fixed[int](time.Second)
		op, calls := script(fail[int](errBoom))
		_, err := p.Do(ctx, op)
		if !errors.Is(err, backoff.ErrDeadline) || *calls != 2 {
			t.Errorf("Do error = %v after %d calls; want deadline after 2", err, *calls)
		}
	})
}

func TestCancelDuringWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cause := errors.New("shutting down")
		ctx, cancel := context.WithCancelCause(context.Background())
		p := fixed[int](time.Minute)
		var rec recorder[int]
		rec.attach(p)
		go func() {
			time.Sleep(10 * time.Second)
			cancel(cause)
		}()
		op, calls := script(fail[int](errBoom))
		start := time.Now()
		_, err := p.Do(ctx, op)
		if got := time.Since(start); got != 10*time.Second {
			t.Errorf("returned after %v, want 10s (at the cancellation)", got)
		}
		if !errors.Is(err, cause) || !errors.Is(err, backoff.ErrCanceled) || !errors.Is(err, errBoom) || *calls != 1 {
			t.Errorf("err = %v after %d calls; want cause, canceled and last error, 1 call", err, *calls)
		}
		if rec.String() != "backoff tries=1 wait=1m0s; giveup tries=1 reason=canceled" {
			t.Errorf("events = %s", rec.String())
		}
		if d := rec.all[1]; d.Elapsed != 10*time.Second {
			t.Errorf("give-up elapsed = %v, want 10s", d.Elapsed)
		}
		// NoErrorOnGiveUp does not hide a cancellation.
		p.NoErrorOnGiveUp = true
		if _, err := p.Do(ctx, op); !errors.Is(err, context.Canceled) {
			t.Errorf("NoErrorOnGiveUp: err = %v, want context.Canceled", err)
		}
	})
}

func TestCancelledContextDuringAttempt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := &backoff.Policy[int]{Wait: strategy.Immediate, MaxAttempts: backoff.Unlimited}
	calls := 0
	_, err := p.Do(ctx, func(ctx context.Context) (int, error) {
		calls++
		cancel()
		return 0, ctx.Err()
	})
	if !errors.Is(err, backoff.ErrCanceled) || calls != 1 {
		t.Errorf("err = %v after %d calls; want canceled after 1", err, calls)
	}
}

func TestGiveUpPredicate(t *testing.T) {
	fatal := errors.New("fatal")
	var seen []error
	p := &backoff.Policy[int]{
		Wait:        strategy.Immediate,
		MaxAttempts: 2,
		GiveUp:      func(err error) bool { seen = append(seen, err); return err == fatal },
	}
	op, calls := script(fail[int](errBoom), fail[int](fatal))
	_, err := p.Do(context.Background(), op)
	if !errors.Is(err, backoff.ErrGiveUp) || !errors.Is(err, fatal) || *calls != 2 {
		t.Errorf("err = %v after %d calls; want giveup with fatal after 2", err, *calls)
	}
	// The predicate is consulted before the limits, on the last attempt too.
	if len(seen) != 2 {
		t.Errorf("GiveUp called %d times, want 2", len(seen))
	}
	p.NoErrorOnGiveUp = true
	op, _ = script(fail[int](fatal))
	if v, err := p.Do(context.Background(), op); v != 0 || err != nil {
		t.Errorf("NoErrorOnGiveUp: Do = %d, %v; want 0, nil", v, err)
	}
}

func TestStrategyExhausted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &backoff.Policy[int]{
			Wait:        strategy.Sequence{time.Second, 2 * time.Second},
			Jitter:      jitter.None,
			MaxAttempts: backoff.Unlimited,
		}
		var rec recorder[int]
		rec.attach(p)
		op, calls := script(fail[int](errBoom))
		_, err := p.Do(context.Background(), op)
		if !errors.Is(err, backoff.ErrExhausted) || *calls != 3 {
			t.Errorf("err = %v after %d calls; want exhausted after 3", err, *calls)
		}
		want := "backoff tries=1 wait=1s; backoff tries=2 wait=2s; giveup tries=3 reason=exhausted"
		if rec.String() != want {
			t.Errorf("events = %s\nwant %s", rec.String(), want)
		}
	})
}

// TestWaitOrder checks strategy → cap → jitter → clamp to the time left.
func TestWaitOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var states []strategy.State
		var us []float64
		p := &backoff.Policy[int]{
			Wait: strategy.Capped{
				Strategy: strategy.Func(func(s strategy.State) (time.Duration, bool) {
					states = append(states, s)
					return 10 * time.Second, true
				}),
				Max: 4 * time.Second,
			},
			Jitter: func(d time.Duration, u float64) time.Duration {
				us = append(us, u)
				return d / 2
			},
			MaxAttempts: 4,
			MaxTime:     5 * time.Second,
		}
		var waits []time.Duration
		p.OnBackoff = []backoff.Handler[int]{func(d backoff.Details[int]) { waits = append(waits, d.Wait) }}
		op, _ := script(fail[int](errBoom))
		p.Do(context.Background(), op)
		// 10s capped to 4s, halved to 2s; the third wait is clamped to the
		// 1s left under the max time of 5s.
		want := []time.Duration{2 * time.Second, 2 * time.Second, time.Second}
		if fmt.Sprint(waits) != fmt.Sprint(want) {
			t.Errorf("waits = %v, want %v", waits, want)
		}
		for i, s := range states {
			if s.Retry != i+1 || s.Err != errBoom || s.Value != nil || s.Rand < 0 || s.Rand >= 1 {
				t.Errorf("state %d = %+v", i, s)
			}
		}
		if len(states) > 1 && states[1].Prev != 4*time.Second {
			t.Errorf("second state Prev = %v, want the capped first value 4s", states[1].Prev)
		}
		for _, u := range us {
			if u < 0 || u >= 1 {
				t.Errorf("jitter draw %v outside [0, 1)", u)
			}
		}
	})
}

func TestRuntimeStrategySeesOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Python's runtime: the wait comes from the failed attempt's value.
		p := &backoff.Policy[int]{
			RetryIf: func(v int) bool { return v > 0 },
			Wait: strategy.Runtime{Value: func(v any, err error) (time.Duration, bool) {
				return time.Duration(v.(int)) * time.Second, true
			}},
			Jitter: jitter.None,
		}
		var waits []time.Duration
		p.OnBackoff = []backoff.Handler[int]{func(d backoff.Details[int]) { waits = append(waits, d.Wait) }}
		op, _ := script(ok(3), ok(1), ok(0))
		if v, err := p.Do(context.Background(), op); v != 0 || err != nil {
			t.Fatalf("Do = %d, %v", v, err)
		}
		if fmt.Sprint(waits) != "[3s 1s]" {
			t.Errorf("waits = %v, want [3s 1s]", waits)
		}
	})
}

func TestErrorType(t *testing.T) {
	pathErr := &fs.PathError{Op: "open", Path: "/x", Err: fs.ErrNotExist}
	p := &backoff.Policy[int]{Wait: strategy.Immediate, MaxAttempts: 2}
	op, _ := script(fail[int](pathErr))
	_, err := p.Do(context.Background(), op)
	var e *backoff.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %T, want *backoff.Error", err)
	}
	var pe *fs.PathError
	if !errors.Is(err, backoff.ErrMaxAttempts) || !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe != pathErr {
		t.Errorf("errors.Is/As do not reach the reason and the last error of %v", err)
	}
	if errors.Is(err, backoff.ErrMaxTime) {
		t.Errorf("errors.Is(err, ErrMaxTime) = true")
	}
	want := "backoff: giving up after 2 attempts (max_tries): last error: open /x: file does not exist"
	if err.Error() != want {
		t.Errorf("Error() = %q\nwant %q", err.Error(), want)
	}
}

func TestNilOperationAndPolicy(t *testing.T) {
	var p *backoff.Policy[int]
	if _, err := p.Do(context.Background(), nil); err != backoff.ErrNilOperation {
		t.Errorf("Do(nil) error = %v", err)
	}
	if err := p.Run(context.Background(), nil); err != backoff.ErrNilOperation {
		t.Errorf("Run(nil) error = %v", err)
	}
	if _, err := p.Wrap(nil)(context.Background()); err != backoff.ErrNilOperation {
		t.Errorf("Wrap(nil)() error = %v", err)
	}
	if err := p.WrapRun(nil)(context.Background()); err != backoff.ErrNilOperation {
		t.Errorf("WrapRun(nil)() error = %v", err)
	}
	// A nil Policy is the zero Policy.
	synctest.Test(t, func(t *testing.T) {
		op, calls := script(fail[int](errBoom))
		if _, err := p.Do(context.Background(), op); !errors.Is(err, backoff.ErrMaxAttempts) || *calls != backoff.DefaultMaxAttempts {
			t.Errorf("nil Policy: err = %v after %d calls", err, *calls)
		}
	})
}

func TestZeroPolicyWaits(t *testing.T) {
	// Expo defaults (1s, 2s, 4s) under full jitter: each wait in [0, raw].
	synctest.Test(t, func(t *testing.T) {
		var p backoff.Policy[int]
		var waits []time.Duration
		p.OnBackoff = []backoff.Handler[int]{func(d backoff.Details[int]) { waits = append(waits, d.Wait) }}
		op, _ := script(fail[int](errBoom))
		p.Do(context.Background(), op)
		if len(waits) != backoff.DefaultMaxAttempts-1 {
			t.Fatalf("%d waits, want %d", len(waits), backoff.DefaultMaxAttempts-1)
		}
		for i, w := range waits {
			if hi := time.Second << i; w < 0 || w > hi {
				t.Errorf("wait %d = %v, want in [0, %v]", i, w, hi)
			}
		}
	})
}

func TestRunAndWrap(t *testing.T) {
	p := &backoff.Policy[struct{}]{Wait: strategy.Immediate}
	calls := 0
	flaky := func(context.Context) error {
		calls++
		if calls < 3 {
			return errBoom
		}
		return nil
	}
	if err := p.Run(context.Background(), flaky); err != nil || calls != 3 {
		t.Errorf("Run = %v after %d calls", err, calls)
	}

	var names []string
	p.OnGiveUp = []backoff.Handler[struct{}]{func(d backoff.Details[struct{}]) { names = append(names, d.Name) }}
	wrapped := p.WrapRun(alwaysFails)
	p.MaxAttempts = 1 // the wrapper holds a copy: this has no effect on it
	if err := wrapped(context.Background()); !errors.Is(err, backoff.ErrMaxAttempts) {
		t.Errorf("wrapped() = %v", err)
	}
	if len(names) != 1 || names[0] != "backoff_test.alwaysFails" {
		t.Errorf("names = %q, want the wrapped function's name", names)
	}

	q := &backoff.Policy[int]{Wait: strategy.Immediate, Name: "fetch"}
	n := 0
	get := q.Wrap(func(context.Context) (int, error) {
		n++
		if n < 2 {
			return 0, errBoom
		}
		return n, nil
	})
	if v, err := get(context.Background()); v != 2 || err != nil {
		t.Errorf("wrapped Do = %d, %v", v, err)
	}
}

func alwaysFails(context.Context) error { return errBoom }

func TestWrapValidates(t *testing.T) {
	p := &backoff.Policy[int]{Wait: strategy.Sequence{}}
	if err := p.Validate(); err == nil {
		t.Fatal("Validate() = nil for an empty Sequence")
	}
	calls := 0
	f := p.Wrap(func(context.Context) (int, error) { calls++; return 1, nil })
	if _, err := f(context.Background()); err == nil || calls != 0 {
		t.Errorf("wrapped invalid policy: err = %v after %d calls; want an error before any attempt", err, calls)
	}
}

func TestHandlersInOrder(t *testing.T) {
	var order []string
	var buf bytes.Buffer
	p := &backoff.Policy[int]{
		Wait:        strategy.Immediate,
		MaxAttempts: 2,
		Logger:      slog.New(&orderHandler{order: &order, Handler: slog.NewTextHandler(&buf, nil)}),
	}
	for _, name := range []string{"a", "b", "c"} {
		p.OnBackoff = append(p.OnBackoff, func(backoff.Details[int]) { order = append(order, "backoff "+name) })
		p.OnGiveUp = append(p.OnGiveUp, func(backoff.Details[int]) { order = append(order, "giveup "+name) })
	}
	op, _ := script(fail[int](errBoom))
	p.Do(context.Background(), op)
	want := "log; backoff a; backoff b; backoff c; log; giveup a; giveup b; giveup c"
	if got := strings.Join(order, "; "); got != want {
		t.Errorf("order = %s\nwant %s", got, want)
	}
}

type orderHandler struct {
	order *[]string
	slog.Handler
}

func (h *orderHandler) Handle(ctx context.Context, r slog.Record) error {
	*h.order = append(*h.order, "log")
	return h.Handler.Handle(ctx, r)
}

func TestLogging(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	synctest.Test(t, func(t *testing.T) {
		p := fixed[int](1200 * time.Millisecond)
		p.Name = "fetch"
		p.MaxAttempts = 2
		p.Logger = logger
		op, _ := script(fail[int](errBoom))
		p.Do(context.Background(), op)
	})
	want := `level=INFO msg="Backing off fetch(...) for 1.2s (boom)" target=fetch attempts=1 elapsed=0s wait=1.2s error=boom
level=ERROR msg="Giving up fetch(...) after 2 attempts (boom)" target=fetch attempts=2 elapsed=1.2s reason=max_tries error=boom
`
	if buf.String() != want {
		t.Errorf("log =\n%s\nwant\n%s", buf.String(), want)
	}

	// Custom levels; a value in value mode.
	buf.Reset()
	p := &backoff.Policy[string]{
		Name: "poll", Wait: strategy.Immediate, MaxAttempts: 2, Logger: logger,
		RetryIf:      func(s string) bool { return s != "ready" },
		BackoffLevel: slog.LevelDebug, GiveUpLevel: slog.LevelWarn,
	}
	op, _ := script(ok("pending"))
	p.Do(context.Background(), op)
	want = `level=DEBUG msg="Backing off poll(...) for 0s (pending)" target=poll attempts=1 elapsed=0s wait=0s
level=WARN msg="Giving up poll(...) after 2 attempts (pending)" target=poll attempts=2 elapsed=0s reason=max_tries
`
	if got := regexpElapsed(buf.String()); got != want {
		t.Errorf("log =\n%s\nwant\n%s", got, want)
	}

	// Disabled levels write nothing.
	buf.Reset()
	p.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError}))
	p.Do(context.Background(), op)
	if buf.Len() != 0 {
		t.Errorf("log at level ERROR = %q, want nothing", buf.String())
	}
}

// regexpElapsed replaces real elapsed times with 0s.
func regexpElapsed(s string) string {
	var out []string
	for _, line := range strings.SplitAfter(s, "\n") {
		f := strings.Fields(line)
		for i, w := range f {
			if strings.HasPrefix(w, "elapsed=") {
				f[i] = "elapsed=0s"
			}
		}
		if len(f) > 0 {
			out = append(out, strings.Join(f, " ")+"\n")
		}
	}
	return strings.Join(out, "")
}

func TestConcurrentCallsShareAPolicy(t *testing.T) {
	p := &backoff.Policy[int]{Wait: strategy.Expo{Factor: time.Nanosecond}, MaxAttempts: 5}
	done := make(chan error)
	for i := 0; i < 16; i++ {
		go func() {
			n := 0
			_, err := p.Do(context.Background(), func(context.Context) (int, error) {
				n++
				if n < 4 {
					return 0, errBoom
				}
				return n, nil
			})
			done <- err
		}()
	}
	for i := 0; i < 16; i++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestNoAllocations(t *testing.T) {
	ctx := context.Background()
	p := &backoff.Policy[int]{Wait: strategy.Immediate}
	success := func(context.Context) (int, error) { return 1, nil }
	if n := testing.AllocsPerRun(100, func() { p.Do(ctx, success) }); n != 0 {
		t.Errorf("first-try success: %v allocs, want 0", n)
	}
	calls := 0
	flaky := func(context.Context) (int, error) {
		calls++
		if calls%4 != 0 {
			return 0, errBoom
		}
		return 1, nil
	}
	if n := testing.AllocsPerRun(100, func() { p.Do(ctx, flaky) }); n != 0 {
		t.Errorf("three retries with zero waits: %v allocs, want 0", n)
	}
	var handled int
	p.OnSuccess = []backoff.Handler[int]{func(backoff.Details[int]) { handled++ }}
	p.OnBackoff = p.OnSuccess
	if n := testing.AllocsPerRun(100, func() { p.Do(ctx, flaky) }); n != 0 {
		t.Errorf("with handlers: %v allocs, want 0", n)
	}
}

func BenchmarkDo(b *testing.B) {
	ctx := context.Background()
	b.Run("success", func(b *testing.B) {
		b.ReportAllocs()
		p := &backoff.Policy[int]{}
		op := func(context.Context) (int, error) { return 1, nil }
		for b.Loop() {
			p.Do(ctx, op)
		}
	})
	b.Run("3failures", func(b *testing.B) {
		b.ReportAllocs()
		p := &backoff.Policy[int]{Wait: strategy.Immediate, Jitter: jitter.None}
		calls := 0
		op := func(context.Context) (int, error) {
			calls++
			if calls%4 != 0 {
				return 0, errBoom
			}
			return 1, nil
		}
		for b.Loop() {
			p.Do(ctx, op)
		}
	})
}

func TestOnAttempt(t *testing.T) {
	notRetryable := errors.New("not retryable")
	p := &backoff.Policy[int]{
		RetryOn:     backoff.ErrorIs(errBoom),
		Wait:        strategy.Constant{Interval: time.Second},
		Jitter:      jitter.None,
		MaxAttempts: 3,
	}
	var got []string
	p.OnAttempt = []backoff.Handler[int]{func(d backoff.Details[int]) {
		got = append(got, fmt.Sprintf("%d:%v:%v:%v:%s", d.Attempts, d.Err, d.Final, d.Wait, string(d.Reason)))
	}}
	synctest.Test(t, func(t *testing.T) {
		for _, tc := range []struct {
			results []result[int]
			want    string
		}{
			{[]result[int]{fail[int](errBoom), ok(1)}, "1:boom:false:1s: 2:<nil>:true:0s:"},
			{[]result[int]{fail[int](errBoom), fail[int](notRetryable)}, "1:boom:false:1s: 2:not retryable:true:0s:"},
			{[]result[int]{fail[int](errBoom)}, "1:boom:false:1s: 2:boom:false:1s: 3:boom:true:0s:max_tries"},
		} {
			got = nil
			op, _ := script(tc.results...)
			p.Do(context.Background(), op)
			if s := strings.Join(got, " "); s != tc.want {
				t.Errorf("OnAttempt saw %s\nwant %s", s, tc.want)
			}
		}
	})
}

// BenchmarkErrorAs: an ErrorAs predicate on an error that wraps a match
// once (hit) and on one that has none (miss).
func BenchmarkErrorAs(b *testing.B) {
	match := backoff.ErrorAs[*fs.PathError]()
	hit := fmt.Errorf("read: %w", &fs.PathError{Op: "read", Path: "x", Err: errBoom})
	miss := fmt.Errorf("read: %w", errBoom)
	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !match(hit) {
				b.Fatal("no match")
			}
		}
	})
	b.Run("miss", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if match(miss) {
				b.Fatal("match")
			}
		}
	})
}

// BenchmarkErrorText: the text of the Error of a call that gave up.
func BenchmarkErrorText(b *testing.B) {
	err := &backoff.Error{Reason: backoff.ErrMaxAttempts, Attempts: 4, Elapsed: time.Second, Err: errBoom}
	b.ReportAllocs()
	for b.Loop() {
		if err.Error() == "" {
			b.Fatal("empty")
		}
	}
}

// UntimedFirstSuccess leaves Details.Elapsed at 0 in the OnAttempt and
// OnSuccess of a first-attempt success, and only there.
func TestPolicyUntimedFirstSuccess(t *testing.T) {
	errFatal := errors.New("fatal")
	cases := []struct {
		name    string
		untimed bool
		results []error // of the attempts in turn; nil is a success
		max     int
		want    string
		wantErr time.Duration // the Elapsed of the *Error, if any
	}{
		{"first success, timed", false, []error{nil}, 0, "attempt#1 1s success#1 1s", 0},
		{"first success, untimed", true, []error{nil}, 0, "attempt#1 0s success#1 0s", 0},
		{"success after a retry, untimed", true, []error{errBoom, nil}, 0,
			"attempt#1 1s backoff#1 1s attempt#2 3s success#2 3s", 0},
		{"give-up at the first attempt, untimed", true, []error{errBoom}, 1, "attempt#1 1s giveup#1 1s", time.Second},
		{"error not retried, untimed", true, []error{errFatal}, 0, "attempt#1 1s", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var log []string
				h := func(hook string) backoff.Handler[int] {
					return func(d backoff.Details[int]) {
						log = append(log, fmt.Sprintf("%s#%d %v", hook, d.Attempts, d.Elapsed))
					}
				}
				p := &backoff.Policy[int]{
					RetryOn:     func(err error) bool { return err == errBoom },
					Wait:        strategy.Constant{Interval: time.Second},
					Jitter:      jitter.None,
					MaxAttempts: c.max,
					OnAttempt:   []backoff.Handler[int]{h("attempt")},
					OnBackoff:   []backoff.Handler[int]{h("backoff")},
					OnSuccess:   []backoff.Handler[int]{h("success")},
					OnGiveUp:    []backoff.Handler[int]{h("giveup")},

					UntimedFirstSuccess: c.untimed,
				}
				n := 0
				_, err := p.Do(context.Background(), func(context.Context) (int, error) {
					time.Sleep(time.Second)
					n++
					return 1, c.results[n-1]
				})
				if got := strings.Join(log, " "); got != c.want {
					t.Errorf("events\n%s\nwant\n%s", got, c.want)
				}
				var e *backoff.Error
				if errors.As(err, &e) && e.Elapsed != c.wantErr {
					t.Errorf("Error.Elapsed = %v, want %v", e.Elapsed, c.wantErr)
				}
			})
		})
	}
}
