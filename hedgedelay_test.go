package backoff

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// latencyRatio is the ratio of a bucket's upper bound to its lower bound.
var latencyRatio = math.Exp2(1.0 / latencyPerOct)

// TestLatenciesBuckets checks the buckets against their bounds: each
// boundary falls where latencyUpper says, the bounds grow by 2^(1/8), and
// durations outside the range are clamped.
func TestLatenciesBuckets(t *testing.T) {
	if got, want := latencyUpper[0], time.Duration(1117); got != want {
		t.Errorf("latencyUpper[0] = %v, want %v", got, want)
	}
	if got, want := latencyUpper[latencyBuckets-1], time.Duration(1<<37); got != want {
		t.Errorf("latencyUpper[last] = %v, want %v", got, want)
	}
	for i := range latencyBuckets - 1 {
		u := latencyUpper[i]
		if got := latencyBucket(u - 1); got != i {
			t.Errorf("latencyBucket(%d) = %d, want %d", u-1, got, i)
		}
		if got := latencyBucket(u); got != i+1 {
			t.Errorf("latencyBucket(%d) = %d, want %d", u, got, i+1)
		}
		if r := float64(latencyUpper[i+1]) / float64(u); math.Abs(r-latencyRatio) > 1e-3 {
			t.Errorf("latencyUpper[%d]/latencyUpper[%d] = %v, want %v", i+1, i, r, latencyRatio)
		}
	}
	for _, tt := range []struct {
		d    time.Duration
		want int
	}{
		{math.MinInt64, 0},
		{-time.Second, 0},
		{0, 0},
		{1, 0},
		{1023, 0},
		{1024, 0},
		{1<<37 - 1, latencyBuckets - 1},
		{1 << 37, latencyBuckets - 1},
		{24 * time.Hour, latencyBuckets - 1},
		{math.MaxInt64, latencyBuckets - 1},
	} {
		if got := latencyBucket(tt.d); got != tt.want {
			t.Errorf("latencyBucket(%d) = %d, want %d", tt.d, got, tt.want)
		}
	}
	// Every duration in range is within its bucket's bounds.
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		d := time.Duration(math.Exp2(10 + 27*r.Float64()))
		i := latencyBucket(d)
		lo := time.Duration(1 << latencyShift)
		if i > 0 {
			lo = latencyUpper[i-1]
		}
		if d < lo || d >= latencyUpper[i] && i < latencyBuckets-1 {
			t.Fatalf("latencyBucket(%d) = %d, bounds [%d, %d)", d, i, lo, latencyUpper[i])
		}
	}
}

// nearestRank returns the nearest-rank p-th percentile of ds.
func nearestRank(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[max(rank, 1)-1]
}

// checkPercentile checks est against the true percentile x within the
// stated error: x ≤ est < x·2^(1/8) + 1 ns, with x clamped to the range.
func checkPercentile(x, est time.Duration) error {
	switch {
	case x < 1<<latencyShift:
		if est != latencyUpper[0] {
			return fmt.Errorf("%v, want %v (true %v, below the range)", est, latencyUpper[0], x)
		}
	case x >= 1<<37:
		if est != 1<<37 {
			return fmt.Errorf("%v, want %v (true %v, above the range)", est, time.Duration(1<<37), x)
		}
	default:
		if est < x || float64(est) >= float64(x)*latencyRatio+1 {
			return fmt.Errorf("%v, want in [%v, %v) (true %v)", est, x, time.Duration(float64(x)*latencyRatio+1), x)
		}
	}
	return nil
}

// shuffled returns n durations: n·share of them d1 and the others d0, in
// random order.
func shuffled(r *rand.Rand, n int, d0, d1 time.Duration, share float64) []time.Duration {
	ds := make([]time.Duration, n)
	k := int(math.Round(float64(n) * share))
	for i := range ds {
		ds[i] = d0
		if i < k {
			ds[i] = d1
		}
	}
	r.Shuffle(n, func(i, j int) { ds[i], ds[j] = ds[j], ds[i] })
	return ds
}

// TestLatenciesPercentile checks the percentiles of known distributions
// against the nearest-rank percentiles of the attempts the histogram
// holds, the last 512 + n%512 of n ≥ 512.
func TestLatenciesPercentile(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	uniform := func(n int, lo, hi time.Duration) []time.Duration {
		ds := make([]time.Duration, n)
		for i := range ds {
			ds[i] = lo + time.Duration(r.Int64N(int64(hi-lo)))
		}
		return ds
	}
	logUniform := func(n int, lo, hi time.Duration) []time.Duration {
		ds := make([]time.Duration, n)
		for i := range ds {
			ds[i] = time.Duration(float64(lo) * math.Pow(float64(hi)/float64(lo), r.Float64()))
		}
		return ds
	}
	ps := []float64{1e-9, 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100 - 1e-9}
	ms := time.Millisecond
	for _, tt := range []struct {
		name string
		ds   []time.Duration
		// want holds percentiles whose bucket is known: the result is
		// in [want, want·2^(1/8)).
		want map[float64]time.Duration
	}{
		{"uniform 1ms-100ms", uniform(1000, ms, 100*ms), nil},
		{"uniform 0-10µs", uniform(1000, 0, 10*time.Microsecond), nil},
		{"log-uniform 10µs-60s", logUniform(1023, 10*time.Microsecond, time.Minute), nil},
		{"bimodal 1% at 1s", shuffled(r, 1000, 5*ms, time.Second, 0.01),
			map[float64]time.Duration{50: 5 * ms, 95: 5 * ms, 99: 5 * ms, 99.5: time.Second, 99.9: time.Second}},
		{"bimodal 10% at 200ms", shuffled(r, 1000, 2*ms, 200*ms, 0.1),
			map[float64]time.Duration{50: 2 * ms, 89: 2 * ms, 91: 200 * ms, 99: 200 * ms}},
		{"constant, 20 attempts", slices.Repeat([]time.Duration{7 * ms}, 20),
			map[float64]time.Duration{1e-9: 7 * ms, 50: 7 * ms, 100 - 1e-9: 7 * ms}},
		{"clamped", shuffled(r, 100, -time.Hour, 24*time.Hour, 0.5),
			map[float64]time.Duration{1: 0, 50: 0, 51: 1 << 37, 99: 1 << 37}},
		{"zero and huge", append(slices.Repeat([]time.Duration{0}, 50), slices.Repeat([]time.Duration{math.MaxInt64}, 50)...), nil},
		{"windows: 3000 log-uniform", logUniform(3000, ms, time.Second), nil},
		{"windows: 1024 uniform", uniform(1024, ms, 10*ms), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := newLatencies(0)
			for _, d := range tt.ds {
				l.record(host, d)
			}
			held := tt.ds
			if n := len(tt.ds); n >= latencyWindow {
				held = tt.ds[n-latencyWindow-n%latencyWindow:]
			}
			for _, p := range ps {
				est, ok := l.percentile(host, p)
				if !ok {
					t.Fatalf("percentile(%v): not ok after %d attempts", p, len(tt.ds))
				}
				if err := checkPercentile(nearestRank(held, p), est); err != nil {
					t.Errorf("percentile(%v) = %v", p, err)
				}
			}
			for p, want := range tt.want {
				est, _ := l.percentile(host, p)
				if err := checkPercentile(want, est); err != nil {
					t.Errorf("percentile(%v) = %v", p, err)
				}
			}
		})
	}
}

// TestLatenciesNotOK checks when percentile reports false: fewer than 20
// attempts, an untracked host, p outside (0, 100).
func TestLatenciesNotOK(t *testing.T) {
	l := newLatencies(0)
	for i := range latencyMinSamples {
		if _, ok := l.percentile(host, 50); ok {
			t.Fatalf("percentile ok after %d attempts", i)
		}
		l.record(host, time.Millisecond)
	}
	if _, ok := l.percentile(host, 50); !ok {
		t.Errorf("percentile not ok after %d attempts", latencyMinSamples)
	}
	if d, ok := l.percentile("other.example.com", 50); ok || d != 0 {
		t.Errorf("percentile of an untracked host = %v, %v", d, ok)
	}
	for _, p := range []float64{0, 100, -1, 101, math.NaN(), math.Inf(1), math.Inf(-1), math.SmallestNonzeroFloat64 - 1} {
		if d, ok := l.percentile(host, p); ok || d != 0 {
			t.Errorf("percentile(%v) = %v, %v; want 0, false", p, d, ok)
		}
	}
	for _, p := range []float64{math.SmallestNonzeroFloat64, 1e-300, 100 - 1e-13} {
		if est, ok := l.percentile(host, p); !ok || checkPercentile(time.Millisecond, est) != nil {
			t.Errorf("percentile(%v) = %v, %v; want %v", p, est, ok, time.Millisecond)
		}
	}
}

// TestLatenciesDecay checks that the percentiles follow a change of
// latency within 1,024 attempts and not before 512, at every phase of the
// windows.
func TestLatenciesDecay(t *testing.T) {
	ms := time.Millisecond
	for _, tt := range []struct {
		from, to time.Duration
		phase    int // old attempts after the last full window
	}{
		{5 * ms, 50 * ms, 0},
		{5 * ms, 50 * ms, 1},
		{5 * ms, 50 * ms, 300},
		{5 * ms, 50 * ms, 511},
		{50 * ms, 5 * ms, 0},
		{50 * ms, 5 * ms, 257},
		{50 * ms, 5 * ms, 511},
	} {
		t.Run(fmt.Sprintf("%v-%v/%d", tt.from, tt.to, tt.phase), func(t *testing.T) {
			l := newLatencies(0)
			for range 4*512 + tt.phase {
				l.record(host, tt.from)
			}
			// The percentiles that move last: the lowest for a rise,
			// the highest for a fall.
			last := 1e-9
			if tt.to < tt.from {
				last = 100 - 1e-9
			}
			for _, p := range []float64{50, 95, 99} {
				if est, _ := l.percentile(host, p); checkPercentile(tt.from, est) != nil {
					t.Fatalf("before: percentile(%v) = %v, want %v", p, est, tt.from)
				}
			}
			n := 0
			for ; n < 1024; n++ {
				if est, _ := l.percentile(host, last); checkPercentile(tt.to, est) == nil {
					break
				}
				l.record(host, tt.to)
			}
			if n < 512 || n > 1024 {
				t.Errorf("followed after %d attempts, want 512 to 1,024", n)
			}
			for _, p := range []float64{1e-9, 1, 50, 95, 99, 99.5, 100 - 1e-9} {
				if est, _ := l.percentile(host, p); checkPercentile(tt.to, est) != nil {
					t.Errorf("after %d: percentile(%v) = %v, want %v", n, p, est, tt.to)
				}
			}
		})
	}
}

// TestLatenciesKeys checks that the forms of a host share its histogram,
// and that other hosts do not.
func TestLatenciesKeys(t *testing.T) {
	for _, tt := range []struct {
		forms  []string
		others []string
	}{
		{
			[]string{"api.example.com", "API.example.com:443", "api.example.com.", "Api.Example.Com.:80", "api.example.com:443"},
			[]string{"api.example.com:8443", "example.com", "api2.example.com"},
		},
		{
			[]string{"[::1]:443", "::1", "[0:0::1]", "[0:0:0:0:0:0:0:1]:80"},
			[]string{"[::1]:8080", "[::2]", "127.0.0.1"},
		},
		{
			[]string{"10.0.0.1", "[::ffff:10.0.0.1]:443", "10.0.0.1:80"},
			[]string{"10.0.0.1:8080", "10.0.0.2"},
		},
	} {
		l := newLatencies(0)
		for i := range latencyMinSamples {
			l.record(tt.forms[i%len(tt.forms)], time.Millisecond)
		}
		for _, h := range tt.forms {
			if est, ok := l.percentile(h, 50); !ok || checkPercentile(time.Millisecond, est) != nil {
				t.Errorf("percentile(%q, 50) = %v, %v after attempts to %q", h, est, ok, tt.forms)
			}
		}
		for _, h := range tt.others {
			if est, ok := l.percentile(h, 50); ok {
				t.Errorf("percentile(%q, 50) = %v, %v after attempts to %q only", h, est, ok, tt.forms)
			}
		}
		if n := l.hosts.Load(); n != 1 {
			t.Errorf("%d hosts tracked after attempts to %q, want 1", n, tt.forms)
		}
	}
}

// trackedHosts returns the number of hosts in l's shards, checking it
// against l.hosts.
func trackedHosts(t *testing.T, l *latencies) int {
	t.Helper()
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	if c := l.hosts.Load(); c != int64(n) {
		t.Errorf("hosts = %d, but %d in the shards", c, n)
	}
	return n
}

// TestLatenciesHostCap checks that no more than maxHosts hosts are
// tracked, whatever the number of hosts seen, and that the first ones
// stay tracked while not idle.
func TestLatenciesHostCap(t *testing.T) {
	for _, tt := range []struct{ maxHosts, hosts, want int }{
		{0, 100_000, latencyMaxHosts},
		{-1, 2000, latencyMaxHosts},
		{1, 10, 1},
		{50, 49, 49},
		{5000, 100_000, 5000},
	} {
		l := newLatencies(tt.maxHosts)
		for i := range tt.hosts {
			l.record(fmt.Sprintf("h%d.example", i), time.Millisecond)
		}
		if n := trackedHosts(t, l); n != tt.want {
			t.Errorf("newLatencies(%d): %d hosts tracked after %d, want %d", tt.maxHosts, n, tt.hosts, tt.want)
		}
		first, beyond := "h0.example", fmt.Sprintf("h%d.example", tt.hosts-1)
		for range latencyMinSamples {
			l.record(first, time.Millisecond)
			l.record(beyond, time.Millisecond)
		}
		if _, ok := l.percentile(first, 50); !ok {
			t.Errorf("newLatencies(%d): the first host is not tracked", tt.maxHosts)
		}
		if _, ok := l.percentile(beyond, 50); ok != (tt.hosts <= tt.want) {
			t.Errorf("newLatencies(%d): the last of %d hosts: ok = %v", tt.maxHosts, tt.hosts, ok)
		}
	}
}

// TestLatenciesSweep checks that hosts idle for latencyIdle make room for
// new ones once maxHosts are tracked, and only those.
func TestLatenciesSweep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const max = 10
		name := func(i int) string { return fmt.Sprintf("h%d.example:8080", i) }
		l := newLatencies(max)
		for i := range max {
			for range latencyMinSamples {
				l.record(name(i), time.Millisecond)
			}
		}
		time.Sleep(latencyIdle - time.Second)
		l.record(name(0), time.Millisecond) // h0 is not idle
		l.record(name(max), time.Millisecond)
		if trackedHosts(t, l) != max || l.shard(name(max)).get(name(max)) != nil {
			t.Fatalf("a new host tracked while none is idle (%d hosts)", trackedHosts(t, l))
		}
		time.Sleep(2 * time.Second)
		l.record(name(max), time.Millisecond) // h1..h9 dropped
		if n := trackedHosts(t, l); n != 2 {
			t.Errorf("%d hosts tracked after the sweep, want 2", n)
		}
		if _, ok := l.percentile(name(0), 50); !ok {
			t.Errorf("the host not idle was dropped")
		}
		for i := 1; i < max; i++ {
			if _, ok := l.percentile(name(i), 50); ok {
				t.Errorf("idle host %d kept", i)
			}
		}
		// Room again, up to max.
		for i := max + 1; i < 3*max; i++ {
			l.record(name(i), time.Millisecond)
		}
		if n := trackedHosts(t, l); n != max {
			t.Errorf("%d hosts tracked, want %d", n, max)
		}
		// The next sweep drops none (all recorded just now), and is
		// not due again for latencySweepEvery.
		time.Sleep(latencySweepEvery)
		l.record(name(3*max), time.Millisecond)
		if n := trackedHosts(t, l); n != max || l.shard(name(3*max)).get(name(3*max)) != nil {
			t.Errorf("%d hosts tracked, the new one among them", n)
		}
	})
}

// TestLatenciesMemory checks the memory of a tracked host: at most 1 KiB,
// with its map entry and key.
func TestLatenciesMemory(t *testing.T) {
	const hosts = 1000
	names := make([]string, hosts)
	for i := range names {
		names[i] = fmt.Sprintf("host-%06d.example.com:443", i) // a key of 23 bytes
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	l := newLatencies(hosts)
	for _, h := range names {
		l.record(h, time.Millisecond)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if n := trackedHosts(t, l); n != hosts {
		t.Fatalf("%d hosts tracked, want %d", n, hosts)
	}
	per := float64(after.HeapAlloc-before.HeapAlloc) / hosts
	t.Logf("%.0f bytes per host", per)
	if per > 1024 {
		t.Errorf("%.0f bytes per host, want at most 1024", per)
	}
	runtime.KeepAlive(l)
}

// TestLatenciesConcurrent records and reads from many goroutines, on
// shared hosts and on more hosts than are tracked, for the race detector;
// then checks the counts.
func TestLatenciesConcurrent(t *testing.T) {
	const (
		workers = 8
		each    = 2000
		max     = 50
	)
	l := newLatencies(max)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				l.record("shared.example", time.Duration(i+1)*time.Microsecond)
				l.record(fmt.Sprintf("h%d-%d.example", w, i%100), time.Millisecond)
				if d, ok := l.percentile("shared.example", 99); ok && d <= 0 {
					t.Errorf("percentile = %v", d)
				}
				l.percentile(fmt.Sprintf("h%d-%d.example", w, i%100), 50)
			}
		})
	}
	wg.Wait()
	if n := trackedHosts(t, l); n != max {
		t.Errorf("%d hosts tracked, want %d", n, max)
	}
	s := l.shard("shared.example")
	h := s.get("shared.example")
	if h == nil {
		t.Fatal("shared host not tracked")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var cur, all int
	for i := range latencyBuckets {
		cur += int(h.cur[i])
		all += int(h.all[i])
	}
	if want := workers * each % latencyWindow; cur != want || int(h.n) != want || all != latencyWindow+want || !h.full {
		t.Errorf("counts: current %d (n %d), all %d, want %d and %d", cur, h.n, all, want, latencyWindow+want)
	}
}

// TestLatenciesAllocs checks that record and percentile allocate nothing
// for a tracked host in the usual forms.
func TestLatenciesAllocs(t *testing.T) {
	l := newLatencies(0)
	for _, h := range []string{"api.example.com", "api.example.com:443", "api.example.com:8443", "10.0.0.1:80"} {
		for range latencyMinSamples {
			l.record(h, time.Millisecond)
		}
		if n := testing.AllocsPerRun(1000, func() { l.record(h, 3*time.Millisecond) }); n != 0 {
			t.Errorf("record(%q): %v allocations, want 0", h, n)
		}
		if n := testing.AllocsPerRun(1000, func() { l.percentile(h, 95) }); n != 0 {
			t.Errorf("percentile(%q): %v allocations, want 0", h, n)
		}
	}
}

// BenchmarkLatencies measures record and percentile for a tracked host,
// percentile at the p99.5 of a histogram with 1% at 1 s (the scan stops at
// bucket 159 of 216), and record from every P on one host.
func BenchmarkLatencies(b *testing.B) {
	l := newLatencies(0)
	for _, d := range shuffled(rand.New(rand.NewPCG(5, 6)), 1000, 5*time.Millisecond, time.Second, 0.01) {
		l.record(host, d)
	}
	b.Run("record", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			l.record(host, 5*time.Millisecond)
		}
	})
	b.Run("percentile", func(b *testing.B) {
		l := newLatencies(0)
		for _, d := range shuffled(rand.New(rand.NewPCG(5, 6)), 1000, 5*time.Millisecond, time.Second, 0.01) {
			l.record(host, d)
		}
		b.ReportAllocs()
		for b.Loop() {
			l.percentile(host, 99.5)
		}
	})
	b.Run("record/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				l.record(host, 5*time.Millisecond)
			}
		})
	})
}
