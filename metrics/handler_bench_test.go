package metrics

import (
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/f99b3bbb/backoff"
)

// BenchmarkHandler measures the OnAttempt hook of a first-try success
// alone, without the Transport around it.
func BenchmarkHandler(b *testing.B) {
	m, err := New(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	req, err := http.NewRequest("GET", "http://api.example.com/v1/items", nil)
	if err != nil {
		b.Fatal(err)
	}
	e := backoff.Event{Request: req, Attempt: 1, Response: &http.Response{StatusCode: 200}, Elapsed: 3 * time.Millisecond, Final: true}
	onAttempt := m.Trace().OnAttempt
	b.ReportAllocs()
	for b.Loop() {
		onAttempt(e)
	}
}

// BenchmarkFloor measures the metric operations of a first-try success
// alone: one counter and two histograms.
func BenchmarkFloor(b *testing.B) {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "c_total", Help: "c"})
	h1 := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h1", Help: "h", Buckets: DefaultDurationBuckets})
	h2 := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h2", Help: "h", Buckets: DefaultAttemptsBuckets})
	b.ReportAllocs()
	for b.Loop() {
		c.Inc()
		h1.Observe(0.003)
		h2.Observe(1)
	}
}
