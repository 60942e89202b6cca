package metrics

import (
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/f99b3bbb/backoff"
)

// opVecs are the collectors of the operation metrics. Their first label is
// operation.
type opVecs struct {
	retries, giveUps *prometheus.CounterVec
	wait             *prometheus.HistogramVec
	counts           *attemptMetrics          // operation_attempts_total, operation_call_attempts
	duration         *prometheus.HistogramVec // nil without WithRequestDurations
	inFlight         *prometheus.GaugeVec
}

func newOpVecs(o *options) opVecs {
	base := []string{"operation"}
	v := opVecs{
		counts:   newAttemptMetrics(o, "operation_attempts_total", "operation_call_attempts", base, "result", numResults, resultLabel),
		retries:  o.counterVec("operation_retries_total", labels(base, "reason")...),
		giveUps:  o.counterVec("operation_giveups_total", labels(base, "reason")...),
		wait:     o.histogramVec("operation_wait_seconds", o.waitBuckets, base...),
		inFlight: o.gaugeVec("operation_waits_in_flight", base...),
	}
	if o.requestDurations {
		v.duration = o.histogramVec("operation_call_duration_seconds", o.durationBuckets, base...)
	}
	return v
}

// collectors returns the collectors of v but counts, which the series
// hold (see Metrics.collectors).
func (v *opVecs) collectors() []prometheus.Collector {
	c := []prometheus.Collector{v.retries, v.giveUps, v.wait, v.inFlight}
	if v.duration != nil {
		c = append(c, v.duration)
	}
	return c
}

// The results of an operation's attempt: ok, rejected, then the error
// classes.
const (
	resultOK       = 0
	resultRejected = 1
	numResults     = 2 + len(classes)
)

func resultLabel(i int) string {
	switch i {
	case resultOK:
		return "ok"
	case resultRejected:
		return "rejected"
	}
	return classes[i-2]
}

// The reasons of an operation's retry.
const (
	retryError      = 0
	retryValue      = 1
	numOpRetryKinds = 2
)

var opRetryReasons = [numOpRetryKinds]string{"error", "value"}

func opRetryReasonLabel(i int) string { return opRetryReasons[i] }

// opSeries holds the children of one operation, each resolved on first use.
type opSeries struct {
	lvs      []string // the operation
	counts   *attemptCounts
	retries  [numOpRetryKinds]slot[prometheus.Counter]
	giveUps  [numReasons]slot[prometheus.Counter]
	wait     slot[prometheus.Observer]
	duration slot[prometheus.Observer] // with WithRequestDurations
	inFlight slot[prometheus.Gauge]
}

// opSeries returns the series of the operation name, creating it on first
// use; past maxOperations names, the series of "other".
func (m *Metrics) opSeries(name string) *opSeries {
	m.opMu.Lock()
	defer m.opMu.Unlock()
	if s, ok := m.ops[name]; ok {
		return s
	}
	if len(m.ops) >= maxOperations {
		if m.opRest == nil {
			m.opRest = &opSeries{lvs: []string{other}, counts: m.op.counts.newCounts()}
		}
		return m.opRest
	}
	label := name
	if !utf8.ValidString(label) {
		label = strings.ToValidUTF8(label, "\uFFFD")
	}
	s := &opSeries{lvs: []string{label}, counts: m.op.counts.newCounts()}
	m.ops[strings.Clone(name)] = s
	return s
}

// InstrumentPolicy returns a copy of p that reports to m under the
// operation metrics, with p's Name (as the engine reports it: "operation"
// when empty) as the operation label. The copy's OnAttempt, OnBackoff and
// OnGiveUp hold p's handlers, which keep running first and in the same
// order, followed by m's; they are new slices. p itself is never modified,
// so that a Policy shared by other code keeps counting nothing:
//
//	getUser := metrics.InstrumentPolicy(m, &backoff.Policy[*User]{Name: "get_user"})
//	u, err := getUser.Do(ctx, fetchUser)
//
// Operation names must come from a small, fixed set, as metric labels do:
// past the first 100 names seen by m, calls are labelled "other".
//
// The copy's UntimedFirstSuccess (see [backoff.Policy]) is set, so that a
// call that succeeds at its first attempt reads the clock once only,
// unless m has [WithRequestDurations] or p has OnAttempt or OnSuccess
// handlers of its own without UntimedFirstSuccess set; a handler added to
// the copy later that reads Details.Elapsed of such a call must clear it.
//
// Instrumenting the copy again adds m's handlers a second time, which counts
// everything twice: instrument a Policy once, where it is built. A Policy
// copied from the result (by Wrap, say) keeps the handlers. A nil p is
// taken as the zero Policy. If m is nil, InstrumentPolicy returns p as it
// is.
//
// A [backoff.Transport] is instrumented with [Metrics.Trace] instead, which
// labels by method rather than operation.
func InstrumentPolicy[T any](m *Metrics, p *backoff.Policy[T]) *backoff.Policy[T] {
	if m == nil {
		return p
	}
	var q backoff.Policy[T]
	if p != nil {
		q = *p
	}
	// The time of a first-attempt success: only WithRequestDurations
	// reads it, and p's own handlers of those events, unless p says they
	// do not.
	q.UntimedFirstSuccess = m.op.duration == nil &&
		(q.UntimedFirstSuccess || len(q.OnAttempt) == 0 && len(q.OnSuccess) == 0)
	h := &opHooks{m: m}
	q.OnAttempt = withHandler(q.OnAttempt, func(d backoff.Details[T]) {
		h.attempt(d.Name, d.Attempts, d.Elapsed, d.Err, d.Reason, d.Final)
	})
	q.OnBackoff = withHandler(q.OnBackoff, func(d backoff.Details[T]) {
		h.backoff(d.Name, d.Wait, d.Err)
	})
	q.OnGiveUp = withHandler(q.OnGiveUp, func(d backoff.Details[T]) {
		h.giveUp(d.Name, d.Attempts, d.Elapsed, d.Reason)
	})
	return &q
}

// opHooks are the handlers of one instrumented Policy. They keep the series
// of the name they saw last, which is nearly always the Policy's only one.
type opHooks struct {
	m    *Metrics
	last atomic.Pointer[opCached]
}

type opCached struct {
	name string
	s    *opSeries
}

func (h *opHooks) series(name string) *opSeries {
	if c := h.last.Load(); c != nil && c.name == name {
		return c.s
	}
	s := h.m.opSeries(name)
	h.last.Store(&opCached{name: name, s: s})
	return s
}

func (h *opHooks) attempt(name string, tries int, elapsed time.Duration, err error, reason backoff.Reason, final bool) {
	v := &h.m.op
	s := h.series(name)
	result := resultOK
	switch {
	case err != nil:
		result = 2 + classIndex(err)
	case !final || reason != "":
		result = resultRejected
	}
	ended := final && reason == "" // success, or an error not retried
	v.counts.attempt(s.counts, result, ended && tries == 1)
	if tries > 1 || final && endedByContext(reason) {
		settleWait(s.inFlight.get(v.inFlight, s.lvs), tries, final, reason)
	}
	if ended {
		h.end(s, tries, elapsed, false)
	}
}

func (h *opHooks) backoff(name string, wait time.Duration, err error) {
	v := &h.m.op
	s := h.series(name)
	reason := retryValue
	if err != nil {
		reason = retryError
	}
	s.retries[reason].getAt(v.retries, s.lvs, opRetryReasonLabel, reason).Inc()
	s.wait.get(v.wait, s.lvs).Observe(wait.Seconds())
	s.inFlight.get(v.inFlight, s.lvs).Inc()
}

func (h *opHooks) giveUp(name string, tries int, elapsed time.Duration, reason backoff.Reason) {
	v := &h.m.op
	s := h.series(name)
	r := reasonIndex(reason)
	s.giveUps[r].getAt(v.giveUps, s.lvs, reasonLabel, r).Inc()
	if endedByContext(reason) {
		s.inFlight.get(v.inFlight, s.lvs).Dec()
	}
	h.end(s, tries, elapsed, true)
}

// end records the end of a call: its attempts (but for a call that ended
// at its first attempt without a give-up, which attempt counted) and,
// with WithRequestDurations, its duration.
func (h *opHooks) end(s *opSeries, tries int, elapsed time.Duration, gaveUp bool) {
	v := &h.m.op
	if v.duration != nil {
		s.duration.get(v.duration, s.lvs).Observe(elapsed.Seconds())
	}
	if tries > 1 || gaveUp {
		v.counts.end(s.counts, tries)
	}
}

// collectOpCounts sends operation_attempts_total and
// operation_call_attempts.
func (m *Metrics) collectOpCounts(ch chan<- prometheus.Metric) {
	m.opMu.Lock()
	ss := make([]*opSeries, 0, len(m.ops)+1)
	for _, s := range m.ops {
		ss = append(ss, s)
	}
	if m.opRest != nil {
		ss = append(ss, m.opRest)
	}
	m.opMu.Unlock()
	for _, s := range ss {
		m.op.counts.collect(ch, s.counts, s.lvs)
	}
}
