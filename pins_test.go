package backoff_test

// Tests that pin behaviour no other test pins: each fails when the line
// of the engine or the Transport that it names is changed.

import (
	"context"
	"errors"
	"testing"
)

var errRunaway = errors.New("test: runaway call, cancelled")

// runawayGuard returns a context derived from ctx and a function that an
// operation calls once per attempt. Past limit attempts, it fails the test
// and cancels the context, so that a call that would otherwise never end
// (a limit not reached, waits of 0 that leave a synctest clock where it
// is) ends at once with a clear message instead of hanging the suite.
func runawayGuard(t *testing.T, ctx context.Context, limit int) (context.Context, func()) {
	t.Helper()
	ctx, cancel := context.WithCancelCause(ctx)
	t.Cleanup(func() { cancel(nil) })
	n := 0
	return ctx, func() {
		n++
		if n == limit+1 {
			t.Errorf("more than %d attempts: the call does not end; cancelled", limit)
			cancel(errRunaway)
		}
	}
}

// guarded returns op behind a runawayGuard of limit attempts, and the
// guard's context, derived from ctx, to call it with.
func guarded[T any](t *testing.T, ctx context.Context, limit int, op func(context.Context) (T, error)) (context.Context, func(context.Context) (T, error)) {
	t.Helper()
	ctx, attempt := runawayGuard(t, ctx, limit)
	return ctx, func(ctx context.Context) (T, error) {
		attempt()
		return op(ctx)
	}
}
