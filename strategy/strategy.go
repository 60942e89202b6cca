// Package strategy provides the wait strategies of the backoff engine: how
// long to wait before each retry of one call.
//
// A [Strategy] is a value that is safe to share between goroutines and
// calls: it holds configuration only. Everything that belongs to one call
// (which retry this is, the previous wait, the outcome of the attempt that
// just failed, a random draw) is handed to [Strategy.Next] in a [State] by
// the engine, so the same Strategy can drive any number of calls at once.
//
// Waits are time.Duration values. Every built-in strategy saturates instead
// of overflowing: whatever the retry number or the factors, Next never
// returns a negative duration or one that has wrapped around. A wait that
// would exceed the largest time.Duration (about 292 years) is that largest
// duration.
//
// # Configuration
//
// Every built-in strategy is a plain struct (or slice) whose zero fields
// mean documented defaults, so the zero value of each type is the
// corresponding Python generator called with its default arguments:
// Expo{} waits 1s, 2s, 4s, 8s, … and Fibo{} waits 1s, 1s, 2s, 3s, 5s, ….
//
// Each type has a Validate method that reports bad configuration (a
// negative duration, a NaN factor, an empty Sequence) as an error whose
// message starts with "strategy: ". Next never panics on bad configuration:
// it applies the normalisation documented on the field instead, so a
// Strategy that was not validated still behaves predictably.
//
// # Retry numbers
//
// [State.Retry] is 1-based: 1 asks for the wait after the first failed
// attempt. A Retry below 1 is treated as 1. Every built-in strategy is a
// function of the State alone, computed in time that does not grow with
// the retry number once the wait has saturated, so asking for retry 10⁶ is
// as cheap as asking for retry 100.
//
// # Python equivalents
//
// The strategies port the wait generators of Python's backoff package. The
// Python arguments are numbers of seconds; here they are time.Duration
// values.
//
//	Python backoff                                 Go
//	expo(base=2, factor=1, max_value=None)         Expo{Base, Factor, Max}
//	fibo(max_value=None)                           Fibo{Unit, Max}
//	constant(interval=1)                           Constant{Interval}
//	constant(interval=[1, 2, 3])                   Sequence{1 * time.Second, 2 * time.Second, 3 * time.Second}
//	decay(initial_value=1, decay_factor=1,
//	      min_value=None)                          Decay{Initial, Factor, Min}
//	runtime(value=f)                               Runtime{Value, Fallback}
//
// The caps follow Python exactly: once a term reaches Max, Max is returned
// for every later retry. Where Python reads 0 as a value (max_value=0 waits
// 0 forever), a zero field here means the default (no cap); use [Immediate]
// for a strategy that never waits. [Linear], [Decorrelated] and [Capped]
// have no Python counterpart.
package strategy

import "time"

// State is what the engine knows about one call when it asks for the next
// wait. The engine fills it; a Strategy only reads it.
type State struct {
	// Retry is the number of the retry about to be made, starting at 1 for
	// the wait after the first failed attempt. It equals the number of
	// attempts made so far. The built-in strategies treat a Retry below 1
	// as 1.
	Retry int

	// Prev is the wait this Strategy returned for the previous retry of the
	// same call, or 0 before the first retry. Strategies whose next value
	// depends on the last one (Decorrelated) read it.
	Prev time.Duration

	// Err is the error of the attempt that just failed, or nil when the
	// attempt failed on its value.
	Err error

	// Value is the result of the attempt that just failed when the engine
	// retries on values, and nil when it retries on an error. Runtime reads
	// it (or Err) to derive the wait from the outcome.
	Value any

	// Rand is a uniform random draw in [0, 1), taken afresh for every retry.
	// Strategies that are random by nature (Decorrelated) use it instead of
	// a random source of their own, so tests can pin it.
	Rand float64
}

// A Strategy computes the wait before each retry of one call.
//
// Next returns the wait before retry s.Retry, and false once the strategy
// is exhausted (a [Sequence] that has run out), which makes the engine give
// up. Next must be safe for concurrent use, must not block and must never
// return a negative duration.
type Strategy interface {
	Next(s State) (wait time.Duration, ok bool)
}

// Func adapts an ordinary function to the Strategy interface, as
// http.HandlerFunc does for handlers. The function must honour the
// Strategy contract: safe for concurrent use, non-blocking, never negative.
type Func func(s State) (time.Duration, bool)

// Next calls f(s). A nil Func is exhausted at once: it returns 0, false.
func (f Func) Next(s State) (time.Duration, bool) {
	if f == nil {
		return 0, false
	}
	return f(s)
}

// Validate reports an error if f is nil.
func (f Func) Validate() error {
	if f == nil {
		return errorf("Func is nil")
	}
	return nil
}
