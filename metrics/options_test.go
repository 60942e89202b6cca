package metrics_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/metrics"
	"github.com/f99b3bbb/backoff/strategy"
)

type traceKey struct{}

// traceExemplar is the exemplar function of the tests: the trace ID a
// context carries, if any.
func traceExemplar(ctx context.Context) prometheus.Labels {
	id, _ := ctx.Value(traceKey{}).(string)
	if id == "" {
		return nil
	}
	return prometheus.Labels{"trace_id": id}
}

// exemplars returns, per histogram of the HTTP metrics, the trace IDs of
// the exemplars of its buckets.
func exemplars(t *testing.T, reg *prometheus.Registry) map[string][]string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[string][]string)
	for _, mf := range mfs {
		if mf.GetType() != dto.MetricType_HISTOGRAM {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, b := range m.GetHistogram().GetBucket() {
				for _, l := range b.GetExemplar().GetLabel() {
					got[mf.GetName()] = append(got[mf.GetName()], l.GetName()+"="+l.GetValue())
				}
			}
		}
	}
	return got
}

func TestExemplars(t *testing.T) {
	tests := []struct {
		name     string
		exemplar func(context.Context) prometheus.Labels
		traceID  string
		want     map[string]int // histograms with exemplars, and how many
	}{
		{"a trace in the context", traceExemplar, "4bf92f3577b34da6a3ce929d0e0e4736", map[string]int{
			"backoff_http_request_duration_seconds":    1,
			"backoff_http_request_retry_delay_seconds": 1,
			"backoff_http_wait_seconds":                1, // the last exemplar of a bucket wins
		}},
		{"no trace", traceExemplar, "", map[string]int{}},
		{"no WithExemplars", nil, "4bf92f3577b34da6a3ce929d0e0e4736", map[string]int{}},
		{"labels an exemplar may not carry", func(context.Context) prometheus.Labels {
			return prometheus.Labels{"trace_id": strings.Repeat("x", 200)}
		}, "", map[string]int{}},
		{"an invalid label name", func(context.Context) prometheus.Labels {
			return prometheus.Labels{"trace-id": "1"}
		}, "", map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				reg := prometheus.NewPedanticRegistry()
				m, err := metrics.New(reg, metrics.WithExemplars(tt.exemplar))
				if err != nil {
					t.Fatal(err)
				}
				tr := &backoff.Transport{Base: &flakyBase{failures: 2}, Wait: strategy.Immediate, Trace: m.Trace()}
				ctx := context.WithValue(context.Background(), traceKey{}, tt.traceID)
				req, _ := http.NewRequestWithContext(ctx, "GET", "http://api.example.com/", nil)
				resp, err := tr.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				got := exemplars(t, reg)
				for name, n := range tt.want {
					if len(got[name]) != n || got[name][0] != "trace_id="+tt.traceID {
						t.Errorf("%s: exemplars %v, want %d with trace_id=%s", name, got[name], n, tt.traceID)
					}
				}
				for name, ex := range got {
					if _, ok := tt.want[name]; !ok {
						t.Errorf("%s: exemplars %v, want none", name, ex)
					}
				}
			})
		})
	}
}

// TestAttemptDurations checks the per-attempt histogram of
// WithAttemptDurations, and that it is absent without.
func TestAttemptDurations(t *testing.T) {
	slow := func(codes ...int) http.RoundTripper {
		n := 0
		return rtFunc(func(r *http.Request) (*http.Response, error) {
			time.Sleep(100 * time.Millisecond)
			code := codes[min(n, len(codes)-1)]
			n++
			return &http.Response{StatusCode: code, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
		})
	}
	synctest.Test(t, func(t *testing.T) {
		m := newMetrics(t, metrics.WithAttemptDurations())
		tr := &backoff.Transport{Base: slow(503, 200), Wait: strategy.Constant{Interval: 2 * time.Second}, Jitter: jitter.None, Trace: m.Trace()}
		roundTrip(t, tr, context.Background(), "GET", "http://api.example.com/", "")
		compare(t, m, head("http_attempt_duration_seconds", "histogram")+`
backoff_http_attempt_duration_seconds_bucket{code="200",method="GET",le="1"} 1
backoff_http_attempt_duration_seconds_bucket{code="200",method="GET",le="5"} 1
backoff_http_attempt_duration_seconds_bucket{code="200",method="GET",le="+Inf"} 1
backoff_http_attempt_duration_seconds_sum{code="200",method="GET"} 0.1
backoff_http_attempt_duration_seconds_count{code="200",method="GET"} 1
backoff_http_attempt_duration_seconds_bucket{code="503",method="GET",le="1"} 1
backoff_http_attempt_duration_seconds_bucket{code="503",method="GET",le="5"} 1
backoff_http_attempt_duration_seconds_bucket{code="503",method="GET",le="+Inf"} 1
backoff_http_attempt_duration_seconds_sum{code="503",method="GET"} 0.1
backoff_http_attempt_duration_seconds_count{code="503",method="GET"} 1
`, "backoff_http_attempt_duration_seconds")
		lint(t, m)

		off := newMetrics(t)
		tr = &backoff.Transport{Base: slow(200), Trace: off.Trace()}
		roundTrip(t, tr, context.Background(), "GET", "http://api.example.com/", "")
		if n := testutil.CollectAndCount(off, "backoff_http_attempt_duration_seconds"); n != 0 {
			t.Errorf("%d series of http_attempt_duration_seconds without WithAttemptDurations", n)
		}
	})
}

// rtFunc adapts a function to http.RoundTripper.
type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
