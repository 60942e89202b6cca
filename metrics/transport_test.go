package metrics_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/metrics"
	"github.com/f99b3bbb/backoff/strategy"
)

// head returns the HELP and TYPE lines of the metric name, which lacks the
// namespace backoff_.
func head(name, typ string) string {
	h, ok := metrics.Help[name]
	if !ok {
		panic("no metric " + name)
	}
	return "# HELP backoff_" + name + " " + h + "\n# TYPE backoff_" + name + " " + typ + "\n"
}

// small buckets keep the expected expositions short and stable.
var smallBuckets = []metrics.Option{
	metrics.WithWaitBuckets(1, 5),
	metrics.WithRetryAfterBuckets(1, 5, 3600),
	metrics.WithDurationBuckets(1, 5),
	metrics.WithAttemptsBuckets(1, 2, 3),
}

func newMetrics(t *testing.T, opts ...metrics.Option) *metrics.Metrics {
	t.Helper()
	m, err := metrics.New(prometheus.NewPedanticRegistry(), append(smallBuckets[:len(smallBuckets):len(smallBuckets)], opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// roundTrip sends a request through rt and closes the response's body.
func roundTrip(t *testing.T, rt http.RoundTripper, ctx context.Context, method, url, body string) (*http.Response, error) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rt.RoundTrip(req)
	if resp != nil {
		resp.Body.Close()
	}
	return resp, err
}

func compare(t *testing.T, m *metrics.Metrics, want string, names ...string) {
	t.Helper()
	if err := testutil.CollectAndCompare(m, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}

// gather registers c alone in a new pedantic registry and gathers it.
func gather(t *testing.T, c prometheus.Collector) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// total returns the sum of the values of a counter or gauge, or of the
// counts of a histogram, over all its series.
func total(t *testing.T, c prometheus.Collector, name string) float64 {
	t.Helper()
	var sum float64
	for _, mf := range gather(t, c) {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

// value returns the value of the counter or gauge name in the series with
// the label pairs given (name, value, name, value, …), or -1 if there is
// none.
func value(t *testing.T, c prometheus.Collector, name string, pairs ...string) float64 {
	t.Helper()
	for _, mf := range gather(t, c) {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(pairs); i += 2 {
				if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool {
					return l.GetName() == pairs[i] && l.GetValue() == pairs[i+1]
				}) {
					continue series
				}
			}
			return m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return -1
}

func lint(t *testing.T, m *metrics.Metrics) {
	t.Helper()
	problems, err := testutil.CollectAndLint(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

var (
	errRefused = &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	errCert    = &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}
)

func respond(code int) httpmock.Responder { return httpmock.NewStringResponder(code, "") }

func respondRetryAfter(code int, after string) httpmock.Responder {
	return respond(code).HeaderSet(http.Header{"Retry-After": {after}})
}

// TestTransportExposition drives a Transport through the usual outcomes of
// a request, in virtual time, and compares the whole exposition: retried statuses, a
// transport error retried until max_tries, a POST that may not be sent
// again, a status and an error that are not retried, a non-standard method.
func TestTransportExposition(t *testing.T) {
	m := newMetrics(t, metrics.WithRequestDurations())
	mock := httpmock.NewMockTransport()
	mock.RegisterResponder("GET", "http://api.test/flaky", respond(503).Then(respond(503)).Then(respond(200)))
	mock.RegisterResponder("GET", "http://api.test/down", respond(500))
	mock.RegisterResponder("GET", "http://api.test/refused", httpmock.NewErrorResponder(errRefused))
	mock.RegisterResponder("POST", "http://api.test/orders", respond(503))
	mock.RegisterResponder("GET", "http://api.test/missing", respond(404))
	mock.RegisterResponder("GET", "https://api.test/cert", httpmock.NewErrorResponder(errCert))
	mock.RegisterResponder("PURGE", "http://api.test/cache", respond(200))

	var userAttempts int
	tr := &backoff.Transport{
		Base:        mock,
		Wait:        strategy.Immediate,
		Jitter:      jitter.None,
		MaxAttempts: 3,
		Trace:       backoff.JoinTraces(&backoff.Trace{OnAttempt: func(backoff.Event) { userAttempts++ }}, m.Trace()),
		Budget:      &backoff.Budget{MinPerSecond: -1}, // levels that do not depend on the time
	}
	m.ObserveBudget(tr.RetryBudget())
	// In a bubble, time moves only when every goroutine waits: the
	// attempts take no time, and neither do the waits of strategy.Immediate.
	synctest.Test(t, func(t *testing.T) {
		for _, r := range []struct{ method, url, body string }{
			{"GET", "http://api.test/flaky", ""},
			{"GET", "http://api.test/down", ""},
			{"GET", "http://api.test/refused", ""},
			{"POST", "http://api.test/orders", `{"item":1}`},
			{"GET", "http://api.test/missing", ""},
			{"GET", "https://api.test/cert", ""},
			{"PURGE", "http://api.test/cache", ""},
		} {
			roundTrip(t, tr, context.Background(), r.method, r.url, r.body)
		}
	})
	if got, counted := mock.GetTotalCallCount(), total(t, m, "backoff_http_attempts_total"); got != 13 || userAttempts != 13 || counted != 13 {
		t.Errorf("the server saw %d requests, the user's handler %d attempts, the metrics %v; want 13", got, userAttempts, counted)
	}

	compare(t, m, head("http_attempts_total", "counter")+`
backoff_http_attempts_total{code="200",method="GET"} 1
backoff_http_attempts_total{code="404",method="GET"} 1
backoff_http_attempts_total{code="500",method="GET"} 3
backoff_http_attempts_total{code="503",method="GET"} 2
backoff_http_attempts_total{code="connection",method="GET"} 3
backoff_http_attempts_total{code="tls",method="GET"} 1
backoff_http_attempts_total{code="503",method="POST"} 1
backoff_http_attempts_total{code="200",method="other"} 1
`+head("http_giveups_total", "counter")+`
backoff_http_giveups_total{method="GET",reason="max_tries"} 2
`+head("http_not_replayable_total", "counter")+`
backoff_http_not_replayable_total{method="POST"} 1
`+head("http_request_attempts", "histogram")+`
backoff_http_request_attempts_bucket{method="GET",le="1"} 2
backoff_http_request_attempts_bucket{method="GET",le="2"} 2
backoff_http_request_attempts_bucket{method="GET",le="3"} 5
backoff_http_request_attempts_bucket{method="GET",le="+Inf"} 5
backoff_http_request_attempts_sum{method="GET"} 11
backoff_http_request_attempts_count{method="GET"} 5
backoff_http_request_attempts_bucket{method="POST",le="1"} 1
backoff_http_request_attempts_bucket{method="POST",le="2"} 1
backoff_http_request_attempts_bucket{method="POST",le="3"} 1
backoff_http_request_attempts_bucket{method="POST",le="+Inf"} 1
backoff_http_request_attempts_sum{method="POST"} 1
backoff_http_request_attempts_count{method="POST"} 1
backoff_http_request_attempts_bucket{method="other",le="1"} 1
backoff_http_request_attempts_bucket{method="other",le="2"} 1
backoff_http_request_attempts_bucket{method="other",le="3"} 1
backoff_http_request_attempts_bucket{method="other",le="+Inf"} 1
backoff_http_request_attempts_sum{method="other"} 1
backoff_http_request_attempts_count{method="other"} 1
`+head("http_request_duration_seconds", "histogram")+`
backoff_http_request_duration_seconds_bucket{method="GET",outcome="failure",le="1"} 4
backoff_http_request_duration_seconds_bucket{method="GET",outcome="failure",le="5"} 4
backoff_http_request_duration_seconds_bucket{method="GET",outcome="failure",le="+Inf"} 4
backoff_http_request_duration_seconds_sum{method="GET",outcome="failure"} 0
backoff_http_request_duration_seconds_count{method="GET",outcome="failure"} 4
backoff_http_request_duration_seconds_bucket{method="GET",outcome="success",le="1"} 1
backoff_http_request_duration_seconds_bucket{method="GET",outcome="success",le="5"} 1
backoff_http_request_duration_seconds_bucket{method="GET",outcome="success",le="+Inf"} 1
backoff_http_request_duration_seconds_sum{method="GET",outcome="success"} 0
backoff_http_request_duration_seconds_count{method="GET",outcome="success"} 1
backoff_http_request_duration_seconds_bucket{method="POST",outcome="failure",le="1"} 1
backoff_http_request_duration_seconds_bucket{method="POST",outcome="failure",le="5"} 1
backoff_http_request_duration_seconds_bucket{method="POST",outcome="failure",le="+Inf"} 1
backoff_http_request_duration_seconds_sum{method="POST",outcome="failure"} 0
backoff_http_request_duration_seconds_count{method="POST",outcome="failure"} 1
backoff_http_request_duration_seconds_bucket{method="other",outcome="success",le="1"} 1
backoff_http_request_duration_seconds_bucket{method="other",outcome="success",le="5"} 1
backoff_http_request_duration_seconds_bucket{method="other",outcome="success",le="+Inf"} 1
backoff_http_request_duration_seconds_sum{method="other",outcome="success"} 0
backoff_http_request_duration_seconds_count{method="other",outcome="success"} 1
`+head("http_request_retry_delay_seconds", "histogram")+`
backoff_http_request_retry_delay_seconds_bucket{method="GET",le="1"} 3
backoff_http_request_retry_delay_seconds_bucket{method="GET",le="5"} 3
backoff_http_request_retry_delay_seconds_bucket{method="GET",le="+Inf"} 3
backoff_http_request_retry_delay_seconds_sum{method="GET"} 0
backoff_http_request_retry_delay_seconds_count{method="GET"} 3
`+head("http_retries_total", "counter")+`
backoff_http_retries_total{method="GET",reason="status"} 4
backoff_http_retries_total{method="GET",reason="transport_error"} 2
`+head("http_retry_budget_hosts", "gauge")+`
backoff_http_retry_budget_hosts 1
`+head("http_retry_budget_refusing_hosts", "gauge")+`
backoff_http_retry_budget_refusing_hosts 0
`+head("http_wait_seconds", "histogram")+`
backoff_http_wait_seconds_bucket{method="GET",le="1"} 6
backoff_http_wait_seconds_bucket{method="GET",le="5"} 6
backoff_http_wait_seconds_bucket{method="GET",le="+Inf"} 6
backoff_http_wait_seconds_sum{method="GET"} 0
backoff_http_wait_seconds_count{method="GET"} 6
`+head("http_waits_in_flight", "gauge")+`
backoff_http_waits_in_flight{method="GET"} 0
`)
	lint(t, m)
}

// TestTransportRetryAfter follows Retry-After values honoured, refused
// and unused, with the host label: in virtual time, so that the waits
// (2s each, longer than the 1s asked for, so not spread) and the durations
// are exact.
func TestTransportRetryAfter(t *testing.T) {
	m := newMetrics(t, metrics.WithHosts("api.test"), metrics.WithRequestDurations())
	mock := httpmock.NewMockTransport()
	mock.RegisterResponder("GET", "http://api.test/busy", respondRetryAfter(429, "1").Then(respond(200)))
	mock.RegisterResponder("GET", "http://api.test/closed", respondRetryAfter(503, "3600"))
	mock.RegisterResponder("GET", "http://other.test:8080/last", respondRetryAfter(503, "1"))
	mock.RegisterNoResponder(respond(200))
	tr := &backoff.Transport{
		Base:        mock,
		Wait:        strategy.Constant{Interval: 2 * time.Second},
		Jitter:      jitter.None,
		MaxAttempts: 3,
		Trace:       m.Trace(),
		Budget:      &backoff.Budget{MinPerSecond: -1}, // levels that do not depend on the time
	}
	m.ObserveBudget(tr.RetryBudget())
	synctest.Test(t, func(t *testing.T) {
		for _, url := range []string{
			"http://api.test/busy",        // 429, wait 2s, 200
			"http://api.test/closed",      // 503 with 3600 > 60s: refused
			"http://other.test:8080/last", // 503 three times: max_tries
			"http://API.TEST:8443/ok",     // 200, host in the list
		} {
			roundTrip(t, tr, context.Background(), "GET", url, "")
		}
	})

	compare(t, m, head("http_attempts_total", "counter")+`
backoff_http_attempts_total{code="200",host="api.test",method="GET"} 2
backoff_http_attempts_total{code="429",host="api.test",method="GET"} 1
backoff_http_attempts_total{code="503",host="api.test",method="GET"} 1
backoff_http_attempts_total{code="503",host="other",method="GET"} 3
`+head("http_giveups_total", "counter")+`
backoff_http_giveups_total{host="api.test",method="GET",reason="retry_after"} 1
backoff_http_giveups_total{host="other",method="GET",reason="max_tries"} 1
`+head("http_request_attempts", "histogram")+`
backoff_http_request_attempts_bucket{host="api.test",method="GET",le="1"} 2
backoff_http_request_attempts_bucket{host="api.test",method="GET",le="2"} 3
backoff_http_request_attempts_bucket{host="api.test",method="GET",le="3"} 3
backoff_http_request_attempts_bucket{host="api.test",method="GET",le="+Inf"} 3
backoff_http_request_attempts_sum{host="api.test",method="GET"} 4
backoff_http_request_attempts_count{host="api.test",method="GET"} 3
backoff_http_request_attempts_bucket{host="other",method="GET",le="1"} 0
backoff_http_request_attempts_bucket{host="other",method="GET",le="2"} 0
backoff_http_request_attempts_bucket{host="other",method="GET",le="3"} 1
backoff_http_request_attempts_bucket{host="other",method="GET",le="+Inf"} 1
backoff_http_request_attempts_sum{host="other",method="GET"} 3
backoff_http_request_attempts_count{host="other",method="GET"} 1
`+head("http_request_duration_seconds", "histogram")+`
backoff_http_request_duration_seconds_bucket{host="api.test",method="GET",outcome="failure",le="1"} 1
backoff_http_request_duration_seconds_bucket{host="api.test",method="GET",outcome="failure",le="5"} 1
backoff_http_request_duration_seconds_bucket{host="api.test",method="GET",outcome="failure",le="+Inf"} 1
backoff_http_request_duration_seconds_sum{host="api.test",method="GET",outcome="failure"} 0
backoff_http_request_duration_seconds_count{host="api.test",method="GET",outcome="failure"} 1
backoff_http_request_duration_seconds_bucket{host="api.test",method="GET",outcome="success",le="1"} 1
backoff_http_request_duration_seconds_bucket{host="api.test",method="GET",outcome="success",le="5"} 2
backoff_http_request_duration_seconds_bucket{host="api.test",method="GET",outcome="success",le="+Inf"} 2
backoff_http_request_duration_seconds_sum{host="api.test",method="GET",outcome="success"} 2
backoff_http_request_duration_seconds_count{host="api.test",method="GET",outcome="success"} 2
backoff_http_request_duration_seconds_bucket{host="other",method="GET",outcome="failure",le="1"} 0
backoff_http_request_duration_seconds_bucket{host="other",method="GET",outcome="failure",le="5"} 1
backoff_http_request_duration_seconds_bucket{host="other",method="GET",outcome="failure",le="+Inf"} 1
backoff_http_request_duration_seconds_sum{host="other",method="GET",outcome="failure"} 4
backoff_http_request_duration_seconds_count{host="other",method="GET",outcome="failure"} 1
`+head("http_request_retry_delay_seconds", "histogram")+`
backoff_http_request_retry_delay_seconds_bucket{host="api.test",method="GET",le="1"} 0
backoff_http_request_retry_delay_seconds_bucket{host="api.test",method="GET",le="5"} 1
backoff_http_request_retry_delay_seconds_bucket{host="api.test",method="GET",le="+Inf"} 1
backoff_http_request_retry_delay_seconds_sum{host="api.test",method="GET"} 2
backoff_http_request_retry_delay_seconds_count{host="api.test",method="GET"} 1
backoff_http_request_retry_delay_seconds_bucket{host="other",method="GET",le="1"} 0
backoff_http_request_retry_delay_seconds_bucket{host="other",method="GET",le="5"} 1
backoff_http_request_retry_delay_seconds_bucket{host="other",method="GET",le="+Inf"} 1
backoff_http_request_retry_delay_seconds_sum{host="other",method="GET"} 4
backoff_http_request_retry_delay_seconds_count{host="other",method="GET"} 1
`+head("http_retries_total", "counter")+`
backoff_http_retries_total{host="api.test",method="GET",reason="retry_after"} 1
backoff_http_retries_total{host="other",method="GET",reason="retry_after"} 2
`+head("http_retry_after_seconds", "histogram")+`
backoff_http_retry_after_seconds_bucket{host="api.test",method="GET",outcome="honored",le="1"} 1
backoff_http_retry_after_seconds_bucket{host="api.test",method="GET",outcome="honored",le="5"} 1
backoff_http_retry_after_seconds_bucket{host="api.test",method="GET",outcome="honored",le="3600"} 1
backoff_http_retry_after_seconds_bucket{host="api.test",method="GET",outcome="honored",le="+Inf"} 1
backoff_http_retry_after_seconds_sum{host="api.test",method="GET",outcome="honored"} 1
backoff_http_retry_after_seconds_count{host="api.test",method="GET",outcome="honored"} 1
backoff_http_retry_after_seconds_bucket{host="api.test",method="GET",outcome="refused",le="1"} 0
backoff_http_retry_after_seconds_bucket{host="api.test",method="GET",outcome="refused",le="5"} 0
backoff_http_retry_after_seconds_bucket{host="api.test",method="GET",outcome="refused",le="3600"} 1
backoff_http_retry_after_seconds_bucket{host="api.test",method="GET",outcome="refused",le="+Inf"} 1
backoff_http_retry_after_seconds_sum{host="api.test",method="GET",outcome="refused"} 3600
backoff_http_retry_after_seconds_count{host="api.test",method="GET",outcome="refused"} 1
backoff_http_retry_after_seconds_bucket{host="other",method="GET",outcome="honored",le="1"} 2
backoff_http_retry_after_seconds_bucket{host="other",method="GET",outcome="honored",le="5"} 2
backoff_http_retry_after_seconds_bucket{host="other",method="GET",outcome="honored",le="3600"} 2
backoff_http_retry_after_seconds_bucket{host="other",method="GET",outcome="honored",le="+Inf"} 2
backoff_http_retry_after_seconds_sum{host="other",method="GET",outcome="honored"} 2
backoff_http_retry_after_seconds_count{host="other",method="GET",outcome="honored"} 2
backoff_http_retry_after_seconds_bucket{host="other",method="GET",outcome="unused",le="1"} 1
backoff_http_retry_after_seconds_bucket{host="other",method="GET",outcome="unused",le="5"} 1
backoff_http_retry_after_seconds_bucket{host="other",method="GET",outcome="unused",le="3600"} 1
backoff_http_retry_after_seconds_bucket{host="other",method="GET",outcome="unused",le="+Inf"} 1
backoff_http_retry_after_seconds_sum{host="other",method="GET",outcome="unused"} 1
backoff_http_retry_after_seconds_count{host="other",method="GET",outcome="unused"} 1
`+head("http_retry_budget_hosts", "gauge")+`
backoff_http_retry_budget_hosts 2
`+head("http_retry_budget_refusing_hosts", "gauge")+`
backoff_http_retry_budget_refusing_hosts 0
`+head("http_retry_budget_tokens", "gauge")+`
backoff_http_retry_budget_tokens{host="api.test"} 99.1
`+head("http_wait_seconds", "histogram")+`
backoff_http_wait_seconds_bucket{host="api.test",method="GET",le="1"} 0
backoff_http_wait_seconds_bucket{host="api.test",method="GET",le="5"} 1
backoff_http_wait_seconds_bucket{host="api.test",method="GET",le="+Inf"} 1
backoff_http_wait_seconds_sum{host="api.test",method="GET"} 2
backoff_http_wait_seconds_count{host="api.test",method="GET"} 1
backoff_http_wait_seconds_bucket{host="other",method="GET",le="1"} 0
backoff_http_wait_seconds_bucket{host="other",method="GET",le="5"} 2
backoff_http_wait_seconds_bucket{host="other",method="GET",le="+Inf"} 2
backoff_http_wait_seconds_sum{host="other",method="GET"} 4
backoff_http_wait_seconds_count{host="other",method="GET"} 2
`+head("http_waits_in_flight", "gauge")+`
backoff_http_waits_in_flight{host="api.test",method="GET"} 0
backoff_http_waits_in_flight{host="other",method="GET"} 0
`)
	lint(t, m)
}

// script is a Transport's Base that plays its steps in order, the last one
// again and again.
type script struct {
	mu    sync.Mutex
	steps []func(*http.Request) (*http.Response, error)
	n     int
}

func (s *script) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	step := s.steps[min(s.n, len(s.steps)-1)]
	s.n++
	s.mu.Unlock()
	return step(req)
}

func status(code int) func(*http.Request) (*http.Response, error) {
	return func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: code, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
	}
}

func fail(err error) func(*http.Request) (*http.Response, error) {
	return func(*http.Request) (*http.Response, error) { return nil, err }
}

// cancelThen cancels the request's context, as a caller would in the
// middle of an attempt, and then answers with the status code.
func cancelThen(cancel context.CancelFunc, code int) func(*http.Request) (*http.Response, error) {
	return func(req *http.Request) (*http.Response, error) {
		cancel()
		return status(code)(req)
	}
}

// deadlineCtx is a context without a deadline that reports
// context.DeadlineExceeded once done, as a context whose deadline passes
// during a wait does: the engine then gives up with reason deadline.
type deadlineCtx struct {
	context.Context
	done chan struct{}
}

func (c *deadlineCtx) Done() <-chan struct{} { return c.done }

func (c *deadlineCtx) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// TestWaitsInFlight checks that the gauge of waits counts a wait while it
// lasts and returns to 0 by every path out of it: the next attempt's
// success, its error not retried, its give-up, the context cancelled or
// past its deadline during the wait, the context cancelled during an
// attempt (before or after a wait).
func TestWaitsInFlight(t *testing.T) {
	m := newMetrics(t)
	gauge := func(t *testing.T, method string, want float64) {
		t.Helper()
		if got := value(t, m, "backoff_http_waits_in_flight", "method", method); got != want {
			t.Errorf("waits in flight for %s: %v, want %v", method, got, want)
		}
	}
	transport := func(steps ...func(*http.Request) (*http.Response, error)) *backoff.Transport {
		return &backoff.Transport{
			Base:        &script{steps: steps},
			Wait:        strategy.Constant{Interval: time.Minute},
			Jitter:      jitter.None,
			MaxAttempts: 3,
			Trace:       m.Trace(),
		}
	}
	// Each case uses its own method, hence its own gauge.
	t.Run("canceled during the wait", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			tr := transport(status(503))
			done := make(chan error)
			go func() {
				_, err := roundTrip(t, tr, ctx, "GET", "http://api.test/", "")
				done <- err
			}()
			synctest.Wait() // the call sleeps
			gauge(t, "GET", 1)
			cancel()
			if err := <-done; !errors.Is(err, backoff.ErrCanceled) {
				t.Errorf("err = %v, want ErrCanceled", err)
			}
			gauge(t, "GET", 0)
		})
	})
	t.Run("deadline during the wait", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx := &deadlineCtx{Context: context.Background(), done: make(chan struct{})}
			tr := transport(status(503))
			done := make(chan error)
			go func() {
				_, err := roundTrip(t, tr, ctx, "HEAD", "http://api.test/", "")
				done <- err
			}()
			synctest.Wait()
			gauge(t, "HEAD", 1)
			close(ctx.done)
			if err := <-done; !errors.Is(err, backoff.ErrDeadline) {
				t.Errorf("err = %v, want ErrDeadline", err)
			}
			gauge(t, "HEAD", 0)
		})
	})
	cases := []struct {
		method string
		steps  func(cancel context.CancelFunc) []func(*http.Request) (*http.Response, error)
		reason backoff.Reason // of the give-up, if any
	}{
		{"PUT", func(context.CancelFunc) []func(*http.Request) (*http.Response, error) {
			return []func(*http.Request) (*http.Response, error){status(503), status(200)}
		}, ""},
		{"DELETE", func(context.CancelFunc) []func(*http.Request) (*http.Response, error) {
			return []func(*http.Request) (*http.Response, error){status(503), fail(errCert)}
		}, ""},
		{"OPTIONS", func(context.CancelFunc) []func(*http.Request) (*http.Response, error) {
			return []func(*http.Request) (*http.Response, error){status(503)}
		}, backoff.ErrMaxAttempts},
		{"TRACE", func(cancel context.CancelFunc) []func(*http.Request) (*http.Response, error) {
			return []func(*http.Request) (*http.Response, error){status(503), cancelThen(cancel, 503)}
		}, backoff.ErrCanceled},
		{"PATCH", func(cancel context.CancelFunc) []func(*http.Request) (*http.Response, error) {
			return []func(*http.Request) (*http.Response, error){cancelThen(cancel, 503)}
		}, backoff.ErrCanceled},
	}
	for _, c := range cases {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// PATCH is not idempotent: declare it so, to reach the
			// context's check rather than give up as not replayable.
			ctx = backoff.WithIdempotent(ctx, true)
			resp, err := roundTrip(t, transport(c.steps(cancel)...), ctx, c.method, "http://api.test/", "")
			if c.reason != "" && resp == nil && !errors.Is(err, c.reason) {
				t.Errorf("%s: err = %v, want %v", c.method, err, c.reason)
			}
			gauge(t, c.method, 0)
		})
	}
	compare(t, m, head("http_giveups_total", "counter")+`
backoff_http_giveups_total{method="GET",reason="canceled"} 1
backoff_http_giveups_total{method="HEAD",reason="deadline"} 1
backoff_http_giveups_total{method="OPTIONS",reason="max_tries"} 1
backoff_http_giveups_total{method="PATCH",reason="canceled"} 1
backoff_http_giveups_total{method="TRACE",reason="canceled"} 1
`, "backoff_http_giveups_total")
	if n := total(t, m, "backoff_http_waits_in_flight"); n != 0 {
		t.Errorf("waits in flight: %v, want 0", n)
	}
	// Every call ended exactly once.
	if n := total(t, m, "backoff_http_request_attempts"); n != 7 {
		t.Errorf("%v requests' attempts observed, want 7", n)
	}
}
