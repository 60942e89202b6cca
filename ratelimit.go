package backoff

import (
	"math"
	"net/http"
	"strings"
	"time"
)

// ParseRateLimit reads the rate-limit fields of a response's header h and,
// when they say that the client's quota is used up, returns the wait until
// the server resets it, true. It returns 0, false when there are no such
// fields, when they are malformed, and when they say that some quota is
// left (remaining above 0): then they ask for no wait of their own.
//
// The sources, in this order; the first that gives an answer, quota left
// or quota used up, wins. A source whose fields are absent or malformed,
// or that says the quota is used up without saying when it resets, gives
// none, and the next is tried:
//
//   - RateLimit of the current IETF draft (draft-ietf-httpapi-ratelimit-headers,
//     revisions 08 and later): a structured-field list of service limits,
//     such as "default";r=0;t=30. The quota is used up when an item has
//     r=0, and the wait is the largest t (seconds) among those items. The
//     items of every well-formed field line count, as the draft lets a
//     list be split over several lines; an item without a valid r, or with
//     an invalid t, is skipped. RateLimit-Policy is not needed and not read.
//   - RateLimit of draft 07, a dictionary: limit=100, remaining=0, reset=30
//     (reset in seconds).
//   - RateLimit-Remaining and RateLimit-Reset, of drafts 00 to 06 (GitLab
//     sends them with epoch seconds).
//   - X-RateLimit-Remaining with X-RateLimit-Reset-After (seconds, as
//     Discord sends it: preferred, since it needs no clock) or
//     X-RateLimit-Reset (GitHub, Discord, Reddit and many others).
//   - X-Rate-Limit-Remaining and X-Rate-Limit-Reset (X, formerly Twitter;
//     Okta).
//
// RateLimit-Reset, X-RateLimit-Reset and X-Rate-Limit-Reset are epoch
// seconds at some servers and seconds from now at others; they are told
// apart by magnitude. A value at or above 1e9 (2001-09-09 as epoch seconds;
// 31 years as a delta, longer than any real reset window) is epoch seconds,
// measured against now; a smaller one is seconds from now. The draft's t,
// draft 07's reset and X-RateLimit-Reset-After are always seconds from now.
//
// Numbers are decimal, with an optional fraction ("0.0", "64.57",
// "1470173023.123"); a fraction rounds the reset up to the next
// millisecond. A reset in the past asks for no wait: it returns 0, true.
// A wait too large for a time.Duration (more than about 292 years)
// saturates: it returns math.MaxInt64 (the largest time.Duration), true,
// so that a caller treats it as longer than any cap rather than ignoring
// it.
//
// now should be the response's Date header when it has one (so that a
// skewed local clock does not matter) and the local time otherwise; a zero
// now means time.Now(). It matters for epoch values only.
//
// Values may have optional white space (SP and HTAB) around them. Of
// several lines of a field other than RateLimit, the first valid one is
// used. h is read by canonical keys, as net/http and Header.Set store them;
// a nil h has no fields.
func ParseRateLimit(h http.Header, now time.Time) (time.Duration, bool) {
	if d, v := rateLimit(h, now); v == usedUp {
		return d, true
	}
	return 0, false
}

// limitVerdict is what one source of ParseRateLimit says.
type limitVerdict uint8

const (
	noAnswer  limitVerdict = iota // absent, malformed, or used up with no reset
	quotaLeft                     // some quota remains
	usedUp                        // the quota is used up; the wait is known
)

// rateLimit is the answer of the first source of ParseRateLimit that
// gives one.
func rateLimit(h http.Header, now time.Time) (time.Duration, limitVerdict) {
	if lines := h["Ratelimit"]; len(lines) > 0 {
		if d, v := limitList(lines); v != noAnswer {
			return d, v
		}
		if d, v := limitDict(lines); v != noAnswer {
			return d, v
		}
	}
	for _, f := range [...]struct{ remaining, after, reset string }{
		{"Ratelimit-Remaining", "", "Ratelimit-Reset"},
		{"X-Ratelimit-Remaining", "X-Ratelimit-Reset-After", "X-Ratelimit-Reset"},
		{"X-Rate-Limit-Remaining", "", "X-Rate-Limit-Reset"},
	} {
		if d, v := remainingReset(h, f.remaining, f.after, f.reset, now); v != noAnswer {
			return d, v
		}
	}
	return 0, noAnswer
}

// remainingDelta is the answer of a remaining count and a reset in
// seconds from now.
func remainingDelta(remaining, reset string) (time.Duration, limitVerdict) {
	rem, ok := parseDecimal(remaining)
	if !ok {
		return 0, noAnswer
	}
	if !rem.isZero() {
		return 0, quotaLeft
	}
	r, ok := parseDecimal(reset)
	if !ok {
		return 0, noAnswer
	}
	return r.duration(), usedUp
}

// remainingReset is the answer of the fields of h named remaining,
// after (optional, "" for none) and reset: after is in seconds from now,
// and, if it has no valid line, reset in epoch seconds or seconds from now
// by magnitude. The resets are looked up only when remaining is 0.
func remainingReset(h http.Header, remaining, after, reset string, now time.Time) (time.Duration, limitVerdict) {
	rem, ok := firstDecimal(h[remaining])
	if !ok {
		return 0, noAnswer
	}
	if !rem.isZero() {
		return 0, quotaLeft
	}
	if after != "" {
		if a, ok := firstDecimal(h[after]); ok {
			return a.duration(), usedUp
		}
	}
	if r, ok := firstDecimal(h[reset]); ok {
		return r.resetWait(now), usedUp
	}
	return 0, noAnswer
}

// firstDecimal parses the first of the lines that is a valid number.
func firstDecimal(lines []string) (decimal, bool) {
	for _, line := range lines {
		if n, ok := parseDecimal(strings.Trim(line, " \t")); ok {
			return n, true
		}
	}
	return decimal{}, false
}

// epochThreshold is the smallest reset value read as epoch seconds
// (2001-09-09T01:46:40Z); a smaller one is seconds from now.
const epochThreshold = 1e9

// maxSeconds is the largest whole number of seconds in a time.Duration.
const maxSeconds = math.MaxInt64 / int64(time.Second)

// decimal is a non-negative number of seconds, 1*DIGIT ["." 1*DIGIT],
// with its fraction rounded up to whole milliseconds.
type decimal struct {
	sec  int64 // the whole seconds, when not over
	ms   int64 // 0 to 1000: 1000 when the fraction rounds up to a second
	over bool  // the whole seconds are more than math.MaxInt64
}

// parseDecimal parses s, which has no white space around it.
func parseDecimal(s string) (decimal, bool) {
	var n decimal
	i := 0
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		c := int64(s[i] - '0')
		if n.sec > (math.MaxInt64-c)/10 {
			n.over = true
		} else if !n.over {
			n.sec = n.sec*10 + c
		}
	}
	if i == 0 {
		return decimal{}, false
	}
	if i == len(s) {
		return n, true
	}
	if s[i] != '.' || i+1 == len(s) {
		return decimal{}, false
	}
	ms, ok := parseMillis(s[i+1:])
	if !ok {
		return decimal{}, false
	}
	n.ms = ms
	return n, true
}

// parseMillis parses the digits of a fraction of a second as milliseconds,
// rounded up.
func parseMillis(frac string) (int64, bool) {
	var ms int64
	up := false
	for i := 0; i < len(frac); i++ {
		c := frac[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		switch {
		case i < 3:
			ms = ms*10 + int64(c-'0')
		case c != '0':
			up = true
		}
	}
	for i := len(frac); i < 3; i++ {
		ms *= 10
	}
	if up {
		ms++
	}
	return ms, true
}

func (n decimal) isZero() bool { return !n.over && n.sec == 0 && n.ms == 0 }

// duration is n as a wait in seconds from now, saturating.
func (n decimal) duration() time.Duration {
	if n.over || n.sec > maxSeconds {
		return math.MaxInt64
	}
	return addSat(time.Duration(n.sec)*time.Second, time.Duration(n.ms)*time.Millisecond)
}

// resetWait is the wait until a reset given as epoch seconds (n at or
// above epochThreshold) or seconds from now.
func (n decimal) resetWait(now time.Time) time.Duration {
	if !n.over && n.sec < epochThreshold {
		return n.duration()
	}
	if now.IsZero() {
		now = time.Now()
	}
	return untilEpoch(n, now)
}

// untilEpoch is the wait from now until the epoch time n: 0 if n is past,
// saturating.
func untilEpoch(n decimal, now time.Time) time.Duration {
	nowSec := now.Unix()
	if n.over || (nowSec < 0 && n.sec > math.MaxInt64+nowSec) {
		return math.MaxInt64
	}
	diff := n.sec - nowSec // no overflow: n.sec >= 0
	switch {
	case diff < 0:
		return 0 // n <= n.sec+1 <= nowSec <= now
	case diff > maxSeconds+1:
		return math.MaxInt64
	}
	// The fraction of n less that of now is within (-1s, 1s].
	frac := time.Duration(n.ms)*time.Millisecond - time.Duration(now.Nanosecond())
	d := addSat(time.Duration(diff-1)*time.Second, time.Second+frac)
	return max(d, 0)
}

// addSat returns a+b, b >= 0, saturating at the largest time.Duration.
func addSat(a, b time.Duration) time.Duration {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
