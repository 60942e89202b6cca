package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/metrics"
	"github.com/f99b3bbb/backoff/strategy"
)

// closeTracker wraps a base transport and records whether every response
// body it returned was closed.
type closeTracker struct {
	rt             http.RoundTripper
	opened, closed atomic.Int32
}

type trackedBody struct {
	io.ReadCloser
	t    *closeTracker
	done atomic.Bool
}

func (b *trackedBody) Close() error {
	if !b.done.Swap(true) {
		b.t.closed.Add(1)
	}
	return b.ReadCloser.Close()
}

func (c *closeTracker) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(r)
	if resp != nil {
		c.opened.Add(1)
		resp.Body = &trackedBody{ReadCloser: resp.Body, t: c}
	}
	return resp, err
}

// A panic among the metrics' handlers (here a collector of the user's,
// called by a handler installed beside them) reaches the caller with its
// value, after the response in flight is closed: no connection is left
// open, no goroutine left behind.
func TestInstrumentedTransportPanic(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "unavailable")
			return
		}
		io.WriteString(w, "ok")
	}))
	base := &closeTracker{rt: &http.Transport{}}
	m, err := metrics.New(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "panic_test_total", Help: "x"})
	tr := &backoff.Transport{
		Base:           base,
		AttemptTimeout: time.Minute,
		Wait:           strategy.Constant{Interval: time.Millisecond},
		Jitter:         jitter.None,
		Trace:          backoff.JoinTraces(m.Trace(), &backoff.Trace{OnBackoff: func(backoff.Event) { c.Add(-1) }}),
	}
	m.ObserveBudget(tr.RetryBudget())

	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := func() (v any) {
		defer func() { v = recover() }()
		resp, err := tr.RoundTrip(req)
		if resp != nil {
			resp.Body.Close()
		}
		t.Errorf("RoundTrip = %v, %v; want a panic", resp, err)
		return nil
	}()
	if err, ok := got.(error); !ok || err.Error() != "counter cannot decrease in value" {
		t.Errorf("recovered %#v, want the collector's panic", got)
	}
	if o, c := base.opened.Load(), base.closed.Load(); o != 1 || c != 1 {
		t.Errorf("the Base returned %d responses, %d closed; want 1 and 1", o, c)
	}
	tr.CloseIdleConnections()
	base.rt.(*http.Transport).CloseIdleConnections()
	srv.Close()
	goleak.VerifyNone(t)
}
