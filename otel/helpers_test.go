package backoffotel_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	backoffotel "github.com/f99b3bbb/backoff/otel"
)

// outcome is what a scripted attempt returns: a response of status code,
// or err.
type outcome struct {
	code int
	err  error
}

// script is a RoundTripper that answers each request with the next of its
// outcomes, the last one repeated, after taking took. It remembers the
// requests it saw.
type script struct {
	took     time.Duration
	outcomes []outcome

	mu   sync.Mutex
	n    int
	seen []*http.Request
}

func answers(codes ...int) *script {
	s := &script{}
	for _, c := range codes {
		s.outcomes = append(s.outcomes, outcome{code: c})
	}
	return s
}

func (s *script) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	s.mu.Lock()
	o := s.outcomes[min(s.n, len(s.outcomes)-1)]
	s.n++
	s.seen = append(s.seen, req)
	s.mu.Unlock()
	if s.took > 0 {
		time.Sleep(s.took)
	}
	if o.err != nil {
		return nil, o.err
	}
	return &http.Response{
		StatusCode: o.code,
		Status:     fmt.Sprintf("%d %s", o.code, http.StatusText(o.code)),
		Header:     http.Header{},
		Body:       http.NoBody,
		Request:    req,
	}, nil
}

// calls returns the number of requests s answered.
func (s *script) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// env is an Instrumentation over the SDK's in-memory reader and span
// recorder.
type env struct {
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	inst   *backoffotel.Instrumentation
}

func newEnv(t *testing.T, opts ...backoffotel.Option) *env {
	t.Helper()
	e := &env{reader: sdkmetric.NewManualReader(), spans: tracetest.NewSpanRecorder()}
	e.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(e.reader))
	e.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(e.spans))
	all := append([]backoffotel.Option{backoffotel.WithMeterProvider(e.mp), backoffotel.WithTracerProvider(e.tp)}, opts...)
	inst, err := backoffotel.New(all...)
	if err != nil {
		t.Fatal(err)
	}
	e.inst = inst
	return e
}

// do sends a request through rt under a span of its own, which it ends,
// and returns the response's status (0 for an error) and the span.
func (e *env) do(t *testing.T, rt http.RoundTripper, method, url, body string) (int, sdktrace.ReadOnlySpan) {
	t.Helper()
	ctx, span := e.tp.Tracer("test").Start(context.Background(), "call")
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	code := 0
	resp, err := rt.RoundTrip(req)
	if err == nil {
		code = resp.StatusCode
		resp.Body.Close()
	}
	span.End()
	return code, span.(sdktrace.ReadOnlySpan)
}

// point is a data point: its count (the value, for a counter) and sum.
type point struct {
	count uint64
	sum   float64
}

func (p point) String() string { return fmt.Sprintf("%d/%g", p.count, p.sum) }

// collect returns the data points of the metric name by attribute set,
// written as "k=v,k=v" in the order of the keys.
func (e *env) collect(t *testing.T, name string) map[string]point {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := e.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	pts := make(map[string]point)
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != backoffotel.ScopeName {
			continue
		}
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			switch d := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					pts[attrs(p.Attributes)] = point{p.Count, p.Sum}
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					pts[attrs(p.Attributes)] = point{p.Count, float64(p.Sum)}
				}
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					pts[attrs(p.Attributes)] = point{uint64(p.Value), float64(p.Value)}
				}
			default:
				t.Fatalf("%s: unexpected data %T", name, m.Data)
			}
		}
	}
	return pts
}

func attrs(s attribute.Set) string {
	var kv []string
	for it := s.Iter(); it.Next(); {
		a := it.Attribute()
		kv = append(kv, string(a.Key)+"="+a.Value.String())
	}
	return strings.Join(kv, ",")
}

// wantPoints checks the data points of name.
func (e *env) wantPoints(t *testing.T, name string, want map[string]string) {
	t.Helper()
	got := e.collect(t, name)
	for k, w := range want {
		if g, ok := got[k]; !ok || g.String() != w {
			t.Errorf("%s{%s} = %v (present %v), want %s", name, k, g, ok, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s{%s} = %v, not expected", name, k, g)
		}
	}
}

// events returns the events of span, each written as its name and its
// attributes, "name k=v,k=v".
func events(span sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, ev := range span.Events() {
		out = append(out, ev.Name+" "+attrs(attribute.NewSet(ev.Attributes...)))
	}
	return out
}

// wantEvents checks the events of span.
func wantEvents(t *testing.T, span sdktrace.ReadOnlySpan, want ...string) {
	t.Helper()
	if got := events(span); !slices.Equal(got, want) {
		t.Errorf("span events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// childSpans returns the spans recorded under parent, in the order they
// ended.
func (e *env) childSpans(parent trace.SpanContext) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range e.spans.Ended() {
		if s.Parent().SpanID() == parent.SpanID() && s.Parent().TraceID() == parent.TraceID() {
			out = append(out, s)
		}
	}
	return out
}
