package metrics_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/metrics"
	"github.com/f99b3bbb/backoff/strategy"
)

// flakyBase is an in-memory RoundTripper that answers 503 to the first
// failures requests, then 200.
type flakyBase struct{ failures int }

func (f *flakyBase) RoundTrip(req *http.Request) (*http.Response, error) {
	code := http.StatusOK
	if f.failures > 0 {
		f.failures--
		code = http.StatusServiceUnavailable
	}
	return &http.Response{StatusCode: code, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

// printSeries prints the samples of the metrics named, without the HELP
// and TYPE lines.
func printSeries(c prometheus.Collector, names ...string) {
	text, err := testutil.CollectAndFormat(c, expfmt.TypeTextPlain, names...)
	if err != nil {
		fmt.Println(err)
		return
	}
	for line := range bytes.Lines(text) {
		if !bytes.HasPrefix(line, []byte("#")) {
			fmt.Print(string(line))
		}
	}
}

// A Transport reports its attempts, retries and give-ups to a registry of
// the program's choosing: the metrics' Trace is set in its Trace field when
// it is built.
func Example() {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		panic(err)
	}
	client := &http.Client{Transport: &backoff.Transport{
		Base:  &flakyBase{failures: 2}, // a real program leaves Base nil
		Wait:  strategy.Immediate,
		Trace: m.Trace(),
	}}

	resp, err := client.Get("http://api.example.com/v1/items?page=2")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)

	printSeries(m, "backoff_http_attempts_total", "backoff_http_retries_total")
	// Output:
	// 200
	// backoff_http_attempts_total{code="200",method="GET"} 1
	// backoff_http_attempts_total{code="503",method="GET"} 2
	// backoff_http_retries_total{method="GET",reason="status"} 2
}

// New registers the metrics on the registry given, with the options'
// names; they appear once used.
func ExampleNew() {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.WithNamespace("shop"), metrics.WithSubsystem("payments"))
	if err != nil {
		panic(err)
	}
	tr := &backoff.Transport{Base: &flakyBase{}, Trace: m.Trace()}
	req, _ := http.NewRequest("POST", "http://api.example.com/v1/charges", nil)
	if resp, err := tr.RoundTrip(req); err == nil {
		resp.Body.Close()
	}

	printSeries(reg, "shop_payments_http_attempts_total", "shop_payments_http_request_attempts")
	// Output:
	// shop_payments_http_attempts_total{code="200",method="POST"} 1
	// shop_payments_http_request_attempts_bucket{method="POST",le="1"} 1
	// shop_payments_http_request_attempts_bucket{method="POST",le="2"} 1
	// shop_payments_http_request_attempts_bucket{method="POST",le="3"} 1
	// shop_payments_http_request_attempts_bucket{method="POST",le="4"} 1
	// shop_payments_http_request_attempts_bucket{method="POST",le="5"} 1
	// shop_payments_http_request_attempts_bucket{method="POST",le="6"} 1
	// shop_payments_http_request_attempts_bucket{method="POST",le="8"} 1
	// shop_payments_http_request_attempts_bucket{method="POST",le="10"} 1
	// shop_payments_http_request_attempts_bucket{method="POST",le="15"} 1
	// shop_payments_http_request_attempts_bucket{method="POST",le="20"} 1
	// shop_payments_http_request_attempts_bucket{method="POST",le="+Inf"} 1
	// shop_payments_http_request_attempts_sum{method="POST"} 1
	// shop_payments_http_request_attempts_count{method="POST"} 1
}

// The metrics' Trace composes with the program's own hooks through
// backoff.JoinTraces, which call them in order; the Transport is never
// modified after it is built.
func ExampleMetrics_Trace() {
	m, err := metrics.New(prometheus.NewRegistry())
	if err != nil {
		panic(err)
	}
	mine := &backoff.Trace{
		OnBackoff: func(e backoff.Event) {
			fmt.Printf("attempt %d: %d, retrying\n", e.Attempt, e.Response.StatusCode)
		},
	}
	tr := &backoff.Transport{
		Base:  &flakyBase{failures: 1},
		Wait:  strategy.Immediate,
		Trace: backoff.JoinTraces(mine, m.Trace()),
	}
	req, _ := http.NewRequest("GET", "http://api.example.com/v1/items", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()

	printSeries(m, "backoff_http_attempts_total", "backoff_http_retries_total")
	// Output:
	// attempt 1: 503, retrying
	// backoff_http_attempts_total{code="200",method="GET"} 1
	// backoff_http_attempts_total{code="503",method="GET"} 1
	// backoff_http_retries_total{method="GET",reason="status"} 1
}

// ObserveBudget exports the state of a Transport's retry budget, read at
// each scrape: here the Transport's own budget, after one retry to an
// allow-listed host. The host has a bucket of its own until it earns the
// retry back.
func ExampleMetrics_ObserveBudget() {
	m, err := metrics.New(prometheus.NewRegistry(), metrics.WithHosts("api.example.com"))
	if err != nil {
		panic(err)
	}
	tr := &backoff.Transport{
		Base:  &flakyBase{failures: 1},
		Wait:  strategy.Immediate,
		Trace: m.Trace(),
	}
	m.ObserveBudget(tr.RetryBudget())

	req, _ := http.NewRequest("GET", "http://api.example.com/v1/items", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()

	printSeries(m, "backoff_http_retry_budget_tokens", "backoff_http_retry_budget_hosts", "backoff_http_retry_budget_refusing_hosts")
	// Output:
	// backoff_http_retry_budget_hosts 1
	// backoff_http_retry_budget_refusing_hosts 0
	// backoff_http_retry_budget_tokens{host="api.example.com"} 99
}

// Outside HTTP, a Policy's Name labels its metrics.
func ExampleInstrumentPolicy() {
	m, err := metrics.New(prometheus.NewRegistry())
	if err != nil {
		panic(err)
	}
	errBusy := errors.New("busy")
	p := metrics.InstrumentPolicy(m, &backoff.Policy[string]{
		Name:        "load_profile",
		Wait:        strategy.Immediate,
		MaxAttempts: 3,
	})

	calls := 0
	_, err = p.Do(context.Background(), func(context.Context) (string, error) {
		calls++
		return "", errBusy
	})
	fmt.Println(err)

	printSeries(m, "backoff_operation_attempts_total", "backoff_operation_retries_total", "backoff_operation_giveups_total")
	// Output:
	// backoff: giving up after 3 attempts (max_tries): last error: busy
	// backoff_operation_attempts_total{operation="load_profile",result="error"} 3
	// backoff_operation_giveups_total{operation="load_profile",reason="max_tries"} 1
	// backoff_operation_retries_total{operation="load_profile",reason="error"} 2
}

// getOnce sends one GET through a Transport with the Trace of m, to a base
// that fails failures times first.
func getOnce(m *metrics.Metrics, failures int) {
	tr := &backoff.Transport{Base: &flakyBase{failures: failures}, Wait: strategy.Immediate, Trace: m.Trace()}
	req, _ := http.NewRequest("GET", "http://api.example.com/v1/items", nil)
	if resp, err := tr.RoundTrip(req); err == nil {
		resp.Body.Close()
	}
}

// printLines prints the sample lines of the metrics named that contain
// part.
func printLines(c prometheus.Collector, part string, names ...string) {
	text, err := testutil.CollectAndFormat(c, expfmt.TypeTextPlain, names...)
	if err != nil {
		fmt.Println(err)
		return
	}
	for line := range bytes.Lines(text) {
		if !bytes.HasPrefix(line, []byte("#")) && bytes.Contains(line, []byte(part)) {
			fmt.Print(string(line))
		}
	}
}

// WithNamespace replaces the first component of every name, "backoff".
func ExampleWithNamespace() {
	m, err := metrics.New(prometheus.NewRegistry(), metrics.WithNamespace("shop"))
	if err != nil {
		panic(err)
	}
	getOnce(m, 0)
	printSeries(m, "shop_http_attempts_total")
	// Output:
	// shop_http_attempts_total{code="200",method="GET"} 1
}

// WithSubsystem adds a component after the namespace.
func ExampleWithSubsystem() {
	m, err := metrics.New(prometheus.NewRegistry(), metrics.WithSubsystem("search"))
	if err != nil {
		panic(err)
	}
	getOnce(m, 0)
	printSeries(m, "backoff_search_http_attempts_total")
	// Output:
	// backoff_search_http_attempts_total{code="200",method="GET"} 1
}

// WithConstLabels tells the clients that share a registry apart.
func ExampleWithConstLabels() {
	m, err := metrics.New(prometheus.NewRegistry(), metrics.WithConstLabels(prometheus.Labels{"service": "payments"}))
	if err != nil {
		panic(err)
	}
	getOnce(m, 1)
	printSeries(m, "backoff_http_attempts_total")
	// Output:
	// backoff_http_attempts_total{code="200",method="GET",service="payments"} 1
	// backoff_http_attempts_total{code="503",method="GET",service="payments"} 1
}

// WithWaitBuckets sets the buckets of the waits (and of Retry-After
// values), in seconds.
func ExampleWithWaitBuckets() {
	m, err := metrics.New(prometheus.NewRegistry(), metrics.WithWaitBuckets(0.1, 1))
	if err != nil {
		panic(err)
	}
	getOnce(m, 2) // two immediate retries
	printSeries(m, "backoff_http_wait_seconds")
	// Output:
	// backoff_http_wait_seconds_bucket{method="GET",le="0.1"} 2
	// backoff_http_wait_seconds_bucket{method="GET",le="1"} 2
	// backoff_http_wait_seconds_bucket{method="GET",le="+Inf"} 2
	// backoff_http_wait_seconds_sum{method="GET"} 0
	// backoff_http_wait_seconds_count{method="GET"} 2
}

// WithDurationBuckets sets the buckets of the whole-call durations that
// WithRequestDurations adds, in seconds.
func ExampleWithDurationBuckets() {
	m, err := metrics.New(prometheus.NewRegistry(), metrics.WithRequestDurations(), metrics.WithDurationBuckets(1, 10))
	if err != nil {
		panic(err)
	}
	getOnce(m, 0)
	printLines(m, "_bucket", "backoff_http_request_duration_seconds")
	// Output:
	// backoff_http_request_duration_seconds_bucket{method="GET",outcome="success",le="1"} 1
	// backoff_http_request_duration_seconds_bucket{method="GET",outcome="success",le="10"} 1
	// backoff_http_request_duration_seconds_bucket{method="GET",outcome="success",le="+Inf"} 1
}

// retryAfter600 answers every request with a 429 and Retry-After: 600.
type retryAfter600 struct{}

func (retryAfter600) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"600"}}, Body: http.NoBody, Request: r}, nil
}

// WithRetryAfterBuckets sets the buckets of the waits servers ask for;
// the default ones go past the Transport's cap, to an hour and more, so
// that a refused Retry-After still lands in a bucket of its own.
func ExampleWithRetryAfterBuckets() {
	m, err := metrics.New(prometheus.NewRegistry(), metrics.WithRetryAfterBuckets(1, 60, 3600))
	if err != nil {
		panic(err)
	}
	tr := &backoff.Transport{
		Base:  retryAfter600{},
		Trace: m.Trace(),
	}
	req, _ := http.NewRequest("GET", "http://api.example.com/", nil)
	if resp, err := tr.RoundTrip(req); err == nil {
		resp.Body.Close()
	}
	printLines(m, "_bucket", "backoff_http_retry_after_seconds")
	// Output:
	// backoff_http_retry_after_seconds_bucket{method="GET",outcome="refused",le="1"} 0
	// backoff_http_retry_after_seconds_bucket{method="GET",outcome="refused",le="60"} 0
	// backoff_http_retry_after_seconds_bucket{method="GET",outcome="refused",le="3600"} 1
	// backoff_http_retry_after_seconds_bucket{method="GET",outcome="refused",le="+Inf"} 1
}

// WithAttemptsBuckets sets the buckets of the attempts per call: here, the
// calls that needed no retry, one, or more.
func ExampleWithAttemptsBuckets() {
	m, err := metrics.New(prometheus.NewRegistry(), metrics.WithAttemptsBuckets(1, 2))
	if err != nil {
		panic(err)
	}
	getOnce(m, 0)
	getOnce(m, 1)
	getOnce(m, 2)
	printSeries(m, "backoff_http_request_attempts")
	// Output:
	// backoff_http_request_attempts_bucket{method="GET",le="1"} 1
	// backoff_http_request_attempts_bucket{method="GET",le="2"} 2
	// backoff_http_request_attempts_bucket{method="GET",le="+Inf"} 3
	// backoff_http_request_attempts_sum{method="GET"} 6
	// backoff_http_request_attempts_count{method="GET"} 3
}

// With WithHosts, the HTTP metrics tell the hosts of an allow-list apart;
// every other host is "other".
func ExampleWithHosts() {
	m, err := metrics.New(prometheus.NewRegistry(), metrics.WithHosts("api.example.com"))
	if err != nil {
		panic(err)
	}
	tr := &backoff.Transport{Base: &flakyBase{}, Trace: m.Trace()}
	for _, url := range []string{"http://api.example.com/a", "http://api.example.com:8080/b", "http://tracker.example.net/c"} {
		req, _ := http.NewRequest("GET", url, nil)
		if resp, err := tr.RoundTrip(req); err == nil {
			resp.Body.Close()
		}
	}
	printSeries(m, "backoff_http_attempts_total")
	// Output:
	// backoff_http_attempts_total{code="200",host="api.example.com",method="GET"} 2
	// backoff_http_attempts_total{code="200",host="other",method="GET"} 1
}

// Two parts of a program that each create their metrics on the same
// registry share them with WithReuse; without it, the second New fails.
func ExampleWithReuse() {
	reg := prometheus.NewRegistry()
	first, err := metrics.New(reg)
	if err != nil {
		panic(err)
	}

	_, err = metrics.New(reg)
	fmt.Println(strings.Contains(err.Error(), "already registered"), errors.As(err, new(prometheus.AlreadyRegisteredError)))

	second, err := metrics.New(reg, metrics.WithReuse())
	fmt.Println(second == first, err)
	// Output:
	// true true
	// true <nil>
}

// WithExemplars puts a trace ID on the histograms' observations: here
// read from a context value, as a real program reads it from its tracing
// library's span context.
func ExampleWithExemplars() {
	type traceID struct{}
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.WithRequestDurations(), metrics.WithExemplars(func(ctx context.Context) prometheus.Labels {
		if id, ok := ctx.Value(traceID{}).(string); ok {
			return prometheus.Labels{"trace_id": id}
		}
		return nil
	}))
	if err != nil {
		panic(err)
	}
	tr := &backoff.Transport{Base: &flakyBase{failures: 1}, Wait: strategy.Immediate, Trace: m.Trace()}
	ctx := context.WithValue(context.Background(), traceID{}, "4bf92f3577b34da6a3ce929d0e0e4736")
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://api.example.com/", nil)
	if resp, err := tr.RoundTrip(req); err == nil {
		resp.Body.Close()
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "backoff_http_request_duration_seconds" {
			continue
		}
		for _, b := range mf.GetMetric()[0].GetHistogram().GetBucket() {
			if ex := b.GetExemplar(); ex != nil {
				fmt.Println(ex.GetLabel()[0].GetName(), ex.GetLabel()[0].GetValue())
				break
			}
		}
	}
	// Output: trace_id 4bf92f3577b34da6a3ce929d0e0e4736
}

// WithAttemptDurations adds the duration of each attempt, by status code:
// the server's own latency, apart from the waits.
func ExampleWithAttemptDurations() {
	m, err := metrics.New(prometheus.NewRegistry(), metrics.WithAttemptDurations(), metrics.WithDurationBuckets(1))
	if err != nil {
		panic(err)
	}
	getOnce(m, 1)
	printLines(m, "_count", "backoff_http_attempt_duration_seconds")
	// Output:
	// backoff_http_attempt_duration_seconds_count{code="200",method="GET"} 1
	// backoff_http_attempt_duration_seconds_count{code="503",method="GET"} 1
}

// WithRequestDurations adds the duration of each request, waits included,
// by outcome; without it, the default metrics read no clock for a request
// that succeeds at its first attempt (its Trace sets UntimedFirstSuccess).
func ExampleWithRequestDurations() {
	for _, opts := range [][]metrics.Option{nil, {metrics.WithRequestDurations()}} {
		m, err := metrics.New(prometheus.NewRegistry(), opts...)
		if err != nil {
			panic(err)
		}
		getOnce(m, 0)
		fmt.Println("UntimedFirstSuccess:", m.Trace().UntimedFirstSuccess)
		printLines(m, "_count", "backoff_http_request_attempts", "backoff_http_request_duration_seconds")
	}
	// Output:
	// UntimedFirstSuccess: true
	// backoff_http_request_attempts_count{method="GET"} 1
	// UntimedFirstSuccess: false
	// backoff_http_request_attempts_count{method="GET"} 1
	// backoff_http_request_duration_seconds_count{method="GET",outcome="success"} 1
}
