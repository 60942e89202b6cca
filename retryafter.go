package backoff

import (
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/f99b3bbb/backoff/jitter"
)

// ParseRetryAfter parses the value of a Retry-After header (RFC 9110,
// section 10.2.3) and returns the wait it asks for.
//
// The value is either delta-seconds (a non-negative decimal integer) or an
// HTTP-date in any of the three forms http.ParseTime accepts; a date is
// measured against now, which should be the response's Date header when it
// has one (so that a skewed local clock does not matter) and the local time
// otherwise. A date in the past asks for no wait: it returns 0, true.
//
// A value too large for a time.Duration (more than about 292 years, in
// seconds or as a date) saturates: it returns math.MaxInt64 (the largest
// time.Duration), true, so that a caller treats it as longer than any cap
// rather than ignoring it.
//
// It returns false, to be ignored, for an empty, negative or malformed
// value.
func ParseRetryAfter(value string, now time.Time) (time.Duration, bool) {
	value = strings.Trim(value, " \t") // optional white space: SP and HTAB
	if value == "" {
		return 0, false
	}
	if c := value[0]; c >= '0' && c <= '9' {
		return parseDeltaSeconds(value)
	}
	t, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	if now.IsZero() {
		now = time.Now()
	}
	d := t.Sub(now) // saturates at the extremes of time.Duration
	if d <= 0 {
		return 0, true
	}
	return d, true
}

// parseDeltaSeconds parses 1*DIGIT as seconds, saturating at the largest
// time.Duration for a value whose duration would not fit one.
func parseDeltaSeconds(s string) (time.Duration, bool) {
	const maxSeconds = math.MaxInt64 / int64(time.Second)
	var n int64
	over := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if !over {
			n = n*10 + int64(c-'0') // n <= maxSeconds before: no overflow
			over = n > maxSeconds
		}
	}
	if over {
		return math.MaxInt64, true
	}
	return time.Duration(n) * time.Second, true
}

// serverWait returns the wait a response asks for: its Retry-After, or
// else the reset of a used-up rate limit (ParseRateLimit), measured against
// its Date header when it has a valid one and a date or epoch value needs
// it.
func serverWait(resp *http.Response) (time.Duration, bool) {
	if v := resp.Header["Retry-After"]; len(v) > 0 {
		var now time.Time
		if c := v[0]; len(c) > 0 && (c[0] < '0' || c[0] > '9') {
			now = responseDate(resp)
		}
		if d, ok := ParseRetryAfter(v[0], now); ok {
			return d, true
		}
	}
	if d, ok := ParseRateLimit(resp.Header, time.Time{}); ok {
		if date := responseDate(resp); !date.IsZero() {
			// Measured against the server's clock, for an epoch reset.
			d, ok = ParseRateLimit(resp.Header, date)
		}
		return d, ok
	}
	return 0, false
}

// responseDate returns the time of resp's Date header, or the zero time.
func responseDate(resp *http.Response) time.Time {
	if date := resp.Header["Date"]; len(date) > 0 {
		if t, err := http.ParseTime(date[0]); err == nil {
			return t
		}
	}
	return time.Time{}
}

// floorWait returns the wait for a computed wait w and a server-given
// floor (0 < floor <= timeHi): w itself when it is within [floor, timeHi],
// else floor spread upward, never beyond min(timeHi, capHi).
func floorWait(w, floor, timeHi, capHi time.Duration, spread float64, jit jitter.Func) time.Duration {
	if w >= floor && w <= timeHi {
		return w
	}
	return spreadUp(floor, max(min(timeHi, capHi), floor), spread, jit, rand.Float64())
}

// spreadUp returns floor lengthened by spread·|floor − jit(floor, u)|, by
// at most spread·floor, and never beyond hi (hi >= floor >= 0). jitter.None
// adds nothing; jitter.Full adds a share uniform in (0, spread·floor].
func spreadUp(floor, hi time.Duration, spread float64, jit jitter.Func, u float64) time.Duration {
	if !(spread > 0) || hi <= floor {
		return floor
	}
	dev := math.Abs(float64(floor) - float64(jit(floor, u)))
	extra := spread * min(dev, float64(floor))
	if !(extra > 0) { // also NaN
		return floor
	}
	if room := float64(hi - floor); extra >= room {
		return hi
	}
	return floor + time.Duration(extra)
}
