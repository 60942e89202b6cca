package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

// TestGenerate draws both pictures from smaller runs and checks that they
// are PNG images of a readable size, and that the budget cut the requests
// of the outage. Only that much is asserted: the storm runs on the real
// clock, on machines of any speed.
func TestGenerate(t *testing.T) {
	cfg := config{
		out:   t.TempDir(),
		calls: 200,
		storm: stormConfig{
			clients:  10,
			period:   100 * time.Millisecond,
			healthy:  300 * time.Millisecond,
			outage:   2 * time.Second,
			recovery: 300 * time.Millisecond,
			bucket:   100 * time.Millisecond,
		},
	}
	var out bytes.Buffer
	res, err := generate(cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", &out)

	for _, name := range []string{"waits.png", "storm.png"} {
		f, err := os.Open(filepath.Join(cfg.out, name))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.DecodeConfig(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if img.Width < 800 || img.Height < 500 || img.Width > 2000 || img.Height > 2000 {
			t.Errorf("%s is %d×%d pixels, want between 800×500 and 2000×2000", name, img.Width, img.Height)
		}
	}

	with, _, logical := res.budget.outageRates(cfg.storm)
	without, _, _ := res.disabled.outageRates(cfg.storm)
	if logical == 0 || with == 0 {
		t.Fatalf("during the outage: %.0f logical requests/s, %.0f requests/s with the budget; want both above 0", logical, with)
	}
	if with >= without {
		t.Errorf("during the outage: %.0f requests/s with the budget, %.0f without; want fewer with it", with, without)
	}
}

// TestSampleWaits checks that the waits recorded are the engine's: exact
// for a strategy without jitter, within the jitter's range with one.
func TestSampleWaits(t *testing.T) {
	expo := strategy.Expo{Factor: 250 * time.Millisecond, Max: 10 * time.Second}
	waits, err := sampleWaits(expo, jitter.None, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0.25, 0.5, 1, 2, 4, 8, 10, 10}
	for i, w := range waits {
		if len(w) != 3 {
			t.Fatalf("retry %d: %d waits, want 3", i+1, len(w))
		}
		for _, s := range w {
			if s != want[i] {
				t.Errorf("retry %d waited %vs, want %vs", i+1, s, want[i])
			}
		}
	}

	waits, err = sampleWaits(expo, jitter.Full, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range waits {
		for _, s := range w {
			if s < 0 || s > want[i] {
				t.Errorf("retry %d waited %vs with full jitter, want 0 to %vs", i+1, s, want[i])
			}
		}
	}
}
