package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestRun runs the demo and checks its whole output, which the fake
// server's script fixes: every query succeeds, and our metrics count each
// failure the server injected.
func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	start := time.Now()
	var out strings.Builder
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	elapsed := time.Since(start)
	t.Logf("output (%v):\n%s", elapsed.Round(time.Millisecond), out.String())
	// One wait honours Retry-After: 1, spread upward by at most a fifth.
	if elapsed < time.Second || elapsed > 3*time.Second {
		t.Errorf("the demo took %v, want between 1s and 3s", elapsed)
	}

	const want = `up (vector):
  up{instance="127.0.0.1:9090", job="prometheus"} => 1 @[1700000000]
  up{instance="127.0.0.1:9100", job="node"} => 1 @[1700000000]
sum(rate(http_requests_total[5m])) (vector):
  {} => 12.5 @[1700000000]
count(up == 0) (vector):
  (no series)

the fake Prometheus answered: reset, 503, 200, 429 (Retry-After: 1), 200, 503, 200

our metrics (excerpt):
  backoff_http_attempts_total{code="200",method="POST"} 3
  backoff_http_attempts_total{code="429",method="POST"} 1
  backoff_http_attempts_total{code="503",method="POST"} 2
  backoff_http_attempts_total{code="connection",method="POST"} 1
  backoff_http_request_attempts_sum{method="POST"} 7
  backoff_http_request_attempts_count{method="POST"} 3
  backoff_http_retries_total{method="POST",reason="retry_after"} 1
  backoff_http_retries_total{method="POST",reason="status"} 2
  backoff_http_retries_total{method="POST",reason="transport_error"} 1
  backoff_http_retry_after_seconds_sum{method="POST",outcome="honored"} 1
`
	if got := out.String(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}
