// Package ops holds no code. Its tests check the Prometheus rules
// (prometheus/rules.yml) and the Grafana dashboard (grafana/backoff.json)
// of this directory against the metrics of
// github.com/f99b3bbb/backoff/metrics: every series they query is one the
// metrics package exports or one the rules record, every alert has its
// annotations, its runbook in README.md and its unit tests in
// prometheus/rules_test.yml. See README.md.
package ops
