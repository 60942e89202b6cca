package main

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRun runs the demo and checks the series it prints: the counts are
// fixed by the server's script, whatever the order of the requests.
func TestRun(t *testing.T) {
	start := time.Now()
	var out strings.Builder
	if err := run(context.Background(), &out, config{}); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	elapsed := time.Since(start)
	got := out.String()
	t.Logf("output (%v):\n%s", elapsed.Round(time.Millisecond), got)
	if elapsed > 10*time.Second {
		t.Errorf("the demo took %v", elapsed)
	}

	if !regexp.MustCompile(`(?m)^35 requests in \S+; the server saw 51$`).MatchString(got) {
		t.Error("no summary line saying that the server saw 51 requests")
	}
	want := []string{
		// Every request the server saw is an attempt, and nothing else.
		`backoff_http_attempts_total{code="200",method="GET"} 28`,
		`backoff_http_attempts_total{code="404",method="GET"} 1`,
		`backoff_http_attempts_total{code="429",method="GET"} 1`,
		`backoff_http_attempts_total{code="500",method="GET"} 9`,
		`backoff_http_attempts_total{code="502",method="GET"} 6`,
		`backoff_http_attempts_total{code="503",method="GET"} 4`,
		`backoff_http_attempts_total{code="503",method="POST"} 2`,
		`backoff_http_giveups_total{method="GET",reason="max_tries"} 3`,
		`backoff_http_giveups_total{method="GET",reason="retry_after"} 1`,
		`backoff_http_not_replayable_total{method="POST"} 2`,
		`backoff_http_request_attempts_sum{method="GET"} 49`,
		`backoff_http_request_attempts_count{method="GET"} 33`,
		`backoff_http_request_attempts_count{method="POST"} 2`,
		// The opt-in durations: of every request, of every attempt.
		`backoff_http_attempt_duration_seconds_count{code="200",method="GET"} 28`,
		`backoff_http_attempt_duration_seconds_count{code="500",method="GET"} 9`,
		`backoff_http_request_duration_seconds_count{method="GET",outcome="failure"} 5`,
		`backoff_http_request_duration_seconds_count{method="GET",outcome="success"} 28`,
		`backoff_http_request_retry_delay_seconds_count{method="GET"} 10`,
		`backoff_http_retries_total{method="GET",reason="retry_after"} 1`,
		`backoff_http_retries_total{method="GET",reason="status"} 15`,
		`backoff_http_retry_after_seconds_sum{method="GET",outcome="honored"} 1`,
		`backoff_http_retry_after_seconds_sum{method="GET",outcome="refused"} 120`,
		`backoff_http_wait_seconds_count{method="GET"} 16`,
		`backoff_http_waits_in_flight{method="GET"} 0`,
	}
	for _, line := range want {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(line) + `$`).MatchString(got) {
			t.Errorf("no line %s", line)
		}
	}
	if strings.Contains(got, "_bucket") {
		t.Error("the output holds histogram buckets")
	}
	// The Retry-After of one second was waited for.
	m := regexp.MustCompile(`(?m)^backoff_http_wait_seconds_sum\{method="GET"\} (\S+)$`).FindStringSubmatch(got)
	if m == nil {
		t.Fatal("no sum of the waits")
	}
	if sum, err := strconv.ParseFloat(m[1], 64); err != nil || sum < 1 {
		t.Errorf("waits add up to %s seconds, want at least 1", m[1])
	}
}

// TestServe checks that with -serve the demo keeps serving until its
// context ends, then returns.
func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &watcher{cancel: cancel}
	done := make(chan error, 1)
	go func() { done <- run(ctx, w, config{serve: true}) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after its context was cancelled")
	}
	if !regexp.MustCompile(`(?m)^serving http://127\.0\.0\.1:\d+/metrics until interrupted$`).MatchString(w.String()) {
		t.Errorf("output lacks the serving line:\n%s", w.String())
	}
}

// watcher is a writer that cancels a context once the demo says it serves.
type watcher struct {
	mu     sync.Mutex
	b      strings.Builder
	cancel context.CancelFunc
}

func (w *watcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if strings.Contains(string(p), "until interrupted") {
		w.cancel()
	}
	return w.b.Write(p)
}

func (w *watcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
