package strategy

import (
	"errors"
	"math"
	"time"
)

// Decay is exponential decay: the wait before retry n is
// Initial·e^(−(n−1)·Factor), so the waits shrink from Initial towards the
// floor Min.
//
// It is the port of Python's decay(initial_value=1, decay_factor=1,
// min_value=None). The zero Decay is Python's default: 1s, 367.879441ms,
// 135.335283ms, 49.787068ms, … towards 0.
//
// A Decay holds configuration only and is safe for concurrent use.
type Decay struct {
	// Initial is the first wait. Zero means 1s. A negative Initial is
	// invalid: Validate reports it and Next uses 1s.
	Initial time.Duration

	// Factor is the decay rate per retry: each wait is e^−Factor times the
	// one before. Zero means 1. A negative, NaN or infinite Factor is
	// invalid: Validate reports it and Next uses 1.
	Factor float64

	// Min is the floor, with Python's rule: while a wait is above Min it is
	// returned; from the first one that is not, Next returns Min for that
	// retry and every later one (so a Min >= Initial gives Min forever).
	// Zero means a floor of 0. A negative Min is invalid: Validate reports
	// it and Next uses 0.
	Min time.Duration
}

// Validate reports an error if a field of d is out of range.
func (d Decay) Validate() error {
	return errors.Join(
		checkDuration("Decay", "Initial", d.Initial),
		checkFactor("Decay", "Factor", d.Factor),
		checkDuration("Decay", "Min", d.Min),
	)
}

// Next returns Initial·e^(−(s.Retry−1)·Factor), or Min once that is not
// above Min. Waits are rounded to the nearest nanosecond. It is never
// exhausted.
func (d Decay) Next(s State) (time.Duration, bool) {
	initial := orDefault(d.Initial, time.Second)
	factor := d.Factor
	if factor == 0 || !validFactor(factor) {
		factor = 1
	}
	floor := max(d.Min, 0)

	n := retryOf(s)
	if n == 1 {
		// Exact, even for an Initial that float64 cannot hold.
		if initial > floor {
			return initial, true
		}
		return floor, true
	}
	// t·factor may be +Inf (e^−Inf = 0) but never NaN: t >= 1, factor > 0.
	t := float64(initial) * math.Exp(-float64(n-1)*factor)
	if t > float64(floor) {
		// The terms only decrease, so this is Python's rule. Clamp the
		// rounded term into [floor, initial] against float rounding.
		return min(max(fromFloat(t), floor), initial), true
	}
	return floor, true
}
