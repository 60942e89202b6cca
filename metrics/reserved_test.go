package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/metrics"
	"github.com/f99b3bbb/backoff/strategy"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestReservedConstLabels: a constant label that Prometheus reserves, that
// is not a valid label name, or that is named like a label of the metrics
// themselves is refused by New, never met by a panic at the first request.
func TestReservedConstLabels(t *testing.T) {
	for _, name := range []string{
		"le", "quantile", // histogram and summary labels
		"__name__", "__x", "__", // reserved prefix
		"", "1st", "a-b", "a.b", "é", // not label names
		"method", "host", "code", "reason", "outcome", "operation", "result", // the metrics' own
	} {
		for _, opts := range [][]metrics.Option{nil, {metrics.WithHosts("api.test")}} {
			opts := append(opts, metrics.WithConstLabels(prometheus.Labels{name: "v"}))
			reg := prometheus.NewPedanticRegistry()
			var m *metrics.Metrics
			var err error
			noPanic(t, "New", func() { m, err = metrics.New(reg, opts...) })
			if err == nil {
				exercise(t, m) // the panic the error prevents, reported as a failure
				t.Errorf("New with the constant label %q = nil error; want an error naming it", name)
				continue
			}
			if !strings.Contains(err.Error(), `"`+name+`"`) {
				t.Errorf("New with the constant label %q = %v; want an error naming it", name, err)
			}
		}
	}

	// Ordinary names are accepted, and the metrics work.
	for _, name := range []string{"service", "client", "_x", "Le", "methods", "x__y"} {
		m, err := metrics.New(prometheus.NewPedanticRegistry(), metrics.WithHosts("api.test"), metrics.WithConstLabels(prometheus.Labels{name: "v"}))
		if err != nil {
			t.Errorf("New with the constant label %q: %v", name, err)
			continue
		}
		exercise(t, m)
	}
}

// exercise sends a request through m's instrumentation, and runs a Policy
// call, both retried once, then collects the metrics.
func exercise(t *testing.T, m *metrics.Metrics) {
	t.Helper()
	n := 0
	tr := &backoff.Transport{
		Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			n++
			code := 200
			if n == 1 {
				code = 503
			}
			return &http.Response{StatusCode: code, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
		}),
		Wait:  strategy.Immediate,
		Trace: m.Trace(),
	}
	m.ObserveBudget(tr.RetryBudget())
	p := metrics.InstrumentPolicy(m, &backoff.Policy[int]{Name: "op", Wait: strategy.Immediate})
	noPanic(t, "a request", func() {
		req, _ := http.NewRequest("GET", "http://api.test/", nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		tries := 0
		p.Do(context.Background(), func(context.Context) (int, error) {
			if tries++; tries == 1 {
				return 0, errors.New("boom")
			}
			return 1, nil
		})
		reg := prometheus.NewPedanticRegistry()
		if err := reg.Register(m); err != nil {
			t.Fatalf("Register: %v", err)
		}
		if _, err := reg.Gather(); err != nil {
			t.Errorf("Gather: %v", err)
		}
	})
}

func noPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s panicked: %v\n%s", what, r, debug.Stack())
		}
	}()
	f()
}
