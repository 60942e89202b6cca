package strategy_test

import (
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/f99b3bbb/backoff/strategy"
)

// oracleRetries bounds the retry numbers checked against a step-by-step
// reference, which costs one step per retry.
const oracleRetries = 400

// small maps any fuzzed retry number to one in [1, oracleRetries], so
// that the step-by-step references are checked on every input.
func small(retry int) int {
	r := retry % oracleRetries
	if r < 0 {
		r = -r
	}
	return r + 1
}

// near reports whether got is within 1ns plus a relative 1e-9 of want.
func near(got, want time.Duration) bool {
	diff := math.Abs(float64(got) - float64(want))
	return diff <= 1+1e-9*math.Abs(float64(want))
}

// toDuration converts a float64 number of nanoseconds to a Duration the
// way a careful caller would: clamped into [0, MaxInt64].
func toDuration(f float64) time.Duration {
	switch {
	case !(f > 0):
		return 0
	case f >= 1<<63:
		return maxDuration
	}
	return time.Duration(math.Round(f))
}

// pythonExpo is a literal port of Python's expo generator (version 2.4.0,
// a running term), in float64 nanoseconds, run for n retries.
func pythonExpo(base float64, factor, limit time.Duration, n int) time.Duration {
	a := float64(factor)
	for i := 1; ; i++ {
		if limit > 0 && a >= float64(limit) {
			return limit // and forever after
		}
		if i == n {
			return toDuration(a)
		}
		a *= base
	}
}

// pythonDecay is a literal port of Python's decay generator (version
// 2.4.0), in float64 nanoseconds, run for n retries.
func pythonDecay(initial time.Duration, factor float64, floor time.Duration, n int) time.Duration {
	v, step := float64(initial), math.Exp(-factor)
	for i := 1; ; i++ {
		if !(v > float64(floor)) {
			return floor
		}
		if i == n {
			return toDuration(v)
		}
		v *= step
	}
}

// exactMin returns min(x, limit) for a big.Int x and limit > 0, as a
// Duration.
func exactMin(x *big.Int, limit time.Duration) time.Duration {
	if x.Cmp(big.NewInt(int64(limit))) >= 0 {
		return limit
	}
	return time.Duration(x.Int64())
}

func FuzzExpo(f *testing.F) {
	f.Add(2.0, int64(time.Second), int64(0), 1)
	f.Add(2.0, int64(time.Second), int64(10*time.Second), 6)
	f.Add(1e300, int64(math.MaxInt64), int64(1), 1000000)
	f.Add(0.5, int64(8*time.Second), int64(5*time.Second), 3)
	f.Add(0.5, int64(math.MaxInt64), int64(0), 64)
	f.Add(math.NaN(), int64(-1), int64(-1), math.MaxInt)
	f.Add(math.Inf(1), int64(1), int64(0), 63)
	f.Add(1.0000001, int64(1), int64(math.MaxInt64), 400)
	f.Add(3.0, int64(100*time.Millisecond), int64(0), 30)
	f.Fuzz(func(t *testing.T, base float64, factor, maxNS int64, retry int) {
		st := strategy.Expo{Base: base, Factor: time.Duration(factor), Max: time.Duration(maxNS)}
		s := strategy.State{Retry: retry}
		w, ok := st.Next(s)
		n := named{name: "Expo", st: st, cap: max0(st.Max)}
		checkWait(t, n, s, w, ok)

		if st.Validate() != nil {
			return
		}
		b, fac := base, st.Factor
		if b == 0 {
			b = 2
		}
		if fac == 0 {
			fac = time.Second
		}
		// Monotonic: growing for a base >= 1, shrinking below.
		next, _ := st.Next(strategy.State{Retry: max(retry, 1) + 1})
		if max(retry, 1) < math.MaxInt && (b >= 1 && next < w || b < 1 && next > w) {
			t.Errorf("%#v: retry %d waits %v, retry %d waits %v", st, retry, w, retry+1, next)
		}
		r := small(retry)
		w, _ = st.Next(strategy.State{Retry: r})
		if want := pythonExpo(b, fac, st.Max, r); !near(w, want) {
			t.Errorf("%#v.Next(Retry %d) = %v (%d), Python gives %v (%d)", st, r, w, int64(w), want, int64(want))
		}
	})
}

func FuzzFibo(f *testing.F) {
	f.Add(int64(0), int64(0), 10)
	f.Add(int64(1), int64(0), 93)
	f.Add(int64(0), int64(8*time.Second), 8)
	f.Add(int64(math.MaxInt64), int64(0), 3)
	f.Add(int64(-1), int64(-1), math.MaxInt)
	f.Add(int64(3), int64(math.MaxInt64-1), 1000000)
	f.Fuzz(func(t *testing.T, unit, maxNS int64, retry int) {
		st := strategy.Fibo{Unit: time.Duration(unit), Max: time.Duration(maxNS)}
		s := strategy.State{Retry: retry}
		w, ok := st.Next(s)
		checkWait(t, named{name: "Fibo", st: st, cap: max0(st.Max)}, s, w, ok)

		if st.Validate() != nil {
			return
		}
		u := st.Unit
		if u == 0 {
			u = time.Second
		}
		limit := maxDuration
		if st.Max > 0 {
			limit = st.Max
		}
		r := small(retry)
		a, b := big.NewInt(1), big.NewInt(1)
		for i := 2; i < r; i++ {
			a.Add(a, b)
			a, b = b, a
		}
		want := exactMin(b.Mul(b, big.NewInt(int64(u))), limit)
		if got, _ := st.Next(strategy.State{Retry: r}); got != want {
			t.Errorf("%#v.Next(Retry %d) = %v (%d), want %v (%d)", st, r, got, int64(got), want, int64(want))
		}
		if next, _ := st.Next(strategy.State{Retry: max(retry, 1) + 1}); max(retry, 1) < math.MaxInt && next < w {
			t.Errorf("%#v: retry %d waits %v, retry %d waits %v", st, retry, w, retry+1, next)
		}
	})
}

func FuzzDecay(f *testing.F) {
	f.Add(int64(0), 0.0, int64(0), 4)
	f.Add(int64(0), 0.0, int64(200*time.Millisecond), 3)
	f.Add(int64(10*time.Second), 0.5, int64(0), 10)
	f.Add(int64(math.MaxInt64), math.SmallestNonzeroFloat64, int64(0), math.MaxInt)
	f.Add(int64(math.MaxInt64), 1e-18, int64(1), 1000000)
	f.Add(int64(1), math.MaxFloat64, int64(math.MaxInt64), 2)
	f.Add(int64(-1), math.NaN(), int64(-1), 64)
	f.Add(int64(-1), math.Inf(1), int64(-1), 0)
	f.Fuzz(func(t *testing.T, initial int64, factor float64, minNS int64, retry int) {
		st := strategy.Decay{Initial: time.Duration(initial), Factor: factor, Min: time.Duration(minNS)}
		s := strategy.State{Retry: retry}
		w, ok := st.Next(s)
		in, floor := st.Initial, max(st.Min, 0)
		if in <= 0 {
			in = time.Second
		}
		checkWait(t, named{name: "Decay", st: st, cap: max(in, floor), floor: floor}, s, w, ok)
		if next, _ := st.Next(strategy.State{Retry: max(retry, 1) + 1}); max(retry, 1) < math.MaxInt && next > w {
			t.Errorf("%#v: retry %d waits %v, retry %d waits %v", st, retry, w, retry+1, next)
		}

		if st.Validate() != nil {
			return
		}
		fac := factor
		if fac == 0 {
			fac = 1
		}
		r := small(retry)
		w, _ = st.Next(strategy.State{Retry: r})
		if want := pythonDecay(in, fac, floor, r); !near(w, want) {
			t.Errorf("%#v.Next(Retry %d) = %v (%d), Python gives %v (%d)", st, r, w, int64(w), want, int64(want))
		}
	})
}

func FuzzLinear(f *testing.F) {
	f.Add(int64(0), int64(0), int64(0), 10)
	f.Add(int64(1), int64(1), int64(0), math.MaxInt)
	f.Add(int64(math.MaxInt64), int64(math.MaxInt64), int64(0), 2)
	f.Add(int64(100), int64(50), int64(300), 5)
	f.Add(int64(-1), int64(-1), int64(-1), -1)
	f.Fuzz(func(t *testing.T, initial, step, maxNS int64, retry int) {
		st := strategy.Linear{Initial: time.Duration(initial), Step: time.Duration(step), Max: time.Duration(maxNS)}
		s := strategy.State{Retry: retry}
		w, ok := st.Next(s)
		checkWait(t, named{name: "Linear", st: st, cap: max0(st.Max)}, s, w, ok)

		in, sp, limit := time.Duration(initial), time.Duration(step), maxDuration
		if in <= 0 {
			in = time.Second
		}
		if sp <= 0 {
			sp = time.Second
		}
		if maxNS > 0 {
			limit = time.Duration(maxNS)
		}
		n := int64(retry)
		if n < 1 {
			n = 1
		}
		x := new(big.Int).Mul(big.NewInt(n-1), big.NewInt(int64(sp)))
		want := exactMin(x.Add(x, big.NewInt(int64(in))), limit)
		if w != want {
			t.Errorf("%#v.Next(Retry %d) = %v (%d), want %v (%d)", st, retry, w, int64(w), want, int64(want))
		}
	})
}

func FuzzDecorrelated(f *testing.F) {
	f.Add(int64(0), int64(0), int64(0), 0.5, 1)
	f.Add(int64(time.Second), int64(10*time.Second), int64(9*time.Second), oneBelow1, 7)
	f.Add(int64(math.MaxInt64), int64(0), int64(1), 0.5, 2)
	f.Add(int64(1), int64(0), int64(math.MaxInt64), oneBelow1, math.MaxInt)
	f.Add(int64(-1), int64(-1), int64(-1), math.NaN(), -1)
	f.Add(int64(time.Hour), int64(time.Second), int64(time.Second), 2.0, 3)
	f.Add(int64(time.Second), int64(0), int64(math.MaxInt64/2), 0.5, 2)
	f.Fuzz(func(t *testing.T, base, maxNS, prev int64, u float64, retry int) {
		st := strategy.Decorrelated{Base: time.Duration(base), Max: time.Duration(maxNS)}
		s := strategy.State{Retry: retry, Prev: time.Duration(prev), Rand: u}
		w, ok := st.Next(s)
		checkWait(t, named{name: "Decorrelated", st: st, cap: max0(st.Max)}, s, w, ok)

		// The wait lies between Base and 3·prev (either may be the larger),
		// then is capped.
		b, limit := time.Duration(base), maxDuration
		if b <= 0 {
			b = time.Second
		}
		if maxNS > 0 {
			limit = time.Duration(maxNS)
		}
		p := time.Duration(prev)
		if p <= 0 {
			p = b
		}
		hi := maxDuration
		if p <= maxDuration/3 {
			hi = 3 * p
		}
		lo, up := min(b, hi), max(b, hi)
		if w < min(lo, limit) || w > min(up, limit) {
			t.Errorf("%#v.Next(%+v) = %v, want within [%v, %v]", st, s, w, min(lo, limit), min(up, limit))
		}
		if !(u > 0) {
			if want := min(b, limit); w != want {
				t.Errorf("%#v.Next(%+v) = %v, want Base %v", st, s, w, want)
			}
		}
	})
}

func FuzzCapped(f *testing.F) {
	f.Add(uint8(0), int64(0), 0.0, int64(time.Second), 10)
	f.Add(uint8(1), int64(1), 0.0, int64(1), math.MaxInt)
	f.Add(uint8(2), int64(math.MaxInt64), 1e-300, int64(math.MaxInt64), 1000000)
	f.Add(uint8(3), int64(-1), math.NaN(), int64(-1), 64)
	f.Add(uint8(4), int64(5), 0.5, int64(0), 2)
	f.Add(uint8(5), int64(5), 0.5, int64(3), 2)
	f.Fuzz(func(t *testing.T, kind uint8, d int64, x float64, maxNS int64, retry int) {
		var inner strategy.Strategy
		switch kind % 6 {
		case 0:
			inner = strategy.Expo{Base: x, Factor: time.Duration(d)}
		case 1:
			inner = strategy.Fibo{Unit: time.Duration(d)}
		case 2:
			inner = strategy.Decay{Initial: time.Duration(d), Factor: x}
		case 3:
			inner = strategy.Constant{Interval: time.Duration(d)}
		case 4:
			inner = strategy.Sequence{time.Duration(d), time.Duration(-d)}
		case 5:
			inner = strategy.Runtime{Value: func(any, error) (time.Duration, bool) { return time.Duration(d), x > 0 }}
		}
		st := strategy.Capped{Strategy: inner, Max: time.Duration(maxNS)}
		s := strategy.State{Retry: retry, Rand: x}
		w, ok := st.Next(s)
		checkWait(t, named{name: "Capped", st: st, cap: max0(st.Max), finite: true}, s, w, ok)
		iw, iok := inner.Next(s)
		if iok != ok {
			t.Errorf("%#v.Next(%+v) ok = %v, inner ok = %v", st, s, ok, iok)
		}
		if want := min(iw, capOr(st.Max)); ok && w != want {
			t.Errorf("%#v.Next(%+v) = %v, want min(%v, Max) = %v", st, s, w, iw, want)
		}
	})
}

// max0 returns the cap a Max field stands for in checkWait: the field
// when positive, else 0 (no cap).
func max0(limit time.Duration) time.Duration {
	if limit > 0 {
		return limit
	}
	return 0
}

// capOr returns Max when positive, else the largest Duration.
func capOr(limit time.Duration) time.Duration {
	if limit > 0 {
		return limit
	}
	return maxDuration
}
