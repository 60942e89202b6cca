package strategy

import (
	"errors"
	"math"
	"time"
)

// Expo is exponential backoff: the wait before retry n is Factor·Baseⁿ⁻¹,
// so the first wait is Factor and each later one is Base times the one
// before, until the cap.
//
// It is the port of Python's expo(base=2, factor=1, max_value=None). The
// zero Expo is Python's default: 1s, 2s, 4s, 8s, 16s, … with no cap.
//
// An Expo holds configuration only and is safe for concurrent use.
type Expo struct {
	// Base is the growth ratio between two successive waits. Zero means 2.
	// A Base in (0, 1) makes the waits shrink towards zero; 1 makes them
	// constant. A negative, NaN or infinite Base is invalid: Validate
	// reports it and Next uses 2.
	Base float64

	// Factor is the first wait. Zero means 1s. A negative Factor is
	// invalid: Validate reports it and Next uses 1s.
	Factor time.Duration

	// Max caps the waits, with Python's rule: as soon as a wait reaches
	// Max, Next returns Max for that retry and every later one. With a Base
	// below 1 this means that a Factor >= Max gives Max forever. Zero means
	// no cap (waits saturate at the largest time.Duration instead). A
	// negative Max is invalid: Validate reports it and Next uses no cap.
	Max time.Duration
}

// Validate reports an error if a field of e is out of range.
func (e Expo) Validate() error {
	return errors.Join(
		checkFactor("Expo", "Base", e.Base),
		checkDuration("Expo", "Factor", e.Factor),
		checkDuration("Expo", "Max", e.Max),
	)
}

// Next returns Factor·Base^(s.Retry−1), capped at Max. It is never
// exhausted.
func (e Expo) Next(s State) (time.Duration, bool) {
	base := e.Base
	if base == 0 || !validFactor(base) {
		base = 2
	}
	factor := orDefault(e.Factor, time.Second)
	limit := capOf(e.Max)

	// Python stops at the first term >= Max. The terms grow when base >= 1,
	// so that is "this term >= Max"; they shrink when base < 1, so it is
	// "the first term (Factor) >= Max".
	if e.Max > 0 && base < 1 && factor >= limit {
		return limit, true
	}
	p := math.Pow(base, float64(retryOf(s)-1))
	if p == 1 {
		// Exact, even for a Factor that float64 cannot hold.
		return min(factor, limit), true
	}
	// The product is NaN-free (factor > 0, p >= 0) but may be +Inf or round
	// up past the range of Duration; fromFloat clamps before converting.
	t := float64(factor) * p
	if t >= float64(limit) {
		return limit, true
	}
	return min(fromFloat(t), limit), true
}
