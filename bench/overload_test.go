package bench

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/failsafe-go/failsafe-go/failsafehttp"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/f99b3bbb/backoff"
)

// The overload measurements run each layer with its own defaults (waits
// included) in a synctest bubble, over an in-memory backend that answers
// after a fixed latency: the waits and the latency pass in virtual time,
// so a minute-long outage takes seconds.
const (
	coldCallers    = 100               // concurrent first requests of a new client
	outageCallers  = 100               // goroutines calling in a loop
	outageFor      = 90 * time.Second  // every request fails for this long
	steadyFrom     = 30 * time.Second  // the steady state is measured from here
	callTimeout    = 120 * time.Second // http.Client.Timeout of every layer
	outageTick     = time.Second       // the resolution of the counts
	outageSeconds  = int(outageFor / outageTick)
	steadySecond   = int(steadyFrom / outageTick)
	maxPerLogical  = 1.1       // the target for ours, in steady state
	defaultLayerID = "backoff" // the layer the targets apply to
)

// backendLatency is the latency of every response. Under the race
// detector, ten times as long, for ten times fewer calls: a run there is
// several times slower.
var backendLatency = 50 * time.Millisecond

func init() {
	if raceEnabled {
		backendLatency *= 10
	}
}

// overloadLayers are the layers with their defaults: only the base is set
// (and retryablehttp's logger silenced).
var overloadLayers = []stormLayer{
	{defaultLayerID, func(base http.RoundTripper) http.RoundTripper {
		return &backoff.Transport{Base: base}
	}},
	{"retryablehttp", func(base http.RoundTripper) http.RoundTripper {
		c := retryablehttp.NewClient()
		c.HTTPClient.Transport = base
		c.Logger = nil
		return &retryablehttp.RoundTripper{Client: c}
	}},
	{"failsafe", func(base http.RoundTripper) http.RoundTripper {
		return failsafehttp.NewRoundTripper(base, failsafehttp.NewRetryPolicyBuilder().ReturnLastFailure().Build())
	}},
}

// backend is an in-memory server: answer decides each response's status
// from the request.
type backend struct {
	answer func(*http.Request) int
	hits   atomic.Int64
}

func (b *backend) RoundTrip(req *http.Request) (*http.Response, error) {
	b.hits.Add(1)
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	select {
	case <-time.After(backendLatency):
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	code := b.answer(req)
	return &http.Response{
		StatusCode: code,
		Status:     fmt.Sprintf("%d %s", code, http.StatusText(code)),
		Header:     http.Header{},
		Body:       io.NopCloser(strings.NewReader("")),
		Request:    req,
	}, nil
}

// get makes a GET through c and reports whether it ended in a 200.
func get(c *http.Client, url string) bool {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	return do(c, req)
}

// do sends req through c and reports whether it ended in a 200.
func do(c *http.Client, req *http.Request) bool {
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// coldStart sends coldCallers concurrent GETs through a new layer, each
// meeting one 503 before a 200, and returns how many succeeded.
func coldStart(t *testing.T, mk func(http.RoundTripper) http.RoundTripper) (ok int) {
	var mu sync.Mutex
	seen := make(map[string]bool)
	b := &backend{answer: func(r *http.Request) int {
		mu.Lock()
		defer mu.Unlock()
		if !seen[r.URL.Path] {
			seen[r.URL.Path] = true
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}}
	c := &http.Client{Transport: mk(b), Timeout: callTimeout}
	var succeeded atomic.Int64
	synctest.Test(t, func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range coldCallers {
			wg.Go(func() {
				if get(c, fmt.Sprintf("http://api.example/%d", i)) {
					succeeded.Add(1)
				}
			})
		}
		wg.Wait()
	})
	return int(succeeded.Load())
}

// outage runs outageCallers goroutines, each calling in a loop, against a
// backend that fails every request for outageFor, and returns per second
// of virtual time the logical calls started and the requests the backend
// received.
func outage(t *testing.T, mk func(http.RoundTripper) http.RoundTripper) (calls, hits []int64) {
	calls, hits = make([]int64, outageSeconds), make([]int64, outageSeconds)
	var mu sync.Mutex
	b := &backend{}
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		second := func() int { return int(time.Since(start) / outageTick) }
		b.answer = func(r *http.Request) int {
			// Every request counts in the second its logical call
			// started, which the call's header tells.
			var s int
			fmt.Sscan(r.Header.Get("X-Call-Second"), &s)
			mu.Lock()
			hits[s]++
			mu.Unlock()
			return http.StatusServiceUnavailable
		}
		c := &http.Client{Transport: mk(b), Timeout: callTimeout}
		var wg sync.WaitGroup
		for range outageCallers {
			wg.Go(func() {
				for {
					s := second()
					if s >= outageSeconds {
						return
					}
					mu.Lock()
					calls[s]++
					mu.Unlock()
					req, _ := http.NewRequest(http.MethodGet, "http://api.example/", nil)
					req.Header.Set("X-Call-Second", fmt.Sprint(s))
					do(c, req)
				}
			})
		}
		wg.Wait()
	})
	return calls, hits
}

func sum(xs []int64) (n int64) {
	for _, x := range xs {
		n += x
	}
	return n
}

// TestOverload measures, for each layer with its defaults, a cold start
// (all of coldCallers must succeed for ours) and a sustained outage (at
// most maxPerLogical requests per logical request in steady state for
// ours), and the reserve our budget spends at the start of the outage.
func TestOverload(t *testing.T) {
	var b strings.Builder
	fmt.Fprintf(&b, "%-14s %-12s %-22s %-22s %-10s\n", "layer", "cold start", "outage: first 30s", "outage: 30s to 90s", "calls")
	for _, l := range overloadLayers {
		ok := coldStart(t, l.make)
		if raceEnabled && l.name == "failsafe" {
			// Under the race detector, failsafe-go's outage crashes the
			// runtime (SIGSEGV in runtime.(*timer).maybeRunChan, from
			// its select on a timer in a synctest bubble, go1.26.8).
			fmt.Fprintf(&b, "%-14s %-12s (outage not run under the race detector)\n", l.name, fmt.Sprintf("%d/%d", ok, coldCallers))
			continue
		}
		calls, hits := outage(t, l.make)
		early := float64(sum(hits[:steadySecond])) / float64(sum(calls[:steadySecond]))
		steady := float64(sum(hits[steadySecond:])) / float64(sum(calls[steadySecond:]))
		fmt.Fprintf(&b, "%-14s %-12s %-22.5f %-22.5f %-10d\n", l.name, fmt.Sprintf("%d/%d", ok, coldCallers), early, steady, sum(calls))
		if l.name != defaultLayerID {
			continue
		}
		if ok != coldCallers {
			t.Errorf("%s: %d of %d callers of a cold start succeeded, want all", l.name, ok, coldCallers)
		}
		// A token or two earned before the window may be spent in it.
		if steady > maxPerLogical+0.0005 {
			t.Errorf("%s: %.4f requests per logical request in steady state, want at most %v", l.name, steady, maxPerLogical)
		}
		// The reserve: requests beyond the steady ratio over the run.
		extra := float64(sum(hits)) - maxPerLogical*float64(sum(calls))
		first := float64(hits[0]) - maxPerLogical*float64(calls[0])
		fmt.Fprintf(&b, "%-14s the reserve: %.0f requests beyond %v per logical request, %.0f of them in the first second\n", "", extra, maxPerLogical, first)
	}
	t.Logf("cold start: %d concurrent GETs of a new client, each meeting one 503; outage: %d goroutines in a loop for %v against a backend answering in %v, failing every request; requests received per logical request:\n%s",
		coldCallers, outageCallers, outageFor, backendLatency, b.String())
}
