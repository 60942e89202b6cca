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

	// The policy: backoff.expo with max_tries=5 and max_time=30. The waits
	// are 100ms, 200ms, 400ms, … before jitter (Python's expo starts at 1s;
	// a smaller Factor keeps the demo quick), and full jitter draws each
	// actual wait at random between 0 and that value, as Python does.
	policy := backoff.Policy[*http.Response]{
		Wait:        strategy.Expo{Factor: 100 * time.Millisecond},
		Jitter:      jitter.Full, // the default, spelled out
		MaxAttempts: 5,
		MaxTime:     30 * time.Second,

		// on_backoff: called before every wait.
		OnBackoff: []backoff.Handler[*http.Response]{func(d backoff.Details[*http.Response]) {
			fmt.Fprintf(w, "  backing off %s %s after try %d (%s), waiting %v\n",
				d.Method, d.Host, d.Attempts, outcome(d), d.Wait.Round(time.Millisecond))
		}},
		// on_giveup: called once when the policy stops retrying.
		OnGiveUp: []backoff.Handler[*http.Response]{func(d backoff.Details[*http.Response]) {
			fmt.Fprintf(w, "  giving up %s %s after %d tries in %v (%s): %s\n",
				d.Method, d.Host, d.Attempts, d.Elapsed.Round(time.Millisecond), outcome(d), string(d.Reason))
		}},
	}

	transport := &backoff.Transport{Policy: policy}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}

	// 1. The server drops the connection, then answers 503, then 200: the
	// client sees only the 200.
	fmt.Fprintln(w, "GET /flaky: the server drops the first connection, answers 503, then 200")
	if err := get(w, client, srv.URL+"/flaky"); err != nil {
		return err
	}

	// 2. The server always answers 503: after 5 tries the Transport gives
	// up and, like a plain http.Client, returns the last response with a
	// nil error, so the caller can still read its status and body.
	fmt.Fprintln(w, "GET /down: the server always answers 503; the last 503 comes back to the caller")
	return get(w, client, srv.URL+"/down")
}

// get sends a GET and prints the response that finally comes back.
func get(w io.Writer, client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err // no response at all: every try failed on the network
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  => %s: %q\n", resp.Status, strings.TrimSpace(string(body)))
	return nil
}

// outcome describes the try that just failed: its transport error, or its
// response status.
func outcome(d backoff.Details[*http.Response]) string {
	if d.Err != nil {
		return d.Err.Error()
	}
	return fmt.Sprintf("%d %s", d.StatusCode, http.StatusText(d.StatusCode))
}

// flakyServer serves /flaky, which fails twice before it works, and /down,
// which never works.
func flakyServer() http.Handler {
	var tries atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /flaky", func(w http.ResponseWriter, r *http.Request) {
		switch n := tries.Add(1); n {
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
			fmt.Fprintf(w, "hello, at try %d\n", n)
		}
	})
	mux.HandleFunc("GET /down", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	})
	return mux
}
