package bench

import (
	"context"
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/metrics"
	"github.com/f99b3bbb/backoff/strategy"
)

// instrumented returns a metrics.Metrics with opts on a registry of its
// own.
func instrumented(b *testing.B, opts ...metrics.Option) *metrics.Metrics {
	m, err := metrics.New(prometheus.NewRegistry(), opts...)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkInstrumentedTransport: a first-try success over an in-memory
// base, through the Transport without metrics, with the default metrics,
// with a host label, and with every opt-in histogram, beside the peers'
// RoundTrippers (which have no metrics of their own).
func BenchmarkInstrumentedTransport(b *testing.B) {
	layer := func(opts ...metrics.Option) func(*testing.B) http.RoundTripper {
		return func(b *testing.B) http.RoundTripper {
			tr := &backoff.Transport{Base: &memTransport{}}
			if opts != nil {
				m := instrumented(b, opts...)
				tr.Trace = m.Trace()
				m.ObserveBudget(tr.RetryBudget())
			}
			return tr
		}
	}
	for _, c := range []struct {
		name string
		make func(*testing.B) http.RoundTripper
	}{
		{"backoff", layer()},
		{"backoff-metrics", layer([]metrics.Option{}...)},
		{"backoff-metrics-hosts", layer(metrics.WithHosts("bench.invalid"))},
		{"backoff-metrics-all", layer(metrics.WithRequestDurations(), metrics.WithAttemptDurations())},
		{"retryablehttp", func(*testing.B) http.RoundTripper { return layers[2].make(&memTransport{}, firstWait) }},
		{"failsafe", func(*testing.B) http.RoundTripper { return layers[3].make(&memTransport{}, firstWait) }},
	} {
		b.Run(c.name, func(b *testing.B) { benchLayer(b, c.make(b), "http://bench.invalid/") })
	}
}

// BenchmarkInstrumentedPolicy: a first-try success of Policy.Do without
// metrics, with the default metrics (InstrumentPolicy) and with the
// opt-in durations, beside the peers' engines.
func BenchmarkInstrumentedPolicy(b *testing.B) {
	policy := func(opts ...metrics.Option) func(*testing.B) func(context.Context) (int, error) {
		return func(b *testing.B) func(context.Context) (int, error) {
			f := &flaky{err: errTransient}
			p := &backoff.Policy[int]{Name: "op", Wait: strategy.Immediate, Jitter: jitter.None, MaxAttempts: maxAttempts}
			if opts != nil {
				p = metrics.InstrumentPolicy(instrumented(b, opts...), p)
			}
			op := f.tryCtx
			return func(ctx context.Context) (int, error) { f.reset(); return p.Do(ctx, op) }
		}
	}
	cases := []struct {
		name string
		make func(*testing.B) func(context.Context) (int, error)
	}{
		{"backoff", policy()},
		{"backoff-metrics", policy([]metrics.Option{}...)},
		{"backoff-metrics-all", policy(metrics.WithRequestDurations())},
	}
	for _, e := range engines[1:] {
		cases = append(cases, struct {
			name string
			make func(*testing.B) func(context.Context) (int, error)
		}{e.name, func(*testing.B) func(context.Context) (int, error) {
			f := &flaky{}
			call := e.setup(f)
			return func(ctx context.Context) (int, error) { f.reset(); return call(ctx) }
		}})
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			call, ctx := c.make(b), context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if v, err := call(ctx); err != nil || v != want {
					b.Fatal(v, err)
				}
			}
		})
	}
}
