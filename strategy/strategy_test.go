package strategy_test

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/f99b3bbb/backoff/strategy"
)

const maxDuration = time.Duration(math.MaxInt64)

// oneBelow1 is the largest float64 below 1.
const oneBelow1 = 1 - 0x1p-53

// secs converts a number of seconds, as Python's generators yield it, to a
// Duration rounded to the nanosecond.
func secs(x ...float64) []time.Duration {
	out := make([]time.Duration, len(x))
	for i, v := range x {
		out[i] = time.Duration(math.Round(v * 1e9))
	}
	return out
}

// run drives st the way the engine does for one call: retries 1..n, each
// State carrying the previous wait and the draw u, stopping early when st
// is exhausted.
func run(st strategy.Strategy, n int, u float64) []time.Duration {
	var out []time.Duration
	var prev time.Duration
	for i := 1; i <= n; i++ {
		w, ok := st.Next(strategy.State{Retry: i, Prev: prev, Rand: u})
		if !ok {
			break
		}
		out = append(out, w)
		prev = w
	}
	return out
}

func TestFirstTen(t *testing.T) {
	t.Parallel()
	s := time.Second
	tests := []struct {
		name string
		st   strategy.Strategy
		u    float64
		want []time.Duration
		tol  time.Duration // allowed difference per value
	}{
		// Python expo(): 1, 2, 4, 8, ...
		{"Expo/default", strategy.Expo{}, 0, secs(1, 2, 4, 8, 16, 32, 64, 128, 256, 512), 0},
		{"Expo/max10", strategy.Expo{Max: 10 * s}, 0, secs(1, 2, 4, 8, 10, 10, 10, 10, 10, 10), 0},
		{"Expo/factor0.5/max5", strategy.Expo{Factor: s / 2, Max: 5 * s}, 0, secs(0.5, 1, 2, 4, 5, 5, 5, 5, 5, 5), 0},
		{"Expo/factor3/max16", strategy.Expo{Factor: 3 * s, Max: 16 * s}, 0, secs(3, 6, 12, 16, 16, 16, 16, 16, 16, 16), 0},
		{"Expo/base3/factor0.1", strategy.Expo{Base: 3, Factor: s / 10}, 0, secs(0.1, 0.3, 0.9, 2.7, 8.1, 24.3, 72.9, 218.7, 656.1, 1968.3), 0},
		{"Expo/base1.5/max5", strategy.Expo{Base: 1.5, Max: 5 * s}, 0, secs(1, 1.5, 2.25, 3.375, 5, 5, 5, 5, 5, 5), 0},
		{"Expo/base1", strategy.Expo{Base: 1, Factor: 2 * s}, 0, secs(2, 2, 2, 2, 2, 2, 2, 2, 2, 2), 0},
		{"Expo/base0.5", strategy.Expo{Base: 0.5, Factor: 8 * s}, 0, secs(8, 4, 2, 1, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625), 0},
		{"Expo/base0.5/below max", strategy.Expo{Base: 0.5, Factor: 4 * s, Max: 5 * s}, 0, secs(4, 2, 1, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125), 0},
		// Python's cap rule: the first term already reaches max_value, so
		// it yields max_value forever instead of shrinking.
		{"Expo/base0.5/factor>=max", strategy.Expo{Base: 0.5, Factor: 8 * s, Max: 5 * s}, 0, secs(5, 5, 5, 5, 5, 5, 5, 5, 5, 5), 0},
		{"Expo/factor=max", strategy.Expo{Factor: 5 * s, Max: 5 * s}, 0, secs(5, 5, 5, 5, 5, 5, 5, 5, 5, 5), 0},
		{"Expo/max1ns", strategy.Expo{Max: 1}, 0, []time.Duration{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 0},

		// Python fibo()
		{"Fibo/default", strategy.Fibo{}, 0, secs(1, 1, 2, 3, 5, 8, 13, 21, 34, 55), 0},
		{"Fibo/max8", strategy.Fibo{Max: 8 * s}, 0, secs(1, 1, 2, 3, 5, 8, 8, 8, 8, 8), 0},
		{"Fibo/max10", strategy.Fibo{Max: 10 * s}, 0, secs(1, 1, 2, 3, 5, 8, 10, 10, 10, 10), 0},
		{"Fibo/unit100ms", strategy.Fibo{Unit: 100 * time.Millisecond}, 0, secs(0.1, 0.1, 0.2, 0.3, 0.5, 0.8, 1.3, 2.1, 3.4, 5.5), 0},
		{"Fibo/max<unit", strategy.Fibo{Max: time.Millisecond}, 0, secs(0.001, 0.001, 0.001, 0.001, 0.001, 0.001, 0.001, 0.001, 0.001, 0.001), 0},

		// Python constant()
		{"Constant/default", strategy.Constant{}, 0, secs(1, 1, 1, 1, 1, 1, 1, 1, 1, 1), 0},
		{"Constant/2.5s", strategy.Constant{Interval: 2500 * time.Millisecond}, 0, secs(2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5), 0},
		{"Constant/negative", strategy.Constant{Interval: -s}, 0, secs(0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0},
		{"Immediate", strategy.Immediate, 0, secs(0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 0},

		// Python constant(interval=[1, 2, 3]): then exhausted.
		{"Sequence", strategy.Sequence(secs(1, 2, 3)), 0, secs(1, 2, 3), 0},
		{"Sequence/negative item", strategy.Sequence(secs(1, -2, 3)), 0, secs(1, 0, 3), 0},
		{"Sequence/empty", strategy.Sequence{}, 0, nil, 0},
		{"Sequence/nil", strategy.Sequence(nil), 0, nil, 0},

		// Python decay(); the float formulas differ slightly from Python's.
		{"Decay/default", strategy.Decay{}, 0, secs(1.0, 0.36787944117144233, 0.1353352832366127, 0.04978706836786395,
			0.018315638888734186, 0.006737946999085469, 0.0024787521766663594, 0.0009118819655545166,
			0.00033546262790251196, 0.00012340980408667962), 1},
		{"Decay/min0.2", strategy.Decay{Min: 200 * time.Millisecond}, 0, secs(1.0, 0.36787944117144233, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2), 1},
		{"Decay/initial10/factor0.5", strategy.Decay{Initial: 10 * s, Factor: 0.5}, 0, secs(10.0, 6.065306597126334, 3.6787944117144233,
			2.231301601484298, 1.353352832366127, 0.820849986238988, 0.49787068367863946, 0.301973834223185,
			0.1831563888873418, 0.11108996538242306), 1},
		{"Decay/min>=initial", strategy.Decay{Min: 2 * s}, 0, secs(2, 2, 2, 2, 2, 2, 2, 2, 2, 2), 0},

		{"Linear/default", strategy.Linear{}, 0, secs(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0},
		{"Linear/custom", strategy.Linear{Initial: 100 * time.Millisecond, Step: 50 * time.Millisecond, Max: 300 * time.Millisecond}, 0,
			secs(0.1, 0.15, 0.2, 0.25, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3), 0},

		// base + u·(3·prev − base), prev = previous wait (base at first).
		{"Decorrelated/u0", strategy.Decorrelated{}, 0, secs(1, 1, 1, 1, 1, 1, 1, 1, 1, 1), 0},
		{"Decorrelated/u0.5", strategy.Decorrelated{Max: 10 * s}, 0.5, secs(2, 3.5, 5.75, 9.125, 10, 10, 10, 10, 10, 10), 0},
		{"Decorrelated/base100ms/u0.25", strategy.Decorrelated{Base: 100 * time.Millisecond}, 0.25,
			[]time.Duration{150000000, 187500000, 215625000, 236718750, 252539063, 264404297, 273303223, 279977417, 284983063, 288737297}, 0},

		{"Capped/Expo", strategy.Capped{Strategy: strategy.Expo{}, Max: 5 * s}, 0, secs(1, 2, 4, 5, 5, 5, 5, 5, 5, 5), 0},
		{"Capped/Sequence", strategy.Capped{Strategy: strategy.Sequence(secs(1, 10)), Max: 5 * s}, 0, secs(1, 5), 0},
		{"Capped/nil", strategy.Capped{Max: 5 * s}, 0, nil, 0},
		{"Capped/no cap", strategy.Capped{Strategy: strategy.Fibo{}}, 0, secs(1, 1, 2, 3, 5, 8, 13, 21, 34, 55), 0},

		{"Func", strategy.Func(func(s strategy.State) (time.Duration, bool) { return time.Duration(s.Retry), s.Retry <= 3 }), 0,
			[]time.Duration{1, 2, 3}, 0},
		{"Func/nil", strategy.Func(nil), 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := run(tt.st, 10, tt.u)
			if len(got) != len(tt.want) {
				t.Fatalf("%#v: got %d waits %v, want %d waits %v", tt.st, len(got), got, len(tt.want), tt.want)
			}
			for i := range got {
				if diff := got[i] - tt.want[i]; diff < -tt.tol || diff > tt.tol {
					t.Errorf("%#v.Next(retry %d) = %v (%d ns), want %v (%d ns)", tt.st, i+1, got[i], int64(got[i]), tt.want[i], int64(tt.want[i]))
				}
			}
		})
	}
}

// TestSaturation checks the values at which the strategies stop growing:
// the largest Duration exactly, never a wrapped-around value.
func TestSaturation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		st    strategy.Strategy
		retry int
		want  time.Duration
	}{
		{"Expo/retry63", strategy.Expo{Factor: 1}, 63, 1 << 62},
		{"Expo/retry64", strategy.Expo{Factor: 1}, 64, maxDuration},
		{"Expo/retry1e6", strategy.Expo{}, 1e6, maxDuration},
		{"Expo/retryMaxInt", strategy.Expo{}, math.MaxInt, maxDuration},
		{"Expo/factorMax", strategy.Expo{Factor: maxDuration}, 1, maxDuration},
		{"Expo/factorMax/retry2", strategy.Expo{Factor: maxDuration}, 2, maxDuration},
		{"Expo/factorOdd", strategy.Expo{Factor: 1<<53 + 1}, 1, 1<<53 + 1},
		{"Expo/base1e300", strategy.Expo{Base: 1e300}, 2, maxDuration},
		{"Expo/base1e300/retry1", strategy.Expo{Base: 1e300}, 1, time.Second},
		{"Expo/base1e300/max", strategy.Expo{Base: 1e300, Max: time.Hour}, 1e6, time.Hour},
		{"Expo/baseMaxFloat", strategy.Expo{Base: math.MaxFloat64}, 3, maxDuration},
		{"Expo/baseTiny", strategy.Expo{Base: 5e-324}, 2, 0},
		{"Expo/base0.5/retryMaxInt", strategy.Expo{Base: 0.5}, math.MaxInt, 0},
		{"Expo/base0.5/factorMax/no cap", strategy.Expo{Base: 0.5, Factor: maxDuration}, 2, 1 << 62},
		{"Fibo/retry1e6", strategy.Fibo{}, 1e6, maxDuration},
		{"Fibo/unit1ns/retry92", strategy.Fibo{Unit: 1}, 92, 7540113804746346429},
		{"Fibo/unit1ns/retry93", strategy.Fibo{Unit: 1}, 93, maxDuration},
		{"Fibo/retryMaxInt", strategy.Fibo{Unit: 1}, math.MaxInt, maxDuration},
		{"Fibo/unitMax", strategy.Fibo{Unit: maxDuration}, 3, maxDuration},
		{"Linear/retryMaxInt", strategy.Linear{}, math.MaxInt, maxDuration},
		{"Linear/stepMax", strategy.Linear{Initial: 1, Step: maxDuration}, 2, maxDuration},
		{"Linear/exact", strategy.Linear{Initial: 1, Step: 1}, math.MaxInt, maxDuration},
		{"Linear/below", strategy.Linear{Initial: 1, Step: 1}, math.MaxInt - 1, maxDuration - 1},
		{"Decay/retryMaxInt", strategy.Decay{}, math.MaxInt, 0},
		{"Decay/retryMaxInt/min", strategy.Decay{Min: 1}, math.MaxInt, 1},
		{"Decay/initialMax", strategy.Decay{Initial: maxDuration}, 1, maxDuration},
		{"Decay/initialOdd", strategy.Decay{Initial: 1<<53 + 1}, 1, 1<<53 + 1},
		// float64(Initial) rounds up to 2⁶²+1024; the wait must not.
		{"Decay/initialRoundsUp", strategy.Decay{Initial: 1<<62 + 513, Factor: math.SmallestNonzeroFloat64}, 2, 1<<62 + 513},
		{"Decay/factorTiny", strategy.Decay{Initial: maxDuration, Factor: 5e-324}, 2, maxDuration},
		{"Decay/factorMaxFloat", strategy.Decay{Factor: math.MaxFloat64}, 2, 0},
		{"Constant/max", strategy.Constant{Interval: maxDuration}, math.MaxInt, maxDuration},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := strategy.State{Retry: tt.retry}
			got, ok := tt.st.Next(s)
			if got != tt.want || !ok {
				t.Errorf("%#v.Next(%+v) = %v (%d), %v; want %v (%d), true", tt.st, s, got, int64(got), ok, tt.want, int64(tt.want))
			}
		})
	}
}

// TestRetryBelowOne checks that a Retry below 1 is read as 1.
func TestRetryBelowOne(t *testing.T) {
	t.Parallel()
	for _, st := range conformanceStrategies() {
		want, wantOK := st.st.Next(strategy.State{Retry: 1})
		for _, r := range []int{0, -1, math.MinInt} {
			got, ok := st.st.Next(strategy.State{Retry: r})
			if got != want || ok != wantOK {
				t.Errorf("%s: Next(Retry %d) = %v, %v; want %v, %v as for Retry 1", st.name, r, got, ok, want, wantOK)
			}
		}
	}
}

func TestDecorrelatedBounds(t *testing.T) {
	t.Parallel()
	base := time.Second
	tests := []struct {
		prev time.Duration
		u    float64
		want time.Duration
	}{
		{0, 0, base},
		{0, 0.5, 2 * base},
		{0, oneBelow1, 3 * base},                              // rounded to the nanosecond
		{-time.Hour, 0.5, 2 * base},                           // negative Prev: as Base
		{100 * time.Millisecond, 0, base},                     // Prev capped below Base/3
		{100 * time.Millisecond, 0.5, 650 * time.Millisecond}, // between 3·Prev and Base
		{2 * base, math.NaN(), base},
		{2 * base, -1, base},
		{2 * base, 1, 6 * base},
		{2 * base, 7, 6 * base},
		{maxDuration, 0, base},
	}
	for _, tt := range tests {
		s := strategy.State{Retry: 2, Prev: tt.prev, Rand: tt.u}
		got, ok := strategy.Decorrelated{}.Next(s)
		if got != tt.want || !ok {
			t.Errorf("Decorrelated{}.Next(Prev %v, Rand %v) = %v, %v; want %v, true", tt.prev, tt.u, got, ok, tt.want)
		}
	}

	// A Rand at or above 1 is the largest float64 below 1, also where
	// float64 rounding is coarse.
	for _, prev := range []time.Duration{time.Second, maxDuration / 2, maxDuration} {
		want, _ := strategy.Decorrelated{}.Next(strategy.State{Prev: prev, Rand: oneBelow1})
		for _, u := range []float64{1, 2, math.Inf(1)} {
			if got, _ := (strategy.Decorrelated{}).Next(strategy.State{Prev: prev, Rand: u}); got != want {
				t.Errorf("Decorrelated{}.Next(Prev %v, Rand %v) = %v, want %v as for Rand %v", prev, u, got, want, oneBelow1)
			}
		}
	}
}

type retryAfter struct{ seconds int }

func TestRuntime(t *testing.T) {
	t.Parallel()
	errThrottled := errors.New("throttled")
	value := func(v any, err error) (time.Duration, bool) {
		switch {
		case errors.Is(err, errThrottled):
			return -time.Second, true // negative: used as 0
		case v == nil:
			return 0, false
		}
		r := v.(retryAfter)
		return time.Duration(r.seconds) * time.Second, true
	}
	type step struct {
		value  any
		err    error
		want   time.Duration
		wantOK bool
	}
	tests := []struct {
		name  string
		st    strategy.Runtime
		steps []step
	}{
		{"with fallback", strategy.Runtime{Value: value, Fallback: strategy.Expo{}}, []step{
			{retryAfter{7}, nil, 7 * time.Second, true},
			{nil, nil, 2 * time.Second, true}, // Expo at retry 2
			{retryAfter{0}, nil, 0, true},
			{nil, errThrottled, 0, true},
			{nil, errors.New("other"), 16 * time.Second, true},
		}},
		{"without fallback", strategy.Runtime{Value: value}, []step{
			{retryAfter{3}, nil, 3 * time.Second, true},
			{nil, nil, 0, false},
		}},
		{"exhausted fallback", strategy.Runtime{Value: value, Fallback: strategy.Sequence{time.Second}}, []step{
			{nil, nil, time.Second, true},
			{nil, nil, 0, false},
		}},
		{"negative fallback", strategy.Runtime{Value: value, Fallback: strategy.Func(func(strategy.State) (time.Duration, bool) { return -5, true })}, []step{
			{nil, nil, 0, true},
		}},
		{"nil value", strategy.Runtime{Fallback: strategy.Constant{}}, []step{
			{retryAfter{3}, nil, time.Second, true},
		}},
		{"nil value and fallback", strategy.Runtime{}, []step{
			{retryAfter{3}, nil, 0, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for i, st := range tt.steps {
				s := strategy.State{Retry: i + 1, Value: st.value, Err: st.err}
				got, ok := tt.st.Next(s)
				if got != st.want || ok != st.wantOK {
					t.Errorf("Next(retry %d, value %v, err %v) = %v, %v; want %v, %v", i+1, st.value, st.err, got, ok, st.want, st.wantOK)
				}
			}
		})
	}
}

func TestCappedNegativeInner(t *testing.T) {
	t.Parallel()
	neg := strategy.Func(func(strategy.State) (time.Duration, bool) { return -time.Second, true })
	if got, ok := (strategy.Capped{Strategy: neg, Max: time.Second}).Next(strategy.State{Retry: 1}); got != 0 || !ok {
		t.Errorf("Capped{negative}.Next = %v, %v; want 0, true", got, ok)
	}
	if got, ok := (strategy.Capped{Strategy: strategy.Constant{Interval: time.Hour}, Max: -1}).Next(strategy.State{Retry: 1}); got != time.Hour || !ok {
		t.Errorf("Capped{Max: -1}.Next = %v, %v; want 1h, true (no cap)", got, ok)
	}
}

// TestNormalisation checks that Next applies the documented normalisation
// of each invalid field.
func TestNormalisation(t *testing.T) {
	t.Parallel()
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name string
		bad  strategy.Strategy
		like strategy.Strategy // a valid configuration it must behave as
	}{
		{"Expo/Base NaN", strategy.Expo{Base: nan}, strategy.Expo{Base: 2}},
		{"Expo/Base -3", strategy.Expo{Base: -3}, strategy.Expo{Base: 2}},
		{"Expo/Base +Inf", strategy.Expo{Base: inf}, strategy.Expo{Base: 2}},
		{"Expo/Base -Inf", strategy.Expo{Base: -inf}, strategy.Expo{Base: 2}},
		{"Expo/Factor -1s", strategy.Expo{Factor: -time.Second, Max: time.Minute}, strategy.Expo{Factor: time.Second, Max: time.Minute}},
		{"Expo/Max -1s", strategy.Expo{Max: -time.Second}, strategy.Expo{}},
		{"Fibo/Unit -1s", strategy.Fibo{Unit: -time.Second}, strategy.Fibo{Unit: time.Second}},
		{"Fibo/Max -1s", strategy.Fibo{Max: -time.Second}, strategy.Fibo{}},
		{"Decay/Initial -1s", strategy.Decay{Initial: -time.Second}, strategy.Decay{Initial: time.Second}},
		{"Decay/Factor NaN", strategy.Decay{Factor: nan}, strategy.Decay{Factor: 1}},
		{"Decay/Factor -2", strategy.Decay{Factor: -2}, strategy.Decay{Factor: 1}},
		{"Decay/Factor +Inf", strategy.Decay{Factor: inf}, strategy.Decay{Factor: 1}},
		{"Decay/Min -1s", strategy.Decay{Min: -time.Second}, strategy.Decay{}},
		{"Linear/negative", strategy.Linear{Initial: -1, Step: -1, Max: -1}, strategy.Linear{}},
		{"Decorrelated/negative", strategy.Decorrelated{Base: -1, Max: -1}, strategy.Decorrelated{}},
		{"Constant/negative", strategy.Constant{Interval: -1}, strategy.Immediate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, r := range []int{1, 2, 3, 10, 64, 1000} {
				for _, u := range []float64{0, 0.5} {
					s := strategy.State{Retry: r, Prev: time.Duration(r) * time.Second, Rand: u}
					got, ok := tt.bad.Next(s)
					want, wantOK := tt.like.Next(s)
					if got != want || ok != wantOK {
						t.Errorf("%#v.Next(%+v) = %v, %v; want %v, %v like %#v", tt.bad, s, got, ok, want, wantOK, tt.like)
					}
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	type validator interface {
		strategy.Strategy
		Validate() error
	}
	nan, inf := math.NaN(), math.Inf(1)
	value := func(any, error) (time.Duration, bool) { return 0, false }
	tests := []struct {
		st   validator
		want string // "" for valid
	}{
		{strategy.Expo{}, ""},
		{strategy.Expo{Base: 0.5, Factor: time.Millisecond, Max: time.Minute}, ""},
		{strategy.Expo{Base: 1e300, Factor: maxDuration, Max: 1}, ""},
		{strategy.Expo{Base: nan}, "strategy: Expo.Base must be a finite number >= 0, got NaN"},
		{strategy.Expo{Base: inf}, "strategy: Expo.Base must be a finite number >= 0, got +Inf"},
		{strategy.Expo{Base: -inf}, "strategy: Expo.Base must be a finite number >= 0, got -Inf"},
		{strategy.Expo{Base: -2}, "strategy: Expo.Base must be a finite number >= 0, got -2"},
		{strategy.Expo{Factor: -time.Second}, "strategy: Expo.Factor must be >= 0, got -1s"},
		{strategy.Expo{Max: -1}, "strategy: Expo.Max must be >= 0, got -1ns"},
		{strategy.Expo{Base: -1, Max: -time.Minute}, "strategy: Expo.Base must be a finite number >= 0, got -1\n" +
			"strategy: Expo.Max must be >= 0, got -1m0s"},
		{strategy.Fibo{}, ""},
		{strategy.Fibo{Unit: time.Millisecond, Max: time.Second}, ""},
		{strategy.Fibo{Unit: -1}, "strategy: Fibo.Unit must be >= 0, got -1ns"},
		{strategy.Fibo{Max: -1}, "strategy: Fibo.Max must be >= 0, got -1ns"},
		{strategy.Constant{}, ""},
		{strategy.Constant{Interval: maxDuration}, ""},
		{strategy.Constant{Interval: -time.Second}, "strategy: Constant.Interval must be >= 0, got -1s"},
		{strategy.Immediate, ""},
		{strategy.Sequence{0, time.Second}, ""},
		{strategy.Sequence{}, "strategy: Sequence is empty"},
		{strategy.Sequence(nil), "strategy: Sequence is empty"},
		{strategy.Sequence{time.Second, -time.Second}, "strategy: Sequence[1] must be >= 0, got -1s"},
		{strategy.Decay{}, ""},
		{strategy.Decay{Initial: time.Minute, Factor: 0.1, Min: time.Second}, ""},
		{strategy.Decay{Initial: -1}, "strategy: Decay.Initial must be >= 0, got -1ns"},
		{strategy.Decay{Factor: nan}, "strategy: Decay.Factor must be a finite number >= 0, got NaN"},
		{strategy.Decay{Factor: inf}, "strategy: Decay.Factor must be a finite number >= 0, got +Inf"},
		{strategy.Decay{Factor: -0.5}, "strategy: Decay.Factor must be a finite number >= 0, got -0.5"},
		{strategy.Decay{Min: -1}, "strategy: Decay.Min must be >= 0, got -1ns"},
		{strategy.Linear{}, ""},
		{strategy.Linear{Initial: -1}, "strategy: Linear.Initial must be >= 0, got -1ns"},
		{strategy.Linear{Step: -1}, "strategy: Linear.Step must be >= 0, got -1ns"},
		{strategy.Linear{Max: -1}, "strategy: Linear.Max must be >= 0, got -1ns"},
		{strategy.Decorrelated{}, ""},
		{strategy.Decorrelated{Base: -1}, "strategy: Decorrelated.Base must be >= 0, got -1ns"},
		{strategy.Decorrelated{Max: -1}, "strategy: Decorrelated.Max must be >= 0, got -1ns"},
		{strategy.Capped{Strategy: strategy.Expo{}, Max: time.Second}, ""},
		{strategy.Capped{Strategy: strategy.Func(func(strategy.State) (time.Duration, bool) { return 0, true })}, ""},
		{strategy.Capped{}, "strategy: Capped.Strategy is nil"},
		{strategy.Capped{Strategy: strategy.Expo{}, Max: -1}, "strategy: Capped.Max must be >= 0, got -1ns"},
		{strategy.Capped{Strategy: strategy.Expo{Base: nan}}, "strategy: Capped.Strategy: Expo.Base must be a finite number >= 0, got NaN"},
		{strategy.Capped{Strategy: strategy.Capped{Strategy: strategy.Sequence{}}},
			"strategy: Capped.Strategy: Capped.Strategy: Sequence is empty"},
		{strategy.Runtime{Value: value}, ""},
		{strategy.Runtime{Value: value, Fallback: strategy.Expo{}}, ""},
		{strategy.Runtime{}, "strategy: Runtime.Value is nil"},
		{strategy.Runtime{Value: value, Fallback: strategy.Fibo{Unit: -1, Max: -1}},
			"strategy: Runtime.Fallback: Fibo.Unit must be >= 0, got -1ns\nstrategy: Runtime.Fallback: Fibo.Max must be >= 0, got -1ns"},
		{strategy.Func(func(strategy.State) (time.Duration, bool) { return 0, true }), ""},
		{strategy.Func(nil), "strategy: Func is nil"},
	}
	for _, tt := range tests {
		err := tt.st.Validate()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%#v.Validate() = %q, want %q", tt.st, got, tt.want)
		}
	}
}

// badStrategy is a custom Strategy whose Validate fails with errBad.
type badStrategy struct{}

func (badStrategy) Next(strategy.State) (time.Duration, bool) { return 0, true }

var errBad = errors.New("bad configuration")

func (badStrategy) Validate() error { return errBad }

// TestValidateWraps checks that Capped and Runtime validate a nested
// strategy that has a Validate method, and wrap its error.
func TestValidateWraps(t *testing.T) {
	t.Parallel()
	value := func(any, error) (time.Duration, bool) { return 0, false }
	for _, st := range []interface{ Validate() error }{
		strategy.Capped{Strategy: badStrategy{}},
		strategy.Runtime{Value: value, Fallback: badStrategy{}},
		strategy.Capped{Strategy: strategy.Runtime{Fallback: badStrategy{}}},
	} {
		if err := st.Validate(); !errors.Is(err, errBad) {
			t.Errorf("%#v.Validate() = %v, want an error wrapping %v", st, err, errBad)
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	for _, st := range conformanceStrategies() {
		s := strategy.State{Retry: 1e6, Prev: time.Second, Rand: 0.5, Value: 1, Err: errors.New("x")}
		if n := testing.AllocsPerRun(100, func() { st.st.Next(s) }); n != 0 {
			t.Errorf("%s: Next allocates %v times, want 0", st.name, n)
		}
	}
}

var sink time.Duration

func BenchmarkExpoNext(b *testing.B) {
	b.ReportAllocs()
	st := strategy.Expo{Max: time.Minute}
	s := strategy.State{Retry: 10}
	for b.Loop() {
		sink, _ = st.Next(s)
	}
}

func BenchmarkFiboNext(b *testing.B) {
	for _, retry := range []int{10, 1e6} {
		b.Run(fmt.Sprintf("retry=%d", retry), func(b *testing.B) {
			b.ReportAllocs()
			st := strategy.Fibo{Unit: time.Nanosecond}
			s := strategy.State{Retry: retry}
			for b.Loop() {
				sink, _ = st.Next(s)
			}
		})
	}
}

func BenchmarkDecayNext(b *testing.B) {
	b.ReportAllocs()
	st := strategy.Decay{Min: time.Millisecond}
	s := strategy.State{Retry: 5}
	for b.Loop() {
		sink, _ = st.Next(s)
	}
}

func BenchmarkDecorrelatedNext(b *testing.B) {
	b.ReportAllocs()
	st := strategy.Decorrelated{Base: time.Millisecond, Max: time.Minute}
	s := strategy.State{Retry: 5, Prev: time.Second, Rand: 0.3}
	for b.Loop() {
		sink, _ = st.Next(s)
	}
}
