package metrics_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/metrics"
	"github.com/f99b3bbb/backoff/strategy"
)

// flakyBase is an in-memory RoundTripper that answers 503 to the first
// failures requests, then 200.
type flakyBase struct{ failures int }

func (f *flakyBase) RoundTrip(req *http.Request) (*http.Response, error) {
	code := http.StatusOK
	if f.failures > 0 {
		f.failures--
		code = http.StatusServiceUnavailable
	}
	return &http.Response{StatusCode: code, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

// printSeries prints the samples of the metrics named, without the HELP
// and TYPE lines.
func printSeries(c prometheus.Collector, names ...string) {
	text, err := testutil.CollectAndFormat(c, expfmt.TypeTextPlain, names...)
	if err != nil {
		fmt.Println(err)
		return
	}
	for line := range bytes.Lines(text) {
		if !bytes.HasPrefix(line, []byte("#")) {
			fmt.Print(string(line))
		}
	}
}

// A Transport reports its attempts, retries and give-ups to a registry of
// the program's choosing, in one line beside its configuration.
func Example() {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		panic(err)
	}
	client := &http.Client{Transport: m.InstrumentTransport(&backoff.Transport{
		Base:   &flakyBase{failures: 2}, // a real program leaves Base nil
		Policy: backoff.Policy[*http.Response]{Wait: strategy.Immediate},
	})}

	resp, err := client.Get("http://api.example.com/v1/items?page=2")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)

	printSeries(m, "backoff_http_attempts_total", "backoff_http_retries_total")
	// Output:
	// 200
	// backoff_http_attempts_total{code="200",method="GET"} 1
	// backoff_http_attempts_total{code="503",method="GET"} 2
	// backoff_http_retries_total{method="GET",reason="status"} 2
}

// Outside HTTP, a Policy's Name labels its metrics.
func ExampleInstrumentPolicy() {
	m, err := metrics.New(prometheus.NewRegistry())
	if err != nil {
		panic(err)
	}
	errBusy := errors.New("busy")
	p := metrics.InstrumentPolicy(m, &backoff.Policy[string]{
		Name:        "load_profile",
		Wait:        strategy.Immediate,
		MaxAttempts: 3,
	})

	calls := 0
	_, err = p.Do(context.Background(), func(context.Context) (string, error) {
		calls++
		return "", errBusy
	})
	fmt.Println(err)

	printSeries(m, "backoff_operation_attempts_total", "backoff_operation_retries_total", "backoff_operation_giveups_total")
	// Output:
	// backoff: giving up after 3 tries (max_tries): last error: busy
	// backoff_operation_attempts_total{operation="load_profile",result="other"} 3
	// backoff_operation_giveups_total{operation="load_profile",reason="max_tries"} 1
	// backoff_operation_retries_total{operation="load_profile",reason="error"} 2
}

// With WithHosts, the HTTP metrics tell the hosts of an allow-list apart;
// every other host is "other".
func ExampleWithHosts() {
	m, err := metrics.New(prometheus.NewRegistry(), metrics.WithHosts("api.example.com"))
	if err != nil {
		panic(err)
	}
	tr := m.InstrumentTransport(&backoff.Transport{Base: &flakyBase{}})
	for _, url := range []string{"http://api.example.com/a", "http://api.example.com:8080/b", "http://tracker.example.net/c"} {
		req, _ := http.NewRequest("GET", url, nil)
		if resp, err := tr.RoundTrip(req); err == nil {
			resp.Body.Close()
		}
	}
	printSeries(m, "backoff_http_attempts_total")
	// Output:
	// backoff_http_attempts_total{code="200",host="api.example.com",method="GET"} 2
	// backoff_http_attempts_total{code="200",host="other",method="GET"} 1
}

// Two parts of a program that each create their metrics on the same
// registry share them with WithReuse; without it, the second New fails.
func ExampleWithReuse() {
	reg := prometheus.NewRegistry()
	first, err := metrics.New(reg)
	if err != nil {
		panic(err)
	}

	_, err = metrics.New(reg)
	fmt.Println(strings.Contains(err.Error(), "already registered"), errors.As(err, new(prometheus.AlreadyRegisteredError)))

	second, err := metrics.New(reg, metrics.WithReuse())
	fmt.Println(second == first, err)
	// Output:
	// true true
	// true <nil>
}
