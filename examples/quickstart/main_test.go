package main

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRun runs the demo against its local server and checks its story,
// line by line. The waits are random (full jitter), so they are matched by
// shape only.
func TestRun(t *testing.T) {
	start := time.Now()
	var out strings.Builder
	if err := run(&out); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	got := out.String()
	t.Logf("output (%v):\n%s", time.Since(start).Round(time.Millisecond), got)

	const (
		host = `127\.0\.0\.1:\d+`
		wait = `waiting [0-9.]+(ns|µs|ms|s)`
		s503 = `\(503 Service Unavailable\)`
	)
	want := []string{
		`GET /flaky: .*`,
		// The dropped connection is a transport error, whatever its text.
		`  backing off GET ` + host + ` after attempt 1 \([^0-9].*\), ` + wait,
		`  backing off GET ` + host + ` after attempt 2 ` + s503 + `, ` + wait,
		`  => 200 OK: "hello, at attempt 3"`,
		`GET /down: .*`,
		`  backing off GET ` + host + ` after attempt 1 ` + s503 + `, ` + wait,
		`  backing off GET ` + host + ` after attempt 2 ` + s503 + `, ` + wait,
		`  backing off GET ` + host + ` after attempt 3 ` + s503 + `, ` + wait,
		`  backing off GET ` + host + ` after attempt 4 ` + s503 + `, ` + wait,
		`  giving up GET ` + host + ` after 5 attempts in \S+ ` + s503 + `: max_tries`,
		`  => 503 Service Unavailable: "down for maintenance"`,
	}
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != len(want) {
		t.Errorf("%d lines of output, want %d", len(lines), len(want))
	}
	for i := range min(len(lines), len(want)) {
		if !regexp.MustCompile(`^` + want[i] + `$`).MatchString(lines[i]) {
			t.Errorf("line %d is %q, want a match for %s", i+1, lines[i], want[i])
		}
	}
}
