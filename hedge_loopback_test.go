package backoff_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/f99b3bbb/backoff"
)

// hedgeServer is a loopback server whose first attempt of each call is
// slow (2s, or until the client cancels it) and whose hedges answer at
// once, with a body. It counts the requests it handles, those in flight,
// and its connections by state.
type hedgeServer struct {
	*httptest.Server
	requests, inFlight, canceled atomic.Int32
	opened, closed               atomic.Int32
}

func newHedgeServer(t *testing.T, h2 bool, firstDelay time.Duration) *hedgeServer {
	s := &hedgeServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		if r.Header.Get("X-Attempt") == "1" {
			select {
			case <-time.After(firstDelay):
			case <-r.Context().Done():
				s.canceled.Add(1)
				return
			}
		}
		w.Header().Set("Content-Length", "1024")
		w.Write(make([]byte, 1024))
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			s.opened.Add(1)
		case http.StateClosed, http.StateHijacked:
			s.closed.Add(1)
		}
	}
	if h2 {
		s.EnableHTTP2 = true
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// settle waits, for at most a generous while, until cond holds.
func settle(cond func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// TestHedgeLoopback sends hedged calls over real connections, HTTP/1 and
// HTTP/2: every call is answered by its hedge, every loser ends on the
// server and on the client, every body is closed, and no goroutine or
// connection is left once the idle ones are closed.
func TestHedgeLoopback(t *testing.T) {
	for _, tt := range []struct {
		name       string
		h2         bool
		firstDelay time.Duration
	}{
		{"HTTP/1 loser cancelled", false, 2 * time.Second},
		{"HTTP/2 loser cancelled", true, 2 * time.Second},
		// The original answers about when its hedge does: either may
		// win, and the loser's response, if any, is closed.
		{"HTTP/1 both answer", false, 20 * time.Millisecond},
		{"HTTP/2 both answer", true, 20 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// After the server's Close, a Cleanup too.
			ignore := goleak.IgnoreCurrent()
			t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
			srv := newHedgeServer(t, tt.h2, tt.firstDelay)
			base := srv.Client().Transport.(*http.Transport).Clone()
			var bodies bodyLog
			var n atomic.Int32
			tracked := rtFunc(func(r *http.Request) (*http.Response, error) {
				resp, err := base.RoundTrip(r)
				bodies.track(resp, n.Add(1))
				return resp, err
			})
			tr := &backoff.Transport{
				Base:          tracked,
				AttemptHeader: "X-Attempt",
				Hedging:       &backoff.Hedging{Delay: 20 * time.Millisecond},
				Budget:        backoff.DisabledBudget(),
			}
			const calls = 20
			hedges := 0
			for range calls {
				var o backoff.Outcome
				req, _ := http.NewRequestWithContext(backoff.WithOutcome(context.Background(), &o), http.MethodGet, srv.URL, nil)
				resp, err := tr.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				if b, _ := io.ReadAll(resp.Body); len(b) != 1024 {
					t.Errorf("body of %d bytes, want 1024", len(b))
				}
				resp.Body.Close()
				hedges += o.Hedges
				if o.Attempts != o.Hedges+1 || o.Status != 200 {
					t.Errorf("Outcome = %+v, want 200 after one attempt and its hedges", o)
				}
				if tt.firstDelay > time.Second && (o.Hedges != 1 || o.Winner != 2) {
					t.Errorf("Outcome = %+v, want the hedge to win", o)
				}
			}
			if tt.firstDelay > time.Second && hedges != calls {
				t.Errorf("%d hedges, want %d", hedges, calls)
			}
			bodies.mu.Lock()
			for _, b := range bodies.bodies {
				if !b.closed.Load() {
					t.Errorf("%s not closed", b.name)
				}
			}
			bodies.mu.Unlock()
			if !settle(func() bool { return srv.inFlight.Load() == 0 }) {
				t.Errorf("%d requests still running on the server", srv.inFlight.Load())
			}
			// A hedge cancelled before the server read it is not handled.
			if got, want := srv.requests.Load(), int32(calls+hedges); got > want || got < calls {
				t.Errorf("server handled %d requests, want %d to %d", got, calls, want)
			}
			if tt.firstDelay > time.Second && srv.requests.Load() != int32(calls+hedges) {
				t.Errorf("server handled %d requests, want %d", srv.requests.Load(), calls+hedges)
			}
			// A connection whose last stream was reset becomes idle a
			// little after the reset.
			if !settle(func() bool { base.CloseIdleConnections(); return srv.opened.Load() == srv.closed.Load() }) {
				t.Errorf("connections: %d opened, %d closed; want all closed", srv.opened.Load(), srv.closed.Load())
			}
			if !tt.h2 && tt.firstDelay > time.Second && srv.opened.Load() > calls+1 {
				// A cancelled HTTP/1 attempt costs its connection; the
				// hedges' are reused.
				t.Errorf("%d connections for %d calls, want at most %d", srv.opened.Load(), calls, calls+1)
			}
			if tt.h2 && srv.opened.Load() > 2 {
				// The first call's hedge may dial before the original's
				// connection is up.
				t.Errorf("%d HTTP/2 connections, want 1 or 2", srv.opened.Load())
			}
			t.Logf("%d calls, %d hedges, %d requests, %d cancelled on the server, %d connections", calls, hedges, srv.requests.Load(), srv.canceled.Load(), srv.opened.Load())
		})
	}
}
