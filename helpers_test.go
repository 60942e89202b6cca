package backoff_test

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
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
