package backoff

import (
	"errors"
	"log/slog"
	"reflect"
	"time"

	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

// DefaultMaxAttempts is the number of attempts, the first included, that a
// Policy makes when its MaxAttempts is 0.
const DefaultMaxAttempts = 4

// Unlimited, as MaxAttempts, removes the attempt limit. A call is then bounded
// only by MaxTime, the context, a finite strategy or the GiveUp predicate.
const Unlimited = -1

// A Policy describes when an operation is retried and how long to wait in
// between: the Go form of Python backoff's on_exception and on_predicate
// decorators. T is the operation's result type; use Policy[struct{}] with
// [Policy.Run] for operations that return only an error.
//
// The zero Policy retries every error, up to [DefaultMaxAttempts] attempts,
// waiting 1s, 2s, 4s, … (strategy.Expo's defaults) spread by full jitter.
//
// A Policy is configuration only: every call keeps its own state, so one
// Policy may be used by any number of goroutines at once, provided it is not
// modified while calls are running.
//
// # One call
//
// Each attempt runs the operation with the caller's context. After it
// returns, its elapsed time is measured (from the start of the call) and:
//
//   - success (no error and RetryIf, if set, says no): the OnSuccess
//     handlers run and the result is returned;
//   - an error that RetryOn does not accept: it is returned as it is; no
//     event handler runs but OnAttempt;
//   - otherwise the call is retried, unless one of these holds, checked in
//     this order, which ends it with the OnGiveUp handlers and an [*Error]
//     with that [Reason]: GiveUp (ErrGiveUp), MaxAttempts (ErrMaxAttempts),
//     MaxTime (ErrMaxTime), the strategy ran out (ErrExhausted), the wait
//     would end after the context's deadline (ErrDeadline), the context is
//     done (ErrCanceled or ErrDeadline).
//
// The wait before a retry is computed in a fixed order: the Wait strategy's
// value, capped by the strategy itself (strategy.Capped or a Max field),
// then Jitter, then clamped to the time left under MaxTime. (A [Transport]
// adds its own steps to this order, in HTTP terms: a server-given wait,
// such as Retry-After, as a floor before the clamp; whether the request may
// be sent again; its retry budget. A Policy has no such floor.) The
// OnBackoff handlers then run with that wait, and the call sleeps;
// cancelling the context during the sleep ends the call at once with the
// context's cause (ErrCanceled, OnGiveUp handlers run).
//
// Because elapsed time is measured after each attempt, the last wait is
// clamped, and the time taken to release a value that is not returned (the
// Transport draining a response) counts toward the wait that follows and
// ends by MaxTime, a call never runs longer than MaxTime plus the duration
// of one attempt.
type Policy[T any] struct {
	// Name names the operation in events and log lines, as the decorated
	// function's name does in Python. Empty means "operation"; the Wrap
	// methods fill it from the wrapped function's name.
	Name string

	// RetryOn reports whether an error returned by an attempt is retried
	// (Python's on_exception and its exception classes). [ErrorIs], [ErrorAs]
	// and [AnyOf] build the common cases. An error it rejects is returned to the
	// caller at once, untouched, with no event (OnAttempt still runs).
	//
	// If RetryOn is nil, every error is retried, unless RetryIf is set: a
	// Policy with RetryIf and no RetryOn retries on values only and returns
	// every error untouched (Python's on_predicate).
	RetryOn func(error) bool

	// RetryIf reports whether an attempt that returned a nil error is
	// retried because of its value (Python's on_predicate). [IsZero] is
	// Python's default predicate: retry while the result is the zero value.
	// If nil, a nil error is always success.
	//
	// When a call gives up on a value, the last value is returned together
	// with the [*Error].
	RetryIf func(T) bool

	// GiveUp reports whether a retryable error must end the call now
	// (Python's giveup). It is called once for every error RetryOn accepts,
	// before the limits are checked. Nil never gives up.
	GiveUp func(error) bool

	// Wait computes the wait before each retry. Nil means strategy.Expo{}:
	// 1s, 2s, 4s, 8s, … with no cap. A nil pointer, such as
	// (*strategy.Expo)(nil), is invalid: Validate reports it, and a call
	// treats it as a strategy exhausted at once, so that the first
	// retryable failure gives up with ErrExhausted.
	Wait strategy.Strategy

	// Jitter spreads each wait after the strategy (and its cap). Nil means
	// jitter.Full, as in Python; jitter.None disables jitter. A negative
	// result is used as 0.
	Jitter jitter.Func

	// MaxAttempts is the maximum number of attempts, the first included.
	// 0 means DefaultMaxAttempts; 1 means no retry; a negative value (use
	// [Unlimited]) means no limit.
	MaxAttempts int

	// MaxAttemptsFunc, if set, is called once at the start of every call and
	// its result is used as MaxAttempts for that call (Python's callable
	// max_tries).
	MaxAttemptsFunc func() int

	// MaxTime bounds the time of one call: no retry starts after MaxTime has
	// elapsed, and the last wait is shortened to end at MaxTime, so a call
	// never runs longer than MaxTime plus one attempt. 0 means no limit;
	// a negative value means that the first failure gives up, as in Python.
	MaxTime time.Duration

	// MaxTimeFunc, if set, is called once at the start of every call and its
	// result is used as MaxTime for that call (Python's callable max_time).
	MaxTimeFunc func() time.Duration

	// SingleAttemptBelow passes every attempt a context marked by
	// [WithSingleAttempt], so that a Transport inside the operation makes a
	// single attempt and only this Policy retries. It costs one allocation
	// per call.
	SingleAttemptBelow bool

	// NoErrorOnGiveUp makes a call that gives up return a nil error (Python's
	// raise_on_giveup=False): the zero value after an error, or the last
	// value when the call gave up on a value. A call ended by its context
	// (ErrCanceled, ErrDeadline) still returns its error: the caller's
	// context decided, not the Policy. So does a call whose finite strategy
	// ran out (ErrExhausted), as in Python, which raises on exhaustion
	// whatever raise_on_giveup says.
	NoErrorOnGiveUp bool

	// OnSuccess, OnBackoff and OnGiveUp are the event handlers, called in
	// order, synchronously on the calling goroutine, after the log line of
	// the event (if any). OnSuccess runs once when a call succeeds, OnBackoff
	// once before every wait, OnGiveUp once when a call gives up. A call that
	// returns a non-retryable error fires none of them. Handlers must not
	// block and must not keep the Details' Value past their return; a
	// panicking handler ends the call by panicking in the caller. Nil
	// entries are skipped.
	OnSuccess []Handler[T]
	OnBackoff []Handler[T]
	OnGiveUp  []Handler[T]

	// OnAttempt handlers run once after every attempt, whatever its outcome
	// (a non-retryable error included), before the event it leads to: the
	// place to count attempts. Details.Final tells whether another attempt
	// follows; when one does, Details.Wait is the wait before it. A call
	// cancelled during a wait fires no OnAttempt for it, only OnGiveUp.
	OnAttempt []Handler[T]

	// UntimedFirstSuccess declares that the OnAttempt and OnSuccess
	// handlers do not read Details.Elapsed for a call that succeeds at its
	// first attempt. The call then reads the clock only once, at its
	// start (a clock read costs tens of nanoseconds on a virtual machine),
	// and Elapsed is 0 in the Details of those two events. Every other
	// event keeps its measured Elapsed: those of a call that retries, that
	// gives up (at its first attempt included), or whose first attempt
	// returns an error that is not retried; so does the [*Error] of a
	// give-up. False, the zero value, measures every event.
	// [github.com/f99b3bbb/backoff/metrics.InstrumentPolicy] sets it when
	// neither its metrics nor the Policy's own handlers need that time.
	UntimedFirstSuccess bool

	// Logger, if set, receives a line for every backoff and every give-up,
	// in Python's form ("Backing off NAME(...) for 1.2s (ERROR)", "Giving up
	// NAME(...) after 3 attempts (ERROR)") with the details as attributes. Nil
	// logs nothing. Arguments of the operation are never logged, and every
	// URL in the text of an error or a value logged is cut down to
	// scheme://host, so that no user info, path or query reaches the log.
	Logger *slog.Logger

	// BackoffLevel and GiveUpLevel are the levels of those lines. Nil means
	// slog.LevelInfo for backoff lines and slog.LevelError for give-up lines
	// (Python's defaults). A give-up because the context was cancelled is
	// logged at BackoffLevel. A nil pointer, such as (*slog.LevelVar)(nil),
	// is invalid: Validate reports it, and the lines use the default level.
	BackoffLevel slog.Leveler
	GiveUpLevel  slog.Leveler
}

// Validate reports whether the Policy's configuration is valid: whether its
// wait strategy is (when the strategy has a Validate method, as every
// built-in one does), and whether Wait, BackoffLevel or GiveUpLevel holds a
// nil pointer (or another nil value that is not an untyped nil and has no
// Validate method of its own), as a [*ConfigError]. A Policy that is not
// valid still works, with the normalisations its fields and its strategy
// document; Validate lets a program refuse bad configuration when it is
// read.
func (p *Policy[T]) Validate() error {
	if p == nil {
		return nil
	}
	var errs []error
	if p.Wait != nil {
		errs = append(errs, validateWait("Policy.Wait", p.Wait))
	}
	errs = append(errs, validateLevel("Policy.BackoffLevel", p.BackoffLevel), validateLevel("Policy.GiveUpLevel", p.GiveUpLevel))
	return errors.Join(errs...)
}

// nilPointer reports whether v holds a nil pointer, whose value-receiver
// methods panic.
func nilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// nilValue reports whether v holds a nil pointer, func, map or channel: an
// interface value that is not nil but whose methods may well panic.
func nilValue(v any) bool {
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Chan, reflect.UnsafePointer:
		return rv.IsNil()
	}
	return false
}

// typedNilError reports that field holds v, a nil value of a concrete type.
func typedNilError(field string, v any, hint string) error {
	return &ConfigError{Field: field, Value: "(" + reflect.TypeOf(v).String() + ")(nil)", Msg: "must not be a nil value of a concrete type: " + hint}
}

// validateWait reports whether a wait strategy is valid: not a nil pointer
// or nil value, and valid by its own Validate method if it has one.
func validateWait(field string, w strategy.Strategy) error {
	v, ok := w.(interface{ Validate() error })
	switch {
	case nilPointer(w) || !ok && nilValue(w):
		return typedNilError(field, w, "use a nil strategy for the default one")
	case ok:
		return v.Validate()
	}
	return nil
}

// validateLevel reports a Leveler that holds a nil value.
func validateLevel(field string, l slog.Leveler) error {
	if l != nil && nilValue(l) {
		return typedNilError(field, l, "use a nil Leveler for the default level")
	}
	return nil
}
