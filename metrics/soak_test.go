package metrics_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/metrics"
	"github.com/f99b3bbb/backoff/strategy"
)

// The soak sends many requests from many goroutines through one
// instrumented Transport to a loopback server that fails on purpose, then
// checks that nothing leaked and that every count adds up.
//
// The short version (2,000 requests from 64 goroutines; 500 with -short)
// runs by default; the full one (20,000 requests) runs with the flag:
//
//	go test -race -count=1 -run 'TestSoak$' -v -soak.full ./metrics
var soakFull = flag.Bool("soak.full", false, "TestSoak: send 20,000 requests instead of 2,000")

const (
	soakIDHeader      = "Soak-Id"      // the logical request, set by the caller
	soakAttemptHeader = "Soak-Attempt" // the attempt's number, set by the Transport (AttemptHeader)

	// soakAttemptTimeout is the Transport's AttemptTimeout; a hanging
	// server answers after soakHang, well past it, if the client is still
	// there. With 64 requests in flight on 2 cores under the race
	// detector, a healthy request takes about 25ms: an AttemptTimeout of
	// 20ms cut most of them off and turned the soak into a retry storm
	// (which the Budget then stopped, as it should).
	soakAttemptTimeout = 200 * time.Millisecond
	soakHang           = 5 * soakAttemptTimeout

	// One request in soakCancelShare is cancelled by its caller after a
	// random delay, log-uniform between soakCancelMin and 1000 times that
	// (50µs to 50ms), so that cancellations land in every phase of a
	// request, whether it takes a millisecond or, under the race
	// detector, tens.
	soakCancelShare = 10
	soakCancelMin   = 50 * time.Microsecond

	// soakHeapBound is how much more live heap than before the soak is
	// allowed after it, with the Transport, its Budget and the metrics
	// still reachable. What the first requests set up stays (net/http's
	// transport and its pool for one host, the metric series of two
	// methods, a Budget bucket, the runtime's own caches): measured, 250
	// to 300 KB whatever the number of requests (500, 2,000 or 20,000),
	// up to 370 KB under the race detector. Above that, a leak of about 40
	// bytes per request would exceed the bound in the full soak (20,000
	// requests, about 27,000 attempts) and one of about 350 bytes in the short
	// one; a retained request, response, body or timer is larger.
	soakHeapBound = 1 << 20
)

// soakFate is what the server does with one request it sees.
type soakFate int

const (
	fateOK    soakFate = iota // 200 and a short body
	fate503                   // 503 without Retry-After
	fate429                   // 429 with Retry-After: 0
	fateReset                 // hijack, SO_LINGER 0, close: a TCP reset
	fateHang                  // no answer before soakHang
	numFates
)

var (
	soakFateNames = [numFates]string{"200", "503", "429 Retry-After: 0", "reset", "hang"}
	// soakMix is the share of each fate, in percent.
	soakMix = [numFates]int{70, 14, 4, 6, 6}
)

func pickFate() soakFate {
	x := rand.IntN(100)
	for f, p := range soakMix {
		if x < p {
			return soakFate(f)
		}
		x -= p
	}
	return fateOK
}

// soakServer is the server: it records every request it sees, with its
// id, its attempt number and its arrival time, before acting out a fate.
type soakServer struct {
	epoch time.Time

	mu       sync.Mutex
	arrivals []soakArrival
	fates    [numFates]atomic.Int64
	conns    atomic.Int64 // connections open on the server's side
}

// connState tracks the server's open connections.
func (s *soakServer) connState(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		s.conns.Add(1)
	case http.StateHijacked, http.StateClosed:
		s.conns.Add(-1)
	}
}

type soakArrival struct {
	id, n int
	at    time.Duration // since epoch, on the monotonic clock
	fate  soakFate
}

func (s *soakServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Since(s.epoch)
	id, err1 := strconv.Atoi(r.Header.Get(soakIDHeader))
	n, err2 := strconv.Atoi(r.Header.Get(soakAttemptHeader))
	if err1 != nil || err2 != nil {
		id, n = -1, -1 // reported by the accounting
	}
	f := pickFate()
	s.mu.Lock()
	s.arrivals = append(s.arrivals, soakArrival{id: id, n: n, at: at, fate: f})
	s.mu.Unlock()
	s.fates[f].Add(1)

	switch f {
	case fateOK:
		io.WriteString(w, "ok "+strconv.Itoa(id)+"\n")
	case fate503:
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "busy\n")
	case fate429:
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
	case fateReset:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0) // close sends RST, not FIN
		}
		conn.Close()
	case fateHang:
		// The client's AttemptTimeout (20ms) ends the attempt and its
		// connection long before the server would give up.
		t := time.NewTimer(soakHang)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-t.C:
			w.WriteHeader(http.StatusGatewayTimeout)
		}
	}
}

// soakBase is the Transport's Base: net/http's transport, with a record
// of every attempt the Transport makes and a count of the response bodies
// handed out and closed.
type soakBase struct {
	rt    *http.Transport
	epoch time.Time

	mu     sync.Mutex
	sends  []*soakSend
	bodies atomic.Int64 // response bodies returned to the Transport
	closed atomic.Int64 // of which closed (each counted once)
}

// cutBySharedTimeout reports whether err is another attempt's timeout,
// which net/http can hand to a request that shares that attempt's
// connection or dial: such an attempt was cut off too, though its own
// context is live. The cause is unexported, so it is told by its text.
func cutBySharedTimeout(err error) bool {
	return err != nil && strings.Contains(err.Error(), "attempt timed out waiting for the response headers")
}

// soakSend is one attempt, as the Transport handed it to its Base.
type soakSend struct {
	id, n  int
	method string
	start  time.Duration // since epoch, before the attempt is handed on
	err    error         // the attempt's error
	// ctxDone: the attempt's context was done when it returned, cut off
	// by the caller's cancellation or by the AttemptTimeout.
	ctxDone bool
}

func (b *soakBase) RoundTrip(req *http.Request) (*http.Response, error) {
	s := &soakSend{method: req.Method, start: time.Since(b.epoch)}
	s.id, _ = strconv.Atoi(req.Header.Get(soakIDHeader))
	s.n, _ = strconv.Atoi(req.Header.Get(soakAttemptHeader))
	b.mu.Lock()
	b.sends = append(b.sends, s)
	b.mu.Unlock()

	resp, err := b.rt.RoundTrip(req)
	s.err, s.ctxDone = err, req.Context().Err() != nil
	if resp != nil {
		b.bodies.Add(1)
		resp.Body = &soakBody{ReadCloser: resp.Body, closed: &b.closed}
	}
	return resp, err
}

// CloseIdleConnections lets the Transport's method of that name reach
// net/http's transport.
func (b *soakBase) CloseIdleConnections() { b.rt.CloseIdleConnections() }

type soakBody struct {
	io.ReadCloser
	once   sync.Once
	closed *atomic.Int64
}

func (b *soakBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() { b.closed.Add(1) })
	return err
}

// soakCall is what the caller of one logical request saw.
type soakCall struct {
	status      int           // the response's status, or 0
	err         error         // or the error
	armed       bool          // the caller set a timer to cancel it
	cancelledAt time.Duration // when the caller's cancel returned, since epoch; 0 if it did not cancel
}

// soakOpenFDs counts the process's open descriptors, or returns -1
// where /proc is missing.
func soakOpenFDs() int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(fds)
}

func soakHeap() uint64 {
	runtime.GC()
	runtime.GC() // a second cycle frees what the first one's finalizers and sync.Pools let go
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestSoak is the soak: see soakFull. Its figures are logged (go test -v).
func TestSoak(t *testing.T) {
	requests, workers, limit := 2000, 64, 60*time.Second
	if *soakFull {
		requests, limit = 20000, 5*time.Minute
	}
	if testing.Short() {
		requests = 500
	}

	// Before anything is measured, start the runtime's network poller,
	// whose descriptors (epoll and its wake-up) live as long as the
	// process: without this, a process that runs the soak first would
	// count them as two descriptors more after it than before.
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		ln.Close()
	}
	ignore := goleak.IgnoreCurrent()
	goroutinesBefore := runtime.NumGoroutine()
	fdsBefore := soakOpenFDs()
	heapBefore := soakHeap()
	start := time.Now()
	epoch := start

	srv := &soakServer{epoch: epoch}
	ts := httptest.NewUnstartedServer(srv)
	ts.Config.ConnState = srv.connState
	ts.Start()

	base := &soakBase{
		// Keep up to 64 idle connections (one per goroutine): net/http's
		// default of 2 per host would open a new connection for most
		// requests.
		rt:    &http.Transport{MaxIdleConnsPerHost: workers, MaxIdleConns: workers},
		epoch: epoch,
	}
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	transport := &backoff.Transport{
		Base: base,
		Wait: strategy.Expo{Factor: 100 * time.Microsecond, Max: time.Millisecond},
		// MaxAttempts: the default, 4.
		AttemptTimeout: soakAttemptTimeout,
		AttemptHeader:  soakAttemptHeader,
		// A budget of its own, generous enough for the 30% of attempts
		// that the server fails (the default, 10%, would refuse most
		// retries), so that it is in the path without deciding the soak.
		Budget: &backoff.Budget{Ratio: 0.5},
		Trace:  m.Trace(),
	}
	m.ObserveBudget(transport.RetryBudget())
	client := &http.Client{Transport: transport}

	// The soak, bounded in time as a whole.
	soakCtx, stop := context.WithTimeout(context.Background(), limit)
	defer stop()
	calls := make([]soakCall, requests)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				id := int(next.Add(1) - 1)
				if id >= requests {
					return
				}
				calls[id] = soakOne(soakCtx, client, ts.URL, id, epoch)
			}
		})
	}
	wg.Wait()
	sent := time.Since(start)
	if err := soakCtx.Err(); err != nil {
		t.Errorf("the soak did not end within %v", limit)
	}

	// Tear down. First the client closes its connections, and the server
	// reads what is left on its side of them: a request written by an
	// attempt that was then cut off may still wait there, unread, when
	// the server is busy, and closing the server at once would drop it.
	for deadline := time.Now().Add(10 * time.Second); srv.conns.Load() > 0; {
		transport.CloseIdleConnections()
		if time.Now().After(deadline) {
			t.Errorf("%d connections still open on the server's side", srv.conns.Load())
			break
		}
		time.Sleep(time.Millisecond)
	}
	ts.Close()
	var leak error
	for range 5 {
		transport.CloseIdleConnections()
		if leak = goleak.Find(ignore); leak == nil {
			break
		}
	}
	if leak != nil {
		t.Errorf("goroutines left after the soak: %v", leak)
	}
	goroutinesAfter := runtime.NumGoroutine()
	fdsAfter := soakOpenFDs()
	if fdsBefore >= 0 && fdsAfter > fdsBefore {
		t.Errorf("open descriptors: %d before the soak, %d after", fdsBefore, fdsAfter)
	}

	fig := soakAccount(t, srv, base, calls, reg)
	fig.requests, fig.workers, fig.sent, fig.total = requests, workers, sent, time.Since(start)
	fig.goroutines = [2]int{goroutinesBefore, goroutinesAfter}
	fig.fds = [2]int{fdsBefore, fdsAfter}

	// The live heap, with the Transport and the metrics still reachable
	// and the soak's own records dropped.
	srv.arrivals, base.sends = nil, nil
	heapAfter := soakHeap()
	runtime.KeepAlive(transport)
	runtime.KeepAlive(reg)
	fig.heap = [2]uint64{heapBefore, heapAfter}
	if grown := int64(heapAfter) - int64(heapBefore); grown > soakHeapBound {
		t.Errorf("live heap grew by %d bytes over the soak, bound %d", grown, soakHeapBound)
	}
	t.Log(fig)
}

// soakFigures are the soak's figures, for the log.
type soakFigures struct {
	requests, workers  int
	sent, total        time.Duration
	attempts, arrivals int
	notSeen            int // attempts cut off before the server read them
	replays            int // GETs that net/http sent again by itself
	injected           [numFates]int64
	outcomes           map[string]int
	codes              map[string]float64 // backoff_http_attempts_total by code
	armed              int                // requests with a timer to cancel them
	cancels            int                // of which cancelled before their caller was done with them
	cancelEnded        int                // of which ended by the cancellation
	startedAfter       int                // attempts handed on after the cancellation
	retriesAfter       int                // of which retries
	arrivedAfter       int                // requests the server saw after the cancellation
	bodies, closed     int64
	goroutines, fds    [2]int
	heap               [2]uint64
}

func (f soakFigures) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "soak: %d requests from %d goroutines in %v (%v with the setup and the teardown)\n",
		f.requests, f.workers, f.sent.Round(time.Millisecond), f.total.Round(time.Millisecond))
	fmt.Fprintf(&b, "  attempts made by the Transport: %d (= sum of backoff_http_attempts_total:", f.attempts)
	for _, k := range slices.Sorted(maps.Keys(f.codes)) {
		fmt.Fprintf(&b, " %s: %v", k, f.codes[k])
	}
	b.WriteString(")\n")
	fmt.Fprintf(&b, "  requests seen by the server:    %d = %d attempts - %d cut off before the server read them + %d GETs sent again by net/http\n",
		f.arrivals, f.attempts, f.notSeen, f.replays)
	b.WriteString("  failures injected:              ")
	for i, n := range f.injected {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %d", soakFateNames[i], n)
	}
	b.WriteString("\n  what the callers got:           ")
	for i, k := range slices.Sorted(maps.Keys(f.outcomes)) {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %d", k, f.outcomes[k])
	}
	fmt.Fprintf(&b, "\n  cancellations:                  %d requests armed with one, %d cancelled before the caller was done, %d ended by it\n",
		f.armed, f.cancels, f.cancelEnded)
	fmt.Fprintf(&b, "  attempts handed on after the cancellation: %d (%d of them retries), none of which reached the server\n", f.startedAfter, f.retriesAfter)
	fmt.Fprintf(&b, "  requests the server saw after the cancellation: %d, each of an attempt handed on before it\n", f.arrivedAfter)
	fmt.Fprintf(&b, "  response bodies:                %d handed out, %d closed\n", f.bodies, f.closed)
	fmt.Fprintf(&b, "  goroutines:                     %d before, %d after\n", f.goroutines[0], f.goroutines[1])
	fmt.Fprintf(&b, "  open descriptors:               %d before, %d after\n", f.fds[0], f.fds[1])
	fmt.Fprintf(&b, "  live heap after GC:             %d bytes before, %d after (%+d; bound +%d)",
		f.heap[0], f.heap[1], int64(f.heap[1])-int64(f.heap[0]), soakHeapBound)
	return b.String()
}

// soakAccount checks what the callers, the Transport's Base, the metrics
// and the server saw against each other, and returns the figures.
func soakAccount(t *testing.T, srv *soakServer, base *soakBase, calls []soakCall, reg *prometheus.Registry) soakFigures {
	t.Helper()
	fig := soakFigures{outcomes: make(map[string]int), codes: make(map[string]float64)}
	for f := range numFates {
		fig.injected[f] = srv.fates[f].Load()
	}

	// Every response body handed to the Transport was closed: by the
	// Transport for a response it retried, by the caller for the others.
	fig.bodies, fig.closed = base.bodies.Load(), base.closed.Load()
	if fig.bodies != fig.closed {
		t.Errorf("%d response bodies handed out, %d closed", fig.bodies, fig.closed)
	}

	// What the callers saw.
	for id, c := range calls {
		if c.armed {
			fig.armed++
		}
		if c.cancelledAt > 0 {
			fig.cancels++
		}
		var be *backoff.Error
		switch {
		case c.err == nil:
			fig.outcomes[strconv.Itoa(c.status)]++
		case errors.Is(c.err, context.Canceled):
			fig.outcomes["canceled by the caller"]++
			fig.cancelEnded++
			if c.cancelledAt == 0 {
				t.Errorf("request %d: cancelled, but its caller did not cancel it: %v", id, c.err)
			}
		case errors.As(c.err, &be):
			fig.outcomes["gave up ("+string(be.Reason)+")"]++
		case c.cancelledAt > 0:
			// The last attempt failed as the caller cancelled: its error
			// is not retried and is returned as it is (DefaultClassify).
			fig.outcomes["the last attempt's error, the caller having cancelled"]++
			fig.cancelEnded++
		default:
			fig.outcomes["error: "+c.err.Error()]++
			t.Errorf("request %d: unexpected error %v", id, c.err)
		}
	}

	// The metrics count exactly the attempts the Transport made, and every
	// logical request once.
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sends := base.sends
	fig.attempts, fig.arrivals = len(sends), len(srv.arrivals)
	for _, f := range fams {
		if f.GetName() == "backoff_http_attempts_total" {
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "code" {
						fig.codes[l.GetValue()] += m.GetCounter().GetValue()
					}
				}
			}
		}
	}
	if n := soakSum(fams, "backoff_http_attempts_total"); n != float64(len(sends)) {
		t.Errorf("backoff_http_attempts_total adds up to %v, the Transport made %d attempts", n, len(sends))
	}
	if n := soakCount(fams, "backoff_http_request_attempts"); n != uint64(len(calls)) {
		t.Errorf("backoff_http_request_attempts counts %d requests, want %d", n, len(calls))
	}
	if sum := soakHistSum(fams, "backoff_http_request_attempts"); sum != float64(len(sends)) {
		t.Errorf("backoff_http_request_attempts adds up to %v attempts, want %d", sum, len(sends))
	}
	if g := soakSum(fams, "backoff_http_waits_in_flight"); g != 0 {
		t.Errorf("backoff_http_waits_in_flight is %v once every request has returned", g)
	}

	// The server's count against the attempts: every request the server
	// saw is one of the Transport's attempts (same id and number). Two
	// things separate the totals, and each is accounted for one by one:
	//   - an attempt cut off by its context (the caller's cancellation or
	//     the AttemptTimeout) before the server read it is counted by the
	//     metrics, not by the server: net/http closes the connection,
	//     which may happen while it is still getting a connection, or
	//     after it has buffered the request and before it has flushed it,
	//     or before the busy server reads it. So is an attempt that got
	//     another attempt's timeout, which net/http can pass on to a
	//     request sharing that attempt's connection or dial. Any other
	//     attempt must reach the server.
	//   - net/http itself sends a GET again, on a new connection, when a
	//     reused keep-alive connection is reset after the request was
	//     written (see net/http's Transport.shouldRetryRequest): the
	//     server sees the same attempt twice, while the Transport above,
	//     and its metrics, see one attempt. A POST without an
	//     Idempotency-Key is never sent again by net/http, so every POST
	//     the server saw is exactly one of our attempts.
	type key struct{ id, n int }
	byKey := make(map[key]*soakSend, len(sends))
	for _, s := range sends {
		k := key{s.id, s.n}
		if byKey[k] != nil {
			t.Errorf("request %d: attempt %d made twice by the Transport", s.id, s.n)
		}
		byKey[k] = s
	}
	seen := make(map[key]int, len(srv.arrivals))
	for _, a := range srv.arrivals {
		k := key{a.id, a.n}
		s := byKey[k]
		if s == nil {
			t.Errorf("the server saw attempt %d of request %d, which the Transport never made", a.n, a.id)
			continue
		}
		if seen[k]++; seen[k] > 1 {
			fig.replays++
			if s.method != http.MethodGet {
				t.Errorf("the server saw attempt %d of POST request %d more than once", a.n, a.id)
			}
		}
	}
	for k, s := range byKey {
		switch {
		case seen[k] > 0:
		case s.err == nil:
			t.Errorf("request %d: attempt %d got a response, and the server never saw it", s.id, s.n)
		case !s.ctxDone && !cutBySharedTimeout(s.err):
			t.Errorf("request %d: attempt %d failed with %v, and the server never saw it", s.id, s.n, s.err)
		default:
			fig.notSeen++
		}
	}
	if want := len(sends) - fig.notSeen + fig.replays; fig.arrivals != want {
		t.Errorf("the server saw %d requests; want %d = %d attempts - %d cut off + %d sent again by net/http",
			fig.arrivals, want, len(sends), fig.notSeen, fig.replays)
	}

	// No attempt sent after the caller's context was cancelled. A
	// request's cancellation time is taken once its cancel function has
	// returned. An attempt handed on to the Base after that has a context
	// that is done; no such attempt may reach the server: every request
	// the server saw after the cancellation must belong to an attempt
	// handed on before it, still in flight when the caller cancelled.
	for _, s := range sends {
		if s.id < 0 || s.id >= len(calls) {
			continue
		}
		c := calls[s.id]
		if c.cancelledAt == 0 || s.start <= c.cancelledAt {
			continue
		}
		fig.startedAfter++
		if s.n > 1 {
			fig.retriesAfter++
		}
	}
	for _, a := range srv.arrivals {
		if a.id < 0 || a.id >= len(calls) {
			continue
		}
		c := calls[a.id]
		if c.cancelledAt == 0 || a.at <= c.cancelledAt {
			continue
		}
		fig.arrivedAfter++
		if s := byKey[key{a.id, a.n}]; s != nil && s.start > c.cancelledAt {
			t.Errorf("request %d: attempt %d, handed on %v after the caller cancelled, reached the server",
				a.id, a.n, s.start-c.cancelledAt)
		}
	}
	return fig
}

// soakOne sends logical request id and reads its response to the end.
// Even ids are GETs; odd ids are POSTs without a body, which the Transport
// retries only because their context says that they are idempotent. One
// request in soakCancelShare is cancelled by its caller after a random
// delay.
func soakOne(ctx context.Context, client *http.Client, url string, id int, epoch time.Time) soakCall {
	method := http.MethodGet
	if id%2 == 1 {
		method = http.MethodPost
		ctx = backoff.WithIdempotent(ctx, true)
	}
	var call soakCall
	var timer *time.Timer
	cancelled := make(chan struct{})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if rand.IntN(soakCancelShare) == 0 {
		// Not context.WithTimeout: the time the cancellation was done is
		// needed, and it is known only once cancel has returned.
		call.armed = true
		delay := time.Duration(float64(soakCancelMin) * math.Pow(1000, rand.Float64()))
		timer = time.AfterFunc(delay, func() {
			cancel()
			call.cancelledAt = time.Since(epoch)
			close(cancelled)
		})
	}
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		panic(err)
	}
	req.Header.Set(soakIDHeader, strconv.Itoa(id))
	resp, err := client.Do(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		call.status = resp.StatusCode
	}
	if timer != nil && !timer.Stop() {
		<-cancelled // call.cancelledAt is set
	}
	call.err = err
	return call
}

// soakSum adds up the values of the counters or gauges of a family.
func soakSum(fams []*dto.MetricFamily, name string) float64 {
	var sum float64
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

// soakCount and soakHistSum add up the counts and the sums of the
// histograms of a family.
func soakCount(fams []*dto.MetricFamily, name string) uint64 {
	var n uint64
	for _, f := range fams {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				n += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}

func soakHistSum(fams []*dto.MetricFamily, name string) float64 {
	var sum float64
	for _, f := range fams {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				sum += m.GetHistogram().GetSampleSum()
			}
		}
	}
	return sum
}

// Regression tests for two bugs the soak found, each reproduced
// deterministically.

// TestSoakNoAttemptAfterCancelDuringWait: a context that is cancelled
// before a wait ends must end the call without another attempt ("cancelling
// the context during the sleep ends the call at once", Policy). The soak
// saw retries handed to the Base after the caller's cancel had returned.
func TestSoakNoAttemptAfterCancelDuringWait(t *testing.T) {
	const calls = 200
	extra := 0
	for range calls {
		ctx, cancel := context.WithCancel(context.Background())
		p := backoff.Policy[struct{}]{
			// A wait of 1ns has elapsed by the time sleep selects; the
			// context, cancelled before it, is done too.
			Wait:        strategy.Constant{Interval: time.Nanosecond},
			Jitter:      jitter.None,
			MaxAttempts: 3,
			OnBackoff:   []backoff.Handler[struct{}]{func(backoff.Details[struct{}]) { cancel() }},
		}
		attempts := 0
		err := p.Run(ctx, func(context.Context) error {
			attempts++
			return errors.New("fails")
		})
		cancel()
		if attempts > 1 {
			extra++
		}
		var be *backoff.Error
		if !errors.As(err, &be) || be.Reason != backoff.ErrCanceled {
			t.Fatalf("err = %v, want a give-up with reason %s", err, backoff.ErrCanceled)
		}
	}
	if extra > 0 {
		t.Errorf("%d of %d calls made an attempt after their context was cancelled during the wait", extra, calls)
	}
}

// TestSoakAttemptTimeoutAndCancel: when an attempt's AttemptTimeout fires
// and the caller's context is cancelled before the Transport looks at the
// attempt's error, the caller gets errAttemptTimeout itself: an unexported
// sentinel, neither the caller's context error (which the Transport means
// to report, as it does not wrap the error as a timeout when the caller's
// context is done) nor an error whose Timeout method reports true. With a
// 20ms AttemptTimeout, the soak saw this 28 times in 2,000 requests. The
// caller now gets its context's cause.
func TestSoakAttemptTimeoutAndCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr := &backoff.Transport{
		AttemptTimeout: 5 * time.Millisecond,
		Budget:         backoff.DisabledBudget(),
		// As net/http's transport does, the Base gives up when the
		// attempt's context is done, with its cause; the caller cancels
		// in the meantime.
		Base: soakRoundTripFunc(func(r *http.Request) (*http.Response, error) {
			<-r.Context().Done()
			cancel()
			return nil, context.Cause(r.Context())
		}),
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:1/", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tr.RoundTrip(req)
	var ne net.Error
	if !errors.Is(err, context.Canceled) && !(errors.As(err, &ne) && ne.Timeout()) {
		t.Errorf("err = %v (%T): neither context.Canceled nor a timeout", err, err)
	}
}

type soakRoundTripFunc func(*http.Request) (*http.Response, error)

func (f soakRoundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
