// Hedging shows how a backoff.Transport with Hedging cuts the tail latency
// of a server that is sometimes slow: a request not answered within the
// hedge delay is sent again, in parallel, and the first answer wins; the
// other attempt is cancelled.
//
// The program starts its own server on 127.0.0.1, which answers in 2ms but
// takes 500ms for one request in 50 it receives, and sends the same 500
// GETs from 8 goroutines twice: through a Transport without hedging, then
// through one with Hedging{Delay: 20ms}. It prints the latencies and the
// requests the server received per request sent. Run it with:
//
//	go run ./examples/hedging
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/f99b3bbb/backoff"
)

const (
	requests = 500
	workers  = 8
	fast     = 2 * time.Millisecond
	slow     = 500 * time.Millisecond
	slowOne  = 50 // one request in slowOne is slow
	delay    = 20 * time.Millisecond
)

func main() {
	if _, err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "hedging:", err)
		os.Exit(1)
	}
}

// result is what one run measured.
type result struct {
	p50, p99, max time.Duration
	perRequest    float64 // requests received by the server per request sent
	hedges, won   int     // hedges sent, requests a hedge answered
}

// run makes the two runs of the demo and writes what they measured to w.
func run(w io.Writer) ([2]result, error) {
	var received atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		d := fast
		if received.Add(1)%slowOne == 0 {
			d = slow
		}
		select {
		case <-time.After(d):
			io.WriteString(rw, "ok")
		case <-r.Context().Done(): // a hedge answered first
		}
	}))
	defer srv.Close()

	var results [2]result
	for i, h := range []*backoff.Hedging{nil, {Delay: delay}} {
		tr := &backoff.Transport{Hedging: h}
		received.Store(0)
		r, err := measure(&http.Client{Transport: tr}, srv.URL)
		tr.CloseIdleConnections()
		if err != nil {
			return results, err
		}
		r.perRequest = float64(received.Load()) / requests
		results[i] = r
		name := "without hedging"
		if h != nil {
			name = fmt.Sprintf("hedged after %v", h.Delay)
		}
		fmt.Fprintf(w, "%-20s p50 %6v  p99 %6v  max %6v  %.3f requests received per request, %d hedges, %d won by a hedge\n",
			name, r.p50.Round(100*time.Microsecond), r.p99.Round(100*time.Microsecond), r.max.Round(100*time.Microsecond), r.perRequest, r.hedges, r.won)
	}
	return results, nil
}

// measure sends the requests from the workers and returns their latencies.
func measure(client *http.Client, url string) (result, error) {
	var (
		mu        sync.Mutex
		latencies []time.Duration
		r         result
		firstErr  error
		next      atomic.Int64
		wg        sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= requests {
				var o backoff.Outcome
				req, err := http.NewRequestWithContext(backoff.WithOutcome(context.Background(), &o), http.MethodGet, url, nil)
				if err != nil {
					panic(err)
				}
				start := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				took := time.Since(start)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				latencies = append(latencies, took)
				r.hedges += o.Hedges
				if o.HedgeWon {
					r.won++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return r, firstErr
	}
	slices.Sort(latencies)
	at := func(q float64) time.Duration { return latencies[int(q*float64(len(latencies)-1))] }
	r.p50, r.p99, r.max = at(0.5), at(0.99), latencies[len(latencies)-1]
	return r, nil
}
