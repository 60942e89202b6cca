package ops

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// optInMetrics returns the metrics of the metrics package that exist only
// with an option, by name (without namespace), with the option's name: the
// histogramVec calls inside an `if o.field {` whose field an option
// function sets to true (`o.field = true` in the body of WithX).
func optInMetrics(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	paths, err := filepath.Glob(filepath.Join(metricsDir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	// The options' fields: o.field = true in the body of func WithX.
	option := map[string]string{}
	for _, f := range files {
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "With") || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				a, ok := n.(*ast.AssignStmt)
				if !ok || len(a.Lhs) != 1 || len(a.Rhs) != 1 {
					return true
				}
				sel, ok := a.Lhs[0].(*ast.SelectorExpr)
				if v, isIdent := a.Rhs[0].(*ast.Ident); ok && isIdent && v.Name == "true" {
					option[sel.Sel.Name] = fn.Name.Name
				}
				return true
			})
		}
	}
	optIn := map[string]string{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			s, ok := n.(*ast.IfStmt)
			if !ok {
				return true
			}
			sel, ok := s.Cond.(*ast.SelectorExpr)
			if !ok || option[sel.Sel.Name] == "" {
				return true
			}
			ast.Inspect(s.Body, func(n ast.Node) bool {
				if c, ok := n.(*ast.CallExpr); ok {
					if fs, ok := c.Fun.(*ast.SelectorExpr); ok && fs.Sel.Name == "histogramVec" && len(c.Args) > 0 {
						optIn[stringLit(t, "metrics", c.Args[0])] = option[sel.Sel.Name]
					}
				}
				return true
			})
			return true
		})
	}
	return optIn
}

// needsOptIn returns, for each query, the options its series need: those
// of the opt-in metrics it selects, and of the recording rules it selects
// that need one, as rules maps them.
func needsOptIn(t *testing.T, expr string, optIn, rules map[string][]string) []string {
	t.Helper()
	names, err := seriesNames(expr)
	if err != nil {
		t.Fatal(err)
	}
	var opts []string
	for _, n := range names {
		opts = append(opts, rules[n]...)
		base := strings.TrimPrefix(n, namespace)
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base = strings.TrimSuffix(base, suffix)
		}
		opts = append(opts, optIn[base]...)
	}
	return opts
}

// commentBlocks returns, for each rule of rules.yml, the comment lines
// that precede it in its block: those above it up to the previous comment
// or the start of the group, the comment of the rules that follow it
// without comments of their own included.
func commentBlocks(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	ruleLine := regexp.MustCompile(`^\s*- (?:record|alert): (\S+)`)
	blocks := map[string]string{}
	var block []string
	inComment := false
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "#"):
			if !inComment {
				block = nil
			}
			inComment = true
			block = append(block, trimmed)
		case strings.HasPrefix(trimmed, "- name:"):
			block, inComment = nil, false
		default:
			inComment = false
			if m := ruleLine.FindStringSubmatch(line); m != nil {
				blocks[m[1]] = strings.Join(block, " ")
			}
		}
	}
	return blocks
}

// TestOptInSaySo checks that every rule and every panel whose series need
// an opt-in metric (one of metrics.WithRequestDurations, say) names that
// option, in the comment above the rule (or its block of rules) and in
// the panel's description.
func TestOptInSaySo(t *testing.T) {
	optIn := map[string][]string{}
	for name, opt := range optInMetrics(t) {
		optIn[name] = []string{opt}
	}
	for name, opt := range map[string]string{
		"http_request_duration_seconds":   "WithRequestDurations",
		"operation_call_duration_seconds": "WithRequestDurations",
		"http_attempt_duration_seconds":   "WithAttemptDurations",
	} {
		if len(optIn[name]) != 1 || optIn[name][0] != opt {
			t.Errorf("opt-in metric %s: found option %q, want %s", name, optIn[name], opt)
		}
	}

	// The recording rules that need an option, in the order they come
	// (a rule records from those above it).
	rules := readRules(t)
	recordNeeds := map[string][]string{}
	comments := commentBlocks(t)
	for _, r := range rules {
		opts := needsOptIn(t, r.Expr, optIn, recordNeeds)
		if r.Record != "" {
			recordNeeds[r.Record] = opts
		}
		for _, opt := range opts {
			if !strings.Contains(comments[r.Record+r.Alert], opt) {
				t.Errorf("%s: %s needs metrics.%s, which its comment does not say: %q", rulesFile, r.Record+r.Alert, opt, comments[r.Record+r.Alert])
			}
		}
	}
	if len(recordNeeds["backoff:http_request_duration_seconds:p99_rate5m"]) == 0 {
		t.Error("the request durations' rules found to need no option")
	}

	d := readDashboard(t)
	for _, p := range d.Panels {
		var opts []string
		for _, tg := range p.Targets {
			opts = append(opts, needsOptIn(t, tg.Expr, optIn, recordNeeds)...)
		}
		slices.Sort(opts)
		for _, opt := range slices.Compact(opts) {
			if !strings.Contains(p.Description, opt) {
				t.Errorf("%s: panel %q needs metrics.%s, which its description does not say: %q", dashFile, p.Title, opt, p.Description)
			}
		}
	}
}
