package strategy

import (
	"errors"
	"time"
)

// Capped caps the waits of another strategy at Max: each wait is the
// smaller of the inner strategy's wait and Max. Exhaustion of the inner
// strategy passes through. It has no Python counterpart (Python's caps
// are the max_value arguments of expo and fibo).
//
// A Capped is safe for concurrent use when its inner Strategy is.
type Capped struct {
	// Strategy is the strategy whose waits are capped. A nil Strategy is
	// invalid: Validate reports it and Next is exhausted at once.
	Strategy Strategy

	// Max is the cap. Zero means no cap. A negative Max is invalid:
	// Validate reports it and Next uses no cap.
	Max time.Duration
}

// Validate reports an error if c.Strategy is nil or invalid, or c.Max is
// negative.
func (c Capped) Validate() error {
	var inner error
	if c.Strategy == nil {
		inner = errorf("Capped.Strategy is nil")
	} else {
		inner = checkInner("Capped", "Strategy", c.Strategy)
	}
	return errors.Join(inner, checkDuration("Capped", "Max", c.Max))
}

// Next returns min(c.Strategy.Next(s), Max), or 0, false when the inner
// strategy is exhausted. A negative inner wait is returned as 0.
func (c Capped) Next(s State) (time.Duration, bool) {
	if c.Strategy == nil {
		return 0, false
	}
	w, ok := c.Strategy.Next(s)
	if !ok {
		return 0, false
	}
	return min(max(w, 0), capOf(c.Max)), true
}
