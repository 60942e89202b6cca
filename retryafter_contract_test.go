package backoff_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
)

// Values too large for a time.Duration, in both forms.
var hugeRetryAfters = []string{
	"9223372037", // one second more than the largest time.Duration
	"99999999999999999999",
	"99999999999999999999999999999999999999999999999999",
	"Fri, 31 Dec 9999 23:59:59 GMT",
}

func TestParseRetryAfterSaturates(t *testing.T) {
	now := time.Date(2015, 10, 21, 7, 0, 0, 0, time.UTC)
	for _, v := range hugeRetryAfters {
		if d, ok := backoff.ParseRetryAfter(v, now); d != maxDur || !ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, true", v, d, ok, maxDur)
		}
	}
	// The largest value that fits is exact; malformed ones stay ignored.
	if d, ok := backoff.ParseRetryAfter("9223372036", now); d != 9223372036*time.Second || !ok {
		t.Errorf("ParseRetryAfter(9223372036) = %v, %v", d, ok)
	}
	for _, v := range []string{"99999999999999999999x", "-99999999999999999999", "1e99"} {
		if d, ok := backoff.ParseRetryAfter(v, now); d != 0 || ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want 0, false", v, d, ok)
		}
	}
}

// A Retry-After over the cap, however large, ends the call at once with
// that response, whatever the cap.
func TestTransportHugeRetryAfterGivesUp(t *testing.T) {
	for _, v := range hugeRetryAfters {
		for _, maxRA := range []time.Duration{0, time.Hour, maxDur} {
			t.Run(v+"/"+maxRA.String(), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					h := http.Header{"Retry-After": {v}, "Date": {"Wed, 21 Oct 2015 07:00:00 GMT"}}
					base := &fakeBase{steps: []step{{status: 503, header: h, body: "go away"}, {status: 200}}}
					tr := newTransport(base)
					tr.MaxRetryAfter = maxRA
					tr.Jitter = jitter.Full
					var rec traceRecorder
					rec.attach(tr)
					req, _ := http.NewRequestWithContext(context.Background(), "GET", "http://api.example.com/", nil)
					resp, err := tr.RoundTrip(req)
					if err != nil {
						t.Fatalf("RoundTrip: %v", err)
					}
					defer resp.Body.Close()
					if resp.StatusCode != 503 || len(base.sent) != 1 {
						t.Errorf("got %d after %d attempts; want the 503 at once", resp.StatusCode, len(base.sent))
					}
					if got := rec.String(); got != "giveup tries=1 reason=retry_after" {
						t.Errorf("events = %s", got)
					}
					if len(rec.all) == 1 && rec.all[0].RetryAfter != maxDur {
						t.Errorf("details RetryAfter = %v, want %v", rec.all[0].RetryAfter, maxDur)
					}
					base.checkBodies(t, resp)
				})
			})
		}
	}
}

// retryAfterWaits makes n calls through a Transport set up by configure,
// each answered by a 503 with the Retry-After ra and then a 200, and
// returns the wait before each retry. A call that gives up instead fails
// the test. timeout, if positive, is each call's context deadline.
func retryAfterWaits(t *testing.T, n int, ra string, timeout time.Duration, configure func(*backoff.Transport)) []time.Duration {
	t.Helper()
	var waits []time.Duration
	synctest.Test(t, func(t *testing.T) {
		for range n {
			h := http.Header{"Retry-After": {ra}}
			base := &fakeBase{steps: []step{{status: 503, header: h, body: "busy"}, {status: 200}}}
			tr := newTransport(base) // waits 1s, jitter.None
			configure(tr)
			var rec traceRecorder
			rec.attach(tr)
			ctx := context.Background()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://api.example.com/", nil)
			start := time.Now()
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatalf("RoundTrip: %v", err)
			}
			resp.Body.Close()
			took := time.Since(start)
			if resp.StatusCode != 200 || len(rec.all) != 2 {
				t.Fatalf("status %d, events %s; want a retry and 200", resp.StatusCode, rec.String())
			}
			if w := rec.all[0].Wait; w != took {
				t.Fatalf("backoff event says %v, the call slept %v", w, took)
			}
			waits = append(waits, took)
		}
	})
	return waits
}

// With jitter.None the Transport waits for the Retry-After exactly.
func TestTransportRetryAfterExactWithoutJitter(t *testing.T) {
	for _, tt := range []struct {
		ra     string
		maxRA  time.Duration
		spread float64
		want   time.Duration
	}{
		{"7", 0, 0, 7 * time.Second},
		{"60", 0, 0, 60 * time.Second}, // at the default cap
		{"30", time.Hour, 0.5, 30 * time.Second},
		{"3600", time.Hour, 3, time.Hour},
	} {
		waits := retryAfterWaits(t, 20, tt.ra, 0, func(tr *backoff.Transport) {
			tr.MaxRetryAfter, tr.RetryAfterSpread = tt.maxRA, tt.spread
		})
		for _, w := range waits {
			if w != tt.want {
				t.Errorf("Retry-After %s, jitter.None: waited %v, want %v exactly", tt.ra, w, tt.want)
				break
			}
		}
	}
}

// With jitter the wait is spread upward only, within
// [floor, min(floor·(1+spread), cap, time left)], and the spread is used.
func TestTransportRetryAfterSpreadBounds(t *testing.T) {
	const n = 300
	s := time.Second
	tests := []struct {
		name    string
		ra      string
		jit     jitter.Func
		spread  float64
		maxRA   time.Duration
		maxTime time.Duration
		timeout time.Duration
		lo, hi  time.Duration
		spreads bool // some waits must be well above lo
	}{
		{name: "default spread", ra: "10", jit: jitter.Full, lo: 10 * s, hi: 12 * s, spreads: true},
		{name: "default jitter", ra: "10", lo: 10 * s, hi: 12 * s, spreads: true},
		{name: "at the default cap", ra: "60", jit: jitter.Full, lo: 60 * s, hi: 60 * s},
		{name: "near the cap", ra: "50", jit: jitter.Full, maxRA: 55 * s, lo: 50 * s, hi: 55 * s, spreads: true},
		{name: "spread 0.5", ra: "10", jit: jitter.Full, spread: 0.5, lo: 10 * s, hi: 15 * s, spreads: true},
		{name: "spread 100, capped", ra: "10", jit: jitter.Full, spread: 100, maxRA: 20 * s, lo: 10 * s, hi: 20 * s, spreads: true},
		{name: "negative spread", ra: "10", jit: jitter.Full, spread: -1, lo: 10 * s, hi: 10 * s},
		{name: "equal jitter", ra: "10", jit: jitter.Equal, lo: 10 * s, hi: 11 * s, spreads: true},
		{name: "random jitter", ra: "10", jit: jitter.Random, lo: 10 * s, hi: 10*s + 200*time.Millisecond},
		{name: "upward jitter", ra: "10", jit: jitter.Upward(0.5), lo: 10 * s, hi: 11 * s, spreads: true},
		{name: "max time", ra: "10", jit: jitter.Full, maxTime: 11 * s, lo: 10 * s, hi: 11 * s, spreads: true},
		{name: "max time at the floor", ra: "10", jit: jitter.Full, maxTime: 10 * s, lo: 10 * s, hi: 10 * s},
		{name: "deadline", ra: "10", jit: jitter.Full, timeout: 11 * s, lo: 10 * s, hi: 11*s - 1, spreads: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			waits := retryAfterWaits(t, n, tt.ra, tt.timeout, func(tr *backoff.Transport) {
				tr.Jitter = tt.jit
				tr.MaxTime = tt.maxTime
				tr.MaxRetryAfter, tr.RetryAfterSpread = tt.maxRA, tt.spread
			})
			lo, hi := waits[0], waits[0]
			for _, w := range waits {
				lo, hi = min(lo, w), max(hi, w)
			}
			if lo < tt.lo || hi > tt.hi {
				t.Errorf("waits in [%v, %v]; want within [%v, %v]", lo, hi, tt.lo, tt.hi)
			}
			// With n draws the largest is near the top of the range.
			if top := tt.lo + (tt.hi-tt.lo)*3/4; tt.spreads && hi < top {
				t.Errorf("largest of %d waits %v; want the spread used (above %v)", n, hi, top)
			}
		})
	}
}

func TestTransportRetryAfterSpreadInvalid(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1)} {
		base := &fakeBase{steps: []step{{status: 200}}}
		tr := &backoff.Transport{Base: base, RetryAfterSpread: f}
		var ce *backoff.ConfigError
		if err := tr.Validate(); !errors.As(err, &ce) || ce.Field != "Transport.RetryAfterSpread" {
			t.Errorf("Validate() with RetryAfterSpread %v = %v; want a ConfigError on the field", f, err)
		}
		req, _ := http.NewRequest("GET", "http://api.example.com/", nil)
		if resp, err := tr.RoundTrip(req); resp != nil || err == nil || len(base.sent) != 0 {
			t.Errorf("RoundTrip with RetryAfterSpread %v = %v, %v after %d sends; want the error, nothing sent", f, resp, err, len(base.sent))
		}
	}
	for _, f := range []float64{0, -1, math.Inf(-1), 0.5, 10} {
		if err := (&backoff.Transport{RetryAfterSpread: f}).Validate(); err != nil {
			t.Errorf("Validate() with RetryAfterSpread %v = %v", f, err)
		}
	}
}
