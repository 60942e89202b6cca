package metrics_test

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

// hang waits until the request is cancelled; after returns code after d.
func hang(req *http.Request) (*http.Response, error) {
	<-req.Context().Done()
	return nil, req.Context().Err()
}

func after(d time.Duration, code int) func(*http.Request) (*http.Response, error) {
	return func(req *http.Request) (*http.Response, error) {
		time.Sleep(d)
		return status(code)(req)
	}
}

// TestHedges: hedges are counted apart from retries, and each hedged
// request by the attempt whose answer was kept.
func TestHedges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMetrics(t)
		send := func(steps ...func(*http.Request) (*http.Response, error)) {
			tr := &backoff.Transport{
				Base:    &script{steps: steps},
				Hedging: &backoff.Hedging{Delay: 20 * time.Millisecond},
				Wait:    strategy.Constant{Interval: time.Second},
				Jitter:  jitter.None,
				Trace:   m.Trace(),
			}
			roundTrip(t, tr, context.Background(), "GET", "http://api.test/", "")
		}
		send(hang, after(5*time.Millisecond, 200))                     // the hedge wins
		send(after(30*time.Millisecond, 200), after(time.Second, 200)) // the original wins
		send(after(5*time.Millisecond, 200))                           // no hedge
		// Both attempts of a hedged round fail; the retry, unhedged, wins.
		send(after(100*time.Millisecond, 503), after(5*time.Millisecond, 503), after(5*time.Millisecond, 200))
		compare(t, m, head("http_hedges_total", "counter")+`
backoff_http_hedges_total{method="GET"} 3
`+head("http_hedged_requests_total", "counter")+`
backoff_http_hedged_requests_total{method="GET",winner="hedge"} 1
backoff_http_hedged_requests_total{method="GET",winner="original"} 2
`, "backoff_http_hedges_total", "backoff_http_hedged_requests_total")
		// One retry in all, with its wait; the waits in flight back to 0.
		if got := total(t, m, "backoff_http_retries_total"); got != 1 {
			t.Errorf("retries = %v, want 1", got)
		}
		if got := total(t, m, "backoff_http_request_retry_delay_seconds"); got != 1 {
			t.Errorf("retry delays observed = %v, want 1", got)
		}
		if got := value(t, m, "backoff_http_waits_in_flight", "method", "GET"); got != 0 {
			t.Errorf("waits in flight = %v, want 0", got)
		}
		lint(t, m)
	})
}
