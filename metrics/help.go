package metrics

// help holds the help text of every metric, by name without namespace and
// subsystem.
var help = map[string]string{
	"http_attempts_total":              "Attempts of HTTP requests sent by a backoff.Transport, by method and by status code (\"invalid\" outside 100-599), or by error class (timeout, connection, tls, canceled, error) for an attempt that got no response.",
	"http_retries_total":               "Retries of HTTP requests decided by a backoff.Transport, by method and by what the failed attempt got: a retryable status, a transport error, or a response with Retry-After.",
	"http_attempt_duration_seconds":    "Time taken by each attempt of an HTTP request sent by a backoff.Transport, in seconds, from its start to its response's headers or its error, by method and by status code or error class as http_attempts_total.",
	"http_giveups_total":               "HTTP requests a backoff.Transport gave up on, by method and reason (max_tries, max_time, deadline, giveup, exhausted, canceled, retry_after, not_replayable, budget).",
	"http_not_replayable_total":        "HTTP requests whose first attempt failed and that a backoff.Transport could not send again (a method that is not idempotent, a body it could not keep): never eligible for a retry, so not give-ups.",
	"http_hedges_total":                "Hedges sent by a backoff.Transport (further attempts of a slow request, in parallel with it), by method.",
	"http_hedged_requests_total":       "HTTP requests for which a backoff.Transport sent hedges, by method and by the attempt whose answer was kept: original (the attempt the hedges were sent for) or hedge.",
	"http_wait_seconds":                "Waits before the retries of HTTP requests by a backoff.Transport, in seconds, jitter and Retry-After included.",
	"http_retry_after_seconds":         "Waits asked for by responses to a backoff.Transport (Retry-After, or the reset of a used-up rate limit), in seconds, by outcome: honored (a retry followed, no earlier), refused (the request gave up because of it), unused (the request ended for another reason).",
	"http_request_duration_seconds":    "Time taken by HTTP requests through a backoff.Transport, in seconds, from the start of the first attempt to the end of the last, waits included, by outcome: success (a response with a status below 400) or failure.",
	"http_request_retry_delay_seconds": "Time HTTP requests retried by a backoff.Transport spent waiting between their attempts, in seconds, draining included: the latency the retries added beyond the attempts themselves.",
	"http_request_attempts":            "Attempts made per HTTP request by a backoff.Transport.",
	"http_retry_budget_tokens":         "Retries the retry budgets of the instrumented backoff.Transports allow now to each host of the WithHosts allow-list (the lowest among the budgets).",
	"http_retry_budget_hosts":          "Hosts with a bucket of their own in the retry budgets of the instrumented backoff.Transports: those that spent retries and have not earned them back.",
	"http_retry_budget_refusing_hosts": "Hosts whose retries the retry budgets of the instrumented backoff.Transports refused during the last whole second (the hosts beyond a budget's MaxHosts count as one).",
	"http_waits_in_flight":             "HTTP requests a backoff.Transport is holding in a wait before a retry.",
	"operation_attempts_total":         "Attempts of operations run by a backoff.Policy, by operation and result: ok, rejected (no error, but the value was retried), or the error class (timeout, connection, tls, canceled, error).",
	"operation_retries_total":          "Retries of operations decided by a backoff.Policy, by operation and by what the failed attempt returned: an error, or a value to retry.",
	"operation_giveups_total":          "Calls of operations a backoff.Policy gave up on, by operation and reason (max_tries, max_time, deadline, giveup, exhausted, canceled).",
	"operation_wait_seconds":           "Waits before the retries of operations by a backoff.Policy, in seconds, jitter included.",
	"operation_call_duration_seconds":  "Time taken by calls of operations through a backoff.Policy, in seconds, from the start of the first attempt to the end of the last, waits included.",
	"operation_call_attempts":          "Attempts made per call of an operation by a backoff.Policy.",
	"operation_waits_in_flight":        "Calls of operations a backoff.Policy is holding in a wait before a retry.",
}
