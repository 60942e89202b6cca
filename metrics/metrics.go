package metrics

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/f99b3bbb/backoff"
)

// Metrics holds the collectors of the package's metrics (see the package
// documentation for their names and labels) and the handlers that feed
// them. It is created by [New]; [Metrics.Trace] returns the hooks to set
// in a [backoff.Transport]'s Trace, [Metrics.ObserveBudget] exports a
// Transport's retry budget, and [InstrumentPolicy] returns an instrumented
// copy of a [backoff.Policy]. None of them modifies a Transport or a
// Policy. One Metrics may serve any number of Transports and Policies,
// whose counts then add up.
//
// A Metrics is a [prometheus.Collector]. It is safe for concurrent use by
// multiple goroutines. A nil *Metrics instruments nothing, so that metrics
// can be switched off without another code path.
type Metrics struct {
	http    httpVecs
	op      opVecs
	budgets *budgetCollector

	hosts    *hostSet                                // nil without WithHosts
	series   []atomic.Pointer[httpSeries]            // by host index × numMethods + method index
	exemplar func(context.Context) prometheus.Labels // WithExemplars, or nil

	opMu   sync.Mutex
	ops    map[string]*opSeries // by operation name, at most maxOperations
	opRest *opSeries            // the operations past maxOperations
}

// maxOperations bounds the number of operation label values: the names of
// Policies past the first maxOperations seen are labelled "other".
const maxOperations = 100

// New returns the metrics of the package, registered on reg.
//
// New registers on reg only: never on prometheus.DefaultRegisterer unless
// it is the reg given. If reg is nil, nothing is registered and the caller
// may register the returned Metrics, a prometheus.Collector, itself.
//
// If reg already holds metrics of the same names and labels, typically
// from an earlier New with the same namespace, subsystem and constant
// labels, New returns an error that wraps the
// prometheus.AlreadyRegisteredError, or, with [WithReuse], the Metrics
// registered earlier. An invalid option (a metric or label name that
// Prometheus refuses or reserves, such as a constant label le, a constant
// label named like a variable one, buckets out of order) is an error too.
func New(reg prometheus.Registerer, opts ...Option) (*Metrics, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if opt != nil {
			opt.apply(&o)
		}
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	m := newMetrics(&o)
	// Catch invalid names and labels now, whatever reg is: a private
	// registry reports them as the descriptions are registered.
	if err := prometheus.NewPedanticRegistry().Register(m); err != nil {
		return nil, fmt.Errorf("metrics: invalid options: %w", err)
	}
	if reg == nil {
		return m, nil
	}
	err := reg.Register(m)
	if err == nil {
		return m, nil
	}
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) {
		return nil, fmt.Errorf("metrics: registering: %w", err)
	}
	if !o.reuse {
		return nil, fmt.Errorf("metrics: already registered on this Registerer (use WithReuse to share the registered Metrics): %w", err)
	}
	if old, ok := are.ExistingCollector.(*Metrics); ok {
		return old, nil
	}
	return nil, fmt.Errorf("metrics: the same metrics are registered by a collector of type %T, which cannot be reused: %w", are.ExistingCollector, err)
}

func newMetrics(o *options) *Metrics {
	m := &Metrics{ops: make(map[string]*opSeries), exemplar: o.exemplar}
	nHosts := 1
	if o.hostLabel {
		m.hosts = newHostSet(o.hosts)
		nHosts = len(m.hosts.names)
	}
	m.series = make([]atomic.Pointer[httpSeries], nHosts*numMethods)
	m.http = newHTTPVecs(o, m.hosts != nil)
	m.op = newOpVecs(o)
	m.budgets = newBudgetCollector(o, m.hosts)
	return m
}

// collectors returns the collectors of m, HTTP ones first.
func (m *Metrics) collectors() []prometheus.Collector {
	httpCounts := collectorFuncs{m.http.counts.describe, m.collectHTTPCounts}
	opCounts := collectorFuncs{m.op.counts.describe, m.collectOpCounts}
	return append(append(append(m.http.collectors(), httpCounts, m.budgets), m.op.collectors()...), opCounts)
}

// Describe implements prometheus.Collector: it sends the descriptions of
// every metric of m, used or not.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector: it sends the series that have
// been used so far. A series appears once its first event has been
// counted, and never disappears.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

// opts returns the metric options of name.
func (o *options) opts(name string) prometheus.Opts {
	return prometheus.Opts{
		Namespace:   o.namespace,
		Subsystem:   o.subsystem,
		Name:        name,
		Help:        help[name],
		ConstLabels: o.constLabels,
	}
}

func (o *options) counterVec(name string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts(o.opts(name)), labels)
}

func (o *options) gaugeVec(name string, labels ...string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts(o.opts(name)), labels)
}

func (o *options) histogramVec(name string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	p := o.opts(name)
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace:   p.Namespace,
		Subsystem:   p.Subsystem,
		Name:        p.Name,
		Help:        p.Help,
		ConstLabels: p.ConstLabels,
		Buckets:     buckets,
	}, labels)
}

// labels returns the label names first, then the rest.
func labels(first []string, rest ...string) []string {
	return append(append(make([]string, 0, len(first)+len(rest)), first...), rest...)
}

// slot is a child metric resolved on first use and kept: getting it is one
// atomic load, where WithLabelValues would hash the label values.
type slot[M any] struct {
	p atomic.Pointer[M]
}

// vec is a metric vector whose children are of type M: a *CounterVec, a
// *HistogramVec (whose children are Observers) or a *GaugeVec.
type vec[M any] interface {
	WithLabelValues(lvs ...string) M
}

// get returns the child of s, resolving it on first use as the child of v
// for the label values lvs.
func (s *slot[M]) get(v vec[M], lvs []string) M {
	if p := s.p.Load(); p != nil {
		return *p
	}
	return s.resolve(v, lvs)
}

// getAt returns the child of s, which is the one at i of its series, and
// resolves it on first use as the child of v for the label values lvs
// followed by label(i). label is only called then, so that building a
// label value (a status code's, say) costs nothing once the child is kept.
func (s *slot[M]) getAt(v vec[M], lvs []string, label func(int) string, i int) M {
	if p := s.p.Load(); p != nil {
		return *p
	}
	return s.resolve(v, append(lvs[:len(lvs):len(lvs)], label(i)))
}

// resolve keeps the child of v for lvs unless another goroutine resolved
// it first, and returns the child kept. (Both are the same child of the
// same vector.)
func (s *slot[M]) resolve(v vec[M], lvs []string) M {
	m := v.WithLabelValues(lvs...)
	if !s.p.CompareAndSwap(nil, &m) {
		return *s.p.Load()
	}
	return m
}

// withHandler returns a copy of hs with h appended: the caller's slice is
// never written to, even where its capacity would allow it.
func withHandler[T any](hs []backoff.Handler[T], h backoff.Handler[T]) []backoff.Handler[T] {
	out := make([]backoff.Handler[T], len(hs), len(hs)+1)
	copy(out, hs)
	return append(out, h)
}
