package backoff_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

func TestOutcome(t *testing.T) {
	const s = time.Second
	reset := io.ErrUnexpectedEOF
	tests := []struct {
		name  string
		steps []step
		setup func(*backoff.Transport)
		want  backoff.Outcome
	}{
		{"first-try success", []step{{status: 200}}, nil, backoff.Outcome{Attempts: 1, Status: 200}},
		{"two retries", []step{{status: 503}, {status: 502}, {status: 200}}, nil, backoff.Outcome{Attempts: 3, Waited: 2 * s, Status: 200}},
		{"not retried", []step{{status: 404}}, nil, backoff.Outcome{Attempts: 1, Status: 404}},
		{"max attempts", []step{{status: 503}}, nil, backoff.Outcome{Attempts: 4, Waited: 3 * s, Status: 503, Reason: backoff.ErrMaxAttempts}},
		{"Retry-After over the cap", []step{{status: 429, header: http.Header{"Retry-After": {"3600"}}}}, nil, backoff.Outcome{Attempts: 1, Status: 429, Reason: backoff.ErrRetryAfter}},
		{"budget", []step{{status: 503}}, func(tr *backoff.Transport) { tr.Budget = emptyBudget("api.example.com") }, backoff.Outcome{Attempts: 1, Status: 503, Reason: backoff.ErrBudget}},
		{"an error", []step{{err: reset}}, func(tr *backoff.Transport) { tr.MaxAttempts = 2 }, backoff.Outcome{Attempts: 2, Waited: s, Err: reset, Reason: backoff.ErrMaxAttempts}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				base := &fakeBase{steps: tt.steps}
				tr := &backoff.Transport{Base: base, Wait: strategy.Constant{Interval: s}, Jitter: jitter.None}
				if tt.setup != nil {
					tt.setup(tr)
				}
				var o backoff.Outcome
				req, _ := http.NewRequestWithContext(backoff.WithOutcome(context.Background(), &o), "GET", "http://api.example.com/", nil)
				resp, err := tr.RoundTrip(req)
				if err == nil {
					resp.Body.Close()
				}
				if tt.want.Err != nil {
					if !errors.Is(o.Err, tt.want.Err) {
						t.Errorf("Err = %v, want %v", o.Err, tt.want.Err)
					}
					o.Err = tt.want.Err
				}
				want := tt.want
				want.Winner = want.Attempts // no hedges
				if o != want {
					t.Errorf("Outcome = %+v, want %+v", o, want)
				}
				if wantClass := map[bool]string{true: "connection", false: ""}[tt.want.Err != nil]; o.ErrorClass() != wantClass {
					t.Errorf("ErrorClass() = %q, want %q", o.ErrorClass(), wantClass)
				}
				if o.Retried() != (tt.want.Attempts > 1) {
					t.Errorf("Retried() = %v with %d attempts", o.Retried(), o.Attempts)
				}
			})
		})
	}
}

// TestOutcomeCancelledWait checks that a wait cut short by the context
// counts for the time it lasted.
func TestOutcomeCancelledWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{steps: []step{{status: 503}}}
		tr := &backoff.Transport{Base: base, Wait: strategy.Constant{Interval: 10 * time.Second}, Jitter: jitter.None}
		var o backoff.Outcome
		ctx, cancel := context.WithTimeout(backoff.WithOutcome(context.Background(), &o), 3*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://api.example.com/", nil)
		if resp, err := tr.RoundTrip(req); err == nil {
			resp.Body.Close()
		}
		if o.Attempts != 1 || o.Waited != 0 || o.Reason != backoff.ErrDeadline {
			// The 10s wait would end after the deadline: no wait at all.
			t.Errorf("Outcome = %+v, want 1 attempt, no wait, reason deadline", o)
		}
		tr2 := &backoff.Transport{Base: base, Wait: strategy.Constant{Interval: 2 * time.Second}, Jitter: jitter.None}
		ctx2, cancel2 := context.WithCancel(backoff.WithOutcome(context.Background(), &o))
		time.AfterFunc(3*time.Second, cancel2)
		req2, _ := http.NewRequestWithContext(ctx2, "GET", "http://api.example.com/", nil)
		if resp, err := tr2.RoundTrip(req2); err == nil {
			resp.Body.Close()
		}
		if o.Attempts != 2 || o.Waited != 3*time.Second || o.Reason != backoff.ErrCanceled {
			t.Errorf("Outcome = %+v, want 2 attempts, 3s waited, reason canceled", o)
		}
	})
}

// TestOutcomeNested checks that the outermost Transport has the last word.
func TestOutcomeNested(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{steps: []step{{status: 503}, {status: 200}}}
		inner := newTransport(base)
		outer := newTransport(inner)
		var o backoff.Outcome
		req, _ := http.NewRequestWithContext(backoff.WithOutcome(context.Background(), &o), "GET", "http://api.example.com/", nil)
		resp, err := outer.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if o.Attempts != 2 || o.Status != 200 || o.Waited != time.Second {
			t.Errorf("Outcome = %+v, want the outer Transport's: 2 attempts, 200, 1s", o)
		}
	})
}

func TestOutcomeAllocations(t *testing.T) {
	if raceEnabled {
		// sync.Pool drops what it is given at random under the race
		// detector: the counts of two runs then differ by chance.
		t.Skip("allocation counts vary under the race detector")
	}
	tr := &backoff.Transport{Base: always(http.StatusOK)}
	var o backoff.Outcome
	req, _ := http.NewRequestWithContext(backoff.WithOutcome(context.Background(), &o), "GET", "http://api.example.com/", nil)
	plain, _ := http.NewRequest("GET", "http://api.example.com/", nil)
	roundTrip := func(r *http.Request) func() {
		return func() {
			resp, err := tr.RoundTrip(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	with, without := testing.AllocsPerRun(100, roundTrip(req)), testing.AllocsPerRun(100, roundTrip(plain))
	if with != without {
		t.Errorf("a first-try success: %v allocations with an Outcome, %v without", with, without)
	}
}

// TestAttemptNumber checks what a layer below a Transport reads of each
// attempt's number, directly below, under a nested Transport, and in an
// unrelated Transport reached with an attempt's context.
func TestAttemptNumber(t *testing.T) {
	type seen struct {
		n  int
		ok bool
	}
	record := func(into *[]seen, base http.RoundTripper) http.RoundTripper {
		return rtFunc(func(r *http.Request) (*http.Response, error) {
			n, ok := backoff.AttemptNumber(r.Context())
			*into = append(*into, seen{n, ok})
			return base.RoundTrip(r)
		})
	}
	want := []seen{{1, false}, {2, true}, {3, true}}
	synctest.Test(t, func(t *testing.T) {
		var got []seen
		tr := newTransport(record(&got, &fakeBase{steps: []step{{status: 503}, {status: 503}, {status: 200}}}))
		resp, err := get(t, tr, "GET", "")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !slices.Equal(got, want) {
			t.Errorf("directly below: %v, want %v", got, want)
		}

		// Below a Transport that is another's Base: the outer numbers.
		got = nil
		inner := newTransport(record(&got, &fakeBase{steps: []step{{status: 503}, {status: 503}, {status: 200}}}))
		resp, err = get(t, newTransport(inner), "GET", "")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !slices.Equal(got, want) {
			t.Errorf("below a nested Transport: %v, want %v", got, want)
		}

		// An unrelated Transport, called by a Base with the attempt's
		// context (a token fetcher, say), numbers its own attempts.
		var fetcher []seen
		token := newTransport(record(&fetcher, &fakeBase{steps: []step{{status: 503}, {status: 200}}}))
		outer := newTransport(rtFunc(func(r *http.Request) (*http.Response, error) {
			if n, _ := backoff.AttemptNumber(r.Context()); n == 2 {
				req, _ := http.NewRequestWithContext(r.Context(), "GET", "http://auth.example/token", nil)
				if resp, err := token.RoundTrip(req); err == nil {
					resp.Body.Close()
				}
			}
			return (&fakeBase{steps: []step{{status: 503}}}).RoundTrip(r)
		}))
		outer.MaxAttempts = 2
		resp, err = get(t, outer, "GET", "")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !slices.Equal(fetcher, want[:2]) {
			t.Errorf("an unrelated Transport under attempt 2: %v, want %v", fetcher, want[:2])
		}
	})
	if n, ok := backoff.AttemptNumber(context.Background()); n != 1 || ok {
		t.Errorf("AttemptNumber(Background) = %d, %v; want 1, false", n, ok)
	}
}
