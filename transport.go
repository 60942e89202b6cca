package backoff

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
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
// Transport's AttemptTimeout and at the time left under the Policy's
// MaxTime and before the context's deadline, whichever comes first; the
// body is then closed, which ends a Read that is blocked (as net/http's
// response bodies do), and its connection is not reused. The time spent
// draining is part of the wait before the next attempt.
const DrainTimeout = 100 * time.Millisecond

// DefaultTransportWait is the wait strategy of a Transport whose Policy has
// no Wait: 250ms, 500ms, 1s, 2s, … up to 10s, before (full) jitter.
var DefaultTransportWait strategy.Strategy = strategy.Expo{Factor: 250 * time.Millisecond, Max: 10 * time.Second}

// Transport is an http.RoundTripper that retries requests through another
// RoundTripper, the Base, with the backoff engine.
//
// The zero Transport is ready to use: it sends through a pooled transport
// of its own, retries an idempotent request at most three times (4 tries)
// on a transient transport error or on a 408, 425, 429, 500, 502, 503 or
// 504 response, waits 250ms, 500ms, 1s (strategy.Expo, capped at 10s) with
// full jitter in between, honours Retry-After on 429 and 503 up to 60s, and
// keeps up to 1 MiB of a request body that has no GetBody so that it can be
// sent again, and stops retrying to a host whose retries exceed a tenth of
// its requests (see [Budget]):
//
//	client := &http.Client{Transport: &backoff.Transport{}}
//
// # Attempts
//
// The caller's request is never modified: an attempt that needs another
// context, body or header sends a shallow copy, and one that needs none
// sends the request as it is; the request body is closed in every case. A response that will
// be retried is drained (up to DrainLimit, for at most [DrainTimeout]) and
// closed, so that its connection returns to the pool; the time spent
// draining is part of the wait before the next attempt. When the Transport gives up, it returns
// the last response, unread, with a nil error, as a plain http.Client would
// have; when the last attempt got no response it returns an [*Error] with
// the last transport error inside (its Timeout method, which http.Client's
// url.Error reports, tells whether that attempt timed out). It never returns a response and an error
// together. A response whose Body is nil, which http.Client tolerates, is
// treated as one with an empty body: it is returned with a non-nil Body
// (http.NoBody, or a wrapper of it).
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
// # Retry-After
//
// The wait a 429 or 503 response asks for in Retry-After (seconds or an
// HTTP date, measured against the response's Date) is a floor: the
// Transport never retries earlier. When the Policy's jittered wait is
// shorter, the Transport waits for the Retry-After spread upward as
// RetryAfterSpread says: exactly the Retry-After with jitter.None, and
// never past MaxRetryAfter, the Policy's MaxTime or the context's deadline.
// A Retry-After over MaxRetryAfter, however large, or one that would not
// end before the context's deadline or would end after the Policy's
// MaxTime, makes the Transport give up at once (ErrRetryAfter) and return
// that response.
//
// # Overload
//
// Retries are what turn a brief outage into a long one. The Transport's
// [Budget] refuses retries to a host beyond a share of the requests sent
// there (ErrBudget). A Transport marks the context of each of its attempts
// (see [Retrying]) unless its Base is an *http.Transport, below which no
// retrying layer can sit; a Transport that finds the mark on its request, being
// itself under a retrying layer, makes a single attempt, so that stacked
// layers do not multiply attempts. AttemptHeader tells the server each
// attempt's number. A server's X-Should-Retry header is honoured (see
// [DefaultClassify]).
//
// # Events
//
// The Policy's handlers and logger see every event with the HTTP fields of
// [Details] set. Log lines hold the method, the host and the status, never
// the URL's path, query or user info (not even inside an error's text, as
// that of a token fetcher's own http.Client), nor any header.
//
// # Panics
//
// A panic in a hook (the Policy's handlers, GiveUp, MaxTriesFunc,
// MaxTimeFunc, Wait, Jitter and the Logger's handler; Classify;
// Idempotent; the request's GetBody) or in Base reaches the caller of
// RoundTrip with its own value, after the Transport has closed what it
// holds: the response it has not returned (closed, not drained), the
// attempt's context, and the request body when no call of Base has taken
// charge of it.
//
// A Transport is safe for concurrent use by multiple goroutines. Its fields
// must not be changed after its first use.
type Transport struct {
	// Base makes each attempt. If nil, the Transport makes its own pooled
	// transport (go-cleanhttp's DefaultPooledTransport) on first use, never
	// sharing http.DefaultTransport. A nil pointer, such as
	// (*http.Transport)(nil), is invalid (Validate reports it).
	Base http.RoundTripper

	// Policy is the engine's configuration: limits, wait strategy, jitter,
	// GiveUp, handlers and logger. A nil Policy.Wait means
	// DefaultTransportWait. Its RetryOn and RetryIf must be nil (Validate
	// refuses them): Classify decides what is retried. Its NoErrorOnGiveUp
	// must be false (Validate refuses it): a Transport that gives up after
	// a transport error returns that error.
	Policy Policy[*http.Response]

	// Classify reports whether an attempt failed in a way worth retrying. If
	// nil, DefaultClassify is used.
	Classify func(Attempt) bool

	// Idempotent reports whether a request may be sent again after a failure
	// that may have reached the server. If nil, DefaultIdempotent is used. A
	// request's context can override it: see [WithIdempotent].
	Idempotent func(*http.Request) bool

	// AttemptTimeout bounds each attempt's wait for the response headers.
	// It never cuts off the reading of the body of the response that is
	// returned, whose Body is then wrapped (an io.Writer still, such as the
	// body of a 101 Switching Protocols response, when the Base's is). It
	// also bounds the draining of a discarded response (see [DrainTimeout]).
	// Zero or negative means no per-attempt timeout.
	AttemptTimeout time.Duration

	// MaxRetryAfter is the longest Retry-After honoured; a longer one,
	// however large (one too large for a time.Duration included), ends the
	// call at once with ErrRetryAfter and returns its response. 0 means
	// DefaultMaxRetryAfter; a negative value ignores Retry-After altogether.
	MaxRetryAfter time.Duration

	// RetryAfterSpread is the largest fraction by which a Retry-After is
	// lengthened, so that clients told the same time do not all come back
	// at once. The share of it used is drawn from the Policy's Jitter: for
	// a Retry-After ra, the wait is ra + RetryAfterSpread·|ra − Jitter(ra,
	// u)| for a random u, by at most RetryAfterSpread·ra. So with
	// jitter.None the wait is ra exactly, and with jitter.Full (the
	// default) it is uniform in [ra, ra·(1+RetryAfterSpread)]. The spread
	// never goes past MaxRetryAfter, the Policy's MaxTime or the context's
	// deadline. 0 means [FloorSpread] (0.2); a negative value means no
	// spread. NaN and +Inf are invalid (see Validate).
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
	// one Budget; [NoBudget] turns the budget off.
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

	once      sync.Once
	base      http.RoundTripper
	budget    *Budget
	ownBudget atomic.Pointer[Budget] // when Budget is nil
	policy    Policy[*http.Response] // for a call of its own
	single    Policy[*http.Response] // for a call under another retrying layer
	err       error
}

// WithIdempotent returns a context that makes a Transport treat the request
// carrying it as idempotent (true: it may be retried after a failure that
// may have reached the server, whatever its method) or not (false: only
// failures that prove it never reached the server are retried), overriding
// Transport.Idempotent.
func WithIdempotent(ctx context.Context, idempotent bool) context.Context {
	o := requestOptionsFrom(ctx)
	o.idempotent = 1
	if idempotent {
		o.idempotent = 2
	}
	return context.WithValue(ctx, requestOptionsKey{}, o)
}

type requestOptionsKey struct{}

type requestOptions struct {
	idempotent int8 // 0: the Transport's rule; 1: no; 2: yes
}

func requestOptionsFrom(ctx context.Context) requestOptions {
	o, _ := ctx.Value(requestOptionsKey{}).(requestOptions)
	return o
}

// Validate reports whether the Transport's configuration is valid: its
// Base (not a nil pointer), its Policy (whose RetryOn and RetryIf must be
// nil and NoErrorOnGiveUp false), its Budget, RetryAfterSpread, which must
// not be NaN or +Inf, and AttemptHeader, which must be a valid header name
// and not a reserved one.
// A Transport that is not valid fails every request with this error,
// without sending it.
func (t *Transport) Validate() error {
	var errs []error
	if t.Base != nil && nilValue(t.Base) {
		errs = append(errs, typedNilError("Transport.Base", t.Base, "use a nil Base for a pooled transport of the Transport's own"))
	}
	errs = append(errs, t.Policy.Validate())
	if t.Policy.RetryOn != nil || t.Policy.RetryIf != nil {
		errs = append(errs, &ConfigError{Field: "Transport.Policy.RetryOn/RetryIf", Value: "set", Msg: "must be nil: a Transport decides with Classify"})
	}
	if t.Policy.NoErrorOnGiveUp {
		errs = append(errs, &ConfigError{Field: "Transport.Policy.NoErrorOnGiveUp", Value: true, Msg: "must be false: a RoundTripper that has no response must return an error"})
	}
	if t.Budget != nil {
		errs = append(errs, t.Budget.Validate())
	}
	if f := t.RetryAfterSpread; math.IsNaN(f) || math.IsInf(f, 1) {
		errs = append(errs, &ConfigError{Field: "Transport.RetryAfterSpread", Value: f, Msg: "must be a finite fraction (0: the default; negative: none)"})
	}
	switch h := t.AttemptHeader; {
	case h == "":
	case !validHeaderName(h):
		errs = append(errs, &ConfigError{Field: "Transport.AttemptHeader", Value: fmt.Sprintf("%q", h), Msg: "must be a header field name (RFC 9110 token)"})
	case reservedHeader(h):
		errs = append(errs, &ConfigError{Field: "Transport.AttemptHeader", Value: fmt.Sprintf("%q", h), Msg: "must not be a hop-by-hop or framing header, which HTTP/2 refuses or which would change the request"})
	}
	return errors.Join(errs...)
}

// reservedHeaders are the headers AttemptHeader must not name: hop-by-hop
// headers (RFC 9110, section 7.6.1; HTTP/2 refuses a request that carries
// them) and those that frame or route the request.
var reservedHeaders = []string{
	"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
	"TE", "Trailer", "Transfer-Encoding", "Upgrade", "HTTP2-Settings",
	"Content-Length", "Host", "Expect",
}

// reservedHeader reports whether h names a header of reservedHeaders, in
// any case.
func reservedHeader(h string) bool {
	for _, r := range reservedHeaders {
		if strings.EqualFold(h, r) {
			return true
		}
	}
	return false
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return s != ""
}

func (t *Transport) init() {
	t.once.Do(func() {
		if t.err = t.Validate(); t.err != nil {
			return
		}
		t.base = t.Base
		if t.base == nil {
			t.base = cleanhttp.DefaultPooledTransport()
		}
		t.policy = t.Policy
		if t.policy.Name == "" {
			t.policy.Name = "RoundTrip"
		}
		wait := t.policy.Wait
		if wait == nil {
			wait = DefaultTransportWait
		}
		t.policy.Wait = wait // Retry-After is applied by vet, not the strategy
		// Mark the attempts (see Retrying), unless the base is net/http's
		// own transport, below which no retrying layer can sit: that saves
		// the default configuration two allocations per request.
		_, plain := t.base.(*http.Transport)
		t.policy.Exclusive = !plain
		t.single = t.policy
		t.single.MaxTries = 1
		t.budget = t.RetryBudget()
	})
}

func honoursRetryAfter(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.init()
	if t.err != nil {
		closeBody(req)
		return nil, t.err
	}
	p := &t.policy
	retrying := IsRetrying(req.Context())
	if retrying {
		// A retrying layer above this one retries: one attempt here.
		p = &t.single
	} else if req.URL != nil {
		t.budget.deposit(req.URL.Host)
	}
	c := callPool.Get().(*call)
	// The engine marks the context (Retrying) unless it is marked already.
	*c = call{t: t, req: req, marked: p.Exclusive && !retrying}
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
	*c = call{}
	callPool.Put(c)
	if resp != nil {
		// The last response, returned as a plain http.Client would, even
		// when the engine gave up on it.
		return resp, nil
	}
	if err == nil {
		err = errNilResponse
	}
	return nil, err
}

// RetryBudget returns the Budget the Transport draws its retries from: the
// Budget field, or the Transport's own Budget when that field is nil. It
// does not count as a use of the Transport: handlers may still be added to
// its Policy afterwards. Metrics use it to export the budget's level.
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

// callPool recycles the state of finished calls: the success path then
// allocates nothing of its own.
var callPool = sync.Pool{New: func() any { return new(call) }}

// call is the state of one RoundTrip.
type call struct {
	t    *Transport
	req  *http.Request
	n    int           // attempts made
	body *bodyRecorder // records a body without GetBody, if any
	resp *http.Response
	ra   time.Duration // the last response's Retry-After, if honoured

	// What the current attempt holds while it runs, for abort.
	out    *http.Request // the request being sent, during Base.RoundTrip
	cancel context.CancelCauseFunc
	timer  *time.Timer

	// bodyFailed is set when the request's GetBody failed, which ends the
	// call with that error.
	bodyFailed bool

	// marked reports that the engine passes the attempts a context derived
	// from the request's (see Retrying). Contexts are never compared: a
	// context's dynamic type may not be comparable.
	marked bool
}

// abort releases what the call holds when a hook or the Base panics: the
// request body when no attempt was sent, the body of the request that the
// Base was sending, the current attempt's context, and the response the
// engine holds, which has not been returned to the caller.
func (c *call) abort() {
	if c.n == 0 {
		closeBody(c.req)
	}
	if c.out != nil {
		closeBody(c.out)
	}
	if c.cancel != nil {
		c.timer.Stop()
		c.cancel(nil)
	}
	if c.resp != nil {
		c.resp.Body.Close()
	}
}

func (c *call) attempt(ctx context.Context) (*http.Response, error) {
	c.n++
	c.resp, c.ra = nil, 0
	parent := ctx
	var cancel context.CancelCauseFunc
	var timer *time.Timer
	if d := c.t.AttemptTimeout; d > 0 {
		ctx, cancel = context.WithCancelCause(ctx)
		timer = time.AfterFunc(d, func() { cancel(errAttemptTimeout) })
		c.cancel, c.timer = cancel, timer
	}
	r, err := c.request(ctx, c.marked || cancel != nil)
	if err != nil {
		if cancel != nil {
			c.cancel, c.timer = nil, nil
			timer.Stop()
			cancel(nil)
		}
		return nil, err
	}
	c.out = r
	resp, err := c.t.base.RoundTrip(r)
	c.out = nil
	// From here on, the attempt's context is released below or by the
	// response's body.
	c.cancel, c.timer = nil, nil
	if resp != nil && resp.Body == nil {
		resp.Body = http.NoBody // http.Client tolerates a nil Body too
	}
	if resp != nil && err != nil { // a base that breaks the contract
		resp.Body.Close()
		resp = nil
	}
	if err == nil && resp == nil {
		err = errNilResponse
	}
	fired := false
	if timer != nil {
		fired = !timer.Stop()
		switch {
		case fired:
			if resp != nil {
				resp.Body.Close()
				resp = nil
			}
			if parent.Err() != nil {
				// The caller's context ended too: that is what the
				// caller must see, not the attempt's timeout.
				err = context.Cause(parent)
			} else {
				err = &attemptTimeoutError{err: err}
			}
			cancel(nil)
		case err != nil:
			cancel(nil)
		default:
			resp.Body = releaseOnClose(resp.Body, cancel)
		}
	}
	if err != nil {
		if !fired && errors.Is(err, errAttemptTimeout) {
			// Another attempt's timeout, surfacing here through a
			// connection the two shared: not this attempt's own.
			err = &sharedTimeoutError{err: err}
		}
		return nil, err
	}
	c.resp = resp
	if honoursRetryAfter(resp.StatusCode) && c.t.MaxRetryAfter >= 0 {
		c.ra, _ = retryAfter(resp)
	}
	return resp, nil
}

// request returns the request of the current attempt, with ctx as its
// context (derived reports whether ctx is not the request's own context):
// the caller's request itself when nothing needs to change, else a shallow
// copy (the caller's request is never modified).
func (c *call) request(ctx context.Context, derived bool) (*http.Request, error) {
	req := c.req
	var body io.ReadCloser
	var getBody func() (io.ReadCloser, error)
	switch {
	case req.Body == nil || req.Body == http.NoBody:
	case req.GetBody != nil:
		if c.n > 1 {
			b, err := req.GetBody()
			if err != nil || b == nil {
				if b != nil {
					b.Close()
				}
				c.bodyFailed = true
				return nil, &getBodyError{err: err}
			}
			body = b
		}
	case c.t.bufferLimit() < 0 || req.ContentLength > c.t.bufferLimit():
		// One attempt only (nothing is kept): replayable refuses any retry.
	case c.n == 1:
		c.body = &bodyRecorder{rc: req.Body, limit: c.t.bufferLimit(), size: req.ContentLength}
		body = c.body
		// Lets a layer below read the body ahead (to sign it), and net/http
		// resend it (HTTP/2).
		getBody = c.body.getBody
	default:
		body = io.NopCloser(bytes.NewReader(c.body.bytes()))
		getBody = c.body.getBody
	}
	header := c.t.AttemptHeader
	if body == nil && header == "" && !derived {
		return req, nil
	}
	r := req.WithContext(ctx)
	if body != nil {
		r.Body = body
	}
	if getBody != nil {
		r.GetBody = getBody
	}
	if header != "" {
		r.Header = req.Header.Clone()
		if r.Header == nil {
			r.Header = make(http.Header)
		}
		r.Header.Set(header, strconv.Itoa(c.n))
	}
	return r, nil
}

func (c *call) decide(_ *Policy[*http.Response], resp *http.Response, err error) verdict {
	if c.bodyFailed {
		// The request's GetBody failed: nothing was sent, and sending
		// again would need it to work. Not for Classify to decide.
		return fail
	}
	classify := c.t.Classify
	if classify == nil {
		classify = DefaultClassify
	}
	if classify(Attempt{Request: c.req, Response: resp, Err: err, N: c.n}) {
		return retry
	}
	if err != nil {
		return fail
	}
	return succeed
}

func (c *call) describe(d Details[*http.Response]) Details[*http.Response] {
	d.Request = c.req
	d.Method = c.req.Method
	if d.Method == "" {
		d.Method = http.MethodGet
	}
	if c.req.URL != nil {
		d.Host = c.req.URL.Host
	}
	if c.resp != nil {
		d.StatusCode = c.resp.StatusCode
	}
	d.RetryAfter = c.ra
	return d
}

func (c *call) vet(d Details[*http.Response], w, left time.Duration) (time.Duration, Reason) {
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
	return c.retryAfterWait(w, left, limit)
}

// retryAfterWait raises the computed wait w to the response's Retry-After,
// a floor: spread upward as RetryAfterSpread says, never beyond the cap or
// the time left. It gives up when the floor itself does not fit.
func (c *call) retryAfterWait(w, left, limit time.Duration) (time.Duration, Reason) {
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
	jit := c.t.policy.Jitter
	if jit == nil {
		jit = jitter.Full
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
	body := resp.Body
	limit := c.t.drainLimit()
	d := DrainTimeout
	if a := c.t.AttemptTimeout; a > 0 && a < d {
		d = a
	}
	if maxTime > 0 {
		d = min(d, maxTime-(now-start))
	}
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl))
	}
	if limit <= 0 || d <= 0 || body == http.NoBody || resp.ContentLength > limit {
		body.Close()
		return monotonic() - now
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
	return monotonic() - now
}

// replayable reports whether the request may be sent again after an
// attempt that failed with err (nil for a failure on the response).
func (c *call) replayable(err error) bool {
	req := c.req
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		if c.body == nil || !c.body.complete() {
			return false
		}
	}
	if neverSent(err) {
		return true
	}
	switch requestOptionsFrom(req.Context()).idempotent {
	case 1:
		return false
	case 2:
		return true
	}
	if c.t.Idempotent != nil {
		return c.t.Idempotent(req)
	}
	return DefaultIdempotent(req)
}

func (t *Transport) bufferLimit() int64 {
	if t.BufferLimit == 0 {
		return DefaultBufferLimit
	}
	return t.BufferLimit
}

func (t *Transport) drainLimit() int64 {
	if t.DrainLimit == 0 {
		return DefaultDrainLimit
	}
	return t.DrainLimit
}

func (t *Transport) retryAfterSpread() float64 {
	switch {
	case t.RetryAfterSpread == 0:
		return FloorSpread
	case t.RetryAfterSpread < 0:
		return 0
	}
	return t.RetryAfterSpread
}

func (t *Transport) maxRetryAfter() time.Duration {
	if t.MaxRetryAfter == 0 {
		return DefaultMaxRetryAfter
	}
	return t.MaxRetryAfter
}

// getBodyError is the error of an attempt whose request body could not be
// had again from the request's GetBody.
type getBodyError struct{ err error }

func (e *getBodyError) Error() string {
	if e.err == nil {
		return "backoff: request GetBody returned a nil body and a nil error"
	}
	return "backoff: request GetBody failed: " + e.err.Error()
}

func (e *getBodyError) Unwrap() error { return e.err }

var errAttemptTimeout = errors.New("backoff: attempt timed out waiting for the response headers")

// attemptTimeoutError is the error of an attempt cut off by AttemptTimeout.
type attemptTimeoutError struct{ err error }

func (e *attemptTimeoutError) Error() string {
	if e.err == nil {
		return errAttemptTimeout.Error()
	}
	return errAttemptTimeout.Error() + ": " + e.err.Error()
}
func (e *attemptTimeoutError) Unwrap() []error { return []error{errAttemptTimeout, e.err} }
func (e *attemptTimeoutError) Timeout() bool   { return true }
func (e *attemptTimeoutError) Temporary() bool { return true }

// sharedTimeoutError is the error of an attempt whose own AttemptTimeout
// did not fire, but which failed with the timeout of another attempt (of
// this call or of another), as net/http can report it on a request that
// shared a connection with the one that timed out. It is transient, as the
// timeout it wraps is, but it is not a timeout of this attempt.
type sharedTimeoutError struct{ err error }

func (e *sharedTimeoutError) Error() string {
	return "backoff: attempt failed by another attempt's timeout: " + e.err.Error()
}
func (e *sharedTimeoutError) Unwrap() error { return e.err }

// cancelOnClose releases an attempt's context when the body of the
// response it produced is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelCauseFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel(nil)
	return err
}

// cancelOnCloseWriter is a cancelOnClose whose body is also an io.Writer,
// as net/http makes the body of a 101 Switching Protocols response: the
// upgraded connection stays writable.
type cancelOnCloseWriter struct {
	cancelOnClose
	w io.Writer
}

func (b *cancelOnCloseWriter) Write(p []byte) (int, error) { return b.w.Write(p) }

// releaseOnClose returns body wrapped so that closing it calls cancel. The
// wrapper implements io.Writer when body does.
func releaseOnClose(body io.ReadCloser, cancel context.CancelCauseFunc) io.ReadCloser {
	if w, ok := body.(io.Writer); ok {
		return &cancelOnCloseWriter{cancelOnClose{ReadCloser: body, cancel: cancel}, w}
	}
	return &cancelOnClose{ReadCloser: body, cancel: cancel}
}

// bodyRecorder passes a request body through to the first attempt and keeps
// what it reads, up to a limit, so that later attempts can send it again.
// The base transport may read it from another goroutine, even after its
// RoundTrip has returned, while the call inspects what was kept.
//
// rmu serialises the reads of the original body (by Read and by getBody);
// mu guards the state, and is never held while the original body is read,
// so that complete and bytes never wait for a read that blocks.
type bodyRecorder struct {
	rc    io.ReadCloser
	limit int64
	size  int64 // the request's ContentLength; 0 or -1 if unknown

	rmu sync.Mutex

	mu     sync.Mutex
	buf    []byte // what was read from rc, while !over
	ahead  []byte // bytes getBody read from rc that Read has not yet returned
	over   bool   // more than limit bytes were read
	eof    bool   // rc returned io.EOF
	err    error  // rc's read error, or an invalid count it returned
	closed bool
}

func (b *bodyRecorder) Read(p []byte) (int, error) {
	b.rmu.Lock()
	defer b.rmu.Unlock()
	b.mu.Lock()
	if len(b.ahead) > 0 {
		// Read ahead by getBody: serve it first.
		n := copy(p, b.ahead)
		b.ahead = b.ahead[n:]
		b.mu.Unlock()
		return n, nil
	}
	switch {
	case b.err != nil:
		err := b.err
		b.mu.Unlock()
		return 0, err
	case b.eof:
		b.mu.Unlock()
		return 0, io.EOF
	}
	b.mu.Unlock()

	n, err := b.rc.Read(p)
	b.mu.Lock()
	defer b.mu.Unlock()
	if n < 0 || n > len(p) {
		b.err = invalidCountError(n, len(p))
		b.buf = nil
		return 0, b.err
	}
	b.keep(p[:n])
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil:
		b.err = err
	}
	return n, err
}

// keep appends p to what is kept, or drops it all once over the limit. It
// requires b.mu.
func (b *bodyRecorder) keep(p []byte) {
	if b.over {
		return
	}
	if int64(len(b.buf))+int64(len(p)) > b.limit {
		b.over, b.buf = true, nil
		return
	}
	b.buf = append(b.buf, p...)
}

func invalidCountError(n, size int) error {
	return fmt.Errorf("backoff: request body's Read returned an invalid count %d for a %d-byte buffer", n, size)
}

func (b *bodyRecorder) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return b.rc.Close()
}

// complete reports whether the whole body was read and kept: up to io.EOF,
// or up to the request's ContentLength, which net/http may send without
// making the read that returns io.EOF.
func (b *bodyRecorder) complete() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.whole()
}

// whole is complete with b.mu held.
func (b *bodyRecorder) whole() bool {
	if b.over || b.err != nil {
		return false
	}
	return b.eof || b.size > 0 && int64(len(b.buf)) == b.size
}

// getBody is the GetBody of the first attempt's request, offered unless
// its ContentLength is over the limit. It returns a copy of the body; if
// the body has not yet been read whole, it first reads the rest of it (up
// to the limit, or to its ContentLength), which the recorder's own Read
// then returns before reading on. It fails if the body is over the limit,
// was closed before it was read whole, or could not be read. A layer below
// the Transport may call it before sending the body (to sign it, say), and
// net/http calls it to send the request again on a new connection (an
// HTTP/2 stream refused, a connection lost before the request was written).
func (b *bodyRecorder) getBody() (io.ReadCloser, error) {
	b.mu.Lock()
	if b.whole() {
		// Kept already: no need to wait for a read of the first attempt
		// that may still be blocked (on an io.EOF that comes late).
		defer b.mu.Unlock()
		return io.NopCloser(bytes.NewReader(b.buf)), nil
	}
	b.mu.Unlock()
	b.rmu.Lock()
	defer b.rmu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	for !b.whole() {
		switch {
		case b.over:
			return nil, fmt.Errorf("backoff: request body not kept: it is over the Transport's BufferLimit of %d bytes", b.limit)
		case b.err != nil:
			return nil, fmt.Errorf("backoff: request body not kept: reading it failed: %w", b.err)
		case b.closed:
			return nil, errBodyClosed
		}
		b.readAhead()
	}
	return io.NopCloser(bytes.NewReader(b.buf)), nil
}

var errBodyClosed = errors.New("backoff: request body not kept: it was closed before it was read whole")

// readAhead reads the original body once into b.buf (growing it as
// needed, never past the limit by more than a byte, nor past the
// ContentLength) and records what comes of it. The bytes read are also
// added to b.ahead, for Read to return. It requires b.rmu and b.mu, and
// releases b.mu while it reads: holding b.rmu, it is the only writer of
// b.buf, and it reads into b.buf's spare capacity, which no copy handed
// out covers.
func (b *bodyRecorder) readAhead() {
	want := b.limit + 1 - int64(len(b.buf)) // at most one byte over
	if b.size > 0 {
		want = min(want, b.size-int64(len(b.buf)))
	}
	if want <= 0 {
		want = 1 // a body longer than its ContentLength
	}
	want = min(want, 32<<10)
	start := len(b.buf) - len(b.ahead)
	b.buf = slices.Grow(b.buf, int(want))
	p := b.buf[len(b.buf) : len(b.buf)+int(want)]
	b.mu.Unlock()
	n, err := b.rc.Read(p)
	b.mu.Lock()
	if n < 0 || n > len(p) {
		b.err = invalidCountError(n, len(p))
		return
	}
	b.buf = b.buf[:len(b.buf)+n]
	b.ahead = b.buf[start:]
	if int64(len(b.buf)) > b.limit {
		// Over the limit: stop keeping, but the bytes read ahead are
		// still the first attempt's to send.
		b.over, b.buf = true, nil
	}
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil:
		b.err = err
	}
}

func (b *bodyRecorder) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf
}
