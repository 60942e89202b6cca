// Package jitter provides the jitter functions of the backoff engine: how a
// wait computed by a strategy is spread at random so that many clients do
// not retry in step.
//
// A jitter function is pure: it receives the wait and a uniform random draw
// u in [0, 1) supplied by the engine, and returns the wait to sleep. Tests
// pin u to check exact results; the engine draws it from math/rand/v2.
//
// Every function here is safe for concurrent use and total: a negative
// wait d is treated as 0, a draw u below 0 or NaN is treated as 0 and one
// at or above 1 as the largest float64 below 1, and results saturate at
// the largest time.Duration instead of overflowing.
//
// # Python equivalents
//
//	Python backoff     Go
//	full_jitter        Full (the default)
//	random_jitter      Random
//	jitter=None        None
//
// Equal and Upward have no Python counterpart.
package jitter

import (
	"math"
	"time"
)

// Func spreads a wait d using the uniform random draw u in [0, 1).
//
// A Func must never return a negative duration for d >= 0, and must not
// overflow for any d up to the largest time.Duration.
type Func func(d time.Duration, u float64) time.Duration

// maxDuration is the largest time.Duration.
const maxDuration = time.Duration(math.MaxInt64)

// two63 is 2⁶³ as a float64, the smallest float64 beyond the range of
// time.Duration (float64(maxDuration) rounds up to it).
const two63 float64 = 1 << 63

// oneBelow1 is the largest float64 below 1.
const oneBelow1 = 1 - 0x1p-53

// clampUnit clamps u into [0, 1); NaN gives 0.
//
// Package strategy has the same function: strategy and jitter are the
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

// scale returns d·x truncated to a whole nanosecond, for d >= 0 and a
// finite x >= 0, saturating at maxDuration. The float64 is clamped before
// it is converted, because converting an out-of-range float64 to an
// integer is implementation-defined in Go.
func scale(d time.Duration, x float64) time.Duration {
	f := float64(d) * x
	if !(f < two63) { // also +Inf
		return maxDuration
	}
	return time.Duration(f)
}

// addSat returns a+b for a, b >= 0, saturating at maxDuration.
func addSat(a, b time.Duration) time.Duration {
	if a > maxDuration-b {
		return maxDuration
	}
	return a + b
}

// Full returns d·u: a wait drawn uniformly from [0, d]. It is Python's
// full_jitter and the engine's default. The result is never above d.
func Full(d time.Duration, u float64) time.Duration {
	d = max(d, 0)
	// float64(d) may round up, so the product may land just above d.
	return min(scale(d, clampUnit(u)), d)
}

// Random returns d + u·1s: d plus up to one second. It is Python's
// random_jitter (its default before version 1.2). Note that it can exceed
// a strategy's cap by up to a second. It saturates at the largest
// time.Duration.
func Random(d time.Duration, u float64) time.Duration {
	return addSat(max(d, 0), scale(time.Second, clampUnit(u)))
}

// Equal returns d/2 + u·(d − d/2): half of the wait is kept and the other
// half is drawn at random, so the result lies in [d/2, d].
func Equal(d time.Duration, u float64) time.Duration {
	d = max(d, 0)
	half := d / 2
	rest := d - half
	return half + min(scale(rest, clampUnit(u)), rest)
}

// None returns d unchanged (0 for a negative d). It disables jitter, like
// jitter=None in Python; use it for strategies that are random already
// (strategy.Decorrelated) or for waits a server asked for.
func None(d time.Duration, u float64) time.Duration {
	return max(d, 0)
}

// Upward returns a Func that spreads a wait upwards only: d + u·f·d, a
// wait drawn from [d, (1+f)·d], saturating at the largest time.Duration.
// It suits waits a server asked for (Retry-After), which must not be
// shortened but are better not all honoured at the same instant.
//
// f is the largest relative increase: 0.1 adds up to 10%. An f that is
// negative, NaN or infinite is treated as 0, which makes the Func
// equivalent to None.
func Upward(f float64) Func {
	if !(f >= 0) || math.IsInf(f, 1) { // also NaN
		f = 0
	}
	return func(d time.Duration, u float64) time.Duration {
		d = max(d, 0)
		// u < 1 and f is finite, so u·f is finite.
		return addSat(d, scale(d, clampUnit(u)*f))
	}
}
