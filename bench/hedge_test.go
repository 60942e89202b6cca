package bench

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/failsafehttp"
	"github.com/failsafe-go/failsafe-go/hedgepolicy"
	"github.com/hashicorp/go-cleanhttp"

	"github.com/f99b3bbb/backoff"
)

// The hedging measurement (TestHedgeTail, run only with -hedge): logical
// GETs from a fixed number of goroutines against a loopback server whose
// latency has a heavy tail, through each client in turn, on the same
// server. See README.md, "Hedging against a heavy tail".
var (
	hedgeRun      = flag.Bool("hedge", false, "run TestHedgeTail, the heavy-tail hedging measurement (about a minute)")
	hedgeLogical  = flag.Int("hedge.n", 10000, "TestHedgeTail: logical requests per client and round")
	hedgeWorkers  = flag.Int("hedge.c", 32, "TestHedgeTail: concurrent goroutines")
	hedgeRounds   = flag.Int("hedge.rounds", 3, "TestHedgeTail: rounds of all the clients, one after another")
	hedgeProtocol = flag.String("hedge.proto", "h1", "TestHedgeTail: h1 (HTTP/1.1), h2 (HTTP/2 over TLS) or both")
)

// The server's latency: fastLatency, or slowLatency for slowPerMille of
// the requests it receives.
const (
	fastLatency  = 5 * time.Millisecond
	slowLatency  = time.Second
	slowPerMille = 10
)

// slowAt reports whether the server's n-th request (1 for the first it
// receives since its reset) is slow: a fixed hash of n, so that every run
// and every client meets the same pattern, 1% of the requests received.
// The slowness belongs to the request sent: a hedge of a slow request is
// a new arrival, slow only with the same 1% chance.
func slowAt(n uint64) bool {
	// splitmix64's finalizer.
	n += 0x9e3779b97f4a7c15
	n = (n ^ n>>30) * 0xbf58476d1ce4e5b9
	n = (n ^ n>>27) * 0x94d049bb133111eb
	n ^= n >> 31
	return n%1000 < slowPerMille
}

// tailServer is the loopback server: it counts the requests it receives
// and the connections it holds open.
type tailServer struct {
	*httptest.Server
	received atomic.Uint64
	opened   atomic.Int64 // connections accepted since the reset
	open     atomic.Int64 // connections open now
	fast     time.Duration
	slow     time.Duration
}

func newTailServer(h2 bool, fast, slow time.Duration) *tailServer {
	s := &tailServer{fast: fast, slow: slow}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			s.opened.Add(1)
			s.open.Add(1)
		case http.StateClosed, http.StateHijacked:
			s.open.Add(-1)
		}
	}
	if h2 {
		s.EnableHTTP2 = true
		s.StartTLS()
	} else {
		s.Start()
	}
	return s
}

func (s *tailServer) serve(w http.ResponseWriter, r *http.Request) {
	d := s.fast
	if r.URL.Path == warmPath {
		// Not counted, never slow.
	} else if slowAt(s.received.Add(1)) {
		d = s.slow
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok")
	case <-r.Context().Done():
		// The client gave up (a hedge's loser): nothing pins the server.
	}
}

// warmPath is the path of the requests that open the client's
// connections before the measurement.
const warmPath = "/warm"

// warm opens n connections of base to the server (n requests at once,
// each answered after the fast latency), left idle in its pool.
func (s *tailServer) warm(tb testing.TB, base http.RoundTripper, n int) {
	tb.Helper()
	c := &http.Client{Transport: base, Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get(s.URL + warmPath)
			if err != nil {
				tb.Errorf("warming up: %v", err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	}
	wg.Wait()
}

// base returns a pooled transport of the client's own for the server,
// keeping as many idle connections as the workers need.
func (s *tailServer) base(workers int) *http.Transport {
	tr := cleanhttp.DefaultPooledTransport()
	tr.MaxIdleConnsPerHost = 2 * workers
	tr.MaxIdleConns = 2 * workers
	if s.TLS != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: s.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	}
	return tr
}

// counting counts the requests a layer sends to its Base.
type counting struct {
	next http.RoundTripper
	sent atomic.Int64
}

func (c *counting) RoundTrip(r *http.Request) (*http.Response, error) {
	c.sent.Add(1)
	return c.next.RoundTrip(r)
}

// hedgeClient is one client of the measurement: make wraps the base
// (already counting) and returns the layer, and a function reporting the
// hedges sent since the layer was made (nil where the layer does not
// hedge).
type hedgeClient struct {
	name string
	make func(base http.RoundTripper) (http.RoundTripper, func() int64)
}

// hedgeDelay is the fixed hedge delay of the hedging clients; a second
// pair of clients hedges after hedgeDelay2.
const (
	hedgeDelay  = 15 * time.Millisecond
	hedgeDelay2 = 30 * time.Millisecond
)

func oursHedging(d time.Duration) func(http.RoundTripper) (http.RoundTripper, func() int64) {
	return oursHedgingAt(backoff.Hedging{Delay: d})
}

func oursHedgingAt(h backoff.Hedging) func(http.RoundTripper) (http.RoundTripper, func() int64) {
	return func(base http.RoundTripper) (http.RoundTripper, func() int64) {
		var hedges atomic.Int64
		tr := &backoff.Transport{
			Base:    base,
			Hedging: &h,
			Trace:   &backoff.Trace{OnHedge: func(backoff.Event) { hedges.Add(1) }},
		}
		return tr, hedges.Load
	}
}

func failsafeHedging(d time.Duration) func(http.RoundTripper) (http.RoundTripper, func() int64) {
	return func(base http.RoundTripper) (http.RoundTripper, func() int64) {
		var hedges atomic.Int64
		p := hedgepolicy.NewBuilderWithDelay[*http.Response](d).
			OnHedge(func(failsafe.ExecutionEvent[*http.Response]) { hedges.Add(1) }).
			Build()
		return failsafehttp.NewRoundTripper(base, p), hedges.Load
	}
}

var hedgeClients = []hedgeClient{
	{"bare", func(base http.RoundTripper) (http.RoundTripper, func() int64) { return base, nil }},
	{"backoff", func(base http.RoundTripper) (http.RoundTripper, func() int64) {
		return &backoff.Transport{Base: base}, nil // defaults: no hedging
	}},
	{"backoff-hedge-15ms", oursHedging(hedgeDelay)},
	{"failsafe-hedge-15ms", failsafeHedging(hedgeDelay)},
	{"backoff-hedge-30ms", oursHedging(hedgeDelay2)},
	{"failsafe-hedge-30ms", failsafeHedging(hedgeDelay2)},
	// The delay from the host's latency: its p95 (15ms until known).
	{"backoff-hedge-p95", oursHedgingAt(backoff.Hedging{Delay: hedgeDelay, Percentile: 95})},
}

// tailResult is what one client's run measured.
type tailResult struct {
	lat         []time.Duration // of each logical request that succeeded
	logical     int
	failed      int   // logical requests that did not end in a 200 "ok"
	sent        int64 // requests the layer sent to its base
	received    uint64
	hedges      int64 // by the layer's hook; -1 without
	outHedges   int64 // ours: the sum of Outcome.Hedges
	hedgeWon    int64 // ours: logical requests whose winner was not attempt 1
	opened      int64 // connections the server accepted, after the warm-up
	goroutines  int   // left above the baseline after the settle
	connsLeft   int64 // server connections still open after the settle
	wall        time.Duration
	outcomeSeen bool
	proto       int // the ProtoMajor of the responses, 0 if they differ
}

// runTail sends logical GETs from workers goroutines through the client
// to s, then closes the base's idle connections and waits up to settle
// for the goroutines and the server's connections to come back to what
// they were before. The base's connections are opened first, one per
// worker, so that the measurement starts with a warm pool (no TLS
// handshake in the first requests' latency).
func runTail(tb testing.TB, s *tailServer, cl hedgeClient, logical, workers int, settle time.Duration) tailResult {
	tb.Helper()
	runtime.GC()
	before := runtime.NumGoroutine()
	base := s.base(workers)
	s.warm(tb, base, workers)
	s.received.Store(0)
	s.opened.Store(0)

	cnt := &counting{next: base}
	rt, hedges := cl.make(cnt)
	client := &http.Client{Transport: rt, Timeout: 30 * time.Second}
	_, ours := rt.(*backoff.Transport)

	res := tailResult{logical: logical, hedges: -1, outcomeSeen: ours}
	lat := make([]time.Duration, logical)
	ok := make([]bool, logical)
	var next, outHedges, won atomic.Int64
	var proto atomic.Int32
	proto.Store(-1)
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 16)
			for {
				i := int(next.Add(1)) - 1
				if i >= logical {
					return
				}
				var o backoff.Outcome
				ctx := context.Background()
				if ours {
					ctx = backoff.WithOutcome(ctx, &o)
				}
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
				if err != nil {
					panic(err)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				n, _ := io.ReadFull(resp.Body, buf)
				rest, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if !proto.CompareAndSwap(-1, int32(resp.ProtoMajor)) && proto.Load() != int32(resp.ProtoMajor) {
					proto.Store(0)
				}
				ok[i] = resp.StatusCode == http.StatusOK && string(buf[:n]) == "ok" && rest == 0
				if ours {
					outHedges.Add(int64(o.Hedges))
					if o.Winner > 1 {
						won.Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()
	res.wall = time.Since(start)
	res.proto = int(proto.Load())
	for i, d := range lat {
		if ok[i] {
			res.lat = append(res.lat, d)
		} else {
			res.failed++
		}
	}
	slices.Sort(res.lat)
	res.sent = cnt.sent.Load()
	res.received = s.received.Load()
	res.opened = s.opened.Load()
	if hedges != nil {
		res.hedges = hedges()
	}
	res.outHedges, res.hedgeWon = outHedges.Load(), won.Load()

	base.CloseIdleConnections()
	deadline := time.Now().Add(settle)
	for {
		res.goroutines = runtime.NumGoroutine() - before
		res.connsLeft = s.open.Load()
		if res.goroutines <= 0 && res.connsLeft == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
		base.CloseIdleConnections()
	}
	res.goroutines = max(res.goroutines, 0)
	return res
}

// quantile returns the q-quantile of the sorted durations (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

// merge pools the results of one client over the rounds (the counts
// summed, the goroutines and connections left: their largest).
func merge(rs []tailResult) tailResult {
	var m tailResult
	m.hedges = -1
	for _, r := range rs {
		m.lat = append(m.lat, r.lat...)
		m.logical += r.logical
		m.failed += r.failed
		m.sent += r.sent
		m.received += r.received
		if r.hedges >= 0 {
			m.hedges = max(m.hedges, 0) + r.hedges
		}
		m.outHedges += r.outHedges
		m.hedgeWon += r.hedgeWon
		m.opened += r.opened
		m.goroutines = max(m.goroutines, r.goroutines)
		m.connsLeft = max(m.connsLeft, r.connsLeft)
		m.wall += r.wall
		m.outcomeSeen = r.outcomeSeen
	}
	slices.Sort(m.lat)
	return m
}

func tailTable(names []string, rs []tailResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| client | p50 ms | p99 ms | p99.9 ms | max ms | received/logical | sent/logical | hedges | hedge won | conns opened | failed | goroutines left | conns left |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for i, r := range rs {
		hedges, won := "-", "-"
		if r.hedges >= 0 {
			hedges = fmt.Sprint(r.hedges)
		}
		if r.outcomeSeen && r.hedges >= 0 {
			won = fmt.Sprint(r.hedgeWon)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.4f | %.4f | %s | %s | %d | %d | %d | %d |\n",
			names[i], ms(quantile(r.lat, 0.5)), ms(quantile(r.lat, 0.99)), ms(quantile(r.lat, 0.999)),
			ms(quantile(r.lat, 1)), float64(r.received)/float64(r.logical), float64(r.sent)/float64(r.logical),
			hedges, won, r.opened, r.failed, r.goroutines, r.connsLeft)
	}
	return b.String()
}

// TestHedgeTail is the heavy-tail measurement: run it with
//
//	go test -run TestHedgeTail -hedge -v
//
// It reports, for each client, the latency quantiles of the logical
// requests, the requests the server received per logical request, and
// what the client left behind, and logs the check of the targets for
// ours (p99 within 3 hedge delays plus the median, at most 1.1 requests
// per logical request); it fails only on failed requests or on counts
// that disagree (the hedges ours reports against the requests it sent).
func TestHedgeTail(t *testing.T) {
	if !*hedgeRun {
		t.Skip("the heavy-tail hedging measurement runs with -hedge")
	}
	var protos []bool
	switch *hedgeProtocol {
	case "h1":
		protos = []bool{false}
	case "h2":
		protos = []bool{true}
	case "both":
		protos = []bool{false, true}
	default:
		t.Fatalf("-hedge.proto=%q: want h1, h2 or both", *hedgeProtocol)
	}
	for _, h2 := range protos {
		proto := "HTTP/1.1"
		if h2 {
			proto = "HTTP/2"
		}
		s := newTailServer(h2, fastLatency, slowLatency)
		results := make([][]tailResult, len(hedgeClients))
		names := make([]string, len(hedgeClients))
		for round := range *hedgeRounds {
			// Each round starts with the next client, so that no client
			// always runs first (or after the same one).
			rs := make([]tailResult, len(hedgeClients))
			for k := range hedgeClients {
				i := (round + k) % len(hedgeClients)
				cl := hedgeClients[i]
				names[i] = cl.name
				r := runTail(t, s, cl, *hedgeLogical, *hedgeWorkers, 3*time.Second)
				checkCounts(t, cl.name, r, protoMajor(h2))
				results[i] = append(results[i], r)
				rs[i] = r
			}
			t.Logf("%s, round %d: %d logical GETs from %d goroutines, server %v (%d‰ %v):\n%s",
				proto, round+1, *hedgeLogical, *hedgeWorkers, fastLatency, slowPerMille, slowLatency, tailTable(names, rs))
		}
		var pooled []tailResult
		for _, rs := range results {
			pooled = append(pooled, merge(rs))
		}
		t.Logf("%s, the %d rounds pooled (%d logical GETs per client; goroutines and conns left: the most of any round):\n%s",
			proto, *hedgeRounds, *hedgeRounds**hedgeLogical, tailTable(names, pooled))
		for i, r := range pooled {
			d := hedgeDelay
			if strings.HasSuffix(names[i], "30ms") {
				d = hedgeDelay2
			}
			if r.hedges < 0 {
				continue
			}
			p50, p99 := quantile(r.lat, 0.5), quantile(r.lat, 0.99)
			limit := 3*d + p50
			perLogical := float64(r.received) / float64(r.logical)
			t.Logf("%s %s: p99 %s ms against 3×%v + p50 (%s ms) = %s ms: %s; %.4f received per logical request: %s",
				proto, names[i], ms(p99), d, ms(p50), ms(limit), verdictOf(p99 <= limit),
				perLogical, verdictOf(perLogical <= 1.1))
		}
		s.Close()
	}
}

func verdictOf(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// checkCounts fails t if a logical request failed, or if ours counted its
// hedges unlike the requests it sent: every request sent beyond the
// first of each logical request is a hedge (the server never fails, so
// nothing is retried), and OnHedge and the Outcomes agree.
func checkCounts(t *testing.T, name string, r tailResult, want int) {
	t.Helper()
	if r.failed > 0 {
		t.Errorf("%s: %d of %d logical requests failed", name, r.failed, r.logical)
	}
	if r.proto != want {
		t.Errorf("%s: responses of HTTP/%d (0: mixed), want HTTP/%d", name, r.proto, want)
	}
	if !r.outcomeSeen || r.hedges < 0 {
		return
	}
	if r.sent != int64(r.logical)+r.hedges || r.outHedges != r.hedges {
		t.Errorf("%s: %d requests sent for %d logical requests, OnHedge counted %d hedges, the Outcomes %d: want sent = logical + hedges, and the same hedges",
			name, r.sent, r.logical, r.hedges, r.outHedges)
	}
	if r.received > uint64(r.sent) {
		t.Errorf("%s: the server received %d requests, %d were sent", name, r.received, r.sent)
	}
}

// TestHedgeLeavesNothing is the cheap check of the default run: a few
// hundred GETs through our hedging Transport against the heavy-tail
// server, hedged after 100 ms against a slow latency of 1 s. It asserts
// only counts: every request succeeds, the hedges are counted alike by
// OnHedge, the Outcomes and the requests sent, at most 1.2 requests
// reach the server per logical request, some request was hedged (a slow
// one lasts 20 times the delay), and once the idle connections are
// closed no goroutine and no server connection is left.
func TestHedgeLeavesNothing(t *testing.T) {
	const logical, workers, delay = 400, 8, 100 * time.Millisecond
	for _, h2 := range []bool{false, true} {
		name := "HTTP/1.1"
		if h2 {
			name = "HTTP/2"
		}
		t.Run(name, func(t *testing.T) {
			// 1 s against 100 ms: the slow arrivals (the 29th, 176th,
			// 367th and 386th of the first 400) are hedged.
			s := newTailServer(h2, fastLatency, slowLatency)
			defer s.Close()
			r := runTail(t, s, hedgeClient{"backoff-hedge-100ms", oursHedging(delay)}, logical, workers, 10*time.Second)
			checkCounts(t, "backoff", r, protoMajor(h2))
			if perLogical := float64(r.received) / logical; perLogical > 1.2 {
				t.Errorf("%.3f requests received per logical request, want at most 1.2", perLogical)
			}
			if r.hedges == 0 {
				t.Errorf("no request hedged, with %d slow ones of %v against a delay of %v", slowCount(r.received), slowLatency, delay)
			}
			if r.goroutines > 0 || r.connsLeft > 0 {
				t.Errorf("left behind: %d goroutines, %d server connections open", r.goroutines, r.connsLeft)
			}
			t.Logf("%d logical, %d sent, %d received, %d hedges (%d won), %d connections opened", r.logical, r.sent, r.received, r.hedges, r.hedgeWon, r.opened)
		})
	}
}

// slowCount returns how many of the first n requests received are slow.
func slowCount(n uint64) int {
	c := 0
	for i := uint64(1); i <= n; i++ {
		if slowAt(i) {
			c++
		}
	}
	return c
}

func protoMajor(h2 bool) int {
	if h2 {
		return 2
	}
	return 1
}

// BenchmarkHedgedMem: the cost of hedging a request that needs no hedge
// (it is answered at once, over an in-memory base), against the same
// Transport without hedging and failsafe-go's hedge policy.
func BenchmarkHedgedMem(b *testing.B) {
	for _, c := range []struct {
		name string
		rt   http.RoundTripper
	}{
		{"backoff", &backoff.Transport{Base: &memTransport{}}},
		{"backoff-hedged", &backoff.Transport{Base: &memTransport{}, Hedging: &backoff.Hedging{Delay: time.Second}}},
		{"backoff-hedged-p95", &backoff.Transport{Base: &memTransport{}, Hedging: &backoff.Hedging{Delay: time.Second, Percentile: 95}}},
		{"failsafe-hedged", failsafehttp.NewRoundTripper(&memTransport{}, hedgepolicy.NewWithDelay[*http.Response](time.Second))},
	} {
		b.Run(c.name, func(b *testing.B) { benchLayer(b, c.rt, "http://bench.invalid/") })
	}
}
