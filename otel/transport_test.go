package backoffotel_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	backoffotel "github.com/f99b3bbb/backoff/otel"
	"github.com/f99b3bbb/backoff/strategy"
)

const (
	duration   = backoffotel.RequestDurationName
	retries    = backoffotel.RetriesName
	retryDelay = backoffotel.RetryDelayName
	giveUps    = backoffotel.GiveUpsName
)

// transport returns a Transport over base with waits of 100ms, without
// jitter, whose budget does not depend on the time, and the hooks of e.
func (e *env) transport(base http.RoundTripper) *backoff.Transport {
	return &backoff.Transport{
		Base:   base,
		Wait:   strategy.Constant{Interval: 100 * time.Millisecond},
		Jitter: jitter.None,
		Budget: &backoff.Budget{MinPerSecond: -1},
		Trace:  e.inst.Trace(),
	}
}

// In a bubble, time moves only when every goroutine waits: the attempts
// take exactly what the script says, and the waits what the strategy says.

func TestRetriedTwiceThenSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		base := answers(503, 503, 200)
		base.took = 10 * time.Millisecond
		code, span := e.do(t, e.transport(base), "GET", "https://api.example.com/v1/items", "")
		if code != 200 || base.calls() != 3 {
			t.Fatalf("status %d after %d attempts, want 200 after 3", code, base.calls())
		}
		e.wantPoints(t, duration, map[string]string{
			"error.type=503,http.request.method=GET,http.response.status_code=503": "2/0.02",
			"http.request.method=GET,http.response.status_code=200":                "1/0.01",
		})
		e.wantPoints(t, retries, map[string]string{"http.request.method=GET": "1/2"})
		e.wantPoints(t, retryDelay, map[string]string{"http.request.method=GET": "1/0.2"})
		e.wantPoints(t, giveUps, nil)
		wantEvents(t, span,
			"backoff.wait backoff.attempt=1,backoff.wait.duration=0.1,error.type=503,http.response.status_code=503",
			"backoff.wait backoff.attempt=2,backoff.wait.duration=0.1,error.type=503,http.response.status_code=503",
		)
	})
}

func TestFirstAttemptSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		_, span := e.do(t, e.transport(answers(204)), "GET", "https://api.example.com/", "")
		if got := e.collect(t, duration); len(got) != 1 || got["http.request.method=GET,http.response.status_code=204"].count != 1 {
			t.Errorf("durations %v, want one attempt of status 204", got)
		}
		// A call that needed no retry records no per-call histogram.
		e.wantPoints(t, retries, nil)
		e.wantPoints(t, retryDelay, nil)
		e.wantPoints(t, giveUps, nil)
		wantEvents(t, span)
	})
}

func TestGiveUpByBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		tr := e.transport(answers(503))
		// One retry in the reserve, none earned: the second retry is
		// refused.
		tr.Budget = &backoff.Budget{Ratio: -1, MinPerSecond: -1, MaxTokens: 1}
		code, span := e.do(t, tr, "GET", "https://api.example.com/", "")
		if code != 503 {
			t.Fatalf("status %d, want the last 503", code)
		}
		e.wantPoints(t, giveUps, map[string]string{"backoff.reason=budget,http.request.method=GET": "1/1"})
		e.wantPoints(t, retries, map[string]string{"http.request.method=GET": "1/1"})
		e.wantPoints(t, retryDelay, map[string]string{"http.request.method=GET": "1/0.1"})
		e.wantPoints(t, duration, map[string]string{
			"error.type=503,http.request.method=GET,http.response.status_code=503": "2/0",
		})
		wantEvents(t, span,
			"backoff.wait backoff.attempt=1,backoff.wait.duration=0.1,error.type=503,http.response.status_code=503",
			"backoff.give_up backoff.attempts=2,backoff.reason=budget,error.type=503,http.response.status_code=503",
		)
	})
}

func TestGiveUpByMaxAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		tr := e.transport(answers(500))
		tr.MaxAttempts = 3
		_, span := e.do(t, tr, "DELETE", "https://api.example.com/v1/items/7", "")
		e.wantPoints(t, giveUps, map[string]string{"backoff.reason=max_tries,http.request.method=DELETE": "1/1"})
		e.wantPoints(t, retries, map[string]string{"http.request.method=DELETE": "1/2"})
		e.wantPoints(t, retryDelay, map[string]string{"http.request.method=DELETE": "1/0.2"})
		e.wantPoints(t, duration, map[string]string{
			"error.type=500,http.request.method=DELETE,http.response.status_code=500": "3/0",
		})
		wantEvents(t, span,
			"backoff.wait backoff.attempt=1,backoff.wait.duration=0.1,error.type=500,http.response.status_code=500",
			"backoff.wait backoff.attempt=2,backoff.wait.duration=0.1,error.type=500,http.response.status_code=500",
			"backoff.give_up backoff.attempts=3,backoff.reason=max_tries,error.type=500,http.response.status_code=500",
		)
	})
}

func TestPostNotReplayable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		base := answers(503)
		_, span := e.do(t, e.transport(base), "POST", "https://api.example.com/v1/orders", `{"item":1}`)
		if base.calls() != 1 {
			t.Fatalf("%d attempts, want 1", base.calls())
		}
		e.wantPoints(t, giveUps, map[string]string{"backoff.reason=not_replayable,http.request.method=POST": "1/1"})
		e.wantPoints(t, retries, nil)
		e.wantPoints(t, retryDelay, nil)
		wantEvents(t, span,
			"backoff.give_up backoff.attempts=1,backoff.reason=not_replayable,error.type=503,http.response.status_code=503")
	})
}

func TestServerAddresses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, backoffotel.WithServerAddresses("API.example.com", "files.example.com:8443", "[::1]"))
		tr := e.transport(answers(200))
		for _, url := range []string{
			"https://api.example.com/a",
			"http://api.example.com/b",
			"https://Api.Example.com:9000/c",
			"https://files.example.com:8443/d",
			"https://files.example.com/e", // not the port of the list
			"http://[::1]:8080/f",
			"https://other.example.com/g",
			"https://10.0.0.7/h",
		} {
			e.do(t, tr, "GET", url, "")
		}
		e.wantPoints(t, duration, map[string]string{
			"http.request.method=GET,http.response.status_code=200,server.address=api.example.com,server.port=443":    "1/0",
			"http.request.method=GET,http.response.status_code=200,server.address=api.example.com,server.port=80":     "1/0",
			"http.request.method=GET,http.response.status_code=200,server.address=api.example.com,server.port=9000":   "1/0",
			"http.request.method=GET,http.response.status_code=200,server.address=files.example.com,server.port=8443": "1/0",
			"http.request.method=GET,http.response.status_code=200,server.address=::1,server.port=8080":               "1/0",
			"http.request.method=GET,http.response.status_code=200,server.address=_OTHER":                             "3/0",
		})

		// Without the option, no address at all.
		e = newEnv(t)
		e.do(t, e.transport(answers(200)), "GET", "https://api.example.com/a", "")
		e.wantPoints(t, duration, map[string]string{"http.request.method=GET,http.response.status_code=200": "1/0"})
	})
}

func TestMethods(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		tr := e.transport(answers(200))
		for _, m := range []string{"GET", "", "get", "PURGE", "PATCH"} {
			e.do(t, tr, m, "https://api.example.com/", "")
		}
		e.wantPoints(t, duration, map[string]string{
			"http.request.method=GET,http.response.status_code=200":    "2/0",
			"http.request.method=_OTHER,http.response.status_code=200": "2/0",
			"http.request.method=PATCH,http.response.status_code=200":  "1/0",
		})
	})
}

// errTLS is a certificate error: not retried by default.
var errTLS = x509.UnknownAuthorityError{}

func TestErrorTypes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
		base := &script{outcomes: []outcome{
			{err: refused},
			{err: context.DeadlineExceeded},
			{code: 503},
			{err: errTLS}, // not retried: the call ends with it, without a give-up
		}}
		tr := e.transport(base)
		_, span := e.do(t, tr, "GET", "https://api.example.com/", "")
		if base.calls() != 4 {
			t.Fatalf("%d attempts, want 4", base.calls())
		}
		e.wantPoints(t, duration, map[string]string{
			"error.type=connection,http.request.method=GET":                        "1/0",
			"error.type=timeout,http.request.method=GET":                           "1/0",
			"error.type=503,http.request.method=GET,http.response.status_code=503": "1/0",
			"error.type=tls,http.request.method=GET":                               "1/0",
		})
		// The call was retried and ended on an error not retried: its
		// per-call histograms are recorded all the same.
		e.wantPoints(t, retries, map[string]string{"http.request.method=GET": "1/3"})
		e.wantPoints(t, retryDelay, map[string]string{"http.request.method=GET": "1/0.3"})
		e.wantPoints(t, giveUps, nil)
		wantEvents(t, span,
			"backoff.wait backoff.attempt=1,backoff.wait.duration=0.1,error.type=connection",
			"backoff.wait backoff.attempt=2,backoff.wait.duration=0.1,error.type=timeout",
			"backoff.wait backoff.attempt=3,backoff.wait.duration=0.1,error.type=503,http.response.status_code=503",
		)
	})
}

func TestRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		base := answers(429, 200)
		tr := e.transport(&retryAfter{base, "3"})
		_, span := e.do(t, tr, "GET", "https://api.example.com/", "")
		e.wantPoints(t, retryDelay, map[string]string{"http.request.method=GET": "1/3"})
		wantEvents(t, span,
			"backoff.wait backoff.attempt=1,backoff.retry_after.duration=3,backoff.wait.duration=3,error.type=429,http.response.status_code=429")
	})
}

// retryAfter sets Retry-After on the responses of status 429.
type retryAfter struct {
	rt    http.RoundTripper
	value string
}

func (r *retryAfter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.rt.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		resp.Header.Set("Retry-After", r.value)
	}
	return resp, err
}

func TestCanceledDuringWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		tr := e.transport(answers(503))
		tr.Wait = strategy.Constant{Interval: time.Second}
		ctx, span := e.tp.Tracer("test").Start(context.Background(), "call")
		ctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(1500*time.Millisecond, cancel) // during the second wait
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.example.com/", nil)
		if _, err := tr.RoundTrip(req); !errors.Is(err, backoff.ErrCanceled) {
			t.Errorf("error %v, want ErrCanceled", err)
		}
		span.End()
		e.wantPoints(t, giveUps, map[string]string{"backoff.reason=canceled,http.request.method=GET": "1/1"})
		e.wantPoints(t, retries, map[string]string{"http.request.method=GET": "1/1"})
		e.wantPoints(t, retryDelay, map[string]string{"http.request.method=GET": "1/1.5"})
		wantEvents(t, span.(sdktrace.ReadOnlySpan),
			"backoff.wait backoff.attempt=1,backoff.wait.duration=1,error.type=503,http.response.status_code=503",
			"backoff.wait backoff.attempt=2,backoff.wait.duration=1,error.type=503,http.response.status_code=503",
			"backoff.give_up backoff.attempts=2,backoff.reason=canceled",
		)
	})
}

// One Instrumentation serves concurrent calls of several Transports, its
// hooks joined with others'; the counts add up.
func TestConcurrent(t *testing.T) {
	e := newEnv(t, backoffotel.WithServerAddresses("a.example.com"))
	var mine atomic.Int64
	join := backoff.JoinTraces(&backoff.Trace{OnAttempt: func(backoff.Event) { mine.Add(1) }}, e.inst.Trace())
	const goroutines, calls = 8, 25
	var wg sync.WaitGroup
	for g := range goroutines {
		tr := &backoff.Transport{
			Base:        answers(503, 200),
			Wait:        strategy.Immediate,
			MaxAttempts: 2,
			Budget:      backoff.DisabledBudget(),
			Trace:       join,
		}
		host := []string{"a.example.com", "b.example.com"}[g%2]
		wg.Go(func() {
			for range calls {
				e.do(t, tr, "GET", "https://"+host+"/", "")
			}
		})
	}
	wg.Wait()
	// Each Transport's script answers its first call's first attempt with
	// 503: one retried call per Transport, 8 in all.
	e.wantPoints(t, retries, map[string]string{
		"http.request.method=GET,server.address=a.example.com,server.port=443": "4/4",
		"http.request.method=GET,server.address=_OTHER":                        "4/4",
	})
	var n uint64
	for _, p := range e.collect(t, duration) {
		n += p.count
	}
	if want := goroutines*calls + goroutines; n != uint64(want) || mine.Load() != int64(want) {
		t.Errorf("%d attempts measured, %d seen by the other hooks; want %d", n, mine.Load(), want)
	}
}

// slowFirst is a Base whose first attempt hangs until it is cancelled and
// whose later ones answer 200 after 5ms.
func slowFirst() http.RoundTripper {
	var n atomic.Int32
	return rtFunc(func(req *http.Request) (*http.Response, error) {
		if n.Add(1) == 1 {
			<-req.Context().Done()
			return nil, req.Context().Err()
		}
		time.Sleep(5 * time.Millisecond)
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
	})
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestHedged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		tr := e.transport(slowFirst())
		tr.Hedging = &backoff.Hedging{Delay: 20 * time.Millisecond}
		code, span := e.do(t, tr, "GET", "https://api.example.com/", "")
		if code != 200 {
			t.Fatalf("status %d, want 200", code)
		}
		// The winner's duration only; a hedge is no retry.
		e.wantPoints(t, duration, map[string]string{"http.request.method=GET,http.response.status_code=200": "1/0.005"})
		e.wantPoints(t, backoffotel.HedgesName, map[string]string{"http.request.method=GET": "1/1"})
		e.wantPoints(t, retries, nil)
		e.wantPoints(t, retryDelay, nil)
		wantEvents(t, span, "backoff.hedge backoff.attempt=2")
	})
}
