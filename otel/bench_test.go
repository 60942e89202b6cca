package backoffotel_test

import (
	"context"
	"net/http"
	"testing"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/f99b3bbb/backoff"
	backoffotel "github.com/f99b3bbb/backoff/otel"
	"github.com/f99b3bbb/backoff/strategy"
)

// okBase answers every request with a 200 of its own, after codes fails
// with 503 every other call when flaky is set.
type okBase struct {
	flaky bool
	n     int
}

func (b *okBase) RoundTrip(req *http.Request) (*http.Response, error) {
	code := http.StatusOK
	if b.flaky {
		b.n++
		if b.n%2 == 1 {
			code = http.StatusServiceUnavailable
		}
	}
	return &http.Response{StatusCode: code, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

// benchSetups are the Instrumentations compared: none (without and with a
// recording span around each call), one with the no-op provider given
// explicitly, one with the SDK's meter provider, and one with both SDK
// providers and a recording span around each call.
func benchSetups(b *testing.B) []struct {
	name string
	inst *backoffotel.Instrumentation
	span bool
	tp   *sdktrace.TracerProvider
} {
	b.Helper()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tracetest.NewSpanRecorder()))
	b.Cleanup(func() {
		mp.Shutdown(context.Background())
		tp.Shutdown(context.Background())
	})
	mk := func(opts ...backoffotel.Option) *backoffotel.Instrumentation {
		inst, err := backoffotel.New(opts...)
		if err != nil {
			b.Fatal(err)
		}
		return inst
	}
	return []struct {
		name string
		inst *backoffotel.Instrumentation
		span bool
		tp   *sdktrace.TracerProvider
	}{
		{"none", nil, false, nil},
		{"none+span", nil, true, tp},
		{"noop", mk(backoffotel.WithMeterProvider(metricnoop.NewMeterProvider())), false, nil},
		{"sdk-metrics", mk(backoffotel.WithMeterProvider(mp), backoffotel.WithServerAddresses("api.example.com")), false, nil},
		{"sdk-metrics+spans", mk(backoffotel.WithMeterProvider(mp), backoffotel.WithTracerProvider(tp), backoffotel.WithServerAddresses("api.example.com")), true, tp},
	}
}

// BenchmarkTransport measures a call through a Transport: "ok", a success
// at the first attempt, and "retried", a 503 then a 200 with no wait. The
// "none" setups are the baselines: "none+span" for "sdk-metrics+spans",
// which also starts and ends a span per call, "none" for the others.
func BenchmarkTransport(b *testing.B) {
	for _, call := range []struct {
		name  string
		flaky bool
	}{{"ok", false}, {"retried", true}} {
		for _, s := range benchSetups(b) {
			b.Run(call.name+"/"+s.name, func(b *testing.B) {
				tr := &backoff.Transport{
					Base:   &okBase{flaky: call.flaky},
					Wait:   strategy.Immediate,
					Budget: backoff.DisabledBudget(),
					Trace:  s.inst.Trace(),
				}
				req, _ := http.NewRequest("GET", "https://api.example.com/v1/items", nil)
				b.ReportAllocs()
				for b.Loop() {
					r := req
					var end func()
					if s.span {
						ctx, span := s.tp.Tracer("bench").Start(context.Background(), "call")
						r = req.WithContext(ctx)
						end = func() { span.End() }
					}
					resp, err := tr.RoundTrip(r)
					if err != nil {
						b.Fatal(err)
					}
					resp.Body.Close()
					if end != nil {
						end()
					}
				}
			})
		}
	}
}

// TestAllocsAdded reports the allocations the instrumentation adds to a
// call that succeeds at its first attempt and to one retried once, with
// the SDK's meter provider. It asserts nothing: the SDK's own allocations
// may change with its version.
func TestAllocsAdded(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement only")
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	inst, err := backoffotel.New(backoffotel.WithMeterProvider(mp), backoffotel.WithServerAddresses("api.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "https://api.example.com/v1/items", nil)
	allocs := func(trace *backoff.Trace, flaky bool) float64 {
		tr := &backoff.Transport{Base: &okBase{flaky: flaky}, Wait: strategy.Immediate, Budget: backoff.DisabledBudget(), Trace: trace}
		return testing.AllocsPerRun(200, func() {
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		})
	}
	for _, flaky := range []bool{false, true} {
		base, with := allocs(nil, flaky), allocs(inst.Trace(), flaky)
		t.Logf("retried %v: %v allocs per call without, %v with the SDK's metrics (%+v added)", flaky, base, with, with-base)
	}
}
