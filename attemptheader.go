package backoff

import "strconv"

// AttemptOfMax formats an attempt's number and the call's limit on
// attempts as AWS's SDKs do in their amz-sdk-request header: "attempt=2;
// max=4", or "attempt=2" when there is no limit (max 0 or less). Set
// Transport.AttemptHeaderValue to it.
func AttemptOfMax(attempt, max int) string {
	if max <= 0 {
		return "attempt=" + strconv.Itoa(attempt)
	}
	return "attempt=" + strconv.Itoa(attempt) + "; max=" + strconv.Itoa(max)
}
