package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/metrics"
	"github.com/f99b3bbb/backoff/strategy"
)

var (
	errPermanent = errors.New("permanent")
	errFatal     = errors.New("fatal")
)

// steps returns an operation that returns the results in order, the last
// one again and again.
func steps[T any](results ...func() (T, error)) func(context.Context) (T, error) {
	n := 0
	return func(context.Context) (T, error) {
		r := results[min(n, len(results)-1)]
		n++
		return r()
	}
}

func errorOf[T any](err error) func() (T, error) {
	return func() (T, error) {
		var zero T
		return zero, err
	}
}

func valueOf[T any](v T) func() (T, error) { return func() (T, error) { return v, nil } }

// TestOperationExposition drives Policies outside HTTP, named and not, in
// error and value mode, through success, errors not retried, the GiveUp
// predicate and max_tries, and compares the whole exposition, in virtual
// time.
func TestOperationExposition(t *testing.T) {
	m := newMetrics(t, metrics.WithRequestDurations())
	fetch := metrics.InstrumentPolicy(m, &backoff.Policy[int]{
		Name:        "fetch_user",
		RetryOn:     func(err error) bool { return !errors.Is(err, errPermanent) },
		GiveUp:      func(err error) bool { return errors.Is(err, errFatal) },
		Wait:        strategy.Immediate,
		Jitter:      jitter.None,
		MaxAttempts: 3,
	})
	poll := metrics.InstrumentPolicy(m, &backoff.Policy[int]{
		Name:        "poll",
		RetryIf:     func(v int) bool { return v == 0 },
		Wait:        strategy.Constant{Interval: time.Second},
		Jitter:      jitter.None,
		MaxAttempts: 3,
	})
	unnamed := metrics.InstrumentPolicy(m, &backoff.Policy[struct{}]{
		Wait:        strategy.Immediate,
		MaxAttempts: 2,
	})

	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		fetch.Do(ctx, steps(errorOf[int](context.DeadlineExceeded), errorOf[int](errors.New("boom")), valueOf(42)))
		fetch.Do(ctx, steps(errorOf[int](errPermanent)))
		fetch.Do(ctx, steps(errorOf[int](errFatal)))
		poll.Do(ctx, steps(valueOf(0)))
		unnamed.Run(ctx, func(context.Context) error { return io.ErrUnexpectedEOF })
	})

	compare(t, m, head("operation_attempts_total", "counter")+`
backoff_operation_attempts_total{operation="fetch_user",result="ok"} 1
backoff_operation_attempts_total{operation="fetch_user",result="error"} 3
backoff_operation_attempts_total{operation="fetch_user",result="timeout"} 1
backoff_operation_attempts_total{operation="operation",result="connection"} 2
backoff_operation_attempts_total{operation="poll",result="rejected"} 3
`+head("operation_call_attempts", "histogram")+`
backoff_operation_call_attempts_bucket{operation="fetch_user",le="1"} 2
backoff_operation_call_attempts_bucket{operation="fetch_user",le="2"} 2
backoff_operation_call_attempts_bucket{operation="fetch_user",le="3"} 3
backoff_operation_call_attempts_bucket{operation="fetch_user",le="+Inf"} 3
backoff_operation_call_attempts_sum{operation="fetch_user"} 5
backoff_operation_call_attempts_count{operation="fetch_user"} 3
backoff_operation_call_attempts_bucket{operation="operation",le="1"} 0
backoff_operation_call_attempts_bucket{operation="operation",le="2"} 1
backoff_operation_call_attempts_bucket{operation="operation",le="3"} 1
backoff_operation_call_attempts_bucket{operation="operation",le="+Inf"} 1
backoff_operation_call_attempts_sum{operation="operation"} 2
backoff_operation_call_attempts_count{operation="operation"} 1
backoff_operation_call_attempts_bucket{operation="poll",le="1"} 0
backoff_operation_call_attempts_bucket{operation="poll",le="2"} 0
backoff_operation_call_attempts_bucket{operation="poll",le="3"} 1
backoff_operation_call_attempts_bucket{operation="poll",le="+Inf"} 1
backoff_operation_call_attempts_sum{operation="poll"} 3
backoff_operation_call_attempts_count{operation="poll"} 1
`+head("operation_call_duration_seconds", "histogram")+`
backoff_operation_call_duration_seconds_bucket{operation="fetch_user",le="1"} 3
backoff_operation_call_duration_seconds_bucket{operation="fetch_user",le="5"} 3
backoff_operation_call_duration_seconds_bucket{operation="fetch_user",le="+Inf"} 3
backoff_operation_call_duration_seconds_sum{operation="fetch_user"} 0
backoff_operation_call_duration_seconds_count{operation="fetch_user"} 3
backoff_operation_call_duration_seconds_bucket{operation="operation",le="1"} 1
backoff_operation_call_duration_seconds_bucket{operation="operation",le="5"} 1
backoff_operation_call_duration_seconds_bucket{operation="operation",le="+Inf"} 1
backoff_operation_call_duration_seconds_sum{operation="operation"} 0
backoff_operation_call_duration_seconds_count{operation="operation"} 1
backoff_operation_call_duration_seconds_bucket{operation="poll",le="1"} 0
backoff_operation_call_duration_seconds_bucket{operation="poll",le="5"} 1
backoff_operation_call_duration_seconds_bucket{operation="poll",le="+Inf"} 1
backoff_operation_call_duration_seconds_sum{operation="poll"} 2
backoff_operation_call_duration_seconds_count{operation="poll"} 1
`+head("operation_giveups_total", "counter")+`
backoff_operation_giveups_total{operation="fetch_user",reason="giveup"} 1
backoff_operation_giveups_total{operation="operation",reason="max_tries"} 1
backoff_operation_giveups_total{operation="poll",reason="max_tries"} 1
`+head("operation_retries_total", "counter")+`
backoff_operation_retries_total{operation="fetch_user",reason="error"} 2
backoff_operation_retries_total{operation="operation",reason="error"} 1
backoff_operation_retries_total{operation="poll",reason="value"} 2
`+head("operation_wait_seconds", "histogram")+`
backoff_operation_wait_seconds_bucket{operation="fetch_user",le="1"} 2
backoff_operation_wait_seconds_bucket{operation="fetch_user",le="5"} 2
backoff_operation_wait_seconds_bucket{operation="fetch_user",le="+Inf"} 2
backoff_operation_wait_seconds_sum{operation="fetch_user"} 0
backoff_operation_wait_seconds_count{operation="fetch_user"} 2
backoff_operation_wait_seconds_bucket{operation="operation",le="1"} 1
backoff_operation_wait_seconds_bucket{operation="operation",le="5"} 1
backoff_operation_wait_seconds_bucket{operation="operation",le="+Inf"} 1
backoff_operation_wait_seconds_sum{operation="operation"} 0
backoff_operation_wait_seconds_count{operation="operation"} 1
backoff_operation_wait_seconds_bucket{operation="poll",le="1"} 2
backoff_operation_wait_seconds_bucket{operation="poll",le="5"} 2
backoff_operation_wait_seconds_bucket{operation="poll",le="+Inf"} 2
backoff_operation_wait_seconds_sum{operation="poll"} 2
backoff_operation_wait_seconds_count{operation="poll"} 2
`+head("operation_waits_in_flight", "gauge")+`
backoff_operation_waits_in_flight{operation="fetch_user"} 0
backoff_operation_waits_in_flight{operation="operation"} 0
backoff_operation_waits_in_flight{operation="poll"} 0
`)
	lint(t, m)
}

// TestOperationWaitsInFlight cancels a call during its wait and during an
// attempt that follows a wait.
func TestOperationWaitsInFlight(t *testing.T) {
	m := newMetrics(t)
	p := metrics.InstrumentPolicy(m, &backoff.Policy[int]{
		Name:        "sync",
		Wait:        strategy.Constant{Interval: time.Hour},
		MaxAttempts: 5,
	})
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() {
			_, err := p.Do(ctx, steps(errorOf[int](errors.New("unavailable"))))
			done <- err
		}()
		synctest.Wait()
		if got := value(t, m, "backoff_operation_waits_in_flight", "operation", "sync"); got != 1 {
			t.Errorf("during the wait: %v waits in flight, want 1", got)
		}
		cancel()
		if err := <-done; !errors.Is(err, backoff.ErrCanceled) {
			t.Errorf("err = %v, want ErrCanceled", err)
		}

		// Cancelled during the second attempt, whose error is retryable.
		ctx, cancel = context.WithCancel(context.Background())
		n := 0
		p.Do(ctx, func(ctx context.Context) (int, error) {
			if n++; n == 2 {
				cancel()
				return 0, ctx.Err()
			}
			return 0, errors.New("unavailable")
		})
	})
	if got := value(t, m, "backoff_operation_waits_in_flight", "operation", "sync"); got != 0 {
		t.Errorf("after the calls: %v waits in flight, want 0", got)
	}
	if got := value(t, m, "backoff_operation_giveups_total", "operation", "sync", "reason", "canceled"); got != 2 {
		t.Errorf("%v give-ups canceled, want 2", got)
	}
}

func loadConfig(context.Context) (string, error) { return "ok", nil }

// TestOperationNames checks the label of a wrapped function, of a name that
// is not valid UTF-8, and the limit on the number of operations.
func TestOperationNames(t *testing.T) {
	m := newMetrics(t)
	ctx := context.Background()
	wrapped := metrics.InstrumentPolicy(m, &backoff.Policy[string]{}).Wrap(loadConfig)
	wrapped(ctx)
	if got := value(t, m, "backoff_operation_attempts_total", "operation", "metrics_test.loadConfig", "result", "ok"); got != 1 {
		t.Errorf("wrapped function: %v attempts, want 1", got)
	}

	bad := metrics.InstrumentPolicy(m, &backoff.Policy[int]{Name: "bad\xffname"})
	bad.Do(ctx, steps(valueOf(1)))
	if got := value(t, m, "backoff_operation_attempts_total", "operation", "bad\uFFFDname"); got != 1 {
		t.Errorf("invalid UTF-8: %v attempts, want 1", got)
	}

	// Two operations are seen already; 100 more overflow by 2.
	for i := range 100 {
		p := metrics.InstrumentPolicy(m, &backoff.Policy[int]{Name: fmt.Sprintf("op%03d", i)})
		p.Do(ctx, steps(valueOf(1)))
	}
	if got := value(t, m, "backoff_operation_attempts_total", "operation", "other"); got != 2 {
		t.Errorf("past the limit: %v attempts labelled other, want 2", got)
	}
	if got := value(t, m, "backoff_operation_attempts_total", "operation", "op097"); got != 1 {
		t.Errorf("op097: %v attempts, want 1", got)
	}
	if got := value(t, m, "backoff_operation_attempts_total", "operation", "op098"); got != -1 {
		t.Errorf("op098 has a series (%v), want none", got)
	}
}
