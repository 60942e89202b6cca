package strategy_test

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/f99b3bbb/backoff/strategy"
)

// named is one configuration of the conformance suite with the guarantees
// it makes.
type named struct {
	name   string
	st     strategy.Strategy
	cap    time.Duration // waits never above cap; 0: no cap but the largest Duration
	floor  time.Duration // waits never below floor
	mono   int           // +1: never decreasing with Retry; -1: never increasing; 0: no promise
	finite bool          // may be exhausted
}

// conformanceStrategies returns several configurations of every strategy,
// including extreme and invalid ones.
func conformanceStrategies() []named {
	nan, inf := math.NaN(), math.Inf(1)
	neg := strategy.Func(func(strategy.State) (time.Duration, bool) { return -time.Second, true })
	retryAfter := func(v any, err error) (time.Duration, bool) {
		d, ok := v.(time.Duration)
		return d, ok
	}
	return []named{
		{name: "Expo{}", st: strategy.Expo{}, mono: +1},
		{name: "Expo{Max:10s}", st: strategy.Expo{Max: 10 * time.Second}, cap: 10 * time.Second, mono: +1},
		{name: "Expo{Base:1e300}", st: strategy.Expo{Base: 1e300}, mono: +1},
		{name: "Expo{Base:1e300,Max:1ns}", st: strategy.Expo{Base: 1e300, Max: 1}, cap: 1, floor: 1, mono: +1},
		{name: "Expo{Factor:max}", st: strategy.Expo{Factor: maxDuration}, floor: maxDuration, mono: +1},
		{name: "Expo{Factor:max,Max:1ns}", st: strategy.Expo{Factor: maxDuration, Max: 1}, cap: 1, floor: 1, mono: +1},
		{name: "Expo{Base:MaxFloat,Factor:max,Max:max}", st: strategy.Expo{Base: math.MaxFloat64, Factor: maxDuration, Max: maxDuration}, cap: maxDuration, mono: +1},
		{name: "Expo{Base:0.5,Factor:max}", st: strategy.Expo{Base: 0.5, Factor: maxDuration}, mono: -1},
		{name: "Expo{Base:0.5,Factor:1h,Max:1s}", st: strategy.Expo{Base: 0.5, Factor: time.Hour, Max: time.Second}, cap: time.Second, floor: time.Second, mono: -1},
		{name: "Expo{Base:SmallestNonzero}", st: strategy.Expo{Base: math.SmallestNonzeroFloat64}, mono: -1},
		{name: "Expo{Base:1+1e-15}", st: strategy.Expo{Base: 1 + 1e-15}, floor: time.Second, mono: +1},
		{name: "Expo{invalid}", st: strategy.Expo{Base: nan, Factor: -1, Max: -1}, mono: +1},
		{name: "Expo{Base:+Inf}", st: strategy.Expo{Base: inf}, mono: +1},

		{name: "Fibo{}", st: strategy.Fibo{}, floor: time.Second, mono: +1},
		{name: "Fibo{Unit:1ns}", st: strategy.Fibo{Unit: 1}, floor: 1, mono: +1},
		{name: "Fibo{Unit:max}", st: strategy.Fibo{Unit: maxDuration}, floor: maxDuration, mono: +1},
		{name: "Fibo{Max:1ns}", st: strategy.Fibo{Max: 1}, cap: 1, floor: 1, mono: +1},
		{name: "Fibo{Unit:1h,Max:max-1}", st: strategy.Fibo{Unit: time.Hour, Max: maxDuration - 1}, cap: maxDuration - 1, mono: +1},
		{name: "Fibo{invalid}", st: strategy.Fibo{Unit: -1, Max: -1}, mono: +1},

		{name: "Constant{}", st: strategy.Constant{}, cap: time.Second, floor: time.Second, mono: +1},
		{name: "Constant{max}", st: strategy.Constant{Interval: maxDuration}, floor: maxDuration, mono: +1},
		{name: "Constant{invalid}", st: strategy.Constant{Interval: -1}, cap: 0, mono: +1},
		{name: "Immediate", st: strategy.Immediate, mono: +1},

		{name: "Sequence{1s,2s}", st: strategy.Sequence{time.Second, 2 * time.Second}, cap: 2 * time.Second, finite: true},
		{name: "Sequence{}", st: strategy.Sequence{}, finite: true},
		{name: "Sequence{max,-1}", st: strategy.Sequence{maxDuration, -1}, finite: true},

		{name: "Decay{}", st: strategy.Decay{}, cap: time.Second, mono: -1},
		{name: "Decay{Min:200ms}", st: strategy.Decay{Min: 200 * time.Millisecond}, cap: time.Second, floor: 200 * time.Millisecond, mono: -1},
		{name: "Decay{Initial:max,Factor:tiny}", st: strategy.Decay{Initial: maxDuration, Factor: math.SmallestNonzeroFloat64}, mono: -1},
		{name: "Decay{Factor:MaxFloat}", st: strategy.Decay{Factor: math.MaxFloat64}, cap: time.Second, mono: -1},
		{name: "Decay{Min:max}", st: strategy.Decay{Min: maxDuration}, floor: maxDuration, mono: -1},
		{name: "Decay{invalid}", st: strategy.Decay{Initial: -1, Factor: nan, Min: -1}, cap: time.Second, mono: -1},

		{name: "Linear{}", st: strategy.Linear{}, floor: time.Second, mono: +1},
		{name: "Linear{max,max}", st: strategy.Linear{Initial: maxDuration, Step: maxDuration}, floor: maxDuration, mono: +1},
		{name: "Linear{Step:1ns,Max:1ns}", st: strategy.Linear{Initial: 1, Step: 1, Max: 1}, cap: 1, floor: 1, mono: +1},
		{name: "Linear{invalid}", st: strategy.Linear{Initial: -1, Step: -1, Max: -1}, mono: +1},

		{name: "Decorrelated{}", st: strategy.Decorrelated{}},
		{name: "Decorrelated{Base:max}", st: strategy.Decorrelated{Base: maxDuration}},
		{name: "Decorrelated{Base:1ns,Max:1ns}", st: strategy.Decorrelated{Base: 1, Max: 1}, cap: 1},
		{name: "Decorrelated{Base:1h,Max:1s}", st: strategy.Decorrelated{Base: time.Hour, Max: time.Second}, cap: time.Second},
		{name: "Decorrelated{invalid}", st: strategy.Decorrelated{Base: -1, Max: -1}},

		{name: "Capped{Expo,1ns}", st: strategy.Capped{Strategy: strategy.Expo{}, Max: 1}, cap: 1, mono: +1},
		{name: "Capped{Decorrelated,10s}", st: strategy.Capped{Strategy: strategy.Decorrelated{}, Max: 10 * time.Second}, cap: 10 * time.Second},
		{name: "Capped{negative}", st: strategy.Capped{Strategy: neg}, mono: +1},
		{name: "Capped{nil}", st: strategy.Capped{Max: time.Second}, finite: true},

		{name: "Runtime{max}", st: strategy.Runtime{Value: func(any, error) (time.Duration, bool) { return maxDuration, true }}},
		{name: "Runtime{negative}", st: strategy.Runtime{Value: func(any, error) (time.Duration, bool) { return -1, true }}, cap: 0},
		{name: "Runtime{Fallback:Expo}", st: strategy.Runtime{Value: retryAfter, Fallback: strategy.Expo{}}},
		{name: "Runtime{Fallback:negative}", st: strategy.Runtime{Value: retryAfter, Fallback: neg}},
		{name: "Runtime{}", st: strategy.Runtime{}, finite: true},

		{name: "Func{nil}", st: strategy.Func(nil), finite: true},
	}
}

// conformanceStates returns the States the suite asks every strategy
// about, in increasing Retry order.
func conformanceStates() []strategy.State {
	retries := []int{1, 2, 3, 10, 63, 64, 65, 1000, 1e6, math.MaxInt32, math.MaxInt - 1, math.MaxInt}
	prevs := []time.Duration{0, 1, time.Second, maxDuration / 3, maxDuration/3 + 1, maxDuration / 2, maxDuration, -time.Second}
	rands := []float64{0, 0.5, oneBelow1, 1, -0.5, math.NaN()}
	var out []strategy.State
	for _, r := range retries {
		for _, p := range prevs {
			for _, u := range rands {
				out = append(out, strategy.State{Retry: r, Prev: p, Rand: u, Value: p})
			}
		}
	}
	return out
}

// checkWait reports a wait outside the bounds of n.
func checkWait(t *testing.T, n named, s strategy.State, w time.Duration, ok bool) {
	t.Helper()
	switch {
	case !ok && !n.finite:
		t.Errorf("%s.Next(%+v) = %v, false; want it never exhausted", n.name, s, w)
	case !ok && w != 0:
		t.Errorf("%s.Next(%+v) = %v, false; want 0 when exhausted", n.name, s, w)
	case !ok:
	case w < 0:
		t.Errorf("%s.Next(%+v) = %v (%d): negative", n.name, s, w, int64(w))
	case n.cap > 0 && w > n.cap:
		t.Errorf("%s.Next(%+v) = %v (%d): above cap %v", n.name, s, w, int64(w), n.cap)
	case n.cap == 0 && n.name == "Constant{invalid}" && w != 0,
		n.cap == 0 && n.name == "Runtime{negative}" && w != 0:
		t.Errorf("%s.Next(%+v) = %v, want 0", n.name, s, w)
	case w < n.floor:
		t.Errorf("%s.Next(%+v) = %v (%d): below floor %v", n.name, s, w, int64(w), n.floor)
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	states := conformanceStates()
	for _, n := range conformanceStrategies() {
		t.Run(n.name, func(t *testing.T) {
			t.Parallel()
			last := map[[2]int64]time.Duration{} // wait per (prev, rand index) at the last retry
			exhaustedAt := 0
			for i, s := range states {
				w, ok := n.st.Next(s)
				checkWait(t, n, s, w, ok)
				if w2, ok2 := n.st.Next(s); w2 != w || ok2 != ok {
					t.Errorf("%s.Next(%+v) = %v, %v then %v, %v: not a function of the State", n.name, s, w, ok, w2, ok2)
				}
				if !ok && exhaustedAt == 0 {
					exhaustedAt = s.Retry
				}
				if ok && exhaustedAt != 0 {
					t.Errorf("%s.Next(Retry %d) = %v, true after being exhausted at Retry %d", n.name, s.Retry, w, exhaustedAt)
				}
				if !ok || n.mono == 0 {
					continue
				}
				key := [2]int64{int64(s.Prev), int64(i % 6)} // 6 draws per Prev
				if prev, seen := last[key]; seen && (n.mono > 0 && w < prev || n.mono < 0 && w > prev) {
					t.Errorf("%s.Next(Retry %d) = %v after %v: not monotonic (%+d)", n.name, s.Retry, w, prev, n.mono)
				}
				last[key] = w
			}
		})
	}
}

// TestConsecutiveMonotonic checks the monotonic strategies over every
// retry from 1 to 300, where the saturation points lie.
func TestConsecutiveMonotonic(t *testing.T) {
	t.Parallel()
	for _, n := range conformanceStrategies() {
		if n.mono == 0 {
			continue
		}
		prev, _ := n.st.Next(strategy.State{Retry: 1})
		for r := 2; r <= 300; r++ {
			w, _ := n.st.Next(strategy.State{Retry: r})
			if n.mono > 0 && w < prev || n.mono < 0 && w > prev {
				t.Errorf("%s.Next(Retry %d) = %v after %v: not monotonic (%+d)", n.name, r, w, prev, n.mono)
				break
			}
			prev = w
		}
	}
}

// TestConcurrent shares every strategy between many goroutines; run it
// with -race. Each goroutine must see the results of a sequential run.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	strategies := conformanceStrategies()
	states := conformanceStates()[:200]
	type result struct {
		w  time.Duration
		ok bool
	}
	want := make([][]result, len(strategies))
	for i, n := range strategies {
		for _, s := range states {
			w, ok := n.st.Next(s)
			want[i] = append(want[i], result{w, ok})
		}
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for k := range strategies {
				i := (k + g) % len(strategies) // start at different strategies
				n := strategies[i]
				for j, s := range states {
					if w, ok := n.st.Next(s); w != want[i][j].w || ok != want[i][j].ok {
						t.Errorf("goroutine %d: %s.Next(%+v) = %v, %v; want %v, %v", g, n.name, s, w, ok, want[i][j].w, want[i][j].ok)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
