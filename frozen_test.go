package backoff_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

// The Transport's configuration is read once, at its first use: fields
// changed afterwards are not seen (nor raced with), whichever they are.
func TestTransportConfigFixedAtFirstUse(t *testing.T) {
	var attempts int
	var headers []string
	base := rtFunc(func(r *http.Request) (*http.Response, error) {
		attempts++
		headers = append(headers, r.Header.Get("X-Attempt"))
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
	})
	tr := &backoff.Transport{
		Base:          base,
		MaxAttempts:   2,
		Wait:          strategy.Constant{Interval: time.Nanosecond},
		Jitter:        jitter.None,
		Budget:        backoff.DisabledBudget(),
		AttemptHeader: "X-Attempt",
	}
	get := func() {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://api.example/", nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	get()
	// Changed after the first use: none of these may take effect.
	tr.Classify = func(backoff.Attempt) bool { return false }
	tr.AttemptHeader = "Host"
	tr.MaxAttempts = 5
	attempts, headers = 0, nil
	get()
	if attempts != 2 {
		t.Errorf("after changing Classify and MaxAttempts: %d attempts, want 2 (the configuration at first use)", attempts)
	}
	if len(headers) != 2 || headers[0] != "1" || headers[1] != "2" {
		t.Errorf("after changing AttemptHeader: X-Attempt = %q, want [1 2]", headers)
	}
}
