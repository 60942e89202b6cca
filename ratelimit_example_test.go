package backoff_test

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/f99b3bbb/backoff"
)

func ExampleParseRateLimit() {
	// The response's Date, against which epoch seconds are measured.
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	inAnHour := strconv.FormatInt(now.Add(time.Hour).Unix(), 10)

	for _, h := range []http.Header{
		// GitHub: the quota is used up; the reset is in epoch seconds.
		{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {inAnHour}},
		// GitHub: requests are left, so there is nothing to wait for.
		{"X-Ratelimit-Remaining": {"4999"}, "X-Ratelimit-Reset": {inAnHour}},
		// The IETF draft: the largest t of the policies used up.
		{"Ratelimit": {`"burst";r=0;t=12, "daily";r=0;t=40000`}},
		// Discord: seconds from now, with a fraction.
		{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset-After": {"1.5"}},
		// A reset in the past: retry now.
		{"Ratelimit-Remaining": {"0"}, "Ratelimit-Reset": {"1000000000"}},
		// Too far away for a time.Duration.
		{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"99999999999999999999"}},
	} {
		d, ok := backoff.ParseRateLimit(h, now)
		fmt.Println(d, ok)
	}
	// Output:
	// 1h0m0s true
	// 0s false
	// 11h6m40s true
	// 1.5s true
	// 0s true
	// 2562047h47m16.854775807s true
}
