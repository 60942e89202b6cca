package backoff

import (
	"context"
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

// hedgeResult is the end of one attempt of a hedged round.
type hedgeResult struct {
	n          int
	resp       *http.Response
	err        error
	start, end time.Duration
	ra         time.Duration // the response's server-given wait, if honoured
	waitGiven  bool
	v          verdict
	panicked   bool
	value      any // the panic's value
}

// round is a hedged round of attempts: an attempt and its hedges, each
// sent by a goroutine of its own, which reports its end on results.
type round struct {
	c       *call
	ctx     context.Context // the call's
	results chan hedgeResult
	cancels []context.CancelCauseFunc // of each attempt's context, from the round's first
	first   int                       // the number of the round's first attempt
	running int                       // the attempts in flight
	held    []*http.Response          // the responses the round holds, to close on abandon
	ends    []hedgeResult             // the ends received, so far

	// Backing arrays of the slices, for a round of up to 4 attempts.
	cancelBuf [4]context.CancelCauseFunc
	heldBuf   [4]*http.Response
	endBuf    [4]hedgeResult
}

// round makes one hedged round of attempts and returns the response or
// error it keeps: the first that Classify does not retry, or else one of
// the failures (the one that gave a server wait, if any; else the first).
func (c *call) round(ctx context.Context) (*http.Response, error) {
	t := c.t
	h := t.hedging
	room := h.max
	if c.max > 0 {
		room = min(room, c.max-c.n-1)
	}
	host := c.host()
	delay := h.delayFor(host)
	rd := &round{c: c, ctx: ctx, results: make(chan hedgeResult, room+1), first: c.n + 1}
	rd.cancels, rd.held, rd.ends = rd.cancelBuf[:0], rd.heldBuf[:0], rd.endBuf[:0]
	if room >= len(rd.endBuf) {
		rd.ends = make([]hedgeResult, 0, room+1)
	}
	// ends holds at most room+1 elements, so it never grows: the
	// pointers to them (kept, won) stay valid.
	finished := false
	defer func() {
		if !finished {
			// A hook (Classify, OnHedge, GetBody) or the Base panicked:
			// end the attempts in flight and close what the round holds
			// before the panic goes on.
			rd.abandon()
		}
	}()
	if err := rd.launch(ctx); err != nil {
		finished = true
		c.bodyFailed = true
		return nil, err
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	var kept, won *hedgeResult
	hedges, more := 0, true
	for rd.running > 0 && won == nil {
		var tick <-chan time.Time
		if more && hedges < room {
			tick = timer.C
		}
		select {
		case <-tick:
			if ctx.Err() != nil || !t.budget.withdraw(host) {
				more = false
				continue
			}
			if err := rd.launch(ctx); err != nil {
				more = false // its GetBody failed: this hedge is not sent
				continue
			}
			hedges++
			c.hedges++
			if f := t.trace.OnHedge; f != nil || t.cfg.Logger != nil {
				e := Event{Request: c.req, Attempt: c.n, Elapsed: monotonic() - c.begin, Waited: c.waited, Hedges: c.hedges}
				t.logHedge(c.req.Context(), &e)
				if f != nil {
					f(e)
				}
			}
			timer.Reset(delay)
		case end := <-rd.results:
			rd.ends = append(rd.ends, rd.received(end))
			res := &rd.ends[len(rd.ends)-1]
			if res.resp != nil {
				rd.held = append(rd.held, res.resp)
				if h.lat != nil {
					h.lat.record(host, res.end-res.start)
				}
				if t.honoursRetryAfter(res.resp.StatusCode) {
					res.ra, res.waitGiven = serverWait(res.resp)
				}
				if res.waitGiven || res.resp.StatusCode == http.StatusTooManyRequests || res.resp.Header.Get("Retry-After") != "" {
					c.hedgeOK = -1 // the server throttles: no more hedges in this call
				}
			}
			c.ra, c.waitGiven = res.ra, res.waitGiven
			res.v = c.classify(res.resp, res.err, res.n)
			if res.v != retry {
				won = res
				break
			}
			more = false // a failure: the retry, if any, waits
			if kept == nil || res.waitGiven && !kept.waitGiven {
				if kept != nil {
					rd.drop(kept)
				}
				kept = res
			} else {
				rd.drop(res)
			}
		}
	}
	if won == nil {
		won = kept
	} else if kept != nil {
		rd.drop(kept)
	}
	rd.release(won.n, delay)
	finished = true
	cancel := rd.cancels[won.n-rd.first]
	if won.resp != nil {
		won.resp.Body = releaseOnClose(won.resp.Body, cancel)
	} else {
		cancel(nil)
	}
	c.winner, c.hedgeWon = won.n, won.n != rd.first
	c.ra, c.waitGiven = won.ra, won.waitGiven
	c.decided, c.verdict = true, won.v
	c.dur, c.durOf = won.end-won.start, c.n
	c.resp = won.resp
	return won.resp, won.err
}

// received accounts for the end of an attempt, received from results. A
// panic of the Base on the attempt's goroutine goes on from here, on the
// caller's, once the round is abandoned (see round).
func (rd *round) received(res hedgeResult) hedgeResult {
	rd.running--
	if res.panicked {
		panic(res.value)
	}
	return res
}

// release ends the attempts of the round but the winner, number won: those
// that have answered already are drained, for at most delay, so that their
// connections can be used again; the others are cancelled, and waited
// for, and what they return is closed.
func (rd *round) release(won int, delay time.Duration) {
	c, lat, host := rd.c, rd.c.t.hedging.lat, rd.c.host()
	for answered := true; answered && rd.running > 0; {
		select {
		case end := <-rd.results:
			res := rd.received(end)
			if res.resp != nil {
				if lat != nil {
					lat.record(host, res.end-res.start)
				}
				c.drain(rd.ctx, res.resp, min(DrainTimeout, delay))
			}
			rd.cancels[res.n-rd.first](nil)
		default:
			answered = false
		}
	}
	for i, cancel := range rd.cancels {
		if rd.first+i != won {
			cancel(ErrHedgeLost)
		}
	}
	for rd.running > 0 {
		res := rd.received(<-rd.results)
		if res.resp != nil {
			res.resp.Body.Close()
		}
		if lat != nil && (res.resp != nil || errors.Is(res.err, context.Canceled)) {
			// Cut short: a lower bound of the attempt's duration.
			lat.record(host, monotonic()-res.start)
		}
	}
}

// launch starts the round's next attempt, on a goroutine of its own. It
// fails only when the request's GetBody does: nothing is sent.
func (rd *round) launch(ctx context.Context) error {
	c := rd.c
	actx, cancel := context.WithCancelCause(ctx)
	var st inflight
	r, err := c.prepare(actx, c.n+1, true, &st)
	if err != nil {
		cancel(nil)
		return err
	}
	c.n++
	rd.cancels = append(rd.cancels, cancel)
	rd.running++
	go rd.run(c.n, r, st, monotonic())
	return nil
}

// run sends attempt n and reports its end, or its panic, on results.
func (rd *round) run(n int, r *http.Request, st inflight, start time.Duration) {
	res := hedgeResult{n: n, start: start}
	returned := false
	defer func() {
		if !returned {
			res.panicked, res.value = true, recover()
			st.release()
		}
		rd.results <- res
	}()
	res.resp, res.err = rd.c.exchange(r, &st)
	res.end = monotonic()
	returned = true
}

// drop releases a failed attempt's result that the round does not keep:
// its response drained and closed, its context ended.
func (rd *round) drop(res *hedgeResult) {
	if res.resp != nil {
		rd.c.drain(rd.ctx, res.resp, DrainTimeout)
		rd.forget(res.resp)
		res.resp = nil
	}
	rd.cancels[res.n-rd.first](nil)
}

// forget removes resp, closed, from the responses the round holds.
func (rd *round) forget(resp *http.Response) {
	for i, r := range rd.held {
		if r == resp {
			rd.held = append(rd.held[:i], rd.held[i+1:]...)
			return
		}
	}
}

// abandon ends a round cut short by a panic: every attempt's context is
// cancelled, every attempt in flight waited for, and every response the
// round holds or receives closed.
func (rd *round) abandon() {
	for _, cancel := range rd.cancels {
		cancel(ErrHedgeLost)
	}
	for rd.running > 0 {
		res := <-rd.results
		rd.running--
		if res.resp != nil {
			res.resp.Body.Close()
		}
	}
	for _, resp := range rd.held {
		resp.Body.Close()
	}
	rd.held = nil
}
