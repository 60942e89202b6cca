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
				m, err := metrics.New(reg, metrics.WithExemplars(tt.exemplar), metrics.WithRequestDurations())
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

// The whole-call durations are opt-in: without WithRequestDurations the
// histograms do not exist, and neither the Trace nor the instrumented
// Policy asks for the time of a first-attempt success; with it, or with
// WithAttemptDurations for the Trace, they do.
func TestRequestDurations(t *testing.T) {
	onSuccess := []backoff.Handler[int]{func(backoff.Details[int]) {}}
	cases := []struct {
		name        string
		opts        []metrics.Option
		policy      backoff.Policy[int]
		durations   bool // the histograms exist
		traceTimed  bool // the Trace asks for the time of a first success
		policyTimed bool // so does the instrumented Policy
	}{
		{"default", nil, backoff.Policy[int]{}, false, false, false},
		{"WithRequestDurations", []metrics.Option{metrics.WithRequestDurations()}, backoff.Policy[int]{}, true, true, true},
		{"WithRequestDurations, a Policy untimed", []metrics.Option{metrics.WithRequestDurations()}, backoff.Policy[int]{UntimedFirstSuccess: true}, true, true, true},
		{"WithAttemptDurations", []metrics.Option{metrics.WithAttemptDurations()}, backoff.Policy[int]{}, false, true, false},
		{"a Policy with an OnSuccess handler", nil, backoff.Policy[int]{OnSuccess: onSuccess}, false, false, true},
		{"a Policy with an OnAttempt handler", nil, backoff.Policy[int]{OnAttempt: onSuccess}, false, false, true},
		{"a Policy with handlers, untimed", nil, backoff.Policy[int]{OnSuccess: onSuccess, UntimedFirstSuccess: true}, false, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := newMetrics(t, c.opts...)
				slow := rtFunc(func(r *http.Request) (*http.Response, error) {
					time.Sleep(2 * time.Second)
					return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
				})
				tr := &backoff.Transport{Base: slow, Trace: m.Trace()}
				roundTrip(t, tr, context.Background(), "GET", "http://api.example.com/", "")
				p := metrics.InstrumentPolicy(m, &c.policy)
				p.Do(context.Background(), func(context.Context) (int, error) {
					time.Sleep(2 * time.Second)
					return 1, nil
				})

				if got := tr.Trace.UntimedFirstSuccess; got == c.traceTimed {
					t.Errorf("Trace: UntimedFirstSuccess = %v, want %v", got, !c.traceTimed)
				}
				if got := p.UntimedFirstSuccess; got == c.policyTimed {
					t.Errorf("Policy: UntimedFirstSuccess = %v, want %v", got, !c.policyTimed)
				}
				families := map[string]bool{}
				for _, mf := range gather(t, m) {
					families[mf.GetName()] = true
				}
				for _, name := range []string{"backoff_http_request_duration_seconds", "backoff_operation_call_duration_seconds"} {
					if families[name] != c.durations {
						t.Errorf("%s exposed: %v, want %v", name, families[name], c.durations)
					}
				}
				if c.durations {
					// Measured, though the call succeeded at its first attempt.
					if got := sum(t, m, "backoff_http_request_duration_seconds") + sum(t, m, "backoff_operation_call_duration_seconds"); got != 4 {
						t.Errorf("durations sum to %vs, want 4s", got)
					}
				}
				// The attempts histograms count the calls either way.
				if n := total(t, m, "backoff_http_request_attempts") + total(t, m, "backoff_operation_call_attempts"); n != 2 {
					t.Errorf("calls counted by the attempts histograms: %v, want 2", n)
				}
			})
		})
	}
}

// sum returns the sum of the observations of the histogram name.
func sum(t *testing.T, c prometheus.Collector, name string) float64 {
	t.Helper()
	var s float64
	for _, mf := range gather(t, c) {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				s += m.GetHistogram().GetSampleSum()
			}
		}
	}
	return s
}
