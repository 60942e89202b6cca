package bench

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	avast "github.com/avast/retry-go/v4"
	cenkalti "github.com/cenkalti/backoff/v5"
	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	sethvargo "github.com/sethvargo/go-retry"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

// want is the value every successful operation returns.
const want = 42

// maxAttempts is the attempt limit, the first attempt included, given to every
// library. It is well above the number of failures of any benchmark, so no
// call gives up.
const maxAttempts = 10

var errTransient = errors.New("transient failure")

// flaky is the operation under test: it fails its first fails attempts with
// err, then returns want. reset makes it ready for the next call. Its
// methods are bound once, outside the timed loops, so that the operation
// itself allocates nothing.
type flaky struct {
	fails int
	calls int
	err   error
}

func (f *flaky) reset() { f.calls = 0 }

func (f *flaky) try() (int, error) {
	f.calls++
	if f.calls <= f.fails {
		return 0, f.err
	}
	return want, nil
}

func (f *flaky) tryCtx(context.Context) (int, error) { return f.try() }

// An engine configures one library for the benchmarks. setup builds
// everything the library lets a caller reuse (its policy, options or
// executor) once, and returns a function that makes one retrying call of
// the operation. Every library gets zero waits, no jitter and maxAttempts
// attempts.
type engine struct {
	name  string
	setup func(f *flaky) func(ctx context.Context) (int, error)
}

var engines = []engine{
	{"backoff", setupBackoff},
	{"cenkalti", setupCenkalti},
	{"avast", setupAvast},
	{"sethvargo", setupSethvargo},
	{"failsafe", setupFailsafe},
}

func setupBackoff(f *flaky) func(context.Context) (int, error) {
	f.err = errTransient
	p := &backoff.Policy[int]{
		Wait:        strategy.Immediate,
		Jitter:      jitter.None,
		MaxAttempts: maxAttempts,
	}
	op := f.tryCtx
	return func(ctx context.Context) (int, error) { return p.Do(ctx, op) }
}

func setupCenkalti(f *flaky) func(context.Context) (int, error) {
	f.err = errTransient
	// ZeroBackOff always returns 0 and never stops: the limit comes from
	// WithMaxTries. The default MaxElapsedTime (15 minutes) is left alone.
	opts := []cenkalti.RetryOption{
		cenkalti.WithBackOff(&cenkalti.ZeroBackOff{}),
		cenkalti.WithMaxTries(maxAttempts),
	}
	op := cenkalti.Operation[int](f.try)
	return func(ctx context.Context) (int, error) { return cenkalti.Retry(ctx, op, opts...) }
}

func setupAvast(f *flaky) func(context.Context) (int, error) {
	f.err = errTransient
	// The default delay type is BackOffDelay combined with RandomDelay (a
	// jitter of up to 100ms); FixedDelay with Delay(0) waits 0 with no
	// jitter. LastErrorOnly makes a give-up return the last error, as the
	// other libraries do, instead of the list of all errors.
	opts := []avast.Option{
		avast.Attempts(maxAttempts),
		avast.Delay(0),
		avast.DelayType(avast.FixedDelay),
		avast.LastErrorOnly(true),
		avast.Context(context.Background()),
	}
	op := avast.RetryableFuncWithData[int](f.try)
	return func(ctx context.Context) (int, error) {
		if ctx != context.Background() {
			// The context is an option in avast; the benchmarks only use
			// context.Background, which opts already holds.
			return avast.DoWithData(op, append(opts, avast.Context(ctx))...)
		}
		return avast.DoWithData(op, opts...)
	}
}

func setupSethvargo(f *flaky) func(context.Context) (int, error) {
	// go-retry retries only errors marked with RetryableError. The marked
	// error is made once, as a caller would keep a marked sentinel.
	f.err = sethvargo.RetryableError(errTransient)
	// NewConstant panics on a zero duration, so the zero wait is a
	// BackoffFunc. A go-retry Backoff is stateful (WithMaxRetries counts
	// the retries), so a new one is needed for every call.
	zero := sethvargo.BackoffFunc(func() (d time.Duration, stop bool) { return 0, false })
	op := sethvargo.RetryFuncValue[int](f.tryCtx)
	return func(ctx context.Context) (int, error) {
		b := sethvargo.WithMaxRetries(maxAttempts-1, zero)
		return sethvargo.DoValue(ctx, b, op)
	}
}

func setupFailsafe(f *flaky) func(context.Context) (int, error) {
	f.err = errTransient
	// A RetryPolicy has no delay unless one is configured. ReturnLastFailure
	// returns the last error instead of an ExceededError on give-up, as the
	// other libraries do.
	rp := retrypolicy.NewBuilder[int]().
		WithMaxAttempts(maxAttempts).
		ReturnLastFailure().
		Build()
	exec := failsafe.With[int](rp)
	op := f.try
	return func(ctx context.Context) (int, error) {
		if ctx != context.Background() {
			// An Executor carries its context; the benchmarks only use
			// context.Background, the Executor's default.
			return exec.WithContext(ctx).Get(op)
		}
		return exec.Get(op)
	}
}

// checkEngine makes one call through e with an operation that fails fails
// times and reports whether it returned want after exactly fails+1
// attempts.
func checkEngine(e engine, fails int) error {
	f := &flaky{fails: fails}
	call := e.setup(f)
	for range 2 { // twice: the configuration must be reusable
		f.reset()
		v, err := call(context.Background())
		if err != nil {
			return err
		}
		if v != want || f.calls != fails+1 {
			return fmt.Errorf("got %d after %d attempts, want %d after %d", v, f.calls, want, fails+1)
		}
	}
	return nil
}

func TestEngines(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			for _, fails := range []int{0, 3, maxAttempts - 1} {
				if err := checkEngine(e, fails); err != nil {
					t.Errorf("%d failures: %v", fails, err)
				}
			}
			// maxAttempts failures: every library must give up with the
			// operation's error after maxAttempts attempts.
			f := &flaky{fails: maxAttempts}
			_, err := e.setup(f)(context.Background())
			if !errors.Is(err, errTransient) || f.calls != maxAttempts {
				t.Errorf("%d failures: got %v after %d attempts, want %v after %d",
					maxAttempts, err, f.calls, errTransient, maxAttempts)
			}
		})
	}
}

// benchEngines runs one benchmark per engine of es, each call with an
// operation that fails fails times.
func benchEngines(b *testing.B, es []engine, fails int) {
	for _, e := range es {
		b.Run(e.name, func(b *testing.B) {
			if err := checkEngine(e, fails); err != nil {
				b.Fatal(err)
			}
			f := &flaky{fails: fails}
			call := e.setup(f)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				f.reset()
				if v, err := call(ctx); v != want || err != nil {
					b.Fatalf("got %d, %v", v, err)
				}
			}
		})
	}
}

// BenchmarkSuccess: the operation succeeds on the first attempt.
func BenchmarkSuccess(b *testing.B) { benchEngines(b, engines, 0) }

// BenchmarkRetry3: the operation fails three times, then succeeds.
func BenchmarkRetry3(b *testing.B) { benchEngines(b, engines, 3) }

// tinyWait is the wait before every retry of BenchmarkSleep3: short enough
// not to dominate, long enough that every library arms a timer for it.
const tinyWait = time.Nanosecond

// sleepEngines configure each library with a constant wait of tinyWait, no
// jitter and maxAttempts attempts. hand is the baseline: the loop a caller
// would write, arming one timer per retry and selecting on it and the
// context.
var sleepEngines = []engine{
	{"hand", setupHandSleep},
	{"backoff", setupBackoffSleep},
	{"sethvargo", setupSethvargoSleep},
	{"cenkalti", setupCenkaltiSleep},
}

func setupHandSleep(f *flaky) func(context.Context) (int, error) {
	f.err = errTransient
	op := f.tryCtx
	return func(ctx context.Context) (int, error) {
		for attempt := 1; ; attempt++ {
			v, err := op(ctx)
			if err == nil || attempt >= maxAttempts {
				return v, err
			}
			t := time.NewTimer(tinyWait)
			select {
			case <-ctx.Done():
				t.Stop()
				return 0, ctx.Err()
			case <-t.C:
			}
		}
	}
}

func setupBackoffSleep(f *flaky) func(context.Context) (int, error) {
	f.err = errTransient
	p := &backoff.Policy[int]{
		Wait:        strategy.Constant{Interval: tinyWait},
		Jitter:      jitter.None,
		MaxAttempts: maxAttempts,
	}
	op := f.tryCtx
	return func(ctx context.Context) (int, error) { return p.Do(ctx, op) }
}

func setupSethvargoSleep(f *flaky) func(context.Context) (int, error) {
	f.err = sethvargo.RetryableError(errTransient)
	op := sethvargo.RetryFuncValue[int](f.tryCtx)
	return func(ctx context.Context) (int, error) {
		b := sethvargo.WithMaxRetries(maxAttempts-1, sethvargo.NewConstant(tinyWait))
		return sethvargo.DoValue(ctx, b, op)
	}
}

func setupCenkaltiSleep(f *flaky) func(context.Context) (int, error) {
	f.err = errTransient
	opts := []cenkalti.RetryOption{
		cenkalti.WithBackOff(cenkalti.NewConstantBackOff(tinyWait)),
		cenkalti.WithMaxTries(maxAttempts),
	}
	op := cenkalti.Operation[int](f.try)
	return func(ctx context.Context) (int, error) { return cenkalti.Retry(ctx, op, opts...) }
}

func TestSleepEngines(t *testing.T) {
	for _, e := range sleepEngines {
		t.Run(e.name, func(t *testing.T) {
			for _, fails := range []int{0, 3} {
				if err := checkEngine(e, fails); err != nil {
					t.Errorf("%d failures: %v", fails, err)
				}
			}
		})
	}
}

// BenchmarkSleep3: the operation fails three times, then succeeds, with a
// wait of tinyWait (a timer armed and fired) before each retry.
func BenchmarkSleep3(b *testing.B) { benchEngines(b, sleepEngines, 3) }
