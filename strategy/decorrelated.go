package strategy

import (
	"errors"
	"time"
)

// Decorrelated is the "decorrelated jitter" backoff described in the AWS
// Architecture Blog post "Exponential Backoff And Jitter": each wait is
// drawn uniformly between Base and three times the previous wait,
//
//	wait = min(Max, Base + u·(3·prev − Base))
//
// where prev is [State.Prev] (Base before the first retry) and u is
// [State.Rand]. It has no Python counterpart.
//
// Decorrelated is random by itself, so it is normally used with
// jitter.None: adding another jitter on top only widens the spread. With
// a pinned Rand it is deterministic (u = 0 always waits Base).
//
// A Decorrelated holds configuration only and is safe for concurrent use;
// the previous wait comes from the State.
type Decorrelated struct {
	// Base is one end of the range each wait is drawn from (the lower end,
	// unless the previous wait was below Base/3, which only a cap or a
	// foreign Prev causes), and stands for the previous wait before the
	// first retry. Zero means 1s. A negative Base is invalid: Validate
	// reports it and Next uses 1s.
	Base time.Duration

	// Max caps the waits. Zero means no cap (waits saturate at the largest
	// time.Duration instead). A negative Max is invalid: Validate reports
	// it and Next uses no cap.
	Max time.Duration
}

// Validate reports an error if a field of d is out of range.
func (d Decorrelated) Validate() error {
	return errors.Join(
		checkDuration("Decorrelated", "Base", d.Base),
		checkDuration("Decorrelated", "Max", d.Max),
	)
}

// Next returns Base + u·(3·prev − Base), capped at Max. A negative
// s.Prev is treated as 0 (so as Base), and s.Rand outside [0, 1) or NaN
// is clamped into [0, 1). It is never exhausted.
func (d Decorrelated) Next(s State) (time.Duration, bool) {
	base := orDefault(d.Base, time.Second)
	limit := capOf(d.Max)
	prev := s.Prev
	if prev <= 0 {
		prev = base
	}
	hi := mulSat(prev, 3)
	u := clampUnit(s.Rand)

	// Interpolate from base towards hi on integers, so that u = 0 gives
	// base exactly; hi < base only when an earlier wait was capped below
	// base/3.
	var w time.Duration
	if hi >= base {
		span := hi - base
		w = base + min(fromFloat(float64(span)*u), span)
	} else {
		span := base - hi
		w = base - min(fromFloat(float64(span)*u), span)
	}
	return min(w, limit), true
}

// oneBelow1 is the largest float64 below 1.
const oneBelow1 = 1 - 0x1p-53

// clampUnit clamps u into [0, 1); NaN gives 0.
//
// Package jitter has the same function: strategy and jitter are the
// innermost layer and import only the standard library, so the two
// keep their own copies rather than share a package.
func clampUnit(u float64) float64 {
	switch {
	case !(u > 0): // also NaN
		return 0
	case u >= 1:
		return oneBelow1
	}
	return u
}
