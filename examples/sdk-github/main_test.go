package main

import (
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// want is the demo's output: the counts are fixed by the fake's script and
// the waits are rounded, so it is the same on every run.
const want = `1. secondary rate limit (403, Retry-After: 1), default Transport
   call 1: the fake saw 1 request (403)
     go-github: *github.AbuseRateLimitError, status 403, RetryAfter 1s: "You have exceeded a secondary …"
     outcome:   attempts=1 status=403 reason="" waited under 0.5s
2. secondary rate limit (403, Retry-After: 1), RetryAfterStatuses: []int{403, 429, 503}
   call 1: the fake saw 2 requests (403, 200)
     go-github: ok, octocat/Hello-World
     outcome:   attempts=2 status=200 reason="" waited about 1s
   the retry came at least 1s after the 403 that asked for 1s
3. primary rate limit (403, X-RateLimit-Remaining: 0, reset in 1h), RetryAfterStatuses: []int{403, 429, 503}
   call 1: the fake saw 1 request (403)
     go-github: *github.RateLimitError, status 403, 0 of 5000 left, reset in 1h: "API rate limit exceeded for …"
     outcome:   attempts=1 status=403 reason="retry_after" waited under 0.5s
   call 2: the fake saw 0 requests
     go-github: *github.RateLimitError, status 403, 0 of 5000 left, reset in 1h: "API rate limit of 5000 …"
     outcome:   none: the Transport was not called
4. primary rate limit (429, X-RateLimit-Remaining: 0, reset in 1h), RetryAfterStatuses: []int{403, 429, 503}
   call 1: the fake saw 1 request (429)
     go-github: *github.RateLimitError, status 429, 0 of 5000 left, reset in 1h: "API rate limit exceeded for …"
     outcome:   attempts=1 status=429 reason="retry_after" waited under 0.5s
5. primary rate limit (429, X-RateLimit-Remaining: 0, reset in 1h), MaxRetryAfter: -1 (server waits ignored)
   call 1: the fake saw 4 requests (429, 429, 429, 429)
     go-github: *github.RateLimitError, status 429, 0 of 5000 left, reset in 1h: "API rate limit exceeded for …"
     outcome:   attempts=4 status=429 reason="max_tries" waited under 0.5s
`

// TestRun runs the demo and compares what it prints, line by line: the
// requests the fake saw for each call, what go-github returned and the
// Outcome the Transport recorded.
func TestRun(t *testing.T) {
	start := time.Now()
	var out strings.Builder
	if err := run(&out); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	elapsed := time.Since(start)
	t.Logf("output (%v):\n%s", elapsed.Round(time.Millisecond), out.String())
	compareLines(t, out.String(), want)
	// The secondary limit's Retry-After: 1 was waited for, once.
	if elapsed < time.Second {
		t.Errorf("run took %v, want at least the 1s of the Retry-After", elapsed)
	}
}

// compareLines reports every line of got that differs from want.
func compareLines(t *testing.T, got, want string) {
	t.Helper()
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Errorf("line %d:\n got %q\nwant %q", i+1, gl, wl)
		}
	}
}
