package backoff_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

var errUnavailable = errors.New("service unavailable")

// flaky returns an operation that fails n times, then returns "ok".
func flaky(n int) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		if n > 0 {
			n--
			return "", errUnavailable
		}
		return "ok", nil
	}
}

func ExamplePolicy_Do() {
	p := &backoff.Policy[string]{
		Wait:        strategy.Expo{Factor: time.Millisecond, Max: 10 * time.Millisecond},
		Jitter:      jitter.None,
		MaxAttempts: 5,
		OnBackoff: []backoff.Handler[string]{func(d backoff.Details[string]) {
			fmt.Printf("attempt %d failed (%v), waiting %v\n", d.Attempts, d.Err, d.Wait)
		}},
	}
	v, err := p.Do(context.Background(), flaky(2))
	fmt.Println(v, err)
	// Output:
	// attempt 1 failed (service unavailable), waiting 1ms
	// attempt 2 failed (service unavailable), waiting 2ms
	// ok <nil>
}

func ExamplePolicy_Do_giveUp() {
	p := &backoff.Policy[string]{Wait: strategy.Immediate, MaxAttempts: 3}
	_, err := p.Do(context.Background(), flaky(10))
	fmt.Println(err)
	fmt.Println(errors.Is(err, backoff.ErrMaxAttempts), errors.Is(err, errUnavailable))
	// Output:
	// backoff: giving up after 3 attempts (max_tries): last error: service unavailable
	// true true
}

// Retrying on a value, like Python's on_predicate: poll until a job is done.
func ExamplePolicy_Do_onValue() {
	states := []string{"pending", "running", "done"}
	p := &backoff.Policy[string]{
		RetryIf:     func(s string) bool { return s != "done" },
		Wait:        strategy.Constant{Interval: time.Millisecond},
		MaxAttempts: backoff.Unlimited,
		MaxTime:     time.Minute,
	}
	state, err := p.Do(context.Background(), func(context.Context) (string, error) {
		s := states[0]
		states = states[1:]
		fmt.Println("state:", s)
		return s, nil
	})
	fmt.Println(state, err)
	// Output:
	// state: pending
	// state: running
	// state: done
	// done <nil>
}

func ExamplePolicy_Run() {
	attempts := 0
	p := &backoff.Policy[struct{}]{
		RetryOn: backoff.ErrorIs(errUnavailable),
		Wait:    strategy.Immediate,
	}
	err := p.Run(context.Background(), func(context.Context) error {
		attempts++
		if attempts < 3 {
			return errUnavailable
		}
		return nil
	})
	fmt.Println(attempts, err)
	// Output: 3 <nil>
}

func fetch(context.Context) (string, error) { return "", errUnavailable }

// Wrap is the analogue of Python's decorator: the wrapped function has the
// same signature, and log lines carry its name.
func ExamplePolicy_Wrap() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key != slog.LevelKey && a.Key != slog.MessageKey {
				return slog.Attr{} // keep the example's output short
			}
			return a
		},
	}))
	p := &backoff.Policy[string]{
		Wait:        strategy.Immediate,
		MaxAttempts: 2,
		Logger:      logger,
	}
	fetchWithRetry := p.Wrap(fetch)
	_, err := fetchWithRetry(context.Background())
	fmt.Println(errors.Is(err, backoff.ErrMaxAttempts))
	// Output:
	// level=INFO msg="Backing off backoff_test.fetch(...) for 0s (service unavailable)"
	// level=ERROR msg="Giving up backoff_test.fetch(...) after 2 attempts (service unavailable)"
	// true
}

func ping(context.Context) error { return errUnavailable }

// WrapRun is Wrap for an operation that returns only an error.
func ExamplePolicy_WrapRun() {
	p := &backoff.Policy[struct{}]{
		Wait:        strategy.Immediate,
		MaxAttempts: 3,
		OnGiveUp: []backoff.Handler[struct{}]{func(d backoff.Details[struct{}]) {
			fmt.Printf("%s: giving up after %d attempts (%s)\n", d.Name, d.Attempts, string(d.Reason))
		}},
	}
	pingWithRetry := p.WrapRun(ping)
	err := pingWithRetry(context.Background())
	fmt.Println(errors.Is(err, errUnavailable))
	// Output:
	// backoff_test.ping: giving up after 3 attempts (max_tries)
	// true
}

// A Policy with SingleAttemptBelow marks the context of each attempt, so
// that a Transport inside the operation makes a single attempt and only
// the Policy retries.
func ExamplePolicy_singleAttemptBelow() {
	p := &backoff.Policy[string]{
		Wait:               strategy.Immediate,
		MaxAttempts:        2,
		SingleAttemptBelow: true,
	}
	v, err := p.Do(context.Background(), func(ctx context.Context) (string, error) {
		fmt.Println("single attempt below:", backoff.IsSingleAttempt(ctx))
		return "ok", nil
	})
	fmt.Println(v, err)
	// Output:
	// single attempt below: true
	// ok <nil>
}

// Validate reports invalid configuration when it is read, as a
// *ConfigError, instead of letting the Policy normalise it.
func ExamplePolicy_Validate() {
	p := &backoff.Policy[string]{Wait: (*strategy.Expo)(nil)}
	err := p.Validate()
	var ce *backoff.ConfigError
	fmt.Println(errors.As(err, &ce), ce.Field)
	// Output: true Policy.Wait
}

func ExampleErrorIs() {
	errThrottled := errors.New("throttled")
	retryOn := backoff.ErrorIs(errUnavailable, errThrottled)
	fmt.Println(retryOn(fmt.Errorf("GET /items: %w", errThrottled)))
	fmt.Println(retryOn(errors.New("bad request")))
	// Output:
	// true
	// false
}

// TempError is an error type that a RetryOn predicate can select by type.
type TempError struct{ Op string }

func (e *TempError) Error() string { return e.Op + ": temporary failure" }

func ExampleErrorAs() {
	attempts := 0
	p := &backoff.Policy[string]{
		RetryOn: backoff.ErrorAs[*TempError](),
		Wait:    strategy.Immediate,
	}
	_, err := p.Do(context.Background(), func(context.Context) (string, error) {
		attempts++
		if attempts == 1 {
			return "", fmt.Errorf("lookup: %w", &TempError{Op: "read"})
		}
		return "", errors.New("permanent failure") // not retried
	})
	fmt.Println(attempts, err)
	// Output: 2 permanent failure
}

func ExampleAnyOf() {
	retryOn := backoff.AnyOf(
		backoff.ErrorIs(context.DeadlineExceeded),
		backoff.ErrorAs[*TempError](),
	)
	fmt.Println(retryOn(&TempError{Op: "write"}), retryOn(context.DeadlineExceeded), retryOn(context.Canceled))
	// Output: true true false
}

// IsZero is Python's default on_predicate: retry while the result is the
// zero value.
func ExampleIsZero() {
	values := []int{0, 0, 42}
	p := &backoff.Policy[int]{RetryIf: backoff.IsZero[int], Wait: strategy.Immediate}
	v, err := p.Do(context.Background(), func(context.Context) (int, error) {
		v := values[0]
		values = values[1:]
		return v, nil
	})
	fmt.Println(v, err)
	// Output: 42 <nil>
}
