package bench

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go/failsafehttp"
	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/strategy"
)

// The retrying layers are configured alike, after the zero
// backoff.Transport: at most 4 attempts (3 retries), exponential waits
// from 250ms capped at 10s, on transport errors, 429 and 5xx but 501.
const (
	retries     = 3
	firstWait   = 250 * time.Millisecond
	maxWait     = 10 * time.Second
	bodyContent = "ok"
)

// memTransport answers every request in memory with a new 200 response
// whose body is "ok", or with the statuses of fail first, one per call.
type memTransport struct {
	fail  []int
	calls atomic.Int64
}

func (m *memTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	n := m.calls.Add(1)
	code, status := http.StatusOK, "200 OK"
	if int(n) <= len(m.fail) {
		code = m.fail[n-1]
		status = fmt.Sprintf("%d %s", code, http.StatusText(code))
	}
	return &http.Response{
		Status:        status,
		StatusCode:    code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"text/plain; charset=utf-8"}},
		Body:          io.NopCloser(strings.NewReader(bodyContent)),
		ContentLength: int64(len(bodyContent)),
		Request:       req,
	}, nil
}

// A layer is one RoundTripper under test, built on its own base.
type layer struct {
	name string
	make func(base http.RoundTripper, wait time.Duration) http.RoundTripper
}

// layers are the RoundTrippers under test. wait is the first retry wait;
// the benchmarks use firstWait, which is the zero backoff.Transport's.
var layers = []layer{
	{"bare", func(base http.RoundTripper, _ time.Duration) http.RoundTripper {
		return base
	}},
	{"backoff", func(base http.RoundTripper, wait time.Duration) http.RoundTripper {
		t := &backoff.Transport{Base: base}
		if wait != firstWait {
			t.Wait = strategy.Expo{Factor: wait, Max: maxWait}
		}
		return t
	}},
	{"retryablehttp", func(base http.RoundTripper, wait time.Duration) http.RoundTripper {
		c := retryablehttp.NewClient()
		c.HTTPClient.Transport = base
		c.Logger = nil
		c.RetryMax = retries
		c.RetryWaitMin = wait
		c.RetryWaitMax = maxWait
		return &retryablehttp.RoundTripper{Client: c}
	}},
	{"failsafe", func(base http.RoundTripper, wait time.Duration) http.RoundTripper {
		rp := failsafehttp.NewRetryPolicyBuilder().
			WithMaxRetries(retries).
			WithBackoff(wait, maxWait).
			ReturnLastFailure().
			Build()
		return failsafehttp.NewRoundTripper(base, rp)
	}},
}

// reader reads response bodies into a buffer allocated once.
type reader struct{ buf []byte }

func newReader() *reader { return &reader{buf: make([]byte, 64)} }

// check reads resp's body to EOF, closes it, and reports an error unless
// the round trip returned 200 "ok".
func (r *reader) check(resp *http.Response, err error) error {
	if err != nil {
		return err
	}
	n := 0
	for {
		m, rerr := resp.Body.Read(r.buf[n:])
		n += m
		if rerr == io.EOF {
			break
		}
		if rerr != nil || n == len(r.buf) {
			resp.Body.Close()
			return fmt.Errorf("reading body: %d bytes, %v", n, rerr)
		}
	}
	if err := resp.Body.Close(); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || string(r.buf[:n]) != bodyContent {
		return fmt.Errorf("got %d %q, want 200 %q", resp.StatusCode, r.buf[:n], bodyContent)
	}
	return nil
}

func newServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, bodyContent)
	}))
}

func TestTransportMem(t *testing.T) {
	for _, l := range layers {
		t.Run(l.name, func(t *testing.T) {
			mem := &memTransport{}
			rt := l.make(mem, time.Millisecond)
			req, _ := http.NewRequest(http.MethodGet, "http://bench.invalid/", nil)
			r := newReader()
			for range 3 {
				if err := r.check(rt.RoundTrip(req)); err != nil {
					t.Fatal(err)
				}
			}
			if got := mem.calls.Load(); got != 3 {
				t.Errorf("%d calls of the base, want 3", got)
			}
		})
	}
}

// TestTransportRetry checks that the retrying layers are configured alike:
// they retry a 503 and a 429, give up after retries+1 attempts, and do not
// retry a 501.
func TestTransportRetry(t *testing.T) {
	for _, l := range layers[1:] {
		t.Run(l.name, func(t *testing.T) {
			r := newReader()
			req, _ := http.NewRequest(http.MethodGet, "http://bench.invalid/", nil)

			mem := &memTransport{fail: []int{503, 429}}
			if err := r.check(l.make(mem, time.Millisecond).RoundTrip(req)); err != nil {
				t.Fatal(err)
			}
			if got := mem.calls.Load(); got != 3 {
				t.Errorf("503, 429, 200: %d attempts, want 3", got)
			}

			mem = &memTransport{fail: []int{500, 500, 500, 500, 500}}
			resp, err := l.make(mem, time.Millisecond).RoundTrip(req)
			var status int
			if resp != nil {
				status = resp.StatusCode
				resp.Body.Close()
			}
			// retryablehttp gives up with an error (and the response) and
			// the other layers with the last response.
			t.Logf("500s: status %d, error %v", status, err)
			if got := mem.calls.Load(); got != retries+1 {
				t.Errorf("500s: %d attempts, want %d", got, retries+1)
			}

			mem = &memTransport{fail: []int{501}}
			resp, err = l.make(mem, time.Millisecond).RoundTrip(req)
			if err != nil || resp.StatusCode != 501 {
				t.Errorf("501: got %v, %v; want a 501 response", resp, err)
			}
			if resp != nil {
				resp.Body.Close()
			}
			if got := mem.calls.Load(); got != 1 {
				t.Errorf("501: %d attempts, want 1", got)
			}
		})
	}
}

func TestTransportLoopback(t *testing.T) {
	srv := newServer()
	defer srv.Close()
	for _, l := range layers {
		t.Run(l.name, func(t *testing.T) {
			base := cleanhttp.DefaultPooledTransport()
			defer base.CloseIdleConnections()
			rt := l.make(base, time.Millisecond)
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			r := newReader()
			for range 3 {
				if err := r.check(rt.RoundTrip(req)); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func benchLayer(b *testing.B, rt http.RoundTripper, url string) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	r := newReader()
	if err := r.check(rt.RoundTrip(req)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := r.check(rt.RoundTrip(req)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTransportMem: the success path of each layer over an in-memory
// base that answers 200 "ok" at once.
func BenchmarkTransportMem(b *testing.B) {
	for _, l := range layers {
		b.Run(l.name, func(b *testing.B) {
			benchLayer(b, l.make(&memTransport{}, firstWait), "http://bench.invalid/")
		})
	}
}

// BenchmarkTransportLoopback: the success path of each layer over its own
// pooled transport to a local server that answers 200 "ok".
func BenchmarkTransportLoopback(b *testing.B) {
	srv := newServer()
	defer srv.Close()
	for _, l := range layers {
		b.Run(l.name, func(b *testing.B) {
			// Each layer wraps a pooled transport of its own, closed at
			// the end (none of the retrying layers forwards
			// CloseIdleConnections but backoff.Transport).
			base := cleanhttp.DefaultPooledTransport()
			defer base.CloseIdleConnections()
			benchLayer(b, l.make(base, firstWait), srv.URL)
		})
	}
}
