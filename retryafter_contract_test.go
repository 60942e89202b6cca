package backoff_test

import (
	"context"
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
					tr.Policy.Jitter = jitter.Full
					var rec recorder[*http.Response]
					rec.attach(&tr.Policy)
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
