package backoff_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/strategy"
)

// hookLog returns a Trace whose every hook appends "name:HOOK#attempt" to
// *log.
func hookLog(name string, log *[]string) *backoff.Trace {
	h := func(hook string) func(backoff.Event) {
		return func(e backoff.Event) { *log = append(*log, fmt.Sprintf("%s:%s#%d", name, hook, e.Attempt)) }
	}
	return &backoff.Trace{OnAttempt: h("attempt"), OnBackoff: h("backoff"), OnSuccess: h("success"), OnGiveUp: h("giveup")}
}

func TestJoinTracesOrder(t *testing.T) {
	var log []string
	a, b, c := hookLog("a", &log), hookLog("b", &log), hookLog("c", &log)
	j := backoff.JoinTraces(a, b, c)
	e := backoff.Event{Attempt: 2}
	j.OnAttempt(e)
	j.OnBackoff(e)
	j.OnSuccess(e)
	j.OnGiveUp(e)
	want := "a:attempt#2 b:attempt#2 c:attempt#2 a:backoff#2 b:backoff#2 c:backoff#2 " +
		"a:success#2 b:success#2 c:success#2 a:giveup#2 b:giveup#2 c:giveup#2"
	if got := strings.Join(log, " "); got != want {
		t.Errorf("joined hooks ran\n%s\nwant\n%s", got, want)
	}

	// Through a Transport: each event reaches the subscribers in order.
	synctest.Test(t, func(t *testing.T) {
		log = nil
		base := &fakeBase{steps: []step{{status: 503}, {status: 200}}}
		tr := newTransport(base)
		tr.Trace = backoff.JoinTraces(a, b)
		resp, err := get(t, tr, "GET", "")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := "a:attempt#1 b:attempt#1 a:backoff#1 b:backoff#1 a:attempt#2 b:attempt#2 a:success#2 b:success#2"
		if got := strings.Join(log, " "); got != want {
			t.Errorf("events\n%s\nwant\n%s", got, want)
		}
	})
}

func TestJoinTracesSkipsNil(t *testing.T) {
	var log []string
	onlyBackoff := &backoff.Trace{OnBackoff: func(backoff.Event) { log = append(log, "ob") }}
	onlyGiveUp := &backoff.Trace{OnGiveUp: func(backoff.Event) { log = append(log, "og") }}

	if j := backoff.JoinTraces(); j != nil {
		t.Errorf("JoinTraces() = %+v, want nil", j)
	}
	if j := backoff.JoinTraces(nil, nil); j != nil {
		t.Errorf("JoinTraces(nil, nil) = %+v, want nil", j)
	}
	if j := backoff.JoinTraces(nil, &backoff.Trace{}, nil); j != nil {
		t.Errorf("JoinTraces of Traces without hooks = %+v, want nil", j)
	}

	// Nil Traces and nil hooks are skipped.
	j := backoff.JoinTraces(nil, onlyBackoff, &backoff.Trace{}, nil, onlyGiveUp)
	if j == nil {
		t.Fatal("JoinTraces of two Traces with hooks = nil")
	}
	if j.OnAttempt != nil || j.OnSuccess != nil {
		t.Errorf("hooks no Trace has are set: OnAttempt %v, OnSuccess %v", j.OnAttempt != nil, j.OnSuccess != nil)
	}
	if j.OnBackoff == nil || j.OnGiveUp == nil {
		t.Fatalf("hooks lost: OnBackoff %v, OnGiveUp %v", j.OnBackoff != nil, j.OnGiveUp != nil)
	}
	j.OnBackoff(backoff.Event{})
	j.OnGiveUp(backoff.Event{})
	if got := strings.Join(log, " "); got != "ob og" {
		t.Errorf("hooks ran %q, want \"ob og\"", got)
	}

	// A Transport with a joined Trace holding nil hooks does not panic on
	// the events no subscriber wants.
	synctest.Test(t, func(t *testing.T) {
		log = nil
		base := &fakeBase{steps: []step{{status: 503}}}
		tr := newTransport(base)
		tr.MaxAttempts = 2
		tr.Trace = backoff.JoinTraces(onlyBackoff, nil, onlyGiveUp)
		resp, err := get(t, tr, "GET", "")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := strings.Join(log, " "); got != "ob og" {
			t.Errorf("events %q, want \"ob og\"", got)
		}
	})
}

func TestJoinTracesSingleIdentity(t *testing.T) {
	var log []string
	a := hookLog("a", &log)
	for _, j := range []*backoff.Trace{
		backoff.JoinTraces(a),
		backoff.JoinTraces(nil, a),
		backoff.JoinTraces(a, nil),
		backoff.JoinTraces(&backoff.Trace{}, a, nil, &backoff.Trace{}),
	} {
		if j != a {
			t.Errorf("JoinTraces of one Trace with hooks = %p, want that Trace itself (%p)", j, a)
		}
	}
}

// hookCounts counts the calls of each hook of a Trace and checks the
// events OnAttempt sees.
type hookCounts struct {
	attempt, backoff, success, giveUp int
	attempts                          []backoff.Event
	reason                            backoff.Reason
}

func (c *hookCounts) trace() *backoff.Trace {
	return &backoff.Trace{
		OnAttempt: func(e backoff.Event) { c.attempt++; c.attempts = append(c.attempts, e) },
		OnBackoff: func(backoff.Event) { c.backoff++ },
		OnSuccess: func(backoff.Event) { c.success++ },
		OnGiveUp:  func(e backoff.Event) { c.giveUp++; c.reason = e.Reason },
	}
}

func TestTraceHookCounts(t *testing.T) {
	reset := &netError{syscall.ECONNRESET}
	tests := []struct {
		name     string
		steps    []step
		method   string
		setup    func(*backoff.Transport)
		cancel   bool // cancel the request during the first wait
		attempts int  // OnAttempt calls, and attempts made
		backoffs int
		success  int
		giveUp   int
		reason   backoff.Reason
	}{
		{name: "first-try success", steps: []step{{status: 200}}, attempts: 1, success: 1},
		{name: "response not retried", steps: []step{{status: 404}}, attempts: 1, success: 1},
		{name: "transport error not retried", steps: []step{{err: errors.New("x509: certificate signed by unknown authority")}}, attempts: 1},
		{name: "retried then success", steps: []step{{status: 503}, {status: 502}, {status: 200}}, attempts: 3, backoffs: 2, success: 1},
		{name: "retried then not retried", steps: []step{{status: 503}, {status: 404}}, attempts: 2, backoffs: 1, success: 1},
		{name: "max attempts", steps: []step{{status: 503}}, attempts: 4, backoffs: 3, giveUp: 1, reason: backoff.ErrMaxAttempts},
		{name: "max attempts on errors", steps: []step{{err: reset}}, attempts: 4, backoffs: 3, giveUp: 1, reason: backoff.ErrMaxAttempts},
		{name: "not replayable", steps: []step{{status: 503}}, method: "POST", attempts: 1, giveUp: 1, reason: backoff.ErrNotReplayable},
		{name: "retry-after over the cap", steps: []step{{status: 503, header: http.Header{"Retry-After": {"3600"}}}}, attempts: 1, giveUp: 1, reason: backoff.ErrRetryAfter},
		{name: "budget", steps: []step{{status: 503}}, setup: func(tr *backoff.Transport) {
			tr.Budget = emptyBudget("api.example.com")
		}, attempts: 1, giveUp: 1, reason: backoff.ErrBudget},
		{name: "cancelled during a wait", steps: []step{{status: 503}}, cancel: true, attempts: 1, backoffs: 1, giveUp: 1, reason: backoff.ErrCanceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				base := &fakeBase{steps: tt.steps}
				tr := newTransport(base)
				if tt.setup != nil {
					tt.setup(tr)
				}
				var c hookCounts
				tr.Trace = c.trace()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if tt.cancel {
					time.AfterFunc(500*time.Millisecond, cancel) // the wait is 1s
				}
				method := tt.method
				if method == "" {
					method = "GET"
				}
				req, _ := http.NewRequestWithContext(ctx, method, "http://api.example.com/", nil)
				resp, err := tr.RoundTrip(req)
				if resp != nil {
					resp.Body.Close()
				}
				if len(base.sent) != tt.attempts {
					t.Errorf("%d attempts, want %d (RoundTrip error %v)", len(base.sent), tt.attempts, err)
				}
				if c.attempt != tt.attempts || c.backoff != tt.backoffs || c.success != tt.success || c.giveUp != tt.giveUp {
					t.Errorf("OnAttempt %d, OnBackoff %d, OnSuccess %d, OnGiveUp %d; want %d, %d, %d, %d",
						c.attempt, c.backoff, c.success, c.giveUp, tt.attempts, tt.backoffs, tt.success, tt.giveUp)
				}
				if c.reason != tt.reason {
					t.Errorf("give-up reason %q, want %q", c.reason, tt.reason)
				}
				if tt.backoffs > 0 && c.success+c.giveUp != 1 {
					t.Errorf("a retried call fired %d OnSuccess and %d OnGiveUp; want exactly one of them", c.success, c.giveUp)
				}
				for i, e := range c.attempts {
					// The last OnAttempt is final, unless the call was
					// cancelled during the wait that followed it.
					final := i == len(c.attempts)-1 && !tt.cancel
					if e.Attempt != i+1 || e.Final != final || e.Request != req {
						t.Errorf("OnAttempt %d: Attempt %d, Final %v, Request %p; want %d, %v, %p", i+1, e.Attempt, e.Final, e.Request, i+1, final, req)
					}
					if !e.Final && e.Wait != time.Second {
						t.Errorf("OnAttempt %d: Wait %v before the next attempt, want 1s", i+1, e.Wait)
					}
				}
			})
		})
	}
}

// netError is a net.Error that is not a timeout.
type netError struct{ err error }

func (e *netError) Error() string   { return "read: " + e.err.Error() }
func (e *netError) Unwrap() error   { return e.err }
func (e *netError) Timeout() bool   { return false }
func (e *netError) Temporary() bool { return false }

// The Trace is read at the Transport's first use: a later change, of the
// field or of the Trace it pointed to, is not seen.
func TestTraceReadAtFirstUse(t *testing.T) {
	for _, first := range []string{"RoundTrip", "CloseIdleConnections"} {
		t.Run(first, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				base := &fakeBase{steps: []step{{status: 503}, {status: 200}}}
				tr := newTransport(base)
				var before, after hookCounts
				tr1 := before.trace()
				tr.Trace = tr1
				if first == "RoundTrip" {
					resp, err := get(t, tr, "GET", "")
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
				} else {
					tr.CloseIdleConnections()
				}
				seen := before
				// Change the field, and the Trace it held.
				tr.Trace = after.trace()
				tr1.OnAttempt, tr1.OnBackoff, tr1.OnSuccess, tr1.OnGiveUp = nil, nil, nil, nil
				resp, err := get(t, tr, "GET", "")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if after.attempt+after.backoff+after.success+after.giveUp != 0 {
					t.Errorf("a Trace set after the first use was called: %+v", after)
				}
				got := before.attempt - seen.attempt
				if first == "RoundTrip" {
					// fakeBase repeats its last step: 200 at once.
					if got != 1 || before.success-seen.success != 1 {
						t.Errorf("after the change, the first Trace saw %d attempts and %d successes; want 1, 1", got, before.success-seen.success)
					}
				} else if got != 2 || before.backoff != 1 || before.success != 1 {
					t.Errorf("the Trace set before CloseIdleConnections saw %+v; want 2 attempts, 1 backoff, 1 success", before)
				}
			})
		})
	}
}

// retryAfterWait returns the wait an OnBackoff saw after a first response
// st, with a newTransport (1s waits, no jitter) set up by setup, or -1 when
// there was no retry; and the Event's RetryAfter.
func retryAfterWait(t *testing.T, st step, setup func(*backoff.Transport)) (wait, ra time.Duration, attempts int) {
	t.Helper()
	wait = -1
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{steps: []step{st, {status: 200}}}
		tr := newTransport(base)
		tr.Budget = backoff.DisabledBudget()
		if setup != nil {
			setup(tr)
		}
		tr.Trace = &backoff.Trace{OnBackoff: func(e backoff.Event) { wait, ra = e.Wait, e.RetryAfter }}
		resp, err := get(t, tr, "GET", "")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		attempts = len(base.sent)
	})
	return wait, ra, attempts
}

func TestRetryAfterStatuses(t *testing.T) {
	ra := func(status int, secs string) step {
		return step{status: status, header: http.Header{"Retry-After": {secs}}}
	}
	retry403 := func(tr *backoff.Transport) {
		tr.Classify = func(a backoff.Attempt) bool {
			return backoff.DefaultClassify(a) || a.Response != nil && a.Response.StatusCode == http.StatusForbidden
		}
	}
	s := time.Second
	tests := []struct {
		name     string
		st       step
		setup    func(*backoff.Transport)
		wait, ra time.Duration // -1: no retry
	}{
		{"nil: 429 honoured", ra(429, "7"), nil, 7 * s, 7 * s},
		{"nil: 503 honoured", ra(503, "7"), nil, 7 * s, 7 * s},
		{"nil: 502 not honoured", ra(502, "7"), nil, s, 0},
		{"nil: 403 not honoured even when retried", ra(403, "7"), retry403, s, 0},
		{"403 listed and retried by Classify", ra(403, "7"), func(tr *backoff.Transport) {
			retry403(tr)
			tr.RetryAfterStatuses = []int{403}
		}, 7 * s, 7 * s},
		{"403 listed: retried with the default Classify", ra(403, "7"), func(tr *backoff.Transport) {
			tr.RetryAfterStatuses = []int{403}
		}, 7 * s, 7 * s},
		{"403 listed, not retried by a Classify of its own", ra(403, "7"), func(tr *backoff.Transport) {
			tr.RetryAfterStatuses = []int{403}
			tr.Classify = backoff.DefaultClassify
		}, -1, 0},
		{"403 listed, without a wait: not retried", ra(403, ""), func(tr *backoff.Transport) {
			tr.RetryAfterStatuses = []int{403}
		}, -1, 0},
		{"403 listed: 503 no longer honoured", ra(503, "7"), func(tr *backoff.Transport) {
			retry403(tr)
			tr.RetryAfterStatuses = []int{403}
		}, s, 0},
		{"empty: 503 not honoured", ra(503, "7"), func(tr *backoff.Transport) {
			tr.RetryAfterStatuses = []int{}
		}, s, 0},
		{"empty: 429 over the cap not honoured, retried", ra(429, "3600"), func(tr *backoff.Transport) {
			tr.RetryAfterStatuses = []int{}
		}, s, 0},
		{"nil: 429 over the cap gives up", ra(429, "3600"), nil, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wait, gotRA, attempts := retryAfterWait(t, tt.st, tt.setup)
			wantAttempts := 2
			if tt.wait < 0 {
				wantAttempts = 1
			}
			if wait != tt.wait || gotRA != tt.ra || attempts != wantAttempts {
				t.Errorf("wait %v, Event.RetryAfter %v, %d attempts; want %v, %v, %d", wait, gotRA, attempts, tt.wait, tt.ra, wantAttempts)
			}
		})
	}
}

func TestRetryAfterStatusesValidate(t *testing.T) {
	for _, codes := range [][]int{nil, {}, {100}, {599}, {403, 429, 503}} {
		if err := (&backoff.Transport{RetryAfterStatuses: codes}).Validate(); err != nil {
			t.Errorf("Validate() with RetryAfterStatuses %v = %v; want nil", codes, err)
		}
	}
	for _, codes := range [][]int{{99}, {600}, {429, 99}, {0}, {-429}} {
		tr := &backoff.Transport{Base: rtFunc(okBase), RetryAfterStatuses: codes}
		var ce *backoff.ConfigError
		if err := tr.Validate(); !errors.As(err, &ce) || ce.Field != "Transport.RetryAfterStatuses" {
			t.Errorf("Validate() with RetryAfterStatuses %v = %v; want a ConfigError on the field", codes, err)
		}
		checkRefused(t, tr)
	}
}

// The statuses are read at first use: a later change of the slice is not
// seen.
func TestRetryAfterStatusesReadAtFirstUse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		codes := []int{503}
		base := &fakeBase{steps: []step{{status: 503, header: http.Header{"Retry-After": {"7"}}}, {status: 200}}}
		tr := newTransport(base)
		tr.Budget = backoff.DisabledBudget()
		tr.RetryAfterStatuses = codes
		tr.CloseIdleConnections() // the first use
		codes[0] = 429
		var wait time.Duration
		tr.Trace = nil
		start := time.Now()
		resp, err := get(t, tr, "GET", "")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if wait = time.Since(start); wait != 7*time.Second {
			t.Errorf("waited %v; want the 503's Retry-After, 7s", wait)
		}
	})
}

// logOf returns the lines tr logs for one GET, without their time.
func logOf(t *testing.T, tr *backoff.Transport, ctx context.Context) string {
	t.Helper()
	var buf bytes.Buffer
	tr.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://user:pw@api.example.com/v1/items?token=secret", nil)
	resp, _ := tr.RoundTrip(req)
	if resp != nil {
		resp.Body.Close()
	}
	return buf.String()
}

func TestTransportLogLines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{steps: []step{{status: 503, header: http.Header{"Retry-After": {"2"}}}, {err: &netError{syscall.ECONNRESET}}, {status: 503}}}
		tr := newTransport(base)
		tr.Budget = backoff.DisabledBudget()
		tr.MaxAttempts = 3
		got := logOf(t, tr, context.Background())
		want := `level=INFO msg="Backing off GET http://api.example.com for 2s after 1 attempt (503 Service Unavailable)" method=GET host=api.example.com attempts=1 elapsed=0s wait=2s status=503 retry_after=2s
level=INFO msg="Backing off GET http://api.example.com for 1s after 2 attempts (read: connection reset by peer)" method=GET host=api.example.com attempts=2 elapsed=2s wait=1s error="read: connection reset by peer"
level=ERROR msg="Giving up GET http://api.example.com after 3 attempts (503 Service Unavailable)" method=GET host=api.example.com attempts=3 elapsed=3s reason=max_tries status=503
`
		if got != want {
			t.Errorf("log =\n%s\nwant\n%s", got, want)
		}
	})

	t.Run("budget at WARN", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			base := &fakeBase{steps: []step{{status: 503}}}
			tr := newTransport(base)
			tr.Budget = emptyBudget("api.example.com")
			tr.GiveUpLevel = slog.LevelError
			got := logOf(t, tr, context.Background())
			want := `level=WARN msg="Retry budget exhausted for GET http://api.example.com after 1 attempt (503 Service Unavailable)" method=GET host=api.example.com attempts=1 elapsed=0s reason=budget status=503
`
			if got != want {
				t.Errorf("log =\n%s\nwant\n%s", got, want)
			}
		})
	})

	t.Run("levels", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			base := &fakeBase{steps: []step{{status: 503}}}
			tr := newTransport(base)
			tr.Budget = backoff.DisabledBudget()
			tr.MaxAttempts = 2
			tr.BackoffLevel, tr.GiveUpLevel = slog.LevelDebug, slog.LevelWarn
			got := logOf(t, tr, context.Background())
			want := `level=DEBUG msg="Backing off GET http://api.example.com for 1s after 1 attempt (503 Service Unavailable)" method=GET host=api.example.com attempts=1 elapsed=0s wait=1s status=503
level=WARN msg="Giving up GET http://api.example.com after 2 attempts (503 Service Unavailable)" method=GET host=api.example.com attempts=2 elapsed=1s reason=max_tries status=503
`
			if got != want {
				t.Errorf("log =\n%s\nwant\n%s", got, want)
			}
		})
	})

	t.Run("cancelled at BackoffLevel", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			base := &fakeBase{steps: []step{{status: 503}}}
			tr := newTransport(base)
			tr.Budget = backoff.DisabledBudget()
			tr.BackoffLevel = slog.LevelDebug
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			time.AfterFunc(500*time.Millisecond, cancel)
			got := logOf(t, tr, ctx)
			if !strings.Contains(got, `level=DEBUG msg="Giving up GET http://api.example.com after 1 attempt (`) || !strings.Contains(got, "reason=canceled") || strings.Contains(got, "level=ERROR") {
				t.Errorf("log =\n%s\nwant the give-up of a cancelled call at DEBUG", got)
			}
		})
	})
}

// A first-try success through a Transport allocates nothing of its own,
// as before the Trace (1 allocation then, for the context mark a Transport
// put on the attempts to a Base that was not an *http.Transport, which
// SingleAttemptBelow now costs), with or without a Trace or a Logger.
func TestTransportFirstTrySuccessAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	resp := &http.Response{StatusCode: 200, Body: http.NoBody}
	base := rtFunc(func(*http.Request) (*http.Response, error) { return resp, nil })
	var n int
	tests := []struct {
		name string
		tr   *backoff.Transport
		want float64
	}{
		{"plain", &backoff.Transport{Base: base}, 0},
		{"trace", &backoff.Transport{Base: base, Trace: &backoff.Trace{
			OnAttempt: func(backoff.Event) { n++ }, OnSuccess: func(backoff.Event) { n++ },
			OnBackoff: func(backoff.Event) { n++ }, OnGiveUp: func(backoff.Event) { n++ },
		}}, 0},
		{"joined traces", &backoff.Transport{Base: base, Trace: backoff.JoinTraces(
			&backoff.Trace{OnAttempt: func(backoff.Event) { n++ }},
			&backoff.Trace{OnAttempt: func(backoff.Event) { n++ }, OnSuccess: func(backoff.Event) { n++ }},
		)}, 0},
		{"logger", &backoff.Transport{Base: base, Logger: slog.New(slog.DiscardHandler)}, 0},
		{"SingleAttemptBelow", &backoff.Transport{Base: base, SingleAttemptBelow: true}, 1},
		{"nested", &backoff.Transport{Base: &backoff.Transport{Base: base}}, 0},
	}
	req, _ := http.NewRequest("GET", "http://api.example.com/", nil)
	for _, tt := range tests {
		tt.tr.Wait = strategy.Immediate
		tt.tr.RoundTrip(req) // the first use
		if got := testing.AllocsPerRun(1000, func() { tt.tr.RoundTrip(req) }); got != tt.want {
			t.Errorf("%s: %v allocations per first-try success, want %v", tt.name, got, tt.want)
		}
	}
	if n == 0 {
		t.Error("the Trace saw nothing")
	}
}

// TestEventDurations checks each attempt's own duration and the time
// waited so far, on a base that takes 100ms per attempt.
func TestEventDurations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{steps: []step{{status: 503}, {status: 502}, {status: 200}}}
		slow := rtFunc(func(r *http.Request) (*http.Response, error) {
			time.Sleep(100 * time.Millisecond)
			return base.RoundTrip(r)
		})
		tr := newTransport(slow)
		type seen struct {
			kind        string
			dur, waited time.Duration
			attempt     int
		}
		var got []seen
		tr.Trace = &backoff.Trace{
			OnAttempt: func(e backoff.Event) { got = append(got, seen{"attempt", e.AttemptDuration, e.Waited, e.Attempt}) },
			OnBackoff: func(e backoff.Event) { got = append(got, seen{"backoff", e.AttemptDuration, e.Waited, e.Attempt}) },
			OnSuccess: func(e backoff.Event) { got = append(got, seen{"success", e.AttemptDuration, e.Waited, e.Attempt}) },
		}
		resp, err := get(t, tr, "GET", "")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		const ms = time.Millisecond
		want := []seen{
			{"attempt", 100 * ms, 0, 1}, {"backoff", 100 * ms, 0, 1},
			{"attempt", 100 * ms, time.Second, 2}, {"backoff", 100 * ms, time.Second, 2},
			{"attempt", 100 * ms, 2 * time.Second, 3}, {"success", 100 * ms, 2 * time.Second, 3},
		}
		if !slices.Equal(got, want) {
			t.Errorf("events\n%v\nwant\n%v", got, want)
		}

		// A wait cut short: the give-up counts what was waited.
		base2 := &fakeBase{steps: []step{{status: 503}}}
		tr2 := newTransport(base2)
		var waited time.Duration
		tr2.Trace = &backoff.Trace{OnGiveUp: func(e backoff.Event) { waited = e.Waited }}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(1500*ms, cancel)
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://api.example.com/", nil)
		if resp, err := tr2.RoundTrip(req); err == nil {
			resp.Body.Close()
		}
		if waited != 1500*ms {
			t.Errorf("Waited at a give-up during the second wait = %v, want 1.5s", waited)
		}
	})
}

// slowBase answers each request after a second (of a synctest bubble's
// clock) with the next status of codes, or fails with err when its code is
// 0.
func slowBase(err error, codes ...int) http.RoundTripper {
	n := 0
	return rtFunc(func(r *http.Request) (*http.Response, error) {
		time.Sleep(time.Second)
		code := codes[min(n, len(codes)-1)]
		n++
		if code == 0 {
			return nil, err
		}
		return &http.Response{StatusCode: code, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
	})
}

// timing records the Elapsed and AttemptDuration of every event, as
// "hook#attempt elapsed/duration".
func timing(log *[]string, untimed bool) *backoff.Trace {
	h := func(hook string) func(backoff.Event) {
		return func(e backoff.Event) {
			*log = append(*log, fmt.Sprintf("%s#%d %v/%v", hook, e.Attempt, e.Elapsed, e.AttemptDuration))
		}
	}
	return &backoff.Trace{OnAttempt: h("attempt"), OnBackoff: h("backoff"), OnSuccess: h("success"), OnGiveUp: h("giveup"), UntimedFirstSuccess: untimed}
}

// UntimedFirstSuccess leaves Elapsed and AttemptDuration at 0 in the events
// of a first-attempt success, and only there.
func TestTraceUntimedFirstSuccess(t *testing.T) {
	errFatal := errors.New("fatal")
	cases := []struct {
		name    string
		untimed bool
		base    http.RoundTripper
		max     int
		want    string
	}{
		{"first success, timed", false, slowBase(nil, 200), 0,
			"attempt#1 1s/1s success#1 1s/1s"},
		{"first success, untimed", true, slowBase(nil, 200), 0,
			"attempt#1 0s/0s success#1 0s/0s"},
		{"status not retried, untimed", true, slowBase(nil, 404), 0,
			"attempt#1 0s/0s success#1 0s/0s"},
		{"success after a retry, untimed", true, slowBase(nil, 503, 200), 0,
			"attempt#1 1s/1s backoff#1 1s/1s attempt#2 3s/1s success#2 3s/1s"},
		{"give-up at the first attempt, untimed", true, slowBase(nil, 503), 1,
			"attempt#1 1s/1s giveup#1 1s/1s"},
		{"error not retried, untimed", true, slowBase(errFatal, 0), 0,
			"attempt#1 1s/1s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var log []string
				tr := newTransport(c.base)
				tr.MaxAttempts = c.max
				tr.Classify = func(a backoff.Attempt) bool {
					return a.Err == nil && a.Response.StatusCode == 503
				}
				tr.Trace = timing(&log, c.untimed)
				resp, err := get(t, tr, "GET", "")
				if err == nil {
					resp.Body.Close()
				}
				if got := strings.Join(log, " "); got != c.want {
					t.Errorf("events\n%s\nwant\n%s", got, c.want)
				}
			})
		})
	}
}

func TestJoinTracesUntimedFirstSuccess(t *testing.T) {
	var log []string
	untimed, timed := timing(&log, true), timing(&log, false)
	noHooks := &backoff.Trace{UntimedFirstSuccess: false}
	cases := []struct {
		name   string
		traces []*backoff.Trace
		want   bool
	}{
		{"all untimed", []*backoff.Trace{untimed, timing(&log, true)}, true},
		{"one timed", []*backoff.Trace{untimed, timed}, false},
		{"timed first", []*backoff.Trace{timed, untimed}, false},
		{"one with hooks", []*backoff.Trace{nil, untimed, noHooks}, true},
		{"a timed Trace without hooks does not count", []*backoff.Trace{untimed, noHooks, timing(&log, true)}, true},
	}
	for _, c := range cases {
		if got := backoff.JoinTraces(c.traces...).UntimedFirstSuccess; got != c.want {
			t.Errorf("%s: UntimedFirstSuccess = %v, want %v", c.name, got, c.want)
		}
	}

	// Through a Transport: a joined Trace with one timed subscriber
	// measures the first-attempt success for both.
	synctest.Test(t, func(t *testing.T) {
		log = nil
		tr := newTransport(slowBase(nil, 200))
		tr.Trace = backoff.JoinTraces(untimed, timed)
		resp, err := get(t, tr, "GET", "")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := "attempt#1 1s/1s attempt#1 1s/1s success#1 1s/1s success#1 1s/1s"
		if got := strings.Join(log, " "); got != want {
			t.Errorf("events\n%s\nwant\n%s", got, want)
		}
	})
}
