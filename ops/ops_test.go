package ops

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const (
	metricsDir = "../metrics" // the metrics package, whose sources name the metrics
	rulesFile  = "prometheus/rules.yml"
	testsFile  = "prometheus/rules_test.yml"
	dashFile   = "grafana/backoff.json"
	readmeFile = "README.md"

	// namespace is the default of metrics.WithNamespace, the one the rules
	// and the dashboard are written for.
	namespace = "backoff_"
)

// exportedSeries returns the names of the series the metrics package
// exports with the default namespace and no subsystem: the keys of the
// help map in help.go, each prefixed; a histogram (a name passed to
// histogramVec, or as the histogram of newAttemptMetrics) as its _bucket,
// _sum and _count series only.
func exportedSeries(t *testing.T) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	pkgFiles, err := filepath.Glob(filepath.Join(metricsDir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var help []string
	histograms := map[string]bool{}
	for _, path := range pkgFiles {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				if len(n.Names) == 1 && n.Names[0].Name == "help" && len(n.Values) == 1 {
					lit, ok := n.Values[0].(*ast.CompositeLit)
					if !ok {
						t.Fatalf("%s: help is not a map literal", path)
					}
					for _, e := range lit.Elts {
						help = append(help, stringLit(t, path, e.(*ast.KeyValueExpr).Key))
					}
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "histogramVec" && len(n.Args) > 0 {
					histograms[stringLit(t, path, n.Args[0])] = true
				}
				if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "newAttemptMetrics" && len(n.Args) > 2 {
					histograms[stringLit(t, path, n.Args[2])] = true
				}
			}
			return true
		})
	}
	if len(help) == 0 || len(histograms) == 0 {
		t.Fatalf("found %d metrics in the help map and %d histograms in %s", len(help), len(histograms), metricsDir)
	}
	names := map[string]bool{}
	for _, name := range help {
		if histograms[name] {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				names[namespace+name+suffix] = true
			}
			delete(histograms, name)
		} else {
			names[namespace+name] = true
		}
	}
	for name := range histograms {
		t.Errorf("histogram %s has no help text in help.go", name)
	}
	return names
}

func stringLit(t *testing.T, path string, e ast.Expr) string {
	t.Helper()
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		t.Fatalf("%s: a metric name that is not a string literal", path)
	}
	s, err := strconv.Unquote(lit.Value)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func readRules(t *testing.T) []rule {
	t.Helper()
	var f struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []rule `yaml:"rules"`
		} `yaml:"groups"`
	}
	readYAML(t, rulesFile, &f)
	var rules []rule
	for _, g := range f.Groups {
		rules = append(rules, g.Rules...)
	}
	if len(rules) == 0 {
		t.Fatalf("%s: no rules", rulesFile)
	}
	return rules
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(false)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// recorded returns the names of the recording rules.
func recorded(rules []rule) map[string]bool {
	names := map[string]bool{}
	for _, r := range rules {
		if r.Record != "" {
			names[r.Record] = true
		}
	}
	return names
}

// query is an expression to check and where it comes from.
type query struct {
	where, expr string
	variable    bool // a Grafana variable query
}

func ruleQueries(rules []rule) []query {
	var qs []query
	for _, r := range rules {
		qs = append(qs, query{where: rulesFile + ": " + r.Record + r.Alert, expr: r.Expr})
	}
	return qs
}

func dashboardQueries(t *testing.T) []query {
	t.Helper()
	d := readDashboard(t)
	var qs []query
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			qs = append(qs, query{where: dashFile + ": panel " + strconv.Quote(p.Title) + " " + tg.RefID, expr: tg.Expr})
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q string
		switch x := v.Query.(type) {
		case string:
			q = x
		case map[string]any:
			q, _ = x["query"].(string)
		}
		qs = append(qs, query{where: dashFile + ": variable " + v.Name, expr: q, variable: true})
		if v.Definition != "" && v.Definition != q {
			t.Errorf("%s: variable %s: definition %q is not its query %q", dashFile, v.Name, v.Definition, q)
		}
	}
	return qs
}

// unknownNames returns, for each query, the metric names it selects that
// are neither in known nor recorded.
func unknownNames(t *testing.T, queries []query, known, recorded map[string]bool) []string {
	t.Helper()
	var problems []string
	for _, q := range queries {
		if strings.TrimSpace(q.expr) == "" {
			problems = append(problems, q.where+": empty expression")
			continue
		}
		parse := seriesNames
		if q.variable {
			parse = variableSeriesNames
		}
		names, err := parse(q.expr)
		if err != nil {
			problems = append(problems, q.where+": "+err.Error())
			continue
		}
		if len(names) == 0 {
			problems = append(problems, q.where+": selects no metric")
		}
		for _, n := range names {
			if !known[n] && !recorded[n] {
				problems = append(problems, q.where+": "+n+" is neither exported by the metrics package nor recorded by a rule")
			}
		}
	}
	return problems
}

// TestMetricNames checks that every series the rules and the dashboard
// select is one the metrics package exports, by help.go, or one the rules
// record: renaming a metric there breaks this test until the rules and
// the dashboard follow.
func TestMetricNames(t *testing.T) {
	known := exportedSeries(t)
	rules := readRules(t)
	queries := append(ruleQueries(rules), dashboardQueries(t)...)
	for _, p := range unknownNames(t, queries, known, recorded(rules)) {
		t.Error(p)
	}
}

// TestMetricNamesRenamed checks that the check of TestMetricNames fails
// when a metric it relies on is gone, as after a rename in help.go.
func TestMetricNamesRenamed(t *testing.T) {
	rules := readRules(t)
	queries := append(ruleQueries(rules), dashboardQueries(t)...)
	for _, gone := range []string{
		"backoff_http_attempts_total",
		"backoff_http_request_attempts_bucket",
		"backoff_http_retry_budget_tokens",
		"backoff_http_waits_in_flight",
	} {
		known := exportedSeries(t)
		if !known[gone] {
			t.Fatalf("%s is not exported", gone)
		}
		delete(known, gone)
		problems := unknownNames(t, queries, known, recorded(rules))
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, ": "+gone+" is neither") }) {
			t.Errorf("without %s, the check reports %q", gone, problems)
		}
	}
}

func TestSeriesNames(t *testing.T) {
	for _, c := range []struct {
		expr  string
		names []string
	}{
		{`foo`, []string{"foo"}},
		{`sum by (job, method) (rate(foo_total{code="429",x=~"a}b"}[5m]))`, []string{"foo_total"}},
		{`a:b:c / ignoring (reason) group_left d:e:f`, []string{"a:b:c", "d:e:f"}},
		{`histogram_quantile(0.99, sum without (le) (rate(x_bucket[$__rate_interval])))`, []string{"x_bucket"}},
		{"1 - (x{le=~\"1|1.0\"} / on (job) y) > bool 0.5 and z offset 5m # comment w\n or w2",
			[]string{"x", "y", "z", "w2"}},
		{`max_over_time(g{job=~"$job"}[5m:1m]) unless on (job) h`, []string{"g", "h"}},
		{`label_replace(up, "dst", "$1", "src", "(.*)") * ${scale} + 1e-3 + Inf`, []string{"up"}},
		{`sum(rate(x_total[5m])) by (job)`, []string{"x_total"}},
	} {
		got, err := seriesNames(c.expr)
		if err != nil || !slices.Equal(got, c.names) {
			t.Errorf("seriesNames(%q) = %q, %v; want %q", c.expr, got, err, c.names)
		}
	}
	for _, expr := range []string{`{__name__="foo"}`, `sum({job="x"})`, `foo{a="b"`, `foo{a="b}`} {
		if got, err := seriesNames(expr); err == nil {
			t.Errorf("seriesNames(%q) = %q, no error", expr, got)
		}
	}
	for q, want := range map[string][]string{
		`label_values(foo{job=~"$job"}, method)`: {"foo"},
		`label_values(job)`:                      nil,
		`query_result(max by (job) (bar))`:       {"bar"},
	} {
		if got, err := variableSeriesNames(q); err != nil || !slices.Equal(got, want) {
			t.Errorf("variableSeriesNames(%q) = %q, %v; want %q", q, got, err, want)
		}
	}
}

var recordName = regexp.MustCompile(`^backoff(_host|_outcome)?:[a-z0-9_]+:[a-z0-9_]+$`)

// TestRules checks the conventions of the rules: names level:metric:
// operations, each alert with a severity, a summary, a description and a
// runbook in README.md, and each rule and alert with unit tests.
func TestRules(t *testing.T) {
	rules := readRules(t)
	readme, err := os.ReadFile(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	var tests struct {
		RuleFiles []string `yaml:"rule_files"`
		Tests     []struct {
			PromQL []struct {
				Expr string `yaml:"expr"`
			} `yaml:"promql_expr_test"`
			Alerts []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	readYAML(t, testsFile, &tests)
	tested := map[string]bool{}
	firing, quiet := map[string]bool{}, map[string]bool{}
	for _, tg := range tests.Tests {
		for _, p := range tg.PromQL {
			names, _ := seriesNames(p.Expr)
			for _, n := range names {
				tested[n] = true
			}
		}
		for _, a := range tg.Alerts {
			if len(a.ExpAlerts) > 0 {
				firing[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	seen := map[string]bool{}
	for _, r := range rules {
		name := r.Record + r.Alert
		if seen[name] {
			t.Errorf("%s is defined twice", name)
		}
		seen[name] = true
		if r.Record != "" {
			if !recordName.MatchString(r.Record) {
				t.Errorf("recording rule %s: not named backoff:, backoff_host: or backoff_outcome:metric:operations", r.Record)
			}
			if !tested[r.Record] {
				t.Errorf("recording rule %s: no promql_expr_test in %s", r.Record, testsFile)
			}
			continue
		}
		if s := r.Labels["severity"]; s != "critical" && s != "warning" && s != "info" {
			t.Errorf("alert %s: severity %q", r.Alert, s)
		}
		for _, a := range []string{"summary", "description", "runbook_url"} {
			if r.Annotations[a] == "" {
				t.Errorf("alert %s: no %s annotation", r.Alert, a)
			}
		}
		anchor := "ops/README.md#" + strings.ToLower(r.Alert)
		if !strings.HasSuffix(r.Annotations["runbook_url"], anchor) {
			t.Errorf("alert %s: runbook_url %q does not end in %s", r.Alert, r.Annotations["runbook_url"], anchor)
		}
		if !strings.Contains(string(readme), "\n### "+r.Alert+"\n") {
			t.Errorf("alert %s: no runbook (### %s) in %s", r.Alert, r.Alert, readmeFile)
		}
		if !firing[r.Alert] || !quiet[r.Alert] {
			t.Errorf("alert %s: %s must test it firing and not firing", r.Alert, testsFile)
		}
	}
}

type dashboard struct {
	Title         string `json:"title"`
	UID           string `json:"uid"`
	SchemaVersion int    `json:"schemaVersion"`
	Templating    struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Query      any    `json:"query"`
			Definition string `json:"definition"`
			IncludeAll bool   `json:"includeAll"`
			AllValue   string `json:"allValue"`
			Datasource any    `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		ID          int    `json:"id"`
		Type        string `json:"type"`
		Title       string `json:"title"`
		Description string `json:"description"`
		Datasource  any    `json:"datasource"`
		GridPos     struct {
			H, W, X, Y int
		} `json:"gridPos"`
		Targets []struct {
			RefID      string `json:"refId"`
			Expr       string `json:"expr"`
			Datasource any    `json:"datasource"`
		} `json:"targets"`
	} `json:"panels"`
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(dashFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashFile, err)
	}
	return d
}

// TestDashboard checks the dashboard's structure: the schema version, the
// variables, and every query on the datasource variable.
func TestDashboard(t *testing.T) {
	d := readDashboard(t)
	if d.SchemaVersion < 36 {
		t.Errorf("schemaVersion %d, want 36 or more", d.SchemaVersion)
	}
	if d.Title == "" || d.UID == "" {
		t.Errorf("title %q, uid %q", d.Title, d.UID)
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
		switch v.Name {
		case "datasource":
			if v.Query != "prometheus" {
				t.Errorf("variable datasource: query %v, want prometheus", v.Query)
			}
		case "host":
			// Optional: "All" must match the series without a host label.
			if !v.IncludeAll || v.AllValue != ".*" {
				t.Errorf("variable host: includeAll %v, allValue %q; want true, .*", v.IncludeAll, v.AllValue)
			}
		}
		if v.Type == "query" && !onDatasourceVar(v.Datasource) {
			t.Errorf("variable %s: datasource %v, not ${datasource}", v.Name, v.Datasource)
		}
	}
	for name, typ := range map[string]string{"datasource": "datasource", "method": "query", "host": "query"} {
		if vars[name] != typ {
			t.Errorf("variable %s: type %q, want %q", name, vars[name], typ)
		}
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel %q: id %d used twice", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.W == 0 || p.GridPos.H == 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q: gridPos %+v", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if !onDatasourceVar(p.Datasource) || len(p.Targets) == 0 {
			t.Errorf("panel %q: datasource %v, %d targets", p.Title, p.Datasource, len(p.Targets))
		}
		for _, tg := range p.Targets {
			if !onDatasourceVar(tg.Datasource) {
				t.Errorf("panel %q, target %s: datasource %v", p.Title, tg.RefID, tg.Datasource)
			}
		}
	}
}

func onDatasourceVar(ds any) bool {
	m, ok := ds.(map[string]any)
	return ok && m["type"] == "prometheus" && m["uid"] == "${datasource}"
}
