package strategy

import "time"

// Constant waits the same Interval before every retry.
//
// It is the port of Python's constant(interval=1) with a number as
// interval; for the form that takes a list, see [Sequence]. The zero
// Constant is Python's default: 1s forever.
//
// A Constant holds configuration only and is safe for concurrent use.
type Constant struct {
	// Interval is the wait before every retry. Zero means 1s. A negative
	// Interval is invalid: Validate reports it and Next waits 0.
	Interval time.Duration
}

// Validate reports an error if c.Interval is negative.
func (c Constant) Validate() error {
	return checkDuration("Constant", "Interval", c.Interval)
}

// Next returns Interval. It is never exhausted.
func (c Constant) Next(State) (time.Duration, bool) {
	switch {
	case c.Interval == 0:
		return time.Second, true
	case c.Interval < 0:
		return 0, true
	}
	return c.Interval, true
}

// Immediate is a Strategy that never waits: its Next always returns 0,
// true. It suits polling loops and tests. It has no configuration and is
// safe for concurrent use. (Its type is unexported, as http.NoBody's is, so
// that Immediate can hold no other value.)
var Immediate = immediate{}

type immediate struct{}

// Validate always returns nil.
func (immediate) Validate() error { return nil }

// Next returns 0. It is never exhausted.
func (immediate) Next(State) (time.Duration, bool) { return 0, true }

// Sequence waits the given durations in order, one per retry, and is then
// exhausted, which makes the engine give up: retry n waits Sequence[n-1],
// and retry len(Sequence)+1 is refused.
//
// It is the port of Python's constant(interval=[…]) with a list as
// interval. Each call reads the sequence from its start, as Python does
// for a list (not for a one-shot iterator, whose items the calls would
// share).
//
// A Sequence is safe for concurrent use as long as nobody modifies its
// elements.
//
// An empty (or nil) Sequence is invalid: Validate reports it and Next is
// exhausted at once. A negative item is invalid: Validate reports it and
// Next waits 0 for it.
type Sequence []time.Duration

// Validate reports an error if q is empty or holds a negative duration.
func (q Sequence) Validate() error {
	if len(q) == 0 {
		return errorf("Sequence is empty")
	}
	for i, d := range q {
		if d < 0 {
			return errorf("Sequence[%d] must be >= 0, got %v", i, d)
		}
	}
	return nil
}

// Next returns q[s.Retry-1], or 0, false once s.Retry is past the end.
func (q Sequence) Next(s State) (time.Duration, bool) {
	n := retryOf(s)
	if n > len(q) {
		return 0, false
	}
	return max(q[n-1], 0), true
}
