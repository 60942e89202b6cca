package strategy

import (
	"errors"
	"time"
)

// Linear is linear backoff: the wait before retry n is Initial+(n−1)·Step,
// until the cap. It has no Python counterpart. The zero Linear waits 1s,
// 2s, 3s, 4s, … with no cap.
//
// A Linear holds configuration only and is safe for concurrent use.
type Linear struct {
	// Initial is the first wait. Zero means 1s. A negative Initial is
	// invalid: Validate reports it and Next uses 1s.
	Initial time.Duration

	// Step is added to the wait for each later retry. Zero means 1s (use
	// Constant for a wait that does not grow). A negative Step is invalid:
	// Validate reports it and Next uses 1s.
	Step time.Duration

	// Max caps the waits. Zero means no cap (waits saturate at the largest
	// time.Duration instead). A negative Max is invalid: Validate reports
	// it and Next uses no cap.
	Max time.Duration
}

// Validate reports an error if a field of l is out of range.
func (l Linear) Validate() error {
	return errors.Join(
		checkDuration("Linear", "Initial", l.Initial),
		checkDuration("Linear", "Step", l.Step),
		checkDuration("Linear", "Max", l.Max),
	)
}

// Next returns Initial+(s.Retry−1)·Step, capped at Max. It is never
// exhausted.
func (l Linear) Next(s State) (time.Duration, bool) {
	initial := orDefault(l.Initial, time.Second)
	step := orDefault(l.Step, time.Second)
	w := addSat(initial, mulSat(step, int64(retryOf(s)-1)))
	return min(w, capOf(l.Max)), true
}
