package metrics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
)

// DefaultWaitBuckets are the upper bounds, in seconds, of the histograms of
// waits when [WithWaitBuckets] is not given: from 10ms to one minute, the
// default longest Retry-After a Transport honours. They must not be
// modified.
var DefaultWaitBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// DefaultRetryAfterBuckets are the upper bounds, in seconds, of the
// histogram of server-given waits when [WithRetryAfterBuckets] is not
// given: from 100ms to 6h, past the Transport's default cap of 60s, so
// that the waits it refuses are told apart too. They must not be modified.
var DefaultRetryAfterBuckets = []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 21600}

// DefaultDurationBuckets are the upper bounds, in seconds, of the histograms
// of whole-call durations when [WithDurationBuckets] is not given: from 5ms
// to two minutes, since a call includes its waits. They must not be
// modified.
var DefaultDurationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}

// DefaultAttemptsBuckets are the upper bounds of the histograms of attempts
// per call when [WithAttemptsBuckets] is not given. The bucket le="1"
// counts the calls that needed no retry. They must not be modified.
var DefaultAttemptsBuckets = []float64{1, 2, 3, 4, 5, 6, 8, 10, 15, 20}

// An Option configures [New].
type Option interface {
	apply(*options)
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	namespace, subsystem string
	constLabels          prometheus.Labels
	hosts                []string
	hostLabel            bool
	waitBuckets          []float64
	retryAfterBuckets    []float64
	durationBuckets      []float64
	attemptsBuckets      []float64
	exemplar             func(context.Context) prometheus.Labels
	attemptDurations     bool
	requestDurations     bool
	reuse                bool
}

func defaultOptions() options {
	return options{
		namespace:         "backoff",
		waitBuckets:       DefaultWaitBuckets,
		retryAfterBuckets: DefaultRetryAfterBuckets,
		durationBuckets:   DefaultDurationBuckets,
		attemptsBuckets:   DefaultAttemptsBuckets,
	}
}

// WithNamespace sets the first component of every metric name. The default
// is "backoff"; the empty string leaves it out.
func WithNamespace(namespace string) Option {
	return optionFunc(func(o *options) { o.namespace = namespace })
}

// WithSubsystem sets the component of every metric name between the
// namespace and the name proper, as in backoff_SUBSYSTEM_http_attempts_total.
// The default is none.
func WithSubsystem(subsystem string) Option {
	return optionFunc(func(o *options) { o.subsystem = subsystem })
}

// WithConstLabels adds labels with fixed values to every metric, such as
// the name of the remote service when one registry serves several
// clients. Their names must be valid Prometheus label names
// ([a-zA-Z_][a-zA-Z0-9_]*), must not be reserved by Prometheus (le,
// quantile, or any name starting with __), and must not be those of the
// variable labels (method, host, code, reason, outcome, operation, result),
// whether WithHosts is given or not: [New] refuses them. The map is copied.
func WithConstLabels(labels prometheus.Labels) Option {
	labels = maps.Clone(labels)
	return optionFunc(func(o *options) { o.constLabels = labels })
}

// WithHosts adds the label host to every HTTP metric. Its value is the
// request URL's host when it is in the allow-list hosts and "other"
// otherwise, so that the number of series stays bounded whatever the
// requests. Hosts are compared without regard to case; an entry with a
// port ("api.example.com:8443") matches that port only, an entry without
// one ("api.example.com") matches any port and is the label value of all
// of them.
//
// Without WithHosts the HTTP metrics have no host label at all. WithHosts
// with no hosts adds the label with the single value "other".
func WithHosts(hosts ...string) Option {
	hosts = append([]string(nil), hosts...)
	return optionFunc(func(o *options) { o.hosts, o.hostLabel = hosts, true })
}

// WithWaitBuckets sets the upper bounds, in seconds, of the histograms of
// waits and of Retry-After values, in increasing order. The default is
// [DefaultWaitBuckets].
func WithWaitBuckets(buckets ...float64) Option {
	buckets = append([]float64(nil), buckets...)
	return optionFunc(func(o *options) { o.waitBuckets = buckets })
}

// WithRetryAfterBuckets sets the upper bounds, in seconds, of the
// histogram of server-given waits (Retry-After, or a rate limit's reset),
// in increasing order. The default is [DefaultRetryAfterBuckets].
func WithRetryAfterBuckets(buckets ...float64) Option {
	buckets = append([]float64(nil), buckets...)
	return optionFunc(func(o *options) { o.retryAfterBuckets = buckets })
}

// WithDurationBuckets sets the upper bounds, in seconds, of the histograms
// of whole-call durations, in increasing order. The default is
// [DefaultDurationBuckets].
func WithDurationBuckets(buckets ...float64) Option {
	buckets = append([]float64(nil), buckets...)
	return optionFunc(func(o *options) { o.durationBuckets = buckets })
}

// WithAttemptsBuckets sets the upper bounds of the histograms of attempts
// per call, in increasing order. The default is [DefaultAttemptsBuckets].
func WithAttemptsBuckets(buckets ...float64) Option {
	buckets = append([]float64(nil), buckets...)
	return optionFunc(func(o *options) { o.attemptsBuckets = buckets })
}

// WithAttemptDurations adds the histogram http_attempt_duration_seconds,
// the duration of each attempt (Event.AttemptDuration: from its start to
// its response's headers or its error), by method and code as
// http_attempts_total, with the buckets of WithDurationBuckets: the
// latency of the server itself, apart from the waits, per attempt (gRPC's
// grpc.client.attempt.duration). It costs one more histogram observation
// per attempt, a request that succeeds at its first attempt included, and
// for such a request a second clock read, as WithRequestDurations does.
func WithAttemptDurations() Option {
	return optionFunc(func(o *options) { o.attemptDurations = true })
}

// WithRequestDurations adds the histograms of whole-call durations:
// http_request_duration_seconds, by method and outcome, for the requests
// of a Transport (Event.Elapsed), and operation_call_duration_seconds, by
// operation, for the calls of an instrumented Policy (Details.Elapsed),
// from the start of the first attempt to the end of the last, waits
// included, with the buckets of WithDurationBuckets. It costs one more
// histogram observation per call, and a second clock read for a call that
// succeeds at its first attempt, which the default metrics spare it (see
// backoff.Trace.UntimedFirstSuccess): about 60ns per call of a Policy on
// the virtual machine of the package documentation's figures. Without it,
// the time retries add is still measured, by
// http_request_retry_delay_seconds.
func WithRequestDurations() Option {
	return optionFunc(func(o *options) { o.requestDurations = true })
}

// WithExemplars makes the histograms of the HTTP metrics (request
// durations, retry delays and waits) carry an exemplar: at each
// observation, exemplar is called with the request's context, and the
// labels it returns, if not nil, are the exemplar's. This is how a trace
// ID reaches a histogram without this package depending on a tracing
// library; with OpenTelemetry:
//
//	metrics.WithExemplars(func(ctx context.Context) prometheus.Labels {
//		sc := trace.SpanContextFromContext(ctx)
//		if !sc.IsSampled() {
//			return nil
//		}
//		return prometheus.Labels{"trace_id": sc.TraceID().String()}
//	})
//
// exemplar is called synchronously, from the Transport's hooks, and must
// be cheap and safe for concurrent use. Labels that an exemplar may not
// carry (invalid names, or more than 128 runes in all, as the OpenMetrics
// format limits them) are dropped: the value is observed without an
// exemplar. Exemplars are exposed in the OpenMetrics format only (with
// promhttp, HandlerOpts.EnableOpenMetrics). Without WithExemplars, or
// with nil, the histograms carry none and the hooks pay nothing for it.
func WithExemplars(exemplar func(context.Context) prometheus.Labels) Option {
	return optionFunc(func(o *options) { o.exemplar = exemplar })
}

// WithReuse makes [New] return the Metrics already registered on its
// Registerer with the same metric names and labels, when there is one,
// instead of an error. The existing Metrics keeps its own settings
// (buckets and host allow-list); the options given to this New are then
// ignored. Use it when several parts of a program, or several clients,
// each call New on the same registry.
func WithReuse() Option {
	return optionFunc(func(o *options) { o.reuse = true })
}

// checkBuckets reports whether buckets are valid upper bounds of a
// histogram: at least one, in increasing order, none NaN. A final +Inf is
// allowed (it is implicit anyway).
func checkBuckets(name string, buckets []float64) error {
	if len(buckets) == 0 {
		return fmt.Errorf("metrics: %s: no buckets", name)
	}
	for i, b := range buckets {
		switch {
		case math.IsNaN(b):
			return fmt.Errorf("metrics: %s: bucket %d is NaN", name, i)
		case i > 0 && b <= buckets[i-1]:
			return fmt.Errorf("metrics: %s: buckets not in increasing order (%g after %g)", name, b, buckets[i-1])
		}
	}
	return nil
}

// variableLabels are the names of the labels the metrics set themselves,
// with or without WithHosts.
var variableLabels = []string{"method", "host", "code", "reason", "outcome", "operation", "result"}

func (o *options) check() error {
	var errs []error
	// Classic names, which need no quoting in PromQL or the text format.
	if fq := prometheus.BuildFQName(o.namespace, o.subsystem, "x"); !model.LegacyValidation.IsValidMetricName(fq) {
		errs = append(errs, fmt.Errorf("metrics: namespace %q and subsystem %q do not make a valid metric name prefix", o.namespace, o.subsystem))
	}
	for _, name := range slices.Sorted(maps.Keys(o.constLabels)) {
		switch {
		case !model.LegacyValidation.IsValidLabelName(name):
			errs = append(errs, fmt.Errorf("metrics: invalid constant label name %q", name))
		case strings.HasPrefix(name, "__"):
			errs = append(errs, fmt.Errorf("metrics: constant label name %q: names starting with __ are reserved by Prometheus", name))
		case name == "le" || name == "quantile":
			errs = append(errs, fmt.Errorf("metrics: constant label name %q is reserved by Prometheus for histograms and summaries", name))
		case slices.Contains(variableLabels, name):
			errs = append(errs, fmt.Errorf("metrics: constant label name %q is a label of the metrics themselves", name))
		}
	}
	return errors.Join(append(errs,
		checkBuckets("wait buckets", o.waitBuckets),
		checkBuckets("retry-after buckets", o.retryAfterBuckets),
		checkBuckets("duration buckets", o.durationBuckets),
		checkBuckets("attempts buckets", o.attemptsBuckets))...)
}
