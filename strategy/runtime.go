package strategy

import (
	"errors"
	"time"
)

// Runtime derives each wait from the outcome of the attempt that just
// failed: Value receives [State.Value] and [State.Err] and returns the
// wait, or false when the outcome carries none, in which case Fallback
// decides.
//
// It is the port of Python's runtime(value=f), with one difference: Python
// fails when f has no answer (it returns None), while Runtime then asks
// Fallback.
//
// A Runtime is safe for concurrent use when Value and Fallback are.
type Runtime struct {
	// Value returns the wait for the outcome of the failed attempt (value
	// is State.Value, err is State.Err), and ok = false when the outcome
	// carries none, for instance a response without a Retry-After header.
	// A negative wait is used as 0. A nil Value is invalid: Validate
	// reports it and Next behaves as if Value always returned false.
	Value func(value any, err error) (wait time.Duration, ok bool)

	// Fallback gives the wait when Value has none. Nil means no fallback:
	// Next is then exhausted, which makes the engine give up.
	Fallback Strategy
}

// Validate reports an error if r.Value is nil or r.Fallback is invalid.
func (r Runtime) Validate() error {
	var value error
	if r.Value == nil {
		value = errorf("Runtime.Value is nil")
	}
	return errors.Join(value, checkInner("Runtime", "Fallback", r.Fallback))
}

// Next returns r.Value(s.Value, s.Err) when it reports a wait, and
// otherwise r.Fallback.Next(s),
// or 0, false without a Fallback. A negative wait from either is returned
// as 0.
func (r Runtime) Next(s State) (time.Duration, bool) {
	if r.Value != nil {
		if w, ok := r.Value(s.Value, s.Err); ok {
			return max(w, 0), true
		}
	}
	if r.Fallback == nil {
		return 0, false
	}
	w, ok := r.Fallback.Next(s)
	if !ok {
		return 0, false
	}
	return max(w, 0), true
}
