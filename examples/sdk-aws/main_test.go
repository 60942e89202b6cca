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
const want = `== One retrying layer: S3 GetObject, the fake answering 503 SlowDown to every request
1. both on: the SDK's standard retryer (3 attempts) over our Transport (4 attempts)
   the fake saw 12 requests (12 × 503), every signature valid
   amz-sdk-request: 4 × "attempt=1; max=3", 4 × "attempt=2; max=3", 4 × "attempt=3; max=3"
   sdk: api error SlowDown, HTTP 503, the SDK's retryer gave up after 3 attempts
   outcome (of the last of the SDK's 3 attempts): attempts=4 status=503 reason="max_tries"
2. ours: Retryer: aws.NopRetryer{}
   the fake saw 4 requests (4 × 503), every signature valid
   amz-sdk-request: 4 × "attempt=1; max=1"
   sdk: api error SlowDown, HTTP 503
   outcome: attempts=4 status=503 reason="max_tries"
3. the SDK's: our Transport with MaxAttempts: 1
   the fake saw 3 requests (3 × 503), every signature valid
   amz-sdk-request: "attempt=1; max=3", "attempt=2; max=3", "attempt=3; max=3"
   sdk: api error SlowDown, HTTP 503, the SDK's retryer gave up after 3 attempts
   outcome (of the last of the SDK's 3 attempts): attempts=1 status=503 reason="max_tries"
4. ours: aws.NopRetryer{} with RetryMaxAttempts: 3 (what AWS_MAX_ATTEMPTS=3 sets)
   the fake saw 4 requests (4 × 503), every signature valid
   amz-sdk-request: 4 × "attempt=1; max=3"
   sdk: api error SlowDown, HTTP 503
   outcome: attempts=4 status=503 reason="max_tries"
5. ours: retry.AddWithMaxAttempts(retry.NewStandard(), 1) with RetryMaxAttempts: 3
   the fake saw 12 requests (12 × 503), every signature valid
   amz-sdk-request: 4 × "attempt=1; max=3", 4 × "attempt=2; max=3", 4 × "attempt=3; max=3"
   sdk: api error SlowDown, HTTP 503, the SDK's retryer gave up after 3 attempts
   outcome (of the last of the SDK's 3 attempts): attempts=4 status=503 reason="max_tries"
== The attempt header: S3 GetObject, the fake answering 503, 503, then 200; the SDK's retryer off
6. ours without AttemptHeader
   the fake saw 3 requests (2 × 503, 200), every signature valid
   amz-sdk-request: 3 × "attempt=1; max=1"
   sdk: ok, 13 bytes
   outcome: attempts=3 status=200 reason=""
7. AttemptHeader: "Amz-Sdk-Request", AttemptHeaderValue: backoff.AttemptOfMax
   the fake saw 1 request (403), every signature invalid
   amz-sdk-request: "attempt=1; max=4"
   sdk: api error SignatureDoesNotMatch, HTTP 403
   outcome: attempts=1 status=403 reason=""
8. the same, with the SDK's header removed before signing (APIOptions: unsignAttemptHeader)
   the fake saw 3 requests (2 × 503, 200), every signature valid
   amz-sdk-request: "attempt=1; max=4", "attempt=2; max=4", "attempt=3; max=4"
   sdk: ok, 13 bytes
   outcome: attempts=3 status=200 reason=""
== Large uploads: S3 PutObject of 5 MiB from a bytes.Reader, the fake answering 500 InternalError (after reading the body), then 200
9. ours, the default BufferLimit (1 MiB)
   the fake saw 1 request (500), every signature valid
   amz-sdk-request: "attempt=1; max=1"
   the request the Transport got: ContentLength 5242880, GetBody set: false
   sdk: api error InternalError, HTTP 500
   outcome: attempts=1 status=500 reason="not_replayable"
10. ours, BufferLimit: 8 << 20
   the fake saw 2 requests (500, 200), every signature valid
   amz-sdk-request: 2 × "attempt=1; max=1"
   the request the Transport got: ContentLength 5242880, GetBody set: false
   sdk: ok, ETag "5af2d394cad7f4da580d09442059670c"
   outcome: attempts=2 status=200 reason=""
11. the SDK's retryer, our Transport with MaxAttempts: 1
   the fake saw 2 requests (500, 200), every signature valid
   amz-sdk-request: "attempt=1; max=3", "attempt=2; max=3"
   the request the Transport got: ContentLength 5242880, GetBody set: false
   sdk: ok, ETag "5af2d394cad7f4da580d09442059670c"
   outcome (of the last of the SDK's 2 attempts): attempts=1 status=200 reason=""
12. ours, BufferLimit: 8 << 20, the fake answering 503 SlowDown before the body (Expect: 100-continue)
   the fake saw 2 requests (503, 200), every signature valid
   amz-sdk-request: 2 × "attempt=1; max=1"
   the request the Transport got: ContentLength 5242880, GetBody set: false
   sdk: ok, ETag "5af2d394cad7f4da580d09442059670c"
   outcome: attempts=2 status=200 reason=""
== DynamoDB GetItem (a POST), the fake answering 500 InternalServerError, then 200; the SDK's retryer off
13. ours, the default Idempotent
   the fake saw 1 request (500), every signature valid
   amz-sdk-request: "attempt=1; max=1"
   sdk: api error InternalServerError, HTTP 500
   outcome: attempts=1 status=500 reason="not_replayable"
14. ours, Idempotent: idempotentDynamoReads (GetItem, Query, Scan, …)
   the fake saw 2 requests (500, 200), every signature valid
   amz-sdk-request: 2 × "attempt=1; max=1"
   sdk: ok, name Ada Lovelace
   outcome: attempts=2 status=200 reason=""
15. ours, backoff.WithIdempotent(ctx, true) on the call's context
   the fake saw 2 requests (500, 200), every signature valid
   amz-sdk-request: 2 × "attempt=1; max=1"
   sdk: ok, name Ada Lovelace
   outcome: attempts=2 status=200 reason=""
`

// TestRun runs the demo and compares what it prints, line by line: the
// requests the fake saw for each call (12 with both retrying layers on, 4
// with ours alone, 3 with the SDK's alone), the amz-sdk-request values
// and signatures the fake checked, what the SDK returned and the Outcome
// the Transport recorded.
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
