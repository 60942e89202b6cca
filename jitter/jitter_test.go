package jitter_test

import (
	"math"
	"testing"
	"time"

	"github.com/f99b3bbb/backoff/jitter"
)

const maxDuration = time.Duration(math.MaxInt64)

// oneBelow1 is the largest float64 below 1.
const oneBelow1 = 1 - 0x1p-53

var upward10 = jitter.Upward(0.1)

func TestFixedDraws(t *testing.T) {
	t.Parallel()
	s := time.Second
	tests := []struct {
		name string
		f    jitter.Func
		d    time.Duration
		u    float64
		want time.Duration
	}{
		{"Full/u0", jitter.Full, 10 * s, 0, 0},
		{"Full/u0.5", jitter.Full, 10 * s, 0.5, 5 * s},
		{"Full/u0.25", jitter.Full, 3 * s, 0.25, 750 * time.Millisecond},
		{"Full/u<1", jitter.Full, 10 * s, oneBelow1, 10*s - 1},
		{"Full/d0", jitter.Full, 0, 0.5, 0},
		{"Full/d1ns/u0.5", jitter.Full, 1, 0.5, 0},
		{"Full/dMax/u<1", jitter.Full, maxDuration, oneBelow1, maxDuration - 1023},
		{"Full/dMax/u0.5", jitter.Full, maxDuration, 0.5, 1 << 62},

		{"Random/u0", jitter.Random, 10 * s, 0, 10 * s},
		{"Random/u0.5", jitter.Random, 10 * s, 0.5, 10*s + s/2},
		{"Random/u<1", jitter.Random, 10 * s, oneBelow1, 11*s - 1},
		{"Random/d0", jitter.Random, 0, 0.25, s / 4},
		{"Random/dMax", jitter.Random, maxDuration, 0.5, maxDuration},
		{"Random/dMax/u0", jitter.Random, maxDuration, 0, maxDuration},
		{"Random/dMax-1s", jitter.Random, maxDuration - s, oneBelow1, maxDuration - 1},

		{"Equal/u0", jitter.Equal, 10 * s, 0, 5 * s},
		{"Equal/u0.5", jitter.Equal, 10 * s, 0.5, 7500 * time.Millisecond},
		{"Equal/u<1", jitter.Equal, 10 * s, oneBelow1, 10*s - 1},
		{"Equal/odd", jitter.Equal, 3, 0, 1},
		{"Equal/odd/u<1", jitter.Equal, 3, oneBelow1, 2},
		{"Equal/dMax/u0", jitter.Equal, maxDuration, 0, maxDuration / 2},
		{"Equal/dMax/u<1", jitter.Equal, maxDuration, oneBelow1, maxDuration - 512},

		{"None/u0", jitter.None, 10 * s, 0, 10 * s},
		{"None/u0.5", jitter.None, 10 * s, 0.5, 10 * s},
		{"None/u<1", jitter.None, maxDuration, oneBelow1, maxDuration},

		{"Upward/u0", upward10, 10 * s, 0, 10 * s},
		{"Upward/u0.5", upward10, 10 * s, 0.5, 10*s + s/2},
		{"Upward/u<1", upward10, 10 * s, oneBelow1, 11*s - 1},
		{"Upward/dMax", upward10, maxDuration, 0.5, maxDuration},
		{"Upward/f2", jitter.Upward(2), 10 * s, 0.5, 20 * s},
		{"Upward/extra=2^63", jitter.Upward(4), 1 << 62, 0.5, maxDuration}, // u·f·d is exactly 2⁶³
		{"Upward/fMaxFloat", jitter.Upward(math.MaxFloat64), s, 0.5, maxDuration},
		{"Upward/fMaxFloat/u0", jitter.Upward(math.MaxFloat64), s, 0, s},
		{"Upward/fMaxFloat/d0", jitter.Upward(math.MaxFloat64), 0, oneBelow1, 0},
		{"Upward/f0", jitter.Upward(0), 10 * s, 0.5, 10 * s},
		{"Upward/fNaN", jitter.Upward(math.NaN()), 10 * s, 0.5, 10 * s},
		{"Upward/f-1", jitter.Upward(-1), 10 * s, 0.5, 10 * s},
		{"Upward/f+Inf", jitter.Upward(math.Inf(1)), 10 * s, 0.5, 10 * s},
		{"Upward/f-Inf", jitter.Upward(math.Inf(-1)), 10 * s, 0.5, 10 * s},

		// u outside [0, 1) is clamped into it; a negative d is 0.
		{"Full/u1", jitter.Full, 10 * s, 1, 10*s - 1},
		{"Full/u2", jitter.Full, 10 * s, 2, 10*s - 1},
		{"Full/u+Inf", jitter.Full, maxDuration, math.Inf(1), maxDuration - 1023},
		{"Full/u-1", jitter.Full, 10 * s, -1, 0},
		{"Full/uNaN", jitter.Full, 10 * s, math.NaN(), 0},
		{"Random/uNaN", jitter.Random, 10 * s, math.NaN(), 10 * s},
		{"Random/u7", jitter.Random, 10 * s, 7, 11*s - 1},
		{"Equal/u-Inf", jitter.Equal, 10 * s, math.Inf(-1), 5 * s},
		{"Upward/u1", upward10, 10 * s, 1, 11*s - 1},
		{"Full/d<0", jitter.Full, -10 * s, 0.5, 0},
		{"Random/d<0", jitter.Random, -10 * s, 0.5, s / 2},
		{"Equal/d<0", jitter.Equal, -10 * s, 0.5, 0},
		{"None/d<0", jitter.None, -10 * s, 0.5, 0},
		{"Upward/d<0", upward10, -10 * s, 0.5, 0},
		{"Full/dMin", jitter.Full, math.MinInt64, 0.5, 0},
	}
	for _, tt := range tests {
		if got := tt.f(tt.d, tt.u); got != tt.want {
			t.Errorf("%s: f(%v, %v) = %v (%d), want %v (%d)", tt.name, tt.d, tt.u, got, int64(got), tt.want, int64(tt.want))
		}
	}
}

// funcs are the jitter functions under test, with the bounds they promise
// for a d >= 0 and a draw u in [0, 1): lo(d) <= f(d, u) <= hi(d).
var funcs = []struct {
	name   string
	f      jitter.Func
	lo, hi func(d time.Duration) time.Duration
}{
	{"Full", jitter.Full, zero, same},
	{"Random", jitter.Random, same, plus(time.Second)},
	{"Equal", jitter.Equal, func(d time.Duration) time.Duration { return d / 2 }, same},
	{"None", jitter.None, same, same},
	{"Upward(0.1)", jitter.Upward(0.1), same, scaled(1.1)},
	{"Upward(1e300)", jitter.Upward(1e300), same, func(time.Duration) time.Duration { return maxDuration }},
	{"Upward(NaN)", jitter.Upward(math.NaN()), same, same},
}

func zero(time.Duration) time.Duration   { return 0 }
func same(d time.Duration) time.Duration { return d }

func plus(x time.Duration) func(time.Duration) time.Duration {
	return func(d time.Duration) time.Duration {
		if d > maxDuration-x {
			return maxDuration
		}
		return d + x
	}
}

func scaled(x float64) func(time.Duration) time.Duration {
	return func(d time.Duration) time.Duration {
		f := float64(d) * x
		if f >= 1<<63 {
			return maxDuration
		}
		return time.Duration(math.Ceil(f))
	}
}

// checkBounds reports a result of f outside its promised bounds.
func checkBounds(t *testing.T, name string, f jitter.Func, lo, hi func(time.Duration) time.Duration, d time.Duration, u float64) {
	t.Helper()
	got := f(d, u)
	dd := max(d, 0)
	if got < 0 || got < lo(dd) || got > hi(dd) {
		t.Errorf("%s(%v (%d), %v) = %v (%d), want within [%d, %d]", name, d, int64(d), u, got, int64(got), int64(lo(dd)), int64(hi(dd)))
	}
}

func TestBounds(t *testing.T) {
	t.Parallel()
	ds := []time.Duration{0, 1, 2, 3, time.Millisecond, time.Second, time.Hour,
		1 << 53, 1<<53 + 1, 1<<62 - 1, 1 << 62, maxDuration - time.Second, maxDuration - 1, maxDuration,
		-1, -time.Hour, math.MinInt64}
	us := []float64{0, 5e-324, 1e-9, 0.25, 0.5, 0.75, 0.999999, oneBelow1, 1, 1.5, -0.5, math.NaN(), math.Inf(1), math.Inf(-1)}
	for _, fn := range funcs {
		for _, d := range ds {
			for _, u := range us {
				checkBounds(t, fn.name, fn.f, fn.lo, fn.hi, d, u)
			}
		}
	}
}

// TestMonotonic checks that every function grows with u for a fixed d,
// so that the spread is uniform over its range.
func TestMonotonic(t *testing.T) {
	t.Parallel()
	for _, fn := range funcs {
		for _, d := range []time.Duration{time.Second, 1<<53 + 1, maxDuration} {
			prev := fn.f(d, 0)
			for i := 1; i <= 1000; i++ {
				u := float64(i) / 1001
				got := fn.f(d, u)
				if got < prev {
					t.Errorf("%s(%v, %v) = %v, below %v for a smaller u", fn.name, d, u, got, prev)
					break
				}
				prev = got
			}
		}
	}
}

func FuzzJitter(f *testing.F) {
	f.Add(int64(time.Second), 0.5, 0.1)
	f.Add(int64(math.MaxInt64), oneBelow1, 1e300)
	f.Add(int64(1<<53+1), oneBelow1, 1.0)
	f.Add(int64(-1), math.NaN(), math.NaN())
	f.Add(int64(math.MinInt64), math.Inf(1), math.Inf(1))
	f.Add(int64(3), 2.0, -1.0)
	f.Fuzz(func(t *testing.T, d int64, u, factor float64) {
		for _, fn := range funcs {
			checkBounds(t, fn.name, fn.f, fn.lo, fn.hi, time.Duration(d), u)
		}
		up := jitter.Upward(factor)
		hi := func(time.Duration) time.Duration { return maxDuration }
		if !(factor >= 0) || math.IsInf(factor, 1) {
			hi = same
		}
		checkBounds(t, "Upward", up, same, hi, time.Duration(d), u)
		// Pure: the same input gives the same result.
		for _, fn := range funcs {
			if a, b := fn.f(time.Duration(d), u), fn.f(time.Duration(d), u); a != b {
				t.Errorf("%s(%d, %v) = %v then %v", fn.name, d, u, a, b)
			}
		}
	})
}

func TestZeroAllocs(t *testing.T) {
	up := jitter.Upward(0.2)
	for _, f := range []jitter.Func{jitter.Full, jitter.Random, jitter.Equal, jitter.None, up} {
		if n := testing.AllocsPerRun(100, func() { f(time.Second, 0.5) }); n != 0 {
			t.Errorf("jitter function allocates %v times, want 0", n)
		}
	}
}

var sink time.Duration

func BenchmarkFull(b *testing.B) {
	b.ReportAllocs()
	d, u := 3*time.Second, 0.37
	for b.Loop() {
		sink = jitter.Full(d, u)
	}
}

func BenchmarkUpward(b *testing.B) {
	b.ReportAllocs()
	f := jitter.Upward(0.1)
	d, u := 3*time.Second, 0.37
	for b.Loop() {
		sink = f(d, u)
	}
}
