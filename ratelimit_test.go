package backoff

import (
	"math"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rlNow is the now of the tests: Sun, 01 Mar 2026 12:00:00 GMT.
var rlNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// rlEpoch is rlNow shifted by d, as epoch seconds.
func rlEpoch(d time.Duration) string { return strconv.FormatInt(rlNow.Add(d).Unix(), 10) }

// rlHeader builds a header from name, value pairs with Header.Add, which
// canonicalizes the names as net/http does for a response.
func rlHeader(kv ...string) http.Header {
	h := make(http.Header)
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

const maxDuration = time.Duration(math.MaxInt64)

// rateLimitFields are the fields ParseRateLimit reads (FuzzParseRateLimit
// fills them by bit of its mask).
var rateLimitFields = [...]string{
	"Ratelimit", "Ratelimit-Remaining", "Ratelimit-Reset",
	"X-Ratelimit-Remaining", "X-Ratelimit-Reset", "X-Ratelimit-Reset-After",
	"X-Rate-Limit-Remaining", "X-Rate-Limit-Reset",
}

type rateLimitCase struct {
	name   string
	header http.Header
	want   time.Duration
	ok     bool
}

func TestParseRateLimitGitHub(t *testing.T) {
	runRateLimitCases(t, []rateLimitCase{
		{"primary limit, 403, reset an hour away", rlHeader(
			"x-ratelimit-limit", "60", "x-ratelimit-remaining", "0", "x-ratelimit-reset", rlEpoch(time.Hour),
			"x-ratelimit-used", "60", "x-ratelimit-resource", "core"), time.Hour, true},
		{"primary limit, 429, authenticated", rlHeader(
			"X-RateLimit-Limit", "5000", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", rlEpoch(1800*time.Second),
			"X-RateLimit-Used", "5000", "X-RateLimit-Resource", "core"), 30 * time.Minute, true},
		{"requests left", rlHeader(
			"X-RateLimit-Limit", "5000", "X-RateLimit-Remaining", "4999", "X-RateLimit-Reset", rlEpoch(time.Hour)), 0, false},
		{"one request left", rlHeader("X-RateLimit-Remaining", "1", "X-RateLimit-Reset", rlEpoch(time.Hour)), 0, false},
		{"reset in the past: retry now", rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", rlEpoch(-time.Minute)), 0, true},
		{"reset now", rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", rlEpoch(0)), 0, true},
		{"secondary limit: Retry-After is not read here", rlHeader(
			"Retry-After", "60", "X-RateLimit-Remaining", "4990", "X-RateLimit-Reset", rlEpoch(time.Hour)), 0, false},
		{"remaining without a reset", rlHeader("X-RateLimit-Remaining", "0"), 0, false},
	})
}

func TestParseRateLimitIETF(t *testing.T) {
	runRateLimitCases(t, []rateLimitCase{
		{"used up", rlHeader("RateLimit", `"default";r=0;t=30`), 30 * time.Second, true},
		{"quota left", rlHeader("RateLimit", `"default";r=50;t=30`), 0, false},
		{"with its policy", rlHeader(
			"RateLimit-Policy", `"burst";q=100;w=60,"daily";q=1000;w=86400`,
			"RateLimit", `"burst";r=0;t=12, "daily";r=0;t=40000`), 40000 * time.Second, true},
		{"one of two used up", rlHeader("RateLimit", `"burst";r=0;t=12, "daily";r=900;t=40000`), 12 * time.Second, true},
		{"split over two lines", rlHeader("RateLimit", `"burst";r=5;t=1`, "RateLimit", `"daily";r=0;t=3600`), time.Hour, true},
		{"a redirect", rlHeader("Location", "/foo/123", "RateLimit", `"problemPolicy";r=0;t=10`), 10 * time.Second, true},
		{"a token names the policy", rlHeader("RateLimit", `default;r=0;t=30`), 30 * time.Second, true},
		{"partition key", rlHeader("RateLimit", `"default";r=0;t=60;pk=:QXBwLTk5OQ==:`), time.Minute, true},
		{"partition key, no window", rlHeader("RateLimit", `"default";r=999;pk=:dHJpYWwxMjEzMjM=:`), 0, false},
		{"unknown parameters", rlHeader("RateLimit", `"d";acme-burst=5;r=0;comment="a \"b\" \\";flag;t=7;x=?0;y=1.5`), 7 * time.Second, true},
		{"optional white space", rlHeader("RateLimit", " \t\"default\" ; r=0 ;\tt=30 ,  \"x\";r=1 \t"), 30 * time.Second, true},
		{"t=0: retry now", rlHeader("RateLimit", `"default";r=0;t=0`), 0, true},
		{"huge t saturates", rlHeader("RateLimit", `"default";r=0;t=99999999999999999999`), maxDuration, true},
		{"huge r is quota left", rlHeader("RateLimit", `"default";r=99999999999999999999;t=5`), 0, false},
		{"the policy alone", rlHeader("RateLimit-Policy", `"default";q=100;w=10`), 0, false},
		{"no t", rlHeader("RateLimit", `"default";r=0`), 0, false},
		{"no t, a t elsewhere", rlHeader("RateLimit", `"a";r=0, "b";r=0;t=9`), 9 * time.Second, true},
		{"no r", rlHeader("RateLimit", `"default";t=30`), 0, false},
		{"invalid r skipped", rlHeader("RateLimit", `"a";r="0";t=30, "b";r=?1;t=1, "c";r=-1;t=2, "d";r=7;t=3`), 0, false},
		{"invalid t skips the item", rlHeader("RateLimit", `"a";r=0;t=-5, "b";r=0;t="5", "c";r=0;t`), 0, false},
		{"a malformed line is skipped", rlHeader("RateLimit", `"a";r=0;t=`, "RateLimit", `"b";r=0;t=4`), 4 * time.Second, true},
		{"trailing comma", rlHeader("RateLimit", `"a";r=0;t=4,`), 0, false},
		{"unterminated string", rlHeader("RateLimit", `"a;r=0;t=4`), 0, false},
		{"inner list", rlHeader("RateLimit", `("a" "b");r=0;t=4`), 0, false},
		// The draft's field comes first, and its word is final.
		{"first source wins, quota left", rlHeader(
			"RateLimit", `"default";r=5;t=30`, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "60"), 0, false},
		{"first source wins, used up", rlHeader(
			"RateLimit", `"default";r=0;t=30`, "RateLimit-Remaining", "0", "RateLimit-Reset", "60"), 30 * time.Second, true},
		{"no t: the next source", rlHeader(
			"RateLimit", `"default";r=0`, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset-After", "5"), 5 * time.Second, true},
		{"malformed: the next source", rlHeader(
			"RateLimit", `default;r=0;t=30 garbage`, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "6"), 6 * time.Second, true},
	})
}

func TestParseRateLimitEarlierDrafts(t *testing.T) {
	runRateLimitCases(t, []rateLimitCase{
		// Draft 07: one RateLimit dictionary.
		{"draft 07, used up", rlHeader("RateLimit-Policy", "100;w=10", "RateLimit", "limit=100, remaining=0, reset=5"), 5 * time.Second, true},
		{"draft 07, quota left", rlHeader("RateLimit", "limit=10, remaining=1, reset=7"), 0, false},
		{"draft 07, order and white space", rlHeader("RateLimit", " reset=30 ,remaining=0,\tlimit=100 "), 30 * time.Second, true},
		{"draft 07, no remaining", rlHeader("RateLimit", "limit=100, reset=30"), 0, false},
		{"draft 07, no reset", rlHeader("RateLimit", "limit=100, remaining=0"), 0, false},
		{"draft 07, a second line", rlHeader("RateLimit", "limit=100", "RateLimit", "limit=100, remaining=0, reset=8"), 8 * time.Second, true},
		{"draft 07, reset is seconds", rlHeader("RateLimit", "limit=100, remaining=0, reset="+rlEpoch(0)), time.Duration(rlNow.Unix()) * time.Second, true},
		{"draft 07, huge reset", rlHeader("RateLimit", "remaining=0, reset=99999999999999999999"), maxDuration, true},
		{"draft 07, bad value", rlHeader("RateLimit", "limit=100, remaining=0, reset=(30)"), 0, false},
		// Drafts 00 to 06: separate fields.
		{"drafts 00-06, used up", rlHeader("RateLimit-Limit", "100", "RateLimit-Remaining", "0", "RateLimit-Reset", "30"), 30 * time.Second, true},
		{"drafts 00-06, quota left", rlHeader("RateLimit-Limit", "100", "RateLimit-Remaining", "10", "RateLimit-Reset", "30"), 0, false},
		{"GitLab, epoch seconds", rlHeader(
			"RateLimit-Limit", "600", "RateLimit-Observed", "600", "RateLimit-Remaining", "0",
			"RateLimit-Reset", rlEpoch(time.Minute), "RateLimit-ResetTime", "Sun, 01 Mar 2026 12:01:00 GMT"), time.Minute, true},
		{"GitLab, quota left", rlHeader("RateLimit-Remaining", "595", "RateLimit-Reset", rlEpoch(time.Minute)), 0, false},
		{"drafts 00-06 malformed: the next source", rlHeader(
			"RateLimit-Remaining", "none", "RateLimit-Reset", "30", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "5"), 5 * time.Second, true},
	})
}

func TestParseRateLimitVendors(t *testing.T) {
	runRateLimitCases(t, []rateLimitCase{
		{"Discord, Reset-After preferred", rlHeader(
			"X-RateLimit-Limit", "5", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", rlEpoch(2*time.Second)+".123",
			"X-RateLimit-Reset-After", "1.5", "X-RateLimit-Bucket", "abcd1234"), 1500 * time.Millisecond, true},
		{"Discord, Reset alone", rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", rlEpoch(2*time.Second)+".123"), 2123 * time.Millisecond, true},
		{"Discord, Reset-After malformed", rlHeader(
			"X-RateLimit-Remaining", "0", "X-RateLimit-Reset", rlEpoch(2*time.Second)+".5", "X-RateLimit-Reset-After", "soon"), 2500 * time.Millisecond, true},
		{"Discord, a fraction rounds up", rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset-After", "64.5701"), 64571 * time.Millisecond, true},
		{"Discord, a long fraction", rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset-After", "0.0000000000000000000000001"), time.Millisecond, true},
		{"Discord, a fraction of zeros", rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset-After", "3.000000"), 3 * time.Second, true},
		{"Discord, global", rlHeader("X-RateLimit-Global", "true", "X-RateLimit-Scope", "global", "Retry-After", "65"), 0, false},
		{"Reddit, delta seconds", rlHeader(
			"X-Ratelimit-Used", "100", "X-Ratelimit-Remaining", "0.0", "X-Ratelimit-Reset", "412"), 412 * time.Second, true},
		{"Reddit, quota left", rlHeader("X-Ratelimit-Remaining", "598.0", "X-Ratelimit-Reset", "412"), 0, false},
		{"Reddit, a fraction left", rlHeader("X-Ratelimit-Remaining", "0.5", "X-Ratelimit-Reset", "412"), 0, false},
		{"X, formerly Twitter", rlHeader(
			"x-rate-limit-limit", "900", "x-rate-limit-remaining", "0", "x-rate-limit-reset", rlEpoch(15*time.Minute)), 15 * time.Minute, true},
		{"Okta, quota left", rlHeader("X-Rate-Limit-Limit", "600", "X-Rate-Limit-Remaining", "599", "X-Rate-Limit-Reset", rlEpoch(time.Minute)), 0, false},
		{"delta just below the epoch threshold", rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "999999999"), 999999999 * time.Second, true},
		{"epoch at the threshold, long past", rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "1000000000"), 0, true},
		{"delta with a fraction", rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "999999999.9999"), 999999999*time.Second + 1000*time.Millisecond, true},
		{"Atlassian ISO 8601 is not a number", rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "2026-03-01T12:01Z"), 0, false},
	})
}

func TestParseRateLimitSaturates(t *testing.T) {
	runRateLimitCases(t, []rateLimitCase{
		{"epoch of 20 digits", rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "99999999999999999999"), maxDuration, true},
		{"epoch of 50 digits", rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", strings.Repeat("9", 50)+".9"), maxDuration, true},
		{"epoch 300,000 years away", rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "9999999999999"), maxDuration, true},
		{"largest int64 epoch", rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "9223372036854775807"), maxDuration, true},
		{"delta of 20 digits", rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset-After", "99999999999999999999"), maxDuration, true},
		{"delta a millisecond over", rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset-After", "9223372036.855"), maxDuration, true},
		{"largest delta that fits", rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset-After", "9223372036.854"), 9223372036854 * time.Millisecond, true},
		{"drafts 00-06 huge", rlHeader("RateLimit-Remaining", "0", "RateLimit-Reset", "99999999999999999999"), maxDuration, true},
		{"huge remaining is quota left", rlHeader("X-RateLimit-Remaining", "99999999999999999999", "X-RateLimit-Reset", "5"), 0, false},
	})
}

func TestParseRateLimitMalformed(t *testing.T) {
	ignored := []string{"", " ", "soon", "-5", "+5", "5.", ".5", "5 5", "5s", "1e9", "0x10", "5,6", "٣", "5\x00", "\"5\""}
	for _, v := range ignored {
		runRateLimitCases(t, []rateLimitCase{
			{"remaining " + strconv.Quote(v), rlHeader("X-RateLimit-Remaining", v, "X-RateLimit-Reset", "5"), 0, false},
			{"reset " + strconv.Quote(v), rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", v), 0, false},
			{"reset-after " + strconv.Quote(v) + " falls back", rlHeader(
				"X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "5", "X-RateLimit-Reset-After", v), 5 * time.Second, true},
			{"remaining " + strconv.Quote(v) + ": the next source", rlHeader(
				"X-RateLimit-Remaining", v, "X-RateLimit-Reset", "5", "X-Rate-Limit-Remaining", "0", "X-Rate-Limit-Reset", "6"), 6 * time.Second, true},
		})
	}
	runRateLimitCases(t, []rateLimitCase{
		{"white space around values", rlHeader("X-RateLimit-Remaining", " 0\t", "X-RateLimit-Reset", "\t 30 "), 30 * time.Second, true},
		{"the first valid line of each", rlHeader(
			"X-RateLimit-Remaining", "", "X-RateLimit-Remaining", "0", "X-RateLimit-Remaining", "7",
			"X-RateLimit-Reset", "garbage", "X-RateLimit-Reset", "7", "X-RateLimit-Reset", "9"), 7 * time.Second, true},
		{"a field with no lines", http.Header{"X-Ratelimit-Remaining": {}, "X-Ratelimit-Reset": {"5"}}, 0, false},
		{"no header", nil, 0, false},
		{"no rate-limit fields", rlHeader("Content-Type", "application/json", "Date", "Sun, 01 Mar 2026 12:00:00 GMT"), 0, false},
	})
}

func runRateLimitCases(t *testing.T, cases []rateLimitCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := ParseRateLimit(tt.header, rlNow)
			if d != tt.want || ok != tt.ok {
				t.Errorf("ParseRateLimit(%v) = %v, %v; want %v, %v", tt.header, d, ok, tt.want, tt.ok)
			}
		})
	}
}

// An epoch reset is measured against now: the response's Date, whatever
// the local clock says, or the local time when now is zero.
func TestParseRateLimitNow(t *testing.T) {
	h := rlHeader("Date", "Sun, 01 Mar 2026 12:00:00 GMT", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", rlEpoch(time.Hour))
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := ParseRateLimit(h, date); d != time.Hour || !ok {
		t.Errorf("against the Date: %v, %v; want 1h, true", d, ok)
	}
	skewed := date.Add(10 * time.Minute) // a local clock 10 minutes fast
	if d, ok := ParseRateLimit(h, skewed); d != 50*time.Minute || !ok {
		t.Errorf("against a clock 10 minutes fast: %v, %v; want 50m, true", d, ok)
	}
	if d, ok := ParseRateLimit(h, date.Add(300*time.Millisecond)); d != time.Hour-300*time.Millisecond || !ok {
		t.Errorf("against Date+300ms: %v, %v; want 59m59.7s, true", d, ok)
	}

	// A zero now is the local time.
	reset := time.Now().Add(time.Hour).Unix()
	h = rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", strconv.FormatInt(reset, 10))
	if d, ok := ParseRateLimit(h, time.Time{}); !ok || d > time.Hour || d < time.Hour-time.Minute {
		t.Errorf("zero now, reset an hour from the local time: %v, %v", d, ok)
	}
	// Seconds from now do not depend on it.
	h = rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "30")
	if d, ok := ParseRateLimit(h, time.Time{}); d != 30*time.Second || !ok {
		t.Errorf("zero now, delta seconds: %v, %v", d, ok)
	}
}

// The wait to an epoch reset is exact, and saturates only when it does
// not fit, against any now.
func TestParseRateLimitEpochEdges(t *testing.T) {
	far := time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	early := time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC) // a second after the zero time
	for _, tt := range []struct {
		reset string
		now   time.Time
		want  time.Duration
	}{
		{"1000000000", early, maxDuration},
		{"1000000000", far, 0},
		{"253402300800", far, time.Nanosecond},
		{"253402300800.001", far, time.Millisecond + time.Nanosecond},
		{strconv.FormatInt(rlNow.Unix()+int64(maxDuration/time.Second), 10), rlNow, maxDuration / time.Second * time.Second},
		{strconv.FormatInt(rlNow.Unix()+int64(maxDuration/time.Second), 10) + ".854", rlNow, 9223372036854 * time.Millisecond},
		{strconv.FormatInt(rlNow.Unix()+int64(maxDuration/time.Second), 10) + ".855", rlNow, maxDuration},
		{strconv.FormatInt(rlNow.Unix()+int64(maxDuration/time.Second), 10) + ".855", rlNow.Add(time.Millisecond), 9223372036854 * time.Millisecond},
		{"1470173023.123", time.Unix(1470173022, 0), 1123 * time.Millisecond},
		{"1470173023.123", time.Unix(1470173023, 123000000), 0},
		{"1470173023.123", time.Unix(1470173023, 122999999), time.Nanosecond},
		{"1470173023.9999", time.Unix(1470173023, 0), time.Second},
		{"9223372036854775807", time.Unix(-9223372036854775000, 0), maxDuration},
	} {
		h := rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", tt.reset)
		if d, ok := ParseRateLimit(h, tt.now); d != tt.want || !ok {
			t.Errorf("reset %s at %v: %v, %v; want %v, true", tt.reset, tt.now, d, ok, tt.want)
		}
	}
}

// The fields are looked up by their canonical keys.
func TestRateLimitFieldsCanonical(t *testing.T) {
	for _, name := range rateLimitFields {
		if c := textproto.CanonicalMIMEHeaderKey(name); c != name {
			t.Errorf("%q is not canonical: %q", name, c)
		}
	}
}

func TestParseRateLimitAllocs(t *testing.T) {
	for _, tt := range []struct {
		name string
		h    http.Header
		now  time.Time
	}{
		{"nil header", nil, rlNow},
		{"no rate-limit fields", rlHeader("Content-Type", "text/plain", "Date", "Sun, 01 Mar 2026 12:00:00 GMT"), rlNow},
		{"GitHub used up", rlHeader("X-RateLimit-Limit", "60", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", rlEpoch(time.Hour)), rlNow},
		{"GitHub used up, zero now", rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", rlEpoch(time.Hour)), time.Time{}},
		{"IETF", rlHeader("RateLimit", `"burst";r=0;t=12;pk=:QQ==:, "daily";r=0;t=40000`), rlNow},
		{"draft 07", rlHeader("RateLimit", "limit=100, remaining=0, reset=30"), rlNow},
		{"Discord", rlHeader("X-RateLimit-Remaining", "0", "X-RateLimit-Reset-After", "64.57"), rlNow},
		{"malformed", rlHeader("RateLimit", `"a";r=0;t=`, "X-RateLimit-Remaining", "soon"), rlNow},
	} {
		if n := testing.AllocsPerRun(100, func() { ParseRateLimit(tt.h, tt.now) }); n != 0 {
			t.Errorf("%s: %v allocations per call, want 0", tt.name, n)
		}
	}
}

func FuzzParseRateLimit(f *testing.F) {
	hour := rlEpoch(time.Hour)
	// mask, RateLimit, a remaining, a reset, a reset-after, now (Unix s, ns), later by
	f.Add(uint8(0b00011000), "", "0", hour, "", rlNow.Unix(), uint32(0), int64(time.Minute))
	f.Add(uint8(0b00011000), "", "4999", hour, "", rlNow.Unix(), uint32(0), int64(time.Hour))
	f.Add(uint8(0b00000001), `"default";r=0;t=30`, "", "", "", rlNow.Unix(), uint32(0), int64(time.Second))
	f.Add(uint8(0b00000001), `"burst";r=0;t=12, "daily";r=0;t=40000;pk=:QQ==:`, "", "", "", int64(0), uint32(5), int64(1))
	f.Add(uint8(0b00000001), "limit=100, remaining=0, reset=30", "", "", "", rlNow.Unix(), uint32(0), int64(0))
	f.Add(uint8(0b00000110), "", "0", "30", "", rlNow.Unix(), uint32(0), int64(time.Second))
	f.Add(uint8(0b00111000), "", "0", rlEpoch(2*time.Second)+".123", "1.5", rlNow.Unix(), uint32(999999999), int64(time.Millisecond))
	f.Add(uint8(0b11000000), "", "0.0", "99999999999999999999", "", rlNow.Unix(), uint32(1), int64(math.MaxInt64))
	f.Add(uint8(0b11111111), `"a";r=0`, "0", "9223372036854775807", "9223372036.855", int64(-62135596800), uint32(0), int64(time.Hour))
	f.Add(uint8(0b00011001), `"x";r=0;t=5 garbage`, " 0 ", "\t1000000000", "", int64(253402300799), uint32(999999999), int64(1))
	f.Fuzz(func(t *testing.T, mask uint8, rl, remaining, reset, after string, nowSec int64, nowNsec uint32, later int64) {
		values := [...]string{rl, remaining, reset, remaining, reset, after, remaining, reset}
		h := make(http.Header)
		for i, name := range rateLimitFields {
			if mask&(1<<i) != 0 {
				h[name] = []string{values[i]}
			}
		}
		// A now in years 1 to 9999, never the zero time, and a later one.
		const lo, span = -62135596799, 253402300800 + 62135596799
		now := time.Unix(lo+(nowSec%span+span)%span, int64(nowNsec%1e9))
		if later < 0 {
			later = -(later + 1)
		}
		d, ok := ParseRateLimit(h, now)
		if d < 0 {
			t.Fatalf("ParseRateLimit(%q, %v) = %v, %v: negative", h, now, d, ok)
		}
		if !ok && d != 0 {
			t.Fatalf("ParseRateLimit(%q, %v) = %v, false: a wait without ok", h, now, d)
		}
		// Later, the answer is the same and the wait no longer; it shrinks
		// by no more than the time that passed (delta seconds do not
		// shrink at all, epoch seconds by exactly that, down to 0).
		d2, ok2 := ParseRateLimit(h, now.Add(time.Duration(later)))
		if ok2 != ok || d2 > d || d2 < d-time.Duration(later) {
			t.Fatalf("ParseRateLimit(%q) = %v, %v at %v, %v, %v %v later", h, d, ok, now, d2, ok2, time.Duration(later))
		}
		// Optional white space around every line changes nothing, nor an
		// invalid line before every line.
		padded, prefixed := make(http.Header), make(http.Header)
		for name, lines := range h {
			padded[name] = []string{" \t" + lines[0] + "\t "}
			prefixed[name] = []string{"\x00", lines[0]}
		}
		if d3, ok3 := ParseRateLimit(padded, now); d3 != d || ok3 != ok {
			t.Fatalf("ParseRateLimit(%q) = %v, %v; with white space %v, %v", h, d, ok, d3, ok3)
		}
		if d3, ok3 := ParseRateLimit(prefixed, now); d3 != d || ok3 != ok {
			t.Fatalf("ParseRateLimit(%q) = %v, %v; after an invalid line %v, %v", h, d, ok, d3, ok3)
		}
	})
}

func BenchmarkParseRateLimit(b *testing.B) {
	for _, bb := range []struct {
		name string
		h    http.Header
	}{
		{"absent", rlHeader(
			"Content-Type", "application/json; charset=utf-8", "Date", "Sun, 01 Mar 2026 12:00:00 GMT",
			"Cache-Control", "no-cache", "Content-Length", "89", "Server", "nginx")},
		{"GitHub-exhausted", rlHeader(
			"Content-Type", "application/json; charset=utf-8", "Date", "Sun, 01 Mar 2026 12:00:00 GMT",
			"X-RateLimit-Limit", "5000", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", rlEpoch(time.Hour),
			"X-RateLimit-Used", "5000", "X-RateLimit-Resource", "core")},
		{"IETF-exhausted", rlHeader(
			"RateLimit-Policy", `"burst";q=100;w=60,"daily";q=1000;w=86400`,
			"RateLimit", `"burst";r=0;t=12, "daily";r=0;t=40000`)},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ParseRateLimit(bb.h, rlNow)
			}
		})
	}
}

func TestParseShouldRetry(t *testing.T) {
	both := []string{"X-Should-Retry", "Stripe-Should-Retry"}
	reversed := []string{"Stripe-Should-Retry", "X-Should-Retry"}
	tests := []struct {
		name      string
		header    http.Header
		names     []string
		retry, ok bool
	}{
		{"true", rlHeader("X-Should-Retry", "true"), both, true, true},
		{"false", rlHeader("X-Should-Retry", "false"), both, false, true},
		{"FALSE", rlHeader("X-Should-Retry", "FALSE"), both, false, true},
		{"True", rlHeader("X-Should-Retry", "True"), both, true, true},
		{"padded", rlHeader("X-Should-Retry", " false "), both, false, true},
		{"tabs", rlHeader("X-Should-Retry", "\ttRuE\t"), both, true, true},
		{"garbage", rlHeader("X-Should-Retry", "perhaps"), both, false, false},
		{"empty", rlHeader("X-Should-Retry", ""), both, false, false},
		{"1", rlHeader("X-Should-Retry", "1"), both, false, false},
		{"a prefix", rlHeader("X-Should-Retry", "fals"), both, false, false},
		{"inner space", rlHeader("X-Should-Retry", "fa lse"), both, false, false},
		{"non-ASCII umlaut", rlHeader("X-Should-Retry", "fälse"), both, false, false},
		{"non-ASCII long s", rlHeader("X-Should-Retry", "falſe"), both, false, false},
		{"list in one value", rlHeader("X-Should-Retry", "false, true"), both, false, false},
		{"two values, first used", rlHeader("X-Should-Retry", "false", "X-Should-Retry", "true"), both, false, true},
		{"absent", rlHeader("Retry-After", "5"), both, false, false},
		{"nil header", nil, both, false, false},
		{"no names", rlHeader("X-Should-Retry", "true"), nil, false, false},
		{"Stripe", rlHeader("Stripe-Should-Retry", "true"), both, true, true},
		{"Stripe, lower-case name on the wire", rlHeader("stripe-should-retry", "false"), both, false, true},
		{"both: the first name wins", rlHeader("X-Should-Retry", "false", "Stripe-Should-Retry", "true"), both, false, true},
		{"both, names reversed", rlHeader("X-Should-Retry", "false", "Stripe-Should-Retry", "true"), reversed, true, true},
		{"first present is garbage: no answer", rlHeader("X-Should-Retry", "maybe", "Stripe-Should-Retry", "true"), both, false, false},
		{"a field with no values is absent", http.Header{"X-Should-Retry": {}, "Stripe-Should-Retry": {"true"}}, both, true, true},
		{"only the names given", rlHeader("X-Should-Retry", "true"), []string{"Stripe-Should-Retry"}, false, false},
		{"the defaults", rlHeader("Stripe-Should-Retry", "false"), defaultShouldRetryHeaders, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			retry, ok := parseShouldRetry(tt.header, tt.names)
			if retry != tt.retry || ok != tt.ok {
				t.Errorf("parseShouldRetry(%v, %q) = %v, %v; want %v, %v", tt.header, tt.names, retry, ok, tt.retry, tt.ok)
			}
		})
	}
}

func TestShouldRetryHeadersCanonical(t *testing.T) {
	for _, name := range defaultShouldRetryHeaders {
		if c := textproto.CanonicalMIMEHeaderKey(name); c != name {
			t.Errorf("%q is not canonical: %q", name, c)
		}
	}
}

func TestParseShouldRetryAllocs(t *testing.T) {
	for _, h := range []http.Header{nil, rlHeader("Content-Type", "text/plain"), rlHeader("X-Should-Retry", " FALSE ")} {
		if n := testing.AllocsPerRun(100, func() { parseShouldRetry(h, defaultShouldRetryHeaders) }); n != 0 {
			t.Errorf("parseShouldRetry(%v): %v allocations per call, want 0", h, n)
		}
	}
}
