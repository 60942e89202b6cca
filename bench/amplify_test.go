package bench

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go/failsafehttp"
	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/strategy"
)

// The retry-storm measurement: 1000 logical GET requests from 50
// goroutines against a loopback backend, through each retrying layer with
// its defaults, waits shortened to about a millisecond for all.
const (
	logical    = 1000
	goroutines = 50
	shortWait  = time.Millisecond
)

type stormLayer struct {
	name string
	make func(base http.RoundTripper) http.RoundTripper
}

var stormLayers = []stormLayer{
	{"backoff", func(base http.RoundTripper) http.RoundTripper {
		// Defaults (4 attempts, budget on), with waits of about 1ms.
		return &backoff.Transport{Base: base, Wait: strategy.Expo{Factor: shortWait, Max: shortWait}}
	}},
	{"retryablehttp", func(base http.RoundTripper) http.RoundTripper {
		c := retryablehttp.NewClient() // defaults: 4 retries (5 attempts)
		c.HTTPClient.Transport = base
		c.Logger = nil
		c.RetryWaitMin, c.RetryWaitMax = shortWait, shortWait
		return &retryablehttp.RoundTripper{Client: c}
	}},
	{"failsafe", func(base http.RoundTripper) http.RoundTripper {
		// The same max attempts as ours: 4 (3 retries).
		rp := failsafehttp.NewRetryPolicyBuilder().
			WithMaxRetries(backoff.DefaultMaxAttempts - 1).
			WithDelay(shortWait).
			ReturnLastFailure().
			Build()
		return failsafehttp.NewRoundTripper(base, rp)
	}},
}

// storm sends the logical requests through rt to a server failing each
// request with probability failRate, and returns the requests the server
// received and the logical requests that ended in a 200.
func storm(t *testing.T, mk func(http.RoundTripper) http.RoundTripper, failRate float64) (received, ok int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if failRate >= 1 || rand.Float64() < failRate {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	base := cleanhttp.DefaultPooledTransport()
	defer base.CloseIdleConnections()
	client := &http.Client{Transport: mk(base), Timeout: 10 * time.Second}

	var next, succeeded atomic.Int64
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= logical {
				resp, err := client.Get(srv.URL)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					succeeded.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return hits.Load(), succeeded.Load()
}

// TestAmplification measures requests received by a failing backend per
// logical request, for each layer, and checks ours stays under 1.2.
func TestAmplification(t *testing.T) {
	var b strings.Builder
	fmt.Fprintf(&b, "%-14s %-22s %-22s\n", "layer", "all fail: recv/logical", "5% fail: success rate")
	for _, l := range stormLayers {
		recv, _ := storm(t, l.make, 1)
		ratio := float64(recv) / logical
		_, ok := storm(t, l.make, 0.05)
		rate := float64(ok) / logical
		fmt.Fprintf(&b, "%-14s %-22.3f %-22.4f\n", l.name, ratio, rate)
		if l.name == "backoff" {
			if ratio > 1.2 {
				t.Errorf("backoff: %.3f requests received per logical request against a dead backend, want at most 1.2", ratio)
			}
			if rate < 0.999 {
				t.Errorf("backoff: %.2f%% of logical requests succeeded with 5%% failures, want at least 99.9%%", 100*rate)
			}
		}
	}
	t.Logf("%d logical GETs from %d goroutines, waits of %v:\n%s", logical, goroutines, shortWait, b.String())
}
