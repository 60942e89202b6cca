package main

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/strategy"
)

// stormConfig is the shape of the storm run: clients goroutines each send
// one GET every period through a backoff.Transport to a local server that
// answers 200, then 503 to every request for outage, then 200 again.
type stormConfig struct {
	clients  int
	period   time.Duration
	healthy  time.Duration // before the outage
	outage   time.Duration
	recovery time.Duration // after the outage
	bucket   time.Duration // the resolution of the counts
}

var defaultStorm = stormConfig{
	clients:  20,
	period:   100 * time.Millisecond,
	healthy:  time.Second,
	outage:   3 * time.Second,
	recovery: 2 * time.Second,
	bucket:   100 * time.Millisecond,
}

// stormWait is the Transports' Wait: short, so that the run takes seconds.
// The retries of one request wait at most 10+20+40 ms (full jitter), so a
// client keeps up with a period of 100 ms.
var stormWait = strategy.Expo{Factor: 10 * time.Millisecond, Max: 100 * time.Millisecond}

func (c stormConfig) total() time.Duration { return c.healthy + c.outage + c.recovery }

// counts is what one run counted, per bucket of time since the start.
type counts struct {
	bucket   time.Duration
	received []atomic.Int64 // requests that reached the server
	logical  []atomic.Int64 // calls of the Client, each a logical request
}

func newCounts(cfg stormConfig) *counts {
	// Two buckets more than the run, for the retries still going at its end.
	n := int(cfg.total()/cfg.bucket) + 2
	return &counts{bucket: cfg.bucket, received: make([]atomic.Int64, n), logical: make([]atomic.Int64, n)}
}

// add counts one event at t since the start.
func (c *counts) add(s []atomic.Int64, t time.Duration) {
	s[min(int(max(t, 0)/c.bucket), len(s)-1)].Add(1)
}

// rate returns the events of s per second from from to to, counting the
// buckets that lie within.
func (c *counts) rate(s []atomic.Int64, from, to time.Duration) float64 {
	var sum int64
	var n int
	for i := range s {
		if b := time.Duration(i) * c.bucket; b >= from && b+c.bucket <= to {
			sum += s[i].Load()
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return float64(sum) / (float64(n) * c.bucket.Seconds())
}

// points returns s as events per second until end, a point at the start
// of every bucket and one at end, for a step line.
func (c *counts) points(s []atomic.Int64, end time.Duration) plotter.XYs {
	var xys plotter.XYs
	for i := range s {
		b := time.Duration(i) * c.bucket
		if b+c.bucket > end {
			break
		}
		xys = append(xys, plotter.XY{X: b.Seconds(), Y: float64(s[i].Load()) / c.bucket.Seconds()})
	}
	return append(xys, plotter.XY{X: end.Seconds(), Y: xys[len(xys)-1].Y})
}

// stormResult holds the counts of the two runs.
type stormResult struct {
	budget   *counts // Transport{}: the default retry budget
	disabled *counts // Transport{Budget: backoff.DisabledBudget()}
}

// runStorm makes the two runs at once, on one clock, each against a
// server of its own.
func runStorm(cfg stormConfig) (*stormResult, error) {
	// The start is a little ahead, so that both servers are up by then.
	start := time.Now().Add(50 * time.Millisecond)
	res := &stormResult{budget: newCounts(cfg), disabled: newCounts(cfg)}
	var errBudget, errDisabled error
	var wg sync.WaitGroup
	wg.Go(func() { errBudget = stormRun(cfg, start, nil, res.budget) })
	wg.Go(func() { errDisabled = stormRun(cfg, start, backoff.DisabledBudget(), res.disabled) })
	wg.Wait()
	if errBudget != nil {
		return nil, fmt.Errorf("with the budget: %w", errBudget)
	}
	if errDisabled != nil {
		return nil, fmt.Errorf("without the budget: %w", errDisabled)
	}
	return res, nil
}

// stormRun runs cfg.clients clients through a Transport with budget (nil:
// the default) against a server of its own, and counts into c.
func stormRun(cfg stormConfig, start time.Time, budget *backoff.Budget, c *counts) error {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.Since(start)
		c.add(c.received, t)
		if t >= cfg.healthy && t < cfg.healthy+cfg.outage {
			http.Error(w, "outage", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	base := &http.Transport{MaxIdleConnsPerHost: cfg.clients}
	defer base.CloseIdleConnections()
	client := &http.Client{Transport: &backoff.Transport{Base: base, Wait: stormWait, Budget: budget}}

	end := start.Add(cfg.total())
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	for i := range cfg.clients {
		wg.Go(func() {
			// The clients' sends are spread evenly over a period; a send
			// whose slot has passed (the one before ran late) is skipped.
			next := start.Add(time.Duration(i) * cfg.period / time.Duration(cfg.clients))
			for next.Before(end) {
				time.Sleep(time.Until(next))
				c.add(c.logical, time.Since(start))
				resp, err := client.Get(srv.URL)
				if err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				for now := time.Now(); !next.After(now); {
					next = next.Add(cfg.period)
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		return *err
	}
	return nil
}

// outageRates returns the requests per second that reached the server
// during the whole outage and during its second half, and the logical
// requests per second during the outage.
func (c *counts) outageRates(cfg stormConfig) (whole, secondHalf, logical float64) {
	from, to := cfg.healthy, cfg.healthy+cfg.outage
	return c.rate(c.received, from, to), c.rate(c.received, from+cfg.outage/2, to), c.rate(c.logical, from, to)
}

// summary prints the figures of the outage.
func (r *stormResult) summary(w io.Writer, cfg stormConfig) {
	fmt.Fprintf(w, "storm: %d clients, one GET each every %v; outage from %v to %v\n", cfg.clients, cfg.period, cfg.healthy, cfg.healthy+cfg.outage)
	fmt.Fprintf(w, "%-32s %14s %18s %20s\n", "during the outage", "requests/s", "in its 2nd half", "per logical request")
	for _, run := range []struct {
		name string
		c    *counts
	}{{"Transport{} (budget)", r.budget}, {"Budget: DisabledBudget()", r.disabled}} {
		whole, half, logical := run.c.outageRates(cfg)
		fmt.Fprintf(w, "%-32s %14.0f %18.0f %20.2f\n", run.name, whole, half, whole/logical)
	}
	_, _, logical := r.budget.outageRates(cfg)
	fmt.Fprintf(w, "%-32s %14.0f\n", "logical requests", logical)
}

// drawStorm draws the requests per second of both runs on one time axis.
func drawStorm(file string, cfg stormConfig, r *stormResult) error {
	p := plot.New()
	p.X.Label.Text = "time since the start (s)"
	p.Y.Label.Text = fmt.Sprintf("requests per second (counted per %v)", cfg.bucket)
	p.Legend.Top = true
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(12), -vg.Points(6)
	p.Legend.TextStyle.Font.Size = vg.Points(12)
	p.X.Label.TextStyle.Font.Size = vg.Points(13)
	p.Y.Label.TextStyle.Font.Size = vg.Points(13)
	p.X.Tick.Label.Font.Size = vg.Points(11)
	p.Y.Tick.Label.Font.Size = vg.Points(11)

	end := cfg.total()
	disabled, budget, logical := r.disabled.points(r.disabled.received, end), r.budget.points(r.budget.received, end), r.budget.points(r.budget.logical, end)
	top := 0.0
	for _, xys := range []plotter.XYs{disabled, budget, logical} {
		for _, xy := range xys {
			top = max(top, xy.Y)
		}
	}
	top *= 1.45 // room for the legend above the lines
	p.Y.Min, p.Y.Max = 0, top

	// The outage, shaded, with its label at the top.
	from, to := cfg.healthy.Seconds(), (cfg.healthy + cfg.outage).Seconds()
	shade, err := plotter.NewPolygon(plotter.XYs{{X: from, Y: 0}, {X: to, Y: 0}, {X: to, Y: top}, {X: from, Y: top}})
	if err != nil {
		return err
	}
	shade.Color = color.Gray{Y: 232}
	shade.LineStyle.Width = 0
	// Labels: the outage, and the rates of its second half over each line.
	_, offHalf, _ := r.disabled.outageRates(cfg)
	_, onHalf, _ := r.budget.outageRates(cfg)
	mid := from + (to-from)*0.6
	label, err := plotter.NewLabels(plotter.XYLabels{
		XYs: []plotter.XY{{X: from + 0.05, Y: top * 0.98}, {X: mid, Y: offHalf * 1.08}, {X: mid, Y: onHalf * 1.08}},
		Labels: []string{
			fmt.Sprintf("outage: the server answers 503 to every request for %v", cfg.outage),
			fmt.Sprintf("%.0f requests/s", offHalf),
			fmt.Sprintf("%.0f requests/s", onHalf),
		},
	})
	if err != nil {
		return err
	}
	for i := range label.TextStyle {
		label.TextStyle[i].XAlign, label.TextStyle[i].YAlign = draw.XCenter, draw.YBottom
		label.TextStyle[i].Font.Size = vg.Points(12)
	}
	label.TextStyle[0].XAlign, label.TextStyle[0].YAlign = draw.XLeft, draw.YTop
	label.TextStyle[1].Color, label.TextStyle[2].Color = palette[1], palette[0]
	p.Add(shade, horizontalGrid(), label)

	for _, s := range []struct {
		name  string
		xys   plotter.XYs
		color color.Color
		width float64 // points
		dash  []vg.Length
	}{
		{"Transport{Budget: backoff.DisabledBudget()}", disabled, palette[1], 2, nil},
		{"Transport{} (the retry budget on, as by default)", budget, palette[0], 2, nil},
		{"logical requests (the offered load)", logical, color.Black, 1.2, []vg.Length{vg.Points(5), vg.Points(3)}},
	} {
		l, err := plotter.NewLine(s.xys)
		if err != nil {
			return err
		}
		l.StepStyle = plotter.PostStep
		l.Color, l.Width, l.Dashes = s.color, vg.Points(s.width), s.dash
		p.Add(l)
		p.Legend.Add(s.name, l)
	}
	p.X.Min, p.X.Max = 0, end.Seconds()
	p.X.Tick.Marker = secondTicks{}

	img, dc := newCanvas(12*vg.Inch, 6.5*vg.Inch)
	body := header(dc,
		"A retry storm: requests per second reaching a failing server",
		fmt.Sprintf("%d clients, each sending a GET every %v through a backoff.Transport"+
			" (4 attempts, Wait: strategy.Expo{Factor: 10ms, Max: 100ms}), counted by the server",
			cfg.clients, cfg.period))
	p.Draw(draw.Crop(body, vg.Points(6), -vg.Points(14), vg.Points(6), 0))
	return savePNG(img, file)
}

// secondTicks marks every second with a label and every half second
// without.
type secondTicks struct{}

// Ticks implements plot.Ticker.
func (secondTicks) Ticks(lo, hi float64) []plot.Tick {
	var t []plot.Tick
	for x := math.Ceil(lo*2) / 2; x <= hi; x += 0.5 {
		label := ""
		if x == math.Trunc(x) {
			label = fmt.Sprintf("%g", x)
		}
		t = append(t, plot.Tick{Value: x, Label: label})
	}
	return t
}
