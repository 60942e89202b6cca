// Retryafter shows how a backoff.Transport honours the Retry-After header
// of a 429 (Too Many Requests) or 503 response: the statuses of
// Transport.RetryAfterStatuses when it is nil.
//
// The wait a server asks for is a floor: the Transport never retries
// earlier, whatever its own backoff strategy and jitter say (it only adds a
// little at random, upward, so that clients told the same time do not all
// come back at once). A server that asks for more than MaxRetryAfter is not
// waited for at all: the Transport gives up at once and returns that
// response to the caller, who can decide what to do with it.
//
// The program starts its own server on 127.0.0.1, so it needs no network
// access. Run it with:
//
//	go run ./examples/retryafter
package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/strategy"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "retryafter:", err)
		os.Exit(1)
	}
}

// run makes the two requests of the demo and writes what happens to w.
func run(w io.Writer) error {
	srv := httptest.NewServer(rateLimitedServer())
	defer srv.Close()

	transport := &backoff.Transport{
		// Without Retry-After the waits would be at most 100ms, 200ms, …
		// (full jitter by default); Retry-After overrides them.
		Wait:        strategy.Expo{Factor: 100 * time.Millisecond},
		MaxAttempts: 3,
		// Never wait longer than this for a server; the default is 60s.
		MaxRetryAfter: 10 * time.Second,

		Trace: &backoff.Trace{
			OnBackoff: func(e backoff.Event) {
				fmt.Fprintf(w, "  backing off %s %s after attempt %d (%s), Retry-After %v, waiting %v\n",
					e.Request.Method, e.Request.URL.Host, e.Attempt, status(e.Response), e.RetryAfter, e.Wait.Round(time.Millisecond))
			},
			OnGiveUp: func(e backoff.Event) {
				fmt.Fprintf(w, "  giving up %s %s after attempt %d (%s), Retry-After %v: %s\n",
					e.Request.Method, e.Request.URL.Host, e.Attempt, status(e.Response), e.RetryAfter, string(e.Reason))
			},
		},
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}

	// 1. A short Retry-After is honoured: the retry comes a second later.
	fmt.Fprintln(w, "GET /busy: 429 with Retry-After: 1, then 200")
	if err := get(w, client, srv.URL+"/busy"); err != nil {
		return err
	}

	// 2. An hour is over MaxRetryAfter: no retry, and the caller gets the
	// 429 itself (with a nil error), Retry-After header included.
	fmt.Fprintln(w, "GET /closed: 429 with Retry-After: 3600, over MaxRetryAfter (10s)")
	return get(w, client, srv.URL+"/closed")
}

// get sends a GET and prints the response that finally comes back, with
// the time the whole call took.
func get(w io.Writer, client *http.Client, url string) error {
	start := time.Now()
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  => %s after %v: %q", resp.Status,
		time.Since(start).Round(time.Millisecond), strings.TrimSpace(string(body)))
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		fmt.Fprintf(w, " (Retry-After: %s)", ra)
	}
	fmt.Fprintln(w)
	return nil
}

// status describes an attempt's response, or its absence.
func status(resp *http.Response) string {
	if resp == nil {
		return "no response"
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
}

// rateLimitedServer serves /busy, which turns the first request away for a
// second, and /closed, which turns every request away for an hour.
func rateLimitedServer() http.Handler {
	var busy atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /busy", func(w http.ResponseWriter, r *http.Request) {
		if busy.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		fmt.Fprintln(w, "welcome back")
	})
	mux.HandleFunc("GET /closed", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		http.Error(w, "closed for the next hour", http.StatusTooManyRequests)
	})
	return mux
}
