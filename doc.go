// Package backoff retries operations with waits in between: a Go port of
// Python's backoff library, and an http.RoundTripper built on it.
//
// # The engine
//
// A [Policy] says which outcomes are retried (errors, through RetryOn, as
// Python's on_exception does; values, through RetryIf, as on_predicate
// does), how long to wait between attempts (a [strategy.Strategy], spread by
// a [jitter.Func]), when to stop (MaxAttempts, MaxTime, the context's deadline,
// a GiveUp predicate, a finite strategy) and who hears about it (OnSuccess,
// OnBackoff and OnGiveUp handlers, a *slog.Logger):
//
//	p := &backoff.Policy[*User]{
//		RetryOn:  backoff.ErrorIs(ErrUnavailable),
//		Wait:     strategy.Expo{Factor: 100 * time.Millisecond, Max: 5 * time.Second},
//		MaxAttempts: 5,
//		MaxTime:  30 * time.Second,
//	}
//	user, err := p.Do(ctx, func(ctx context.Context) (*User, error) {
//		return api.GetUser(ctx, id)
//	})
//
// The wait before each retry is computed in one fixed order: the strategy's
// value (capped by the strategy), then jitter, then, for a server-given wait
// such as Retry-After, the floor, then the clamp to the time left under
// MaxTime. A wait that would end after the context's deadline is never
// started: the call gives up at once.
//
// When a call gives up it returns an [*Error] that carries the [Reason]
// (errors.Is(err, backoff.ErrMaxAttempts)), the number of tries and the last
// error, which errors.Is and errors.As still reach.
//
// # The Transport
//
// [Transport] retries HTTP requests through any http.RoundTripper:
//
//	client := &http.Client{Transport: &backoff.Transport{}}
//
// It honours net/http's contracts to the letter: it never modifies the
// caller's request, never returns a response and an error together,
// closes every request body and drains and closes every response it does
// not return, retries only requests that are safe to replay, and honours
// Retry-After as a floor, with a cap.
package backoff
