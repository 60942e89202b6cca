package metrics

import (
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/f99b3bbb/backoff"
)

// httpVecs are the collectors of the HTTP metrics. Their first labels are
// method, then host with WithHosts.
type httpVecs struct {
	retries, giveUps, notReplayable *prometheus.CounterVec
	hedges, hedged                  *prometheus.CounterVec
	wait, retryAfter, retryDelay    *prometheus.HistogramVec
	counts                          *attemptMetrics          // http_attempts_total, http_request_attempts
	duration                        *prometheus.HistogramVec // nil without WithRequestDurations
	attemptDuration                 *prometheus.HistogramVec // nil without WithAttemptDurations
	inFlight                        *prometheus.GaugeVec
}

func newHTTPVecs(o *options, hostLabel bool) httpVecs {
	base := []string{"method"}
	if hostLabel {
		base = append(base, "host")
	}
	v := httpVecs{
		counts:        newAttemptMetrics(o, "http_attempts_total", "http_request_attempts", base, "code", numCodeSlots, codeLabel),
		retries:       o.counterVec("http_retries_total", labels(base, "reason")...),
		giveUps:       o.counterVec("http_giveups_total", labels(base, "reason")...),
		notReplayable: o.counterVec("http_not_replayable_total", base...),
		hedges:        o.counterVec("http_hedges_total", base...),
		hedged:        o.counterVec("http_hedged_requests_total", labels(base, "winner")...),
		wait:          o.histogramVec("http_wait_seconds", o.waitBuckets, base...),
		retryAfter:    o.histogramVec("http_retry_after_seconds", o.retryAfterBuckets, labels(base, "outcome")...),
		retryDelay:    o.histogramVec("http_request_retry_delay_seconds", o.durationBuckets, base...),
		inFlight:      o.gaugeVec("http_waits_in_flight", base...),
	}
	if o.requestDurations {
		v.duration = o.histogramVec("http_request_duration_seconds", o.durationBuckets, labels(base, "outcome")...)
	}
	if o.attemptDurations {
		v.attemptDuration = o.histogramVec("http_attempt_duration_seconds", o.durationBuckets, labels(base, "code")...)
	}
	return v
}

// collectors returns the collectors of v but counts, which the series
// hold (see Metrics.collectors).
func (v *httpVecs) collectors() []prometheus.Collector {
	c := []prometheus.Collector{v.retries, v.giveUps, v.notReplayable, v.hedges, v.hedged, v.wait, v.retryAfter, v.retryDelay, v.inFlight}
	if v.duration != nil {
		c = append(c, v.duration)
	}
	if v.attemptDuration != nil {
		c = append(c, v.attemptDuration)
	}
	return c
}

// httpSeries holds the children of one method (and host), each resolved on
// first use, and its counts of attempts.
type httpSeries struct {
	lvs           []string // the label values: method, then host with WithHosts
	counts        *attemptCounts
	retries       [numRetryReasons]slot[prometheus.Counter]
	giveUps       [numReasons]slot[prometheus.Counter]
	notReplayable slot[prometheus.Counter]
	hedges        slot[prometheus.Counter]
	hedged        [numWinners]slot[prometheus.Counter]
	retryAfter    [numOutcomes]slot[prometheus.Observer]
	wait          slot[prometheus.Observer]
	retryDelay    slot[prometheus.Observer]
	inFlight      slot[prometheus.Gauge]

	duration        [numReqOutcomes]slot[prometheus.Observer] // with WithRequestDurations
	attemptDuration [numCodeSlots]slot[prometheus.Observer]   // with WithAttemptDurations
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
	if s := (&httpSeries{lvs: lvs, counts: m.http.counts.newCounts()}); p.CompareAndSwap(nil, s) {
		return s
	}
	return p.Load()
}

// Trace returns a Trace whose hooks record the HTTP metrics of the calls of
// the Transports it is set on. It is meant for a Transport's Trace field, at
// construction, alone or joined with other subscribers by
// [backoff.JoinTraces], in the manner of httptrace:
//
//	t := &backoff.Transport{Trace: m.Trace()}
//	t := &backoff.Transport{Trace: backoff.JoinTraces(mine, m.Trace())}
//
// It never modifies a Transport; a Transport reads its Trace once, at its
// first use, so the Trace must be in place by then. Each call returns a new
// Trace, which may be set on any number of Transports, whose counts then
// add up; a Trace holding m's hooks twice (joined twice) counts everything
// twice. The Trace uses the hooks OnAttempt, OnBackoff and OnGiveUp; its
// fields must not be modified. Its UntimedFirstSuccess is set unless
// [WithRequestDurations] or [WithAttemptDurations] was given: the default
// metrics read no time of a request that succeeds at its first attempt,
// so that the Transport does not measure it, unless another Trace joined
// with this one does ([backoff.JoinTraces]).
//
// The retry budget's level is exported separately, by [Metrics.ObserveBudget].
// If m is nil, Trace returns nil, which a Transport (and JoinTraces) treats
// as no hooks.
func (m *Metrics) Trace() *backoff.Trace {
	if m == nil {
		return nil
	}
	return &backoff.Trace{
		OnAttempt: m.httpAttempt,
		OnBackoff: m.httpBackoff,
		OnGiveUp:  m.httpGiveUp,
		OnHedge:   m.httpHedge,
		// Only the opt-in histograms read the time of a first-attempt
		// success.
		UntimedFirstSuccess: m.http.duration == nil && m.http.attemptDuration == nil,
	}
}

// methodHost returns the method and host of an event's request, which
// label its series.
func methodHost(e *backoff.Event) (method, host string) {
	r := e.Request
	if r == nil {
		return "", ""
	}
	if r.URL != nil {
		host = r.URL.Host
	}
	return r.Method, host
}

// statusCode returns the status code of an event's response, or 0 without
// one.
func statusCode(e *backoff.Event) int {
	if e.Response == nil {
		return 0
	}
	return e.Response.StatusCode
}

// httpAttempt is the OnAttempt hook: it counts the attempt, settles the
// wait that preceded it, and ends the request if no give-up event follows.
func (m *Metrics) httpAttempt(e backoff.Event) {
	v := &m.http
	s := m.httpSeries(methodHost(&e))
	i := codeSlot(statusCode(&e), e.Err)
	ended := e.Final && e.Reason == "" // success, or an error not retried
	v.counts.attempt(s.counts, i, ended && e.Attempt == 1)
	if v.attemptDuration != nil {
		m.observe(s.attemptDuration[i].getAt(v.attemptDuration, s.lvs, codeLabel, i), e.AttemptDuration.Seconds(), &e)
	}
	// Each round of attempts has one attempt of the call's own, the
	// others are its hedges: a wait preceded every round but the first.
	if rounds := e.Attempt - e.Hedges; rounds > 1 || e.Final && endedByContext(e.Reason) {
		settleWait(s.inFlight.get(v.inFlight, s.lvs), rounds, e.Final, e.Reason)
	}
	if e.RetryAfter > 0 {
		outcome := raHonored
		switch {
		case e.Reason == backoff.ErrRetryAfter:
			outcome = raRefused
		case e.Final:
			outcome = raUnused
		}
		s.retryAfter[outcome].getAt(v.retryAfter, s.lvs, outcomeLabel, outcome).Observe(e.RetryAfter.Seconds())
	}
	if ended {
		m.httpEnd(s, &e)
	}
}

// httpEnd records the end of a request: its duration, its attempts (but
// for a request that ended at its first attempt without a give-up, which
// httpAttempt counted) and, for a retried request, the time it waited.
func (m *Metrics) httpEnd(s *httpSeries, e *backoff.Event) {
	v := &m.http
	if v.duration != nil {
		o := reqOutcome(e)
		m.observe(s.duration[o].getAt(v.duration, s.lvs, reqOutcomeLabel, o), e.Elapsed.Seconds(), e)
	}
	if e.Attempt > 1 || e.Reason != "" {
		v.counts.end(s.counts, e.Attempt)
	}
	if e.Attempt-e.Hedges > 1 { // retried
		m.observe(s.retryDelay.get(v.retryDelay, s.lvs), e.Waited.Seconds(), e)
	}
	if e.Hedges > 0 {
		w := winnerOriginal
		if e.HedgeWon {
			w = winnerHedge
		}
		s.hedged[w].getAt(v.hedged, s.lvs, winnerLabel, w).Inc()
	}
}

// httpHedge is the OnHedge hook: a hedge is sent.
func (m *Metrics) httpHedge(e backoff.Event) {
	s := m.httpSeries(methodHost(&e))
	s.hedges.get(m.http.hedges, s.lvs).Inc()
}

// httpBackoff is the OnBackoff hook: a retry and its wait begin.
func (m *Metrics) httpBackoff(e backoff.Event) {
	v := &m.http
	s := m.httpSeries(methodHost(&e))
	reason := retryStatus
	switch {
	case e.RetryAfter > 0:
		reason = retryRetryAfter
	case e.Err != nil:
		reason = retryTransport
	}
	s.retries[reason].getAt(v.retries, s.lvs, retryReasonLabel, reason).Inc()
	m.observe(s.wait.get(v.wait, s.lvs), e.Wait.Seconds(), &e)
	s.inFlight.get(v.inFlight, s.lvs).Inc()
}

// httpGiveUp is the OnGiveUp hook: the request ends.
func (m *Metrics) httpGiveUp(e backoff.Event) {
	v := &m.http
	s := m.httpSeries(methodHost(&e))
	if e.Reason == backoff.ErrNotReplayable && e.Attempt == 1 {
		// Never eligible for a retry: not a give-up.
		s.notReplayable.get(v.notReplayable, s.lvs).Inc()
	} else {
		r := reasonIndex(e.Reason)
		s.giveUps[r].getAt(v.giveUps, s.lvs, reasonLabel, r).Inc()
	}
	if endedByContext(e.Reason) {
		s.inFlight.get(v.inFlight, s.lvs).Dec()
	}
	m.httpEnd(s, &e)
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

// collectCounts sends http_attempts_total and http_request_attempts.
func (m *Metrics) collectHTTPCounts(ch chan<- prometheus.Metric) {
	for i := range m.series {
		if s := m.series[i].Load(); s != nil {
			m.http.counts.collect(ch, s.counts, s.lvs)
		}
	}
}

// observe observes v in h, with the exemplar of WithExemplars for the
// event's request when there is one.
func (m *Metrics) observe(h prometheus.Observer, v float64, e *backoff.Event) {
	if m.exemplar != nil && e.Request != nil {
		if l := m.exemplar(e.Request.Context()); l != nil && validExemplar(l) {
			if eo, ok := h.(prometheus.ExemplarObserver); ok {
				eo.ObserveWithExemplar(v, l)
				return
			}
		}
	}
	h.Observe(v)
}

// validExemplar reports whether l may label an exemplar: valid names, and
// at most prometheus.ExemplarMaxRunes runes of names and values in all
// (ObserveWithExemplar panics otherwise).
func validExemplar(l prometheus.Labels) bool {
	runes := 0
	for name, value := range l {
		if !model.LegacyValidation.IsValidLabelName(name) || !utf8.ValidString(value) {
			return false
		}
		runes += utf8.RuneCountInString(name) + utf8.RuneCountInString(value)
	}
	return runes <= prometheus.ExemplarMaxRunes
}
