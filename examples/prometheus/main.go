// Prometheus shows the metrics of a backoff.Transport: a client with
// metrics sends a few dozen requests to a flaky local server, then the
// program scrapes its own /metrics endpoint, served by promhttp, and
// prints the library's series (all but the histogram buckets).
//
// Both servers listen on 127.0.0.1 only, so the program needs no network
// access, and it exits by itself in about a second (one request honours a
// one-second Retry-After). Run it with:
//
//	go run ./examples/prometheus
//
// With -serve it keeps serving /metrics until interrupted, for a look with
// curl or a local Prometheus:
//
//	go run ./examples/prometheus -serve -addr 127.0.0.1:9464
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/metrics"
	"github.com/f99b3bbb/backoff/strategy"
)

func main() {
	serve := flag.Bool("serve", false, "keep serving /metrics until interrupted")
	addr := flag.String("addr", "127.0.0.1:0", "`address` of the /metrics listener")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, config{metricsAddr: *addr, serve: *serve}); err != nil {
		fmt.Fprintln(os.Stderr, "prometheus:", err)
		os.Exit(1)
	}
}

type config struct {
	metricsAddr string // listener of /metrics; empty means 127.0.0.1:0
	serve       bool   // keep serving /metrics until ctx is done
}

// items is the number of GET /items/{id} requests of the demo, beside the
// five special ones.
const items = 30

// run makes the requests of the demo, then prints the library's series as
// scraped from /metrics.
func run(ctx context.Context, w io.Writer, cfg config) error {
	api := newFlakyServer()
	apiURL, stopAPI, err := listen("127.0.0.1:0", api)
	if err != nil {
		return err
	}
	defer stopAPI()

	// The metrics go to a registry of the program's own, served on a
	// loopback listener. The latency histograms are opt-in: the default
	// metrics read no clock for a request that succeeds at its first
	// attempt; this demo shows the whole-call and per-attempt durations.
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.WithRequestDurations(), metrics.WithAttemptDurations())
	if err != nil {
		return err
	}
	if cfg.metricsAddr == "" {
		cfg.metricsAddr = "127.0.0.1:0"
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	metricsURL, stopMetrics, err := listen(cfg.metricsAddr, mux)
	if err != nil {
		return err
	}
	defer stopMetrics()

	// The client: short waits, three attempts, the metrics' Trace. The
	// server fails on purpose far more often than the retry budget allows
	// in the long run (a tenth of the requests), but a new host's reserve
	// of 100 retries covers this run: the counts do not depend on the order
	// in which the requests run. Past the reserve, the retries the budget
	// refuses show as give-ups with reason "budget".
	transport := &backoff.Transport{
		Wait:        strategy.Expo{Factor: 10 * time.Millisecond, Max: 100 * time.Millisecond},
		MaxAttempts: 3,
		Trace:       m.Trace(),
	}
	// The budget's gauges: the hosts that spent retries, and those refused.
	m.ObserveBudget(transport.RetryBudget())
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}

	start := time.Now()
	n, err := sendAll(ctx, client, apiURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%d requests in %v; the server saw %d\n\n", n, time.Since(start).Round(10*time.Millisecond), api.seen.Load())

	// Scrape our own endpoint, as Prometheus would.
	if err := printSeries(ctx, w, metricsURL+"/metrics"); err != nil {
		return err
	}
	if cfg.serve {
		fmt.Fprintf(w, "\nserving %s/metrics until interrupted\n", metricsURL)
		<-ctx.Done()
	}
	return nil
}

// sendAll sends the requests of the demo from four goroutines and returns
// how many it sent.
func sendAll(ctx context.Context, client *http.Client, base string) (int, error) {
	type job struct{ method, path string }
	var jobs []job
	for i := range items {
		jobs = append(jobs, job{"GET", "/items/" + strconv.Itoa(i)})
	}
	jobs = append(jobs,
		job{"GET", "/slow-down"},
		job{"GET", "/closed"},
		job{"POST", "/orders"},
		job{"POST", "/orders"},
		job{"GET", "/gone"},
	)

	queue := make(chan job)
	errs := make(chan error, len(jobs))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for j := range queue {
				errs <- send(ctx, client, j.method, base+j.path)
			}
		})
	}
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return len(jobs), errors.Join(all...)
}

// send sends one request and reads the response the Transport returns,
// whatever its status: giving up returns the last response.
func send(ctx context.Context, client *http.Client, method, url string) error {
	var body io.Reader
	if method == "POST" {
		body = strings.NewReader(`{"item":1}`)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// printSeries fetches the exposition at url and prints the library's
// series, leaving out the histogram buckets and the comments.
func printSeries(ctx context.Context, w io.Writer, url string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		name, _, _ := strings.Cut(line, "{")
		if strings.HasPrefix(name, "backoff_") && !strings.HasSuffix(name, "_bucket") {
			fmt.Fprintln(w, line)
		}
	}
	return sc.Err()
}

// listen serves h on addr until the returned function is called, and
// returns the base URL.
func listen(addr string, h http.Handler) (string, func(), error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	}
	return "http://" + l.Addr().String(), stop, nil
}

// flakyServer fails in ways that are fixed by the request, whatever the
// order in which the requests arrive:
//
//   - GET /items/{id}: 200, except for ids ending in 3 (one 503 first),
//     7 (two 502s first) and 9 (500 every time);
//   - GET /slow-down: 429 with Retry-After: 1 the first time, then 200;
//   - GET /closed: 503 with Retry-After: 120, more than a Transport
//     waits by default (60s);
//   - POST /orders: 503, and a POST is not sent again;
//   - GET /gone: 404.
type flakyServer struct {
	*http.ServeMux
	seen atomic.Int64 // requests received

	mu    sync.Mutex
	tries map[string]int // by path
}

func newFlakyServer() *flakyServer {
	s := &flakyServer{ServeMux: http.NewServeMux(), tries: make(map[string]int)}
	s.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		n := s.try(r)
		id := r.PathValue("id")
		switch last := id[len(id)-1]; {
		case last == '3' && n <= 1:
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
		case last == '7' && n <= 2:
			http.Error(w, "bad gateway", http.StatusBadGateway)
		case last == '9':
			http.Error(w, "broken", http.StatusInternalServerError)
		default:
			fmt.Fprintf(w, `{"id":%q}`, id)
		}
	})
	s.HandleFunc("GET /slow-down", func(w http.ResponseWriter, r *http.Request) {
		if s.try(r) == 1 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, "thanks")
	})
	s.HandleFunc("GET /closed", func(w http.ResponseWriter, r *http.Request) {
		s.try(r)
		w.Header().Set("Retry-After", "120")
		http.Error(w, "closed for two minutes", http.StatusServiceUnavailable)
	})
	s.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		s.try(r)
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	})
	s.HandleFunc("GET /gone", func(w http.ResponseWriter, r *http.Request) {
		s.try(r)
		http.NotFound(w, r)
	})
	return s
}

// try counts a request and returns its number among those for its path.
func (s *flakyServer) try(r *http.Request) int {
	s.seen.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tries[r.URL.Path]++
	return s.tries[r.URL.Path]
}
