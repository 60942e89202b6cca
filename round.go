package backoff

import (
	"context"
	"errors"
	"net/http"
	"time"
)

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
	ends    []hedgeResult             // the ends received so far; a resp not nil is still open

	// Backing arrays of the slices, for a round of up to 4 attempts.
	cancelBuf [4]context.CancelCauseFunc
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
	rd.cancels, rd.ends = rd.cancelBuf[:0], rd.endBuf[:0]
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
	more := true
	for rd.running > 0 && won == nil {
		var tick <-chan time.Time
		if more && c.n-rd.first < room { // c.n-rd.first: the round's hedges
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
		res.resp = nil
	}
	rd.cancels[res.n-rd.first](nil)
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
	for i := range rd.ends {
		if resp := rd.ends[i].resp; resp != nil {
			resp.Body.Close()
			rd.ends[i].resp = nil
		}
	}
}
