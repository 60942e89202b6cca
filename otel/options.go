package backoffotel

import (
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// An Option configures [New].
type Option interface {
	apply(*options)
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	mp         metric.MeterProvider
	tp         trace.TracerProvider
	hosts      []string
	hostAttr   bool
	noDuration bool
}

// WithMeterProvider sets the MeterProvider of the metrics. Without it, or
// with nil, nothing is measured: the global MeterProvider is never used
// unless it is the one given.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(o *options) { o.mp = mp })
}

// WithTracerProvider turns on the span side: the span events on the
// caller's span and, through [Instrumentation.Base], the resend count of
// the attempts' spans. The layer starts no span of its own; it annotates
// the spans found in the requests' contexts, started by the caller and by
// otelhttp with this provider. Without it, with nil or with the no-op
// provider, spans are left alone: the global TracerProvider is never used
// unless it is the one given.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(o *options) { o.tp = tp })
}

// WithServerAddresses adds the attributes server.address and server.port
// to every metric. server.address is the host of the request's URL when
// it is in the allow-list hosts, and "_OTHER" (without server.port)
// otherwise, so that the number of series stays bounded whatever the
// requests. Hosts are compared without regard to case; an entry with a
// port ("api.example.com:8443") matches that port only, an entry without
// one ("api.example.com") matches any port. server.port is the URL's
// port, or the default port of its scheme (80 for http, 443 for https).
//
// Without WithServerAddresses the metrics have neither attribute: the
// convention requires server.address, but an unbounded one would make a
// series per host ever called. WithServerAddresses with no hosts reports
// every request's server.address as "_OTHER".
func WithServerAddresses(hosts ...string) Option {
	hosts = append([]string(nil), hosts...)
	return optionFunc(func(o *options) { o.hosts, o.hostAttr = hosts, true })
}

// WithoutRequestDuration leaves out http.client.request.duration, for
// programs whose otelhttp Transport, below the backoff.Transport, records
// the same histogram of every attempt with the same MeterProvider: both
// would count each attempt. The per-call metrics remain.
func WithoutRequestDuration() Option {
	return optionFunc(func(o *options) { o.noDuration = true })
}
