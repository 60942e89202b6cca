package metrics_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/metrics"
	"github.com/f99b3bbb/backoff/strategy"
)

// canned is an in-memory Base that answers every request with the same 200
// response, without allocating: what remains is the cost of the Transport
// and of its handlers.
type canned struct{ resp *http.Response }

func (c canned) RoundTrip(*http.Request) (*http.Response, error) { return c.resp, nil }

func newCanned() canned {
	return canned{&http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody}}
}

// transportSetups are the Transports compared by the benchmarks and the
// allocation test: the same Transport without metrics, with the default
// ones, with them and a host label, and with every opt-in histogram.
var transportSetups = []struct {
	name string
	opts []metrics.Option // nil: no metrics
}{
	{"metrics=off", nil},
	{"metrics=on", []metrics.Option{}},
	{"metrics=on,hosts", []metrics.Option{metrics.WithHosts("api.example.com", "auth.example.com")}},
	{"metrics=all", []metrics.Option{metrics.WithRequestDurations(), metrics.WithAttemptDurations()}},
}

// policySetups are the Policies compared by BenchmarkPolicy: without
// metrics, with the default ones, and with the opt-in durations.
var policySetups = []struct {
	name string
	opts []metrics.Option // nil: no metrics
}{
	{"metrics=off", nil},
	{"metrics=on", []metrics.Option{}},
	{"metrics=all", []metrics.Option{metrics.WithRequestDurations()}},
}

func newBenchPolicy(tb testing.TB, opts []metrics.Option) *backoff.Policy[int] {
	tb.Helper()
	p := &backoff.Policy[int]{Name: "fetch"}
	if opts == nil {
		return p
	}
	m, err := metrics.New(prometheus.NewRegistry(), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return metrics.InstrumentPolicy(m, p)
}

func newBenchTransport(tb testing.TB, opts []metrics.Option) *backoff.Transport {
	tb.Helper()
	if opts == nil {
		return &backoff.Transport{Base: newCanned()}
	}
	m, err := metrics.New(prometheus.NewRegistry(), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tr := &backoff.Transport{Base: newCanned(), Trace: m.Trace()}
	m.ObserveBudget(tr.RetryBudget())
	return tr
}

func newBenchRequest(tb testing.TB) *http.Request {
	tb.Helper()
	req, err := http.NewRequest("GET", "http://api.example.com/v1/items?page=2", nil)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

// BenchmarkTransport measures a request that succeeds on its first try
// through a Transport with an in-memory Base, without and with metrics.
func BenchmarkTransport(b *testing.B) {
	for _, s := range transportSetups {
		b.Run(s.name, func(b *testing.B) {
			tr, req := newBenchTransport(b, s.opts), newBenchRequest(b)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tr.RoundTrip(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTransportParallel is BenchmarkTransport from GOMAXPROCS
// goroutines, which share the counters.
func BenchmarkTransportParallel(b *testing.B) {
	for _, s := range transportSetups {
		b.Run(s.name, func(b *testing.B) {
			tr, req := newBenchTransport(b, s.opts), newBenchRequest(b)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := tr.RoundTrip(req); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkPolicy measures a call of an operation that succeeds on its
// first try, without and with metrics.
func BenchmarkPolicy(b *testing.B) {
	op := func(context.Context) (int, error) { return 1, nil }
	for _, s := range policySetups {
		b.Run(s.name, func(b *testing.B) {
			p := newBenchPolicy(b, s.opts)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Do(ctx, op); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestFirstTryAllocs checks that metrics add no allocation to a request, or
// a call, that succeeds on its first try.
func TestFirstTryAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("measures allocations")
	}
	allocs := make([]float64, len(transportSetups))
	for i, s := range transportSetups {
		tr, req := newBenchTransport(t, s.opts), newBenchRequest(t)
		tr.RoundTrip(req) // resolves the series
		allocs[i] = testing.AllocsPerRun(1000, func() { tr.RoundTrip(req) })
	}
	for i := 1; i < len(allocs); i++ {
		if allocs[i] != allocs[0] {
			t.Errorf("Transport: %v allocations per request with %s, %v with %s", allocs[i], transportSetups[i].name, allocs[0], transportSetups[0].name)
		}
	}

	op := func(context.Context) (int, error) { return 1, nil }
	ctx := context.Background()
	allocs = allocs[:0]
	for _, s := range policySetups {
		p := newBenchPolicy(t, s.opts)
		p.Do(ctx, op) // resolves the series
		allocs = append(allocs, testing.AllocsPerRun(1000, func() { p.Do(ctx, op) }))
	}
	for i := 1; i < len(allocs); i++ {
		if allocs[i] != allocs[0] {
			t.Errorf("Policy: %v allocations per call with %s, %v with %s", allocs[i], policySetups[i].name, allocs[0], policySetups[0].name)
		}
	}
}

// always503 answers every request with a 503.
type always503 struct{}

func (always503) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

// BenchmarkBudgetScrape measures a scrape of the metrics of a Transport
// whose budget has seen 10, 10,000 or 1,000,000 distinct hosts, each
// retried once: it must cost the same.
func BenchmarkBudgetScrape(b *testing.B) {
	for _, hosts := range []int{10, 10_000, 1_000_000} {
		b.Run(fmt.Sprintf("hosts=%d", hosts), func(b *testing.B) {
			reg := prometheus.NewRegistry()
			m, err := metrics.New(reg, metrics.WithHosts("host1.example", "host2.example", "host3.example"))
			if err != nil {
				b.Fatal(err)
			}
			tr := &backoff.Transport{Base: always503{}, MaxAttempts: 2, Wait: strategy.Immediate, Trace: m.Trace()}
			m.ObserveBudget(tr.RetryBudget())
			for i := range hosts {
				req, _ := http.NewRequest("GET", fmt.Sprintf("http://host%d.example/", i), nil)
				resp, err := tr.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
			}
			runtime.GC() // not the setup's garbage
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := reg.Gather(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
