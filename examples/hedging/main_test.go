package main

import (
	"strings"
	"testing"
)

// TestRun runs the demo against its local server and checks what it shows,
// with margins that hold on a busy machine: the hedges cut the tail, and
// cost few extra requests.
func TestRun(t *testing.T) {
	var out strings.Builder
	res, err := run(&out)
	if err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	t.Logf("output:\n%s", out.String())
	plain, hedged := res[0], res[1]
	if plain.p99 < slow || plain.perRequest != 1 || plain.hedges != 0 {
		t.Errorf("without hedging: p99 %v, %.3f requests per request, %d hedges; want the slow answers' %v at p99, 1, 0", plain.p99, plain.perRequest, plain.hedges, slow)
	}
	if hedged.p99 > plain.p99/2 {
		t.Errorf("hedged p99 %v, want under half the unhedged %v", hedged.p99, plain.p99)
	}
	if hedged.hedges < requests/slowOne/2 || hedged.won == 0 || hedged.perRequest > 1.2 {
		t.Errorf("hedged: %d hedges, %d won, %.3f requests per request; want at least %d hedges, some won, at most 1.2", hedged.hedges, hedged.won, hedged.perRequest, requests/slowOne/2)
	}
	if lines := strings.Count(out.String(), "\n"); lines != 2 {
		t.Errorf("%d lines of output, want 2", lines)
	}
}
