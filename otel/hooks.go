package backoffotel

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/f99b3bbb/backoff"
)

// requestContext returns the context of an event's request, whose span is
// the caller's.
func requestContext(e *backoff.Event) context.Context {
	if e.Request == nil {
		return context.Background()
	}
	return e.Request.Context()
}

// onAttempt is the OnAttempt hook: it records the attempt's duration, and
// ends the call when no give-up event follows (a success, or an error or
// a response not retried). The call's end is taken from the final
// OnAttempt, not from OnSuccess: a retried call that ends on an error
// Classify does not retry fires neither OnSuccess nor OnGiveUp.
func (i *Instrumentation) onAttempt(e backoff.Event) {
	ctx := requestContext(&e)
	if i.duration != nil && i.duration.Enabled(ctx) {
		s := i.get(i.key(kindAttempt, &e))
		i.duration.Record(ctx, e.AttemptDuration.Seconds(), s.record...)
	}
	if e.Final && e.Reason == "" && e.Attempt > 1 {
		i.endCall(ctx, &e)
	}
}

// onBackoff is the OnBackoff hook: a wait begins.
func (i *Instrumentation) onBackoff(e backoff.Event) {
	span := trace.SpanFromContext(requestContext(&e))
	if !span.IsRecording() {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 4)
	attrs = append(attrs, AttemptKey.Int(e.Attempt), WaitDurationKey.Float64(e.Wait.Seconds()))
	if e.RetryAfter > 0 {
		attrs = append(attrs, RetryAfterKey.Float64(e.RetryAfter.Seconds()))
	}
	attrs = appendOutcome(attrs, &e)
	span.AddEvent(WaitEvent, trace.WithAttributes(attrs...))
}

// onHedge is the OnHedge hook: a hedge is sent.
func (i *Instrumentation) onHedge(e backoff.Event) {
	span := trace.SpanFromContext(requestContext(&e))
	if !span.IsRecording() {
		return
	}
	span.AddEvent(HedgeEvent, trace.WithAttributes(AttemptKey.Int(e.Attempt)))
}

// onGiveUp is the OnGiveUp hook: the call ends.
func (i *Instrumentation) onGiveUp(e backoff.Event) {
	ctx := requestContext(&e)
	if i.metrics {
		if i.giveUps.Enabled(ctx) {
			i.giveUps.Add(ctx, 1, i.get(i.key(kindGiveUp, &e)).add...)
		}
		if e.Attempt > 1 {
			i.endCall(ctx, &e)
		}
	}
	if !i.tracing {
		return
	}
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 4)
	attrs = append(attrs, ReasonKey.String(reasonName(reasonIndex(e.Reason))), AttemptsKey.Int(e.Attempt))
	attrs = appendOutcome(attrs, &e)
	span.AddEvent(GiveUpEvent, trace.WithAttributes(attrs...))
}

// endCall records the per-call histograms of a call that made more than
// one attempt: the retries and the retry delay of a call that retried,
// the hedges of a call that hedged.
func (i *Instrumentation) endCall(ctx context.Context, e *backoff.Event) {
	n := e.Attempt - e.Hedges - 1 // retries
	retries, delay := n > 0 && i.retries.Enabled(ctx), n > 0 && i.retryDelay.Enabled(ctx)
	hedges := e.Hedges > 0 && i.hedges.Enabled(ctx)
	if !retries && !delay && !hedges {
		return
	}
	s := i.get(i.key(kindCall, e))
	if retries {
		i.retries.Record(ctx, int64(n), s.record...)
	}
	if delay {
		i.retryDelay.Record(ctx, e.Waited.Seconds(), s.record...)
	}
	if hedges {
		i.hedges.Record(ctx, int64(e.Hedges), s.record...)
	}
}

// appendOutcome appends the outcome of the event's attempt, when there is
// one: its response's status code (and error.type for a status of 400 or
// above), or its error's class.
func appendOutcome(attrs []attribute.KeyValue, e *backoff.Event) []attribute.KeyValue {
	switch code, bad := status(e.Response); {
	case bad:
		return append(attrs, semconv.ErrorTypeOther)
	case code != 0:
		attrs = append(attrs, semconv.HTTPResponseStatusCode(int(code)))
		if code >= 400 {
			attrs = append(attrs, semconv.ErrorTypeKey.String(statusText(code)))
		}
		return attrs
	case e.Err != nil:
		return append(attrs, semconv.ErrorTypeKey.String(classNames[errorClass(e.Err)]))
	}
	return attrs
}
