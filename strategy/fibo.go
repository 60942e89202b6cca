package strategy

import (
	"errors"
	"time"
)

// Fibo is Fibonacci backoff: the waits are 1, 1, 2, 3, 5, 8, 13, 21, 34,
// 55, … times Unit, until the cap.
//
// It is the port of Python's fibo(max_value=None). The zero Fibo is
// Python's default: 1s, 1s, 2s, 3s, 5s, 8s, … with no cap.
//
// A Fibo holds configuration only and is safe for concurrent use. Next
// computes the term by iteration and stops as soon as it reaches the cap
// (at most about 90 steps), so any retry number is cheap.
type Fibo struct {
	// Unit is the first wait and the unit of the sequence. Zero means 1s.
	// A negative Unit is invalid: Validate reports it and Next uses 1s.
	Unit time.Duration

	// Max caps the waits: once a wait reaches Max, Next returns Max for
	// that retry and every later one. Zero means no cap (waits saturate at
	// the largest time.Duration instead). A negative Max is invalid:
	// Validate reports it and Next uses no cap.
	Max time.Duration
}

// Validate reports an error if a field of f is out of range.
func (f Fibo) Validate() error {
	return errors.Join(
		checkDuration("Fibo", "Unit", f.Unit),
		checkDuration("Fibo", "Max", f.Max),
	)
}

// Next returns Unit·fib(s.Retry), where fib(1) = fib(2) = 1, capped at Max.
// It is never exhausted.
func (f Fibo) Next(s State) (time.Duration, bool) {
	unit := orDefault(f.Unit, time.Second)
	limit := capOf(f.Max)
	n := retryOf(s)
	// After the step for i, b = Unit·fib(i+1). The terms never decrease,
	// so stopping at the cap is Python's "Max forever" rule.
	a, b := unit, unit
	for i := 2; i < n && b < limit; i++ {
		a, b = b, addSat(a, b)
	}
	return min(b, limit), true
}
