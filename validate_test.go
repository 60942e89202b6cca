package backoff_test

// Configuration and legal but unusual input never make the library panic:
// it refuses bad configuration in Validate with a *ConfigError, or applies
// the normalisation its documentation states.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

// ctxWithSlice is a context whose dynamic type is not comparable: comparing
// two interface values holding it panics. net/http accepts it.
type ctxWithSlice struct {
	context.Context
	s []int
}

// noPanic runs f and fails the test, with the stack, if f panics.
func noPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s panicked: %v\n%s", what, r, debug.Stack())
		}
	}()
	f()
}

// okBase answers 200 "ok" in memory.
func okBase(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(&onceReader{s: "ok"}), Request: r}, nil
}

type onceReader struct{ s string }

func (r *onceReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := copy(p, r.s)
	r.s = r.s[n:]
	return n, nil
}

func TestUncomparableContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()

	zero := &backoff.Transport{} // its Base is an *http.Transport: no mark, the caller's context as it is
	defer zero.CloseIdleConnections()
	mem := &backoff.Transport{Base: rtFunc(okBase)}
	timeout := &backoff.Transport{Base: rtFunc(okBase), AttemptTimeout: 1 << 40}
	header := &backoff.Transport{Base: rtFunc(okBase), AttemptHeader: "Attempt"}

	tests := []struct {
		name string
		rt   http.RoundTripper
		ctx  context.Context
		url  string
	}{
		{"zero Transport", zero, ctxWithSlice{context.Background(), nil}, srv.URL},
		{"zero Transport, cancellable", zero, ctxWithSlice{t.Context(), []int{1}}, srv.URL},
		{"under a retrying layer", mem, ctxWithSlice{backoff.WithSingleAttempt(context.Background()), nil}, "http://mem.test/"},
		{"own mark", mem, ctxWithSlice{context.Background(), nil}, "http://mem.test/"},
		{"AttemptTimeout", timeout, ctxWithSlice{context.Background(), nil}, "http://mem.test/"},
		{"AttemptHeader under a retrying layer", header, ctxWithSlice{backoff.WithSingleAttempt(context.Background()), nil}, "http://mem.test/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(tt.ctx, "GET", tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			noPanic(t, "RoundTrip", func() {
				resp, err := tt.rt.RoundTrip(req)
				if err != nil {
					t.Fatalf("RoundTrip: %v", err)
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(b) != "ok" {
					t.Errorf("body = %q, %v; want \"ok\"", b, err)
				}
			})
		})
	}

	t.Run("Policy.SingleAttemptBelow", func(t *testing.T) {
		p := &backoff.Policy[int]{SingleAttemptBelow: true}
		noPanic(t, "Do", func() {
			v, err := p.Do(ctxWithSlice{context.Background(), nil}, func(ctx context.Context) (int, error) {
				if !backoff.IsSingleAttempt(ctx) {
					return 0, errors.New("context not marked")
				}
				return 1, nil
			})
			if v != 1 || err != nil {
				t.Errorf("Do = %v, %v; want 1, nil", v, err)
			}
		})
	})
}

// waitFunc is a user's strategy of a func type with no Validate method and
// no care for nil.
type waitFunc func(strategy.State) (time.Duration, bool)

func (f waitFunc) Next(s strategy.State) (time.Duration, bool) { return f(s) }

// checkConfigError checks that err holds a *ConfigError naming field.
func checkConfigError(t *testing.T, err error, field string) {
	t.Helper()
	var ce *backoff.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("Validate() = %v; want a *ConfigError naming %s", err, field)
	}
	if !strings.Contains(err.Error(), field) {
		t.Errorf("Validate() = %v; want it to name %s", err, field)
	}
}

func TestTypedNilPolicy(t *testing.T) {
	tests := []struct {
		name  string
		p     backoff.Policy[int]
		field string // in the error
		cfg   bool   // a *ConfigError, else a strategy error
	}{
		{"Wait *Expo", backoff.Policy[int]{Wait: (*strategy.Expo)(nil)}, "Policy.Wait", true},
		{"Wait *Capped", backoff.Policy[int]{Wait: (*strategy.Capped)(nil)}, "Policy.Wait", true},
		{"Wait *Runtime", backoff.Policy[int]{Wait: (*strategy.Runtime)(nil)}, "Policy.Wait", true},
		{"Wait nil func without Validate", backoff.Policy[int]{Wait: waitFunc(nil)}, "Policy.Wait", true},
		{"Wait strategy.Func(nil)", backoff.Policy[int]{Wait: strategy.Func(nil)}, "Func is nil", false},
		{"Wait Capped of *Expo", backoff.Policy[int]{Wait: strategy.Capped{Strategy: (*strategy.Expo)(nil), Max: time.Second}}, "Capped.Strategy is a nil *strategy.Expo", false},
		{"Wait Runtime falling back on *Fibo", backoff.Policy[int]{Wait: strategy.Runtime{Value: alwaysWait, Fallback: (*strategy.Fibo)(nil)}}, "Runtime.Fallback is a nil *strategy.Fibo", false},
		{"BackoffLevel *LevelVar", backoff.Policy[int]{BackoffLevel: (*slog.LevelVar)(nil)}, "Policy.BackoffLevel", true},
		{"GiveUpLevel *LevelVar", backoff.Policy[int]{GiveUpLevel: (*slog.LevelVar)(nil)}, "Policy.GiveUpLevel", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			noPanic(t, "Policy.Validate", func() { err = tt.p.Validate() })
			if tt.cfg {
				checkConfigError(t, err, tt.field)
			} else if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("Validate() = %v; want an error naming %s", err, tt.field)
			}

			// A Transport refuses it, and fails its requests with the error.
			tr := &backoff.Transport{Base: rtFunc(okBase)}
			tr.Wait, tr.BackoffLevel, tr.GiveUpLevel = tt.p.Wait, tt.p.BackoffLevel, tt.p.GiveUpLevel
			noPanic(t, "Transport.Validate", func() { err = tr.Validate() })
			field := strings.Replace(tt.field, "Policy.", "Transport.", 1)
			if err == nil || !strings.Contains(err.Error(), field) {
				t.Errorf("Transport.Validate() = %v; want an error naming %s", err, field)
			}
			checkRefused(t, tr)
		})
	}

	// A valid pointer is valid.
	for _, w := range []strategy.Strategy{&strategy.Expo{}, &strategy.Capped{Strategy: &strategy.Fibo{}}} {
		p := backoff.Policy[int]{Wait: w, BackoffLevel: new(slog.LevelVar), GiveUpLevel: slog.LevelWarn}
		if err := p.Validate(); err != nil {
			t.Errorf("Policy{Wait: %T}.Validate() = %v; want nil", w, err)
		}
	}
}

// checkRefused checks that tr fails a request with the error of Validate,
// closing its body, and without panicking.
func checkRefused(t *testing.T, tr *backoff.Transport) {
	t.Helper()
	body := &closeCounter{Reader: strings.NewReader("x")}
	req, _ := http.NewRequest("POST", "http://refused.test/", body)
	noPanic(t, "RoundTrip", func() {
		resp, err := tr.RoundTrip(req)
		if resp != nil {
			resp.Body.Close()
		}
		want := tr.Validate()
		if resp != nil || err == nil || want == nil || err.Error() != want.Error() {
			t.Errorf("RoundTrip = %v, %v; want nil and the error of Validate, %v", resp, err, want)
		}
	})
	if body.closed.Load() != 1 {
		t.Errorf("request body closed %d times; want 1", body.closed.Load())
	}
}

func TestTypedNilTransportBase(t *testing.T) {
	for _, base := range []http.RoundTripper{(*http.Transport)(nil), rtFunc(nil), (*fakeBase)(nil)} {
		tr := &backoff.Transport{Base: base}
		var err error
		noPanic(t, "Validate", func() { err = tr.Validate() })
		checkConfigError(t, err, "Transport.Base")
		checkRefused(t, tr)
		noPanic(t, "CloseIdleConnections", tr.CloseIdleConnections)
	}
}

// TestTypedNilWaitAtRunTime: Do and Run do not validate; a nil pointer as
// Wait is a strategy exhausted at once, never a panic.
func TestTypedNilWaitAtRunTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("boom")
		var giveUps int
		p := &backoff.Policy[int]{
			Wait:     (*strategy.Expo)(nil),
			OnGiveUp: []backoff.Handler[int]{func(backoff.Details[int]) { giveUps++ }},
		}
		calls := 0
		noPanic(t, "Do", func() {
			_, err := p.Do(t.Context(), func(context.Context) (int, error) { calls++; return 0, boom })
			var e *backoff.Error
			if !errors.As(err, &e) || e.Reason != backoff.ErrExhausted || e.Attempts != 1 || !errors.Is(err, boom) {
				t.Errorf("Do = %v; want an *Error with ErrExhausted after 1 try, wrapping boom", err)
			}
		})
		if calls != 1 || giveUps != 1 {
			t.Errorf("%d attempts and %d give-up events; want 1 and 1", calls, giveUps)
		}
		noPanic(t, "Do", func() {
			v, err := p.Do(t.Context(), func(context.Context) (int, error) { return 7, nil })
			if v != 7 || err != nil {
				t.Errorf("Do = %v, %v; want 7, nil", v, err)
			}
		})
		// Through a nested strategy of a value type (Runtime with no Value
		// answer), the engine cannot see the nil pointer: Validate reports
		// it (TestTypedNilPolicy).
	})
}

// TestTypedNilLevelsAtRunTime: a nil *slog.LevelVar logs at the default
// level.
func TestTypedNilLevelsAtRunTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		p := &backoff.Policy[int]{
			Wait:         strategy.Immediate,
			MaxAttempts:  2,
			Logger:       slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
			BackoffLevel: (*slog.LevelVar)(nil),
			GiveUpLevel:  (*slog.LevelVar)(nil),
		}
		noPanic(t, "Do", func() {
			p.Do(t.Context(), func(context.Context) (int, error) { return 0, errors.New("boom") })
		})
		out := buf.String()
		if !strings.Contains(out, "level=INFO msg=\"Backing off") || !strings.Contains(out, "level=ERROR msg=\"Giving up") {
			t.Errorf("log = %q; want the backoff line at INFO and the give-up line at ERROR", out)
		}
		// The line of a cancelled call uses BackoffLevel.
		buf.Reset()
		ctx, cancel := context.WithCancel(t.Context())
		p.Wait = strategy.Constant{Interval: time.Hour}
		noPanic(t, "Do", func() {
			p.Do(ctx, func(context.Context) (int, error) { cancel(); return 0, errors.New("boom") })
		})
		if !strings.Contains(buf.String(), "level=INFO msg=\"Giving up") {
			t.Errorf("log = %q; want the give-up line of a cancelled call at INFO", buf.String())
		}
	})
}

func TestAttemptHeaderReserved(t *testing.T) {
	for _, h := range []string{
		"Connection", "connection", "CONNECTION", "Keep-Alive", "keep-alive", "Proxy-Connection",
		"Proxy-Authenticate", "Proxy-Authorization", "TE", "te", "Trailer", "Transfer-Encoding",
		"transfer-encoding", "Upgrade", "HTTP2-Settings", "Content-Length", "content-length",
		"Host", "host", "Expect",
	} {
		tr := &backoff.Transport{Base: rtFunc(okBase), AttemptHeader: h}
		checkConfigError(t, tr.Validate(), "Transport.AttemptHeader")
	}
	for _, h := range []string{"Attempt", "X-Attempt", "Retry-Attempt", "X-Connection", "Hosts"} {
		tr := &backoff.Transport{Base: rtFunc(okBase), AttemptHeader: h}
		if err := tr.Validate(); err != nil {
			t.Errorf("AttemptHeader %q: Validate() = %v; want nil", h, err)
		}
	}
}

// TestNoErrorOnGiveUpExhausted: as in Python, a finite strategy that runs
// out ends the call with its error whatever NoErrorOnGiveUp says.
func TestNoErrorOnGiveUpExhausted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("boom")
		fail := func(context.Context) (int, error) { return 0, boom }
		p := &backoff.Policy[int]{NoErrorOnGiveUp: true, Wait: strategy.Sequence{time.Second, time.Second}, Jitter: jitter.None, MaxAttempts: backoff.Unlimited}
		_, err := p.Do(t.Context(), fail)
		var e *backoff.Error
		if !errors.As(err, &e) || e.Reason != backoff.ErrExhausted || e.Attempts != 3 || !errors.Is(err, boom) {
			t.Errorf("Do = %v; want an *Error with ErrExhausted after 3 tries, wrapping boom", err)
		}

		// On values: the last value, with the error.
		q := &backoff.Policy[int]{NoErrorOnGiveUp: true, Wait: strategy.Sequence{time.Second}, Jitter: jitter.None, MaxAttempts: backoff.Unlimited,
			RetryIf: func(v int) bool { return v < 10 }}
		n := 0
		v, err := q.Do(t.Context(), func(context.Context) (int, error) { n++; return n, nil })
		if v != 2 || !errors.Is(err, backoff.ErrExhausted) {
			t.Errorf("Do on values = %v, %v; want 2 and ErrExhausted", v, err)
		}

		// The other give-ups still return no error.
		p.MaxAttempts = 2
		if v, err := p.Do(t.Context(), fail); v != 0 || err != nil {
			t.Errorf("Do with MaxAttempts 2 = %v, %v; want 0, nil", v, err)
		}
	})
}
