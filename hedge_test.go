package backoff_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

// hstep is how a scripted server answers one attempt: after delay, with
// status (and header, if any).
type hstep struct {
	delay  time.Duration
	status int
	header http.Header
}

// scripted is a Base that answers attempt n (1 for the first it
// receives) as steps[n-1] says, or the last hstep beyond them. An attempt
// whose context ends first fails with the context's error; its cause is
// recorded. It checks that every body it hands out is closed.
type scripted struct {
	steps []hstep

	n      atomic.Int32
	bodies bodyLog
	mu     sync.Mutex
	causes map[int32]error // the cause of each attempt's cancellation
	sent   []int32         // the attempts in the order they were received
}

func (s *scripted) RoundTrip(r *http.Request) (*http.Response, error) {
	n := s.n.Add(1)
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	st := s.steps[min(int(n), len(s.steps))-1]
	s.mu.Lock()
	s.sent = append(s.sent, n)
	s.mu.Unlock()
	select {
	case <-time.After(st.delay):
	case <-r.Context().Done():
		s.mu.Lock()
		if s.causes == nil {
			s.causes = make(map[int32]error)
		}
		s.causes[n] = context.Cause(r.Context())
		s.mu.Unlock()
		return nil, r.Context().Err()
	}
	h := st.header
	if h == nil {
		h = http.Header{}
	}
	resp := &http.Response{StatusCode: st.status, Header: h, Body: io.NopCloser(strings.NewReader("body")), Request: r}
	s.bodies.track(resp, n)
	return resp, nil
}

// allClosed fails t if a body the server handed out, other than the
// returned one, is still open.
func (s *scripted) allClosed(t *testing.T, returned *http.Response) {
	t.Helper()
	s.bodies.mu.Lock()
	defer s.bodies.mu.Unlock()
	for _, b := range s.bodies.bodies {
		if !b.closed.Load() && (returned == nil || !isBody(returned, b)) {
			t.Errorf("%s not closed", b.name)
		}
	}
}

// isBody reports whether resp's body is b, or wraps it.
func isBody(resp *http.Response, b *trackedReadCloser) bool {
	resp.Body.Close()
	return b.closed.Load()
}

func hedged(base http.RoundTripper, h backoff.Hedging) *backoff.Transport {
	return &backoff.Transport{Base: base, Hedging: &h, Wait: strategy.Constant{Interval: time.Second}, Jitter: jitter.None}
}

// do sends a GET to api.example through tr, and returns the response, its
// Outcome and the time the call took.
func do(t *testing.T, tr http.RoundTripper, method string, body io.Reader) (*http.Response, backoff.Outcome, time.Duration, error) {
	t.Helper()
	var o backoff.Outcome
	req, err := http.NewRequestWithContext(backoff.WithOutcome(context.Background(), &o), method, "http://api.example/x", body)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := tr.RoundTrip(req)
	return resp, o, time.Since(start), err
}

func TestHedgeWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{steps: []hstep{{delay: time.Second, status: 200}, {delay: 5 * time.Millisecond, status: 200}}}
		var hedges, attempts []backoff.Event
		tr := hedged(s, backoff.Hedging{Delay: 20 * time.Millisecond})
		tr.Trace = &backoff.Trace{
			OnHedge:   func(e backoff.Event) { hedges = append(hedges, e) },
			OnAttempt: func(e backoff.Event) { attempts = append(attempts, e) },
		}
		resp, o, took, err := do(t, tr, http.MethodGet, nil)
		if err != nil {
			t.Fatal(err)
		}
		if took != 25*time.Millisecond {
			t.Errorf("took %v, want 25ms (the delay and the hedge's time)", took)
		}
		if want := (backoff.Outcome{Attempts: 2, Hedges: 1, Winner: 2, HedgeWon: true, Status: 200}); o != want {
			t.Errorf("Outcome = %+v, want %+v", o, want)
		}
		if !o.Hedged() || o.Retried() {
			t.Errorf("Hedged() = %v, Retried() = %v, want true, false", o.Hedged(), o.Retried())
		}
		if !errors.Is(s.causes[1], backoff.ErrHedgeLost) {
			t.Errorf("the loser's cause = %v, want ErrHedgeLost", s.causes[1])
		}
		if len(hedges) != 1 || hedges[0].Attempt != 2 || hedges[0].Hedges != 1 || hedges[0].Elapsed != 20*time.Millisecond {
			t.Errorf("OnHedge events = %+v, want one, attempt 2 at 20ms", hedges)
		}
		if len(attempts) != 1 || attempts[0].Attempt != 2 || !attempts[0].HedgeWon || !attempts[0].Final || attempts[0].AttemptDuration != 5*time.Millisecond {
			t.Errorf("OnAttempt events = %+v, want one, final, attempt 2 won in 5ms", attempts)
		}
		s.allClosed(t, resp)
	})
}

func TestHedgeOriginalWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{steps: []hstep{{delay: 30 * time.Millisecond, status: 200}, {delay: time.Second, status: 200}}}
		resp, o, took, err := do(t, hedged(s, backoff.Hedging{Delay: 20 * time.Millisecond}), http.MethodGet, nil)
		if err != nil {
			t.Fatal(err)
		}
		if took != 30*time.Millisecond {
			t.Errorf("took %v, want 30ms", took)
		}
		if want := (backoff.Outcome{Attempts: 2, Hedges: 1, Winner: 1, Status: 200}); o != want {
			t.Errorf("Outcome = %+v, want %+v", o, want)
		}
		if !errors.Is(s.causes[2], backoff.ErrHedgeLost) {
			t.Errorf("the loser's cause = %v, want ErrHedgeLost", s.causes[2])
		}
		s.allClosed(t, resp)
	})
}

func TestHedgeFastNoHedge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{steps: []hstep{{delay: 5 * time.Millisecond, status: 200}}}
		fired := 0
		tr := hedged(s, backoff.Hedging{Delay: 20 * time.Millisecond})
		tr.Trace = &backoff.Trace{OnHedge: func(backoff.Event) { fired++ }}
		resp, o, _, err := do(t, tr, http.MethodGet, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := (backoff.Outcome{Attempts: 1, Winner: 1, Status: 200}); o != want || fired != 0 {
			t.Errorf("Outcome = %+v, OnHedge fired %d times; want %+v, 0", o, fired, want)
		}
	})
}

// TestHedgeOnlyReplayable: a request that may not be sent again, or whose
// body cannot be read twice at once, is never hedged.
func TestHedgeOnlyReplayable(t *testing.T) {
	for _, tt := range []struct {
		name   string
		method string
		body   func() io.Reader
		ctx    func(context.Context) context.Context
		want   int32
	}{
		{"GET", http.MethodGet, nil, nil, 2},
		{"PUT with GetBody", http.MethodPut, func() io.Reader { return strings.NewReader("x") }, nil, 2},
		{"POST", http.MethodPost, nil, nil, 1},
		{"POST made idempotent", http.MethodPost, nil, func(ctx context.Context) context.Context { return backoff.WithIdempotent(ctx, true) }, 2},
		{"GET made not idempotent", http.MethodGet, nil, func(ctx context.Context) context.Context { return backoff.WithIdempotent(ctx, false) }, 1},
		{"PUT without GetBody", http.MethodPut, func() io.Reader { return io.MultiReader(strings.NewReader("x")) }, nil, 1},
		{"single attempt", http.MethodGet, nil, backoff.WithSingleAttempt, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &scripted{steps: []hstep{{delay: time.Second, status: 200}, {delay: 5 * time.Millisecond, status: 200}}}
				var body io.Reader
				if tt.body != nil {
					body = tt.body()
				}
				ctx := context.Background()
				if tt.ctx != nil {
					ctx = tt.ctx(ctx)
				}
				req, _ := http.NewRequestWithContext(ctx, tt.method, "http://api.example/", body)
				resp, err := hedged(s, backoff.Hedging{Delay: 20 * time.Millisecond}).RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if got := s.n.Load(); got != tt.want {
					t.Errorf("%d requests sent, want %d", got, tt.want)
				}
			})
		})
	}
}

// TestHedgeMaxAttempts: hedges and retries share one limit on attempts.
func TestHedgeMaxAttempts(t *testing.T) {
	for _, tt := range []struct {
		maxAttempts, maxHedges int
		want                   int32
	}{
		{1, 3, 1},
		{2, 3, 2},
		{3, 3, 3},
		{0, 3, 4}, // DefaultMaxAttempts
		{0, 0, 2}, // DefaultMaxHedges, in a round that answers
	} {
		synctest.Test(t, func(t *testing.T) {
			// Every attempt is slow; the last to be sent answers.
			s := &scripted{steps: []hstep{{delay: time.Hour}, {delay: time.Hour}, {delay: time.Hour}, {delay: time.Hour}}}
			s.steps[tt.want-1] = hstep{delay: 10 * time.Millisecond, status: 200}
			tr := hedged(s, backoff.Hedging{Delay: 20 * time.Millisecond, MaxHedges: tt.maxHedges})
			tr.MaxAttempts = tt.maxAttempts
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://api.example/", nil)
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
			}
			if got := s.n.Load(); got != tt.want {
				t.Errorf("MaxAttempts %d, MaxHedges %d: %d requests, want %d", tt.maxAttempts, tt.maxHedges, got, tt.want)
			}
		})
	}
}

// TestHedgeBudget: a hedge takes a token; with none left, the attempt goes
// on alone.
func TestHedgeBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{steps: []hstep{{delay: time.Second, status: 200}, {delay: 5 * time.Millisecond, status: 200}}}
		tr := hedged(s, backoff.Hedging{Delay: 20 * time.Millisecond})
		tr.Budget = emptyBudget("api.example")
		resp, o, took, err := do(t, tr, http.MethodGet, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := (backoff.Outcome{Attempts: 1, Winner: 1, Status: 200}); o != want || took != time.Second {
			t.Errorf("Outcome = %+v after %v, want %+v after 1s", o, took, want)
		}

		b := &backoff.Budget{Ratio: -1, MinPerSecond: -1, MaxTokens: 3}
		tr = hedged(&scripted{steps: []hstep{{delay: time.Second, status: 200}}}, backoff.Hedging{Delay: 20 * time.Millisecond})
		tr.Budget = b
		resp, _, _, _ = do(t, tr, http.MethodGet, nil)
		resp.Body.Close()
		if got := b.Tokens("api.example"); got != 2 {
			t.Errorf("tokens after one hedge = %v, want 2", got)
		}
	})
}

// TestHedgeFailure: a failed attempt stops the hedges of its round; the
// attempts in flight go on; when all fail, the retry waits as usual.
func TestHedgeFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{steps: []hstep{
			{delay: 100 * time.Millisecond, status: 200}, // the original, slow
			{delay: 5 * time.Millisecond, status: 503},   // its first hedge fails fast
			{delay: time.Millisecond, status: 200},       // never sent
		}}
		resp, o, took, err := do(t, hedged(s, backoff.Hedging{Delay: 20 * time.Millisecond, MaxHedges: 3}), http.MethodGet, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := (backoff.Outcome{Attempts: 2, Hedges: 1, Winner: 1, Status: 200}); o != want || took != 100*time.Millisecond {
			t.Errorf("Outcome = %+v after %v, want %+v after 100ms", o, took, want)
		}
		s.allClosed(t, resp)

		// Both attempts of the first round fail: a retry, after the wait,
		// hedged again.
		s = &scripted{steps: []hstep{
			{delay: 30 * time.Millisecond, status: 503},
			{delay: 30 * time.Millisecond, status: 502},
			{delay: time.Second, status: 200},
			{delay: 5 * time.Millisecond, status: 200},
		}}
		resp, o, took, err = do(t, hedged(s, backoff.Hedging{Delay: 20 * time.Millisecond}), http.MethodGet, nil)
		if err != nil {
			t.Fatal(err)
		}
		// 50ms (the hedge, sent at 20ms, fails last), 1s wait, 20ms + 5ms.
		if want := (backoff.Outcome{Attempts: 4, Hedges: 2, Winner: 4, HedgeWon: true, Status: 200, Waited: time.Second}); o != want || took != 1075*time.Millisecond {
			t.Errorf("Outcome = %+v after %v, want %+v after 1.075s", o, took, want)
		}
		s.allClosed(t, resp)
	})
}

// TestHedgeThrottled: a response that throttles stops hedging for the rest
// of the call, and its server-given wait is the floor of the retry.
func TestHedgeThrottled(t *testing.T) {
	for _, tt := range []struct {
		name string
		st   hstep
	}{
		{"429", hstep{status: 429}},
		{"Retry-After", hstep{status: 503, header: http.Header{"Retry-After": {"2"}}}},
		{"rate limit", hstep{status: 503, header: http.Header{"Ratelimit": {`"default";r=0;t=2`}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				throttle := tt.st
				throttle.delay = 5 * time.Millisecond
				s := &scripted{steps: []hstep{
					{delay: 100 * time.Millisecond, status: 503},
					throttle,
					{delay: time.Second, status: 200}, // the retry, not hedged
					{delay: 5 * time.Millisecond, status: 200},
				}}
				resp, o, _, err := do(t, hedged(s, backoff.Hedging{Delay: 20 * time.Millisecond, MaxHedges: 2}), http.MethodGet, nil)
				if err != nil {
					t.Fatal(err)
				}
				if want := (backoff.Outcome{Attempts: 3, Hedges: 1, Winner: 3, Status: 200}); o.Attempts != want.Attempts || o.Hedges != want.Hedges || o.Winner != want.Winner || o.Status != 200 {
					t.Errorf("Outcome = %+v, want %+v", o, want)
				}
				if tt.name != "429" && o.Waited < 2*time.Second {
					t.Errorf("waited %v, want the server's 2s at least", o.Waited)
				}
				s.allClosed(t, resp)
			})
		})
	}
}

// TestHedgeCanceled: a call cancelled while its attempts run returns the
// context's error, with every attempt ended.
func TestHedgeCanceled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{steps: []hstep{{delay: time.Hour}}}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://api.example/", nil)
		_, err := hedged(s, backoff.Hedging{Delay: 20 * time.Millisecond, MaxHedges: 2}).RoundTrip(req)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want the deadline", err)
		}
		if got := s.n.Load(); got != 3 {
			t.Errorf("%d requests, want 3 (at 0, 20ms, 40ms)", got)
		}
		synctest.Wait()
	})
}

// TestHedgePanics: a panic in the Base on a hedge's goroutine, or in a
// hook while attempts are in flight, reaches the caller with its value,
// once every attempt has ended and every body is closed.
func TestHedgePanics(t *testing.T) {
	t.Run("base", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := &scripted{steps: []hstep{{delay: time.Hour, status: 200}}}
			base := rtFunc(func(r *http.Request) (*http.Response, error) {
				if n, _ := backoff.AttemptNumber(r.Context()); n == 2 {
					panic("hedge")
				}
				return s.RoundTrip(r)
			})
			defer func() {
				if v := recover(); v != "hedge" {
					t.Errorf("recovered %v, want the Base's panic", v)
				}
				if !errors.Is(s.causes[1], backoff.ErrHedgeLost) {
					t.Errorf("the original's cause = %v, want ErrHedgeLost", s.causes[1])
				}
			}()
			do(t, hedged(base, backoff.Hedging{Delay: 20 * time.Millisecond}), http.MethodGet, nil)
		})
	})
	t.Run("OnHedge", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s := &scripted{steps: []hstep{{delay: time.Hour, status: 200}}}
			tr := hedged(s, backoff.Hedging{Delay: 20 * time.Millisecond})
			tr.Trace = &backoff.Trace{OnHedge: func(backoff.Event) { panic("hook") }}
			defer func() {
				if v := recover(); v != "hook" {
					t.Errorf("recovered %v, want the hook's panic", v)
				}
				if len(s.causes) != 2 {
					t.Errorf("attempts cancelled: %v, want both", s.causes)
				}
			}()
			do(t, tr, http.MethodGet, nil)
		})
	})
}

func TestHedgingValidate(t *testing.T) {
	for _, h := range []backoff.Hedging{
		{},
		{Delay: -1},
		{Delay: time.Millisecond, Percentile: 100},
		{Delay: time.Millisecond, Percentile: -1},
		{Delay: time.Millisecond, MaxHedges: -1},
	} {
		tr := &backoff.Transport{Hedging: &h}
		var ce *backoff.ConfigError
		if err := tr.Validate(); !errors.As(err, &ce) || !strings.HasPrefix(ce.Field, "Transport.Hedging.") {
			t.Errorf("Validate(%+v) = %v, want a ConfigError of Transport.Hedging", h, err)
		}
	}
	if err := (&backoff.Transport{Hedging: &backoff.Hedging{Delay: time.Millisecond, Percentile: 95, MaxHedges: 2}}).Validate(); err != nil {
		t.Errorf("Validate = %v", err)
	}
}

// TestHedgePercentile: with a Percentile, the delay follows the host's
// latency once it has 20 attempts; the fixed Delay applies before.
func TestHedgePercentile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var at []time.Duration
		s := &scripted{steps: []hstep{{delay: 5 * time.Millisecond, status: 200}}}
		tr := hedged(s, backoff.Hedging{Delay: time.Second, Percentile: 95})
		tr.Trace = &backoff.Trace{OnHedge: func(e backoff.Event) { at = append(at, e.Elapsed) }}
		for range 20 {
			resp, _, _, err := do(t, tr, http.MethodGet, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		if len(at) != 0 {
			t.Fatalf("hedges sent at %v, want none", at)
		}
		// A slow attempt now: hedged after about 5ms, not 1s.
		s.steps = []hstep{{delay: time.Hour, status: 200}, {delay: 5 * time.Millisecond, status: 200}}
		s.n.Store(0)
		resp, o, took, err := do(t, tr, http.MethodGet, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if len(at) != 1 || at[0] < 5*time.Millisecond || at[0] > 5*time.Millisecond*110/100 {
			t.Errorf("hedges sent at %v, want one at 5ms to 5.5ms", at)
		}
		if o.Winner != 2 || took > 11*time.Millisecond {
			t.Errorf("Outcome %+v after %v, want the hedge to win within 11ms", o, took)
		}
	})
}

// TestHedgeAttemptTimeout: each attempt of a round has its own
// AttemptTimeout.
func TestHedgeAttemptTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{steps: []hstep{{delay: time.Hour}, {delay: time.Hour}, {delay: 5 * time.Millisecond, status: 200}}}
		tr := hedged(s, backoff.Hedging{Delay: 20 * time.Millisecond})
		tr.AttemptTimeout = 50 * time.Millisecond
		resp, o, took, err := do(t, tr, http.MethodGet, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		// The original times out at 50ms, its hedge at 70ms; the retry
		// after 1s answers in 5ms.
		if o.Attempts != 3 || o.Winner != 3 || took != 1075*time.Millisecond {
			t.Errorf("Outcome %+v after %v, want the third attempt to win after 1.075s", o, took)
		}
	})
}

// TestHedgeGetBodyFails: a hedge whose GetBody fails is not sent; the
// original goes on.
func TestHedgeGetBodyFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{steps: []hstep{{delay: 100 * time.Millisecond, status: 200}}}
		req, _ := http.NewRequest(http.MethodPut, "http://api.example/", strings.NewReader("x"))
		req.GetBody = func() (io.ReadCloser, error) { return nil, errors.New("no copy") }
		resp, err := hedged(s, backoff.Hedging{Delay: 20 * time.Millisecond}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if s.n.Load() != 1 {
			t.Errorf("%d requests, want 1", s.n.Load())
		}
	})
}

// eofBody is a response body that records whether it was read to its end.
type eofBody struct {
	io.Reader
	eof, closed atomic.Bool
}

func (b *eofBody) Read(p []byte) (int, error) {
	n, err := b.Reader.Read(p)
	if err == io.EOF {
		b.eof.Store(true)
	}
	return n, err
}

func (b *eofBody) Close() error { b.closed.Store(true); return nil }

// TestHedgeBothAnswer: when the original and its hedge answer at once,
// the one not returned is drained, so that its connection can be used
// again, and closed.
func TestHedgeBothAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var bodies [2]*eofBody
		var n atomic.Int32
		base := rtFunc(func(r *http.Request) (*http.Response, error) {
			i := n.Add(1) - 1
			// Both answer at 30ms: the original after 30ms, its hedge,
			// sent at 20ms, after 10ms.
			time.Sleep([]time.Duration{30 * time.Millisecond, 10 * time.Millisecond}[i])
			bodies[i] = &eofBody{Reader: strings.NewReader("payload")}
			return &http.Response{StatusCode: 200, Body: bodies[i], Request: r}, nil
		})
		tr := hedged(base, backoff.Hedging{Delay: 20 * time.Millisecond})
		tr.Classify = func(a backoff.Attempt) bool {
			// While the first answer is classified, the other arrives.
			time.Sleep(time.Millisecond)
			return backoff.DefaultClassify(a)
		}
		resp, o, _, err := do(t, tr, http.MethodGet, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if o.Attempts != 2 {
			t.Fatalf("Outcome %+v, want 2 attempts", o)
		}
		loser := bodies[2-o.Winner]
		if !loser.eof.Load() || !loser.closed.Load() {
			t.Errorf("the loser's body: read to its end %v, closed %v; want both", loser.eof.Load(), loser.closed.Load())
		}
	})
}

// TestHedgeLog: a hedge has a log line of its own, at slog.LevelDebug.
func TestHedgeLog(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		synctest.Test(t, func(t *testing.T) {
			var buf strings.Builder
			s := &scripted{steps: []hstep{{delay: time.Second, status: 200}, {delay: 5 * time.Millisecond, status: 200}}}
			tr := hedged(s, backoff.Hedging{Delay: 15 * time.Millisecond})
			tr.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level, ReplaceAttr: dropTime}))
			resp, _, _, err := do(t, tr, http.MethodGet, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			want := ""
			if level == slog.LevelDebug {
				want = `level=DEBUG msg="Hedging GET http://api.example after 15ms (attempt 2)" method=GET host=api.example attempts=2 elapsed=15ms hedges=1` + "\n"
			}
			if buf.String() != want {
				t.Errorf("at %v, logged %q, want %q", level, buf.String(), want)
			}
		})
	}
}

func dropTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}
