package backoff_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/f99b3bbb/backoff"
)

// A Transport that is the Base of another makes one attempt per attempt of
// the outer one, whatever its own MaxAttempts: the total is the outer's.
func TestNestedTransportAttemptsAreOuters(t *testing.T) {
	for _, tt := range []struct{ outer, inner int }{{3, 5}, {5, 2}, {1, 4}, {2, backoff.Unlimited}} {
		synctest.Test(t, func(t *testing.T) {
			base := &fakeBase{steps: []step{{status: 503}}}
			inner := newTransport(base)
			inner.MaxAttempts = tt.inner
			var innerAttempts, innerBackoffs atomic.Int32
			inner.Trace = &backoff.Trace{
				OnAttempt: func(backoff.Event) { innerAttempts.Add(1) },
				OnBackoff: func(backoff.Event) { innerBackoffs.Add(1) },
			}
			outer := newTransport(inner)
			outer.MaxAttempts = tt.outer
			outer.Budget = backoff.DisabledBudget()
			resp, err := get(t, outer, "GET", "")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := len(base.sent); got != tt.outer {
				t.Errorf("outer %d, inner %d attempts: %d attempts in all, want %d", tt.outer, tt.inner, got, tt.outer)
			}
			if innerAttempts.Load() != int32(tt.outer) || innerBackoffs.Load() != 0 {
				t.Errorf("the inner Transport saw %d attempts and %d backoffs, want %d and 0", innerAttempts.Load(), innerBackoffs.Load(), tt.outer)
			}
			base.checkBodies(t, resp)
		})
	}
}

// A request whose context carries WithSingleAttempt gets one attempt and
// deposits nothing into the budget: the caller's layer retries and counts.
func TestWithSingleAttemptOnRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const host = "api.example.com"
		base := &fakeBase{steps: []step{{status: 503}}}
		budget := &backoff.Budget{Ratio: 0.5, MinPerSecond: -1}
		spend(budget, host, 1) // a full bucket would not show a deposit
		tr := newTransport(base)
		tr.Budget = budget
		var giveUps, backoffs int
		tr.Trace = &backoff.Trace{
			OnBackoff: func(backoff.Event) { backoffs++ },
			OnGiveUp:  func(backoff.Event) { giveUps++ },
		}
		before := budget.Tokens(host)
		ctx := backoff.WithSingleAttempt(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+host+"/", nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if len(base.sent) != 1 || resp.StatusCode != 503 {
			t.Errorf("%d attempts, status %d; want the 503 of a single attempt", len(base.sent), resp.StatusCode)
		}
		if backoffs != 0 {
			t.Errorf("%d backoffs under WithSingleAttempt, want none", backoffs)
		}
		if after := budget.Tokens(host); after != before {
			t.Errorf("budget went from %v to %v tokens; want no deposit under WithSingleAttempt", before, after)
		}
		// The mark travels in a context derived from the marked one.
		child, cancel := context.WithCancel(ctx)
		defer cancel()
		req, _ = http.NewRequestWithContext(child, "GET", "http://"+host+"/", nil)
		resp, err = tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if len(base.sent) != 2 {
			t.Errorf("%d attempts in all, want 2: one per request", len(base.sent))
		}
		if after := budget.Tokens(host); after != before {
			t.Errorf("budget went from %v to %v tokens; want no deposit", before, after)
		}
	})
}

// wrapper is a RoundTripper that wraps another, as an instrumenting one
// does: the Transport above it cannot see what is below.
type wrapper struct {
	rt    http.RoundTripper
	calls atomic.Int32
}

func (w *wrapper) RoundTrip(r *http.Request) (*http.Response, error) {
	w.calls.Add(1)
	return w.rt.RoundTrip(r)
}

// SingleAttemptBelow on a Transport reaches a Transport behind a wrapping
// Base: the inner one makes one attempt per outer attempt. Without it the
// attempts multiply: a wrapper hides the nesting.
func TestSingleAttemptBelowThroughWrapper(t *testing.T) {
	for _, mark := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			base := &fakeBase{steps: []step{{status: 503}}}
			inner := newTransport(base)
			inner.Budget = backoff.DisabledBudget()
			inner.MaxAttempts = 2
			w := &wrapper{rt: inner}
			outer := newTransport(w)
			outer.Budget = backoff.DisabledBudget()
			outer.MaxAttempts = 3
			outer.SingleAttemptBelow = mark
			resp, err := get(t, outer, "GET", "")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			want := 3
			if !mark {
				want = 3 * 2
			}
			if got := len(base.sent); got != want || w.calls.Load() != 3 {
				t.Errorf("SingleAttemptBelow %v: %d attempts below, %d through the wrapper; want %d, 3", mark, got, w.calls.Load(), want)
			}
			for i, s := range base.sent {
				if got := backoff.IsSingleAttempt(s.ctx); got != mark {
					t.Errorf("SingleAttemptBelow %v: attempt %d's context marked %v", mark, i+1, got)
				}
			}
		})
	}
}

// A Transport reached with an attempt's context, but not as the Base of
// the one making the attempt (a token fetcher's own client, say, called by
// the outer one's Base with a new request), retries as configured.
func TestUnrelatedTransportUnderAttemptContextRetries(t *testing.T) {
	for _, outerTimeout := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			tokenBase := &fakeBase{steps: []step{{status: 503}, {status: 502}, {status: 200, body: "token"}}}
			tokens := newTransport(tokenBase)
			tokens.Budget = backoff.DisabledBudget()
			var tokenAttempts int
			tokens.Trace = &backoff.Trace{OnAttempt: func(backoff.Event) { tokenAttempts++ }}

			apiBase := &fakeBase{steps: []step{{status: 200, body: "ok"}}}
			auth := rtFunc(func(r *http.Request) (*http.Response, error) {
				// A new request, built from the attempt's context.
				treq, _ := http.NewRequestWithContext(r.Context(), "GET", "http://auth.example.com/token", nil)
				tresp, err := tokens.RoundTrip(treq)
				if err != nil {
					return nil, err
				}
				tresp.Body.Close()
				return apiBase.RoundTrip(r)
			})
			outer := newTransport(auth)
			outer.Budget = backoff.DisabledBudget()
			if outerTimeout {
				outer.AttemptTimeout = 3600e9 // the attempt gets a context of its own
			}
			resp, err := get(t, outer, "GET", "")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if len(tokenBase.sent) != 3 || tokenAttempts != 3 {
				t.Errorf("the token Transport made %d attempts (Trace %d), want 3: it retries as configured", len(tokenBase.sent), tokenAttempts)
			}
			if len(apiBase.sent) != 1 || resp.StatusCode != 200 {
				t.Errorf("%d API attempts, status %d; want 1, 200", len(apiBase.sent), resp.StatusCode)
			}
		})
	}
}
