package backoff_test

// Fuzz tests of the engine's limits and of the Transport: random scripts
// of outcomes run in a testing/synctest bubble (virtual time), and the
// invariants that a caller, and a server under a retry storm, rely on are
// checked after every call.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

// fuzzInput reads a fuzz input as a stream of small choices; past its end
// every choice is 0.
type fuzzInput struct{ b []byte }

func (in *fuzzInput) byte() byte {
	if len(in.b) == 0 {
		return 0
	}
	c := in.b[0]
	in.b = in.b[1:]
	return c
}

// pick returns one of the choices.
func pick[T any](in *fuzzInput, choices ...T) T { return choices[int(in.byte())%len(choices)] }

func (in *fuzzInput) empty() bool { return len(in.b) == 0 }

// ---------------------------------------------------------------------------
// The Transport.

// Ways in which a scripted response breaks net/http's contracts (see
// fuzzOutcome.body).
const (
	bodyPlain    = iota // a well-behaved body
	bodyNil             // a nil Body, which http.Client tolerates
	bodyNegative        // a Read returns a negative count
	bodyOversize        // a Read returns a count larger than len(p)
)

// fuzzOutcome is one scripted attempt of the fuzzed base transport.
type fuzzOutcome struct {
	status     int    // a response, or 0 for an error
	err        string // reset, refused, eof, timeout, hang, fatal
	latency    time.Duration
	retryAfter string // "" for none; "date+N" for an HTTP date N seconds ahead
	bodySize   int

	// Contract breaches.
	body    int  // bodyPlain, bodyNil, bodyNegative or bodyOversize
	both    bool // a response and an error together
	badEOF  bool // the invalid count comes with io.EOF
	extreme bool // the invalid count is math.MinInt or math.MaxInt, not -1 or len(p)+1
	second  bool // the second Read returns the invalid count, not the first; with both and a status, the error is fatal
}

func (o fuzzOutcome) String() string {
	var s string
	if o.status != 0 {
		s = fmt.Sprintf("%d(ra=%q,body=%d,after %v)", o.status, o.retryAfter, o.bodySize, o.latency)
	} else {
		s = fmt.Sprintf("%s(after %v)", o.err, o.latency)
	}
	if o.both {
		s += "+both"
	}
	if o.body != bodyPlain {
		s += fmt.Sprintf("+body%d(eof=%v,extreme=%v,second=%v)", o.body, o.badEOF, o.extreme, o.second)
	}
	return s
}

// newBody returns the body of a response of the outcome, nil for a nil Body.
func (o fuzzOutcome) newBody() *fuzzBody {
	if o.body == bodyNil {
		return nil
	}
	b := &fuzzBody{data: make([]byte, o.bodySize)}
	if o.body != bodyPlain {
		b.badAt, b.badEOF = 1, o.badEOF
		if o.second {
			b.badAt = 2
		}
		b.bad = func(int) int { return -1 }
		switch {
		case o.body == bodyNegative && o.extreme:
			b.bad = func(int) int { return math.MinInt }
		case o.body == bodyOversize && o.extreme:
			b.bad = func(int) int { return math.MaxInt }
		case o.body == bodyOversize:
			b.bad = func(n int) int { return n + 1 }
		}
	}
	return b
}

// fuzzBody is a body that can break the io.Reader contract once: its Read
// number badAt returns the count bad(len(p)) without reading (with io.EOF
// if badEOF). It returns at most chunk bytes a Read, if chunk is positive.
// Close may be called while a Read runs (as the Transport's drain does).
type fuzzBody struct {
	data   []byte
	chunk  int
	badAt  int // 0: never
	bad    func(int) int
	badEOF bool

	reads  int // Reads made, by one goroutine at a time
	served int // bytes returned
	closed atomic.Bool
}

var errFuzzClosedBody = errors.New("fuzz: read on a closed body")

func (b *fuzzBody) Read(p []byte) (int, error) {
	b.reads++
	if b.reads == b.badAt {
		if b.badEOF {
			return b.bad(len(p)), io.EOF
		}
		return b.bad(len(p)), nil
	}
	if b.closed.Load() {
		return 0, errFuzzClosedBody
	}
	if len(b.data) == 0 {
		return 0, io.EOF
	}
	if b.chunk > 0 && len(p) > b.chunk {
		p = p[:b.chunk]
	}
	n := copy(p, b.data)
	b.data = b.data[n:]
	b.served += n
	return n, nil
}

func (b *fuzzBody) Close() error {
	b.closed.Store(true)
	return nil
}

// readChecked reads r to its end as a careful caller would: a count out of
// [0, len(p)] ends the reading with errFuzzCount. It returns the bytes read.
func readChecked(r io.Reader) ([]byte, error) {
	var got []byte
	p := make([]byte, 512)
	for {
		n, err := r.Read(p)
		if n < 0 || n > len(p) {
			return got, fmt.Errorf("%w %d for %d bytes", errFuzzCount, n, len(p))
		}
		got = append(got, p[:n]...)
		switch {
		case err == io.EOF:
			return got, nil
		case err != nil:
			return got, err
		}
	}
}

var errFuzzCount = errors.New("fuzz: Read returned an invalid count")

// fuzzRequestBody makes the bodies of a request, the caller's and those its
// GetBody returns, of a payload and breaking the contracts as told by the
// request byte over 6 (the mode, modulo 12). Every Read of the bodies is
// fine (mode%3 = 0), or one returns a negative count (1) or an oversized
// one (2). For a request with GetBody, mode/3 tells what GetBody does:
// return a new body (0), (nil, nil) (1), an error (2), or a body with an
// error (3); its bodies' second Read is the invalid one. For a request
// without GetBody, bit 0 of mode/3 makes the first Read the invalid one
// (else the second), and bit 1 adds io.EOF to it.
type fuzzRequestBody struct {
	payload string
	bad     int  // bodyPlain, bodyNegative or bodyOversize
	getBody int  // what GetBody does
	first   bool // the invalid count comes at the first Read
	eof     bool // with io.EOF

	mu     sync.Mutex
	bodies []*fuzzBody // every body handed out, the caller's first
	calls  int         // of GetBody
	failed int         // GetBody calls that returned no body
}

var errFuzzGetBody = errors.New("fuzz: GetBody failed")

func (r *fuzzRequestBody) newBody() *fuzzBody {
	b := &fuzzBody{data: []byte(r.payload), chunk: 5}
	if r.bad != bodyPlain {
		b.badAt, b.badEOF = 2, r.eof
		if r.first {
			b.badAt = 1
		}
		b.bad = func(int) int { return -1 }
		if r.bad == bodyOversize {
			b.bad = func(n int) int { return n + 1 }
		}
	}
	r.mu.Lock()
	r.bodies = append(r.bodies, b)
	r.mu.Unlock()
	return b
}

func (r *fuzzRequestBody) GetBody() (io.ReadCloser, error) {
	r.mu.Lock()
	r.calls++
	if r.getBody == 1 || r.getBody == 2 {
		r.failed++
	}
	r.mu.Unlock()
	switch r.getBody {
	case 1:
		return nil, nil
	case 2:
		return nil, errFuzzGetBody
	case 3:
		b := r.newBody()
		r.mu.Lock()
		r.failed++
		r.mu.Unlock()
		return b, errFuzzGetBody
	}
	return r.newBody(), nil
}

// fuzzAttempt records one attempt the base received.
type fuzzAttempt struct {
	outcome    fuzzOutcome
	start, end time.Time
	body       string        // the request body it was sent
	bodyErr    error         // the error reading it, if any
	notBefore  time.Time     // end + retryAfter
	retryAfter time.Duration // the wait a 429 or 503 asks for
	honoured   bool          // it has one, and the Transport must see it
	handed     bool          // it returned a response
	tracked    *fuzzBody     // that response's body, unless nil
	idemHeader bool
	err        error // what the base returned, if an error
}

// neverSent reports whether the attempt failed in a way that proves the
// request was not sent: the connection was refused (not an attempt that
// timed out, or was cancelled, before it could be refused).
func (a *fuzzAttempt) neverSent() bool { return errors.Is(a.err, syscall.ECONNREFUSED) }

// fuzzBase plays a script of outcomes, the last one repeated.
type fuzzBase struct {
	script         []fuzzOutcome
	attemptTimeout time.Duration // the Transport's

	mu       sync.Mutex
	attempts []*fuzzAttempt
}

var errFuzzFatal = errors.New("fuzz: unsupported protocol scheme") // not retryable

func (b *fuzzBase) RoundTrip(req *http.Request) (*http.Response, error) {
	b.mu.Lock()
	o := fuzzOutcome{status: 200}
	if len(b.script) > 0 {
		o = b.script[min(len(b.attempts), len(b.script)-1)]
	}
	a := &fuzzAttempt{outcome: o, start: time.Now()}
	_, a.idemHeader = req.Header["Idempotency-Key"]
	b.attempts = append(b.attempts, a)
	b.mu.Unlock()

	defer func() { a.end = time.Now() }()
	if req.Body != nil {
		body, err := readChecked(req.Body)
		req.Body.Close()
		a.body, a.bodyErr = string(body), err
		if err != nil {
			// As net/http does, the attempt fails on a body it cannot
			// send: a write error on the connection.
			a.err = &net.OpError{Op: "write", Net: "tcp", Err: err}
			return nil, a.err
		}
	}
	resp, err := b.play(req, a, o)
	if o.both {
		// A response and an error together: the Transport must close the
		// response and see the error only, Retry-After included.
		a.retryAfter, a.honoured, a.notBefore = 0, false, time.Time{}
		switch {
		case err == nil && o.second:
			err = errFuzzFatal
		case err == nil:
			err = &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
		case resp == nil:
			resp = b.respond(req, a, o, 503, http.Header{"Retry-After": {"1"}})
		}
	}
	a.err, a.handed = err, resp != nil
	return resp, err
}

// respond returns a response of the outcome's body, tracked in a.
func (b *fuzzBase) respond(req *http.Request, a *fuzzAttempt, o fuzzOutcome, status int, h http.Header) *http.Response {
	resp := &http.Response{
		StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Header: h, ContentLength: int64(o.bodySize), Request: req,
	}
	if a.tracked = o.newBody(); a.tracked != nil {
		resp.Body = a.tracked
	} else {
		resp.ContentLength = 0
	}
	return resp
}

func (b *fuzzBase) play(req *http.Request, a *fuzzAttempt, o fuzzOutcome) (*http.Response, error) {
	ctx := req.Context()
	wait := func(d time.Duration) error {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if o.err == "hang" {
		// Until the attempt's context ends, or a long TCP timeout.
		if err := wait(30 * time.Second); err != nil {
			return nil, err
		}
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}
	}
	if err := wait(o.latency); err != nil {
		return nil, err
	}
	switch o.err {
	case "reset":
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	case "refused":
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	case "eof":
		return nil, io.EOF
	case "timeout":
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}
	case "fatal":
		return nil, errFuzzFatal
	}
	h := http.Header{}
	if ra := o.retryAfter; ra != "" {
		if n, ok := strings.CutPrefix(ra, "date+"); ok {
			secs, _ := strconv.Atoi(n)
			ra = time.Now().Add(time.Duration(secs) * time.Second).UTC().Format(http.TimeFormat)
		}
		h.Set("Retry-After", ra)
		// A response that comes back at the very instant the attempt times
		// out is dropped as a timeout (its context is cancelled, so its
		// body could not be read): its Retry-After is never seen.
		timedOut := b.attemptTimeout > 0 && o.latency >= b.attemptTimeout
		if d, ok := backoff.ParseRetryAfter(ra, time.Now()); ok && (o.status == 429 || o.status == 503) {
			a.retryAfter = d
			a.honoured = !timedOut
			a.notBefore = time.Now().Add(d)
		}
	}
	return b.respond(req, a, o, o.status, h), nil
}

func FuzzTransport(f *testing.F) {
	// config: tries, max time, attempt timeout, request, max Retry-After,
	// wait, jitter, deadline, budget; then 3 bytes per outcome: kind,
	// latency, extra (Retry-After and body size).
	//
	// Contract breaches are in the values that inputs without them leave
	// alone: the request byte's value over 5 (see fuzzRequestBody), an
	// outcome kind over 11 (k/12%8: body kind (bodyPlain…) in its low two
	// bits, a response with an error in bit 2), and bits 5 to 7 of an
	// outcome's extra (badEOF, extreme, second).
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 3, 0, 0, 0})
	f.Add([]byte{5, 2, 2, 1, 0, 1, 1, 0, 0, 7, 0, 0, 6, 5, 0, 0, 0, 0})
	f.Add([]byte{5, 3, 2, 2, 1, 2, 2, 3, 0, 2, 10, 4, 2, 10, 6, 10, 30, 0})
	f.Add([]byte{3, 1, 0, 4, 2, 0, 0, 0, 1, 5, 0, 2, 3, 0, 25})
	f.Add([]byte{4, 0, 1, 5, 0, 3, 3, 5, 2, 10, 0, 0, 9, 40, 0, 11, 0, 0})
	f.Add([]byte{6, 6, 3, 3, 3, 4, 0, 6, 0, 5, 200, 7, 5, 200, 14, 0, 0, 0})
	// Responses with a nil Body: returned, with an attempt timeout; retried.
	f.Add([]byte{1, 0, 2, 0, 0, 0, 0, 0, 0, 12, 0, 8})
	f.Add([]byte{3, 0, 0, 3, 0, 0, 0, 0, 0, 17, 0, 2, 12, 0, 0})
	// A response and an error together: with a reset, a fatal error, a
	// nil Body; an error with a 503 that asks for a Retry-After.
	f.Add([]byte{4, 0, 0, 0, 0, 0, 0, 0, 0, 53, 0, 10, 54, 0, 0, 0, 0, 0})
	f.Add([]byte{3, 0, 2, 2, 0, 0, 0, 0, 0, 63, 0, 0, 53, 0, 128})
	f.Add([]byte{3, 0, 0, 1, 0, 2, 0, 0, 0, 55, 0, 0, 0, 0, 8})
	// Response bodies whose Read returns an invalid count: drained (with
	// io.EOF, extreme, on the second Read), and returned.
	f.Add([]byte{4, 0, 0, 0, 0, 0, 0, 0, 0, 27, 0, 8, 39, 0, 8 + 64, 27, 0, 24 + 32, 36, 0, 16 + 128})
	f.Add([]byte{2, 0, 2, 0, 0, 2, 0, 0, 0, 29, 0, 16 + 64, 26, 0, 8 + 32 + 128})
	// Request bodies whose Read returns an invalid count: without GetBody
	// (PUT negative; POST oversized on the first Read; PUT oversized with
	// io.EOF), and with one whose bodies all do.
	f.Add([]byte{3, 0, 0, 9, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0})
	f.Add([]byte{3, 0, 0, 4 + 6*5, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0})
	f.Add([]byte{3, 0, 0, 3 + 6*8, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{3, 0, 0, 2 + 6*1, 0, 0, 0, 0, 0, 0, 0, 0})
	// GetBody returning (nil, nil), an error, a body and an error, after a
	// 503; after a refused connection, for a POST without a key.
	f.Add([]byte{3, 0, 0, 2 + 6*3, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0})
	f.Add([]byte{3, 0, 0, 2 + 6*6, 0, 0, 0, 0, 0, 5, 0, 2, 0, 0, 0})
	f.Add([]byte{3, 0, 0, 2 + 6*9, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0})
	f.Add([]byte{3, 0, 0, 1 + 6*6, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0})
	// GetBody giving bodies with an invalid count, after an oversized one.
	f.Add([]byte{3, 0, 0, 2 + 6*2, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		synctest.Test(t, func(t *testing.T) { fuzzTransportOnce(t, data) })
	})
}

func fuzzTransportOnce(t *testing.T, data []byte) {
	in := &fuzzInput{b: data}
	maxAttempts := 1 + int(in.byte())%6
	maxTime := pick(in, 0, 0, time.Second, 2*time.Second, 3*time.Second, 5*time.Second, 10*time.Second)
	attemptTimeout := pick(in, 0, 0, 500*time.Millisecond, time.Second, 3*time.Second)
	kindByte := in.byte()
	kind := int(kindByte) % 6
	maxRetryAfter := pick(in, 0, -1, 2*time.Second, 30*time.Second)
	wait := pick[strategy.Strategy](in, strategy.Constant{Interval: time.Second}, backoff.DefaultTransportWait,
		strategy.Immediate, strategy.Sequence{time.Second, 2 * time.Second}, strategy.Decorrelated{Base: 100 * time.Millisecond, Max: 5 * time.Second})
	jit := pick(in, jitter.None, jitter.Full, jitter.Equal, jitter.Upward(0.5))
	deadline := pick(in, 0, 0, time.Second, 4*time.Second, 20*time.Second)
	// Off, the Transport's own, or one that allows a single retry.
	disabled := backoff.DisabledBudget()
	budget := pick(in, disabled, nil, &backoff.Budget{})
	if budget != nil && budget != disabled {
		budget = &backoff.Budget{Ratio: -1, MinPerSecond: -1, MaxTokens: 1} // a fresh one
	}
	var script []fuzzOutcome
	for !in.empty() && len(script) < 12 {
		k, lat, extra := in.byte(), in.byte(), in.byte()
		o := fuzzOutcome{latency: time.Duration(lat) * 25 * time.Millisecond}
		breach := k / 12 % 8
		o.body, o.both = int(breach%4), breach >= 4
		o.badEOF, o.extreme, o.second = extra&0x20 != 0, extra&0x40 != 0, extra&0x80 != 0
		switch k % 12 {
		case 0, 1, 2, 3, 4, 5:
			o.status = []int{200, 404, 429, 500, 501, 503}[k%12]
		default:
			o.err = []string{"reset", "refused", "eof", "timeout", "hang", "fatal"}[k%12-6]
			if breach != 0 {
				o.both = true // an error outcome breaks the contract with a response
			}
		}
		o.retryAfter = []string{"", "0", "1", "3", "120", "soon", "date+2", "-1"}[extra%8]
		o.bodySize = []int{0, 10, 1000, 70_000}[(extra>>3)%4]
		script = append(script, o)
	}

	base := &fuzzBase{script: script, attemptTimeout: attemptTimeout}
	tr := &backoff.Transport{
		Base:           base,
		Wait:           wait,
		Jitter:         jit,
		MaxAttempts:    maxAttempts,
		MaxTime:        maxTime,
		AttemptTimeout: attemptTimeout,
		MaxRetryAfter:  maxRetryAfter,
		Budget:         budget,
	}
	var successes, giveUps, backoffs int
	var reason backoff.Reason
	var backoffDetails []backoff.Event
	var giveUp backoff.Event
	tr.Trace = &backoff.Trace{
		OnSuccess: func(backoff.Event) { successes++ },
		OnGiveUp:  func(e backoff.Event) { giveUps++; reason = e.Reason; giveUp = e },
		OnBackoff: func(e backoff.Event) {
			backoffs++
			backoffDetails = append(backoffDetails, e)
		},
	}

	const payload = "fuzz payload"
	ctx := context.Background()
	if deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, deadline)
		defer cancel()
	}
	mode := int(kindByte) / 6 % 12
	rb := &fuzzRequestBody{payload: payload, bad: []int{bodyPlain, bodyNegative, bodyOversize}[mode%3]}
	if kind == 1 || kind == 2 {
		rb.getBody = mode / 3
	} else {
		rb.first, rb.eof = mode/3&1 != 0, mode/3&2 != 0
	}
	var req *http.Request
	idempotent := true
	switch kind {
	case 0: // GET
		req, _ = http.NewRequestWithContext(ctx, "GET", "http://api.example.com/x", nil)
	case 1: // POST without Idempotency-Key
		req, _ = http.NewRequestWithContext(ctx, "POST", "http://api.example.com/x", strings.NewReader(payload))
		req.Body, req.GetBody = rb.newBody(), rb.GetBody
		idempotent = false
	case 2: // POST with Idempotency-Key
		req, _ = http.NewRequestWithContext(ctx, "POST", "http://api.example.com/x", strings.NewReader(payload))
		req.Body, req.GetBody = rb.newBody(), rb.GetBody
		req.Header.Set("Idempotency-Key", "k-1")
	case 3: // PUT, a body without GetBody (buffered by the Transport)
		req, _ = http.NewRequestWithContext(ctx, "PUT", "http://api.example.com/x", rb.newBody())
	case 4: // POST without key, body without GetBody
		req, _ = http.NewRequestWithContext(ctx, "POST", "http://api.example.com/x", rb.newBody())
		idempotent = false
	case 5: // GET declared not idempotent by its context
		req, _ = http.NewRequestWithContext(backoff.WithIdempotent(ctx, false), "GET", "http://api.example.com/x", nil)
		idempotent = false
	}

	start := time.Now()
	resp, err := tr.RoundTrip(req)
	total := time.Since(start)
	atts := base.attempts
	n := len(atts)
	describe := func() string {
		var b strings.Builder
		fmt.Fprintf(&b, "tries=%d maxTime=%v attemptTimeout=%v kind=%d maxRetryAfter=%v wait=%#v deadline=%v\n",
			maxAttempts, maxTime, attemptTimeout, kind, maxRetryAfter, wait, deadline)
		if req.Body != nil {
			fmt.Fprintf(&b, "  request body: bad=%d getBody=%d first=%v eof=%v; GetBody calls %d, failed %d\n",
				rb.bad, rb.getBody, rb.first, rb.eof, rb.calls, rb.failed)
		}
		for i, a := range atts {
			fmt.Fprintf(&b, "  attempt %d: %v at %v..%v", i+1, a.outcome, a.start.Sub(start), a.end.Sub(start))
			if a.bodyErr != nil {
				fmt.Fprintf(&b, " (request body: %v)", a.bodyErr)
			}
			fmt.Fprintf(&b, " -> response %v, error %v\n", a.handed, a.err)
		}
		fmt.Fprintf(&b, "  result: %v, %v after %v", resp != nil, err, total)
		return b.String()
	}

	// Attempts never above the limit.
	if n < 1 || n > maxAttempts {
		t.Fatalf("%d attempts, MaxAttempts %d\n%s", n, maxAttempts, describe())
	}
	// Never a response and an error together, and always one of them.
	if (resp == nil) == (err == nil) {
		t.Fatalf("response %v and error %v\n%s", resp != nil, err, describe())
	}
	// Every discarded body closed (a response that came with an error
	// included); the returned one open, and the last.
	for i, a := range atts {
		if a.tracked == nil {
			continue
		}
		returned := resp != nil && i == n-1
		if a.tracked.closed.Load() == returned {
			t.Errorf("attempt %d: body closed = %v, returned = %v\n%s", i+1, a.tracked.closed.Load(), returned, describe())
		}
	}
	if resp != nil {
		last := atts[n-1]
		if !last.handed || last.err != nil || resp.StatusCode != last.outcome.status {
			t.Fatalf("returned %d, not the last attempt's response\n%s", resp.StatusCode, describe())
		}
		if resp.Body == nil {
			t.Fatalf("returned a response with a nil Body\n%s", describe())
		}
		// The body as the base made it, invalid counts included.
		b, rerr := readChecked(resp.Body)
		want, wantBad := 0, false
		if tb := last.tracked; tb != nil {
			want = tb.served
			wantBad = tb.badAt > 0 && tb.reads >= tb.badAt
			if !wantBad && want != last.outcome.bodySize {
				t.Errorf("returned body: %d bytes of %d\n%s", want, last.outcome.bodySize, describe())
			}
		}
		if len(b) != want || (rerr != nil) != wantBad || wantBad && !errors.Is(rerr, errFuzzCount) {
			t.Errorf("returned body: %d bytes, %v; want %d, invalid count %v\n%s", len(b), rerr, want, wantBad, describe())
		}
		resp.Body.Close()
		if last.tracked != nil && !last.tracked.closed.Load() {
			t.Errorf("closing the returned body did not reach the base's body")
		}
	}
	// Every request body handed out is closed: the caller's, and those
	// GetBody returned (one with an error included).
	for i, b := range rb.bodies {
		if !b.closed.Load() {
			t.Errorf("request body %d (of %d) not closed\n%s", i+1, len(rb.bodies), describe())
		}
	}
	if req.Body != nil {
		// A body that cannot be read, or a GetBody that fails, ends the
		// call with an error; GetBody is called once for every attempt
		// after the first, and a failure ends the call.
		if (rb.bad != bodyPlain || rb.failed > 0) && err == nil {
			t.Errorf("request body bad=%d, GetBody failed %d times, but no error\n%s", rb.bad, rb.failed, describe())
		}
		if rb.failed > 0 && rb.getBody >= 2 && !errors.Is(err, errFuzzGetBody) {
			t.Errorf("GetBody failed, but the call returned %v\n%s", err, describe())
		}
		if req.GetBody != nil && (rb.calls != n-1+rb.failed || rb.failed > 1) {
			t.Errorf("GetBody called %d times (%d failed) for %d attempts\n%s", rb.calls, rb.failed, n, describe())
		}
		// The Transport's copy of a body without GetBody never hands the
		// base an invalid count: it fails the Read instead.
		for i, a := range atts {
			if req.GetBody == nil && errors.Is(a.bodyErr, errFuzzCount) {
				t.Errorf("attempt %d: the base read an invalid count: %v\n%s", i+1, a.bodyErr, describe())
			}
		}
	}
	// Total time at most MaxTime plus one attempt; no retry starts after
	// MaxTime.
	if maxTime > 0 {
		last := atts[n-1].end.Sub(atts[n-1].start)
		if total > maxTime+last {
			t.Errorf("call took %v, over MaxTime %v + the last attempt's %v\n%s", total, maxTime, last, describe())
		}
		for i, a := range atts[1:] {
			if a.start.Sub(start) > maxTime {
				t.Errorf("attempt %d started at %v, after MaxTime\n%s", i+2, a.start.Sub(start), describe())
			}
		}
	}
	// No attempt starts at or after the caller's deadline.
	if dl, ok := ctx.Deadline(); ok {
		for i, a := range atts[1:] {
			if !a.start.Before(dl) {
				t.Errorf("attempt %d started at %v, at or after the deadline\n%s", i+2, a.start.Sub(start), describe())
			}
		}
	}
	for i := 1; i < n; i++ {
		prev, a := atts[i-1], atts[i]
		// Never a retry earlier than an honoured Retry-After.
		if prev.honoured && maxRetryAfter >= 0 && a.start.Before(prev.notBefore) {
			t.Errorf("attempt %d at %v, before the Retry-After of attempt %d (%v)\n%s",
				i+1, a.start.Sub(start), i, prev.notBefore.Sub(start), describe())
		}
		// A request that is not idempotent is retried only after a
		// failure that proves it was never sent.
		if !idempotent && !prev.neverSent() {
			t.Errorf("non-idempotent request retried after %v\n%s", prev.outcome, describe())
		}
		// Every attempt sends the whole body, when it can be read.
		if req.Body != nil && rb.bad == bodyPlain && a.body != payload {
			t.Errorf("attempt %d sent %q\n%s", i+1, a.body, describe())
		}
	}
	// Exactly one of success or give-up per call, unless an error was
	// returned as it is (not retryable); one backoff per retry.
	var e *backoff.Error
	wantFinal := 0
	if resp != nil || errors.As(err, &e) {
		wantFinal = 1
	}
	// An attempt whose GetBody failed did not reach the base, but it was
	// waited for.
	wantBackoffs := n - 1 + rb.failed
	if successes+giveUps != wantFinal || backoffs != wantBackoffs && !(backoffs == n && e != nil && (e.Reason == backoff.ErrCanceled || e.Reason == backoff.ErrDeadline)) {
		t.Errorf("%d successes, %d give-ups, %d backoffs for %d attempts and error %v\n%s", successes, giveUps, backoffs, n, err, describe())
	}
	for _, d := range backoffDetails {
		// The Retry-After the Transport read is the one sent, and the next
		// attempt comes no earlier.
		a := atts[d.Attempt-1]
		next := d.Attempt < n
		if d.RetryAfter != 0 && (d.RetryAfter != a.retryAfter || !next && !(rb.failed > 0 && d.Attempt == n) || next && atts[d.Attempt].start.Before(a.end.Add(d.RetryAfter))) {
			t.Errorf("backoff after attempt %d: Retry-After %v, sent %v\n%s", d.Attempt, d.RetryAfter, a.retryAfter, describe())
		}
		if d.Wait < 0 || maxTime > 0 && d.Wait > maxTime-d.Elapsed {
			t.Errorf("backoff wait %v after %v\n%s", d.Wait, d.Elapsed, describe())
		}
		if d.RetryAfter > 0 && d.Wait < d.RetryAfter {
			t.Errorf("backoff wait %v shorter than the Retry-After %v\n%s", d.Wait, d.RetryAfter, describe())
		}
	}
	// A Retry-After over the cap ends the call at once, unless ignored.
	limit := maxRetryAfter
	if limit == 0 {
		limit = backoff.DefaultMaxRetryAfter
	}
	// Every give-up has its cause: no retry is refused without one.
	lastAtt := atts[n-1]
	var justified bool
	switch reason {
	case "":
		justified = true
	case backoff.ErrMaxAttempts:
		justified = n == maxAttempts
	case backoff.ErrMaxTime:
		justified = maxTime > 0 && lastAtt.end.Sub(start) >= maxTime
	case backoff.ErrDeadline:
		justified = deadline > 0
	case backoff.ErrExhausted:
		_, seq := wait.(strategy.Sequence)
		justified = seq && n == 3
	case backoff.ErrNotReplayable:
		// Not idempotent, or a body without GetBody that could not be
		// read whole.
		justified = !lastAtt.neverSent() && (!idempotent || req.GetBody == nil && rb.bad != bodyPlain)
	case backoff.ErrRetryAfter:
		// The Retry-After the Transport read, as the event tells it: a
		// response that came back at the very instant of an attempt
		// timeout and of the caller's deadline is kept, and read.
		ra := giveUp.RetryAfter
		justified = ra > 0 && ra == lastAtt.retryAfter && maxRetryAfter >= 0 && (ra > limit || maxTime > 0 || deadline > 0)
	case backoff.ErrBudget:
		justified = budget != nil && budget != disabled
	}
	if !justified {
		t.Errorf("gave up for %s without cause\n%s", reason, describe())
	}
	for i, a := range atts[:n-1] {
		if a.honoured && maxRetryAfter >= 0 && a.retryAfter > limit {
			t.Errorf("attempt %d retried despite a Retry-After of %v over the cap %v\n%s", i+1, a.retryAfter, limit, describe())
		}
	}
}

// ---------------------------------------------------------------------------
// The engine.

var (
	errRetryable = errors.New("fuzz: retryable")
	errFatal     = errors.New("fuzz: fatal")   // RetryOn refuses it
	errGiveUpNow = errors.New("fuzz: give up") // GiveUp accepts it
)

// fuzzDuration returns a duration for a strategy field, good or bad.
func fuzzDuration(in *fuzzInput) time.Duration {
	return pick(in, 0, time.Millisecond, 100*time.Millisecond, time.Second, 3*time.Second, time.Minute,
		-time.Second, math.MaxInt64, math.MinInt64)
}

// fuzzFactor returns a float64 for a strategy field, good or bad.
func fuzzFactor(in *fuzzInput) float64 {
	return pick(in, 0, 0.5, 1, 2, 3, 1e300, -1, math.NaN(), math.Inf(1), math.Inf(-1))
}

// fuzzStrategy builds a strategy from the input, with any configuration,
// bad ones included: the engine must stay within its limits whatever the
// strategy's fields.
func fuzzStrategy(in *fuzzInput, depth int) strategy.Strategy {
	switch in.byte() % 11 {
	case 0:
		return nil // the default
	case 1:
		return strategy.Expo{Base: fuzzFactor(in), Factor: fuzzDuration(in), Max: fuzzDuration(in)}
	case 2:
		return strategy.Fibo{Unit: fuzzDuration(in), Max: fuzzDuration(in)}
	case 3:
		return strategy.Constant{Interval: fuzzDuration(in)}
	case 4:
		q := make(strategy.Sequence, in.byte()%5)
		for i := range q {
			q[i] = fuzzDuration(in)
		}
		return q
	case 5:
		return strategy.Decay{Initial: fuzzDuration(in), Factor: fuzzFactor(in), Min: fuzzDuration(in)}
	case 6:
		return strategy.Linear{Initial: fuzzDuration(in), Step: fuzzDuration(in), Max: fuzzDuration(in)}
	case 7:
		return strategy.Decorrelated{Base: fuzzDuration(in), Max: fuzzDuration(in)}
	case 8:
		if depth > 2 {
			return strategy.Immediate
		}
		return strategy.Capped{Strategy: fuzzStrategy(in, depth+1), Max: fuzzDuration(in)}
	case 9:
		if depth > 2 {
			return strategy.Immediate
		}
		floor := fuzzDuration(in)
		in.byte() // once the choice of a floor: keeps the seed corpus's meaning
		return strategy.Runtime{
			Value:    func(any, error) (time.Duration, bool) { return floor, floor != 0 },
			Fallback: fuzzStrategy(in, depth+1),
		}
	}
	return strategy.Immediate
}

func FuzzPolicyLimits(f *testing.F) {
	// config: tries, max time, jitter, context, GiveUp, value mode, NoErrorOnGiveUp,
	// strategy…; then 2 bytes per attempt: outcome, duration.
	f.Add([]byte{3, 0, 0, 0, 0, 0, 0, 3, 3, 1, 10, 1, 10, 0, 0})
	f.Add([]byte{0, 2, 1, 1, 0, 0, 0, 1, 3, 3, 0, 1, 20, 1, 20, 1, 20, 1, 20, 0, 0})
	f.Add([]byte{1, 3, 2, 2, 1, 0, 0, 4, 3, 3, 4, 3, 1, 1, 1, 1, 1, 1, 1, 1})
	f.Add([]byte{7, 4, 3, 3, 0, 1, 1, 7, 3, 1, 3, 0, 3, 3, 1, 1, 1, 1, 1, 1})
	f.Add([]byte{7, 1, 4, 4, 1, 0, 0, 9, 3, 1, 3, 1, 2, 40, 1, 1, 5, 1, 4, 1})
	f.Add([]byte{2, 5, 0, 5, 0, 0, 1, 8, 1, 7, 2, 3, 3, 1, 200, 1, 200, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		synctest.Test(t, func(t *testing.T) { fuzzPolicyOnce(t, data) })
	})
}

// fuzzCall is one attempt of the fuzzed operation.
type fuzzCall struct {
	outcome    byte
	start, end time.Time
}

func fuzzPolicyOnce(t *testing.T, data []byte) {
	in := &fuzzInput{b: data}
	maxAttempts := pick(in, 0, 1, 2, 3, 5, 8, backoff.Unlimited, math.MinInt, math.MaxInt)
	maxTime := pick(in, 0, 0, time.Second, 5*time.Second, time.Minute, -time.Second, math.MaxInt64, math.MinInt64)
	jit := pick(in, nil, jitter.None, jitter.Full, jitter.Equal, jitter.Random, jitter.Upward(0.5), jitter.Upward(1e300))
	ctxMode := in.byte() % 6 // none, deadline, cancel, both, deadline passed, cancelled
	ctxAt := time.Duration(in.byte()) * 100 * time.Millisecond
	withGiveUp := in.byte()%2 == 1
	valueMode := in.byte()%2 == 1
	noError := in.byte()%4 == 3
	wait := fuzzStrategy(in, 0)
	type step struct {
		outcome  byte // 0 success, 1 retryable error, 2 fatal error, 3 give-up error, 4 retried value
		duration time.Duration
		ignores  bool // ignores the context
	}
	var script []step
	for !in.empty() && len(script) < 30 {
		o, d := in.byte(), in.byte()
		script = append(script, step{outcome: o % 5, duration: time.Duration(d%128) * 50 * time.Millisecond, ignores: o&0x80 != 0})
	}

	p := &backoff.Policy[int]{
		Wait:            wait,
		Jitter:          jit,
		MaxAttempts:     maxAttempts,
		MaxTime:         maxTime,
		NoErrorOnGiveUp: noError,
		RetryOn:         func(err error) bool { return !errors.Is(err, errFatal) },
	}
	if withGiveUp {
		p.GiveUp = func(err error) bool { return errors.Is(err, errGiveUpNow) }
	}
	if valueMode {
		p.RetryIf = func(v int) bool { return v == 0 }
	}
	var successes, giveUps int
	var giveUp backoff.Details[int]
	type backoffEvent struct {
		at time.Time
		d  backoff.Details[int]
	}
	var backoffs []backoffEvent
	p.OnSuccess = append(p.OnSuccess, func(backoff.Details[int]) { successes++ })
	p.OnGiveUp = append(p.OnGiveUp, func(d backoff.Details[int]) { giveUps++; giveUp = d })
	p.OnBackoff = append(p.OnBackoff, func(d backoff.Details[int]) { backoffs = append(backoffs, backoffEvent{time.Now(), d}) })

	ctx := context.Background()
	var cancel context.CancelFunc
	switch ctxMode {
	case 1:
		ctx, cancel = context.WithTimeout(ctx, ctxAt)
	case 2:
		ctx, cancel = context.WithCancel(ctx)
		stop := time.AfterFunc(ctxAt, cancel)
		defer stop.Stop()
	case 3:
		ctx, cancel = context.WithTimeout(ctx, ctxAt+time.Second)
		stop := time.AfterFunc(ctxAt, cancel)
		defer stop.Stop()
	case 4:
		ctx, cancel = context.WithTimeout(ctx, -time.Second)
	case 5:
		ctx, cancel = context.WithCancel(ctx)
		cancel()
	}
	if cancel != nil {
		defer cancel()
	}

	var calls []fuzzCall
	op := func(ctx context.Context) (int, error) {
		s := step{outcome: 0}
		if len(calls) < len(script) {
			s = script[len(calls)]
		}
		calls = append(calls, fuzzCall{outcome: s.outcome, start: time.Now()})
		defer func() { calls[len(calls)-1].end = time.Now() }()
		if s.duration > 0 {
			timer := time.NewTimer(s.duration)
			defer timer.Stop()
			if s.ignores {
				<-timer.C
			} else {
				select {
				case <-timer.C:
				case <-ctx.Done():
					return 0, ctx.Err()
				}
			}
		}
		switch s.outcome {
		case 1:
			return 0, errRetryable
		case 2:
			return 0, errFatal
		case 3:
			return 0, errGiveUpNow
		case 4:
			if valueMode {
				return 0, nil // retried by RetryIf
			}
			return 0, errRetryable
		}
		return 1, nil
	}

	start := time.Now()
	v, err := p.Do(ctx, op)
	total := time.Since(start)
	n := len(calls)
	describe := func() string {
		var b strings.Builder
		fmt.Fprintf(&b, "tries=%d maxTime=%v ctx=%d@%v giveUp=%v value=%v noError=%v wait=%#v\n",
			maxAttempts, maxTime, ctxMode, ctxAt, withGiveUp, valueMode, noError, wait)
		for i, c := range calls {
			fmt.Fprintf(&b, "  attempt %d: outcome %d at %v..%v\n", i+1, c.outcome, c.start.Sub(start), c.end.Sub(start))
		}
		for _, e := range backoffs {
			fmt.Fprintf(&b, "  backoff after %d at %v: wait %v\n", e.d.Attempts, e.at.Sub(start), e.d.Wait)
		}
		fmt.Fprintf(&b, "  result: %d, %v after %v (%d successes, %d give-ups)", v, err, total, successes, giveUps)
		return b.String()
	}

	// Attempts within MaxAttempts (0 means the default, negative unlimited).
	limit := maxAttempts
	if limit == 0 {
		limit = backoff.DefaultMaxAttempts
	}
	if n < 1 || limit > 0 && n > limit {
		t.Fatalf("%d attempts, MaxAttempts %d\n%s", n, maxAttempts, describe())
	}
	if maxTime < 0 && n > 1 {
		t.Errorf("negative MaxTime, %d attempts; want the first failure to give up\n%s", n, describe())
	}
	if q, ok := wait.(strategy.Sequence); ok && n > len(q)+1 {
		t.Errorf("%d attempts with a Sequence of %d waits\n%s", n, len(q), describe())
	}
	// Total time within MaxTime plus one attempt; no retry after MaxTime.
	if maxTime > 0 {
		last := calls[n-1].end.Sub(calls[n-1].start)
		if maxTime <= math.MaxInt64-last && total > maxTime+last {
			t.Errorf("call took %v, over MaxTime %v + the last attempt's %v\n%s", total, maxTime, last, describe())
		}
		for i, c := range calls[1:] {
			if c.start.Sub(start) > maxTime {
				t.Errorf("attempt %d started at %v, after MaxTime\n%s", i+2, c.start.Sub(start), describe())
			}
		}
	}
	// No wait that ends after the deadline; waits never negative.
	dl, hasDeadline := ctx.Deadline()
	for _, e := range backoffs {
		if e.d.Wait < 0 {
			t.Errorf("negative wait %v\n%s", e.d.Wait, describe())
		}
		if hasDeadline && !e.at.Add(e.d.Wait).Before(dl) {
			t.Errorf("a wait of %v at %v ends at or after the deadline %v\n%s", e.d.Wait, e.at.Sub(start), dl.Sub(start), describe())
		}
		if maxTime > 0 && e.d.Wait > maxTime-e.d.Elapsed {
			t.Errorf("a wait of %v after %v ends after MaxTime\n%s", e.d.Wait, e.d.Elapsed, describe())
		}
	}
	// Exactly one of success or give-up, unless a non-retryable error was
	// returned as it is.
	last := calls[n-1]
	fatal := err != nil && !errors.As(err, new(*backoff.Error)) && giveUps == 0
	switch {
	case fatal:
		if successes+giveUps != 0 || !(errors.Is(err, errFatal) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			t.Errorf("non-retryable error %v with %d events\n%s", err, successes+giveUps, describe())
		}
	case successes+giveUps != 1:
		t.Errorf("%d successes and %d give-ups in one call\n%s", successes, giveUps, describe())
	case successes == 1:
		if v != 1 || err != nil || last.outcome != 0 {
			t.Errorf("success event, but Do = %d, %v\n%s", v, err, describe())
		}
	default: // gave up
		var e *backoff.Error
		switch {
		case noError && giveUp.Reason != backoff.ErrCanceled && giveUp.Reason != backoff.ErrDeadline && giveUp.Reason != backoff.ErrExhausted:
			// NoErrorOnGiveUp hides the error, but for the context's
			// reasons and a strategy that ran out (Python raises then).
			if err != nil {
				t.Errorf("NoErrorOnGiveUp, but Do returned %v\n%s", err, describe())
			}
		case !errors.As(err, &e) || e.Reason != giveUp.Reason || e.Attempts != n || !errors.Is(err, giveUp.Reason):
			t.Errorf("give-up event %s after %d tries, but Do returned %v\n%s", giveUp.Reason, n, err, describe())
		}
	}
	// Every give-up has its cause.
	if giveUps == 1 {
		var justified bool
		switch giveUp.Reason {
		case backoff.ErrMaxAttempts:
			justified = limit > 0 && n == limit
		case backoff.ErrMaxTime:
			justified = maxTime < 0 || maxTime > 0 && last.end.Sub(start) >= maxTime
		case backoff.ErrDeadline:
			justified = hasDeadline
		case backoff.ErrCanceled:
			justified = ctxMode == 2 || ctxMode == 3 || ctxMode == 5
		case backoff.ErrGiveUp:
			justified = withGiveUp && last.outcome == 3
		case backoff.ErrRetryAfter:
			// The engine knows no server-given wait: it never gives up
			// for one.
			justified = false
		case backoff.ErrExhausted:
			w := wait
			if w == nil {
				w = strategy.Expo{}
			}
			_, more := w.Next(strategy.State{Retry: n, Err: giveUp.Err})
			justified = !more
		}
		if !justified {
			t.Errorf("gave up for %s without cause\n%s", giveUp.Reason, describe())
		}
	}
	// One backoff per retry, plus one for a wait cut short by the context.
	if len(backoffs) != n-1 && !(len(backoffs) == n && giveUps == 1 && (giveUp.Reason == backoff.ErrCanceled || giveUp.Reason == backoff.ErrDeadline)) {
		t.Errorf("%d backoffs for %d attempts\n%s", len(backoffs), n, describe())
	}
}
