package backoff_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/strategy"
)

// rtFunc adapts a function to http.RoundTripper.
type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// closeCounter is a request body that counts its Close calls.
type closeCounter struct {
	io.Reader
	closed atomic.Int32
}

func (c *closeCounter) Close() error { c.closed.Add(1); return nil }

// trackedReadCloser wraps a response body and records its Close.
type trackedReadCloser struct {
	io.ReadCloser
	name   string
	closed atomic.Bool
}

func (b *trackedReadCloser) Close() error {
	b.closed.Store(true)
	return b.ReadCloser.Close()
}

// bodyLog records the response bodies a base hands out, wrapped, so that a
// test can check which of them were closed.
type bodyLog struct {
	mu     sync.Mutex
	bodies []*trackedReadCloser
}

// track wraps the body of resp, the response to attempt n, if there is
// one, and records it.
func (l *bodyLog) track(resp *http.Response, n int32) {
	if resp == nil {
		return
	}
	b := &trackedReadCloser{ReadCloser: resp.Body, name: fmt.Sprintf("response %d (%d)", n, resp.StatusCode)}
	resp.Body = b
	l.mu.Lock()
	l.bodies = append(l.bodies, b)
	l.mu.Unlock()
}

// spend makes a call to host, through a Transport of its own with budget
// b, that is refused once it has spent n of the host's retries (fewer if
// the budget refuses them sooner). Budgets start full: a test that needs
// an empty one spends it first. Call it in the bubble the test runs in.
func spend(b *backoff.Budget, host string, n int) {
	tr := &backoff.Transport{Base: always(http.StatusServiceUnavailable), Budget: b, MaxAttempts: n + 1, Wait: strategy.Immediate}
	resp, err := tr.RoundTrip(httptest.NewRequest(http.MethodGet, "http://"+host+"/", nil))
	if err == nil {
		resp.Body.Close()
	}
}

// emptyBudget returns a Budget that refuses every retry to host: it earns
// nothing, and host's one token is spent.
func emptyBudget(host string) *backoff.Budget {
	b := &backoff.Budget{Ratio: -1, MinPerSecond: -1, MaxTokens: 1}
	spend(b, host, 1)
	return b
}
