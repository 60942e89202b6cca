package backoff_test

import (
	"fmt"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

// TestTransportRateLimitWaits checks that a used-up rate limit's reset is
// a server-given wait like Retry-After, with each vendor's header shapes:
// a floor within the cap, a give-up at once beyond it.
func TestTransportRateLimitWaits(t *testing.T) {
	const s = time.Second
	epochIn := func(d time.Duration) http.Header {
		now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		return http.Header{
			"Date":                  {now.Format(http.TimeFormat)},
			"X-Ratelimit-Limit":     {"5000"},
			"X-Ratelimit-Remaining": {"0"},
			"X-Ratelimit-Reset":     {fmt.Sprint(now.Add(d).Unix())},
		}
	}
	tests := []struct {
		name     string
		status   int
		header   http.Header
		statuses []int         // RetryAfterStatuses
		wait     time.Duration // of the retry; -1: none
		reason   backoff.Reason
	}{
		{"GitHub primary limit, 429, resets in 3s", 429, epochIn(3 * s), nil, 3 * s, ""},
		{"GitHub primary limit, 429, resets in an hour: give up at once", 429, epochIn(time.Hour), nil, -1, backoff.ErrRetryAfter},
		{"GitHub primary limit, 403 listed, resets in an hour", 403, epochIn(time.Hour), []int{403}, -1, backoff.ErrRetryAfter},
		{"GitHub primary limit, 403 not listed: not retried", 403, epochIn(3 * s), nil, -1, ""},
		{"GitHub secondary limit, 403 listed, Retry-After", 403, http.Header{"Retry-After": {"2"}}, []int{403}, 2 * s, ""},
		{"quota left: the strategy's wait", 429, http.Header{"X-Ratelimit-Remaining": {"10"}, "X-Ratelimit-Reset": {"30"}}, nil, s, ""},
		{"delta reset", 503, http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"4"}}, nil, 4 * s, ""},
		{"IETF draft", 503, http.Header{"Ratelimit": {`"default";r=0;t=5`}, "Ratelimit-Policy": {`"default";q=100;w=60`}}, nil, 5 * s, ""},
		{"IETF draft, over the cap", 429, http.Header{"Ratelimit": {`"default";r=0;t=61`}}, nil, -1, backoff.ErrRetryAfter},
		{"Retry-After first", 429, http.Header{"Retry-After": {"2"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"3600"}}, nil, 2 * s, ""},
		{"not a listed status", 500, http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"4"}}, nil, s, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				base := &fakeBase{steps: []step{{status: tt.status, header: tt.header}, {status: 200, body: "ok"}}}
				tr := &backoff.Transport{Base: base, Wait: strategy.Constant{Interval: s}, Jitter: jitter.None, RetryAfterStatuses: tt.statuses}
				var waits []time.Duration
				var reason backoff.Reason
				tr.Trace = &backoff.Trace{
					OnBackoff: func(e backoff.Event) { waits = append(waits, e.Wait) },
					OnGiveUp:  func(e backoff.Event) { reason = e.Reason },
				}
				resp, err := get(t, tr, "GET", "")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				switch {
				case tt.wait < 0 && len(waits) != 0:
					t.Errorf("retried after %v, want no retry", waits)
				case tt.wait >= 0 && (len(waits) != 1 || waits[0] != tt.wait):
					t.Errorf("waits %v, want [%v]", waits, tt.wait)
				}
				if reason != tt.reason {
					t.Errorf("give-up reason %q, want %q", reason, tt.reason)
				}
				if tt.wait < 0 && resp.StatusCode != tt.status {
					t.Errorf("returned %d, want the %d", resp.StatusCode, tt.status)
				}
				base.checkBodies(t, resp)
			})
		})
	}
}

// TestTransportShouldRetryHeaders checks the server's own retry advice,
// by header name.
func TestTransportShouldRetryHeaders(t *testing.T) {
	tests := []struct {
		name     string
		names    []string // ShouldRetryHeaders
		status   int
		header   http.Header
		attempts int
	}{
		{"Stripe false on a 500", nil, 500, http.Header{"Stripe-Should-Retry": {"false"}}, 1},
		{"Stripe true on a 409", nil, 409, http.Header{"Stripe-Should-Retry": {"true"}}, 2},
		{"X-Should-Retry before Stripe-Should-Retry", nil, 503, http.Header{"X-Should-Retry": {"false"}, "Stripe-Should-Retry": {"true"}}, 1},
		{"any case, padded", nil, 503, http.Header{"Stripe-Should-Retry": {" FALSE "}}, 1},
		{"on a success: ignored", nil, 200, http.Header{"Stripe-Should-Retry": {"true"}}, 1},
		{"a name of one's own, in any case", []string{"x-retry-advice"}, 400, http.Header{"X-Retry-Advice": {"true"}}, 2},
		{"a name of one's own: the defaults not read", []string{"X-Retry-Advice"}, 503, http.Header{"X-Should-Retry": {"false"}}, 2},
		{"none read", []string{}, 503, http.Header{"Stripe-Should-Retry": {"false"}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				base := &fakeBase{steps: []step{{status: tt.status, header: tt.header}, {status: 200, body: "ok"}}}
				tr := &backoff.Transport{Base: base, Wait: strategy.Immediate, ShouldRetryHeaders: tt.names}
				resp, err := get(t, tr, "GET", "")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if len(base.sent) != tt.attempts {
					t.Errorf("%d attempts, want %d", len(base.sent), tt.attempts)
				}
			})
		})
	}
	err := (&backoff.Transport{ShouldRetryHeaders: []string{"Bad Header"}}).Validate()
	if err == nil {
		t.Error("Validate accepts a ShouldRetryHeaders entry that is not a header name")
	}
}
