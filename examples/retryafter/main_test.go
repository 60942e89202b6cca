package main

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRun runs the demo against its local server and checks its story.
func TestRun(t *testing.T) {
	start := time.Now()
	var out strings.Builder
	if err := run(&out); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	elapsed := time.Since(start)
	got := out.String()
	t.Logf("output (%v):\n%s", elapsed.Round(time.Millisecond), got)

	const host = `127\.0\.0\.1:\d+`
	want := []string{
		`(?m)^GET /busy:`,
		`(?m)^  => 200 OK after \S+: "welcome back"$`,
		`(?m)^GET /closed:`,
		`(?m)^  giving up GET ` + host + ` after attempt 1 \(429 Too Many Requests\), Retry-After 1h0m0s: retry_after$`,
		`(?m)^  => 429 Too Many Requests after \S+: "closed for the next hour" \(Retry-After: 3600\)$`,
	}
	for _, re := range want {
		if !regexp.MustCompile(re).MatchString(got) {
			t.Errorf("output has no line matching %s", re)
		}
	}

	// Exactly one backoff, which honours the server's second.
	const backoffLine = `(?m)^  backing off GET ` + host +
		` after attempt 1 \(429 Too Many Requests\), Retry-After 1s, waiting (\S+)$`
	backoffs := regexp.MustCompile(backoffLine).FindAllStringSubmatch(got, -1)
	if len(backoffs) != 1 || strings.Count(got, "backing off") != 1 {
		t.Fatalf("want exactly one backoff line, for /busy, matching %s", backoffLine)
	}
	wait, err := time.ParseDuration(backoffs[0][1])
	if err != nil {
		t.Fatalf("wait %q: %v", backoffs[0][1], err)
	}
	if wait < time.Second || wait > 2*time.Second {
		t.Errorf("waited %v, want Retry-After's 1s (plus a little spread)", wait)
	}
	if elapsed < time.Second {
		t.Errorf("the demo took %v: the 1s Retry-After was not honoured", elapsed)
	}
}
