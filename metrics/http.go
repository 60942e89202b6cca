package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/f99b3bbb/backoff"
)

// httpVecs are the collectors of the HTTP metrics. Their first labels are
// method, then host with WithHosts.
type httpVecs struct {
	attempts, retries, giveUps        *prometheus.CounterVec
	wait, retryAfter, duration, tries *prometheus.HistogramVec
	inFlight                          *prometheus.GaugeVec
}

func newHTTPVecs(o *options, hostLabel bool) httpVecs {
	base := []string{"method"}
	if hostLabel {
		base = append(base, "host")
	}
	return httpVecs{
		attempts:   o.counterVec("http_attempts_total", labels(base, "code")...),
		retries:    o.counterVec("http_retries_total", labels(base, "reason")...),
		giveUps:    o.counterVec("http_giveups_total", labels(base, "reason")...),
		wait:       o.histogramVec("http_wait_seconds", o.waitBuckets, base...),
		retryAfter: o.histogramVec("http_retry_after_seconds", o.waitBuckets, labels(base, "outcome")...),
		duration:   o.histogramVec("http_request_duration_seconds", o.durationBuckets, base...),
		tries:      o.histogramVec("http_request_attempts", o.attemptsBuckets, base...),
		inFlight:   o.gaugeVec("http_waits_in_flight", base...),
	}
}

func (v *httpVecs) collectors() []prometheus.Collector {
	return []prometheus.Collector{v.attempts, v.retries, v.giveUps, v.wait, v.retryAfter, v.duration, v.tries, v.inFlight}
}

// httpSeries holds the children of one method (and host), each resolved on
// first use.
type httpSeries struct {
	lvs        []string // the label values: method, then host with WithHosts
	attempts   [numCodeSlots]slot[prometheus.Counter]
	retries    [numRetryReasons]slot[prometheus.Counter]
	giveUps    [numReasons]slot[prometheus.Counter]
	retryAfter [numOutcomes]slot[prometheus.Observer]
	wait       slot[prometheus.Observer]
	duration   slot[prometheus.Observer]
	tries      slot[prometheus.Observer]
	inFlight   slot[prometheus.Gauge]
}

// httpSeries returns the series of a request's method and host.
func (m *Metrics) httpSeries(method, host string) *httpSeries {
	mi, hi := methodIndex(method), 0
	if m.hosts != nil {
		hi = m.hosts.lookup(host)
	}
	p := &m.series[hi*numMethods+mi]
	if s := p.Load(); s != nil {
		return s
	}
	lvs := []string{methodLabel(mi)}
	if m.hosts != nil {
		lvs = append(lvs, m.hosts.names[hi])
	}
	if s := (&httpSeries{lvs: lvs}); p.CompareAndSwap(nil, s) {
		return s
	}
	return p.Load()
}

// InstrumentTransport makes t report to m: it appends m's handlers to
// t.Policy's OnAttempt, OnBackoff and OnGiveUp, after the handlers already
// there, which keep running first and in the same order. The slices are
// copied, never appended to in place. It returns t, so that a Transport
// can be built and instrumented in one expression:
//
//	client := &http.Client{Transport: m.InstrumentTransport(&backoff.Transport{})}
//
// It must be called before the Transport's first use, which fixes its
// Policy, and once per Transport: a second call counts everything twice.
// If m or t is nil, it does nothing.
func (m *Metrics) InstrumentTransport(t *backoff.Transport) *backoff.Transport {
	if m == nil || t == nil {
		return t
	}
	m.budgets.add(t.RetryBudget())
	p := &t.Policy
	p.OnAttempt = withHandler(p.OnAttempt, m.httpAttempt)
	p.OnBackoff = withHandler(p.OnBackoff, m.httpBackoff)
	p.OnGiveUp = withHandler(p.OnGiveUp, m.httpGiveUp)
	return t
}

type httpDetails = backoff.Details[*http.Response]

// httpAttempt is the OnAttempt handler: it counts the attempt, settles the
// wait that preceded it, and ends the request if no give-up event follows.
func (m *Metrics) httpAttempt(d httpDetails) {
	v := &m.http
	s := m.httpSeries(d.Method, d.Host)
	i := codeSlot(d.StatusCode, d.Err)
	s.attempts[i].get(v.attempts.WithLabelValues, s.lvs, codeLabel, i).Inc()
	if d.Tries > 1 || d.Final && endedByContext(d.Reason) {
		settleWait(s.inFlight.get(v.inFlight.WithLabelValues, s.lvs, nil, 0), d.Tries, d.Final, d.Reason)
	}
	if d.RetryAfter > 0 {
		outcome := raHonored
		switch {
		case d.Reason == backoff.ErrRetryAfter:
			outcome = raRefused
		case d.Final:
			outcome = raUnused
		}
		s.retryAfter[outcome].get(v.retryAfter.WithLabelValues, s.lvs, outcomeLabel, outcome).Observe(d.RetryAfter.Seconds())
	}
	if d.Final && d.Reason == "" { // success, or an error not retried
		s.duration.get(v.duration.WithLabelValues, s.lvs, nil, 0).Observe(d.Elapsed.Seconds())
		s.tries.get(v.tries.WithLabelValues, s.lvs, nil, 0).Observe(float64(d.Tries))
	}
}

// httpBackoff is the OnBackoff handler: a retry and its wait begin.
func (m *Metrics) httpBackoff(d httpDetails) {
	v := &m.http
	s := m.httpSeries(d.Method, d.Host)
	reason := retryStatus
	switch {
	case d.RetryAfter > 0:
		reason = retryRetryAfter
	case d.Err != nil:
		reason = retryTransport
	}
	s.retries[reason].get(v.retries.WithLabelValues, s.lvs, retryReasonLabel, reason).Inc()
	s.wait.get(v.wait.WithLabelValues, s.lvs, nil, 0).Observe(d.Wait.Seconds())
	s.inFlight.get(v.inFlight.WithLabelValues, s.lvs, nil, 0).Inc()
}

// httpGiveUp is the OnGiveUp handler: the request ends.
func (m *Metrics) httpGiveUp(d httpDetails) {
	v := &m.http
	s := m.httpSeries(d.Method, d.Host)
	i := reasonIndex(d.Reason)
	s.giveUps[i].get(v.giveUps.WithLabelValues, s.lvs, reasonLabel, i).Inc()
	if endedByContext(d.Reason) {
		s.inFlight.get(v.inFlight.WithLabelValues, s.lvs, nil, 0).Dec()
	}
	s.duration.get(v.duration.WithLabelValues, s.lvs, nil, 0).Observe(d.Elapsed.Seconds())
	s.tries.get(v.tries.WithLabelValues, s.lvs, nil, 0).Observe(float64(d.Tries))
}

// settleWait updates the gauge of waits in flight on an attempt event that
// is not the first attempt or that leads to a give-up for a reason of the
// context.
//
// A wait begins with a backoff event (+1) and ends either with the next
// attempt's event or, when the context ends the call during the wait,
// with a give-up event that no attempt event precedes. The give-up
// handler cannot tell that case from a give-up for the same reason right
// after an attempt, so it always decrements for those reasons, and the
// attempt event that precedes such a give-up compensates: it does not
// decrement (after a wait) or it increments (on the first attempt, which
// followed no wait). The gauge thus returns to its value once every call
// has returned, whatever the path.
func settleWait(g prometheus.Gauge, tries int, final bool, reason backoff.Reason) {
	switch {
	case final && endedByContext(reason):
		if tries == 1 {
			g.Inc()
		}
	case tries > 1:
		g.Dec()
	}
}
