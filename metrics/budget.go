package metrics

import (
	"math"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/f99b3bbb/backoff"
)

// budgetCollector exports the level of the retry budgets of the
// instrumented Transports, read when the metrics are collected.
type budgetCollector struct {
	desc  *prometheus.Desc
	hosts *hostSet // nil without WithHosts

	mu      sync.Mutex
	budgets []*backoff.Budget
}

func newBudgetCollector(o *options, hosts *hostSet) *budgetCollector {
	var labels []string
	if hosts != nil {
		labels = []string{"host"}
	}
	name := prometheus.BuildFQName(o.namespace, o.subsystem, "http_retry_budget_tokens")
	return &budgetCollector{
		desc:  prometheus.NewDesc(name, help["http_retry_budget_tokens"], labels, o.constLabels),
		hosts: hosts,
	}
}

// ObserveBudget makes m export the level of the retry budget b in the gauge
// http_retry_budget_tokens, read when the metrics are collected. The budget
// of a Transport is the one its RetryBudget method returns, whether its
// Budget field is set or not:
//
//	t := &backoff.Transport{Trace: m.Trace()}
//	m.ObserveBudget(t.RetryBudget())
//
// It modifies neither b nor any Transport, and may be called at any time,
// before or after the Transport's first use. A budget is exported once
// however many times it is observed, and one shared by several Transports
// is one budget; the levels of several budgets are combined as the package
// documentation says. If m or b is nil, it does nothing.
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

func (c *budgetCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect sends, per label value, the lowest level among the hosts that map
// to it: the host closest to running out of retries is the one to watch.
func (c *budgetCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	budgets := append([]*backoff.Budget(nil), c.budgets...)
	c.mu.Unlock()
	lowest := make(map[string]float64)
	for _, b := range budgets {
		b.Range(func(host string, tokens float64) bool {
			label := ""
			if c.hosts != nil {
				label = c.hosts.names[c.hosts.lookup(strings.ToLower(host))]
			}
			if v, ok := lowest[label]; !ok || tokens < v {
				lowest[label] = tokens
			}
			return true
		})
	}
	for label, tokens := range lowest {
		if math.IsInf(tokens, 1) {
			continue
		}
		if c.hosts != nil {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, tokens, label)
		} else {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, tokens)
		}
	}
}
