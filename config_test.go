package backoff_test

// Bad input, in tables: every configuration field with its bad values gets
// either a clear error from Validate, naming the field, or the normalisation
// its documentation states; and every response header the Transport reads is
// survived, however malformed.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

const maxDur = time.Duration(math.MaxInt64)

// retryProbes are the retry numbers every strategy is asked for.
var retryProbes = []int{math.MinInt, -1, 0, 1, 2, 3, 10, 62, 63, 64, 100, 1000, 1_000_000, math.MaxInt}

// randProbes are the random draws: in range and out of it.
var randProbes = []float64{0, 0.5, 1 - 0x1p-53, 1, 2, -1, math.NaN(), math.Inf(1), math.Inf(-1)}

// prevProbes are previous waits, Decorrelated's input.
var prevProbes = []time.Duration{0, -1, math.MinInt64, time.Second, maxDur}

var alwaysWait = func(any, error) (time.Duration, bool) { return 5 * time.Second, true }

func TestStrategyBadConfig(t *testing.T) {
	s := time.Second
	tests := []struct {
		name  string
		s     strategy.Strategy
		field string          // named by Validate's error; "" when valid
		want  []time.Duration // the waits for retries 1, 2, 3 (Rand 0, Prev 0); nil when exhausted at once
	}{
		{"Expo.Base negative", strategy.Expo{Base: -1}, "Expo.Base", []time.Duration{s, 2 * s, 4 * s}},
		{"Expo.Base NaN", strategy.Expo{Base: math.NaN()}, "Expo.Base", []time.Duration{s, 2 * s, 4 * s}},
		{"Expo.Base +Inf", strategy.Expo{Base: math.Inf(1)}, "Expo.Base", []time.Duration{s, 2 * s, 4 * s}},
		{"Expo.Base -Inf", strategy.Expo{Base: math.Inf(-1)}, "Expo.Base", []time.Duration{s, 2 * s, 4 * s}},
		{"Expo.Base 1e300", strategy.Expo{Base: 1e300}, "", []time.Duration{s, maxDur, maxDur}},
		{"Expo.Base tiny", strategy.Expo{Base: 1e-300}, "", []time.Duration{s, 0, 0}},
		{"Expo.Factor negative", strategy.Expo{Factor: -s}, "Expo.Factor", []time.Duration{s, 2 * s, 4 * s}},
		{"Expo.Factor MinInt64", strategy.Expo{Factor: math.MinInt64}, "Expo.Factor", []time.Duration{s, 2 * s, 4 * s}},
		{"Expo.Factor MaxInt64", strategy.Expo{Factor: maxDur}, "", []time.Duration{maxDur, maxDur, maxDur}},
		{"Expo.Max negative", strategy.Expo{Max: -s}, "Expo.Max", []time.Duration{s, 2 * s, 4 * s}},
		{"Expo.Max 1ns", strategy.Expo{Max: 1}, "", []time.Duration{1, 1, 1}},
		{"Expo all bad", strategy.Expo{Base: math.NaN(), Factor: -1, Max: -1}, "Expo.Max", []time.Duration{s, 2 * s, 4 * s}},

		{"Fibo.Unit negative", strategy.Fibo{Unit: -s}, "Fibo.Unit", []time.Duration{s, s, 2 * s}},
		{"Fibo.Unit MaxInt64", strategy.Fibo{Unit: maxDur}, "", []time.Duration{maxDur, maxDur, maxDur}},
		{"Fibo.Max negative", strategy.Fibo{Max: math.MinInt64}, "Fibo.Max", []time.Duration{s, s, 2 * s}},

		{"Constant.Interval negative", strategy.Constant{Interval: -s}, "Constant.Interval", []time.Duration{0, 0, 0}},
		{"Constant.Interval MinInt64", strategy.Constant{Interval: math.MinInt64}, "Constant.Interval", []time.Duration{0, 0, 0}},
		{"Constant.Interval MaxInt64", strategy.Constant{Interval: maxDur}, "", []time.Duration{maxDur, maxDur, maxDur}},

		{"Sequence empty", strategy.Sequence{}, "Sequence is empty", nil},
		{"Sequence nil", strategy.Sequence(nil), "Sequence is empty", nil},
		{"Sequence negative item", strategy.Sequence{s, -s, math.MinInt64}, "Sequence[1]", []time.Duration{s, 0, 0}},
		{"Sequence MaxInt64 item", strategy.Sequence{maxDur, maxDur, maxDur}, "", []time.Duration{maxDur, maxDur, maxDur}},

		{"Decay.Initial negative", strategy.Decay{Initial: -s}, "Decay.Initial", []time.Duration{s, 367879441, 135335283}},
		{"Decay.Factor NaN", strategy.Decay{Factor: math.NaN()}, "Decay.Factor", []time.Duration{s, 367879441, 135335283}},
		{"Decay.Factor negative", strategy.Decay{Factor: -2}, "Decay.Factor", []time.Duration{s, 367879441, 135335283}},
		{"Decay.Factor +Inf", strategy.Decay{Factor: math.Inf(1)}, "Decay.Factor", []time.Duration{s, 367879441, 135335283}},
		{"Decay.Factor 1e300", strategy.Decay{Factor: 1e300}, "", []time.Duration{s, 0, 0}},
		{"Decay.Min negative", strategy.Decay{Min: -s}, "Decay.Min", []time.Duration{s, 367879441, 135335283}},
		{"Decay.Initial MaxInt64", strategy.Decay{Initial: maxDur, Factor: 1e-300}, "", []time.Duration{maxDur, maxDur, maxDur}},

		{"Linear.Initial negative", strategy.Linear{Initial: -s}, "Linear.Initial", []time.Duration{s, 2 * s, 3 * s}},
		{"Linear.Step negative", strategy.Linear{Step: -s}, "Linear.Step", []time.Duration{s, 2 * s, 3 * s}},
		{"Linear.Max negative", strategy.Linear{Max: -s}, "Linear.Max", []time.Duration{s, 2 * s, 3 * s}},
		{"Linear.Step MaxInt64", strategy.Linear{Step: maxDur}, "", []time.Duration{s, maxDur, maxDur}},

		{"Decorrelated.Base negative", strategy.Decorrelated{Base: -s}, "Decorrelated.Base", []time.Duration{s, s, s}},
		{"Decorrelated.Max negative", strategy.Decorrelated{Max: -s}, "Decorrelated.Max", []time.Duration{s, s, s}},
		{"Decorrelated.Base MaxInt64", strategy.Decorrelated{Base: maxDur}, "", []time.Duration{maxDur, maxDur, maxDur}},

		{"Capped.Strategy nil", strategy.Capped{Max: s}, "Capped.Strategy is nil", nil},
		{"Capped.Max negative", strategy.Capped{Strategy: strategy.Constant{Interval: s}, Max: -s}, "Capped.Max", []time.Duration{s, s, s}},
		{"Capped.Strategy invalid", strategy.Capped{Strategy: strategy.Expo{Base: math.NaN()}, Max: 3 * s}, "Capped.Strategy: Expo.Base", []time.Duration{s, 2 * s, 3 * s}},

		{"Runtime.Value nil", strategy.Runtime{Fallback: strategy.Constant{Interval: s}}, "Runtime.Value is nil", []time.Duration{s, s, s}},
		{"Runtime.Value nil, no Fallback", strategy.Runtime{}, "Runtime.Value is nil", nil},
		{"Runtime.Fallback invalid", strategy.Runtime{Value: alwaysWait, Fallback: strategy.Sequence{}}, "Runtime.Fallback: Sequence is empty", []time.Duration{5 * s, 5 * s, 5 * s}},
		{"Runtime negative Value", strategy.Runtime{Value: func(any, error) (time.Duration, bool) { return -s, true }}, "", []time.Duration{0, 0, 0}},

		{"Func nil", strategy.Func(nil), "Func is nil", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.(interface{ Validate() error }).Validate()
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("Validate() = %v; want nil", err)
			case tt.field != "" && (err == nil || !strings.Contains(err.Error(), tt.field) || !strings.HasPrefix(err.Error(), "strategy: ")):
				t.Errorf("Validate() = %v; want an error naming %s", err, tt.field)
			}

			// The documented normalisation.
			for i, want := range tt.want {
				if got, ok := tt.s.Next(strategy.State{Retry: i + 1}); got != want || !ok {
					t.Errorf("Next(retry %d) = %v, %v; want %v, true", i+1, got, ok, want)
				}
			}
			if tt.want == nil {
				if got, ok := tt.s.Next(strategy.State{Retry: 1}); ok || got != 0 {
					t.Errorf("Next(retry 1) = %v, %v; want 0, false (exhausted)", got, ok)
				}
			}
			// Whatever the State: no panic, never negative.
			for _, r := range retryProbes {
				for _, u := range randProbes {
					for _, prev := range prevProbes {
						w, ok := tt.s.Next(strategy.State{Retry: r, Rand: u, Prev: prev})
						if w < 0 || !ok && w != 0 {
							t.Fatalf("Next(retry %d, rand %v, prev %v) = %v, %v", r, u, prev, w, ok)
						}
					}
				}
			}

			// A Policy using it: Validate and Wrap report the error; Do runs
			// with the normalisation, within its limits.
			p := backoff.Policy[int]{Wait: tt.s, MaxAttempts: 5, MaxTime: time.Minute, Jitter: jitter.None}
			if got := p.Validate(); (got == nil) != (err == nil) {
				t.Errorf("Policy.Validate() = %v; want the strategy's %v", got, err)
			}
			if err != nil {
				calls := 0
				wrapped := p.Wrap(func(context.Context) (int, error) { calls++; return 0, errBoom })
				if _, werr := wrapped(context.Background()); werr == nil || werr.Error() != err.Error() || calls != 0 {
					t.Errorf("Wrap: %v after %d calls; want the Validate error and no call", werr, calls)
				}
			}
			checkPolicyBounded(t, p, 5, time.Minute)

			// A Transport using it refuses every request with the error,
			// or runs within its limits.
			synctest.Test(t, func(t *testing.T) {
				base := &fakeBase{steps: []step{{status: 503, body: "busy"}}}
				tr := &backoff.Transport{Base: base, Wait: tt.s, MaxAttempts: 3, MaxTime: time.Minute}
				resp, rterr := get(t, tr, "GET", "")
				if err != nil {
					if resp != nil || rterr == nil || rterr.Error() != err.Error() || len(base.sent) != 0 {
						t.Errorf("RoundTrip = %v, %v after %d attempts; want the Validate error, no attempt", resp, rterr, len(base.sent))
					}
					return
				}
				if rterr != nil || resp.StatusCode != 503 || len(base.sent) < 1 || len(base.sent) > 3 {
					t.Fatalf("RoundTrip = %v, %v after %d attempts; want the last 503 within 3 attempts", resp, rterr, len(base.sent))
				}
				base.checkBodies(t, resp)
				resp.Body.Close()
			})
		})
	}
}

// checkPolicyBounded runs p (which has the given MaxAttempts and MaxTime) on
// an operation that always fails, in a synctest bubble, and checks that the
// call stays within its limits, with sane waits.
func checkPolicyBounded(t *testing.T, p backoff.Policy[int], maxAttempts int, maxTime time.Duration) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		var waits []time.Duration
		p.OnBackoff = append(p.OnBackoff, func(d backoff.Details[int]) {
			waits = append(waits, d.Wait)
			if d.Wait < 0 || maxTime > 0 && d.Wait > maxTime-d.Elapsed {
				t.Errorf("wait %v after %v", d.Wait, d.Elapsed)
			}
		})
		calls := 0
		start := time.Now()
		_, err := p.Do(context.Background(), func(context.Context) (int, error) { calls++; return 0, errBoom })
		elapsed := time.Since(start)
		var e *backoff.Error
		if !errors.As(err, &e) || e.Attempts != calls || !errors.Is(err, errBoom) {
			t.Errorf("Do error = %v after %d calls; want a *backoff.Error", err, calls)
		}
		if calls < 1 || maxAttempts > 0 && calls > maxAttempts {
			t.Errorf("%d calls; want 1 to %d", calls, maxAttempts)
		}
		if maxTime > 0 && elapsed > maxTime {
			t.Errorf("took %v; want at most %v", elapsed, maxTime)
		}
	})
}

func TestJitterBadInput(t *testing.T) {
	funcs := []struct {
		name string
		f    jitter.Func
		// lo and hi bound the result for a wait d >= 0.
		lo, hi func(d time.Duration) time.Duration
	}{
		{"Full", jitter.Full, zero, same},
		{"Equal", jitter.Equal, half, same},
		{"Random", jitter.Random, same, plusSecond},
		{"None", jitter.None, same, same},
		{"Upward(NaN)", jitter.Upward(math.NaN()), same, same}, // documented: as 0, i.e. None
		{"Upward(-1)", jitter.Upward(-1), same, same},
		{"Upward(+Inf)", jitter.Upward(math.Inf(1)), same, same},
		{"Upward(-Inf)", jitter.Upward(math.Inf(-1)), same, same},
		{"Upward(0.5)", jitter.Upward(0.5), same, func(d time.Duration) time.Duration { return satAdd(d, d/2) }},
		{"Upward(1e300)", jitter.Upward(1e300), same, func(time.Duration) time.Duration { return maxDur }},
	}
	waits := []time.Duration{math.MinInt64, -time.Second, -1, 0, 1, 3, time.Second, maxDur / 2, maxDur - 1, maxDur}
	for _, fn := range funcs {
		t.Run(fn.name, func(t *testing.T) {
			for _, d := range waits {
				for _, u := range randProbes {
					got := fn.f(d, u)
					dd := max(d, 0) // documented: a negative wait is treated as 0
					if got < 0 || got < fn.lo(dd) || got > fn.hi(dd) {
						t.Errorf("%s(%v, %v) = %v; want in [%v, %v]", fn.name, d, u, got, fn.lo(dd), fn.hi(dd))
					}
				}
			}
		})
	}

	// A custom jitter that breaks the contract: the engine clamps.
	for _, bad := range []struct {
		name string
		f    jitter.Func
	}{
		{"negative", func(time.Duration, float64) time.Duration { return -time.Hour }},
		{"MinInt64", func(time.Duration, float64) time.Duration { return math.MinInt64 }},
		{"MaxInt64", func(time.Duration, float64) time.Duration { return maxDur }},
	} {
		t.Run("custom "+bad.name, func(t *testing.T) {
			checkPolicyBounded(t, backoff.Policy[int]{Wait: strategy.Constant{Interval: time.Second}, Jitter: bad.f, MaxAttempts: 4, MaxTime: time.Minute}, 4, time.Minute)
		})
	}
}

func zero(time.Duration) time.Duration         { return 0 }
func same(d time.Duration) time.Duration       { return d }
func half(d time.Duration) time.Duration       { return d / 2 }
func plusSecond(d time.Duration) time.Duration { return satAdd(d, time.Second) }

func satAdd(a, b time.Duration) time.Duration {
	if a > maxDur-b {
		return maxDur
	}
	return a + b
}

func TestPolicyBadLimits(t *testing.T) {
	s := time.Second
	tests := []struct {
		name      string
		p         backoff.Policy[int]
		ctx       time.Duration // a deadline, if > 0
		tries     int
		reason    backoff.Reason
		maxTaking time.Duration
	}{
		{"MaxAttempts 0 is the default", backoff.Policy[int]{}, 0, backoff.DefaultMaxAttempts, backoff.ErrMaxAttempts, 3 * s},
		{"MaxAttempts negative is unlimited", backoff.Policy[int]{MaxAttempts: -1, MaxTime: 10 * s}, 0, 11, backoff.ErrMaxTime, 10 * s},
		{"MaxAttempts MinInt is unlimited", backoff.Policy[int]{MaxAttempts: math.MinInt, MaxTime: 10 * s}, 0, 11, backoff.ErrMaxTime, 10 * s},
		{"MaxAttempts MaxInt, bounded by MaxTime", backoff.Policy[int]{MaxAttempts: math.MaxInt, MaxTime: 5 * s}, 0, 6, backoff.ErrMaxTime, 5 * s},
		{"MaxAttempts MaxInt, bounded by the deadline", backoff.Policy[int]{MaxAttempts: math.MaxInt}, 5500 * time.Millisecond, 6, backoff.ErrDeadline, 5 * s},
		{"MaxAttemptsFunc negative", backoff.Policy[int]{MaxAttempts: 2, MaxAttemptsFunc: func() int { return -5 }, MaxTime: 3 * s}, 0, 4, backoff.ErrMaxTime, 3 * s},
		{"MaxAttemptsFunc 0 is the default", backoff.Policy[int]{MaxAttempts: 2, MaxAttemptsFunc: func() int { return 0 }}, 0, backoff.DefaultMaxAttempts, backoff.ErrMaxAttempts, 3 * s},
		{"MaxTime negative gives up at the first failure", backoff.Policy[int]{MaxTime: -1}, 0, 1, backoff.ErrMaxTime, 0},
		{"MaxTime MinInt64", backoff.Policy[int]{MaxTime: math.MinInt64}, 0, 1, backoff.ErrMaxTime, 0},
		{"MaxTime MaxInt64 is no limit", backoff.Policy[int]{MaxTime: maxDur, MaxAttempts: 3}, 0, 3, backoff.ErrMaxAttempts, 2 * s},
		{"MaxTime 1ns", backoff.Policy[int]{MaxTime: 1}, 0, 2, backoff.ErrMaxTime, 1},
		{"MaxTimeFunc negative", backoff.Policy[int]{MaxTime: time.Hour, MaxTimeFunc: func() time.Duration { return -s }}, 0, 1, backoff.ErrMaxTime, 0},
		{"MaxTimeFunc MaxInt64", backoff.Policy[int]{MaxTimeFunc: func() time.Duration { return maxDur }, MaxAttempts: 2}, 0, 2, backoff.ErrMaxAttempts, s},
		{"deadline already passed", backoff.Policy[int]{}, -s, 1, backoff.ErrDeadline, 0},
		{"no Name, no Logger, no levels", backoff.Policy[int]{Name: "", Logger: nil, BackoffLevel: nil, GiveUpLevel: nil, MaxAttempts: 2}, 0, 2, backoff.ErrMaxAttempts, s},
		{"odd Name and Logger", backoff.Policy[int]{Name: "\xff\x00" + strings.Repeat("n", 1<<12), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxAttempts: 2}, 0, 2, backoff.ErrMaxAttempts, s},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := tt.p
				p.Wait, p.Jitter = strategy.Constant{Interval: s}, jitter.None
				ctx, attempt := runawayGuard(t, timeoutContext(t, tt.ctx), 1000)
				calls := 0
				start := time.Now()
				_, err := p.Do(ctx, func(context.Context) (int, error) { calls++; attempt(); return 0, errBoom })
				var e *backoff.Error
				if !errors.As(err, &e) || e.Reason != tt.reason || e.Attempts != tt.tries || calls != tt.tries {
					t.Errorf("Do = %v after %d calls; want %s after %d", err, calls, tt.reason, tt.tries)
				}
				if d := time.Since(start); d > tt.maxTaking {
					t.Errorf("took %v, want at most %v", d, tt.maxTaking)
				}
			})
		})
	}
}

func TestTransportBadConfig(t *testing.T) {
	s := time.Second
	busy := step{status: 503, body: strings.Repeat("b", 100)}
	okStep := step{status: 200, body: "ok"}
	slowHeaders := func(delay time.Duration) rtFunc {
		n := 0
		return func(r *http.Request) (*http.Response, error) {
			n++
			if n == 1 {
				select {
				case <-time.After(delay):
				case <-r.Context().Done():
					return nil, r.Context().Err()
				}
			}
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("ok")), Request: r}, nil
		}
	}
	tests := []struct {
		name     string
		tr       func() (*backoff.Transport, *fakeBase)
		method   string
		body     string // sent without GetBody
		attempts int
		status   int
		reason   backoff.Reason // of the give-up event, if any
	}{
		{"AttemptTimeout negative is none", func() (*backoff.Transport, *fakeBase) {
			return &backoff.Transport{Base: slowHeaders(time.Hour), AttemptTimeout: -s}, nil
		}, "GET", "", 1, 200, ""},
		{"AttemptTimeout MinInt64 is none", func() (*backoff.Transport, *fakeBase) {
			return &backoff.Transport{Base: slowHeaders(time.Hour), AttemptTimeout: math.MinInt64}, nil
		}, "GET", "", 1, 200, ""},
		{"AttemptTimeout MaxInt64 never fires", func() (*backoff.Transport, *fakeBase) {
			return &backoff.Transport{Base: slowHeaders(time.Hour), AttemptTimeout: maxDur}, nil
		}, "GET", "", 1, 200, ""},
		{"AttemptTimeout 1ns", func() (*backoff.Transport, *fakeBase) {
			return &backoff.Transport{Base: slowHeaders(s), AttemptTimeout: 1}, nil
		}, "GET", "", 2, 200, ""},
		{"MaxRetryAfter negative ignores Retry-After", func() (*backoff.Transport, *fakeBase) {
			b := &fakeBase{steps: []step{{status: 503, header: http.Header{"Retry-After": {"3600"}}}, okStep}}
			return &backoff.Transport{Base: b, MaxRetryAfter: -1}, b
		}, "GET", "", 2, 200, ""},
		{"MaxRetryAfter MinInt64 ignores Retry-After", func() (*backoff.Transport, *fakeBase) {
			b := &fakeBase{steps: []step{{status: 503, header: http.Header{"Retry-After": {"3600"}}}, okStep}}
			return &backoff.Transport{Base: b, MaxRetryAfter: math.MinInt64}, b
		}, "GET", "", 2, 200, ""},
		{"MaxRetryAfter MaxInt64, bounded by MaxTime", func() (*backoff.Transport, *fakeBase) {
			b := &fakeBase{steps: []step{{status: 503, header: http.Header{"Retry-After": {"9223372036"}}}, okStep}}
			return &backoff.Transport{Base: b, MaxRetryAfter: maxDur, MaxTime: time.Hour}, b
		}, "GET", "", 1, 503, backoff.ErrRetryAfter},
		{"BufferLimit negative: one attempt", func() (*backoff.Transport, *fakeBase) {
			b := &fakeBase{steps: []step{busy, okStep}}
			return &backoff.Transport{Base: b, BufferLimit: -1}, b
		}, "PUT", "payload", 1, 503, backoff.ErrNotReplayable},
		{"BufferLimit MinInt64: one attempt", func() (*backoff.Transport, *fakeBase) {
			b := &fakeBase{steps: []step{busy, okStep}}
			return &backoff.Transport{Base: b, BufferLimit: math.MinInt64}, b
		}, "PUT", "payload", 1, 503, backoff.ErrNotReplayable},
		{"BufferLimit MaxInt64", func() (*backoff.Transport, *fakeBase) {
			b := &fakeBase{steps: []step{busy, okStep}}
			return &backoff.Transport{Base: b, BufferLimit: math.MaxInt64}, b
		}, "PUT", "payload", 2, 200, ""},
		{"DrainLimit negative: closed unread", func() (*backoff.Transport, *fakeBase) {
			b := &fakeBase{steps: []step{busy, okStep}}
			return &backoff.Transport{Base: b, DrainLimit: -1}, b
		}, "GET", "", 2, 200, ""},
		{"DrainLimit MinInt64", func() (*backoff.Transport, *fakeBase) {
			b := &fakeBase{steps: []step{busy, okStep}}
			return &backoff.Transport{Base: b, DrainLimit: math.MinInt64}, b
		}, "GET", "", 2, 200, ""},
		{"DrainLimit MaxInt64", func() (*backoff.Transport, *fakeBase) {
			b := &fakeBase{steps: []step{busy, okStep}}
			return &backoff.Transport{Base: b, DrainLimit: math.MaxInt64}, b
		}, "GET", "", 2, 200, ""},
		{"Policy.MaxAttempts negative, bounded by MaxTime", func() (*backoff.Transport, *fakeBase) {
			b := &fakeBase{steps: []step{busy}}
			return &backoff.Transport{Base: b, MaxAttempts: math.MinInt, MaxTime: 5 * s}, b
		}, "GET", "", 6, 503, backoff.ErrMaxTime},
		{"Policy.MaxTime negative: one attempt", func() (*backoff.Transport, *fakeBase) {
			b := &fakeBase{steps: []step{busy, okStep}}
			return &backoff.Transport{Base: b, MaxTime: math.MinInt64}, b
		}, "GET", "", 1, 503, backoff.ErrMaxTime},
		{"Policy.Jitter negative", func() (*backoff.Transport, *fakeBase) {
			b := &fakeBase{steps: []step{busy, okStep}}
			return &backoff.Transport{Base: b, Jitter: func(time.Duration, float64) time.Duration { return -time.Hour }}, b
		}, "GET", "", 2, 200, ""},
		{"Policy.Jitter MaxInt64, bounded by MaxTime", func() (*backoff.Transport, *fakeBase) {
			b := &fakeBase{steps: []step{busy}}
			return &backoff.Transport{Base: b, MaxTime: 3 * s, Jitter: func(time.Duration, float64) time.Duration { return maxDur }}, b
		}, "GET", "", 2, 503, backoff.ErrMaxTime},
		{"Budget 1e300", func() (*backoff.Transport, *fakeBase) {
			b := &fakeBase{steps: []step{busy, okStep}}
			return &backoff.Transport{Base: b, Budget: &backoff.Budget{Ratio: 1e300, MinPerSecond: 1e300, MaxTokens: 1e300}}, b
		}, "GET", "", 2, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tr, fb := tt.tr()
				if tr.Wait == nil {
					tr.Wait = strategy.Constant{Interval: s}
				}
				if tr.Jitter == nil {
					tr.Jitter = jitter.None
				}
				var rec traceRecorder
				rec.attach(tr)
				var attempts int
				tr.Trace = backoff.JoinTraces(tr.Trace, &backoff.Trace{OnAttempt: func(backoff.Event) { attempts++ }})
				var body io.Reader
				if tt.body != "" {
					body = io.NopCloser(strings.NewReader(tt.body)) // no GetBody
				}
				req, _ := http.NewRequest(tt.method, "http://api.example.com/", body)
				resp, err := tr.RoundTrip(req)
				if err != nil || resp == nil {
					t.Fatalf("RoundTrip = %v, %v", resp, err)
				}
				if fb != nil {
					// Every discarded body closed; drained unless DrainLimit
					// is negative.
					for i, b := range fb.bodies {
						if io.ReadCloser(b) == resp.Body {
							continue
						}
						if !b.closed.Load() || (b.Len() == 0) != (tr.DrainLimit >= 0) {
							t.Errorf("body %d: closed %v with %d bytes unread", i+1, b.closed.Load(), b.Len())
						}
					}
				}
				resp.Body.Close()
				if resp.StatusCode != tt.status || attempts != tt.attempts {
					t.Errorf("status %d after %d attempts; want %d after %d (events %s)", resp.StatusCode, attempts, tt.status, tt.attempts, rec.String())
				}
				if tt.reason != "" && !strings.HasSuffix(rec.String(), "reason="+string(tt.reason)) {
					t.Errorf("events %s; want a give-up for %s", rec.String(), tt.reason)
				}
				if fb != nil {
					for i, s := range fb.sent {
						if tt.body != "" && s.body != tt.body {
							t.Errorf("attempt %d sent %q", i+1, s.body)
						}
						if tr.AttemptHeader != "" && s.header.Get(tr.AttemptHeader) != fmt.Sprint(i+1) {
							t.Errorf("attempt %d: header %v", i+1, s.header)
						}
					}
				}
			})
		})
	}
}

func TestBudgetBadConfig(t *testing.T) {
	// Tokens shows the normalised settings: a new host's bucket starts
	// with MaxTokens; emptied, it earns Ratio per request and
	// MinPerSecond per second, the larger of the two.
	const host = "api.example.com:443"
	tests := []struct {
		name                   string
		b                      *backoff.Budget
		start                  float64
		afterTen, afterASecond float64 // emptied, then 10 requests; then 1s later
	}{
		{"zero: the defaults", &backoff.Budget{}, 100, 1, 1},
		{"Ratio negative: none", &backoff.Budget{Ratio: -1}, 100, 0, 1},
		{"Ratio 1e300: 1e6", &backoff.Budget{Ratio: 1e300}, 100, 100, 100},
		{"MinPerSecond negative: none", &backoff.Budget{MinPerSecond: -1}, 100, 1, 1},
		{"MinPerSecond 1e300: capped by MaxTokens", &backoff.Budget{MinPerSecond: 1e300}, 100, 1, 100},
		{"MaxTokens below 1: raised to 1", &backoff.Budget{MaxTokens: 0.001}, 1, 1, 1},
		{"MaxTokens negative: raised to 1", &backoff.Budget{MaxTokens: -5}, 1, 1, 1},
		{"MaxTokens 1e300: 1e12", &backoff.Budget{MaxTokens: 1e300}, 1e12, -1, -1},
		{"all 1e300", &backoff.Budget{Ratio: 1e300, MinPerSecond: 1e300, MaxTokens: 1e300}, 1e12, -1, -1},
		// Not finite: a Transport refuses them (Validate); Tokens still
		// reads them as documented.
		{"Ratio NaN: none", &backoff.Budget{Ratio: math.NaN()}, 100, -1, -1},
		{"MinPerSecond +Inf", &backoff.Budget{MinPerSecond: math.Inf(1)}, 100, -1, -1},
		{"MaxTokens -Inf: raised to 1", &backoff.Budget{MaxTokens: math.Inf(-1)}, 1, -1, -1},
		{"MaxTokens NaN: the default", &backoff.Budget{MaxTokens: math.NaN()}, 100, -1, -1},
		{"MaxTokens +Inf: 1e12", &backoff.Budget{MaxTokens: math.Inf(1)}, 1e12, -1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := tt.b
				if got := b.Tokens(host); got != tt.start || math.IsNaN(got) {
					t.Errorf("starting tokens %v; want %v", got, tt.start)
				}
				if tt.afterTen < 0 {
					return // too many to empty, or refused by a Transport
				}
				tr := &backoff.Transport{Base: always(http.StatusServiceUnavailable), Budget: b, MaxAttempts: 1000, Wait: strategy.Immediate}
				resp, err := tr.RoundTrip(httptest.NewRequest(http.MethodGet, "https://"+host+"/", nil))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if got := b.Tokens(host); got >= 1 {
					t.Fatalf("%v tokens after a call retried until refused", got)
				}
				once := &backoff.Transport{Base: tr.Base, Budget: b, MaxAttempts: 1} // requests only
				for range 10 {
					resp, _ := once.RoundTrip(httptest.NewRequest(http.MethodGet, "https://"+host+"/", nil))
					resp.Body.Close()
				}
				if got := b.Tokens(host); math.Floor(got) != tt.afterTen {
					t.Errorf("after 10 requests %v; want %v", got, tt.afterTen)
				}
				time.Sleep(time.Second)
				if got := b.Tokens(host); math.Floor(got) != tt.afterASecond {
					t.Errorf("a second later %v; want %v", got, tt.afterASecond)
				}
			})
		})
	}
}

func TestMalformedResponseHeaders(t *testing.T) {
	s := time.Second
	const (
		ignored = -1 // Retry-After ignored: the normal wait (1s)
		giveUp  = -2 // Retry-After over the cap: no retry
	)
	long := strings.Repeat("9", 1<<20)
	tests := []struct {
		name   string
		header http.Header
		status int
		floor  time.Duration // the Retry-After honoured, or ignored or giveUp
	}{
		{"Retry-After empty", http.Header{"Retry-After": {""}}, 503, ignored},
		{"Retry-After blank", http.Header{"Retry-After": {"   "}}, 503, ignored},
		{"Retry-After no value", http.Header{"Retry-After": {}}, 503, ignored},
		{"Retry-After garbage", http.Header{"Retry-After": {"soon"}}, 503, ignored},
		{"Retry-After negative", http.Header{"Retry-After": {"-5"}}, 429, ignored},
		{"Retry-After minus zero", http.Header{"Retry-After": {"-0"}}, 429, ignored},
		{"Retry-After plus", http.Header{"Retry-After": {"+5"}}, 429, ignored},
		{"Retry-After fraction", http.Header{"Retry-After": {"1.5"}}, 503, ignored},
		{"Retry-After exponent", http.Header{"Retry-After": {"1e3"}}, 503, ignored},
		{"Retry-After hex", http.Header{"Retry-After": {"0x10"}}, 503, ignored},
		{"Retry-After with unit", http.Header{"Retry-After": {"5s"}}, 503, ignored},
		{"Retry-After NUL", http.Header{"Retry-After": {"\x00"}}, 503, ignored},
		{"Retry-After digit then NUL", http.Header{"Retry-After": {"3\x00"}}, 503, ignored},
		{"Retry-After fullwidth digit", http.Header{"Retry-After": {"３"}}, 503, ignored},
		{"Retry-After Arabic-Indic digit", http.Header{"Retry-After": {"٣"}}, 503, ignored},
		{"Retry-After non-breaking space (not optional white space: ignored)", http.Header{"Retry-After": {"3\u00a0"}}, 503, 0},
		{"Retry-After invalid UTF-8", http.Header{"Retry-After": {"\xff\xfe"}}, 503, ignored},
		{"Retry-After overflowing", http.Header{"Retry-After": {"99999999999999999999"}}, 503, giveUp},
		{"Retry-After one past the largest", http.Header{"Retry-After": {"9223372037"}}, 503, giveUp},
		{"Retry-After a megabyte of digits", http.Header{"Retry-After": {long}}, 503, giveUp},
		{"Retry-After largest", http.Header{"Retry-After": {"9223372036"}}, 503, giveUp},
		{"Retry-After huge", http.Header{"Retry-After": {"31536000"}}, 503, giveUp},
		{"Retry-After spaces", http.Header{"Retry-After": {" 3 "}}, 503, 3 * s},
		{"Retry-After zero", http.Header{"Retry-After": {"0"}}, 503, ignored},
		{"Retry-After leading zeros", http.Header{"Retry-After": {"0000000000000000000000003"}}, 503, 3 * s},
		{"Retry-After two values, first used", http.Header{"Retry-After": {"3", "120"}}, 503, 3 * s},
		{"Retry-After two values, first bad", http.Header{"Retry-After": {"soon", "3"}}, 503, ignored},
		{"Retry-After list in one value", http.Header{"Retry-After": {"3, 120"}}, 503, ignored},
		{"Retry-After on a 500", http.Header{"Retry-After": {"3600"}}, 500, ignored},
		{"Retry-After date far in the future", http.Header{"Retry-After": {"Fri, 31 Dec 9999 23:59:59 GMT"}}, 503, giveUp},
		{"Retry-After date far in the past", http.Header{"Retry-After": {"Mon, 01 Jan 0001 00:00:00 GMT"}}, 503, ignored},
		{"Retry-After date against a far Date", http.Header{"Retry-After": {"Fri, 31 Dec 9999 23:59:59 GMT"}, "Date": {"Mon, 01 Jan 0001 00:00:00 GMT"}}, 503, giveUp},
		{"Retry-After date, Date garbage", http.Header{"Retry-After": {"Sat, 01 Jan 2000 00:00:03 GMT"}, "Date": {"yesterday"}}, 503, 3 * s},
		{"Retry-After date, Date empty", http.Header{"Retry-After": {"Sat, 01 Jan 2000 00:00:03 GMT"}, "Date": {""}}, 503, 3 * s},
		{"Retry-After date, two Dates", http.Header{"Retry-After": {"Sat, 01 Jan 2000 00:00:03 GMT"}, "Date": {"Sat, 01 Jan 2000 00:00:01 GMT", "garbage"}}, 503, 2 * s},
		{"Retry-After date, Date non-ASCII", http.Header{"Retry-After": {"Sat, 01 Jan 2000 00:00:03 GMT"}, "Date": {"Sät, 01 Jän 2000 00:00:01 GMT"}}, 503, 3 * s},
		{"Retry-After date with a bad zone", http.Header{"Retry-After": {"Sat, 01 Jan 2000 00:00:03 PST"}}, 503, ignored},
		{"Retry-After date truncated", http.Header{"Retry-After": {"Sat, 01 Jan 2000 00:00"}}, 503, ignored},
		{"Retry-After date 31 February", http.Header{"Retry-After": {"Thu, 31 Feb 2000 00:00:03 GMT"}}, 503, ignored},
		{"Date alone, garbage", http.Header{"Date": {"\xff"}}, 503, ignored},

		{"X-Should-Retry empty", http.Header{"X-Should-Retry": {""}}, 503, ignored},
		{"X-Should-Retry no value", http.Header{"X-Should-Retry": {}}, 503, ignored},
		{"X-Should-Retry garbage", http.Header{"X-Should-Retry": {"perhaps"}}, 503, ignored},
		{"X-Should-Retry upper case", http.Header{"X-Should-Retry": {"FALSE"}}, 503, giveUp},
		{"X-Should-Retry padded", http.Header{"X-Should-Retry": {" false "}}, 503, giveUp},
		{"X-Should-Retry non-ASCII", http.Header{"X-Should-Retry": {"fälse"}}, 503, ignored},
		{"X-Should-Retry huge", http.Header{"X-Should-Retry": {long}}, 503, ignored},
		{"X-Should-Retry two values, first used", http.Header{"X-Should-Retry": {"false", "true"}}, 503, giveUp},
		{"X-Should-Retry list in one value", http.Header{"X-Should-Retry": {"false, true"}}, 503, ignored},
		{"X-Should-Retry true on a 404", http.Header{"X-Should-Retry": {"true"}}, 404, ignored},
		{"X-Should-Retry garbage on a 404", http.Header{"X-Should-Retry": {"\x00"}}, 404, giveUp},
		{"X-Should-Retry false with Retry-After", http.Header{"X-Should-Retry": {"false"}, "Retry-After": {"3"}}, 503, giveUp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				base := &fakeBase{steps: []step{{status: tt.status, header: tt.header, body: "first"}, {status: 200, body: "ok"}}}
				tr := newTransport(base)
				tr.Jitter = jitter.Full // a floor is spread upward only
				var rec traceRecorder
				rec.attach(tr)
				resp, err := get(t, tr, "GET", "")
				if err != nil || resp == nil {
					t.Fatalf("RoundTrip = %v, %v", resp, err)
				}
				base.checkBodies(t, resp)
				resp.Body.Close()
				if tt.floor == giveUp {
					if len(base.sent) != 1 || resp.StatusCode != tt.status {
						t.Errorf("%d attempts, status %d; want the %d at once (events %s)", len(base.sent), resp.StatusCode, tt.status, rec.String())
					}
					return
				}
				if len(base.sent) != 2 || resp.StatusCode != 200 {
					t.Fatalf("%d attempts, status %d; want 2, 200 (events %s)", len(base.sent), resp.StatusCode, rec.String())
				}
				wait := rec.all[0].Wait
				lo, hi := time.Duration(0), s // the normal, fully jittered wait
				if tt.floor > 0 {
					lo, hi = tt.floor, tt.floor+time.Duration(float64(tt.floor)*backoff.DefaultRetryAfterSpread)
				}
				if wait < lo || wait > hi {
					t.Errorf("wait %v; want in [%v, %v]", wait, lo, hi)
				}
			})
		})
	}
}

func TestTransportInvalidConfigRefused(t *testing.T) {
	// Configuration that Validate refuses fails every request with that
	// error, before anything is sent; the request body is closed.
	tests := []struct {
		name  string
		tr    func(base http.RoundTripper) *backoff.Transport
		field string
	}{
		{"AttemptHeader with CRLF", func(b http.RoundTripper) *backoff.Transport {
			return &backoff.Transport{Base: b, AttemptHeader: "X-Attempt\r\nInjected: 1"}
		}, "Transport.AttemptHeader"},
		{"AttemptHeader with odd characters", func(b http.RoundTripper) *backoff.Transport {
			return &backoff.Transport{Base: b, AttemptHeader: "x-attempt ü"}
		}, "Transport.AttemptHeader"},
		{"Budget all NaN", func(b http.RoundTripper) *backoff.Transport {
			return &backoff.Transport{Base: b, Budget: &backoff.Budget{Ratio: math.NaN(), MinPerSecond: math.NaN(), MaxTokens: math.NaN()}}
		}, "Budget.Ratio"},
		{"Budget all +Inf", func(b http.RoundTripper) *backoff.Transport {
			return &backoff.Transport{Base: b, Budget: &backoff.Budget{Ratio: math.Inf(1), MinPerSecond: math.Inf(1), MaxTokens: math.Inf(1)}}
		}, "Budget.MaxTokens"},
		{"RetryAfterStatuses 99", func(b http.RoundTripper) *backoff.Transport {
			return &backoff.Transport{Base: b, RetryAfterStatuses: []int{429, 99}}
		}, "Transport.RetryAfterStatuses"},
		{"RetryAfterStatuses 600", func(b http.RoundTripper) *backoff.Transport {
			return &backoff.Transport{Base: b, RetryAfterStatuses: []int{600}}
		}, "Transport.RetryAfterStatuses"},
		{"Budget all -Inf", func(b http.RoundTripper) *backoff.Transport {
			return &backoff.Transport{Base: b, Budget: &backoff.Budget{Ratio: math.Inf(-1), MinPerSecond: math.Inf(-1), MaxTokens: math.Inf(-1)}}
		}, "Budget.MinPerSecond"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := &fakeBase{steps: []step{{status: 200}}}
			tr := tt.tr(base)
			verr := tr.Validate()
			if verr == nil || !strings.Contains(verr.Error(), tt.field) {
				t.Fatalf("Validate() = %v; want an error naming %s", verr, tt.field)
			}
			body := &closeCounter{Reader: strings.NewReader("x")}
			req, _ := http.NewRequest("PUT", "http://api.example.com/", body)
			resp, err := tr.RoundTrip(req)
			if resp != nil || err == nil || err.Error() != verr.Error() {
				t.Errorf("RoundTrip = %v, %v; want the Validate error", resp, err)
			}
			if len(base.sent) != 0 || body.closed.Load() != 1 {
				t.Errorf("%d attempts, body closed %d times; want none sent, body closed", len(base.sent), body.closed.Load())
			}
		})
	}
}
