package backoff_test

import (
	"context"
	"errors"
	"io"
	"net/http"
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

// hedgeBase answers attempt n (in the order received) as its script says:
// after a latency, a status or an error; an attempt whose context ends
// first returns the context's error. It records, for each attempt, its
// response's body, and whether the attempt is still running.
type hedgeBase struct {
	script []fuzzStep

	mu      sync.Mutex
	bodies  []*trackedReadCloser // by attempt; nil without a response
	running atomic.Int32
	n       int
}

type fuzzStep struct {
	latency time.Duration
	status  int    // 0: an error
	err     string // "reset", "refused", "fatal"
	header  http.Header
}

func (b *hedgeBase) RoundTrip(r *http.Request) (*http.Response, error) {
	b.running.Add(1)
	defer b.running.Add(-1)
	b.mu.Lock()
	b.n++
	i := b.n - 1
	b.bodies = append(b.bodies, nil)
	b.mu.Unlock()
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	st := fuzzStep{latency: time.Hour, status: 200}
	if i < len(b.script) {
		st = b.script[i]
	}
	select {
	case <-time.After(st.latency):
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	switch st.err {
	case "reset":
		return nil, syscall.ECONNRESET
	case "refused":
		return nil, syscall.ECONNREFUSED
	case "fatal":
		return nil, errors.New("fatal")
	}
	body := &trackedReadCloser{ReadCloser: io.NopCloser(strings.NewReader("payload")), name: "response"}
	b.mu.Lock()
	b.bodies[i] = body
	b.mu.Unlock()
	h := st.header
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{StatusCode: st.status, Header: h.Clone(), Body: body, Request: r}, nil
}

// FuzzHedge: whatever the answers, their timing, the limits and the
// deadline, a hedged call never sends more than MaxAttempts requests,
// returns a response or an error, never both, leaves no attempt running,
// closes every body but the one it returns, and reports in its Outcome
// what it did.
func FuzzHedge(f *testing.F) {
	// maxAttempts, maxHedges, delay, deadline, method; then 2 bytes per
	// attempt: kind (status or error, Retry-After), latency.
	f.Add([]byte{0, 0, 1, 0, 0, 0, 40, 0, 1})
	f.Add([]byte{3, 2, 1, 2, 0, 3, 2, 0, 40, 0, 1})
	f.Add([]byte{0, 1, 2, 0, 0, 5, 40, 2, 1, 0, 1})
	f.Add([]byte{1, 3, 0, 1, 0, 7, 3, 6, 1, 0, 2, 0, 1})
	f.Add([]byte{2, 1, 1, 3, 1, 0, 40})
	f.Fuzz(func(t *testing.T, data []byte) {
		synctest.Test(t, func(t *testing.T) { fuzzHedgeOnce(t, data) })
	})
}

func fuzzHedgeOnce(t *testing.T, data []byte) {
	in := &fuzzInput{b: data}
	maxAttempts := int(in.byte()) % 6 // 0: the default, 4
	maxHedges := int(in.byte()) % 4
	delay := pick(in, 20*time.Millisecond, time.Millisecond, 100*time.Millisecond)
	deadline := pick(in, 0, 50*time.Millisecond, time.Second, 10*time.Second)
	method := pick(in, http.MethodGet, http.MethodPost, http.MethodPut)
	var script []fuzzStep
	for !in.empty() && len(script) < 10 {
		k, lat := in.byte(), in.byte()
		st := fuzzStep{latency: time.Duration(lat) * 5 * time.Millisecond}
		switch k % 8 {
		case 0, 1:
			st.status = 200
		case 2:
			st.status = 404
		case 3:
			st.status = 503
		case 4:
			st.status = 429
		case 5:
			st.err = "reset"
		case 6:
			st.err = "refused"
		case 7:
			st.err = "fatal"
		}
		if k&8 != 0 && st.status != 0 {
			st.header = http.Header{"Retry-After": {"1"}}
		}
		script = append(script, st)
	}
	base := &hedgeBase{script: script}
	var hedgeEvents, attemptEvents int
	tr := &backoff.Transport{
		Base:        base,
		MaxAttempts: maxAttempts,
		Wait:        strategy.Constant{Interval: 100 * time.Millisecond},
		Jitter:      jitter.None,
		Hedging:     &backoff.Hedging{Delay: delay, MaxHedges: maxHedges},
		Budget:      backoff.DisabledBudget(),
		Trace: &backoff.Trace{
			OnHedge:   func(backoff.Event) { hedgeEvents++ },
			OnAttempt: func(backoff.Event) { attemptEvents++ },
		},
	}
	ctx := context.Background()
	if deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, deadline)
		defer cancel()
	}
	var o backoff.Outcome
	var body io.Reader
	if method != http.MethodGet {
		body = strings.NewReader("request")
	}
	req, _ := http.NewRequestWithContext(backoff.WithOutcome(ctx, &o), method, "http://api.example/", body)
	resp, err := tr.RoundTrip(req)

	limit := maxAttempts
	if limit == 0 {
		limit = backoff.DefaultMaxAttempts
	}
	if r := base.running.Load(); r != 0 {
		t.Fatalf("%d attempts still running after RoundTrip returned", r)
	}
	if (resp == nil) == (err == nil) {
		t.Fatalf("response %v and error %v", resp != nil, err)
	}
	if base.n > limit || base.n != o.Attempts {
		t.Fatalf("%d requests, Outcome.Attempts %d, MaxAttempts %d", base.n, o.Attempts, limit)
	}
	if o.Hedges != hedgeEvents || o.Hedges > o.Attempts-1 && o.Attempts > 0 || o.Winner < 1 || o.Winner > o.Attempts {
		t.Fatalf("Outcome %+v, %d OnHedge events", o, hedgeEvents)
	}
	if o.HedgeWon && (o.Hedges == 0 || o.Winner == 1) {
		t.Fatalf("Outcome %+v: a hedge won, but none was sent or the first attempt won", o)
	}
	if method == http.MethodPost && o.Hedges != 0 {
		t.Fatalf("a POST was hedged: %+v", o)
	}
	if attemptEvents > o.Attempts-o.Hedges {
		t.Fatalf("%d OnAttempt events for %d attempts and %d hedges", attemptEvents, o.Attempts, o.Hedges)
	}
	for i, b := range base.bodies {
		if b == nil {
			continue
		}
		returned := resp != nil && i+1 == o.Winner
		if b.closed.Load() == returned {
			t.Errorf("attempt %d: body closed = %v, returned = %v (Outcome %+v)", i+1, b.closed.Load(), returned, o)
		}
	}
	if resp != nil {
		if resp.StatusCode != o.Status {
			t.Errorf("returned %d, Outcome.Status %d", resp.StatusCode, o.Status)
		}
		resp.Body.Close()
		if b := base.bodies[o.Winner-1]; b == nil || !b.closed.Load() {
			t.Errorf("the returned body is not the winner's")
		}
	}
	synctest.Wait() // nothing left to run: the bubble would report it
}
