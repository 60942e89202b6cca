// Package backoffotel records OpenTelemetry metrics and span events of the
// calls of a [backoff.Transport]: how long each attempt took, how many
// retries each call needed, how long it waited, why it gave up; and, on
// the caller's span, each wait and each give-up.
//
// The package is named backoffotel, not otel, so that it can be imported
// next to go.opentelemetry.io/otel without renaming either. Its module,
// github.com/f99b3bbb/backoff/otel, is the only one of the repository that
// requires OpenTelemetry: the backoff package itself does not.
//
// [New] makes an Instrumentation with the providers given, never the
// global ones; its [Instrumentation.Trace] is set in the Transport's Trace
// field when the Transport is built (alone, or joined with other hooks by
// [backoff.JoinTraces]):
//
//	inst, err := backoffotel.New(backoffotel.WithMeterProvider(mp), backoffotel.WithTracerProvider(tp))
//	if err != nil {
//		return err
//	}
//	client := &http.Client{Transport: &backoff.Transport{Trace: inst.Trace()}}
//
// Nothing in this package modifies a Transport.
//
// # Metrics
//
// Per attempt, as the HTTP semantic conventions define it:
//
//	http.client.request.duration            histogram, s   each attempt's duration
//
// and per call, in the library's namespace, as gRPC's per-call retry
// metrics (gRFC A96) for HTTP:
//
//	backoff.http.client.call.retries        histogram, {retry}  retries of a retried call
//	backoff.http.client.call.retry_delay    histogram, s        time between its attempts
//	backoff.http.client.call.give_ups       counter, {call}     calls that gave up
//	backoff.http.client.call.hedges         histogram, {hedge}  hedges of a hedged call
//
// http.client.request.duration measures each attempt from its start to its
// response's headers or its error (Event.AttemptDuration), with the
// convention's bucket boundaries. The per-call histograms are recorded
// once per call that made more than one attempt, when it ends (a call
// that needed no retry records neither): retries is the number of
// attempts minus one, hedges not counted, retry_delay the time spent
// waiting between the attempts, draining the discarded responses included
// (Event.Waited), both only for a call that retried; hedges is the number
// of hedges (see [backoff.Hedging]) of a call that sent any. In a hedged
// round, http.client.request.duration records the attempt whose answer
// the round kept, not those it cancelled. A
// give-up is counted once per call that gives up, a call refused a retry
// by the retry budget included (backoff.reason "budget"), as is one that
// was never eligible for a retry (a POST whose attempt failed:
// "not_replayable") and one cancelled during a wait.
//
// The attributes, every value from a fixed set:
//
//   - http.request.method, on every metric: GET, HEAD, POST, PUT, PATCH,
//     DELETE, OPTIONS, TRACE, CONNECT (case-sensitive, as the conventions
//     say; the empty method is GET), or _OTHER.
//   - server.address and server.port, on every metric, only with
//     [WithServerAddresses]: a host of the allow-list and its port, or
//     _OTHER without a port.
//   - http.response.status_code, on the duration of an attempt that got a
//     response.
//   - error.type, on the duration of an attempt that failed: for a
//     response of status 400 or above, the status code ("503"); for an
//     attempt without a response, the class of its error, decided by its
//     type and the sentinel errors it wraps, never by its message:
//     timeout, canceled, tls, connection, or _OTHER.
//   - backoff.reason, on the give-ups: the [backoff.Reason] values
//     max_tries, max_time, deadline, giveup, exhausted, canceled,
//     retry_after, not_replayable, budget, or _OTHER for one unknown to
//     this package.
//
// http.request.resend_count is a span attribute (see below), never a
// metric attribute.
//
// # Spans
//
// The package starts no span. With [WithTracerProvider], it adds events to
// the span in the request's context, the caller's, when that span is
// recording:
//
//   - backoff.wait, before each wait: backoff.attempt (the number of the
//     attempt that ended), backoff.wait.duration (the wait, in seconds),
//     backoff.retry_after.duration (the server-given wait, in seconds,
//     when there is one), and the attempt's http.response.status_code
//     (with error.type from 400 on) or error.type.
//   - backoff.hedge, when a hedge is sent: backoff.attempt, the hedge's
//     number.
//   - backoff.give_up, when the call gives up: backoff.reason,
//     backoff.attempts, and the last attempt's status code or error.type,
//     as above.
//
// The attempts' own spans are otelhttp's, with otelhttp's Transport below
// the backoff.Transport: the conventions want a span per attempt, with
// http.request.resend_count on every attempt after the first.
// [Instrumentation.Base], below otelhttp, sets that attribute (see there
// for the order of the layers and why).
//
// # Cost
//
// The attribute sets are made once per combination of values and kept:
// recording an attempt costs a lookup and the providers' own work, and no
// allocation of this package. The span events are built only for a
// recording span. Without any provider, [Instrumentation.Trace] returns
// nil: no hook at all.
package backoffotel
