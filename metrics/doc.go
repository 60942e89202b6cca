// Package metrics exports Prometheus metrics of the backoff engine and of
// its HTTP Transport, so that a service sees how often its clients retry,
// why they give up and how long they wait.
//
// It subscribes to the events of a [backoff.Transport] through the hooks of
// a [backoff.Trace], set in the Transport's Trace field when it is built
// (alone, or joined with the program's own hooks by [backoff.JoinTraces]),
// and to those of a [backoff.Policy] through an instrumented copy whose
// handler slices hold the user's handlers, then its own. Nothing in this
// package modifies a Transport or a Policy. The backoff package itself does
// not import Prometheus; only programs that import this package do.
//
// [New] creates the metrics on a prometheus.Registerer of the caller's
// choosing (never the global default unless it is the one given); they are
// then wired where a Transport or a Policy is built:
//
//	reg := prometheus.NewRegistry()
//	m, err := metrics.New(reg)
//	if err != nil {
//		return err
//	}
//	t := &backoff.Transport{Trace: m.Trace()}
//	m.ObserveBudget(t.RetryBudget())
//	client := &http.Client{Transport: t}
//	getUser := metrics.InstrumentPolicy(m, &backoff.Policy[*User]{Name: "get_user"})
//
// # HTTP metrics
//
// The hooks of [Metrics.Trace] feed these metrics, and
// [Metrics.ObserveBudget] the last one, shown with the default namespace
// "backoff" (see [WithNamespace] and [WithSubsystem]):
//
//	backoff_http_attempts_total{method, code}                     counter
//	backoff_http_retries_total{method, reason}                    counter
//	backoff_http_giveups_total{method, reason}                    counter
//	backoff_http_not_replayable_total{method}                     counter
//	backoff_http_hedges_total{method}                             counter
//	backoff_http_hedged_requests_total{method, winner}            counter
//	backoff_http_wait_seconds{method}                             histogram
//	backoff_http_retry_after_seconds{method, outcome}             histogram
//	backoff_http_request_attempts{method}                         histogram
//	backoff_http_request_retry_delay_seconds{method}              histogram
//	backoff_http_waits_in_flight{method}                          gauge
//	backoff_http_request_duration_seconds{method, outcome}        histogram, with WithRequestDurations
//	backoff_http_attempt_duration_seconds{method, code}           histogram, with WithAttemptDurations
//	backoff_http_retry_budget_hosts                      gauge
//	backoff_http_retry_budget_refusing_hosts             gauge
//	backoff_http_retry_budget_tokens{host}               gauge, with WithHosts only
//
// The budget gauges describe the retry budgets (see [backoff.Budget]) of
// the Transports given to ObserveBudget, read at each scrape at a cost
// that does not depend on the number of hosts: the hosts with a bucket of
// their own (those that spent retries and have not earned them back), the
// hosts whose retries were refused during the last whole second, and, for
// each host of the [WithHosts] allow-list, the retries the budgets allow
// it now (the lowest among the budgets; a host without a bucket of its
// own is at MaxTokens). The counts are summed over the budgets. The
// refusals themselves are counted in backoff_http_giveups_total with the
// reason "budget".
//
// The labels and their values:
//
//   - method: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE,
//     CONNECT (matched without regard to case), or "other".
//   - host, on every HTTP metric, only with [WithHosts]: a host of the
//     allow-list or "other".
//   - code: the response's status code ("200", "503") from 100 to 599,
//     "invalid" outside that range; for an attempt that got no response,
//     the class of its error, decided by its type (errors.Is and
//     errors.As), never by its message: "timeout", "connection", "tls",
//     "canceled" or "error" (any other error).
//   - reason of a retry: "status" (a retryable status), "transport_error",
//     "retry_after" (a response with a server-given wait, Retry-After or
//     the reset of a used-up rate limit, which set the wait's floor).
//   - reason of a give-up: the [backoff.Reason] values max_tries,
//     max_time, deadline, giveup, exhausted, canceled, retry_after,
//     not_replayable, budget, or "other" for a reason unknown to this
//     package.
//   - winner of a hedged request: "original" (the attempt the hedges were
//     sent for gave the answer kept) or "hedge".
//   - outcome of a request (http_request_duration_seconds): "success", a
//     response with a status below 400, or "failure".
//   - outcome of a server-given wait (Retry-After or a rate limit's reset,
//     in http_retry_after_seconds): "honored" (a retry followed, no
//     earlier than asked), "refused" (the request gave up because of it,
//     reason retry_after), "unused" (the request ended for another reason,
//     or its status was not retried).
//
// No label ever holds a URL, a path or a query, so the number of series is
// bounded by the options alone.
//
// # Operation metrics
//
// The copy of a Policy that [InstrumentPolicy] returns feeds the same
// measures for operations run by the engine outside HTTP, labelled by the
// Policy's Name instead of the method:
//
//	backoff_operation_attempts_total{operation, result}  counter
//	backoff_operation_retries_total{operation, reason}   counter
//	backoff_operation_giveups_total{operation, reason}   counter
//	backoff_operation_wait_seconds{operation}            histogram
//	backoff_operation_call_attempts{operation}           histogram
//	backoff_operation_waits_in_flight{operation}         gauge
//	backoff_operation_call_duration_seconds{operation}   histogram, with WithRequestDurations
//
// result is "ok", "rejected" (no error, but RetryIf asked for a retry) or
// the error class, as code above; the reason of a retry is "error" or
// "value"; the reasons of a give-up are those of HTTP. The operation names
// must come from a small, fixed set; past the first 100 names a Metrics
// sees, calls are labelled "other".
//
// The HTTP and the operation metrics have names of their own, so that one
// registry never holds a metric name with two sets of labels, and one
// Metrics serves both kinds.
//
// # What is counted when
//
// An attempt is counted once it has returned, whatever its outcome, an
// error that is not retried included. A retry, and its wait, are counted
// when the wait begins (on the backoff event), the wait being the one
// scheduled: jitter, the Retry-After floor and the clamp to MaxTime
// included. A give-up is counted once per call that gives up, a call
// cancelled during a wait included (reason canceled, or deadline). A
// request whose first attempt failed and that could not be sent again (a
// POST, a body that could not be kept: reason not_replayable at its first
// attempt) was never eligible for a retry: it is counted in
// http_not_replayable_total, not as a give-up.
//
// Hedges (see [backoff.Hedging]) are counted apart, when sent, in
// http_hedges_total, and a request that sent any is counted once when it
// ends in http_hedged_requests_total, by winner. A round of hedged
// attempts is one attempt in http_attempts_total, with the code of the
// answer it kept; http_request_attempts counts every request sent, hedges
// included; a hedge is no retry (http_retries_total,
// http_request_retry_delay_seconds). The share of requests hedged is
// sum(rate(backoff_http_hedged_requests_total[5m])) /
// sum(rate(backoff_http_request_attempts_count[5m])), and the share of
// hedged requests that a hedge answered is their winner="hedge" series
// over all of them.
//
// A call ends exactly once: with its success, with an error that is not
// retried, or with a give-up. Its number of attempts is then observed
// (http_request_attempts_count counts the requests, and its bucket le="1"
// those that needed no retry), and for a call that was retried, the time
// it waited between its attempts (Event.Waited): the latency its retries
// added, at p50 or p99 with histogram_quantile over
// http_request_retry_delay_seconds. With [WithRequestDurations], its
// duration too (Event.Elapsed or Details.Elapsed: from the start of the
// first attempt to the end of the last, waits included, or to the
// cancellation), by outcome.
//
// A wait is in flight from its backoff event until the next attempt
// returns or the context ends the call. The gauge is exact once every call
// has returned; while calls run, it may count a wait too many for the
// instant between an attempt after which the context is found done and
// the give-up event that follows.
//
// # Exemplars
//
// With [WithExemplars], the request durations (with
// [WithRequestDurations]), retry delays and waits carry an exemplar, such as the trace ID of the sampled span in the
// request's context, so that a slow bucket links to a trace.
//
// # Cardinality, cost, concurrency
//
// The children of the metric vectors are resolved once, on first use, and
// kept per method (and host) or per operation: counting an event costs a
// few atomic operations and no allocation. The attempts and the attempts
// per call are kept in integer counters of their own, shared: a request
// (or a call of an operation) that succeeds at its first attempt costs
// one atomic addition, from the Trace's OnAttempt hook alone (the Trace
// has no OnSuccess hook), and no clock read beyond the one at the start of
// every call: the Trace and the instrumented Policy declare that they do
// not read its time (backoff.Trace.UntimedFirstSuccess,
// backoff.Policy.UntimedFirstSuccess). [WithRequestDurations] and
// [WithAttemptDurations] add, to such a request, a histogram observation
// each and the second clock read they need.
//
// Measured on a busy 2-core virtual machine (the method and the run are in
// bench/README.md of the repository), for a first-attempt success, the
// medians of 20 interleaved runs, with 0 allocations in every case:
//
//	                          no metrics   default          all opt-ins
//	Transport, in-memory Base 76 ns        102 ns (+26 ns)  193 ns (+117 ns)
//	  with WithHosts                       111 ns (+36 ns)
//	Policy                    37 ns         65 ns (+27 ns)  122 ns (+85 ns)
//
// What the default metrics add to the Transport is the building and the
// dispatch of the Event (a 112-byte value, passed to the OnAttempt hook),
// the lookup of the series and that one atomic addition.
//
// Series appear when first used and are never deleted.
//
// A [Metrics] is safe for concurrent use by any number of goroutines,
// Transports and Policies; their counts add up.
package metrics
