package metrics

import (
	"math"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/f99b3bbb/backoff"
)

// budgetCollector exports the state of the retry budgets of the
// instrumented Transports, read when the metrics are collected.
type budgetCollector struct {
	tokens   *prometheus.Desc // per allow-listed host; only with WithHosts
	hosts    *prometheus.Desc
	refusing *prometheus.Desc
	allowed  []string // the allow-list of WithHosts, without "other"

	mu      sync.Mutex
	budgets []*backoff.Budget
}

func newBudgetCollector(o *options, hosts *hostSet) *budgetCollector {
	desc := func(name string, labels []string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(o.namespace, o.subsystem, name), help[name], labels, o.constLabels)
	}
	c := &budgetCollector{
		hosts:    desc("http_retry_budget_hosts", nil),
		refusing: desc("http_retry_budget_refusing_hosts", nil),
	}
	if hosts != nil {
		c.tokens = desc("http_retry_budget_tokens", []string{"host"})
		c.allowed = hosts.names[:len(hosts.names)-1]
	}
	return c
}

// ObserveBudget makes m export the state of the retry budget b, read when
// the metrics are collected: the gauges http_retry_budget_hosts and
// http_retry_budget_refusing_hosts, and, with [WithHosts], the level of
// each allow-listed host in http_retry_budget_tokens. The budget of a
// Transport is the one its RetryBudget method returns, whether its Budget
// field is set or not:
//
//	t := &backoff.Transport{Trace: m.Trace()}
//	m.ObserveBudget(t.RetryBudget())
//
// It modifies neither b nor any Transport, and may be called at any time,
// before or after the Transport's first use. A budget is exported once
// however many times it is observed, and one shared by several Transports
// is one budget; the state of several budgets is combined as the package
// documentation says. A collection costs the same whatever the number of
// hosts the budgets have seen. If m or b is nil, it does nothing.
func (m *Metrics) ObserveBudget(b *backoff.Budget) {
	if m == nil || b == nil {
		return
	}
	m.budgets.add(b)
}

// add adds b to the budgets collected, once.
func (c *budgetCollector) add(b *backoff.Budget) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range c.budgets {
		if x == b {
			return
		}
	}
	c.budgets = append(c.budgets, b)
}

func (c *budgetCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.hosts
	ch <- c.refusing
	if c.tokens != nil {
		ch <- c.tokens
	}
}

// Collect sends the sums of the budgets' host counts and, per allow-listed
// host, the lowest level among the budgets: the budget closest to running
// out of retries is the one to watch.
func (c *budgetCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	budgets := append([]*backoff.Budget(nil), c.budgets...)
	c.mu.Unlock()
	if len(budgets) == 0 {
		return
	}
	var hosts, refusing int
	for _, b := range budgets {
		s := b.Stats()
		hosts += s.Hosts
		refusing += s.Refusing
	}
	ch <- prometheus.MustNewConstMetric(c.hosts, prometheus.GaugeValue, float64(hosts))
	ch <- prometheus.MustNewConstMetric(c.refusing, prometheus.GaugeValue, float64(refusing))
	for _, host := range c.allowed {
		lowest := budgets[0].Tokens(host)
		for _, b := range budgets[1:] {
			lowest = min(lowest, b.Tokens(host))
		}
		if !math.IsInf(lowest, 1) { // +Inf: only DisabledBudgets
			ch <- prometheus.MustNewConstMetric(c.tokens, prometheus.GaugeValue, lowest, host)
		}
	}
}
