package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/metrics"
	"github.com/f99b3bbb/backoff/strategy"
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
	tr := &backoff.Transport{Base: &script{steps: []func(*http.Request) (*http.Response, error){status(204)}}, Trace: m.Trace()}
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

// TestTraceComposes checks that the metrics' Trace joins the user's, whose
// hooks run first, and that nothing the user built is modified.
func TestTraceComposes(t *testing.T) {
	m := newMetrics(t)
	var order []string
	user := &backoff.Trace{OnAttempt: func(backoff.Event) { order = append(order, "user") }}
	after := &backoff.Trace{OnAttempt: func(backoff.Event) { order = append(order, "after") }}
	trace := backoff.JoinTraces(user, m.Trace(), after)
	tr := &backoff.Transport{
		Base:  &script{steps: []func(*http.Request) (*http.Response, error){status(200)}},
		Trace: trace,
	}
	req, _ := http.NewRequest("GET", "http://api.test/", nil)
	if _, err := tr.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, ",") != "user,after" {
		t.Errorf("hooks ran in order %v, want user, after", order)
	}
	if got := value(t, m, "backoff_http_attempts_total", "code", "200"); got != 1 {
		t.Errorf("%v attempts counted, want 1", got)
	}
	if tr.Trace != trace || user.OnBackoff != nil || user.OnGiveUp != nil || user.OnSuccess != nil {
		t.Error("the Transport's Trace or the user's Trace was modified")
	}

	// Every call returns a Trace of its own: modifying one leaves the
	// next intact.
	t1, t2 := m.Trace(), m.Trace()
	if t1 == t2 {
		t.Error("Trace returned the same *Trace twice")
	}
	t1.OnAttempt = nil
	if t2.OnAttempt == nil || m.Trace().OnAttempt == nil {
		t.Error("modifying one Trace changed another")
	}
	if m.Trace().OnSuccess != nil {
		t.Error("the metrics' Trace has an OnSuccess hook, which costs a first-try success an event")
	}
}

// TestTraceSharedByTransports checks that one Trace set on two Transports
// counts each request once, and that a Transport without it counts none.
func TestTraceSharedByTransports(t *testing.T) {
	m := newMetrics(t)
	trace := m.Trace()
	ok := func() *script { return &script{steps: []func(*http.Request) (*http.Response, error){status(200)}} }
	a := &backoff.Transport{Base: ok(), Trace: trace}
	b := &backoff.Transport{Base: ok(), Trace: trace}
	plain := &backoff.Transport{Base: ok()}
	for _, tr := range []*backoff.Transport{a, b, plain} {
		req, _ := http.NewRequest("GET", "http://api.test/", nil)
		if _, err := tr.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
	}
	if got := value(t, m, "backoff_http_attempts_total", "code", "200"); got != 2 {
		t.Errorf("%v attempts counted, want 2", got)
	}
}

// TestInstrumentPolicyCopies checks that InstrumentPolicy leaves its
// argument alone: the handlers go to a copy, after the user's, in new
// slices.
func TestInstrumentPolicyCopies(t *testing.T) {
	m := newMetrics(t)
	var order []string
	user := make([]backoff.Handler[int], 1, 4) // room to append in place
	user[0] = func(backoff.Details[int]) { order = append(order, "user") }
	p := &backoff.Policy[int]{Name: "fetch", OnAttempt: user}
	q := metrics.InstrumentPolicy(m, p)
	if q == p {
		t.Fatal("InstrumentPolicy returned its argument")
	}
	if len(p.OnAttempt) != 1 || p.OnBackoff != nil || p.OnGiveUp != nil {
		t.Errorf("InstrumentPolicy modified its argument: %d, %d, %d handlers", len(p.OnAttempt), len(p.OnBackoff), len(p.OnGiveUp))
	}
	if spare := user[:cap(user)]; spare[1] != nil {
		t.Error("InstrumentPolicy wrote into the spare capacity of the user's slice")
	}
	if q.Name != "fetch" || len(q.OnAttempt) != 2 || len(q.OnBackoff) != 1 || len(q.OnGiveUp) != 1 {
		t.Errorf("copy: name %q, %d, %d, %d handlers; want fetch, 2, 1, 1", q.Name, len(q.OnAttempt), len(q.OnBackoff), len(q.OnGiveUp))
	}
	q.OnAttempt = append(q.OnAttempt, func(backoff.Details[int]) { order = append(order, "after") })

	op := func(context.Context) (int, error) { return 1, nil }
	if _, err := p.Do(context.Background(), op); err != nil {
		t.Fatal(err)
	}
	if got := value(t, m, "backoff_operation_attempts_total", "operation", "fetch"); got != -1 {
		t.Errorf("the original Policy counted %v attempts, want none", got)
	}
	order = nil
	if _, err := q.Do(context.Background(), op); err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, ",") != "user,after" {
		t.Errorf("handlers ran in order %v, want user, after", order)
	}
	if got := value(t, m, "backoff_operation_attempts_total", "operation", "fetch"); got != 1 {
		t.Errorf("%v attempts counted, want 1", got)
	}

	// Two copies of one Policy count once each.
	r := metrics.InstrumentPolicy(m, p)
	if _, err := r.Do(context.Background(), op); err != nil {
		t.Fatal(err)
	}
	if got := value(t, m, "backoff_operation_attempts_total", "operation", "fetch"); got != 2 {
		t.Errorf("%v attempts counted, want 2", got)
	}

	// A nil Policy is the zero Policy.
	z := metrics.InstrumentPolicy[int](m, nil)
	if z == nil || len(z.OnAttempt) != 1 {
		t.Fatalf("InstrumentPolicy(m, nil) = %+v, want a zero Policy with the handlers", z)
	}
	if _, err := z.Do(context.Background(), op); err != nil {
		t.Fatal(err)
	}
	if got := value(t, m, "backoff_operation_attempts_total", "operation", "operation"); got != 1 {
		t.Errorf("the zero Policy counted %v attempts, want 1", got)
	}
}

// TestObserveBudget checks that a budget observed several times, or shared
// by two Transports, is one series, and that observing modifies no
// Transport.
func TestObserveBudget(t *testing.T) {
	m := newMetrics(t)
	shared := &backoff.Budget{}
	a := &backoff.Transport{Budget: shared}
	b := &backoff.Transport{Budget: shared}
	own := &backoff.Transport{}
	m.ObserveBudget(a.RetryBudget())
	m.ObserveBudget(a.RetryBudget())
	m.ObserveBudget(b.RetryBudget())
	m.ObserveBudget(own.RetryBudget())
	m.ObserveBudget(nil)
	if a.Budget != shared || b.Budget != shared || own.Budget != nil || a.Trace != nil || own.Trace != nil {
		t.Error("ObserveBudget modified a Transport")
	}
	if own.RetryBudget() == shared {
		t.Error("the Transport without Budget shares the other Budget")
	}
	// Budgets are summed, each once: the shared one has a host with a
	// bucket, the other two hosts.
	spend := func(b *backoff.Budget, host string) {
		tr := &backoff.Transport{Base: &flakyBase{failures: 1}, Budget: b, Wait: strategy.Immediate}
		req, _ := http.NewRequest("GET", "http://"+host+"/", nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	spend(shared, "api.test")
	spend(own.RetryBudget(), "a.test")
	spend(own.RetryBudget(), "b.test")
	if err := testutil.CollectAndCompare(m, strings.NewReader(`
# HELP backoff_http_retry_budget_hosts `+metrics.Help["http_retry_budget_hosts"]+`
# TYPE backoff_http_retry_budget_hosts gauge
backoff_http_retry_budget_hosts 3
`), "backoff_http_retry_budget_hosts"); err != nil {
		t.Error(err)
	}
}

// TestNilMetrics: a nil Metrics instruments nothing, without panicking.
func TestNilMetrics(t *testing.T) {
	var off *metrics.Metrics
	if tr := off.Trace(); tr != nil {
		t.Errorf("a nil Metrics' Trace = %+v, want nil", tr)
	}
	if backoff.JoinTraces(off.Trace()) != nil {
		t.Error("JoinTraces of a nil Metrics' Trace is not nil")
	}
	off.ObserveBudget(new(backoff.Budget))
	p := &backoff.Policy[int]{}
	if q := metrics.InstrumentPolicy(off, p); q != p || len(p.OnAttempt)+len(p.OnBackoff)+len(p.OnGiveUp) != 0 {
		t.Error("a nil Metrics added handlers")
	}
}
