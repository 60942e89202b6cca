package backoff

import (
	"errors"
	"math"
	"net/http"
	"time"
)

// DefaultMaxHedges is the number of hedges of an attempt when
// Hedging.MaxHedges is 0.
const DefaultMaxHedges = 1

// Hedging configures the hedged requests of a [Transport]: when an attempt
// has not answered within a delay, the Transport sends the request again
// (a hedge) while the first attempt goes on, and returns the first
// response or error that it would not retry, cancelling the others. A
// retry answers a failure; a hedge answers a slow server, the tail latency
// that no retry can cut.
//
// Only a request that may be sent again is hedged, by the rules of
// retries: one that is idempotent (see Transport.Idempotent and
// [WithIdempotent]) and has no body, or a body with GetBody, which each
// hedge calls for its own copy. A body without GetBody is never hedged,
// since it cannot be read twice at once (it is still retried). A Transport
// making a single attempt under another retrying layer does not hedge.
//
// Hedges are attempts: each is counted in Event.Attempt and
// Outcome.Attempts, and bounded with the others by Transport.MaxAttempts,
// so that with the defaults (4 attempts, 1 hedge) a call sends at most 4
// requests whatever happens. Each hedge takes a token from the Transport's
// [Budget], like a retry; a hedge the budget refuses is not sent, and the
// attempt goes on alone. Hedges follow slowness, never failure: once an
// attempt of a round fails (with a response or an error Classify retries),
// no more hedges are sent in that round; the attempts in flight go on, and
// if all of them fail the Transport retries as usual, after its wait. A
// response that throttles (a 429, a Retry-After, or a used-up rate limit
// on one of RetryAfterStatuses) stops hedging for the rest of the call.
//
// The losers leave nothing behind: once a winner is chosen, a loser that
// has answered already is drained (DrainLimit, for at most the hedge delay
// and [DrainTimeout]) and closed, so that its connection can be used again;
// the others are cancelled, with the cause [ErrHedgeLost], and what they
// still return is closed; a failed answer kept no longer is drained and
// closed too. RoundTrip returns only once every attempt it started has
// returned from the Base: a Base that does not return when its request's
// context is cancelled delays RoundTrip.
//
// A request that may be hedged runs each attempt on a goroutine of its
// own while RoundTrip waits for the first answer (a panic of the Base
// there goes on in RoundTrip, with its value, once the other attempts have
// ended), whether or not a hedge is sent: over an in-memory base
// (BenchmarkHedgedMem in bench/), about 5 µs and 11 allocations more than
// without Hedging (failsafe-go's hedge policy: 8 µs, 30 more), nothing next
// to a request over a network. A request that may not be hedged pays
// nothing.
type Hedging struct {
	// Delay is how long an attempt runs before a hedge is sent, and
	// between one hedge and the next. With Percentile, it is the delay
	// for a host whose latency is not known yet. It must be positive.
	Delay time.Duration

	// Percentile, if positive, derives the delay from the latency of the
	// request's host: it is that percentile (95 for p95; 0 < Percentile <
	// 100) of the durations of the host's recent hedged calls' attempts,
	// from their start to their response's headers (the last 512 to 1,023
	// of them), rounded up by at most 9%, once the host has 20 (Delay
	// before that). An attempt cut short by a hedge that won counts with
	// the time it ran, a lower bound; an attempt that failed without a
	// response does not count. Up to 1,000 hosts are tracked, each in
	// about 1 KiB; a host beyond them, until idle ones are dropped, gets
	// the fixed Delay. 0 means the fixed Delay.
	Percentile float64

	// MaxHedges is the most hedges sent for one attempt, in parallel with
	// it. 0 means DefaultMaxHedges (1). It must not be negative.
	MaxHedges int
}

// ErrHedgeLost is the cause with which a Transport cancels the context of
// an attempt whose hedge (or original) won (see [Hedging]): a layer below
// the Transport reads it with context.Cause.
var ErrHedgeLost = errors.New("backoff: another attempt of the request answered first")

// validate reports whether h is valid.
func (h *Hedging) validate() error {
	var errs []error
	if h.Delay <= 0 {
		errs = append(errs, &ConfigError{Field: "Transport.Hedging.Delay", Value: h.Delay, Msg: "must be positive"})
	}
	if p := h.Percentile; math.IsNaN(p) || p < 0 || p >= 100 {
		errs = append(errs, &ConfigError{Field: "Transport.Hedging.Percentile", Value: p, Msg: "must be in [0, 100) (0: the fixed Delay)"})
	}
	if h.MaxHedges < 0 {
		errs = append(errs, &ConfigError{Field: "Transport.Hedging.MaxHedges", Value: h.MaxHedges, Msg: "must not be negative (0: DefaultMaxHedges)"})
	}
	return errors.Join(errs...)
}

// cloneHedging returns a copy of h, or nil.
func cloneHedging(h *Hedging) *Hedging {
	if h == nil {
		return nil
	}
	c := *h
	return &c
}

// hedging is a Transport's Hedging, resolved at its first use.
type hedging struct {
	delay      time.Duration
	percentile float64
	max        int
	lat        *latencies // with a Percentile
}

func newHedging(h *Hedging) *hedging {
	if h == nil {
		return nil
	}
	r := &hedging{delay: h.Delay, percentile: h.Percentile, max: h.MaxHedges}
	if r.max == 0 {
		r.max = DefaultMaxHedges
	}
	if r.percentile > 0 {
		r.lat = newLatencies(0)
	}
	return r
}

// delayFor returns the hedge delay for host.
func (h *hedging) delayFor(host string) time.Duration {
	if h.lat != nil {
		if d, ok := h.lat.percentile(host, h.percentile); ok {
			return d
		}
	}
	return h.delay
}

// hedgeable reports whether the call's next attempt is hedged.
func (c *call) hedgeable() bool {
	h := c.t.hedging
	if h == nil || c.single || c.hedgeOK < 0 || c.max > 0 && c.n+2 > c.max {
		return false
	}
	if c.hedgeOK == 0 {
		c.hedgeOK = -1
		req := c.req
		if (req.Body == nil || req.Body == http.NoBody || req.GetBody != nil) && c.idempotent() {
			c.hedgeOK = 1
		}
	}
	return c.hedgeOK > 0
}
