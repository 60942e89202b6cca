package backoffotel_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/f99b3bbb/backoff"
	backoffotel "github.com/f99b3bbb/backoff/otel"
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

// printMetrics prints the data points of the metrics of the package, by
// name and attributes, with their counts (and the sums of the retries).
func printMetrics(reader sdkmetric.Reader) {
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		fmt.Println(err)
		return
	}
	var lines []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					lines = append(lines, fmt.Sprintf("%s{%s} count=%d", m.Name, attrs(p.Attributes), p.Count))
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					lines = append(lines, fmt.Sprintf("%s{%s} count=%d sum=%d", m.Name, attrs(p.Attributes), p.Count, p.Sum))
				}
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					lines = append(lines, fmt.Sprintf("%s{%s} %d", m.Name, attrs(p.Attributes), p.Value))
				}
			}
		}
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
}

// A Transport reports its attempts, its retries and its waits to the
// providers given: here the SDK's, with an in-memory reader and span
// recorder; a real program passes those it exports with.
func Example() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))

	inst, err := backoffotel.New(
		backoffotel.WithMeterProvider(mp),
		backoffotel.WithTracerProvider(tp),
		backoffotel.WithServerAddresses("api.example.com"),
	)
	if err != nil {
		panic(err)
	}
	client := &http.Client{Transport: &backoff.Transport{
		Base:  &flakyBase{failures: 2}, // a real program leaves Base nil
		Wait:  strategy.Immediate,
		Trace: inst.Trace(),
	}}

	ctx, span := tp.Tracer("example").Start(context.Background(), "list items")
	req, err := http.NewRequestWithContext(ctx, "GET", "https://api.example.com/v1/items", nil)
	if err != nil {
		panic(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	span.End()
	fmt.Println(resp.StatusCode)

	printMetrics(reader)
	for _, ev := range spans.Ended()[0].Events() {
		fmt.Println(ev.Name, attrs(attribute.NewSet(ev.Attributes...)))
	}
	// Output:
	// 200
	// backoff.http.client.call.retries{http.request.method=GET,server.address=api.example.com,server.port=443} count=1 sum=2
	// backoff.http.client.call.retry_delay{http.request.method=GET,server.address=api.example.com,server.port=443} count=1
	// http.client.request.duration{error.type=503,http.request.method=GET,http.response.status_code=503,server.address=api.example.com,server.port=443} count=2
	// http.client.request.duration{http.request.method=GET,http.response.status_code=200,server.address=api.example.com,server.port=443} count=1
	// backoff.wait backoff.attempt=1,backoff.wait.duration=0,error.type=503,http.response.status_code=503
	// backoff.wait backoff.attempt=2,backoff.wait.duration=0,error.type=503,http.response.status_code=503
}

// otelhttp's Transport below the backoff.Transport gives each attempt a
// span of its own; Base, below otelhttp, sets the resend count of the
// attempts after the first, read from the attempt's context.
func ExampleInstrumentation_Base() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	inst, err := backoffotel.New(backoffotel.WithTracerProvider(tp))
	if err != nil {
		panic(err)
	}
	client := &http.Client{Transport: &backoff.Transport{
		Wait:  strategy.Immediate,
		Trace: inst.Trace(),
		Base: otelhttp.NewTransport(
			inst.Base(&flakyBase{failures: 2}), // a real program passes nil
			otelhttp.WithTracerProvider(tp),
			otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		),
	}}

	ctx, span := tp.Tracer("example").Start(context.Background(), "list items")
	req, err := http.NewRequestWithContext(ctx, "GET", "https://api.example.com/v1/items", nil)
	if err != nil {
		panic(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	span.End()

	for _, s := range spans.Ended() {
		resend := "-"
		for _, a := range s.Attributes() {
			if a.Key == "http.request.resend_count" {
				resend = a.Value.String()
			}
		}
		fmt.Printf("%s %s resend_count=%s events=%d\n", s.Name(), s.SpanKind(), resend, len(s.Events()))
	}
	// Output:
	// HTTP GET client resend_count=- events=0
	// HTTP GET client resend_count=1 events=0
	// HTTP GET client resend_count=2 events=0
	// list items internal resend_count=- events=2
}
