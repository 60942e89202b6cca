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
	DefaultBudgetRatio        = 0.1 // retries per request sent
	DefaultBudgetMinPerSecond = 1.0 // retries per second allowed whatever the traffic
	DefaultBudgetMaxTokens    = 100 // the most retries that can be saved up
)

// budgetReserve is how many seconds of MinPerSecond a host's bucket starts
// with (Finagle's time-to-live of deposits).
const budgetReserve = 10

// A Budget caps the retries sent to each host at a share of the requests
// sent there, so that a client facing a failing backend stops multiplying
// its load exactly when the backend can least take it, while a mostly
// healthy client keeps retrying freely.
//
// The model is a token bucket per host (the request URL's host:port): every
// request deposits Ratio tokens, every retry takes one whole token, tokens
// also flow in at MinPerSecond so that a client with little traffic can
// still retry, and a bucket never holds more than MaxTokens. A new host's
// bucket starts with ten seconds' worth of MinPerSecond. A retry that finds
// less than one token is refused: the Transport gives up with ErrBudget.
// It combines the ratio of gRPC's retry throttling and Finagle's and
// Envoy's retry budgets with Finagle's minimum rate.
//
// With the defaults (10%, 1 per second, at most 100 saved up), a client
// whose every request fails sends about 1.1 requests per logical request
// once its savings are spent, while one that sees 5% of failures has all of
// its retries allowed.
//
// The zero Budget uses the defaults. A Budget may be shared by any number of
// Transports (that is how a fleet of clients of one host share one budget),
// and is safe for concurrent use; the path of a request that needs no retry
// takes no lock. A Budget must not be copied after first use.
type Budget struct {
	// Ratio is the number of retries earned by each request sent. 0 means
	// DefaultBudgetRatio; a negative value or NaN earns none (only
	// MinPerSecond then allows retries); values above 1e6 count as 1e6.
	Ratio float64

	// MinPerSecond is the rate, in retries per second, at which retries are
	// allowed whatever the traffic. 0 means DefaultBudgetMinPerSecond; a
	// negative value or NaN allows none; values above 1e9 count as 1e9.
	MinPerSecond float64

	// MaxTokens bounds the retries a host's bucket can save up. 0 or NaN
	// means DefaultBudgetMaxTokens; values below 1 are raised to 1 and
	// values above 1e12 lowered to 1e12.
	MaxTokens float64

	off    bool // NoBudget
	once   sync.Once
	seed   maphash.Seed
	shards [budgetShards]budgetShard
	last   atomic.Pointer[hostBucket] // the bucket used last: most clients talk to one host
}

type hostBucket struct {
	host string
	b    *bucket
}

// Validate reports an error for a field that is NaN or infinite. Such a
// Budget still works, with the normalisations its fields document;
// Validate lets a program refuse bad configuration when it is read.
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
	return errors.Join(errs...)
}

// NoBudget is a Budget that allows every retry. Set Transport.Budget to it
// to turn the retry budget off.
var NoBudget = &Budget{off: true}

const budgetShards = 32

type budgetShard struct {
	mu sync.RWMutex
	m  map[string]*bucket
}

// bucket is one host's tokens, in thousandths.
type bucket struct {
	milli atomic.Int64
	last  atomic.Int64 // when MinPerSecond last refilled it, on the monotonic clock
}

// budgetConfig is a Budget's configuration in thousandths of a token.
type budgetConfig struct {
	deposit int64 // per request
	rate    float64
	max     int64
}

func (b *Budget) config() budgetConfig {
	c := budgetConfig{deposit: 100, rate: DefaultBudgetMinPerSecond * 1000, max: DefaultBudgetMaxTokens * 1000}
	switch r := b.Ratio; {
	case r < 0 || math.IsNaN(r):
		c.deposit = 0
	case r > 0:
		c.deposit = int64(math.Min(r, 1e6) * 1000)
	}
	switch r := b.MinPerSecond; {
	case r < 0 || math.IsNaN(r):
		c.rate = 0
	case r > 0:
		c.rate = math.Min(r, 1e9) * 1000
	}
	if m := b.MaxTokens; m != 0 && !math.IsNaN(m) {
		c.max = int64(math.Min(math.Max(m, 1), 1e12) * 1000)
	}
	return c
}

// bucket returns host's bucket, creating it when needed.
func (b *Budget) bucket(host string) *bucket {
	if last := b.last.Load(); last != nil && last.host == host {
		return last.b
	}
	k := b.lookup(host)
	b.last.Store(&hostBucket{host: host, b: k})
	return k
}

// lookup returns host's bucket from the shards, creating it when needed.
func (b *Budget) lookup(host string) *bucket {
	b.once.Do(func() { b.seed = maphash.MakeSeed() })
	s := &b.shards[maphash.String(b.seed, host)%budgetShards]
	s.mu.RLock()
	k := s.m[host]
	s.mu.RUnlock()
	if k != nil {
		return k
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k = s.m[host]; k == nil {
		c := b.config()
		k = new(bucket)
		k.milli.Store(min(int64(c.rate*budgetReserve), c.max))
		k.last.Store(int64(monotonic()))
		if s.m == nil {
			s.m = make(map[string]*bucket)
		}
		s.m[host] = k
	}
	return k
}

// deposit records a request sent to host.
func (b *Budget) deposit(host string) {
	if b.off {
		return
	}
	c := b.config()
	if c.deposit == 0 {
		return
	}
	b.bucket(host).add(c.deposit, c.max)
}

// withdraw takes a token for a retry to host, and reports whether there
// was one.
func (b *Budget) withdraw(host string) bool {
	if b.off {
		return true
	}
	c := b.config()
	k := b.bucket(host)
	if c.rate > 0 {
		now := int64(monotonic())
		last := k.last.Load()
		if earned := int64(float64(now-last) / float64(time.Second) * c.rate); earned > 0 && k.last.CompareAndSwap(last, now) {
			k.add(earned, c.max)
		}
	}
	for {
		n := k.milli.Load()
		if n < 1000 {
			return false
		}
		if k.milli.CompareAndSwap(n, n-1000) {
			return true
		}
	}
}

// add adds n thousandths to the bucket, up to max.
func (k *bucket) add(n, max int64) {
	for {
		old := k.milli.Load()
		v := old + n
		if v > max || v < old {
			v = max
		}
		if v <= old || k.milli.CompareAndSwap(old, v) {
			return
		}
	}
}

// Tokens returns the retries host's bucket holds now (before the refill
// of MinPerSecond due since its last retry), or the bucket's starting level
// for a host not seen yet. It is meant for metrics.
func (b *Budget) Tokens(host string) float64 {
	if b.off {
		return math.Inf(1)
	}
	return float64(b.bucket(host).milli.Load()) / 1000
}

// Range calls f for every host the Budget has seen, with its tokens, until
// f returns false.
func (b *Budget) Range(f func(host string, tokens float64) bool) {
	for i := range b.shards {
		s := &b.shards[i]
		s.mu.RLock()
		hosts := make(map[string]*bucket, len(s.m))
		for h, k := range s.m {
			hosts[h] = k
		}
		s.mu.RUnlock()
		for h, k := range hosts {
			if !f(h, float64(k.milli.Load())/1000) {
				return
			}
		}
	}
}
