package metrics

import (
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// attemptsVec is a histogram of attempts per call (http_request_attempts,
// operation_call_attempts), by label values. Its observations are whole
// numbers, so that it keeps them in integer counters, and a call that
// needed no retry, by far the most common, costs a single atomic addition
// (a prometheus.Histogram costs three, one of them a compare-and-swap
// loop on the float sum). It is exposed as a histogram with the same name,
// help, labels and buckets as a prometheus.HistogramVec would be.
type attemptsVec struct {
	desc   *prometheus.Desc
	bounds []float64 // the buckets' upper bounds
	first  int       // the index of the bucket of 1 in bounds, len(bounds) for +Inf

	mu       sync.Mutex
	children map[string]*attemptsHist // by label values, joined by "\xff"
	order    []*attemptsHist          // in the order of creation
}

// attemptsHist is the child of one set of label values.
type attemptsHist struct {
	lvs []string
	// ones counts the observations of 1; counts, the others, by bucket
	// (not cumulative; the last one is +Inf), and sum their sum.
	ones   atomic.Uint64
	counts []atomic.Uint64
	sum    atomic.Uint64
}

func newAttemptsVec(o *options, name string, labels ...string) *attemptsVec {
	fq := prometheus.BuildFQName(o.namespace, o.subsystem, name)
	bounds := o.attemptsBuckets
	if n := len(bounds); math.IsInf(bounds[n-1], +1) {
		bounds = bounds[:n-1] // implicit, as in a prometheus.Histogram
	}
	v := &attemptsVec{
		desc:     prometheus.NewDesc(fq, help[name], labels, o.constLabels),
		bounds:   bounds,
		children: make(map[string]*attemptsHist),
	}
	v.first = v.bucket(1)
	return v
}

// bucket returns the index of the bucket of n: the first whose upper
// bound is n or more, len(bounds) for +Inf.
func (v *attemptsVec) bucket(n float64) int {
	return sort.SearchFloat64s(v.bounds, n)
}

// WithLabelValues returns the child of lvs, creating it on first use: the
// same child for the same values, as a prometheus vector's.
func (v *attemptsVec) WithLabelValues(lvs ...string) *attemptsHist {
	key := strings.Join(lvs, "\xff")
	v.mu.Lock()
	defer v.mu.Unlock()
	if h, ok := v.children[key]; ok {
		return h
	}
	h := &attemptsHist{lvs: append([]string(nil), lvs...), counts: make([]atomic.Uint64, len(v.bounds)+1)}
	v.children[key] = h
	v.order = append(v.order, h)
	return h
}

// observe records a call of n attempts in h, a child of v.
func (v *attemptsVec) observe(h *attemptsHist, n int) {
	if n == 1 {
		h.ones.Add(1)
		return
	}
	n = max(n, 0)
	h.counts[v.bucket(float64(n))].Add(1)
	h.sum.Add(uint64(n))
}

// Describe implements prometheus.Collector.
func (v *attemptsVec) Describe(ch chan<- *prometheus.Desc) { ch <- v.desc }

// Collect implements prometheus.Collector: a histogram for each child.
func (v *attemptsVec) Collect(ch chan<- prometheus.Metric) {
	v.mu.Lock()
	hs := v.order[:len(v.order):len(v.order)]
	v.mu.Unlock()
	for _, h := range hs {
		ones := h.ones.Load()
		counts := make([]uint64, len(h.counts))
		for i := range h.counts {
			counts[i] = h.counts[i].Load()
		}
		counts[v.first] += ones
		sum := h.sum.Load() + ones
		buckets := make(map[float64]uint64, len(v.bounds))
		var total uint64
		for i, b := range v.bounds {
			total += counts[i]
			buckets[b] = total
		}
		total += counts[len(v.bounds)]
		ch <- prometheus.MustNewConstHistogram(v.desc, total, float64(sum), buckets, h.lvs...)
	}
}
