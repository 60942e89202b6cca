package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/metrics"
	"github.com/f99b3bbb/backoff/strategy"
)

// TestCountsMatchServer sends requests from many goroutines at once to a
// server that fails every third request it sees, and checks that the
// attempts counted are exactly the requests the server saw, that every
// request ended once, and that no wait is left in flight. Run it with
// -race. It drives operations through the engine at the same time, which
// share the Metrics.
func TestCountsMatchServer(t *testing.T) {
	var seen atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1)%3 == 0 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()

	m := newMetrics(t, metrics.WithHosts(srv.Listener.Addr().String()))
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	client := &http.Client{Transport: &backoff.Transport{
		Base:        base,
		Wait:        strategy.Constant{Interval: time.Millisecond},
		MaxAttempts: 4,
		Trace:       m.Trace(),
	}}
	var calls atomic.Int64
	op := metrics.InstrumentPolicy(m, &backoff.Policy[int]{
		Name:        "flaky",
		Wait:        strategy.Immediate,
		MaxAttempts: 4,
	})

	const workers, perWorker = 8, 25
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				resp, err := client.Get(fmt.Sprintf("%s/item/%d/%d", srv.URL, w, i))
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				op.Do(context.Background(), func(context.Context) (int, error) {
					if calls.Add(1)%4 == 0 {
						return 0, errors.New("unavailable")
					}
					return 1, nil
				})
			}
		})
	}
	wg.Wait()

	const requests = workers * perWorker
	attempts := total(t, m, "backoff_http_attempts_total")
	if want := float64(seen.Load()); attempts != want {
		t.Errorf("counted %v attempts, the server saw %v requests", attempts, want)
	}
	if retries := total(t, m, "backoff_http_retries_total"); attempts != requests+retries {
		t.Errorf("%v attempts, want %v requests + %v retries", attempts, requests, retries)
	}
	if n := total(t, m, "backoff_http_request_attempts"); n != requests {
		t.Errorf("%v requests' attempts, want %v", n, requests)
	}
	if n := value(t, m, "backoff_http_waits_in_flight", "host", srv.Listener.Addr().String()); n != 0 {
		t.Errorf("%v waits in flight, want 0", n)
	}

	opAttempts := total(t, m, "backoff_operation_attempts_total")
	if want := float64(calls.Load()); opAttempts != want {
		t.Errorf("counted %v operation attempts, the operation ran %v times", opAttempts, want)
	}
	if n := total(t, m, "backoff_operation_call_attempts"); n != requests {
		t.Errorf("%v operation calls, want %v", n, requests)
	}
	lint(t, m)
}

// TestErrorClassesOverTheNetwork checks the error classes of real
// transport errors: a refused connection, a per-attempt timeout, an
// untrusted certificate.
func TestErrorClassesOverTheNetwork(t *testing.T) {
	m := newMetrics(t)
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	newClient := func(attemptTimeout time.Duration) *http.Client {
		return &http.Client{Transport: &backoff.Transport{
			Base:           base,
			AttemptTimeout: attemptTimeout,
			Wait:           strategy.Immediate,
			MaxAttempts:    2,
			Trace:          m.Trace(),
		}}
	}

	// A port nobody listens on any more.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/"
	l.Close()
	if _, err := newClient(0).Get(closed); err == nil {
		t.Error("GET on a closed port succeeded")
	}

	// A server slower than the attempt timeout.
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer slow.Close()
	defer close(release)
	if _, err := newClient(20 * time.Millisecond).Get(slow.URL); err == nil {
		t.Error("GET on a slow server succeeded")
	}

	// A certificate the client does not trust.
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	if _, err := newClient(0).Get(tlsSrv.URL); err == nil {
		t.Error("GET with an untrusted certificate succeeded")
	}

	for code, want := range map[string]float64{"connection": 2, "timeout": 2, "tls": 1} {
		if got := value(t, m, "backoff_http_attempts_total", "code", code); got != want {
			t.Errorf("attempts with code %s: %v, want %v", code, got, want)
		}
	}
}
