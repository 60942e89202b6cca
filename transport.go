package backoff

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-cleanhttp"

	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

// Defaults of a [Transport] whose fields are zero.
const (
	// DefaultMaxRetryAfter is the longest Retry-After a Transport honours.
	DefaultMaxRetryAfter = 60 * time.Second

	// DefaultRetryAfterSpread is the largest fraction by which a Transport
	// lengthens a Retry-After (see Transport.RetryAfterSpread).
	DefaultRetryAfterSpread = 0.2

	// DefaultBufferLimit is how much of a request body without GetBody a
	// Transport keeps, while it is sent, to be able to send it again.
	DefaultBufferLimit = 1 << 20

	// DefaultDrainLimit is how much of a response body a Transport reads
	// before closing a response it will not return, so that the connection
	// can be used again.
	DefaultDrainLimit = 64 << 10
)

// DrainTimeout is the longest a Transport spends reading the body of a
// response it discards before a retry. The reading also stops at the
// Transport's AttemptTimeout and at the time left under its MaxTime and
// before the context's deadline, whichever comes first; the body is then
// closed, which ends a Read that is blocked (as net/http's response bodies
// do), and its connection is not reused. The time spent draining is part
// of the wait before the next attempt.
const DrainTimeout = 100 * time.Millisecond

// DefaultTransportWait is the wait strategy of a Transport whose Wait is
// nil: 250ms, 500ms, 1s, 2s, … up to 10s, before (full) jitter.
var DefaultTransportWait strategy.Strategy = strategy.Expo{Factor: 250 * time.Millisecond, Max: 10 * time.Second}

// The reasons a Transport gives up, besides the engine's (see [Reason]).
const (
	ErrRetryAfter    Reason = "retry_after"    // the server asked for a wait over the cap, or past the deadline or MaxTime
	ErrNotReplayable Reason = "not_replayable" // the request may not or cannot be sent again
	ErrBudget        Reason = "budget"         // the retry budget refused the retry
)

// transportReasonText is the error text of the Transport's reasons.
func transportReasonText(r Reason) (string, bool) {
	switch r {
	case ErrRetryAfter:
		return "backoff: server-given wait beyond the cap, the deadline or the max time", true
	case ErrNotReplayable:
		return "backoff: request not replayable", true
	case ErrBudget:
		return "backoff: retry budget exhausted", true
	}
	return "", false
}

// Transport is an http.RoundTripper that retries requests through another
// RoundTripper, the Base, with the backoff engine.
//
// The zero Transport is ready to use: it sends through a pooled transport
// of its own, makes at most 4 attempts of an idempotent request on a
// transient transport error or on a 408, 425, 429, 500, 502, 503 or 504
// response, waits 250ms, 500ms, 1s (strategy.Expo, capped at 10s) with
// full jitter in between, honours Retry-After on 429 and 503 up to 60s,
// keeps up to 1 MiB of a request body that has no GetBody so that it can
// be sent again, and, once a host's reserve of 100 retries is spent, stops
// retrying to it beyond a tenth of its requests (see [Budget]):
//
//	client := &http.Client{Transport: &backoff.Transport{}}
//
// # Attempts
//
// The caller's request is never modified: an attempt that needs another
// context, body or header sends a shallow copy, and one that needs none
// sends the request as it is; the request body is closed in every case. A
// response that will be retried is drained (up to DrainLimit, for at most
// [DrainTimeout]) and closed, so that its connection returns to the pool;
// the time spent draining is part of the wait before the next attempt.
// When the Transport gives up, it returns the last response, unread, with
// a nil error, as a plain http.Client would have; when the last attempt got
// no response it returns an [*Error] with the last transport error inside
// (its Timeout method, which http.Client's url.Error reports, tells whether
// that attempt timed out). It never returns a response and an error
// together. A response whose Body is nil, which http.Client tolerates, is
// treated as one with an empty body: it is returned with a non-nil Body.
//
// A request is retried only if sending it again is safe: when the failure
// proves that it never reached the server (the connection could not be
// made, the HTTP/2 stream was refused), or when it is idempotent (see the
// Idempotent field and [WithIdempotent]) and its body can be sent again
// (no body, GetBody, or a body fully kept within BufferLimit). Otherwise the
// Transport gives up with ErrNotReplayable.
//
// A request's GetBody is called for each attempt after the first; if it
// fails, or returns a nil body, the call ends at once with that error
// (whatever Classify says), without sending the attempt, and a body
// returned along with an error is closed.
//
// # Server-given waits
//
// The wait a response with one of RetryAfterStatuses asks for in
// Retry-After (seconds or an HTTP date, measured against the response's
// Date), or else, when its rate-limit fields say the quota is used up, the
// time until the quota resets (RateLimit, X-RateLimit-Reset and the other
// forms of [ParseRateLimit]), is a floor: the Transport never retries
// earlier. When the strategy's jittered wait is shorter, the Transport
// waits for the server's wait, spread upward as RetryAfterSpread says:
// exactly the server's wait with jitter.None, and never past
// MaxRetryAfter, MaxTime or the context's deadline. A server's wait over
// MaxRetryAfter, however large, or one that would not end before the
// context's deadline or would end after MaxTime, makes the Transport give
// up at once (ErrRetryAfter) and return that response: a rate limit that
// resets in an hour is not worth waiting for. These fields are parsed once
// per response.
//
// # Overload and nested layers
//
// Retries are what turn a brief outage into a long one. The Transport's
// [Budget] refuses retries to a host beyond a share of the requests sent
// there (ErrBudget): a refusal ends the call like a give-up, with its own
// reason, event and log line ("Retry budget exhausted for …", at WARN).
// The budget only ever cuts retries short; it never adds any. With the
// defaults, against a host that fails every request, sequential calls make
// their 4 attempts each until the reserve is spent (the first 44 to 50
// calls), then 1.1 attempts per call. AttemptHeader tells the server each
// attempt's number, and a server's own retry advice in X-Should-Retry or
// Stripe-Should-Retry is honoured (see ShouldRetryHeaders).
//
// A Transport makes a single attempt, and leaves the retries to the layer
// above it, in exactly two cases: when it is itself the Base of another
// Transport, and when the request's context carries the mark of
// [WithSingleAttempt] (set by the caller, by a Policy with
// SingleAttemptBelow, or by a Transport with SingleAttemptBelow for the
// layers below its Base). Nothing else changes how many attempts it makes:
// a Transport reached with another Transport's attempt context (a token
// fetcher's own client, say) retries as configured.
//
// # Hedging
//
// With Hedging set, an idempotent request whose body can be sent again
// (none, or GetBody) that has not been answered within a delay is sent
// again, in parallel, and the first answer the Transport would not retry
// wins; the other attempts are cancelled and what they return is closed
// before RoundTrip returns (see [Hedging]). Hedges count as attempts
// toward MaxAttempts, take their tokens from the Budget like retries, stop
// after a failure and for the rest of a call that was throttled, and are
// reported by Trace.OnHedge and in the [Outcome].
//
// # Events
//
// The Trace's hooks see every event of a call, in HTTP terms (see
// [Event]); [JoinTraces] composes several subscribers (the caller's, the
// metrics'). Log lines hold the method, the scheme and the host and the
// status, never the URL's path, query or user info (not even inside an
// error's text, as that of a token fetcher's own http.Client), nor any
// header.
//
// # Panics
//
// A panic in a hook (the Trace's, the Logger's handler, Wait, Jitter,
// Classify, Idempotent, the request's GetBody) or in Base reaches the
// caller of RoundTrip with its own value, after the Transport has closed
// what it holds: the response it has not returned (closed, not drained),
// the attempt's context, and the request body when no call of Base has
// taken charge of it.
//
// A Transport is safe for concurrent use by multiple goroutines. Its
// configuration is read once, at its first use (a call of RoundTrip or
// CloseIdleConnections), and must not be changed afterwards: as with
// http.Transport, a later change is not seen.
type Transport struct {
	// Base makes each attempt. If nil, the Transport makes its own pooled
	// transport (go-cleanhttp's DefaultPooledTransport) on first use, never
	// sharing http.DefaultTransport. A nil pointer, such as
	// (*http.Transport)(nil), is invalid (Validate reports it).
	Base http.RoundTripper

	// MaxAttempts is the maximum number of attempts of a request, the first
	// included. 0 means DefaultMaxAttempts (4); 1 means no retry; a
	// negative value ([Unlimited]) means no limit but MaxTime, the
	// context, the budget and a finite Wait.
	MaxAttempts int

	// MaxTime bounds the time of one call: no retry starts after MaxTime has
	// elapsed, and the last wait is shortened to end at MaxTime, so a call
	// never runs longer than MaxTime plus one attempt. 0 means no limit.
	MaxTime time.Duration

	// Wait computes the wait before each retry. Nil means
	// DefaultTransportWait.
	Wait strategy.Strategy

	// Jitter spreads each wait after the strategy. Nil means jitter.Full;
	// jitter.None disables jitter (and the spread of a Retry-After).
	Jitter jitter.Func

	// AttemptTimeout bounds each attempt's wait for the response headers.
	// It never cuts off the reading of the body of the response that is
	// returned, whose Body is then wrapped (an io.Writer still, such as the
	// body of a 101 Switching Protocols response, when the Base's is). It
	// also bounds the draining of a discarded response (see [DrainTimeout]).
	// Zero or negative means no per-attempt timeout.
	AttemptTimeout time.Duration

	// Classify reports whether an attempt failed in a way worth retrying. If
	// nil, DefaultClassify is used. It is called once per attempt.
	Classify func(Attempt) bool

	// Idempotent reports whether a request may be sent again after a failure
	// that may have reached the server. If nil, DefaultIdempotent is used. A
	// request's context can override it: see [WithIdempotent]. It is called
	// at most once per retry, and once per call with Hedging.
	Idempotent func(*http.Request) bool

	// RetryAfterStatuses are the response statuses whose server-given wait
	// is honoured: Retry-After, or else the reset of a used-up rate limit
	// (see [ParseRateLimit]). Nil means 429 and 503; an empty, non-nil
	// slice honours none. With the default Classify, an error response
	// (400 or above) of one of these statuses that gives a wait is retried
	// whatever its status: for GitHub's rate limits, 403s with Retry-After
	// or with X-RateLimit-Remaining: 0, list 403 here. Each must be in
	// 100–599.
	RetryAfterStatuses []int

	// ShouldRetryHeaders name the response headers in which a server
	// gives its own retry advice for an error response (status 400 or
	// above): the first of them present decides, "true" or "false" in any
	// case. false stops any retry of that response; true makes it retried
	// whatever its status and Classify say, still subject to Idempotent,
	// the body's replay and the Budget. A value that is neither is
	// ignored, and so is the advice on other responses. Nil means
	// X-Should-Retry and Stripe-Should-Retry; an empty, non-nil slice
	// reads none. Each must be a valid header name.
	ShouldRetryHeaders []string

	// MaxRetryAfter is the longest Retry-After honoured; a longer one,
	// however large (one too large for a time.Duration included), ends the
	// call at once with ErrRetryAfter and returns its response. 0 means
	// DefaultMaxRetryAfter; a negative value ignores Retry-After altogether.
	MaxRetryAfter time.Duration

	// RetryAfterSpread is the largest fraction by which a Retry-After is
	// lengthened, so that clients told the same time do not all come back
	// at once. The share of it used is drawn from Jitter: for a Retry-After
	// ra, the wait is ra + RetryAfterSpread·|ra − Jitter(ra, u)| for a
	// random u, by at most RetryAfterSpread·ra. So with jitter.None the
	// wait is ra exactly, and with jitter.Full (the default) it is uniform
	// in [ra, ra·(1+RetryAfterSpread)]. The spread never goes past
	// MaxRetryAfter, MaxTime or the context's deadline. 0 means
	// DefaultRetryAfterSpread; a negative value means no spread. NaN and
	// +Inf are invalid (see Validate).
	RetryAfterSpread float64

	// BufferLimit is how many bytes of a request body without GetBody are
	// kept, as it is sent, to send it again. A larger body, or one whose
	// ContentLength is larger, commits the request to its first attempt.
	// 0 means DefaultBufferLimit; a negative value keeps nothing, so such
	// a request gets one attempt.
	//
	// The body is kept whole once it was read to io.EOF or, when the
	// request's ContentLength is positive, once that many bytes were read.
	// Unless nothing can be kept (a negative BufferLimit, a ContentLength
	// over it), each attempt is sent with a GetBody over the kept body,
	// which a RoundTripper below the Transport (or net/http, to send the
	// request again on a new connection) may call at any time: on the
	// first attempt, before the body was read whole, it reads the rest of
	// it ahead, and the attempt's body then returns those bytes first. It
	// fails, saying why, if the body is over BufferLimit, was closed before
	// it was read whole, or could not be read.
	BufferLimit int64

	// DrainLimit is how many bytes of a discarded response's body are read
	// before it is closed. 0 means DefaultDrainLimit; a negative value closes
	// without reading. A body whose Content-Length is over the limit is
	// closed without reading; the reading is bounded in time too (see
	// [DrainTimeout]).
	DrainLimit int64

	// Budget caps the retries per host at a share of the requests sent
	// there; see [Budget]. If nil, the Transport makes a Budget of its own
	// with the default settings on first use. Several Transports can share
	// one Budget; [DisabledBudget] turns the budget off.
	Budget *Budget

	// AttemptHeader, if set, names a request header in which every attempt
	// tells the server its number (1 for the first), so that servers can
	// see retries. Empty means no header. It must be a valid header name
	// and, in any case, none of the hop-by-hop or framing headers that a
	// client must not set this way (Connection, Keep-Alive,
	// Proxy-Connection, Proxy-Authenticate, Proxy-Authorization, TE,
	// Trailer, Transfer-Encoding, Upgrade, HTTP2-Settings, Content-Length,
	// Host, Expect): Validate refuses them.
	AttemptHeader string

	// AttemptHeaderValue formats the value of AttemptHeader from the
	// attempt's number (1 for the first) and the call's limit on attempts
	// (MaxAttempts resolved: 4 for 0, 1 under another retrying layer, 0
	// when there is no limit). Nil means the number alone ("2");
	// [AttemptOfMax] gives the form of AWS's amz-sdk-request header,
	// "attempt=2; max=4". It is called once per attempt, when AttemptHeader
	// is set.
	AttemptHeaderValue func(attempt, max int) string

	// SingleAttemptBelow marks the context of each attempt with
	// [WithSingleAttempt], so that a Transport further below, behind a
	// wrapping Base (an instrumenting RoundTripper, say), makes a single
	// attempt and only this one retries. It costs an allocation and a
	// request copy per attempt. A Transport that is directly the Base needs
	// no mark.
	SingleAttemptBelow bool

	// Hedging, if set, sends hedges of slow idempotent requests: further
	// attempts in parallel with one that has not answered within a delay
	// (see [Hedging]). Nil means no hedging.
	Hedging *Hedging

	// Trace receives the events of every call (see [Trace]); nil receives
	// none. Use [JoinTraces] for several subscribers.
	Trace *Trace

	// Logger, if set, receives a line for every retry and every give-up:
	// "Backing off GET https://api.example for 250ms after 1 attempt (503
	// Service Unavailable)", "Giving up GET https://api.example after 4
	// attempts (503 Service Unavailable)", with the details as attributes
	// (method, host, attempts, elapsed, wait or reason, status, error,
	// retry_after). A refusal of the retry budget has a line of its own,
	// "Retry budget exhausted for GET https://api.example after 1 attempt
	// (…)", at slog.LevelWarn, and each hedge one at slog.LevelDebug,
	// "Hedging GET https://api.example after 15ms (attempt 2)". Nil logs
	// nothing.
	Logger *slog.Logger

	// BackoffLevel and GiveUpLevel are the levels of those lines. Nil means
	// slog.LevelInfo for backoff lines and slog.LevelError for give-up
	// lines. A call cancelled by its context is logged at BackoffLevel.
	BackoffLevel slog.Leveler
	GiveUpLevel  slog.Leveler

	once      sync.Once
	base      http.RoundTripper
	inner     *Transport // base, when it is a Transport
	budget    *Budget
	hedging   *hedging               // Hedging, resolved; nil without
	ownBudget atomic.Pointer[Budget] // when Budget is nil
	policy    Policy[*http.Response] // for a call of its own
	single    Policy[*http.Response] // for a call under another retrying layer
	trace     Trace                  // Trace, as it was at first use
	statuses  []int                  // RetryAfterStatuses, resolved
	advice    []string               // ShouldRetryHeaders, resolved, canonical
	cfg       *Transport             // the exported fields, as they were at first use
	err       error
}

func (t *Transport) init() {
	t.once.Do(func() {
		if t.err = t.Validate(); t.err != nil {
			return
		}
		t.cfg = t.snapshot()
		t.base = t.Base
		if t.base == nil {
			t.base = cleanhttp.DefaultPooledTransport()
		}
		t.inner, _ = t.base.(*Transport)
		wait := t.Wait
		if wait == nil {
			wait = DefaultTransportWait
		}
		t.policy = Policy[*http.Response]{
			Name:               "RoundTrip",
			Wait:               wait,
			Jitter:             t.Jitter,
			MaxAttempts:        t.MaxAttempts,
			MaxTime:            t.MaxTime,
			SingleAttemptBelow: t.SingleAttemptBelow,
		}
		if t.Trace != nil {
			t.trace = *t.Trace
		}
		t.policy.UntimedFirstSuccess = t.trace.UntimedFirstSuccess
		t.single = t.policy
		t.single.MaxAttempts = 1
		t.statuses = []int{http.StatusTooManyRequests, http.StatusServiceUnavailable}
		if t.RetryAfterStatuses != nil {
			t.statuses = slices.Clone(t.RetryAfterStatuses)
		}
		t.advice = defaultShouldRetryHeaders
		if t.ShouldRetryHeaders != nil {
			t.advice = make([]string, len(t.ShouldRetryHeaders))
			for i, h := range t.ShouldRetryHeaders {
				t.advice[i] = http.CanonicalHeaderKey(h)
			}
		}
		t.budget = t.RetryBudget()
		t.hedging = newHedging(t.cfg.Hedging)
	})
}

// honoursRetryAfter reports whether the Transport honours the Retry-After
// of a response with this status.
func (t *Transport) honoursRetryAfter(code int) bool {
	return t.cfg.MaxRetryAfter >= 0 && slices.Contains(t.statuses, code)
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.roundTrip(req, IsSingleAttempt(req.Context()))
}

// roundTrip is RoundTrip, with a single attempt when single is set.
func (t *Transport) roundTrip(req *http.Request, single bool) (*http.Response, error) {
	t.init()
	vals := callValuesOf(req.Context())
	if t.err != nil {
		closeBody(req)
		if vals.outcome != nil {
			*vals.outcome = Outcome{Err: t.err}
		}
		return nil, t.err
	}
	p := &t.policy
	if single {
		// A retrying layer above this one retries: one attempt here.
		p = &t.single
	} else if req.URL != nil {
		t.budget.deposit(req.URL.Host)
	}
	c := callPool.Get().(*call)
	// The engine marks the context (WithSingleAttempt) unless it is
	// marked already.
	*c = call{t: t, req: req, marked: p.SingleAttemptBelow && !single, max: p.MaxAttempts, single: single, vals: vals}
	switch {
	case c.max == 0:
		c.max = DefaultMaxAttempts
	case c.max < 0:
		c.max = 0 // Unlimited
	}
	if t.hedging != nil && !single {
		c.begin = monotonic()
	}
	returned := false
	defer func() {
		if !returned {
			// A hook or the Base panicked (or called runtime.Goexit):
			// close what the call holds and let the panic go on, with
			// its own value and stack. c is not recycled.
			c.abort()
		}
	}()
	resp, err := run(req.Context(), p, c)
	returned = true
	if c.body != nil {
		c.body.release()
	}
	if err == nil && resp == nil {
		err = errNilResponse
	}
	if c.vals.outcome != nil {
		c.record(resp, err)
	}
	*c = call{}
	callPool.Put(c)
	if resp != nil {
		// The last response, returned as a plain http.Client would, even
		// when the engine gave up on it.
		return resp, nil
	}
	return nil, err
}

// RetryBudget returns the Budget the Transport draws its retries from: the
// Budget field, or the Transport's own Budget when that field is nil. It
// does not count as a use of the Transport. Metrics use it to export the
// budget's level.
func (t *Transport) RetryBudget() *Budget {
	if t.Budget != nil {
		return t.Budget
	}
	if b := t.ownBudget.Load(); b != nil {
		return b
	}
	t.ownBudget.CompareAndSwap(nil, new(Budget))
	return t.ownBudget.Load()
}

// CloseIdleConnections closes the idle connections of the Base transport,
// if it has such a method. The Transport never calls it by itself.
func (t *Transport) CloseIdleConnections() {
	t.init()
	if ci, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

var errNilResponse = errors.New("backoff: base RoundTripper returned a nil response and a nil error")

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
