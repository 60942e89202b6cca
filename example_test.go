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
			fmt.Printf("try %d failed (%v), waiting %v\n", d.Attempts, d.Err, d.Wait)
		}},
	}
	v, err := p.Do(context.Background(), flaky(2))
	fmt.Println(v, err)
	// Output:
	// try 1 failed (service unavailable), waiting 1ms
	// try 2 failed (service unavailable), waiting 2ms
	// ok <nil>
}

func ExamplePolicy_Do_giveUp() {
	p := &backoff.Policy[string]{Wait: strategy.Immediate, MaxAttempts: 3}
	_, err := p.Do(context.Background(), flaky(10))
	fmt.Println(err)
	fmt.Println(errors.Is(err, backoff.ErrMaxAttempts), errors.Is(err, errUnavailable))
	// Output:
	// backoff: giving up after 3 tries (max_tries): last error: service unavailable
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
	// level=INFO msg="Backing off backoff_test.fetch(...) for 0.0s (service unavailable)"
	// level=ERROR msg="Giving up backoff_test.fetch(...) after 2 tries (service unavailable)"
	// true
}
