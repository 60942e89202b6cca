package backoff

import (
	"context"
	"net/http"
	"time"

	"github.com/f99b3bbb/backoff/internal/errclass"
)

// An Outcome is what a [Transport] did for one request: its attempts, its
// waits and why it stopped. A Transport fills it when the call ends, for a
// request whose context carries it (see [WithOutcome]), so that code
// holding only an http.Client can learn what happened to each request.
//
// When no context carries one, it costs the Transport a context lookup;
// when one does, no allocation. An Outcome must not be read before the call
// that fills it has returned, nor shared by concurrent calls.
type Outcome struct {
	// Attempts is the number of attempts made, 0 for a Transport whose
	// configuration is invalid (which sends nothing).
	Attempts int

	// Waited is the time spent waiting between attempts, draining the
	// discarded responses included.
	Waited time.Duration

	// Status is the status of the last attempt's response, 0 if it got
	// none; Err is the error of the last attempt, or the Transport's, if
	// it got no response.
	Status int
	Err    error

	// Hedges is the number of hedges sent (see [Hedging]), counted in
	// Attempts too; Winner is the number of the attempt whose response or
	// error was returned: Attempts, unless the last attempts were hedged.
	Hedges int
	Winner int

	// HedgeWon reports that the response or error returned came from a
	// hedge, not from the attempt it hedged.
	HedgeWon bool

	// Reason is why the Transport stopped retrying: empty when the last
	// response or error was accepted as it is (a success, or a status not
	// to retry), else a give-up reason such as ErrMaxAttempts, ErrBudget
	// or ErrRetryAfter. Compare it with those values; string(Reason) is
	// its label ("max_tries"), while %v prints its error text.
	Reason Reason
}

// Retried reports whether the call retried: whether it made more than
// one attempt besides its hedges.
func (o *Outcome) Retried() bool { return o.Attempts-o.Hedges > 1 }

// Hedged reports whether the call sent a hedge.
func (o *Outcome) Hedged() bool { return o.Hedges > 0 }

// ErrorClass returns the class of Err, as the metrics label an attempt
// without a response: "timeout", "connection", "tls", "canceled" or
// "error" (any other error), decided by the error's type, never by its
// message; "" when Err is nil.
func (o *Outcome) ErrorClass() string {
	if o.Err == nil {
		return ""
	}
	switch errclass.Of(o.Err) {
	case errclass.Timeout:
		return "timeout"
	case errclass.Connection:
		return "connection"
	case errclass.TLS:
		return "tls"
	case errclass.Canceled:
		return "canceled"
	}
	return "error"
}

// callKey is the context key of a callValues: what a Transport reads of
// a request's context, in one lookup.
type callKey struct{}

// callValues are the values of callKey: the caller's Outcome, and the
// number of the attempt the context belongs to (0 if none).
type callValues struct {
	outcome *Outcome
	attempt int
}

func callValuesOf(ctx context.Context) callValues {
	v, _ := ctx.Value(callKey{}).(*callValues)
	if v == nil {
		return callValues{}
	}
	return *v
}

// WithOutcome returns a copy of ctx under which a [Transport] records
// what it did for a request in o when the call ends. With Transports
// nested, the outermost one, which ends last, has the last word.
//
//	var o backoff.Outcome
//	req = req.WithContext(backoff.WithOutcome(req.Context(), &o))
//	resp, err := client.Do(req)
//	// o.Attempts, o.Waited, o.Reason …
func WithOutcome(ctx context.Context, o *Outcome) context.Context {
	v := callValuesOf(ctx)
	v.outcome = o
	return context.WithValue(ctx, callKey{}, &v)
}

// AttemptNumber reports the number of the attempt of a [Transport] that a
// request's context belongs to, for a layer below the Transport (an
// instrumenting RoundTripper, say): n is 2 or more for the retries, and
// ok is false for a first attempt and for a context that no Transport
// sent, whose attempt is its first. A Transport under another retrying
// layer (a single attempt) keeps the number of the layer above; an
// unrelated Transport reached with an attempt's context numbers its own
// attempts from 1.
func AttemptNumber(ctx context.Context) (n int, ok bool) {
	v := callValuesOf(ctx)
	if v.attempt < 2 {
		return 1, false
	}
	return v.attempt, true
}

// withAttempt returns a copy of ctx that belongs to attempt n, keeping
// the caller's Outcome.
func withAttempt(ctx context.Context, vals callValues, n int) context.Context {
	vals.attempt = n
	return context.WithValue(ctx, callKey{}, &vals)
}

// endWait adds the wait that ends now, if any, to the time waited, and
// returns the time it ended (0 if there was none).
func (c *call) endWait() time.Duration {
	if c.waitFrom == 0 {
		return 0
	}
	now := monotonic()
	c.waited += now - c.waitFrom
	c.waitFrom = 0
	return now
}

// attemptDuration is the duration of the attempt that the event d follows:
// for the first, the call's elapsed time (the attempt starts with the
// call), for a later one measured from its start.
func (c *call) attemptDuration(d *Details[*http.Response]) time.Duration {
	if d.Attempts <= 1 {
		return d.Elapsed
	}
	if c.durOf != d.Attempts {
		c.dur, c.durOf = monotonic()-c.attemptAt, d.Attempts
	}
	return c.dur
}

// record fills the caller's Outcome with the call's, which ended in resp
// or err.
func (c *call) record(resp *http.Response, err error) {
	c.endWait()
	o := Outcome{Attempts: c.n, Waited: c.waited, Hedges: c.hedges, Winner: c.winner, HedgeWon: c.hedgeWon, Reason: c.reason}
	if resp != nil {
		o.Status = resp.StatusCode
	} else {
		o.Err = err
	}
	*c.vals.outcome = o
}
