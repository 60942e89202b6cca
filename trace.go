package backoff

import (
	"net/http"
	"time"
)

// An Event describes one event of one call of [Transport.RoundTrip]: an
// attempt that ended, a wait about to start, the call's success or its
// give-up. The fields that do not apply to an event are zero.
type Event struct {
	// Request is the caller's request. Hooks must not modify it or read its
	// body.
	Request *http.Request

	// Attempt is the number of the attempt the event follows, 1 for the
	// first: also the number of attempts made so far. With hedges (see
	// [Hedging]) it counts them too, and the attempt whose answer the
	// event carries may be an earlier one (HedgeWon, Outcome.Winner).
	Attempt int

	// Response is the attempt's response, or nil when it failed without
	// one. Hooks may read its status and headers, never its body.
	Response *http.Response

	// Err is the attempt's error, or nil.
	Err error

	// Elapsed is the time from the start of the call to the end of the
	// attempt (to the cancellation, for a call cancelled during a wait).
	// It is 0 in the events of a first-attempt success when the Trace's
	// UntimedFirstSuccess is set.
	Elapsed time.Duration

	// AttemptDuration is the time the attempt took, from its start to its
	// end: its response's headers, or its error. Like Elapsed, it is 0 in
	// the events of a first-attempt success under UntimedFirstSuccess.
	AttemptDuration time.Duration

	// Waited is the time the call has spent waiting between attempts so
	// far, draining the discarded responses included: for OnSuccess and
	// OnGiveUp, the latency the retries added beyond the attempts
	// themselves (gRPC's grpc.client.call.retry_delay).
	Waited time.Duration

	// Wait is, for OnBackoff and a non-final OnAttempt, the wait before the
	// next attempt: after the strategy, jitter, the server-given floor and
	// the clamp to the time left.
	Wait time.Duration

	// RetryAfter is the wait the attempt's response asked for (its
	// Retry-After, or else the reset of a used-up rate limit, on one of
	// Transport.RetryAfterStatuses), or 0.
	RetryAfter time.Duration

	// Reason is, for OnGiveUp and a final OnAttempt that gives up, why the
	// call gave up.
	Reason Reason

	// Final reports that no attempt follows.
	Final bool

	// HedgeWon reports that the answer the event carries came from a
	// hedge (see [Hedging]), not from the attempt it hedged.
	HedgeWon bool

	// Hedges is the number of hedges sent so far, which Attempt counts
	// too: Attempt - Hedges attempts were the call's own.
	Hedges int
}

// Trace holds the hooks through which a [Transport] reports the events of
// its calls, as httptrace.ClientTrace does for net/http's. Any field may be
// nil. The hooks run synchronously on the goroutine that called RoundTrip,
// in the order of the events, and must not block; for a Transport used by
// several goroutines they run concurrently for different requests.
//
// A call's last events are its final OnAttempt (Final set), then
// OnSuccess when it ends with a response that is not retried (a success,
// or any status Classify does not retry) or OnGiveUp when it gives up. A
// call whose last attempt fails with an error that is not retried (one
// Classify does not retry, on the first attempt or after retries) fires
// neither: its final OnAttempt is its last event. A request that was never
// eligible for a retry (a POST whose attempt failed) is a give-up with
// ErrNotReplayable.
type Trace struct {
	// OnAttempt is called once after every attempt, whatever its outcome,
	// before the event it leads to. Final tells whether another attempt
	// follows; when one does, Wait is the wait before it. A call cancelled
	// during a wait fires no OnAttempt for it, only OnGiveUp.
	OnAttempt func(Event)

	// OnBackoff is called once before each wait.
	OnBackoff func(Event)

	// OnSuccess is called once when a call succeeds: its last response is
	// not worth retrying.
	OnSuccess func(Event)

	// OnGiveUp is called once when a call gives up, with the Reason.
	OnGiveUp func(Event)

	// OnHedge is called once for each hedge (see [Hedging]), just after
	// it is sent: Attempt is its number, Hedges counts it, and Elapsed is
	// the time since the start of the call. The attempts of a hedged
	// round fire a single OnAttempt, for the answer the round keeps
	// (HedgeWon tells whether a hedge gave it); the others are cancelled
	// or discarded.
	OnHedge func(Event)

	// UntimedFirstSuccess declares that the hooks do not read Elapsed or
	// AttemptDuration in the events of a call that succeeds at its first
	// attempt: its OnAttempt (Attempt 1, Final set, Reason empty) and its
	// OnSuccess. The Transport then reads the clock only once for such a
	// call, at its start (a clock read costs tens of nanoseconds on a
	// virtual machine), and Elapsed and AttemptDuration are 0 in those two
	// events. Every other event keeps its measured times: those of a call
	// that retries, that gives up (at its first attempt included), or whose
	// first attempt fails with an error that is not retried.
	//
	// False, the zero value, measures every event. [JoinTraces] sets it
	// only when every Trace it joins that has hooks sets it.
	UntimedFirstSuccess bool
}

// JoinTraces returns a Trace whose hooks call those of traces in order,
// skipping nil Traces and nil hooks. It returns nil when there is no hook
// at all, and the one Trace itself when only one has hooks. The joined
// Trace has UntimedFirstSuccess set only when every Trace with hooks has it
// set: one subscriber that reads the time of a first-attempt success makes
// the Transport measure it for all.
func JoinTraces(traces ...*Trace) *Trace {
	var ts []*Trace
	for _, t := range traces {
		if t != nil && (t.OnAttempt != nil || t.OnBackoff != nil || t.OnSuccess != nil || t.OnGiveUp != nil || t.OnHedge != nil) {
			ts = append(ts, t)
		}
	}
	switch len(ts) {
	case 0:
		return nil
	case 1:
		return ts[0]
	}
	join := func(pick func(*Trace) func(Event)) func(Event) {
		var hs []func(Event)
		for _, t := range ts {
			if h := pick(t); h != nil {
				hs = append(hs, h)
			}
		}
		switch len(hs) {
		case 0:
			return nil
		case 1:
			return hs[0]
		}
		return func(e Event) {
			for _, h := range hs {
				h(e)
			}
		}
	}
	untimed := true
	for _, t := range ts {
		untimed = untimed && t.UntimedFirstSuccess
	}
	return &Trace{
		UntimedFirstSuccess: untimed,
		OnAttempt:           join(func(t *Trace) func(Event) { return t.OnAttempt }),
		OnBackoff:           join(func(t *Trace) func(Event) { return t.OnBackoff }),
		OnSuccess:           join(func(t *Trace) func(Event) { return t.OnSuccess }),
		OnGiveUp:            join(func(t *Trace) func(Event) { return t.OnGiveUp }),
		OnHedge:             join(func(t *Trace) func(Event) { return t.OnHedge }),
	}
}
