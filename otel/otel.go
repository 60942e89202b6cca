package backoffotel

import (
	"errors"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/httpconv"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/f99b3bbb/backoff"
)

// ScopeName is the name of the instrumentation scope of the metrics: the
// Meter's name.
const ScopeName = "github.com/f99b3bbb/backoff/otel"

// The names of the metrics (see the package documentation).
const (
	RequestDurationName = "http.client.request.duration"
	RetriesName         = "backoff.http.client.call.retries"
	RetryDelayName      = "backoff.http.client.call.retry_delay"
	GiveUpsName         = "backoff.http.client.call.give_ups"
	HedgesName          = "backoff.http.client.call.hedges"
)

// The span events on the caller's span, and their attributes besides
// http.response.status_code and error.type.
const (
	// WaitEvent marks a wait before a retry.
	WaitEvent = "backoff.wait"
	// GiveUpEvent marks a call that gives up.
	GiveUpEvent = "backoff.give_up"
	// HedgeEvent marks a hedge sent (see [backoff.Hedging]); its
	// backoff.attempt is the hedge's number.
	HedgeEvent = "backoff.hedge"

	// AttemptKey is the number of the attempt a wait follows, 1 for the
	// first.
	AttemptKey = attribute.Key("backoff.attempt")
	// WaitDurationKey is the wait before the next attempt, in seconds.
	WaitDurationKey = attribute.Key("backoff.wait.duration")
	// RetryAfterKey is the wait the response asked for (Retry-After, or
	// the reset of a used-up rate limit), in seconds, when it gave one.
	RetryAfterKey = attribute.Key("backoff.retry_after.duration")
	// AttemptsKey is the number of attempts a call made.
	AttemptsKey = attribute.Key("backoff.attempts")
	// ReasonKey is the reason a call gave up: a [backoff.Reason]
	// (max_tries, budget, …) or "_OTHER". It is also an attribute of
	// backoff.http.client.call.give_ups.
	ReasonKey = attribute.Key("backoff.reason")
)

// Bucket boundaries of the per-call histograms.
var (
	retriesBuckets    = []float64{1, 2, 3, 4, 5, 6, 8, 10, 15, 20}
	hedgesBuckets     = []float64{1, 2, 3, 4, 5, 8}
	retryDelayBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}
)

// Instrumentation records the metrics and the span events of the calls of
// [backoff.Transport]s (see the package documentation). It is created by
// [New]; [Instrumentation.Trace] returns the hooks to set in a Transport's
// Trace, and [Instrumentation.Base] wraps the RoundTripper that otelhttp
// sends the attempts through. One Instrumentation may serve any number of
// Transports, whose measurements then add up.
//
// An Instrumentation is safe for concurrent use by multiple goroutines. A
// nil *Instrumentation records nothing, so that the instrumentation can be
// switched off without another code path.
type Instrumentation struct {
	// The instruments, nil when metrics are off (duration also when left
	// out).
	duration   metric.Float64Histogram
	retries    metric.Int64Histogram
	retryDelay metric.Float64Histogram
	giveUps    metric.Int64Counter
	hedges     metric.Int64Histogram

	metrics bool // a MeterProvider was given
	tracing bool // a TracerProvider was given

	hosts *hostSet // nil without WithServerAddresses

	series sync.Map // seriesKey → *series, the attribute sets seen so far
}

// New returns an Instrumentation that records with the providers of opts.
//
// The providers are those given, never the global ones: without
// [WithMeterProvider] nothing is measured, and without
// [WithTracerProvider] no span is touched. An error is returned when the
// MeterProvider refuses an instrument; the Instrumentation returned then
// records with the instruments it got.
func New(opts ...Option) (*Instrumentation, error) {
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt.apply(&o)
		}
	}
	i := &Instrumentation{}
	if o.hostAttr {
		i.hosts = newHostSet(o.hosts)
	}
	switch o.tp.(type) {
	case nil, tracenoop.TracerProvider, *tracenoop.TracerProvider:
	default:
		i.tracing = true
	}
	switch o.mp.(type) {
	case nil, metricnoop.MeterProvider, *metricnoop.MeterProvider:
		return i, nil
	}
	i.metrics = true
	meter := o.mp.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL))
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if !o.noDuration {
		d, err := httpconv.NewClientRequestDuration(meter)
		check(err)
		i.duration = d.Inst()
	}
	var err error
	i.retries, err = meter.Int64Histogram(RetriesName,
		metric.WithUnit("{retry}"),
		metric.WithDescription("Number of retries of a client call that was retried, the first attempt not counted."),
		metric.WithExplicitBucketBoundaries(retriesBuckets...))
	check(err)
	i.retryDelay, err = meter.Float64Histogram(RetryDelayName,
		metric.WithUnit("s"),
		metric.WithDescription("Time a client call that was retried spent between its attempts, waiting and draining discarded responses."),
		metric.WithExplicitBucketBoundaries(retryDelayBuckets...))
	check(err)
	i.giveUps, err = meter.Int64Counter(GiveUpsName,
		metric.WithUnit("{call}"),
		metric.WithDescription("Number of client calls that gave up, by reason."))
	check(err)
	i.hedges, err = meter.Int64Histogram(HedgesName,
		metric.WithUnit("{hedge}"),
		metric.WithDescription("Number of hedges a client call sent, for a call that sent any."),
		metric.WithExplicitBucketBoundaries(hedgesBuckets...))
	check(err)
	// A provider that returns no instrument with its error gets a no-op
	// one in its place.
	if !o.noDuration && i.duration == nil {
		i.duration = metricnoop.Float64Histogram{}
	}
	if i.retries == nil {
		i.retries = metricnoop.Int64Histogram{}
	}
	if i.retryDelay == nil {
		i.retryDelay = metricnoop.Float64Histogram{}
	}
	if i.giveUps == nil {
		i.giveUps = metricnoop.Int64Counter{}
	}
	if i.hedges == nil {
		i.hedges = metricnoop.Int64Histogram{}
	}
	return i, errors.Join(errs...)
}

// The kinds of series: their attributes differ.
const (
	kindAttempt = iota // http.client.request.duration
	kindCall           // the per-call histograms
	kindGiveUp         // the give-ups counter
)

// seriesKey identifies an attribute set.
type seriesKey struct {
	kind   uint8
	method uint8  // index in methods
	host   uint16 // entry of the allow-list, 0 without one
	port   uint16 // 0: none
	status uint16 // the response's status code, 0 without one
	class  uint8  // kindAttempt: the error class; kindGiveUp: the reason's index
	bad    bool   // a status code out of range
}

// series holds the options that record with one attribute set.
type series struct {
	record []metric.RecordOption
	add    []metric.AddOption
}

// key returns the key of the series of kind for an event.
func (i *Instrumentation) key(kind uint8, e *backoff.Event) seriesKey {
	k := seriesKey{kind: kind}
	if r := e.Request; r != nil {
		k.method = methodIndex(r.Method)
		if i.hosts != nil {
			k.host = hostOther
			if r.URL != nil {
				k.host, k.port = i.hosts.lookup(r.URL.Host, r.URL.Scheme)
			}
		}
	} else if i.hosts != nil {
		k.host = hostOther
	}
	switch kind {
	case kindAttempt:
		k.status, k.bad = status(e.Response)
		if e.Response == nil {
			k.class = errorClass(e.Err)
		}
	case kindGiveUp:
		k.class = reasonIndex(e.Reason)
	}
	return k
}

// get returns the series of k, made on first use.
func (i *Instrumentation) get(k seriesKey) *series {
	if s, ok := i.series.Load(k); ok {
		return s.(*series)
	}
	set := attribute.NewSet(i.attributes(k)...)
	opt := metric.WithAttributeSet(set)
	s, _ := i.series.LoadOrStore(k, &series{record: []metric.RecordOption{opt}, add: []metric.AddOption{opt}})
	return s.(*series)
}

// attributes returns the attributes of the series of k.
func (i *Instrumentation) attributes(k seriesKey) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 6)
	attrs = append(attrs, semconv.HTTPRequestMethodKey.String(methodName(k.method)))
	if i.hosts != nil {
		attrs = append(attrs, semconv.ServerAddress(i.hosts.names[k.host]))
		if k.port != 0 {
			attrs = append(attrs, semconv.ServerPort(int(k.port)))
		}
	}
	switch k.kind {
	case kindAttempt:
		if k.status != 0 {
			attrs = append(attrs, semconv.HTTPResponseStatusCode(int(k.status)))
		}
		switch {
		case k.class != classNone:
			attrs = append(attrs, semconv.ErrorTypeKey.String(classNames[k.class]))
		case k.bad:
			attrs = append(attrs, semconv.ErrorTypeOther)
		case k.status >= 400:
			attrs = append(attrs, semconv.ErrorTypeKey.String(statusText(k.status)))
		}
	case kindGiveUp:
		attrs = append(attrs, ReasonKey.String(reasonName(k.class)))
	}
	return attrs
}

// Trace returns a Trace whose hooks record the metrics and the span events
// of the calls of the Transports it is set on. It is meant for a
// Transport's Trace field, at construction, alone or joined with other
// subscribers by [backoff.JoinTraces]:
//
//	t := &backoff.Transport{Trace: inst.Trace()}
//	t := &backoff.Transport{Trace: backoff.JoinTraces(mine, m.Trace(), inst.Trace())}
//
// A Transport reads its Trace once, at its first use, so the Trace must be
// in place by then. Each call returns a new Trace, which may be set on any
// number of Transports; its fields must not be modified. Trace returns nil,
// which a Transport and JoinTraces treat as no hooks, when i is nil or
// records nothing (neither provider given).
func (i *Instrumentation) Trace() *backoff.Trace {
	if i == nil || !i.metrics && !i.tracing {
		return nil
	}
	t := &backoff.Trace{OnGiveUp: i.onGiveUp}
	if i.metrics {
		t.OnAttempt = i.onAttempt
	}
	if i.tracing {
		t.OnBackoff = i.onBackoff
		t.OnHedge = i.onHedge
	}
	return t
}
