package backoff_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

// exampleBase is an in-memory Base for the examples.
type exampleBase func(*http.Request) (*http.Response, error)

func (f exampleBase) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// replies returns a Base that answers with the statuses in turn, then with
// 200 OK, and sets header on every response.
func replies(header http.Header, statuses ...int) http.RoundTripper {
	var n atomic.Int32
	return exampleBase(func(req *http.Request) (*http.Response, error) {
		code := http.StatusOK
		if i := int(n.Add(1)) - 1; i < len(statuses) {
			code = statuses[i]
		}
		return reply(req, code, header), nil
	})
}

// always returns a Base that always answers with the status code.
func always(code int) http.RoundTripper {
	return exampleBase(func(req *http.Request) (*http.Response, error) {
		return reply(req, code, nil), nil
	})
}

// reply is a response to req with the status code and a copy of header.
func reply(req *http.Request, code int, header http.Header) *http.Response {
	if req.Body != nil {
		req.Body.Close()
	}
	h := header.Clone()
	if h == nil {
		h = make(http.Header)
	}
	return &http.Response{
		Status:     fmt.Sprintf("%d %s", code, http.StatusText(code)),
		StatusCode: code,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Body:       io.NopCloser(strings.NewReader(http.StatusText(code))),
		Request:    req,
	}
}

// status prints a response's status, or the error.
func status(resp *http.Response, err error) {
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
}

// fast are settings that keep the examples quick and their output fixed:
// a constant 1ns wait, no jitter.
var (
	fastWait   = strategy.Constant{Interval: time.Nanosecond}
	fastJitter = jitter.None
)

// The zero Transport is ready to use: up to 4 attempts of an idempotent
// request on transient failures, exponential waits from 250ms with full
// jitter, a pooled transport of its own as Base.
func ExampleTransport() {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "hello")
	}))
	defer srv.Close()

	tr := &backoff.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	resp, err := client.Get(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("%s after %d requests: %s", resp.Status, n.Load(), body)
	// Output: 200 OK after 2 requests: hello
}

// MaxAttempts counts every attempt, the first included. When the Transport
// gives up on a status, it returns the last response with a nil error, as
// a plain http.Client would.
func ExampleTransport_maxAttempts() {
	var attempts atomic.Int32
	base := always(http.StatusServiceUnavailable)
	client := &http.Client{Transport: &backoff.Transport{
		Base: exampleBase(func(req *http.Request) (*http.Response, error) {
			attempts.Add(1)
			return base.RoundTrip(req)
		}),
		MaxAttempts: 3,
		Wait:        strategy.Expo{Factor: time.Nanosecond},
		Jitter:      jitter.None,
	}}
	status(client.Get("http://api.example/items"))
	fmt.Println("attempts:", attempts.Load())
	// Output:
	// 503 Service Unavailable
	// attempts: 3
}

// A Trace receives the events of every call, in HTTP terms.
func ExampleTransport_trace() {
	client := &http.Client{Transport: &backoff.Transport{
		Base:        replies(nil, 503, 502),
		MaxAttempts: 5,
		Wait:        strategy.Sequence{time.Millisecond, 2 * time.Millisecond},
		Jitter:      jitter.None,
		Trace: &backoff.Trace{
			OnBackoff: func(e backoff.Event) {
				fmt.Printf("%s %s: attempt %d got %d, waiting %v\n",
					e.Request.Method, e.Request.URL.Host, e.Attempt, e.Response.StatusCode, e.Wait)
			},
			OnSuccess: func(e backoff.Event) {
				fmt.Printf("success at attempt %d\n", e.Attempt)
			},
		},
	}}
	status(client.Get("http://api.example/items"))
	// Output:
	// GET api.example: attempt 1 got 503, waiting 1ms
	// GET api.example: attempt 2 got 502, waiting 2ms
	// success at attempt 3
	// 200 OK
}

// Every event: OnAttempt after each attempt, then OnBackoff before each
// wait, and at the end OnSuccess (a response not retried) or OnGiveUp.
func ExampleTrace() {
	show := func(name string) func(backoff.Event) {
		return func(e backoff.Event) {
			code := 0
			if e.Response != nil {
				code = e.Response.StatusCode
			}
			fmt.Printf("%-9s attempt=%d status=%d wait=%v reason=%q final=%v\n",
				name, e.Attempt, code, e.Wait, string(e.Reason), e.Final)
		}
	}
	client := &http.Client{Transport: &backoff.Transport{
		Base:        always(http.StatusInternalServerError),
		MaxAttempts: 2,
		Wait:        fastWait,
		Jitter:      fastJitter,
		Trace: &backoff.Trace{
			OnAttempt: show("attempt"),
			OnBackoff: show("backoff"),
			OnSuccess: show("success"),
			OnGiveUp:  show("giveup"),
		},
	}}
	status(client.Get("http://api.example/"))
	// Output:
	// attempt   attempt=1 status=500 wait=1ns reason="" final=false
	// backoff   attempt=1 status=500 wait=1ns reason="" final=false
	// attempt   attempt=2 status=500 wait=0s reason="max_tries" final=true
	// giveup    attempt=2 status=500 wait=0s reason="max_tries" final=true
	// 500 Internal Server Error
}

// An Event with no response: the attempt failed with a transport error.
func ExampleEvent() {
	var n atomic.Int32
	ok := replies(nil)
	client := &http.Client{Transport: &backoff.Transport{
		Base: exampleBase(func(req *http.Request) (*http.Response, error) {
			if n.Add(1) == 1 {
				return nil, io.ErrUnexpectedEOF // the connection dropped
			}
			return ok.RoundTrip(req)
		}),
		Wait:   fastWait,
		Jitter: fastJitter,
		Trace: &backoff.Trace{OnBackoff: func(e backoff.Event) {
			fmt.Printf("attempt %d: response %v, error %v\n", e.Attempt, e.Response != nil, e.Err)
		}},
	}}
	status(client.Get("http://api.example/"))
	// Output:
	// attempt 1: response false, error unexpected EOF
	// 200 OK
}

// JoinTraces composes subscribers: the caller's own, metrics, tracing.
// Build the Trace before the Transport's first use, which reads it once.
func ExampleJoinTraces() {
	var retries atomic.Int32
	counting := &backoff.Trace{OnBackoff: func(backoff.Event) { retries.Add(1) }}
	printing := &backoff.Trace{OnGiveUp: func(e backoff.Event) {
		fmt.Printf("giving up after %d attempts: %s\n", e.Attempt, string(e.Reason))
	}}
	client := &http.Client{Transport: &backoff.Transport{
		Base:   always(http.StatusServiceUnavailable),
		Wait:   fastWait,
		Jitter: fastJitter,
		Trace:  backoff.JoinTraces(counting, nil, printing),
	}}
	status(client.Get("http://api.example/"))
	fmt.Println("retries:", retries.Load())
	// Output:
	// giving up after 4 attempts: max_tries
	// 503 Service Unavailable
	// retries: 3
}

// The Logger gets a line for every retry and every give-up, with the
// method, scheme and host but never the URL's path or query.
func ExampleTransport_logger() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "elapsed" {
				return slog.Attr{} // keep the output fixed
			}
			return a
		},
	}))
	client := &http.Client{Transport: &backoff.Transport{
		Base:        always(http.StatusServiceUnavailable),
		MaxAttempts: 2,
		Wait:        strategy.Constant{Interval: time.Millisecond},
		Jitter:      jitter.None,
		Logger:      logger,
	}}
	status(client.Get("http://api.example/items?token=secret"))
	// Output:
	// level=INFO msg="Backing off GET http://api.example for 1ms after 1 attempt (503 Service Unavailable)" method=GET host=api.example attempts=1 wait=1ms status=503
	// level=ERROR msg="Giving up GET http://api.example after 2 attempts (503 Service Unavailable)" method=GET host=api.example attempts=2 reason=max_tries status=503
	// 503 Service Unavailable
}

// GitHub's secondary rate limit answers 403 with a Retry-After. List 403
// in RetryAfterStatuses, so that its Retry-After is honoured, and retry it
// in Classify, which DefaultClassify does not.
func ExampleTransport_retryAfterStatuses() {
	limited := http.Header{"Retry-After": {"1"}}
	client := &http.Client{Transport: &backoff.Transport{
		Base:               replies(limited, http.StatusForbidden),
		RetryAfterStatuses: []int{http.StatusForbidden, http.StatusTooManyRequests, http.StatusServiceUnavailable},
		Classify: func(a backoff.Attempt) bool {
			if a.Response != nil && a.Response.StatusCode == http.StatusForbidden {
				return a.Response.Header.Get("Retry-After") != ""
			}
			return backoff.DefaultClassify(a)
		},
		Wait:   fastWait,
		Jitter: jitter.None, // the wait is then the Retry-After exactly
		Trace: &backoff.Trace{OnBackoff: func(e backoff.Event) {
			fmt.Printf("%d, Retry-After %v: waiting %v\n", e.Response.StatusCode, e.RetryAfter, e.Wait)
		}},
	}}
	status(client.Get("https://api.github.example/repos"))
	// Output:
	// 403, Retry-After 1s: waiting 1s
	// 200 OK
}

// A Retry-After over MaxRetryAfter is not waited for: the Transport gives
// up at once and returns that response.
func ExampleTransport_maxRetryAfter() {
	client := &http.Client{Transport: &backoff.Transport{
		Base:          replies(http.Header{"Retry-After": {"3600"}}, http.StatusTooManyRequests),
		MaxRetryAfter: 10 * time.Second,
		Trace: &backoff.Trace{OnGiveUp: func(e backoff.Event) {
			fmt.Printf("giving up: Retry-After %v (%s)\n", e.RetryAfter, string(e.Reason))
		}},
	}}
	status(client.Get("http://api.example/"))
	// Output:
	// giving up: Retry-After 1h0m0s (retry_after)
	// 429 Too Many Requests
}

// DefaultClassify is exported so that a custom Classify can wrap it.
func ExampleDefaultClassify() {
	resp := func(code int, header http.Header) *http.Response {
		return &http.Response{StatusCode: code, Header: header}
	}
	fmt.Println(backoff.DefaultClassify(backoff.Attempt{Response: resp(503, nil)}))
	fmt.Println(backoff.DefaultClassify(backoff.Attempt{Response: resp(501, nil)}))
	fmt.Println(backoff.DefaultClassify(backoff.Attempt{Err: io.ErrUnexpectedEOF}))
	// Output:
	// true
	// false
	// true
}

// A Classify that also retries a 409 Conflict on the first two attempts,
// and otherwise follows DefaultClassify.
func ExampleTransport_classify() {
	client := &http.Client{Transport: &backoff.Transport{
		Base: replies(nil, http.StatusConflict, http.StatusConflict),
		Classify: func(a backoff.Attempt) bool {
			if a.Response != nil && a.Response.StatusCode == http.StatusConflict {
				return a.Number < 3
			}
			return backoff.DefaultClassify(a)
		},
		Wait:   fastWait,
		Jitter: fastJitter,
	}}
	status(client.Get("http://api.example/"))
	// Output: 200 OK
}

func ExampleDefaultIdempotent() {
	get, _ := http.NewRequest(http.MethodGet, "http://api.example/", nil)
	post, _ := http.NewRequest(http.MethodPost, "http://api.example/", nil)
	keyed, _ := http.NewRequest(http.MethodPost, "http://api.example/", nil)
	keyed.Header.Set("Idempotency-Key", "8e03978e")
	fmt.Println(backoff.DefaultIdempotent(get), backoff.DefaultIdempotent(post), backoff.DefaultIdempotent(keyed))
	// Output: true false true
}

// A POST is retried after a failure that may have reached the server only
// when it is known to be idempotent; WithIdempotent says so for one
// request.
func ExampleWithIdempotent() {
	post := func(ctx context.Context) {
		tr := &backoff.Transport{
			Base:   replies(nil, 503),
			Wait:   fastWait,
			Jitter: fastJitter,
			Trace: &backoff.Trace{OnGiveUp: func(e backoff.Event) {
				fmt.Printf("giving up after %d attempt: %s\n", e.Attempt, string(e.Reason))
			}},
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://api.example/orders", strings.NewReader(`{"id":7}`))
		status(tr.RoundTrip(req))
	}
	post(context.Background())
	post(backoff.WithIdempotent(context.Background(), true))
	// Output:
	// giving up after 1 attempt: not_replayable
	// 503 Service Unavailable
	// 200 OK
}

// Under a context marked by WithSingleAttempt a Transport makes a single
// attempt and leaves the retries to the layer above.
func ExampleWithSingleAttempt() {
	var attempts atomic.Int32
	base := always(http.StatusServiceUnavailable)
	tr := &backoff.Transport{
		Base: exampleBase(func(req *http.Request) (*http.Response, error) {
			attempts.Add(1)
			return base.RoundTrip(req)
		}),
		Wait:   fastWait,
		Jitter: fastJitter,
	}
	ctx := backoff.WithSingleAttempt(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://api.example/", nil)
	status(tr.RoundTrip(req))
	fmt.Println("attempts:", attempts.Load())
	// Output:
	// 503 Service Unavailable
	// attempts: 1
}

// A Transport with SingleAttemptBelow marks its attempts' contexts, which
// IsSingleAttempt reads.
func ExampleIsSingleAttempt() {
	tr := &backoff.Transport{
		Base: exampleBase(func(req *http.Request) (*http.Response, error) {
			fmt.Println("single attempt below:", backoff.IsSingleAttempt(req.Context()))
			return replies(nil).RoundTrip(req)
		}),
		SingleAttemptBelow: true,
	}
	fmt.Println("caller's context:", backoff.IsSingleAttempt(context.Background()))
	status(tr.RoundTrip(httptest.NewRequest(http.MethodGet, "http://api.example/", nil)))
	// Output:
	// caller's context: false
	// single attempt below: true
	// 200 OK
}

// Nested retrying layers do not multiply their attempts: a Transport that
// is directly the Base of another makes a single attempt per call, and
// one behind a wrapping Base does when the outer Transport has
// SingleAttemptBelow. Without either, both layers retry.
func ExampleTransport_nested() {
	var attempts atomic.Int32
	server := always(http.StatusServiceUnavailable)
	counted := exampleBase(func(req *http.Request) (*http.Response, error) {
		attempts.Add(1)
		return server.RoundTrip(req)
	})
	inner := func() *backoff.Transport {
		return &backoff.Transport{Base: counted, MaxAttempts: 3, Wait: fastWait, Jitter: fastJitter, Budget: backoff.DisabledBudget()}
	}
	// wrap stands for an instrumenting RoundTripper between the layers.
	wrap := func(rt http.RoundTripper) http.RoundTripper {
		return exampleBase(func(req *http.Request) (*http.Response, error) { return rt.RoundTrip(req) })
	}
	for _, c := range []struct {
		name string
		tr   *backoff.Transport
	}{
		{"Transport as Base", &backoff.Transport{Base: inner()}},
		{"wrapped, SingleAttemptBelow", &backoff.Transport{Base: wrap(inner()), SingleAttemptBelow: true}},
		{"wrapped, no mark", &backoff.Transport{Base: wrap(inner())}},
	} {
		attempts.Store(0)
		c.tr.MaxAttempts, c.tr.Wait, c.tr.Jitter, c.tr.Budget = 2, fastWait, fastJitter, backoff.DisabledBudget()
		resp, _ := c.tr.RoundTrip(httptest.NewRequest(http.MethodGet, "http://api.example/", nil))
		resp.Body.Close()
		fmt.Printf("%s: %d attempts reach the server\n", c.name, attempts.Load())
	}
	// Output:
	// Transport as Base: 2 attempts reach the server
	// wrapped, SingleAttemptBelow: 2 attempts reach the server
	// wrapped, no mark: 6 attempts reach the server
}

// A Transport whose last attempt got no response returns an *Error, which
// an http.Client wraps in a *url.Error; errors.Is and errors.As see
// through both to the reason and the last attempt's error.
func ExampleError() {
	client := &http.Client{Transport: &backoff.Transport{
		Base: exampleBase(func(*http.Request) (*http.Response, error) {
			return nil, io.ErrUnexpectedEOF
		}),
		MaxAttempts: 3,
		Wait:        fastWait,
		Jitter:      fastJitter,
	}}
	_, err := client.Get("http://api.example/items")
	fmt.Println(err)
	var e *backoff.Error
	if errors.As(err, &e) {
		fmt.Println(e.Reason == backoff.ErrMaxAttempts, e.Attempts)
	}
	fmt.Println(errors.Is(err, backoff.ErrMaxAttempts), errors.Is(err, io.ErrUnexpectedEOF))
	// Output:
	// Get "http://api.example/items": backoff: giving up after 3 attempts (max_tries): last error: unexpected EOF
	// true 3
	// true true
}

// Timeout tells whether the call ended on a timeout, here the
// Transport's AttemptTimeout; url.Error.Timeout reports it.
func ExampleError_Timeout() {
	client := &http.Client{Transport: &backoff.Transport{
		Base: exampleBase(func(req *http.Request) (*http.Response, error) {
			<-req.Context().Done() // a server that never answers
			return nil, req.Context().Err()
		}),
		MaxAttempts:    2,
		AttemptTimeout: time.Millisecond,
		Wait:           fastWait,
		Jitter:         fastJitter,
	}}
	_, err := client.Get("http://api.example/slow")
	var e *backoff.Error
	fmt.Println(errors.As(err, &e) && e.Timeout())
	var ue interface{ Timeout() bool }
	fmt.Println(errors.As(err, &ue) && ue.Timeout())
	// Output:
	// true
	// true
}

// Validate reports invalid configuration as *ConfigError values, joined.
// A Transport that is not valid fails every request with that error.
func ExampleTransport_Validate() {
	tr := &backoff.Transport{
		AttemptHeader:      "Content-Length",
		RetryAfterStatuses: []int{429, 700},
	}
	err := tr.Validate()
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ce *backoff.ConfigError
		if errors.As(e, &ce) {
			fmt.Println(ce.Field, ce.Value)
		}
	}
	// Output:
	// Transport.RetryAfterStatuses 700
	// Transport.AttemptHeader "Content-Length"
}

func ExampleConfigError() {
	err := (&backoff.Transport{RetryAfterStatuses: []int{42}}).Validate()
	var ce *backoff.ConfigError
	if errors.As(err, &ce) {
		fmt.Println(ce)
	}
	// Output: backoff: invalid Transport.RetryAfterStatuses 42: must hold HTTP statuses, 100 to 599
}

// Transports that share a Budget share its tokens. Here a host's bucket
// holds at most one retry, which is also its reserve, and each request
// earns half of one, with no refill over time: the first call spends the
// reserve on one retry, the second finds half a token, the third's request
// fills the bucket again.
func ExampleBudget() {
	budget := &backoff.Budget{MaxTokens: 1, Ratio: 0.5, MinPerSecond: -1}
	client := func() *http.Client {
		return &http.Client{Transport: &backoff.Transport{
			Base:   always(http.StatusServiceUnavailable),
			Budget: budget,
			Wait:   fastWait,
			Jitter: fastJitter,
			Trace: &backoff.Trace{OnGiveUp: func(e backoff.Event) {
				fmt.Printf("giving up: %s, attempts: %d, tokens left: %v\n", string(e.Reason), e.Attempt, budget.Tokens("api.example"))
			}},
		}}
	}
	for range 3 {
		resp, err := client().Get("http://api.example/")
		if err == nil {
			resp.Body.Close()
		}
	}
	// Output:
	// giving up: budget, attempts: 2, tokens left: 0
	// giving up: budget, attempts: 1, tokens left: 0.5
	// giving up: budget, attempts: 2, tokens left: 0
}

// The default Budget lets a failing host have the 100 retries of its
// reserve at once, then a tenth of a retry per request or one per second;
// DisabledBudget turns it off.
func ExampleDisabledBudget() {
	for _, budget := range []*backoff.Budget{nil, backoff.DisabledBudget()} {
		tr := &backoff.Transport{
			Base:        always(http.StatusInternalServerError),
			Budget:      budget,
			MaxAttempts: 150,
			Wait:        fastWait,
			Jitter:      fastJitter,
			Trace: &backoff.Trace{OnGiveUp: func(e backoff.Event) {
				fmt.Printf("giving up after %d attempts: %s\n", e.Attempt, string(e.Reason))
			}},
		}
		resp, _ := tr.RoundTrip(httptest.NewRequest(http.MethodGet, "http://api.example/", nil))
		resp.Body.Close()
	}
	// Output:
	// giving up after 101 attempts: budget
	// giving up after 150 attempts: max_tries
}

func ExampleParseRetryAfter() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, v := range []string{"120", "Sun, 01 Mar 2026 12:00:30 GMT", "Sun, 01 Mar 2026 11:00:00 GMT", "soon"} {
		d, ok := backoff.ParseRetryAfter(v, now)
		fmt.Println(d, ok)
	}
	// Output:
	// 2m0s true
	// 30s true
	// 0s true
	// 0s false
}

// AttemptOfMax tells the server each attempt's number and the limit, in
// the form of AWS's amz-sdk-request header.
func ExampleAttemptOfMax() {
	tr := &backoff.Transport{
		Base: rtFunc(func(r *http.Request) (*http.Response, error) {
			fmt.Println(r.Header.Get("Amz-Sdk-Request"))
			return &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
		}),
		MaxAttempts:        3,
		Wait:               fastWait,
		AttemptHeader:      "Amz-Sdk-Request",
		AttemptHeaderValue: backoff.AttemptOfMax,
	}
	resp, err := tr.RoundTrip(httptest.NewRequest(http.MethodGet, "http://api.example/", nil))
	if err == nil {
		resp.Body.Close()
	}
	// Output:
	// attempt=1; max=3
	// attempt=2; max=3
	// attempt=3; max=3
}

// WithOutcome lets code that holds only an http.Client learn what the
// Transport did for each request.
func ExampleWithOutcome() {
	client := &http.Client{Transport: &backoff.Transport{
		Base:   replies(nil, 503, 503),
		Wait:   strategy.Constant{Interval: time.Millisecond},
		Jitter: fastJitter,
	}}
	var o backoff.Outcome
	req, _ := http.NewRequestWithContext(backoff.WithOutcome(context.Background(), &o), http.MethodGet, "http://api.example/", nil)
	resp, err := client.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status, o.Attempts, "attempts", o.Waited >= 2*time.Millisecond, o.Reason == "")
	// Output: 200 OK 3 attempts true true
}

// AttemptNumber tells a layer below the Transport (an instrumenting
// RoundTripper, say) which attempt a request is.
func ExampleAttemptNumber() {
	var n atomic.Int32
	tr := &backoff.Transport{
		Base: rtFunc(func(r *http.Request) (*http.Response, error) {
			a, retry := backoff.AttemptNumber(r.Context())
			fmt.Println("attempt", a, "retry:", retry)
			code := http.StatusOK
			if n.Add(1) < 3 {
				code = http.StatusServiceUnavailable
			}
			return &http.Response{StatusCode: code, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
		}),
		Wait: fastWait,
	}
	resp, err := tr.RoundTrip(httptest.NewRequest(http.MethodGet, "http://api.example/", nil))
	if err == nil {
		resp.Body.Close()
	}
	// Output:
	// attempt 1 retry: false
	// attempt 2 retry: true
	// attempt 3 retry: true
}

func ExampleHedging() {
	// The first attempt hangs; its hedge, sent after 10ms, answers.
	base := rtFunc(func(r *http.Request) (*http.Response, error) {
		if _, hedge := backoff.AttemptNumber(r.Context()); !hedge {
			<-r.Context().Done()
			fmt.Println("original:", context.Cause(r.Context()))
			return nil, r.Context().Err()
		}
		return &http.Response{StatusCode: 200, Status: "200 OK", Body: http.NoBody}, nil
	})
	client := &http.Client{Transport: &backoff.Transport{
		Base:    base,
		Hedging: &backoff.Hedging{Delay: 10 * time.Millisecond},
	}}
	var o backoff.Outcome
	req, _ := http.NewRequestWithContext(backoff.WithOutcome(context.Background(), &o), http.MethodGet, "http://api.example/", nil)
	resp, err := client.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status, "from attempt", o.Winner, "of", o.Attempts, "hedges:", o.Hedges)
	// Output:
	// original: backoff: another attempt of the request answered first
	// 200 OK from attempt 2 of 2 hedges: 1
}
