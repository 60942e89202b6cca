// Package backoff retries operations with waits in between: a Go port of
// Python's backoff library (the engine), and an http.RoundTripper built on
// it (the Transport).
//
// # The engine
//
// A [Policy] says which outcomes are retried (errors, through RetryOn, as
// Python's on_exception does; values, through RetryIf, as on_predicate
// does), how long to wait between attempts (a [strategy.Strategy], spread by
// a [jitter.Func]), when to stop (MaxAttempts, MaxTime, the context's
// deadline, a GiveUp predicate, a finite strategy) and who hears about it
// (OnAttempt, OnSuccess, OnBackoff and OnGiveUp handlers, a *slog.Logger).
// It knows nothing of HTTP, and is generic over the operation's result:
//
//	p := &backoff.Policy[*User]{
//		RetryOn:     backoff.ErrorIs(ErrUnavailable),
//		Wait:        strategy.Expo{Factor: 100 * time.Millisecond, Max: 5 * time.Second},
//		MaxAttempts: 5,
//		MaxTime:     30 * time.Second,
//	}
//	user, err := p.Do(ctx, func(ctx context.Context) (*User, error) {
//		return api.GetUser(ctx, id)
//	})
//
// When a call gives up it returns an [*Error] that carries the [Reason]
// (errors.Is(err, backoff.ErrMaxAttempts)), the number of attempts and the
// last error, which errors.Is and errors.As still reach.
//
// # The Transport
//
// [Transport] retries HTTP requests through any http.RoundTripper, and is
// configured in HTTP terms, with fields of its own (MaxAttempts, MaxTime,
// Wait, Jitter, AttemptTimeout, Classify, Idempotent, RetryAfterStatuses,
// MaxRetryAfter, Budget, …). Its zero value is ready to use:
//
//	client := &http.Client{Transport: &backoff.Transport{}}
//
// It honours net/http's contracts to the letter: it never modifies the
// caller's request, never returns a response and an error together,
// closes every request body and drains and closes every response it does
// not return, retries only requests that are safe to replay, honours
// Retry-After (on 429 and 503 unless RetryAfterStatuses says otherwise) as
// a floor, with a cap, and caps the retries per host with a [Budget].
//
// # Events
//
// A Transport reports the events of its calls to the hooks of a [Trace]
// (OnAttempt, OnBackoff, OnSuccess, OnGiveUp), each with an [Event]: the
// request, the attempt's number, its response or error, the wait, the
// server-given wait and the reason. [JoinTraces] composes several
// subscribers (the caller's own, metrics, tracing). A Transport's Logger
// gets a line per retry and per give-up ("Backing off GET
// https://api.example for 250ms after 1 attempt (503 Service
// Unavailable)"); a Policy's Logger gets Python's lines ("Backing off
// NAME(...) for 250ms (ERROR)").
//
// # Nested layers
//
// Retrying layers stacked on one another multiply their attempts (three
// layers of 4 attempts make 64), so a Transport makes a single attempt in
// exactly two cases: when it is directly the Base of another Transport,
// and when the request's context carries the mark of [WithSingleAttempt],
// set by the caller, by a Policy with SingleAttemptBelow, or by a
// Transport with SingleAttemptBelow for the layers below a Base that wraps
// another Transport. In every other case it retries as configured.
//
// # The wait
//
// The wait before each retry is computed in one fixed order: the
// strategy's value, then its cap (strategy.Capped or a Max field), then
// jitter, then, for a Transport, the server-given floor (a Retry-After,
// spread upward by at most RetryAfterSpread and never past MaxRetryAfter),
// then the clamp to the time left under MaxTime. A wait that would end
// after the context's deadline is never started: the call gives up at
// once (a server-given wait that does not fit gives up with
// ErrRetryAfter).
package backoff
