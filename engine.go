package backoff

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

// caller is one call's operation and the hooks through which the HTTP
// Transport takes part in the engine's decisions. The engine is generic
// over it so that no interface value is built per call.
type caller[T any] interface {
	// attempt makes one attempt: for the Transport, one round of attempts
	// (the attempt and its hedges).
	attempt(ctx context.Context) (T, error)
	// sent returns the number of attempts made in the first rounds calls of
	// attempt: rounds itself, but for the Transport's hedges. It is what
	// the Details count and what MaxAttempts bounds.
	sent(rounds int) int
	// decide classifies the outcome of an attempt.
	decide(p *Policy[T], v T, err error) verdict
	// ended receives the end of a call that neither retries nor gives up
	// (the verdict succeed or fail, after rounds rounds), when the Policy
	// has no handler for it: the caller fires its own events, as observe
	// would (evAttempt, then evSuccess for a success), measuring the
	// elapsed time from start unless untimed allows it not to.
	ended(v T, err error, rounds int, start time.Duration, success, untimed bool)
	// watching reports whether the caller observes the attempt and the
	// success events of a call that ends without a retry or a give-up
	// (see observe): the engine then builds them even when the Policy has
	// no handler for them, and passes them to observe only if so.
	watching() (attempt, success bool)
	// observes reports whether observe does anything with the events of a
	// retried attempt, and whether observe, vet and admit read the Elapsed
	// of its Details: if not, the engine skips those observe calls and,
	// unless something else needs it, reads the clock only when the call
	// ends.
	observes() bool
	// observe receives each event of the call after the Policy's own
	// handlers. (Details travel by value through these methods: a pointer
	// would move them to the heap.)
	observe(e event, d Details[T])
	// vet runs after the wait is computed (strategy, cap, jitter) and before
	// the clamp to the time left: it may lengthen the wait, or give up with
	// a reason. jit is the Policy's jitter; left is the time left under
	// MaxTime and before the context deadline (negative when neither
	// applies).
	vet(d Details[T], wait time.Duration, jit jitter.Func, left time.Duration) (time.Duration, Reason)
	// admit runs last, when the retry is otherwise decided; it may refuse it.
	admit(d Details[T]) Reason
	// discard releases a value that will not be returned (a retry follows)
	// and returns the time it took, which counts toward the wait that
	// follows. It must be done by the end of maxTime (if positive) from
	// start, both read on monotonic(), and by ctx's deadline.
	discard(ctx context.Context, v T, start, maxTime time.Duration) time.Duration
}

// verdict is the classification of an attempt's outcome.
type verdict int

const (
	succeed verdict = iota // return the value
	fail                   // return the error as it is, no event
	retry                  // retry, unless a limit says otherwise
)

// decide is the Policy's own classification: RetryOn and RetryIf.
func (p *Policy[T]) decide(v T, err error) verdict {
	switch {
	case err != nil && p.retryable(err):
		return retry
	case err != nil:
		return fail
	case p.RetryIf != nil && p.RetryIf(v):
		return retry
	}
	return succeed
}

// opCall is the caller of Do and Wrap.
type opCall[T any] func(context.Context) (T, error)

func (f opCall[T]) attempt(ctx context.Context) (T, error)       { return f(ctx) }
func (opCall[T]) sent(rounds int) int                            { return rounds }
func (opCall[T]) decide(p *Policy[T], v T, err error) verdict    { return p.decide(v, err) }
func (opCall[T]) watching() (bool, bool)                         { return false, false }
func (opCall[T]) observes() bool                                 { return false }
func (opCall[T]) ended(T, error, int, time.Duration, bool, bool) {}
func (opCall[T]) observe(event, Details[T])                      {}
func (opCall[T]) vet(_ Details[T], w time.Duration, _ jitter.Func, _ time.Duration) (time.Duration, Reason) {
	return w, ""
}
func (opCall[T]) admit(Details[T]) Reason { return "" }
func (opCall[T]) discard(context.Context, T, time.Duration, time.Duration) time.Duration {
	return 0
}

// runCall is the caller of Run and WrapRun.
type runCall[T any] func(context.Context) error

func (f runCall[T]) attempt(ctx context.Context) (T, error) {
	var zero T
	return zero, f(ctx)
}
func (runCall[T]) sent(rounds int) int                            { return rounds }
func (runCall[T]) decide(p *Policy[T], v T, err error) verdict    { return p.decide(v, err) }
func (runCall[T]) watching() (bool, bool)                         { return false, false }
func (runCall[T]) observes() bool                                 { return false }
func (runCall[T]) ended(T, error, int, time.Duration, bool, bool) {}
func (runCall[T]) observe(event, Details[T])                      {}
func (runCall[T]) vet(_ Details[T], w time.Duration, _ jitter.Func, _ time.Duration) (time.Duration, Reason) {
	return w, ""
}
func (runCall[T]) admit(Details[T]) Reason { return "" }
func (runCall[T]) discard(context.Context, T, time.Duration, time.Duration) time.Duration {
	return 0
}

var defaultWait strategy.Strategy = strategy.Expo{}

// event names the events of a call, for caller.observe.
type event uint8

const (
	evAttempt event = iota // after every attempt (OnAttempt)
	evBackoff              // before each wait (OnBackoff)
	evSuccess              // the call succeeded (OnSuccess)
	evGiveUp               // the call gave up (OnGiveUp)
)

// run is the engine: one call of c under p.
func run[T any, C caller[T]](ctx context.Context, p *Policy[T], c C) (T, error) {
	if p == nil {
		p = new(Policy[T])
	}
	maxAttempts := p.MaxAttempts
	if p.MaxAttemptsFunc != nil {
		maxAttempts = p.MaxAttemptsFunc()
	}
	if maxAttempts == 0 {
		maxAttempts = DefaultMaxAttempts
	}
	maxTime := p.MaxTime
	if p.MaxTimeFunc != nil {
		maxTime = p.MaxTimeFunc()
	}
	wait := p.Wait
	if wait == nil {
		wait = defaultWait
	}
	jit := p.Jitter
	if jit == nil {
		jit = jitter.Full
	}
	name := p.Name
	if name == "" {
		name = "operation"
	}

	if p.SingleAttemptBelow {
		ctx = WithSingleAttempt(ctx)
	}
	start := monotonic()
	var prev time.Duration // the strategy's previous value
	for attempt := 1; ; attempt++ {
		v, err := c.attempt(ctx)

		if verdict := c.decide(p, v, err); verdict != retry {
			if len(p.OnAttempt) == 0 && (verdict != succeed || len(p.OnSuccess) == 0) {
				// No handler of the Policy's own: the caller's events
				// alone, which it builds without Details.
				c.ended(v, err, attempt, start, verdict == succeed, p.UntimedFirstSuccess)
				return v, err
			}
			onAttempt, onSuccess := c.watching()
			onSuccess = onSuccess && verdict == succeed
			if len(p.OnAttempt) > 0 || verdict == succeed && len(p.OnSuccess) > 0 || onAttempt || onSuccess {
				d := Details[T]{Name: name, Attempts: c.sent(attempt), Value: v, Err: err, Final: true}
				if d.Attempts > 1 || verdict != succeed || !p.UntimedFirstSuccess {
					d.Elapsed = monotonic() - start
				}
				fire(p.OnAttempt, d)
				if onAttempt {
					c.observe(evAttempt, d)
				}
				if verdict == succeed {
					fire(p.OnSuccess, d)
					if onSuccess {
						c.observe(evSuccess, d)
					}
				}
			}
			return v, err
		}

		// timed: something reads the elapsed time of a retried attempt (the
		// MaxTime check, the handlers, the log line, the caller's events),
		// so the clock is read now; otherwise only when the call ends. (A
		// clock read costs tens of ns on a VM.) Not computed before the
		// first attempt, which is most often the last.
		observes := c.observes()
		timed := maxTime > 0 || len(p.OnAttempt) > 0 || len(p.OnBackoff) > 0 || p.Logger != nil || observes
		var elapsed time.Duration
		if timed {
			elapsed = monotonic() - start
		}
		d := Details[T]{Name: name, Attempts: c.sent(attempt), Elapsed: elapsed, Value: v, Err: err}
		var w time.Duration
		var reason Reason
		switch {
		case err != nil && p.GiveUp != nil && p.GiveUp(err):
			reason = ErrGiveUp
		case maxAttempts > 0 && d.Attempts >= maxAttempts:
			reason = ErrMaxAttempts
		case maxTime < 0 || maxTime > 0 && elapsed >= maxTime:
			reason = ErrMaxTime
		default:
			var raw time.Duration
			w, raw, reason = nextWait(ctx, wait, jit, c, &d, attempt, prev, maxTime, elapsed)
			if reason == "" {
				prev = raw
				reason = c.admit(d)
			}
		}
		if reason != "" {
			if !timed {
				d.Elapsed = monotonic() - start
			}
			d.Final, d.Reason = true, reason
			fire(p.OnAttempt, d)
			c.observe(evAttempt, d)
			return giveUp(ctx, p, c, d, reason, nil)
		}

		d.Wait = w
		// Guarded: each call copies the Details.
		if len(p.OnAttempt) > 0 {
			fire(p.OnAttempt, d)
		}
		if observes {
			c.observe(evAttempt, d)
		}
		if p.Logger != nil {
			p.logBackoff(ctx, &d)
		}
		if len(p.OnBackoff) > 0 {
			fire(p.OnBackoff, d)
		}
		if observes {
			c.observe(evBackoff, d)
		}
		// Discarding v (draining a response) takes part of the wait, not
		// time of its own, and ends by MaxTime: so a call never runs
		// longer than MaxTime plus one attempt.
		spent := c.discard(ctx, v, start, maxTime)
		if err := sleep(ctx, w-spent); err != nil {
			d.Wait, d.Final = 0, true
			d.Elapsed = monotonic() - start
			var zero T
			d.Value = zero // discarded above
			return giveUp(ctx, p, c, d, ctxReason(ctx), err)
		}
	}
}

// nextWait computes the wait before retry number n and the strategy's raw
// value, or the reason to give up instead.
func nextWait[T any, C caller[T]](ctx context.Context, wait strategy.Strategy, jit jitter.Func, c C, d *Details[T], n int, prev, maxTime, elapsed time.Duration) (w, raw time.Duration, reason Reason) {
	if n == 1 && nilPointer(wait) {
		// Its methods would panic (see Policy.Wait). Checked on the first
		// retry only: a nil pointer never gets to the second.
		return 0, 0, ErrExhausted
	}
	s := strategy.State{Retry: n, Prev: prev, Err: d.Err, Rand: rand.Float64()}
	if d.Err == nil {
		s.Value = d.Value
	}
	raw, ok := wait.Next(s)
	if !ok {
		return 0, 0, ErrExhausted
	}
	if raw < 0 {
		raw = 0
	}
	w = jit(raw, rand.Float64())
	if w < 0 {
		w = 0
	}

	// The time left: under MaxTime, and before the context's deadline.
	left := time.Duration(-1)
	if maxTime > 0 {
		left = maxTime - elapsed
	}
	var now, dl time.Time
	dl, hasDeadline := ctx.Deadline()
	if hasDeadline {
		now = time.Now()
		if until := max(dl.Sub(now), 0); left < 0 || until < left {
			left = until
		}
	}

	// The caller's own rules (for a Transport: replayability and the
	// server-given wait, a floor) come before the clamp.
	w, reason = c.vet(*d, w, jit, left)
	if reason != "" {
		return 0, 0, reason
	}

	if maxTime > 0 && w > maxTime-elapsed {
		w = maxTime - elapsed
	}
	if hasDeadline && !now.Add(w).Before(dl) {
		return 0, 0, ErrDeadline
	}
	if ctx.Err() != nil {
		return 0, 0, ctxReason(ctx)
	}
	return w, raw, ""
}

// retryable reports whether err is retried.
func (p *Policy[T]) retryable(err error) bool {
	if p.RetryOn != nil {
		return p.RetryOn(err)
	}
	return p.RetryIf == nil
}

// giveUp ends a call that gives up: event, log line and result.
func giveUp[T any, C caller[T]](ctx context.Context, p *Policy[T], c C, d Details[T], reason Reason, cause error) (T, error) {
	d.Reason = reason
	if cause == nil && (reason == ErrCanceled || reason == ErrDeadline) && ctx.Err() != nil {
		cause = context.Cause(ctx)
	}
	p.logGiveUp(ctx, &d)
	fire(p.OnGiveUp, d)
	c.observe(evGiveUp, d)
	if p.NoErrorOnGiveUp && reason != ErrCanceled && reason != ErrDeadline && reason != ErrExhausted {
		if d.Err != nil {
			var zero T
			return zero, nil
		}
		return d.Value, nil
	}
	return d.Value, &Error{Reason: reason, Attempts: d.Attempts, Elapsed: d.Elapsed, Err: d.Err, Cause: cause}
}

// ctxReason is the give-up reason for a context that is done.
func ctxReason(ctx context.Context) Reason {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ErrDeadline
	}
	return ErrCanceled
}
