package backoff_test

// Request bodies: what the Transport does with a body that has no GetBody
// (it keeps it as it is sent, and gives the attempts a GetBody over what
// it keeps), with a GetBody that fails, and with a body that breaks the
// io.Reader contract.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hashicorp/go-cleanhttp"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

// badCountBody is a request body whose Read returns n, whatever p holds.
type badCountBody struct {
	n      func(p []byte) int
	closed atomic.Bool
}

func (b *badCountBody) Read(p []byte) (int, error) { return b.n(p), nil }
func (b *badCountBody) Close() error               { b.closed.Store(true); return nil }

// readSafely reads r to its end the way a base transport would, turning a
// panic inside r.Read into an error so that the test can report it.
func readSafely(r io.Reader) (b []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("reading the body panicked: %v", p)
		}
	}()
	return io.ReadAll(r)
}

func TestBodyInvalidReadCount(t *testing.T) {
	counts := map[string]func(p []byte) int{
		"negative":       func([]byte) int { return -1 },
		"over len(p)":    func(p []byte) int { return len(p) + 1 },
		"over cap(p)":    func(p []byte) int { return cap(p) + 100 },
		"far below zero": func([]byte) int { return -1 << 40 },
	}
	for name, n := range counts {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var readErr error
				var attempts int
				base := rtFunc(func(r *http.Request) (*http.Response, error) {
					attempts++
					_, readErr = readSafely(r.Body)
					r.Body.Close()
					if readErr != nil {
						return nil, readErr
					}
					return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
				})
				tr := newTransport(base)
				body := &badCountBody{n: n}
				req, _ := http.NewRequest("PUT", "http://api.example.com/", body)
				resp, err := tr.RoundTrip(req)
				if resp != nil {
					resp.Body.Close()
					t.Fatalf("RoundTrip = %v, %v; want an error", resp, err)
				}
				if readErr == nil || strings.Contains(readErr.Error(), "panicked") {
					t.Fatalf("the base's read of the body = %v; want an error about the count", readErr)
				}
				if !strings.Contains(readErr.Error(), "invalid count") {
					t.Errorf("read error %q does not say the body's Read returned an invalid count", readErr)
				}
				if attempts != 1 {
					t.Errorf("%d attempts; want 1 (a body that could not be read is not replayable)", attempts)
				}
				if !body.closed.Load() {
					t.Errorf("the request body was not closed")
				}
			})
		})
	}
}

func TestBodyInvalidReadCountNetHTTP(t *testing.T) {
	// Through net/http, which reads the body on a goroutine of its own: a
	// panic there would end the process.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	base := cleanhttp.DefaultPooledTransport()
	defer base.CloseIdleConnections()
	tr := &backoff.Transport{Base: base, Wait: strategy.Constant{Interval: time.Millisecond}, Jitter: jitter.None}
	for _, n := range []int{-1, 1 << 20} {
		body := &badCountBody{n: func([]byte) int { return n }}
		req, _ := http.NewRequest("PUT", srv.URL, body)
		resp, err := tr.RoundTrip(req)
		if resp != nil {
			resp.Body.Close()
			t.Errorf("count %d: RoundTrip = %d, %v; want an error", n, resp.StatusCode, err)
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "invalid count") {
			t.Errorf("count %d: RoundTrip error = %v; want one about an invalid count", n, err)
		}
	}
}

// signer is a RoundTripper that, as a request-signing layer does, reads a
// copy of the body through GetBody to hash it, then sends the request to
// next with a fresh copy (send == "copy") or with its own body ("own").
type signer struct {
	next http.RoundTripper
	send string

	mu     sync.Mutex
	hashes []string
}

func (s *signer) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.GetBody == nil {
		req.Body.Close()
		return nil, errors.New("signer: request has no GetBody")
	}
	rc, err := req.GetBody()
	if err != nil {
		req.Body.Close()
		return nil, fmt.Errorf("signer: %w", err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		req.Body.Close()
		return nil, err
	}
	sum := sha256.Sum256(b)
	s.mu.Lock()
	s.hashes = append(s.hashes, fmt.Sprintf("%x", sum[:4]))
	s.mu.Unlock()
	r := req.Clone(req.Context())
	r.Header.Set("X-Body-Hash", fmt.Sprintf("%x", sum[:4]))
	if s.send == "copy" {
		req.Body.Close()
		if r.Body, err = req.GetBody(); err != nil {
			return nil, fmt.Errorf("signer: %w", err)
		}
	}
	return s.next.RoundTrip(r)
}

func TestBodyGetBodyBeforeRead(t *testing.T) {
	const payload = "payload"
	sum := sha256.Sum256([]byte(payload))
	want := fmt.Sprintf("%x", sum[:4])
	for _, send := range []string{"copy", "own"} {
		for _, length := range []int64{int64(len(payload)), 0, -1} {
			t.Run(send+"/ContentLength="+strconv.FormatInt(length, 10), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					base := &fakeBase{steps: []step{{status: 503}, {status: 200, body: "ok"}}}
					s := &signer{next: base, send: send}
					tr := newTransport(s)
					body := &closeCounter{Reader: strings.NewReader(payload)}
					req, _ := http.NewRequest("PUT", "http://api.example.com/", body)
					req.ContentLength = length
					resp, err := tr.RoundTrip(req)
					if err != nil {
						t.Fatalf("RoundTrip: %v", err)
					}
					resp.Body.Close()
					base.checkBodies(t, resp)
					if len(base.sent) != 2 {
						t.Fatalf("%d attempts reached the base; want 2", len(base.sent))
					}
					for i, r := range base.sent {
						if r.body != payload || r.header.Get("X-Body-Hash") != want {
							t.Errorf("attempt %d sent %q with hash %q; want %q with hash %q", i+1, r.body, r.header.Get("X-Body-Hash"), payload, want)
						}
					}
					if body.closed.Load() == 0 {
						t.Errorf("the caller's request body was not closed")
					}
				})
			})
		}
	}
}

// errBody returns its data, then err.
type errBody struct {
	r   io.Reader
	err error
}

func (b *errBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		err = b.err
	}
	return n, err
}
func (b *errBody) Close() error { return nil }

func TestBodyGetBodyErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	payload := strings.Repeat("x", 100)
	tests := []struct {
		name   string
		body   func() io.ReadCloser
		length int64
		limit  int64
		before func(req *http.Request) // what the base does before GetBody
		want   string                  // in GetBody's error
		is     error
		// read is what the base then reads from the request body itself,
		// when it does: it must be the whole body, kept or not.
		read bool
	}{
		{
			name:  "over BufferLimit",
			body:  func() io.ReadCloser { return io.NopCloser(strings.NewReader(payload)) },
			limit: 10,
			want:  "over the Transport's BufferLimit of 10 bytes",
			read:  true,
		},
		{
			name:   "ContentLength over BufferLimit",
			body:   func() io.ReadCloser { return io.NopCloser(strings.NewReader(payload)) },
			length: int64(len(payload)),
			limit:  10,
			want:   "no GetBody",
			read:   true,
		},
		{
			name:   "closed first",
			body:   func() io.ReadCloser { return io.NopCloser(strings.NewReader(payload)) },
			before: func(req *http.Request) { req.Body.Close() },
			want:   "closed before it was read whole",
		},
		{
			name: "half read, then closed",
			body: func() io.ReadCloser { return io.NopCloser(strings.NewReader(payload)) },
			before: func(req *http.Request) {
				io.ReadFull(req.Body, make([]byte, 10))
				req.Body.Close()
			},
			want: "closed before it was read whole",
		},
		{
			name: "read error",
			body: func() io.ReadCloser { return &errBody{r: strings.NewReader(payload), err: boom} },
			want: "disk on fire",
			is:   boom,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var getBodyErr, readErr error
				var read []byte
				base := rtFunc(func(r *http.Request) (*http.Response, error) {
					defer r.Body.Close()
					if tt.before != nil {
						tt.before(r)
					}
					if r.GetBody == nil {
						getBodyErr = errors.New("no GetBody")
					} else if rc, err := r.GetBody(); err != nil {
						getBodyErr = err
					} else {
						rc.Close()
					}
					if tt.read {
						read, readErr = io.ReadAll(r.Body)
					}
					return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
				})
				tr := newTransport(base)
				tr.BufferLimit = tt.limit
				req, _ := http.NewRequest("PUT", "http://api.example.com/", tt.body())
				req.ContentLength = tt.length
				resp, err := tr.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if getBodyErr == nil || !strings.Contains(getBodyErr.Error(), tt.want) {
					t.Errorf("GetBody error = %v; want one about %q", getBodyErr, tt.want)
				}
				if tt.is != nil && !errors.Is(getBodyErr, tt.is) {
					t.Errorf("GetBody error = %v; want it to wrap %v", getBodyErr, tt.is)
				}
				if tt.read && (string(read) != payload || readErr != nil) {
					t.Errorf("the base read %d bytes, %v; want the whole %d bytes", len(read), readErr, len(payload))
				}
			})
		})
	}
}

func TestBodyNoGetBodyWhenBufferingOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var offered bool
		base := rtFunc(func(r *http.Request) (*http.Response, error) {
			offered = r.GetBody != nil
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
		})
		tr := newTransport(base)
		tr.BufferLimit = -1
		req, _ := http.NewRequest("PUT", "http://api.example.com/", &closeCounter{Reader: strings.NewReader("payload")})
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if offered {
			t.Errorf("a GetBody was offered with BufferLimit < 0")
		}
	})
}

func TestBodyCompleteAtContentLength(t *testing.T) {
	// A base that reads exactly ContentLength bytes and never makes the
	// read that would return io.EOF, as net/http may not.
	synctest.Test(t, func(t *testing.T) {
		payload := bytes.Repeat([]byte("0123456789abcdef"), 4096)
		var sent []int
		base := rtFunc(func(r *http.Request) (*http.Response, error) {
			b := make([]byte, r.ContentLength)
			n, _ := io.ReadFull(r.Body, b)
			if !bytes.Equal(b[:n], payload) {
				t.Errorf("attempt %d sent %d bytes that differ from the payload", len(sent)+1, n)
			}
			sent = append(sent, n)
			status := 503
			if len(sent) > 1 {
				status = 200
			}
			return &http.Response{StatusCode: status, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
		})
		tr := newTransport(base)
		var rec traceRecorder
		rec.attach(tr)
		body := &closeCounter{Reader: bytes.NewReader(payload)}
		req, _ := http.NewRequest("PUT", "http://api.example.com/", body)
		req.ContentLength = int64(len(payload))
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || len(sent) != 2 {
			t.Errorf("status %d after %d attempts (events %s); want 200 after 2", resp.StatusCode, len(sent), rec.String())
		}
	})
}

// pipeBody is a request body fed by a goroutine that writes data, then
// closes the pipe only when told to, or when the body is closed: a body
// whose io.EOF comes late.
type pipeBody struct {
	*io.PipeReader
	w    *io.PipeWriter
	done chan struct{}
}

func newPipeBody(data []byte) *pipeBody {
	r, w := io.Pipe()
	b := &pipeBody{PipeReader: r, w: w, done: make(chan struct{})}
	go func() {
		defer close(b.done)
		w.Write(data) // fails once the reader is closed
	}()
	return b
}

// end sends io.EOF and waits for the writing goroutine.
func (b *pipeBody) end() {
	b.w.Close()
	<-b.done
}

func TestBodyCompleteAtContentLengthNetHTTP(t *testing.T) {
	// 60 PUTs of 64 KiB, each read whole by the server, which answers 503
	// to its first attempt: every one must be retried, whether or not
	// net/http made the read that returns io.EOF before the response came.
	// With "late EOF", that read cannot return before RoundTrip does (and
	// net/http waits 50ms for the body's write before it hands over each
	// response: 10 calls are enough there).
	payload := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	for _, late := range []bool{false, true} {
		name, calls := "bytes", 60
		if late {
			name, calls = "late EOF", 10
		}
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			hits := map[string]int{}
			var bad atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, err := io.ReadAll(r.Body)
				if err != nil || !bytes.Equal(b, payload) {
					bad.Add(1)
				}
				id := r.Header.Get("X-Call")
				mu.Lock()
				hits[id]++
				n := hits[id]
				mu.Unlock()
				if n == 1 {
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				io.WriteString(w, "ok")
			}))
			defer srv.Close()
			base := cleanhttp.DefaultPooledTransport()
			defer base.CloseIdleConnections()
			tr := &backoff.Transport{
				Base:   base,
				Budget: backoff.DisabledBudget(),
				Wait:   strategy.Constant{Interval: time.Millisecond}, Jitter: jitter.None,
			}
			var rec traceRecorder
			rec.attach(tr)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var failed int
			for i := range calls {
				id := strconv.Itoa(i)
				var body io.ReadCloser = &closeCounter{Reader: bytes.NewReader(payload)} // no GetBody
				var pb *pipeBody
				if late {
					pb = newPipeBody(payload)
					body = pb
				}
				req, _ := http.NewRequestWithContext(ctx, "PUT", srv.URL, body)
				req.ContentLength = int64(len(payload))
				req.Header.Set("X-Call", id)
				resp, err := tr.RoundTrip(req)
				if pb != nil {
					pb.end()
				}
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				n := hits[id]
				mu.Unlock()
				if resp.StatusCode != 200 || n < 2 {
					failed++
				}
			}
			if failed > 0 {
				t.Errorf("%d of %d calls were not retried (events %s)", failed, calls, rec.String())
			}
			if bad.Load() > 0 {
				t.Errorf("the server received %d bodies that were not the payload", bad.Load())
			}
		})
	}
}

func TestBodyGetBodyFailsOnRetry(t *testing.T) {
	boom := &errBodyOpen{err: syscall.ECONNRESET} // transient by its type
	tests := []struct {
		name    string
		getBody func() (io.ReadCloser, error)
		want    string
		is      error
		closed  bool // GetBody returned a body along with its error
	}{
		{"nil body, nil error", func() (io.ReadCloser, error) { return nil, nil }, "nil body", nil, false},
		{"error", func() (io.ReadCloser, error) { return nil, boom }, "GetBody", boom, false},
		{"body and error", func() (io.ReadCloser, error) { return boom, boom }, "GetBody", boom, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				boom.closed.Store(false)
				base := &fakeBase{steps: []step{{status: 503}, {status: 200, body: "ok"}}}
				tr := newTransport(base)
				var rec traceRecorder
				rec.attach(tr)
				req, _ := http.NewRequest("PUT", "http://api.example.com/", strings.NewReader("payload"))
				var calls int
				req.GetBody = func() (io.ReadCloser, error) { calls++; return tt.getBody() }
				resp, err := tr.RoundTrip(req)
				if resp != nil {
					resp.Body.Close()
					t.Fatalf("RoundTrip = %d, %v; want an error (events %s)", resp.StatusCode, err, rec.String())
				}
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("RoundTrip error = %v; want one about %q", err, tt.want)
				}
				if tt.is != nil && !errors.Is(err, tt.is) {
					t.Errorf("RoundTrip error = %v; want it to wrap %v", err, tt.is)
				}
				if calls != 1 || len(base.sent) != 1 {
					t.Errorf("GetBody called %d times, %d attempts reached the base; want 1 and 1 (events %s)", calls, len(base.sent), rec.String())
				}
				if tt.closed && !boom.closed.Load() {
					t.Errorf("the body GetBody returned with its error was not closed")
				}
				base.checkBodies(t, nil)
			})
		})
	}
}

// errBodyOpen is an error that is also a body, to check that a body
// returned with an error is closed.
type errBodyOpen struct {
	err    error
	closed atomic.Bool
}

func (e *errBodyOpen) Error() string              { return "cannot reopen the body: " + e.err.Error() }
func (e *errBodyOpen) Unwrap() error              { return e.err }
func (e *errBodyOpen) Read(p []byte) (int, error) { return 0, io.EOF }
func (e *errBodyOpen) Close() error               { e.closed.Store(true); return nil }

func BenchmarkTransportBody(b *testing.B) {
	// A first-try success with a body that has no GetBody: the Transport
	// keeps it as it is sent.
	payload := bytes.Repeat([]byte("x"), 4096)
	base := rtFunc(func(r *http.Request) (*http.Response, error) {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
	})
	for _, length := range []int64{int64(len(payload)), 0} {
		b.Run("ContentLength="+strconv.FormatInt(length, 10), func(b *testing.B) {
			tr := &backoff.Transport{Base: base}
			body := &closeCounter{}
			req, _ := http.NewRequest("PUT", "http://api.example.com/", body)
			b.ReportAllocs()
			for b.Loop() {
				body.Reader = bytes.NewReader(payload)
				req.ContentLength = length
				resp, err := tr.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
			}
		})
	}
}

// TestBodyRefusedBeforeSent checks that a body the server refused before
// it was sent (a 503 to "Expect: 100-continue") is sent whole on the
// retry, and that the caller's body is closed once, at the end.
func TestBodyRefusedBeforeSent(t *testing.T) {
	payload := strings.Repeat("x", 4096)
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		first := len(got) == 0
		mu.Unlock()
		if first {
			mu.Lock()
			got = append(got, "")
			mu.Unlock()
			w.WriteHeader(http.StatusServiceUnavailable) // before reading: no 100 Continue
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, string(b))
		mu.Unlock()
	}))
	defer srv.Close()
	base := cleanhttp.DefaultPooledTransport()
	defer base.CloseIdleConnections()
	tr := &backoff.Transport{Base: base, Wait: strategy.Immediate}
	body := &closeCounter{Reader: strings.NewReader(payload)}
	req, _ := http.NewRequest(http.MethodPut, srv.URL, body)
	req.ContentLength = int64(len(payload))
	req.Header.Set("Expect", "100-continue")
	var o backoff.Outcome
	req = req.WithContext(backoff.WithOutcome(req.Context(), &o))
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if resp.StatusCode != 200 || len(got) != 2 || got[1] != payload {
		t.Fatalf("status %d, %d requests (outcome %+v); want a 200 on the second with the whole body", resp.StatusCode, len(got), o)
	}
	// net/http closes the first attempt's body from its own goroutine,
	// maybe after RoundTrip returned; the caller's body is closed then.
	for deadline := time.Now().Add(10 * time.Second); body.closed.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if n := body.closed.Load(); n != 1 {
		t.Errorf("the caller's body was closed %d times, want 1", n)
	}
}
