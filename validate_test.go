package backoff_test

// Configuration and legal but unusual input never make the library panic:
// it refuses bad configuration in Validate with a *ConfigError, or applies
// the normalisation its documentation states.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"testing"

	"github.com/f99b3bbb/backoff"
)

// ctxWithSlice is a context whose dynamic type is not comparable: comparing
// two interface values holding it panics. net/http accepts it.
type ctxWithSlice struct {
	context.Context
	s []int
}

// noPanic runs f and fails the test, with the stack, if f panics.
func noPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s panicked: %v\n%s", what, r, debug.Stack())
		}
	}()
	f()
}

// okBase answers 200 "ok" in memory.
func okBase(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(&onceReader{s: "ok"}), Request: r}, nil
}

type onceReader struct{ s string }

func (r *onceReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := copy(p, r.s)
	r.s = r.s[n:]
	return n, nil
}

func TestUncomparableContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()

	zero := &backoff.Transport{} // its Base is an *http.Transport: no mark, the caller's context as it is
	defer zero.CloseIdleConnections()
	mem := &backoff.Transport{Base: rtFunc(okBase)}
	timeout := &backoff.Transport{Base: rtFunc(okBase), AttemptTimeout: 1 << 40}
	header := &backoff.Transport{Base: rtFunc(okBase), AttemptHeader: "Attempt"}

	tests := []struct {
		name string
		rt   http.RoundTripper
		ctx  context.Context
		url  string
	}{
		{"zero Transport", zero, ctxWithSlice{context.Background(), nil}, srv.URL},
		{"zero Transport, cancellable", zero, ctxWithSlice{t.Context(), []int{1}}, srv.URL},
		{"under a retrying layer", mem, ctxWithSlice{backoff.Retrying(context.Background()), nil}, "http://mem.test/"},
		{"own mark", mem, ctxWithSlice{context.Background(), nil}, "http://mem.test/"},
		{"AttemptTimeout", timeout, ctxWithSlice{context.Background(), nil}, "http://mem.test/"},
		{"AttemptHeader under a retrying layer", header, ctxWithSlice{backoff.Retrying(context.Background()), nil}, "http://mem.test/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(tt.ctx, "GET", tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			noPanic(t, "RoundTrip", func() {
				resp, err := tt.rt.RoundTrip(req)
				if err != nil {
					t.Fatalf("RoundTrip: %v", err)
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(b) != "ok" {
					t.Errorf("body = %q, %v; want \"ok\"", b, err)
				}
			})
		})
	}

	t.Run("Policy.Exclusive", func(t *testing.T) {
		p := &backoff.Policy[int]{Exclusive: true}
		noPanic(t, "Do", func() {
			v, err := p.Do(ctxWithSlice{context.Background(), nil}, func(ctx context.Context) (int, error) {
				if !backoff.IsRetrying(ctx) {
					return 0, errors.New("context not marked")
				}
				return 1, nil
			})
			if v != 1 || err != nil {
				t.Errorf("Do = %v, %v; want 1, nil", v, err)
			}
		})
	})
}
