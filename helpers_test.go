package backoff_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// newRequest builds a request with ctx, and body unless it is empty.
func newRequest(t *testing.T, ctx context.Context, method, url, body string) *http.Request {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// timeoutContext returns a background context that times out after d, or
// one with no deadline if d is 0. It is cancelled when t ends.
func timeoutContext(t *testing.T, d time.Duration) context.Context {
	ctx := context.Background()
	if d != 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		t.Cleanup(cancel)
	}
	return ctx
}
