package backoff_test

// Hostile servers and odd bases: a body that never ends, a timeout that
// surfaces on the wrong request, a response without a Body, an upgraded
// connection, and the timeout a caller sees through http.Client.

import (
	"errors"
	"io"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/f99b3bbb/backoff"
)

// noPanic runs f and reports a panic as a test failure rather than letting
// it end the test binary.
func noPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", what, r)
		}
	}()
	f()
}

// A response with a nil Body, which http.Client tolerates: the Transport
// treats it as http.NoBody wherever it touches it.
func TestHostileNilBody(t *testing.T) {
	nilBody := func(status int) *http.Response {
		return &http.Response{StatusCode: status, Header: http.Header{}}
	}
	tests := []struct {
		name    string
		timeout time.Duration
		base    func(n int) (*http.Response, error)
	}{
		{"retried then returned", 0, func(n int) (*http.Response, error) {
			if n == 1 {
				return nilBody(503), nil
			}
			return nilBody(200), nil
		}},
		{"returned under AttemptTimeout", time.Second, func(int) (*http.Response, error) {
			return nilBody(200), nil
		}},
		{"retried under AttemptTimeout", time.Second, func(n int) (*http.Response, error) {
			if n == 1 {
				return nilBody(503), nil
			}
			return nilBody(200), nil
		}},
		{"with an error", 0, func(n int) (*http.Response, error) {
			if n == 1 {
				return nilBody(200), errors.New("broken base")
			}
			return nilBody(200), nil
		}},
		{"with an error under AttemptTimeout", time.Second, func(n int) (*http.Response, error) {
			if n == 1 {
				return nilBody(200), errors.New("broken base")
			}
			return nilBody(200), nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := 0
				tr := newTransport(rtFunc(func(*http.Request) (*http.Response, error) {
					n++
					return tt.base(n)
				}))
				tr.AttemptTimeout = tt.timeout
				// A base that returns both breaks the contract; the
				// error is retried here so that the next attempt shows
				// the call went on.
				tr.Classify = func(a backoff.Attempt) bool {
					return a.Err != nil || backoff.DefaultClassify(a)
				}
				noPanic(t, "RoundTrip", func() {
					resp, err := get(t, tr, "GET", "")
					if err != nil || resp == nil || resp.StatusCode != 200 {
						t.Fatalf("RoundTrip = %v, %v; want 200", resp, err)
					}
					if resp.Body == nil {
						t.Fatalf("returned response has a nil Body")
					}
					if b, err := io.ReadAll(resp.Body); len(b) != 0 || err != nil {
						t.Errorf("body = %q, %v; want empty", b, err)
					}
					if err := resp.Body.Close(); err != nil {
						t.Errorf("Body.Close() = %v", err)
					}
				})
			})
		})
	}
}
