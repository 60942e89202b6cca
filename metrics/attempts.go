package metrics

import (
	"math"
	"sort"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// attemptMetrics are the counter of attempts (http_attempts_total,
// operation_attempts_total) and the histogram of attempts per call
// (http_request_attempts, operation_call_attempts) of one kind of series.
// Both count whole numbers, so that they are kept in integer counters of
// the series (see attemptCounts) rather than in prometheus vectors, and
// share them: a call that ends at its first attempt, by far the most
// common, costs a single atomic addition for the two (prometheus vectors
// would take four, one of them a compare-and-swap loop on a float sum).
// They are exposed as the counter and the histogram that prometheus
// vectors of the same names, help, labels and buckets would expose.
type attemptMetrics struct {
	total *prometheus.Desc // the counter; its last label is the slot's
	calls *prometheus.Desc // the histogram
	label func(int) string // the label value of a slot of the counter
	slots int              // the number of slots

	bounds []float64 // the histogram's upper bounds, without +Inf
	one    int       // the index in bounds of the bucket of 1, len(bounds) for +Inf
}

// attemptCounts are the counts of one series.
type attemptCounts struct {
	// first counts, by slot, the first attempts that ended their call
	// without a give-up: each is also a call of one attempt. other counts
	// every other attempt.
	first, other []atomic.Uint64

	// The calls not counted in first: ones, those of one attempt (a
	// give-up); buckets, the others by bucket (not cumulative, +Inf
	// last); sum, their attempts.
	ones    atomic.Uint64
	buckets []atomic.Uint64
	sum     atomic.Uint64
}

func newAttemptMetrics(o *options, total, calls string, base []string, slotName string, slots int, label func(int) string) *attemptMetrics {
	desc := func(name string, labels []string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(o.namespace, o.subsystem, name), help[name], labels, o.constLabels)
	}
	bounds := o.attemptsBuckets
	if n := len(bounds); n > 0 && math.IsInf(bounds[n-1], +1) {
		bounds = bounds[:n-1] // implicit, as in a prometheus.Histogram
	}
	a := &attemptMetrics{
		total:  desc(total, labels(base, slotName)),
		calls:  desc(calls, base),
		label:  label,
		slots:  slots,
		bounds: bounds,
	}
	a.one = a.bucket(1)
	return a
}

// bucket returns the index of the bucket of n: the first whose upper
// bound is n or more, len(bounds) for +Inf.
func (a *attemptMetrics) bucket(n float64) int {
	return sort.SearchFloat64s(a.bounds, n)
}

func (a *attemptMetrics) newCounts() *attemptCounts {
	return &attemptCounts{
		first:   make([]atomic.Uint64, a.slots),
		other:   make([]atomic.Uint64, a.slots),
		buckets: make([]atomic.Uint64, len(a.bounds)+1),
	}
}

// attempt counts an attempt of the slot i in c: one that ends its call at
// the first attempt without a give-up (ended) counts as that call too.
func (a *attemptMetrics) attempt(c *attemptCounts, i int, ended bool) {
	if ended {
		c.first[i].Add(1)
		return
	}
	c.other[i].Add(1)
}

// end counts in c a call of n attempts that did not end at its first
// attempt without a give-up (those are counted by attempt).
func (a *attemptMetrics) end(c *attemptCounts, n int) {
	if n == 1 {
		c.ones.Add(1)
		return
	}
	n = max(n, 0)
	c.buckets[a.bucket(float64(n))].Add(1)
	c.sum.Add(uint64(n))
}

func (a *attemptMetrics) describe(ch chan<- *prometheus.Desc) {
	ch <- a.total
	ch <- a.calls
}

// collect sends the counter's series of c that have counted something,
// and its histogram once it has seen a call. lvs are the label values of
// the series.
func (a *attemptMetrics) collect(ch chan<- prometheus.Metric, c *attemptCounts, lvs []string) {
	var firsts uint64
	slot := append(lvs[:len(lvs):len(lvs)], "")
	for i := range a.slots {
		f := c.first[i].Load()
		firsts += f
		if n := f + c.other[i].Load(); n > 0 {
			slot[len(lvs)] = a.label(i)
			ch <- prometheus.MustNewConstMetric(a.total, prometheus.CounterValue, float64(n), slot...)
		}
	}
	ones := firsts + c.ones.Load()
	counts := make([]uint64, len(c.buckets))
	for i := range c.buckets {
		counts[i] = c.buckets[i].Load()
	}
	counts[a.one] += ones
	buckets := make(map[float64]uint64, len(a.bounds))
	var total uint64
	for i, b := range a.bounds {
		total += counts[i]
		buckets[b] = total
	}
	total += counts[len(a.bounds)]
	if total == 0 {
		return
	}
	ch <- prometheus.MustNewConstHistogram(a.calls, total, float64(c.sum.Load()+ones), buckets, lvs...)
}

// collectorFuncs is a prometheus.Collector made of two functions.
type collectorFuncs struct {
	describe func(chan<- *prometheus.Desc)
	collect  func(chan<- prometheus.Metric)
}

func (c collectorFuncs) Describe(ch chan<- *prometheus.Desc) { c.describe(ch) }
func (c collectorFuncs) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }
