package backoff_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/f99b3bbb/backoff"

// TestImportDirection enforces the layering of the repository's modules:
// strategy, jitter and the packages under internal use only the standard
// library (and not each other); the root package uses them, the standard
// library and go-cleanhttp; only metrics and the examples may use
// prometheus; nothing imports examples.
//
// Each module found below the root (every directory with a go.mod) is
// listed on its own, with GOWORK=off, so that the dependencies checked are
// those of the module's own build, whether or not go.work is in use.
func TestImportDirection(t *testing.T) {
	goTool := lookGo(t)
	std := stdPackages(t, goTool)
	seen := make(map[string]bool)
	for _, dir := range moduleDirs(t) {
		// Every package of the module with the non-standard packages it
		// depends on, directly or not.
		out := goCmd(t, goTool, dir, "list", "-f", `{{.ImportPath}}:{{range .Deps}} {{.}}{{end}}`, "./...")
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			pkg, deps, _ := strings.Cut(line, ":")
			seen[pkg] = true
			for _, dep := range strings.Fields(deps) {
				if std[dep] || strings.HasPrefix(dep, "vendor/") {
					continue
				}
				if err := checkImport(pkg, dep); err != "" {
					t.Errorf("%s depends on %s: %s", pkg, dep, err)
				}
			}
		}
	}
	for _, pkg := range []string{module, module + "/strategy", module + "/jitter", module + "/metrics"} {
		if !seen[pkg] && !(pkg == module+"/metrics" && inModuleCache(t, goTool)) {
			t.Errorf("go list did not report %s", pkg)
		}
	}
}

// checkImport says why pkg may not depend on the non-standard package dep,
// or returns "".
func checkImport(pkg, dep string) string {
	within := func(p, tree string) bool { return p == tree || strings.HasPrefix(p, tree+"/") }
	switch {
	case within(dep, module+"/examples"):
		return "nothing may import examples"
	case strings.HasPrefix(dep, "github.com/prometheus/") && !within(pkg, module+"/metrics") && !within(pkg, module+"/examples"):
		return "only metrics (and examples) may use prometheus"
	case pkg == module+"/strategy" || pkg == module+"/jitter" || within(pkg, module+"/internal"):
		return "it may use only the standard library"
	case pkg == module:
		if dep == module+"/strategy" || dep == module+"/jitter" || within(dep, module+"/internal") ||
			dep == "github.com/hashicorp/go-cleanhttp" {
			return ""
		}
		return "the root package may use only strategy, jitter, internal, the standard library and go-cleanhttp"
	}
	return ""
}

// TestModules checks the module layout: the root module requires only
// go-cleanhttp and the modules of its tests, so that a build importing the
// root package gets go-cleanhttp and nothing else; and go.work uses every
// module of the repository.
func TestModules(t *testing.T) {
	goTool := lookGo(t)
	var mod struct{ Require []struct{ Path string } }
	if err := json.Unmarshal([]byte(goCmd(t, goTool, ".", "mod", "edit", "-json")), &mod); err != nil {
		t.Fatal(err)
	}
	allowed := []string{"github.com/hashicorp/go-cleanhttp", "github.com/jarcoal/httpmock", "go.uber.org/goleak"}
	for _, r := range mod.Require {
		if !slices.Contains(allowed, r.Path) {
			t.Errorf("go.mod requires %s: the root module may require only %v", r.Path, allowed)
		}
	}

	if inModuleCache(t, goTool) {
		return // a copy of the root module alone
	}
	if _, err := os.Stat("go.work"); err != nil {
		t.Fatalf("no go.work using the modules of the repository: %v", err)
	}
	var work struct{ Use []struct{ DiskPath string } }
	if err := json.Unmarshal([]byte(goCmd(t, goTool, ".", "work", "edit", "-json", "go.work")), &work); err != nil {
		t.Fatal(err)
	}
	var used []string
	for _, u := range work.Use {
		used = append(used, filepath.Clean(u.DiskPath))
	}
	slices.Sort(used)
	if dirs := moduleDirs(t); !slices.Equal(used, dirs) {
		t.Errorf("go.work uses %q; the modules of the repository are %q", used, dirs)
	}
}

func lookGo(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	return goTool
}

// goCmd runs the go command in dir, outside any workspace, and returns its
// standard output.
func goCmd(t *testing.T, goTool, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(goTool, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg += "\n" + string(ee.Stderr)
		}
		t.Fatalf("go %s (in %s): %s", strings.Join(args, " "), dir, msg)
	}
	return string(out)
}

// moduleDirs returns the directories, relative to the root and sorted, of
// the root module and of every module below it.
func moduleDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
			return filepath.SkipDir
		}
		if !d.IsDir() && d.Name() == "go.mod" {
			dirs = append(dirs, filepath.Dir(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(dirs)
	return dirs
}

// inModuleCache reports whether the tests run from the module cache, where
// the root module comes without the modules below it.
func inModuleCache(t *testing.T, goTool string) bool {
	t.Helper()
	cache := strings.TrimSpace(goCmd(t, goTool, ".", "env", "GOMODCACHE"))
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(cache, wd)
	return cache != "" && err == nil && !strings.HasPrefix(rel, "..")
}

func stdPackages(t *testing.T, goTool string) map[string]bool {
	t.Helper()
	m := make(map[string]bool)
	for _, p := range strings.Fields(goCmd(t, goTool, ".", "list", "std")) {
		m[p] = true
	}
	return m
}
