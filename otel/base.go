package backoffotel

import (
	"net/http"

	"github.com/hashicorp/go-cleanhttp"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/f99b3bbb/backoff"
)

// Base returns a RoundTripper that sends each request through rt and sets
// http.request.resend_count, the attempt's number minus one, on the span
// of each attempt after the first. It is meant for the Base of otelhttp's
// Transport, itself the Base of the backoff.Transport:
//
//	inst, err := backoffotel.New(
//		backoffotel.WithMeterProvider(mp),
//		backoffotel.WithTracerProvider(tp),
//	)
//	client := &http.Client{Transport: &backoff.Transport{
//		Trace: inst.Trace(),
//		Base: otelhttp.NewTransport(inst.Base(nil),
//			otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp)),
//	}}
//
// otelhttp starts an attempt's span inside its own RoundTrip and passes
// the request on with the span in its context: below otelhttp, Base finds
// that span there; above it, only the caller's. Its options fix the span's
// attributes once for all requests, so Base must be below.
//
// The attempt's number comes from the request's context
// ([backoff.AttemptNumber]), which the Transport sets on each retry and
// otelhttp passes on. Base returns rt itself, adding nothing, when i is
// nil or when spans are off (no [WithTracerProvider]). A nil rt means a pooled transport of its own
// (go-cleanhttp's, as the Transport's), never http.DefaultTransport.
//
// Base annotates whatever span the request's context holds: under an
// otelhttp filter that skips a request, that is the caller's span.
func (i *Instrumentation) Base(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = cleanhttp.DefaultPooledTransport()
	}
	if i == nil || !i.tracing {
		return rt
	}
	return &resendTransport{rt: rt}
}

// resendTransport is the RoundTripper of Base.
type resendTransport struct {
	rt http.RoundTripper
}

func (t *resendTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if n, ok := backoff.AttemptNumber(req.Context()); ok {
		if span := trace.SpanFromContext(req.Context()); span.IsRecording() {
			span.SetAttributes(semconv.HTTPRequestResendCount(n - 1))
		}
	}
	return t.rt.RoundTrip(req)
}

// CloseIdleConnections closes the idle connections of the RoundTripper
// below, if it has such a method.
func (t *resendTransport) CloseIdleConnections() {
	if ci, ok := t.rt.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}
