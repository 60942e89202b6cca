// Quickstart is the Go version of the quickstart of Python's backoff
// package, which retries a GET with exponential backoff:
//
//	@backoff.on_exception(backoff.expo,
//	                      requests.exceptions.RequestException,
//	                      max_tries=5, max_time=30,
//	                      on_backoff=..., on_giveup=...)
//	def get_url(url):
//	    return requests.get(url)
//
// In Go the retrying lives in the client's http.RoundTripper: every request
// sent through a backoff.Transport is retried on transient failures
// (connection errors and 408, 425, 429, 500, 502, 503, 504 responses) as
// long as it is safe to send it again, as a GET is.
//
// The program starts its own flaky server on 127.0.0.1, so it needs no
// network access. Run it with:
//
//	go run ./examples/quickstart
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
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run makes the two requests of the demo and writes what happens to w.
func run(w io.Writer) error {
	srv := httptest.NewServer(flakyServer())
	defer srv.Close()

	// The retry settings: backoff.expo with max_tries=5 and max_time=30.
	// The waits are 100ms, 200ms, 400ms, … before jitter (Python's expo
	// starts at 1s; a smaller Factor keeps the demo quick), and full jitter
	// draws each actual wait at random between 0 and that value, as Python
	// does.
	transport := &backoff.Transport{
		Wait:        strategy.Expo{Factor: 100 * time.Millisecond},
		Jitter:      jitter.Full, // the default, spelled out
		MaxAttempts: 5,
		MaxTime:     30 * time.Second,

		Trace: &backoff.Trace{
			// on_backoff: called before every wait.
			OnBackoff: func(e backoff.Event) {
				fmt.Fprintf(w, "  backing off %s %s after attempt %d (%s), waiting %v\n",
					e.Request.Method, e.Request.URL.Host, e.Attempt, outcome(e), e.Wait.Round(time.Millisecond))
			},
			// on_giveup: called once when the Transport stops retrying.
			OnGiveUp: func(e backoff.Event) {
				fmt.Fprintf(w, "  giving up %s %s after %d attempts in %v (%s): %s\n",
					e.Request.Method, e.Request.URL.Host, e.Attempt, e.Elapsed.Round(time.Millisecond), outcome(e), string(e.Reason))
			},
		},
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}

	// 1. The server drops the connection, then answers 503, then 200: the
	// client sees only the 200.
	fmt.Fprintln(w, "GET /flaky: the server drops the first connection, answers 503, then 200")
	if err := get(w, client, srv.URL+"/flaky"); err != nil {
		return err
	}

	// 2. The server always answers 503: after 5 attempts the Transport gives
	// up and, like a plain http.Client, returns the last response with a
	// nil error, so the caller can still read its status and body.
	fmt.Fprintln(w, "GET /down: the server always answers 503; the last 503 comes back to the caller")
	return get(w, client, srv.URL+"/down")
}

// get sends a GET and prints the response that finally comes back.
func get(w io.Writer, client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err // no response at all: every attempt failed on the network
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  => %s: %q\n", resp.Status, strings.TrimSpace(string(body)))
	return nil
}

// outcome describes the attempt that just failed: its transport error, or
// its response status.
func outcome(e backoff.Event) string {
	if e.Response == nil {
		return e.Err.Error()
	}
	return fmt.Sprintf("%d %s", e.Response.StatusCode, http.StatusText(e.Response.StatusCode))
}

// flakyServer serves /flaky, which fails twice before it works, and /down,
// which never works.
func flakyServer() http.Handler {
	var attempts atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /flaky", func(w http.ResponseWriter, r *http.Request) {
		switch n := attempts.Add(1); n {
		case 1:
			// Close the connection without answering: the client gets a
			// transport error (EOF), as when a server crashes mid-request.
			// (It comes first, on a new connection, because net/http
			// itself quietly resends a GET whose reused connection drops.)
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		case 2:
			http.Error(w, "busy, try again", http.StatusServiceUnavailable)
		default:
			fmt.Fprintf(w, "hello, at attempt %d\n", n)
		}
	})
	mux.HandleFunc("GET /down", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	})
	return mux
}
