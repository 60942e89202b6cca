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

// want is the demo's output: the counts are fixed by the fake's script,
// so it is the same on every run.
const want = `1. connection dropped, then 200; ours, stripe-go's retries off
   the fake saw 2 requests (dropped, 200), all with the same Idempotency-Key
   stripe-go: ok, pi_3QdemoKZ6o9pOdzV1x2y3z4a requires_payment_method, 2000 usd
   outcome:   attempts=2 status=200 reason=""
2. 500 with Stripe-Should-Retry: false; ours, stripe-go's retries off
   the fake saw 1 request (500), with an Idempotency-Key
   stripe-go: *stripe.Error, status 500, type api_error: "An unknown error occurred"
   outcome:   attempts=1 status=500 reason=""
3. 500 with Stripe-Should-Retry: false; stripe-go alone (MaxNetworkRetries 2)
   the fake saw 1 request (500), with an Idempotency-Key
   stripe-go: *stripe.Error, status 500, type api_error: "An unknown error occurred"
4. 409 with Stripe-Should-Retry: true, then 200; ours, stripe-go's retries off
   the fake saw 2 requests (409, 200), all with the same Idempotency-Key
   stripe-go: ok, pi_3QdemoKZ6o9pOdzV1x2y3z4a requires_payment_method, 2000 usd
   outcome:   attempts=2 status=200 reason=""
5. 409 with Stripe-Should-Retry: true, then 200; stripe-go alone (MaxNetworkRetries 2)
   the fake saw 1 request (409), with an Idempotency-Key
   stripe-go: *stripe.Error, status 409, type idempotency_error: "There is currently another in-progress request …"
6. every connection dropped; both layers on (ours, MaxNetworkRetries 2)
   the fake saw 12 requests (12 × dropped), all with the same Idempotency-Key
   stripe-go: *url.Error with the Transport's *backoff.Error: reason max_tries after 4 attempts, the connection closed with no response
   outcome of stripe-go's last call: attempts=4 status=0 reason="max_tries", no response
7. every connection dropped; ours, stripe-go's retries off
   the fake saw 4 requests (4 × dropped), all with the same Idempotency-Key
   stripe-go: *url.Error with the Transport's *backoff.Error: reason max_tries after 4 attempts, the connection closed with no response
   outcome:   attempts=4 status=0 reason="max_tries", no response
8. every connection dropped; stripe-go alone (MaxNetworkRetries 2)
   the fake saw 3 requests (3 × dropped), all with the same Idempotency-Key
   stripe-go: *url.Error: the connection closed with no response
`

// TestRun runs the demo and compares what it prints, line by line: the
// requests the fake saw for each call (12 with both retrying layers on, 4
// with ours alone, 3 with stripe-go's alone), what stripe-go returned and
// the Outcome the Transport recorded.
func TestRun(t *testing.T) {
	start := time.Now()
	var out strings.Builder
	if err := run(&out); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	t.Logf("output (%v):\n%s", time.Since(start).Round(time.Millisecond), out.String())
	compareLines(t, out.String(), want)
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
