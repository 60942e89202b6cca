package backoff

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

// DefaultMaxTries is the number of attempts, the first included, that a
// Policy makes when its MaxTries is 0.
const DefaultMaxTries = 4

// Unlimited, as MaxTries, removes the attempt limit. A call is then bounded
// only by MaxTime, the context, a finite strategy or the GiveUp predicate.
const Unlimited = -1

// A Policy describes when an operation is retried and how long to wait in
// between: the Go form of Python backoff's on_exception and on_predicate
// decorators. T is the operation's result type; use Policy[struct{}] with
// [Policy.Run] for operations that return only an error.
//
// The zero Policy retries every error, up to [DefaultMaxTries] attempts,
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
//     with that [Reason]: GiveUp (ErrGiveUp), MaxTries (ErrMaxTries),
//     MaxTime (ErrMaxTime), the strategy ran out (ErrExhausted), a
//     server-given wait does not fit in the time left (ErrRetryAfter), the
//     wait would end after the context's deadline (ErrDeadline), the
//     context is done (ErrCanceled or ErrDeadline).
//
// The wait before a retry is computed in a fixed order: the Wait strategy's
// value, capped by the strategy itself (strategy.Capped or a Max field),
// then Jitter, then, when the strategy reports a server-given wait (a
// [strategy.Floorer], such as strategy.Runtime with AsFloor), raised to
// that floor, then clamped to the time left under MaxTime. A jittered wait
// below the floor (or one that does not fit in the time left) is replaced
// by the floor lengthened by [FloorSpread]·|floor − Jitter(floor, u)| for a
// random u, by at most FloorSpread·floor: with jitter.None the wait is the
// floor exactly, with jitter.Full it is uniform in [floor,
// floor·(1+FloorSpread)]. The spread never goes past MaxTime or the
// context's deadline. The OnBackoff
// handlers then run with that wait, and the call sleeps; cancelling the
// context during the sleep ends the call at once with the context's cause
// (ErrCanceled, OnGiveUp handlers run).
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
	// (Python's on_exception and its exception classes). [Is], [As] and
	// [AnyOf] build the common cases. An error it rejects is returned to the
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

	// MaxTries is the maximum number of attempts, the first included.
	// 0 means DefaultMaxTries; 1 means no retry; a negative value (use
	// [Unlimited]) means no limit.
	MaxTries int

	// MaxTriesFunc, if set, is called once at the start of every call and
	// its result is used as MaxTries for that call (Python's callable
	// max_tries).
	MaxTriesFunc func() int

	// MaxTime bounds the time of one call: no retry starts after MaxTime has
	// elapsed, and the last wait is shortened to end at MaxTime, so a call
	// never runs longer than MaxTime plus one attempt. 0 means no limit;
	// a negative value means that the first failure gives up, as in Python.
	MaxTime time.Duration

	// MaxTimeFunc, if set, is called once at the start of every call and its
	// result is used as MaxTime for that call (Python's callable max_time).
	MaxTimeFunc func() time.Duration

	// Exclusive passes every attempt a context marked by [Retrying], so
	// that a Transport inside the operation makes a single attempt and only
	// this Policy retries. It costs one allocation per call.
	Exclusive bool

	// NoErrorOnGiveUp makes a call that gives up return a nil error (Python's
	// raise_on_giveup=False): the zero value after an error, or the last
	// value when the call gave up on a value. A call ended by its context
	// (ErrCanceled, ErrDeadline) still returns its error: the caller's
	// context decided, not the Policy. So does a call whose finite strategy
	// ran out (ErrExhausted), as in Python, which raises on exhaustion
	// whatever raise_on_giveup says. A Transport refuses NoErrorOnGiveUp.
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

	// Logger, if set, receives a line for every backoff and every give-up,
	// in Python's form ("Backing off NAME(...) for 1.2s (ERROR)", "Giving up
	// NAME(...) after 3 tries (ERROR)") with the details as attributes. Nil
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

// Handler is an event handler. See [Policy.OnSuccess].
type Handler[T any] func(Details[T])

// fire calls the handlers hs in order, skipping nil ones.
func fire[T any](hs []Handler[T], d Details[T]) {
	for _, h := range hs {
		if h != nil {
			h(d)
		}
	}
}

// Details describes one event of one call. The same fields serve the three
// events; those that do not apply are zero.
type Details[T any] struct {
	// Name is the Policy's Name (or "operation").
	Name string

	// Tries is the number of attempts made so far, the current one included.
	Tries int

	// Elapsed is the time from the start of the call to the end of the
	// current attempt.
	Elapsed time.Duration

	// Wait is, for a backoff event, the wait before the next attempt: after
	// the strategy, the cap, jitter and the clamp to the time left. The
	// time a Transport then spends draining the discarded response is part
	// of it.
	Wait time.Duration

	// Value is the current attempt's result.
	Value T

	// Err is the current attempt's error, or nil.
	Err error

	// Reason is, for a give-up event, why the call gave up.
	Reason Reason

	// Final reports that no attempt follows: true for success and give-up
	// events, false for backoff events.
	Final bool

	// The fields below are set by [Transport] only.

	// Request is the caller's request. Handlers must not modify it or read
	// its body.
	Request *http.Request

	// Method is the request's method and Host its host (the URL's host:port,
	// never its path, query or user info).
	Method, Host string

	// StatusCode is the current attempt's response status, or 0 when the
	// attempt failed without a response.
	StatusCode int

	// RetryAfter is the wait the server asked for in the current attempt's
	// response (Retry-After), or 0 when it asked for none.
	RetryAfter time.Duration
}

// Do calls op until it succeeds or the Policy gives up, and returns its
// last result. See [Policy] for the steps of one call.
//
// A nil Policy behaves as the zero Policy. A nil op returns
// [ErrNilOperation] at once.
func (p *Policy[T]) Do(ctx context.Context, op func(context.Context) (T, error)) (T, error) {
	if op == nil {
		var zero T
		return zero, ErrNilOperation
	}
	return run(ctx, p, opCall[T](op))
}

// Run calls op until it succeeds or the Policy gives up, as [Policy.Do]
// does for operations that return only an error. Handlers see the zero T as
// the value.
func (p *Policy[T]) Run(ctx context.Context, op func(context.Context) error) error {
	if op == nil {
		return ErrNilOperation
	}
	_, err := run(ctx, p, runCall[T](op))
	return err
}

// Wrap returns a function with op's signature that calls op through the
// Policy: the analogue of Python's decorator. The Policy is copied, so
// later changes to p do not affect the returned function. If p.Name is
// empty, the copy is named after op's function name.
//
// The Policy's wait strategy is validated once, here: if it is invalid, or
// op is nil, the returned function makes no attempt and returns the error.
func (p *Policy[T]) Wrap(op func(context.Context) (T, error)) func(context.Context) (T, error) {
	q, err := p.wrapCopy(op)
	if err != nil {
		return func(context.Context) (T, error) {
			var zero T
			return zero, err
		}
	}
	return func(ctx context.Context) (T, error) { return run(ctx, q, opCall[T](op)) }
}

// WrapRun is [Policy.Wrap] for operations that return only an error.
func (p *Policy[T]) WrapRun(op func(context.Context) error) func(context.Context) error {
	q, err := p.wrapCopy(op)
	if err != nil {
		return func(context.Context) error { return err }
	}
	return func(ctx context.Context) error {
		_, err := run(ctx, q, runCall[T](op))
		return err
	}
}

func (p *Policy[T]) wrapCopy(op any) (*Policy[T], error) {
	if reflect.ValueOf(op).IsNil() {
		return nil, ErrNilOperation
	}
	q := new(Policy[T])
	if p != nil {
		*q = *p
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if q.Name == "" {
		q.Name = funcName(op)
	}
	return q, nil
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
	if w := p.Wait; w != nil {
		v, ok := w.(interface{ Validate() error })
		switch {
		case nilPointer(w) || !ok && nilValue(w):
			errs = append(errs, typedNilError("Policy.Wait", w, "use a nil Wait for the default strategy"))
		case ok:
			errs = append(errs, v.Validate())
		}
	}
	for _, f := range []struct {
		name string
		l    slog.Leveler
	}{{"Policy.BackoffLevel", p.BackoffLevel}, {"Policy.GiveUpLevel", p.GiveUpLevel}} {
		if f.l != nil && nilValue(f.l) {
			errs = append(errs, typedNilError(f.name, f.l, "use a nil Leveler for the default level"))
		}
	}
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

// funcName is the name of the function f without its package path, as in
// "main.fetch" or "client.(*API).Get-fm".
func funcName(f any) string {
	fn := runtime.FuncForPC(reflect.ValueOf(f).Pointer())
	if fn == nil {
		return "operation"
	}
	name := fn.Name()
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return name
}

// caller is one call's operation and the hooks through which the HTTP
// Transport takes part in the engine's decisions. The engine is generic
// over it so that no interface value is built per call.
type caller[T any] interface {
	// attempt makes one attempt.
	attempt(ctx context.Context) (T, error)
	// decide classifies the outcome of an attempt.
	decide(p *Policy[T], v T, err error) verdict
	// describe returns d with the caller's fields added. (Details travel by
	// value through these methods: a pointer would move them to the heap.)
	describe(d Details[T]) Details[T]
	// vet runs after the wait is computed (strategy, cap, jitter) and before
	// the clamp to the time left: it may lengthen the wait, or give up with
	// a reason. left is the time left under MaxTime and before the context
	// deadline (negative when neither applies).
	vet(d Details[T], wait, left time.Duration) (time.Duration, Reason)
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

func (f opCall[T]) attempt(ctx context.Context) (T, error)                     { return f(ctx) }
func (opCall[T]) decide(p *Policy[T], v T, err error) verdict                  { return p.decide(v, err) }
func (opCall[T]) describe(d Details[T]) Details[T]                             { return d }
func (opCall[T]) vet(_ Details[T], w, _ time.Duration) (time.Duration, Reason) { return w, "" }
func (opCall[T]) admit(Details[T]) Reason                                      { return "" }
func (opCall[T]) discard(context.Context, T, time.Duration, time.Duration) time.Duration {
	return 0
}

// runCall is the caller of Run and WrapRun.
type runCall[T any] func(context.Context) error

func (f runCall[T]) attempt(ctx context.Context) (T, error) {
	var zero T
	return zero, f(ctx)
}
func (runCall[T]) decide(p *Policy[T], v T, err error) verdict                  { return p.decide(v, err) }
func (runCall[T]) describe(d Details[T]) Details[T]                             { return d }
func (runCall[T]) vet(_ Details[T], w, _ time.Duration) (time.Duration, Reason) { return w, "" }
func (runCall[T]) admit(Details[T]) Reason                                      { return "" }
func (runCall[T]) discard(context.Context, T, time.Duration, time.Duration) time.Duration {
	return 0
}

var defaultWait strategy.Strategy = strategy.Expo{}

// run is the engine: one call of c under p.
func run[T any, C caller[T]](ctx context.Context, p *Policy[T], c C) (T, error) {
	if p == nil {
		p = new(Policy[T])
	}
	maxTries := p.MaxTries
	if p.MaxTriesFunc != nil {
		maxTries = p.MaxTriesFunc()
	}
	if maxTries == 0 {
		maxTries = DefaultMaxTries
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

	if p.Exclusive {
		ctx = Retrying(ctx)
	}
	start := monotonic()
	var prev time.Duration // the strategy's previous value
	for tries := 1; ; tries++ {
		v, err := c.attempt(ctx)

		if verdict := c.decide(p, v, err); verdict != retry {
			if len(p.OnAttempt) > 0 || verdict == succeed && len(p.OnSuccess) > 0 {
				d := Details[T]{Name: name, Tries: tries, Elapsed: monotonic() - start, Value: v, Err: err, Final: true}
				d = c.describe(d)
				fire(p.OnAttempt, d)
				if verdict == succeed {
					fire(p.OnSuccess, d)
				}
			}
			return v, err
		}

		elapsed := monotonic() - start
		d := Details[T]{Name: name, Tries: tries, Elapsed: elapsed, Value: v, Err: err}
		d = c.describe(d)
		var w time.Duration
		var reason Reason
		switch {
		case err != nil && p.GiveUp != nil && p.GiveUp(err):
			reason = ErrGiveUp
		case maxTries > 0 && tries >= maxTries:
			reason = ErrMaxTries
		case maxTime < 0 || maxTime > 0 && elapsed >= maxTime:
			reason = ErrMaxTime
		default:
			var raw time.Duration
			w, raw, reason = nextWait(ctx, wait, jit, c, &d, tries, prev, maxTime, elapsed)
			if reason == "" {
				prev = raw
				reason = c.admit(d)
			}
		}
		if reason != "" {
			d.Final, d.Reason = true, reason
			fire(p.OnAttempt, d)
			return p.giveUp(ctx, d, reason, nil)
		}

		d.Wait = w
		fire(p.OnAttempt, d)
		p.logBackoff(ctx, &d)
		fire(p.OnBackoff, d)
		// Discarding v (draining a response) takes part of the wait, not
		// time of its own, and ends by MaxTime: so a call never runs
		// longer than MaxTime plus one attempt.
		spent := c.discard(ctx, v, start, maxTime)
		if err := sleep(ctx, w-spent); err != nil {
			d.Wait, d.Final = 0, true
			d.Elapsed = monotonic() - start
			var zero T
			d.Value = zero // discarded above
			return p.giveUp(ctx, d, ctxReason(ctx), err)
		}
	}
}

// nextWait computes the wait before retry number tries and the strategy's
// raw value, or the reason to give up instead.
func nextWait[T any, C caller[T]](ctx context.Context, wait strategy.Strategy, jit jitter.Func, c C, d *Details[T], tries int, prev, maxTime, elapsed time.Duration) (w, raw time.Duration, reason Reason) {
	if tries == 1 && nilPointer(wait) {
		// Its methods would panic (see Policy.Wait). Checked on the first
		// retry only: a nil pointer never gets to the second.
		return 0, 0, ErrExhausted
	}
	s := strategy.State{Retry: tries, Prev: prev, Err: d.Err, Rand: rand.Float64()}
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
	var until time.Duration // before the deadline, if there is one
	dl, hasDeadline := ctx.Deadline()
	if hasDeadline {
		now = time.Now()
		until = max(dl.Sub(now), 0)
		if left < 0 || until < left {
			left = until
		}
	}

	w, reason = c.vet(*d, w, left)
	if reason != "" {
		return 0, 0, reason
	}

	// A server-given wait is a floor: never shorter, spread upward only,
	// and within the time left.
	if f, ok := wait.(strategy.Floorer); ok {
		if floor, ok := f.Floor(s); ok && floor > 0 {
			hi := time.Duration(math.MaxInt64)
			if maxTime > 0 {
				hi = maxTime - elapsed
			}
			if hasDeadline {
				hi = min(hi, until-1) // the wait must end before the deadline
			}
			if floor > hi {
				return 0, 0, ErrRetryAfter
			}
			w = floorWait(w, floor, hi, hi, FloorSpread, jit)
		}
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

// FloorSpread is the default largest fraction by which a server-given wait
// (a floor) is lengthened, to spread clients that were told the same time:
// the fraction the engine uses for a [strategy.Floorer]'s floor, and the
// zero value of [Transport.RetryAfterSpread].
//
// The share of it used is drawn from the Policy's Jitter, so that a Policy
// without jitter waits for the floor exactly: see [Policy].
const FloorSpread = 0.2

// floorWait returns the wait for a computed wait w and a server-given
// floor (0 < floor <= timeHi): w itself when it is within [floor, timeHi],
// else floor spread upward, never beyond min(timeHi, capHi).
func floorWait(w, floor, timeHi, capHi time.Duration, spread float64, jit jitter.Func) time.Duration {
	if w >= floor && w <= timeHi {
		return w
	}
	return spreadUp(floor, max(min(timeHi, capHi), floor), spread, jit, rand.Float64())
}

// spreadUp returns floor lengthened by spread·|floor − jit(floor, u)|, by
// at most spread·floor, and never beyond hi (hi >= floor >= 0). jitter.None
// adds nothing; jitter.Full adds a share uniform in (0, spread·floor].
func spreadUp(floor, hi time.Duration, spread float64, jit jitter.Func, u float64) time.Duration {
	if !(spread > 0) || hi <= floor {
		return floor
	}
	dev := math.Abs(float64(floor) - float64(jit(floor, u)))
	extra := spread * min(dev, float64(floor))
	if !(extra > 0) { // also NaN
		return floor
	}
	if room := float64(hi - floor); extra >= room {
		return hi
	}
	return floor + time.Duration(extra)
}

// retryable reports whether err is retried.
func (p *Policy[T]) retryable(err error) bool {
	if p.RetryOn != nil {
		return p.RetryOn(err)
	}
	return p.RetryIf == nil
}

// giveUp ends a call that gives up: event, log line and result.
func (p *Policy[T]) giveUp(ctx context.Context, d Details[T], reason Reason, cause error) (T, error) {
	d.Reason = reason
	if cause == nil && (reason == ErrCanceled || reason == ErrDeadline) && ctx.Err() != nil {
		cause = context.Cause(ctx)
	}
	p.logGiveUp(ctx, &d)
	fire(p.OnGiveUp, d)
	if p.NoErrorOnGiveUp && reason != ErrCanceled && reason != ErrDeadline && reason != ErrExhausted {
		if d.Err != nil {
			var zero T
			return zero, nil
		}
		return d.Value, nil
	}
	return d.Value, &Error{Reason: reason, Tries: d.Tries, Elapsed: d.Elapsed, Err: d.Err, Cause: cause}
}

// epoch is the origin of monotonic.
var epoch = time.Now()

// monotonic reads the monotonic clock only, which costs less than
// time.Now's reading of both clocks: elapsed times are differences of it.
func monotonic() time.Duration { return time.Since(epoch) }

// ctxReason is the give-up reason for a context that is done.
func ctxReason(ctx context.Context) Reason {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ErrDeadline
	}
	return ErrCanceled
}

// sleep waits for d or until ctx is done, whichever comes first, and returns
// context.Cause(ctx) in the second case. A wait of 0 or less only checks ctx.
func sleep(ctx context.Context, d time.Duration) error {
	done := ctx.Done()
	if d <= 0 {
		if done != nil && ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return context.Cause(ctx)
	case <-t.C:
		// Both may be ready: select picks at random, and no attempt may
		// start once the context is done.
		if done != nil && ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return nil
	}
}
