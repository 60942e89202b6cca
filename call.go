package backoff

import (
	"context"
	"io"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/f99b3bbb/backoff/jitter"
)

// callPool recycles the state of finished calls: the success path then
// allocates nothing of its own. benchstat, BenchmarkTransport/mem/backoff
// against a new call per RoundTrip, n=10: 3 → 2 allocs/op, 272 → 192 B/op
// (ns/op: no difference shown, 526 ± 51% → 424 ± 31%).
var callPool = sync.Pool{New: func() any { return new(call) }}

// call is the state of one RoundTrip.
type call struct {
	t    *Transport
	req  *http.Request
	n    int           // attempts made
	max  int           // the limit on attempts, 0 if none
	body *bodyRecorder // records a body without GetBody, if any
	resp *http.Response
	ra   time.Duration // the last response's server-given wait, if honoured
	// waitGiven reports that the last response gave a wait (ra, which may
	// be 0: a reset in the past).
	waitGiven bool

	// What the current attempt holds while it runs, for abort.
	cur inflight

	// bodyFailed is set when the request's GetBody failed, which ends the
	// call with that error.
	bodyFailed bool

	// The time waited, the start of the current wait (0 outside one), the
	// start of the current attempt after the first, and the duration of
	// attempt durOf (0: not known yet), for the events and the caller's
	// Outcome; and for the Outcome, the give-up reason.
	waited    time.Duration
	waitFrom  time.Duration
	attemptAt time.Duration
	dur       time.Duration
	durOf     int
	reason    Reason

	// single reports a single attempt under another retrying layer, whose
	// attempt number the context keeps; vals are the request context's
	// values of this package: the caller's Outcome, if any, and the
	// attempt number another Transport gave it.
	single bool
	vals   callValues

	// marked reports that the engine passes the attempts a context derived
	// from the request's (see WithSingleAttempt). Contexts are never compared: a
	// context's dynamic type may not be comparable.
	marked bool

	// Hedging (see hedge.go and round.go): the hedges sent; the number of
	// the attempt whose result the last round kept, and whether it was a
	// hedge; whether the request may be hedged (0: not known yet, 1: yes,
	// -1: no, or no more after a throttling answer); the start of the
	// call, read only with Hedging; and the verdict of the kept result,
	// which the round classified already, when decided is set.
	hedges   int
	winner   int
	hedgeWon bool
	hedgeOK  int8
	begin    time.Duration
	decided  bool
	verdict  verdict
}

// abort releases what the call holds when a hook or the Base panics: the
// request body when no attempt was sent, the body of the request that the
// Base was sending, the current attempt's context, and the response the
// engine holds, which has not been returned to the caller.
func (c *call) abort() {
	if c.n == 0 {
		closeBody(c.req)
	}
	c.cur.release()
	if c.resp != nil {
		c.resp.Body.Close()
	}
	if c.body != nil {
		c.body.release()
	}
}

func (c *call) attempt(ctx context.Context) (*http.Response, error) {
	if now := c.endWait(); now != 0 {
		c.attemptAt = now
	}
	c.resp, c.ra, c.waitGiven, c.decided = nil, 0, false, false
	if c.hedgeable() {
		return c.round(ctx)
	}
	c.n++
	c.winner, c.hedgeWon = c.n, false
	r, err := c.prepare(ctx, c.n, c.marked, &c.cur)
	if err != nil {
		c.bodyFailed = true
		return nil, err
	}
	resp, err := c.exchange(r, &c.cur)
	if err != nil {
		return nil, err
	}
	c.resp = resp
	if c.t.honoursRetryAfter(resp.StatusCode) {
		c.ra, c.waitGiven = serverWait(resp)
	}
	return resp, nil
}

func (c *call) decide(_ *Policy[*http.Response], resp *http.Response, err error) verdict {
	if c.decided {
		return c.verdict // a hedged round classified it
	}
	return c.classify(resp, err, c.n)
}

// sent is the number of attempts made: c.n, which counts the hedges.
func (c *call) sent(int) int { return c.n }

// classify classifies attempt n's outcome, with c.waitGiven the
// attempt's.
func (c *call) classify(resp *http.Response, err error, n int) verdict {
	if c.bodyFailed {
		// The request's GetBody failed: nothing was sent, and sending
		// again would need it to work. Not for Classify to decide.
		return fail
	}
	if resp != nil && resp.StatusCode >= 400 {
		// The server's own word, when it gives one.
		if again, ok := parseShouldRetry(resp.Header, c.t.advice); ok {
			if again {
				return retry
			}
			return succeed
		}
	}
	classify := c.t.cfg.Classify
	if classify == nil {
		if c.waitGiven && resp != nil && resp.StatusCode >= 400 {
			return retry // an error status of RetryAfterStatuses that gives a wait
		}
		classify = DefaultClassify
	}
	if classify(Attempt{Request: c.req, Response: resp, Err: err, Number: n}) {
		return retry
	}
	if err != nil {
		return fail
	}
	return succeed
}

// watching reports the hooks of the Trace that see the end of a call
// without a retry or a give-up (the Logger logs none of it): a Trace
// without OnSuccess, as the metrics', is spared building that event.
func (c *call) watching() (attempt, success bool) {
	return c.t.trace.OnAttempt != nil, c.t.trace.OnSuccess != nil
}

// ended fires the Transport's last events of a call that neither retries
// nor gives up: its final OnAttempt, then OnSuccess for a success. It
// builds its Event as observe does, but in place: through a builder the
// two share, not inlined, the default metrics' first-try success measured
// 10 ns more (benchstat, n=12: 106.7 → 117.3 ns).
func (c *call) ended(resp *http.Response, err error, _ int, start time.Duration, success, untimed bool) {
	onAttempt, onSuccess := c.t.trace.OnAttempt, c.t.trace.OnSuccess
	if !success {
		onSuccess = nil
	}
	if onAttempt == nil && onSuccess == nil {
		return
	}
	var elapsed time.Duration
	if c.n > 1 || !success || !untimed {
		elapsed = monotonic() - start
	}
	d := Details[*http.Response]{Attempts: c.n, Elapsed: elapsed}
	e := Event{
		Request:         c.req,
		Attempt:         c.n,
		Response:        resp,
		Err:             err,
		Elapsed:         elapsed,
		RetryAfter:      c.ra,
		AttemptDuration: c.attemptDuration(&d),
		Waited:          c.waited,
		Hedges:          c.hedges,
		HedgeWon:        c.hedgeWon,
		Final:           true,
	}
	if onAttempt != nil {
		onAttempt(e)
	}
	if onSuccess != nil {
		onSuccess(e)
	}
}

// observes is true: the Transport's events and log lines of a retry
// carry its elapsed time.
func (*call) observes() bool { return true }

// observe turns the engine's events into the Transport's: its Trace and its
// log lines.
func (c *call) observe(ev event, d Details[*http.Response]) {
	switch ev {
	case evBackoff:
		c.waitFrom = monotonic()
	case evGiveUp:
		c.endWait() // cut short by the context
		c.reason = d.Reason
	}
	t := c.t
	var h func(Event)
	switch ev {
	case evAttempt:
		h = t.trace.OnAttempt
	case evBackoff:
		h = t.trace.OnBackoff
	case evSuccess:
		h = t.trace.OnSuccess
	case evGiveUp:
		h = t.trace.OnGiveUp
	}
	logged := t.cfg.Logger != nil && (ev == evBackoff || ev == evGiveUp)
	if h == nil && !logged {
		return
	}
	e := Event{
		Request:    c.req,
		Attempt:    d.Attempts,
		Response:   d.Value,
		Err:        d.Err,
		Elapsed:    d.Elapsed,
		Wait:       d.Wait,
		RetryAfter: c.ra,

		AttemptDuration: c.attemptDuration(&d),
		Waited:          c.waited,
		Hedges:          c.hedges,
		HedgeWon:        c.hedgeWon,
		Reason:          d.Reason,
		Final:           d.Final,
	}
	if logged {
		t.logEvent(c.req.Context(), &e)
	}
	if h != nil {
		h(e)
	}
}

func (c *call) vet(d Details[*http.Response], w time.Duration, jit jitter.Func, left time.Duration) (time.Duration, Reason) {
	if !c.replayable(d.Err) {
		return 0, ErrNotReplayable
	}
	if c.ra <= 0 { // none, or not honoured (see attempt)
		return w, ""
	}
	// A saturated Retry-After (see ParseRetryAfter) is longer than any cap.
	limit := c.t.maxRetryAfter()
	if c.ra > limit || c.ra == math.MaxInt64 {
		return 0, ErrRetryAfter
	}
	return c.retryAfterWait(w, jit, left, limit)
}

// retryAfterWait raises the computed wait w to the response's Retry-After,
// a floor: spread upward as RetryAfterSpread says, never beyond the cap or
// the time left. It gives up when the floor itself does not fit.
func (c *call) retryAfterWait(w time.Duration, jit jitter.Func, left, limit time.Duration) (time.Duration, Reason) {
	floor := c.ra
	hi := time.Duration(math.MaxInt64) // the time left
	if left >= 0 {
		hi = left
	}
	if dl, ok := c.req.Context().Deadline(); ok {
		hi = min(hi, time.Until(dl)-1) // the wait must end before the deadline
	}
	if floor > hi {
		return 0, ErrRetryAfter
	}
	return floorWait(w, floor, hi, limit, c.t.retryAfterSpread(), jit), ""
}

func (c *call) admit(Details[*http.Response]) Reason {
	if !c.t.budget.withdraw(c.host()) {
		return ErrBudget
	}
	return ""
}

// host is the authority the request is sent to, which keys the budget.
func (c *call) host() string {
	if c.req.URL == nil {
		return ""
	}
	return c.req.URL.Host
}

// discard drains and closes a response that will not be returned, so that
// its connection can be used again, and returns the time it took. The
// drain is bounded in bytes (the DrainLimit) and in time: DrainTimeout,
// AttemptTimeout, the time left under maxTime (if positive) from start,
// and before ctx's deadline. A body that cannot be read whole within the
// DrainLimit, by its Content-Length, is closed unread: reading it could
// not save the connection.
func (c *call) discard(ctx context.Context, resp *http.Response, start, maxTime time.Duration) time.Duration {
	if resp == nil || resp.Body == nil {
		return 0
	}
	c.resp = nil // closed here: abort must not close it again
	now := monotonic()
	d := DrainTimeout
	if maxTime > 0 {
		d = min(d, maxTime-(now-start))
	}
	c.drain(ctx, resp, d)
	return monotonic() - now
}

// drain reads up to the DrainLimit of resp's body and closes it, for at
// most d, the AttemptTimeout and until ctx's deadline.
func (c *call) drain(ctx context.Context, resp *http.Response, d time.Duration) {
	body := resp.Body
	limit := c.t.drainLimit()
	if a := c.t.cfg.AttemptTimeout; a > 0 && a < d {
		d = a
	}
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl))
	}
	if limit <= 0 || d <= 0 || body == http.NoBody || resp.ContentLength > limit {
		body.Close()
		return
	}
	// Close the body when the time is up: that ends a Read that blocks.
	closed := make(chan struct{})
	timer := time.AfterFunc(d, func() {
		body.Close()
		close(closed)
	})
	io.CopyN(io.Discard, body, limit)
	if timer.Stop() {
		body.Close()
	} else {
		<-closed
	}
}

// replayable reports whether the request may be sent again after an
// attempt that failed with err (nil for a failure on the response).
func (c *call) replayable(err error) bool {
	req := c.req
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		if c.body == nil || !c.body.finish() {
			return false
		}
	}
	if neverSent(err) {
		return true
	}
	return c.idempotent()
}

// idempotent reports whether the request may be sent again after a
// failure that may have reached the server: by its context's
// WithIdempotent, else by Idempotent.
func (c *call) idempotent() bool {
	req := c.req
	switch requestOptionsFrom(req.Context()).idempotent {
	case 1:
		return false
	case 2:
		return true
	}
	if c.t.cfg.Idempotent != nil {
		return c.t.cfg.Idempotent(req)
	}
	return DefaultIdempotent(req)
}
