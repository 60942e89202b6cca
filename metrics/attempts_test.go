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

// The attempts histograms are exposed exactly as a prometheus.HistogramVec
// with the same options and observations would be.
func TestAttemptsVecMatchesHistogramVec(t *testing.T) {
	cases := []struct {
		name    string
		buckets []float64
	}{
		{"default buckets", DefaultAttemptsBuckets},
		{"a bucket below 1, +Inf given", []float64{0.5, 2, 3, math.Inf(+1)}},
		{"none at 1", []float64{5, 10}},
	}
	observations := map[string][]int{
		"GET":  {1, 1, 1, 2, 4, 20, 21, 1000},
		"POST": {1},
		"PUT":  {3, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := defaultOptions()
			o.namespace, o.attemptsBuckets = "x", c.buckets
			o.constLabels = prometheus.Labels{"service": "s"}
			ours := newAttemptsVec(&o, "http_request_attempts", "method")
			theirs := o.histogramVec("http_request_attempts", c.buckets, "method")
			var wg sync.WaitGroup
			for method, ns := range observations {
				for _, n := range ns {
					wg.Go(func() {
						ours.observe(ours.WithLabelValues(method), n)
						theirs.WithLabelValues(method).Observe(float64(n))
					})
				}
			}
			wg.Wait()
			got, err := testutil.CollectAndFormat(ours, expfmt.TypeTextPlain)
			if err != nil {
				t.Fatal(err)
			}
			want, err := testutil.CollectAndFormat(theirs, expfmt.TypeTextPlain)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("exposition\n%s\nwant (a HistogramVec's)\n%s", got, want)
			}
		})
	}
}

// A child is the same for the same label values, whoever asks first.
func TestAttemptsVecChildren(t *testing.T) {
	o := defaultOptions()
	v := newAttemptsVec(&o, "http_request_attempts", "method", "host")
	a, b := v.WithLabelValues("GET", "a"), v.WithLabelValues("GET", "a")
	if a != b {
		t.Error("two children for the same label values")
	}
	if c := v.WithLabelValues("GETa", ""); c == a {
		t.Error("one child for different label values")
	}
}
