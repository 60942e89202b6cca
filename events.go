package backoff

import "time"

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

	// Attempts is the number of attempts made so far, the current one included.
	Attempts int

	// Elapsed is the time from the start of the call to the end of the
	// current attempt; 0 in the events of a first-attempt success when the
	// Policy's UntimedFirstSuccess is set.
	Elapsed time.Duration

	// Wait is, for a backoff event, the wait before the next attempt: after
	// the strategy, the cap, jitter and the clamp to the time left.
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
}
