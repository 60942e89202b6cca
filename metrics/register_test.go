package metrics_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/metrics"
)

func TestRegisterTwice(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	first, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}

	_, err = metrics.New(reg)
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) || !strings.Contains(err.Error(), "WithReuse") {
		t.Fatalf("second New: err = %v, want an AlreadyRegisteredError that mentions WithReuse", err)
	}

	again, err := metrics.New(reg, metrics.WithReuse())
	if err != nil || again != first {
		t.Fatalf("New with WithReuse = %p, %v; want the first Metrics %p", again, err, first)
	}

	// Another namespace is another set of metrics.
	other, err := metrics.New(reg, metrics.WithNamespace("client"))
	if err != nil || other == first {
		t.Fatalf("New in another namespace = %p, %v; want a new Metrics", other, err)
	}

	// The same names with other labels cannot be shared.
	_, err = metrics.New(reg, metrics.WithHosts("api.test"), metrics.WithReuse())
	if err == nil || errors.As(err, &are) {
		t.Fatalf("New with a host label over one without: err = %v, want a label conflict", err)
	}
}

// TestReuseThroughWrapper registers through prometheus.WrapRegistererWith,
// as a library given a registry by its user would.
func TestReuseThroughWrapper(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	wrap := func() prometheus.Registerer {
		return prometheus.WrapRegistererWith(prometheus.Labels{"client": "billing"}, reg)
	}
	first, err := metrics.New(wrap())
	if err != nil {
		t.Fatal(err)
	}
	again, err := metrics.New(wrap(), metrics.WithReuse())
	if err != nil || again != first {
		t.Fatalf("New with WithReuse = %p, %v; want the first Metrics %p", again, err, first)
	}
	// Other wrapping labels: other series, no conflict.
	if _, err := metrics.New(prometheus.WrapRegistererWith(prometheus.Labels{"client": "search"}, reg)); err != nil {
		t.Fatal(err)
	}
}

func TestNewOptions(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m, err := metrics.New(reg,
		metrics.WithNamespace("shop"),
		metrics.WithSubsystem("payments"),
		metrics.WithConstLabels(prometheus.Labels{"service": "stripe"}),
	)
	if err != nil {
		t.Fatal(err)
	}
	tr := m.InstrumentTransport(&backoff.Transport{Base: &script{steps: []func(*http.Request) (*http.Response, error){status(204)}}})
	req, _ := http.NewRequest("DELETE", "http://api.test/cards/1", nil)
	if _, err := tr.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP shop_payments_http_attempts_total `+metrics.Help["http_attempts_total"]+`
# TYPE shop_payments_http_attempts_total counter
shop_payments_http_attempts_total{code="204",method="DELETE",service="stripe"} 1
`), "shop_payments_http_attempts_total"); err != nil {
		t.Error(err)
	}

	for _, c := range []struct {
		name string
		opts []metrics.Option
	}{
		{"invalid namespace", []metrics.Option{metrics.WithNamespace("my-app")}},
		{"constant label named like a variable one", []metrics.Option{metrics.WithConstLabels(prometheus.Labels{"method": "GET"})}},
		{"invalid constant label name", []metrics.Option{metrics.WithConstLabels(prometheus.Labels{"1st": "x"})}},
		{"buckets out of order", []metrics.Option{metrics.WithWaitBuckets(1, 0.5)}},
		{"no buckets", []metrics.Option{metrics.WithDurationBuckets()}},
		{"NaN bucket", []metrics.Option{metrics.WithAttemptsBuckets(1, 2, nan())}},
	} {
		if _, err := metrics.New(prometheus.NewRegistry(), c.opts...); err == nil {
			t.Errorf("%s: New succeeded, want an error", c.name)
		} else {
			t.Logf("%s: %v", c.name, err)
		}
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

// TestNilRegisterer: with no Registerer, New registers nothing, and the
// Metrics can be registered by the caller.
func TestNilRegisterer(t *testing.T) {
	before, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	m, err := metrics.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	after, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("New(nil) changed the default registry: %d families, then %d", len(before), len(after))
	}
	if err := prometheus.NewRegistry().Register(m); err != nil {
		t.Errorf("registering the Metrics: %v", err)
	}
}

// TestInstrumentKeepsHandlers checks that the user's handlers stay, run
// first, and that their slices are not written to.
func TestInstrumentKeepsHandlers(t *testing.T) {
	m := newMetrics(t)
	var order []string
	user := make([]backoff.Handler[*http.Response], 1, 4) // room to append in place
	user[0] = func(backoff.Details[*http.Response]) { order = append(order, "user") }
	tr := &backoff.Transport{
		Base:   &script{steps: []func(*http.Request) (*http.Response, error){status(200)}},
		Policy: backoff.Policy[*http.Response]{OnAttempt: user},
	}
	m.InstrumentTransport(tr)
	tr.Policy.OnAttempt = append(tr.Policy.OnAttempt, func(backoff.Details[*http.Response]) { order = append(order, "after") })
	if spare := user[:cap(user)]; spare[1] != nil {
		t.Error("InstrumentTransport wrote into the spare capacity of the user's slice")
	}
	req, _ := http.NewRequest("GET", "http://api.test/", nil)
	if _, err := tr.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, ",") != "user,after" {
		t.Errorf("handlers ran in order %v, want user, after", order)
	}
	if got := value(t, m, "backoff_http_attempts_total", "code", "200"); got != 1 {
		t.Errorf("%v attempts counted, want 1", got)
	}

	// A nil Metrics adds nothing.
	var off *metrics.Metrics
	tr2 := off.InstrumentTransport(&backoff.Transport{})
	p := metrics.InstrumentPolicy(off, &backoff.Policy[int]{})
	if len(tr2.Policy.OnAttempt)+len(tr2.Policy.OnBackoff)+len(tr2.Policy.OnGiveUp)+len(p.OnAttempt)+len(p.OnBackoff)+len(p.OnGiveUp) != 0 {
		t.Error("a nil Metrics added handlers")
	}
}
