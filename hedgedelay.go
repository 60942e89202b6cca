package backoff

import (
	"hash/maphash"
	"math"
	"math/bits"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// latencies tracks the recent attempt durations of each host, from which
// percentile derives a hedge delay. It is safe for concurrent use; make
// one with newLatencies (the zero value is not usable).
//
// Each host has a histogram of 216 buckets, 8 per doubling (each bucket's
// bounds are in the ratio 2^(1/8) ≈ 1.0905), from 1.024 µs (2^10 ns) to
// 137.4 s (2^37 ns). A duration below 1.024 µs, zero or negative included,
// counts in the first bucket; one of 137.4 s or more counts in the last.
//
// The histogram holds the host's last 512 to 1,023 attempts: the 512 of
// the previous window and those of the current one, which replaces it
// when it has 512. A change of a host's latency is therefore followed
// entirely after at most 1,024 attempts (after 512 to 1,024, depending
// on where in the window it comes), when the attempts before it are all
// forgotten. The windows count attempts, not time: a host's estimate
// keeps its last attempts however long ago they were.
//
// A tracked host costs 888 bytes (an 896-byte allocation) plus its map
// entry and a copy of its key: about 940 bytes for a key of 23 bytes
// (TestLatenciesMemory). At most maxHosts hosts are tracked, about 0.94
// MB for the default of 1,000, plus 552 bytes for the latencies itself.
// A host beyond them is not tracked (record drops its durations,
// percentile reports false) until a sweep drops the hosts without an
// attempt recorded for latencyIdle (5 minutes) or more; a sweep runs at
// most once a second, and only when a new host finds maxHosts tracked.
//
// record and percentile allocate nothing for a tracked host whose key is
// in the form budgetKey returns without allocating (for example
// "api.example.com:443"). go test -bench BenchmarkLatencies, n=10, the
// medians of two runs on a noisy 2-vCPU amd64 VM: record 76–79 ns/op (of
// which 31 ns read the monotonic clock, 14 ns budgetKey), percentile
// 103–108 ns/op (p99.5 of 1% at 1 s: a scan of 160 buckets), 0 B/op, 0
// allocs/op.
type latencies struct {
	max    int64         // hosts tracked at most
	hosts  atomic.Int64  // hosts tracked
	born   time.Duration // monotonic time of newLatencies: now's origin
	swept  atomic.Int64  // now at the last sweep
	seed   maphash.Seed
	shards [latencyShards]latencyShard
}

const (
	latencyShift   = 10 // the first bucket starts at 2^10 ns
	latencyPerOct  = 8  // buckets per doubling
	latencyOctaves = 27 // doublings covered: up to 2^37 ns
	latencyBuckets = latencyOctaves * latencyPerOct

	latencyWindow     = 512  // attempts per window
	latencyMinSamples = 20   // attempts below which percentile reports false
	latencyMaxHosts   = 1000 // newLatencies' default maxHosts
	latencyShards     = 16

	// latencyIdle is how long a host without an attempt recorded stays
	// tracked at least; latencySweepEvery is how often, at most, the
	// hosts idle that long are dropped while maxHosts are tracked.
	latencyIdle       = 5 * time.Minute
	latencySweepEvery = time.Second
)

// latencyThresholds holds, for j = 1..7, 2^(63+j/8) rounded: a duration
// with its most significant bit shifted to bit 63 is at or above the j-th
// of them when it is in the j-th bucket of its doubling or a later one.
var latencyThresholds = func() (t [latencyPerOct - 1]uint64) {
	for j := range t {
		t[j] = uint64(math.Ldexp(math.Exp2(float64(j+1)/latencyPerOct), 63))
	}
	return t
}()

// latencyUpper holds the upper bound of each bucket, 2^(10+(i+1)/8) ns
// rounded up: bucket i holds the durations d with latencyUpper[i-1] ≤ d <
// latencyUpper[i] (all those below 2^10 ns for the first, all those from
// latencyUpper[latencyBuckets-2] on for the last).
var latencyUpper = func() (u [latencyBuckets]time.Duration) {
	for i := range u {
		u[i] = time.Duration(math.Ceil(math.Exp2(latencyShift + float64(i+1)/latencyPerOct)))
	}
	return u
}()

// latencyBucket returns the index of d's bucket.
func latencyBucket(d time.Duration) int {
	if d < 1<<latencyShift {
		return 0
	}
	if d >= 1<<(latencyShift+latencyOctaves) {
		return latencyBuckets - 1
	}
	oct := bits.Len64(uint64(d)) - 1
	m := uint64(d) << (63 - oct)
	j := 0
	for _, t := range latencyThresholds {
		if m >= t {
			j++
		}
	}
	return (oct-latencyShift)*latencyPerOct + j
}

type latencyShard struct {
	mu sync.RWMutex
	m  map[string]*hostLatency
}

func (s *latencyShard) get(key string) *hostLatency {
	s.mu.RLock()
	h := s.m[key]
	s.mu.RUnlock()
	return h
}

// hostLatency is one host's histogram. Its fields are guarded by mu.
type hostLatency struct {
	mu   sync.Mutex
	n    uint16 // attempts in cur
	full bool   // prev holds a whole window
	last time.Duration
	// cur counts the current window's attempts by bucket, all those of
	// the previous window and the current one.
	cur, all [latencyBuckets]uint16
}

// newLatencies returns a latencies that tracks maxHosts hosts at most,
// or latencyMaxHosts if maxHosts ≤ 0.
func newLatencies(maxHosts int) *latencies {
	if maxHosts <= 0 {
		maxHosts = latencyMaxHosts
	}
	return &latencies{max: int64(maxHosts), born: monotonic(), seed: maphash.MakeSeed()}
}

// now is the time since l was made, on the monotonic clock.
func (l *latencies) now() time.Duration { return monotonic() - l.born }

func (l *latencies) shard(key string) *latencyShard {
	return &l.shards[maphash.String(l.seed, key)%latencyShards]
}

// record adds an attempt to host that took d: the time from sending the
// request to its response's headers, or, for an attempt that ended
// without them (cancelled, failed), the time it ran, which is less than
// its latency and so brings the percentiles down. host is a URL's host,
// with or without a port, normalised by budgetKey. A host not tracked yet
// becomes tracked unless maxHosts hosts are.
func (l *latencies) record(host string, d time.Duration) {
	key := budgetKey(host)
	s := l.shard(key)
	now := l.now()
	h := s.get(key)
	if h == nil {
		if h = l.insert(s, key, now); h == nil {
			return // not tracked
		}
	}
	i := latencyBucket(d)
	h.mu.Lock()
	h.last = now
	h.cur[i]++
	h.all[i]++
	if h.n++; h.n == latencyWindow {
		h.all, h.cur = h.cur, [latencyBuckets]uint16{}
		h.n, h.full = 0, true
	}
	h.mu.Unlock()
}

// insert returns host key's histogram, making an empty one, or nil when
// maxHosts hosts have one and a sweep is not due or drops none.
func (l *latencies) insert(s *latencyShard, key string, now time.Duration) *hostLatency {
	if l.hosts.Load() < l.max {
		if h := l.add(s, key, now); h != nil {
			return h
		}
	}
	if !l.sweepDue(now) {
		return s.get(key) // inserted meanwhile, or nil
	}
	for i := range l.shards {
		l.sweep(&l.shards[i], now)
	}
	return l.add(s, key, now)
}

// sweepDue reports whether a sweep is due at now and, if so, marks it
// done: at most one caller in latencySweepEvery sweeps.
func (l *latencies) sweepDue(now time.Duration) bool {
	last := l.swept.Load()
	return now-time.Duration(last) >= latencySweepEvery && l.swept.CompareAndSwap(last, int64(now))
}

// add returns host key's histogram in s, making an empty one if there is
// room, or nil.
func (l *latencies) add(s *latencyShard, key string, now time.Duration) *hostLatency {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.m[key]; h != nil {
		return h
	}
	for {
		n := l.hosts.Load()
		if n >= l.max {
			return nil
		}
		if l.hosts.CompareAndSwap(n, n+1) {
			break
		}
	}
	if s.m == nil {
		s.m = make(map[string]*hostLatency)
	}
	h := &hostLatency{last: now}
	s.m[strings.Clone(key)] = h // a copy: key may be part of a larger string
	return h
}

// sweep drops the hosts of s without an attempt recorded since
// now-latencyIdle. A record of such a host under way is lost.
func (l *latencies) sweep(s *latencyShard, now time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, h := range s.m {
		h.mu.Lock()
		idle := now-h.last >= latencyIdle
		h.mu.Unlock()
		if idle {
			delete(s.m, key)
			l.hosts.Add(-1)
		}
	}
}

// percentile returns the p-th percentile (0 < p < 100) of the durations of
// host's recent attempts, and true; or false when p is outside (0, 100)
// or NaN, when host is not tracked, or when it has fewer than 20 attempts
// recorded. host is normalised as for record.
//
// The result is the nearest-rank percentile x (the smallest of the
// durations such that p% of them or more are at most x) rounded up to
// the upper bound of its bucket: x ≤ result < x·2^(1/8) + 1 ns, at most
// 9.05% above x, and never below it, except that an x of 137.4 s or more
// is reported as 137.4 s and one below 1.024 µs as 1.117 µs.
func (l *latencies) percentile(host string, p float64) (time.Duration, bool) {
	if !(p > 0 && p < 100) {
		return 0, false
	}
	key := budgetKey(host)
	h := l.shard(key).get(key)
	if h == nil {
		return 0, false
	}
	h.mu.Lock()
	total := int(h.n)
	if h.full {
		total += latencyWindow
	}
	if total < latencyMinSamples {
		h.mu.Unlock()
		return 0, false
	}
	// 1 ≤ rank ≤ total: p/100*total may round to 0 for a tiny p.
	rank := max(int(math.Ceil(p/100*float64(total))), 1)
	i, seen := 0, 0
	for ; i < latencyBuckets-1; i++ {
		if seen += int(h.all[i]); seen >= rank {
			break
		}
	}
	h.mu.Unlock()
	return latencyUpper[i], true
}
