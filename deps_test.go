package backoff_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/f99b3bbb/backoff"

// TestImportDirection enforces the layering of the module: strategy and
// jitter use only the standard library and not each other; the root package
// uses them, the standard library and go-cleanhttp; only metrics may use
// prometheus; nothing imports examples.
func TestImportDirection(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	// Every package of the module with the non-standard packages it
	// depends on, directly or not.
	out, err := exec.Command(goTool, "list", "-f",
		`{{.ImportPath}}:{{range .Deps}} {{.}}{{end}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	std := stdPackages(t, goTool)
	allowed := map[string][]string{
		module + "/strategy": nil,
		module + "/jitter":   nil,
		module:               {module + "/strategy", module + "/jitter", "github.com/hashicorp/go-cleanhttp"},
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, ":")
		for _, dep := range strings.Fields(deps) {
			if std[dep] {
				continue
			}
			if strings.HasPrefix(dep, module+"/examples") {
				t.Errorf("%s imports %s: nothing may import examples", pkg, dep)
			}
			if strings.HasPrefix(dep, "github.com/prometheus/") && !strings.HasPrefix(pkg, module+"/metrics") && !strings.HasPrefix(pkg, module+"/examples") {
				t.Errorf("%s depends on %s: only metrics (and examples) may use prometheus", pkg, dep)
			}
			ok, restricted := allowed[pkg]
			if !restricted {
				continue
			}
			if !contains(ok, dep) && !strings.HasPrefix(dep, "vendor/") {
				t.Errorf("%s depends on %s, which it may not", pkg, dep)
			}
		}
		if _, restricted := allowed[pkg]; restricted {
			seen++
		}
	}
	if seen != len(allowed) {
		t.Errorf("go list reported %d of the %d layered packages", seen, len(allowed))
	}
}

func stdPackages(t *testing.T, goTool string) map[string]bool {
	t.Helper()
	out, err := exec.Command(goTool, "list", "std").CombinedOutput()
	if err != nil {
		t.Fatalf("go list std: %v\n%s", err, out)
	}
	m := make(map[string]bool)
	for _, p := range strings.Fields(string(out)) {
		m[p] = true
	}
	return m
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
