// Promapi plugs a backoff.Transport into a real SDK client: the Prometheus
// HTTP API client of client_golang (packages api and api/prometheus/v1),
// which takes any http.RoundTripper in its api.Config.
//
// The program runs a fake Prometheus on 127.0.0.1 that answers
// /api/v1/query with valid JSON but fails now and then: it resets a
// connection, answers 503, and once 429 with "Retry-After: 1". Every query
// still succeeds, and our metrics show what it took. It needs no network
// access and ends in about a second (the Retry-After). Run it with:
//
//	go run ./examples/promapi
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/metrics"
	"github.com/f99b3bbb/backoff/strategy"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "promapi:", err)
		os.Exit(1)
	}
}

// queries are the demo's queries, evaluated at a fixed time.
var queries = []string{`up`, `sum(rate(http_requests_total[5m]))`, `count(up == 0)`}

var at = time.Unix(1700000000, 0)

func run(ctx context.Context, w io.Writer) error {
	prom := newFakePrometheus()
	srv := httptest.NewServer(prom)
	defer srv.Close()

	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		return err
	}
	transport := &backoff.Transport{
		Wait:           strategy.Expo{Factor: 10 * time.Millisecond, Max: 100 * time.Millisecond},
		MaxAttempts:    4,
		MaxTime:        10 * time.Second,
		AttemptTimeout: 5 * time.Second,
		// The API client sends its queries as POST, with the PromQL in a
		// form-encoded body so that long expressions fit (it falls back to
		// GET on 403, 405 or 501). The Transport retries a POST after a
		// failure that may have reached the server (a reset, a 503) only
		// if the request is idempotent, and a query only reads: it is
		// safe to send again. readOnly says so for the query endpoints.
		// (The body can be sent again too: http.NewRequest gives the
		// client's strings.Reader a GetBody.)
		Idempotent: readOnly,
		// The metrics' hooks, set before the Transport's first use.
		Trace: m.Trace(),
	}
	m.ObserveBudget(transport.RetryBudget())
	defer transport.CloseIdleConnections()

	client, err := api.NewClient(api.Config{Address: srv.URL, RoundTripper: transport})
	if err != nil {
		return err
	}
	promAPI := v1.NewAPI(client)

	for _, q := range queries {
		// The context bounds the whole call, retries and waits included.
		// backoff.WithIdempotent(ctx, true) would mark this one call as
		// safe to repeat, the per-call alternative to readOnly.
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		v, warnings, err := promAPI.Query(qctx, q, at)
		cancel()
		if err != nil {
			return fmt.Errorf("query %s: %w", q, err)
		}
		fmt.Fprintf(w, "%s (%s):\n", q, v.Type())
		if v.String() == "" {
			fmt.Fprintln(w, "  (no series)")
		}
		for line := range strings.Lines(v.String()) {
			fmt.Fprintf(w, "  %s\n", strings.TrimSuffix(line, "\n"))
		}
		for _, warning := range warnings {
			fmt.Fprintf(w, "  warning: %s\n", warning)
		}
	}

	fmt.Fprintf(w, "\nthe fake Prometheus answered: %s\n", strings.Join(prom.answers(), ", "))
	fmt.Fprintln(w, "\nour metrics (excerpt):")
	return printMetrics(w, reg)
}

// readOnlyPaths are the Prometheus API endpoints that the client may send
// as POST and that only read.
var readOnlyPaths = []string{
	"/api/v1/query", "/api/v1/query_range", "/api/v1/query_exemplars",
	"/api/v1/series", "/api/v1/labels",
}

// readOnly is the Transport's Idempotent rule: the default rule (GET, PUT,
// DELETE, …, or an Idempotency-Key header) plus the read-only endpoints of
// the Prometheus API, whatever their method. (client_golang v1.24 happens
// to mark these POSTs with an empty Idempotency-Key header, for net/http's
// own retry, which the default rule honours too; this rule does not depend
// on that detail of one version of the client.)
func readOnly(req *http.Request) bool {
	for _, p := range readOnlyPaths {
		if strings.HasSuffix(req.URL.Path, p) {
			return true
		}
	}
	return backoff.DefaultIdempotent(req)
}

// printMetrics prints our counters and the attempts per request, in the
// text format Prometheus scrapes.
func printMetrics(w io.Writer, reg *prometheus.Registry) error {
	fams, err := reg.Gather()
	if err != nil {
		return err
	}
	var text strings.Builder
	for _, f := range fams {
		if _, err := expfmt.MetricFamilyToText(&text, f); err != nil {
			return err
		}
	}
	for _, line := range strings.Split(text.String(), "\n") {
		for _, name := range []string{
			"backoff_http_attempts_total{", "backoff_http_retries_total{", "backoff_http_giveups_total{",
			"backoff_http_request_attempts_sum{", "backoff_http_request_attempts_count{",
			"backoff_http_retry_after_seconds_sum{",
		} {
			if strings.HasPrefix(line, name) {
				fmt.Fprintf(w, "  %s\n", line)
			}
		}
	}
	return nil
}

// fakePrometheus answers /api/v1/query, failing on purpose by a fixed
// script: the first request's connection is reset, the second gets a 503,
// the fourth a 429 with Retry-After: 1, the sixth a 503 again.
type fakePrometheus struct {
	mu  sync.Mutex
	log []string // what each request got
}

func newFakePrometheus() *fakePrometheus { return new(fakePrometheus) }

func (p *fakePrometheus) answers() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.log...)
}

func (p *fakePrometheus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	n := len(p.log) + 1
	answer := "200"
	switch n {
	case 1:
		answer = "reset"
	case 2, 6:
		answer = "503"
	case 4:
		answer = "429 (Retry-After: 1)"
	}
	p.log = append(p.log, answer)
	p.mu.Unlock()

	switch {
	case answer == "reset":
		// The first request comes on a new connection, which net/http does
		// not retry by itself: the error reaches our Transport.
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.(*net.TCPConn).SetLinger(0) // close with RST
			conn.Close()
		}
	case answer == "503":
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	case strings.HasPrefix(answer, "429"):
		w.Header().Set("Retry-After", "1")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	case r.URL.Path != "/api/v1/query":
		http.NotFound(w, r)
	default:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[%s]}}`, results[r.FormValue("query")])
	}
}

// results are the fake answers to the demo's queries, as JSON samples.
var results = map[string]string{
	`up`: `{"metric":{"__name__":"up","job":"prometheus","instance":"127.0.0.1:9090"},"value":[1700000000,"1"]},` +
		`{"metric":{"__name__":"up","job":"node","instance":"127.0.0.1:9100"},"value":[1700000000,"1"]}`,
	`sum(rate(http_requests_total[5m]))`: `{"metric":{},"value":[1700000000,"12.5"]}`,
	`count(up == 0)`:                     ``,
}
