package metrics

import (
	"bytes"
	"math"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
)

// The counts of attempts and of attempts per call are exposed exactly as a
// prometheus.CounterVec and a prometheus.HistogramVec with the same
// options and observations would be.
func TestAttemptMetricsMatchVecs(t *testing.T) {
	cases := []struct {
		name    string
		buckets []float64
	}{
		{"default buckets", DefaultAttemptsBuckets},
		{"a bucket below 1, +Inf given", []float64{0.5, 2, 3, math.Inf(+1)}},
		{"none at 1", []float64{5, 10}},
	}
	// A call: the slots of its attempts, and whether it gave up.
	type call struct {
		slots  []int
		gaveUp bool
	}
	calls := map[string][]call{
		"GET": {
			{[]int{200}, false}, {[]int{200}, false}, {[]int{404}, false},
			{[]int{503}, true}, // a give-up at the first attempt
			{[]int{503, 200}, false}, {[]int{503, 503, 503, 503}, true},
			{make([]int, 20), false}, {make([]int, 21), true}, {make([]int, 1000), false},
		},
		"POST": {{[]int{200}, false}},
		"PUT":  {{[]int{0, 1, 2}, false}, {[]int{2, 2, 2}, false}},
	}
	label := func(i int) string { return string(rune('a' + i%26)) }
	names := []string{"x_http_attempts_total", "x_http_request_attempts"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := defaultOptions()
			o.namespace, o.attemptsBuckets = "x", c.buckets
			o.constLabels = prometheus.Labels{"service": "s"}
			ours := newAttemptMetrics(&o, "http_attempts_total", "http_request_attempts", []string{"method"}, "code", 600, label)
			counter := o.counterVec("http_attempts_total", "method", "code")
			hist := o.histogramVec("http_request_attempts", c.buckets, "method")
			var mu sync.Mutex
			series := map[string]*attemptCounts{}
			var wg sync.WaitGroup
			for method, cs := range calls {
				mu.Lock()
				s := ours.newCounts()
				series[method] = s
				mu.Unlock()
				for _, call := range cs {
					wg.Go(func() {
						for n, i := range call.slots {
							ours.attempt(s, i, n == 0 && len(call.slots) == 1 && !call.gaveUp)
							counter.WithLabelValues(method, label(i)).Inc()
						}
						if len(call.slots) > 1 || call.gaveUp {
							ours.end(s, len(call.slots))
						}
						hist.WithLabelValues(method).Observe(float64(len(call.slots)))
					})
				}
			}
			wg.Wait()
			got, err := testutil.CollectAndFormat(collectorFuncs{ours.describe, func(ch chan<- prometheus.Metric) {
				for method, s := range series {
					ours.collect(ch, s, []string{method})
				}
			}}, expfmt.TypeTextPlain, names...)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 {
				t.Fatal("nothing exposed")
			}
			want, err := testutil.CollectAndFormat(collectorFuncs{
				func(ch chan<- *prometheus.Desc) { counter.Describe(ch); hist.Describe(ch) },
				func(ch chan<- prometheus.Metric) { counter.Collect(ch); hist.Collect(ch) },
			}, expfmt.TypeTextPlain, names...)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("exposition\n%s\nwant (prometheus vectors')\n%s", got, want)
			}
		})
	}
}

// A series that has counted nothing exposes nothing.
func TestAttemptMetricsEmpty(t *testing.T) {
	o := defaultOptions()
	a := newAttemptMetrics(&o, "http_attempts_total", "http_request_attempts", []string{"method"}, "code", numCodeSlots, codeLabel)
	s := a.newCounts()
	n := testutil.CollectAndCount(collectorFuncs{a.describe, func(ch chan<- prometheus.Metric) { a.collect(ch, s, []string{"GET"}) }})
	if n != 0 {
		t.Errorf("%d series, want none", n)
	}
	a.attempt(s, 3, false) // an attempt retried: no call has ended
	n = testutil.CollectAndCount(collectorFuncs{a.describe, func(ch chan<- prometheus.Metric) { a.collect(ch, s, []string{"GET"}) }})
	if n != 1 {
		t.Errorf("%d series, want the counter's alone", n)
	}
}
