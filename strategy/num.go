package strategy

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
)

// maxDuration is the largest time.Duration, where every strategy saturates.
const maxDuration = time.Duration(math.MaxInt64)

// two63 is 2⁶³ as a float64: float64(maxDuration) rounds up to it, so any
// float64 >= two63 is beyond the range of time.Duration.
const two63 float64 = 1 << 63

// fromFloat converts a wait in nanoseconds held in a float64 to a Duration,
// rounding to the nearest nanosecond. NaN and values <= 0 give 0; values at
// or beyond 2⁶³ give maxDuration. The clamp comes before the conversion,
// because converting an out-of-range float64 to an integer is
// implementation-defined in Go.
func fromFloat(f float64) time.Duration {
	switch {
	case !(f > 0): // also NaN
		return 0
	case f >= two63:
		return maxDuration
	}
	// Every float64 in [2⁵², 2⁶³) is an integer, so rounding cannot carry f
	// up to 2⁶³.
	return time.Duration(math.Round(f))
}

// addSat returns a+b for a, b >= 0, saturating at maxDuration.
func addSat(a, b time.Duration) time.Duration {
	if a > maxDuration-b {
		return maxDuration
	}
	return a + b
}

// mulSat returns d·k for d, k >= 0, saturating at maxDuration.
func mulSat(d time.Duration, k int64) time.Duration {
	if d == 0 || k == 0 {
		return 0
	}
	if k > int64(maxDuration/d) {
		return maxDuration
	}
	return d * time.Duration(k)
}

// retryOf returns s.Retry, or 1 when s.Retry is below 1.
func retryOf(s State) int {
	if s.Retry < 1 {
		return 1
	}
	return s.Retry
}

// orDefault returns d, or def when d <= 0.
func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// capOf returns the cap max stands for: max itself when it is positive,
// maxDuration (no cap) otherwise.
func capOf(max time.Duration) time.Duration {
	if max <= 0 {
		return maxDuration
	}
	return max
}

// validFactor reports whether x is a finite number >= 0.
func validFactor(x float64) bool {
	return x >= 0 && !math.IsInf(x, 1) // NaN fails x >= 0
}

// errorf returns an error whose message is "strategy: " followed by the
// formatted text.
func errorf(format string, args ...any) error {
	return fmt.Errorf("strategy: "+format, args...)
}

// checkDuration returns an error if the field typ.field holds a negative
// duration.
func checkDuration(typ, field string, d time.Duration) error {
	if d < 0 {
		return errorf("%s.%s must be >= 0, got %v", typ, field, d)
	}
	return nil
}

// checkFactor returns an error if the field typ.field is not a finite
// number >= 0.
func checkFactor(typ, field string, x float64) error {
	if !validFactor(x) {
		return errorf("%s.%s must be a finite number >= 0, got %v", typ, field, x)
	}
	return nil
}

// validator is implemented by every built-in strategy.
type validator interface {
	Validate() error
}

// checkInner validates a strategy held in the field typ.field when it has a
// Validate method, and reports a nil pointer (whose methods would panic).
// A nil inner strategy is not checked here.
func checkInner(typ, field string, inner Strategy) error {
	if rv := reflect.ValueOf(inner); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return errorf("%s.%s is a nil %T", typ, field, inner)
	}
	v, ok := inner.(validator)
	if !ok {
		return nil
	}
	if err := v.Validate(); err != nil {
		return &innerError{field: typ + "." + field, err: err}
	}
	return nil
}

// innerError reports bad configuration of a strategy nested in another one,
// naming the path to it: "strategy: Capped.Strategy: Expo.Base must be …".
type innerError struct {
	field string
	err   error
}

func (e *innerError) Error() string {
	// The inner error may be several joined errors, one per line.
	lines := strings.Split(e.err.Error(), "\n")
	for i, l := range lines {
		lines[i] = "strategy: " + e.field + ": " + strings.TrimPrefix(l, "strategy: ")
	}
	return strings.Join(lines, "\n")
}

func (e *innerError) Unwrap() error { return e.err }
