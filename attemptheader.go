package backoff

import "strconv"

// AttemptOfMax formats an attempt's number and the call's limit on
// attempts as AWS's SDKs do in their amz-sdk-request header: "attempt=2;
// max=4", or "attempt=2" when there is no limit (max 0 or less). Set
// Transport.AttemptHeaderValue to it.
//
// Do not point AttemptHeader at a header that a layer above the Transport
// signs: aws-sdk-go-v2 signs its own amz-sdk-request, so rewriting it
// below the SDK breaks the request's signature (403
// SignatureDoesNotMatch). With that SDK, either let the SDK retry and
// send its header, or remove the header before the SDK signs the request
// and let the Transport set it (docs/sdk.md shows both).
func AttemptOfMax(attempt, max int) string {
	if max <= 0 {
		return "attempt=" + strconv.Itoa(attempt)
	}
	return "attempt=" + strconv.Itoa(attempt) + "; max=" + strconv.Itoa(max)
}
