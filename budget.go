package backoff

import (
	"errors"
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of a [Budget] whose fields are zero.
const (
	DefaultBudgetRatio        = 0.1   // retries per request
	DefaultBudgetMinPerSecond = 1.0   // retries per second allowed whatever the traffic
	DefaultBudgetMaxTokens    = 100   // the most retries saved up, and a new host's reserve
	DefaultBudgetMaxHosts     = 10000 // hosts with a bucket of their own
)

// A Budget caps the retries sent to each host at a share of the requests
// sent there, so that a client facing a failing backend stops multiplying
// its load exactly when the backend can least take it, while a mostly
// healthy client keeps retrying freely.
//
// # Model
//
// Each host has a bucket of tokens; a retry takes one. A host's bucket
// starts full, with MaxTokens, and earns, over any stretch of time, the
// larger of two shares: Ratio tokens per request sent there (each call of
// RoundTrip, not each attempt), or MinPerSecond tokens per second. It never
// holds more than MaxTokens. A retry that finds less than one token is
// refused: the Transport gives up with [ErrBudget] and returns the last
// response or error. The token is taken before the wait, so that retries
// waiting to be sent count against the budget. A hedge (see [Hedging])
// takes a token too; one that finds none is not sent, and the attempt it
// would have hedged goes on alone.
//
// With the defaults (10%, 1 per second, 100 saved up), a burst of 100
// concurrent requests to a new host that each fail once are all retried;
// a client whose every request fails sends, once the reserve of 100 is
// spent, at most 1.1 requests per request while its traffic is above 10
// requests a second (the minimum of 1 retry a second takes over below
// that); one that sees fewer than 10% of failures has all its retries
// allowed. The Transport's MaxAttempts still applies: the budget only ever
// refuses retries that MaxAttempts would allow. For example, sequential
// calls of a Transport with the defaults against a host that always
// fails make 4 attempts each for the first 44 to 50 calls, then 1.1.
//
// The model is Finagle's and Linkerd's retry budget (a share of requests,
// a minimum rate, a reserve), which bounds the extra load on a backend
// directly: with Ratio 0.1 it never receives more than 10% above the
// requests its clients make, however they fail. gRPC's retry throttling
// and the AWS SDKs' retry quota earn tokens from successes instead, so
// they stop retrying altogether in an outage but also under a steady
// failure rate that retries would mask (gRPC: above 1 in 11 failures with
// its example settings); Envoy's budget (20% of active requests) bounds
// concurrent retries, not their number. The minimum share is the larger
// of the two, not their sum, so that the ratio is a hard bound under load.
//
// # Hosts
//
// A host is the request URL's host, compared without case, without a
// trailing dot and without the default ports 80 and 443; an IPv6 address
// in any of its textual forms is one host (an IPv4-mapped address is the
// IPv4 host). A full bucket carries no information and is dropped: a host
// that has not needed a retry for a while costs no memory, and the path of
// a request while every host is full takes no lock. At most MaxHosts
// hosts have a bucket; beyond that, hosts without one share a single
// overflow bucket, with the same settings, until buckets fill up and are
// dropped. Memory is therefore bounded whatever the traffic: about 120
// bytes per host with a bucket, 1.1 MB at the default MaxHosts.
//
// # Use
//
// The zero Budget uses the defaults. Its fields are read at its first use;
// later changes have no effect. A Budget may be shared by any number of
// Transports (that is how clients of one host share one budget), and is
// safe for concurrent use. A Budget must not be copied after first use.
// [DisabledBudget] returns a Budget that allows every retry.
type Budget struct {
	// Ratio is the number of retries earned by each request sent. 0 means
	// DefaultBudgetRatio; a negative value or NaN earns none (only
	// MinPerSecond then allows retries); values above 1e6 count as 1e6.
	Ratio float64

	// MinPerSecond is the rate, in retries per second, at which retries are
	// allowed whatever the traffic. 0 means DefaultBudgetMinPerSecond; a
	// negative value or NaN allows none; values above 1e9 count as 1e9.
	MinPerSecond float64

	// MaxTokens bounds the retries a host's bucket can save up, and is
	// the level a host's bucket starts with. 0 or NaN means
	// DefaultBudgetMaxTokens; values below 1 are raised to 1 and values
	// above 1e12 lowered to 1e12.
	MaxTokens float64

	// MaxHosts bounds the number of hosts with a bucket of their own. 0
	// means DefaultBudgetMaxHosts; values below 1 count as 1.
	MaxHosts int

	off  bool // DisabledBudget
	once sync.Once
	c    budgetConfig
	seed maphash.Seed
	born time.Duration // the Budget's first use, on the monotonic clock

	hosts    atomic.Int64 // buckets in the shards
	shards   [budgetShards]budgetShard
	overflow bucket // shared by the hosts beyond MaxHosts
	refused  refusals
}

// DisabledBudget returns a new Budget that allows every retry: set
// Transport.Budget to it to turn the retry budget off. Its fields have no
// effect.
func DisabledBudget() *Budget { return &Budget{off: true} }

// Validate reports an error for a field that is NaN or infinite, or a
// negative MaxHosts. Such a Budget still works, with the normalisations
// its fields document; Validate lets a program refuse bad configuration
// when it is read.
func (b *Budget) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    float64
	}{{"Ratio", b.Ratio}, {"MinPerSecond", b.MinPerSecond}, {"MaxTokens", b.MaxTokens}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			errs = append(errs, &ConfigError{Field: "Budget." + f.name, Value: f.v, Msg: "must be a finite number"})
		}
	}
	if b.MaxHosts < 0 {
		errs = append(errs, &ConfigError{Field: "Budget.MaxHosts", Value: b.MaxHosts, Msg: "must not be negative"})
	}
	return errors.Join(errs...)
}

// Tokens returns the retries host's bucket allows now: MaxTokens for a
// host without a bucket of its own (never seen, full again, or beyond
// MaxHosts), and +Inf for a DisabledBudget. host is a URL's host, with or
// without a port. Tokens creates nothing.
func (b *Budget) Tokens(host string) float64 {
	if b.off {
		return math.Inf(1)
	}
	b.init()
	c := &b.c
	level := c.max
	key := budgetKey(host)
	if k := b.shard(key).get(key); k != nil {
		k.mu.Lock()
		if !k.dead {
			level = c.level(k, b.now())
		}
		k.mu.Unlock()
	}
	return float64(level) / tokenMicros
}

// tokenMicros is a token in the unit of the buckets: millionths, so that
// sums of Ratio are exact (ten requests at 10% earn one token).
const tokenMicros = 1e6

const budgetShards = 32

// budgetConfig is a Budget's configuration, fixed at first use, in
// millionths of a token.
type budgetConfig struct {
	deposit  int64   // per request
	rate     float64 // per second
	max      int64
	maxHosts int64
}

func (b *Budget) init() {
	b.once.Do(func() {
		b.seed = maphash.MakeSeed()
		b.born = monotonic()
		c := budgetConfig{
			deposit:  DefaultBudgetRatio * tokenMicros,
			rate:     DefaultBudgetMinPerSecond * tokenMicros,
			max:      DefaultBudgetMaxTokens * tokenMicros,
			maxHosts: DefaultBudgetMaxHosts,
		}
		switch r := b.Ratio; {
		case r < 0 || math.IsNaN(r):
			c.deposit = 0
		case r > 0:
			c.deposit = int64(math.Min(r, 1e6) * tokenMicros)
		}
		switch r := b.MinPerSecond; {
		case r < 0 || math.IsNaN(r):
			c.rate = 0
		case r > 0:
			c.rate = math.Min(r, 1e9) * tokenMicros
		}
		if m := b.MaxTokens; m != 0 && !math.IsNaN(m) {
			c.max = int64(math.Min(math.Max(m, 1), 1e12) * tokenMicros)
		}
		if b.MaxHosts != 0 {
			c.maxHosts = int64(max(b.MaxHosts, 1))
		}
		b.c = c
		b.overflow.level = c.max
	})
}

// now reads the Budget's clock.
func (b *Budget) now() time.Duration { return monotonic() - b.born }

// second is the second of the Budget's clock that now falls in.
func (b *Budget) second(now time.Duration) int64 { return int64(now / time.Second) }

// sweepEvery is how often a shard that gets a new bucket drops the buckets
// that have filled up since; sweepFull is the same while MaxHosts is
// reached.
const (
	sweepEvery = time.Second
	sweepFull  = 100 * time.Millisecond
)

type budgetShard struct {
	mu    sync.RWMutex
	m     map[string]*bucket
	swept time.Duration // when it was last swept
}

// bucket is one host's tokens. Its fields are guarded by mu.
type bucket struct {
	mu     sync.Mutex
	level  int64         // millionths of a token
	earned int64         // deposited by Ratio since last
	last   time.Duration // when the share of MinPerSecond was last added
	// refused is 1 + the second of the Budget's clock of its last
	// refusal, 0 if none.
	refused int64
	dead    bool // dropped from its shard: full
}

func (b *Budget) shard(key string) *budgetShard {
	return &b.shards[maphash.String(b.seed, key)%budgetShards]
}

func (s *budgetShard) get(key string) *bucket {
	s.mu.RLock()
	k := s.m[key]
	s.mu.RUnlock()
	return k
}

// level is k's level at now, with the share of MinPerSecond it is owed;
// k.mu is held. The time share is added in whole tokens only, and only
// for what exceeds the Ratio's share earned meanwhile: under traffic, the
// ratio alone bounds the retries.
func (c *budgetConfig) level(k *bucket, now time.Duration) int64 {
	level, _ := c.owed(k, now)
	return level
}

// owed returns k's level at now and whether the share of time is due to
// be added (k.mu is held).
func (c *budgetConfig) owed(k *bucket, now time.Duration) (int64, bool) {
	if c.rate <= 0 || now <= k.last {
		return k.level, false
	}
	t := c.rate * (now - k.last).Seconds()
	if t < tokenMicros && k.level < c.max {
		return k.level, false // less than a token: not due yet
	}
	extra := t - float64(k.earned)
	if extra <= 0 {
		return k.level, true
	}
	return satAdd(k.level, extra, c.max), true
}

// refill adds to k the share of MinPerSecond it is owed at now.
func (c *budgetConfig) refill(k *bucket, now time.Duration) {
	if level, due := c.owed(k, now); due {
		k.level, k.earned, k.last = level, 0, now
	}
}

// satAdd returns level + n, at most max, for 0 ≤ level ≤ max and n ≥ 0
// (a float that may be too large for an int64).
func satAdd(level int64, n float64, max int64) int64 {
	if n >= float64(max-level) {
		return max
	}
	// float64(max-level) is the float64 nearest to max-level: none lies
	// between the two, so n < max-level and level+int64(n) <= max.
	return level + int64(n)
}

// deposit records a request sent to host.
func (b *Budget) deposit(host string) {
	if b.off || b.hosts.Load() == 0 {
		return // every host is full
	}
	c := &b.c
	if c.deposit == 0 {
		return
	}
	key := budgetKey(host)
	s := b.shard(key)
	s.mu.RLock()
	k := s.m[key]
	if k == nil && b.hosts.Load() >= c.maxHosts {
		k = &b.overflow
	}
	s.mu.RUnlock()
	if k == nil {
		return // full
	}
	k.mu.Lock()
	full := false
	if !k.dead {
		k.level = satAdd(k.level, float64(c.deposit), c.max)
		k.earned = satAdd(k.earned, float64(c.deposit), math.MaxInt64)
		full = k.level >= c.max && k != &b.overflow
	}
	k.mu.Unlock()
	if full {
		b.drop(s, key, k)
	}
}

// drop removes k, host key's bucket, from its shard if it is still full.
func (b *Budget) drop(s *budgetShard, key string, k *bucket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[key] != k {
		return
	}
	k.mu.Lock()
	if k.level >= b.c.max {
		k.dead = true
		delete(s.m, key)
		b.hosts.Add(-1)
	}
	k.mu.Unlock()
}

// withdraw takes a token for a retry to host, and reports whether there
// was one.
func (b *Budget) withdraw(host string) bool {
	if b.off {
		return true
	}
	b.init()
	c := &b.c
	key := budgetKey(host)
	s := b.shard(key)
	for {
		now := b.now()
		k := s.get(key)
		if k == nil {
			k = b.insert(s, key, now)
		}
		k.mu.Lock()
		if k.dead {
			k.mu.Unlock()
			continue // dropped meanwhile: full again
		}
		c.refill(k, now)
		if k.level >= tokenMicros {
			k.level -= tokenMicros
			k.mu.Unlock()
			return true
		}
		if sec := b.second(now); k.refused != sec+1 {
			k.refused = sec + 1
			b.refused.add(sec)
		}
		k.mu.Unlock()
		return false
	}
}

// insert returns host key's bucket, making a full one, or the overflow
// bucket when MaxHosts hosts have one.
func (b *Budget) insert(s *budgetShard, key string, now time.Duration) *bucket {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := s.m[key]; k != nil {
		return k
	}
	full := b.hosts.Load() >= b.c.maxHosts
	if every := sweepEvery; full || now-s.swept >= every {
		if full {
			every = sweepFull
		}
		if now-s.swept >= every {
			b.sweep(s, now)
			full = b.hosts.Load() >= b.c.maxHosts
		}
	}
	if full {
		return &b.overflow
	}
	if s.m == nil {
		s.m = make(map[string]*bucket)
	}
	k := &bucket{level: b.c.max, last: now}
	s.m[string([]byte(key))] = k // a copy: key may be part of a larger string
	b.hosts.Add(1)
	return k
}

// sweep drops the buckets of s that are full at now; s.mu is held.
func (b *Budget) sweep(s *budgetShard, now time.Duration) {
	s.swept = now
	for key, k := range s.m {
		k.mu.Lock()
		if b.c.level(k, now) >= b.c.max {
			k.dead = true
			delete(s.m, key)
			b.hosts.Add(-1)
		}
		k.mu.Unlock()
	}
}
