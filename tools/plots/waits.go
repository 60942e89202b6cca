package main

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/f99b3bbb/backoff"
	"github.com/f99b3bbb/backoff/jitter"
	"github.com/f99b3bbb/backoff/strategy"
)

// retries is the number of retries drawn in each panel of waits.png.
const retries = 8

// The rows and columns of waits.png.
var (
	waitStrategies = []struct {
		name string
		st   strategy.Strategy
	}{
		{"strategy.Expo\n{Factor: 250ms, Max: 10s}", strategy.Expo{Factor: 250 * time.Millisecond, Max: 10 * time.Second}},
		{"strategy.Fibo\n{Unit: 250ms, Max: 10s}", strategy.Fibo{Unit: 250 * time.Millisecond, Max: 10 * time.Second}},
		{"strategy.Constant\n{Interval: 1s}", strategy.Constant{Interval: time.Second}},
		{"strategy.Decorrelated\n{Base: 250ms, Max: 10s}", strategy.Decorrelated{Base: 250 * time.Millisecond, Max: 10 * time.Second}},
	}
	waitJitters = []struct {
		name string
		fn   jitter.Func
	}{
		{"jitter.None", jitter.None},
		{"jitter.Full (default)", jitter.Full},
		{"jitter.Equal", jitter.Equal},
		{"jitter.Random", jitter.Random},
		{"jitter.Upward(0.2)", jitter.Upward(0.2)},
	}
)

// sampleWaits makes calls calls of a Policy whose operation always fails,
// with retries+1 attempts, and returns the waits it computed, in seconds:
// waits[i] holds the wait before retry i+1 of every call.
//
// The Policy's Jitter is jit behind a recorder: the engine calls it once
// per retry, with the strategy's wait and the engine's own random draw, and
// the recorder keeps jit's result and returns 0, so that the call goes on
// at once instead of sleeping. Everything else (the State handed to the
// strategy, its Prev, the draws) is the engine's.
func sampleWaits(wait strategy.Strategy, jit jitter.Func, calls int) ([][]float64, error) {
	waits := make([][]float64, retries)
	n := 0 // the retries of the current call so far
	p := &backoff.Policy[int]{
		Wait:        wait,
		MaxAttempts: retries + 1,
		Jitter: func(d time.Duration, u float64) time.Duration {
			if n < retries {
				waits[n] = append(waits[n], jit(d, u).Seconds())
			}
			n++
			return 0
		},
	}
	errDown := errors.New("down")
	op := func(context.Context) (int, error) { return 0, errDown }
	for range calls {
		n = 0
		_, err := p.Do(context.Background(), op)
		var e *backoff.Error
		if !errors.As(err, &e) || e.Reason != backoff.ErrMaxAttempts || n != retries {
			return nil, fmt.Errorf("a call made %d retries and returned %v, want %d retries and %s", n, err, retries, backoff.ErrMaxAttempts)
		}
	}
	return waits, nil
}

// spread draws, for each retry, the range of the sampled waits (a thin
// line from the smallest to the largest), their 25th to 75th percentiles
// (a box) and their median (a thick bar).
type spread struct {
	stats [][5]float64 // per retry: min, 25th percentile, median, 75th percentile, max
	color color.Color
}

func newSpread(waits [][]float64, c color.Color) *spread {
	s := &spread{color: c}
	for _, w := range waits {
		w = slices.Sorted(slices.Values(w))
		q := func(f float64) float64 { return w[int(math.Round(f*float64(len(w)-1)))] }
		s.stats = append(s.stats, [5]float64{w[0], q(0.25), q(0.5), q(0.75), w[len(w)-1]})
	}
	return s
}

// Plot implements plot.Plotter.
func (s *spread) Plot(c draw.Canvas, p *plot.Plot) {
	x, y := p.Transforms(&c)
	thin := draw.LineStyle{Color: s.color, Width: vg.Points(0.8)}
	thick := draw.LineStyle{Color: color.Black, Width: vg.Points(2)}
	fill := color.RGBA{R: 255, G: 255, B: 255, A: 255}
	if rgba, ok := s.color.(color.RGBA); ok {
		// The box: the line's colour, lightened.
		fill = color.RGBA{R: 255 - (255-rgba.R)/2, G: 255 - (255-rgba.G)/2, B: 255 - (255-rgba.B)/2, A: 255}
	}
	for i, st := range s.stats {
		r := float64(i + 1)
		xc, x0, x1 := x(r), x(r-0.3), x(r+0.3)
		c.StrokeLine2(thin, xc, y(st[0]), xc, y(st[4]))
		box := []vg.Point{{X: x0, Y: y(st[1])}, {X: x1, Y: y(st[1])}, {X: x1, Y: y(st[3])}, {X: x0, Y: y(st[3])}}
		c.FillPolygon(fill, c.ClipPolygonXY(box))
		c.StrokeLines(thin, c.ClipLinesXY(append(box, box[0]))...)
		c.StrokeLine2(thick, x0, y(st[2]), x1, y(st[2]))
	}
}

// DataRange implements plot.DataRanger.
func (s *spread) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymin, ymax = math.Inf(1), math.Inf(-1)
	for _, st := range s.stats {
		ymin, ymax = min(ymin, st[0]), max(ymax, st[4])
	}
	return 0.5, float64(len(s.stats)) + 0.5, ymin, ymax
}

// drawWaits samples every strategy × jitter with calls calls each and
// draws the grid of panels to file.
func drawWaits(file string, calls int) error {
	rows, cols := len(waitStrategies), len(waitJitters)
	plots := make([][]*plot.Plot, rows)
	for i, ws := range waitStrategies {
		plots[i] = make([]*plot.Plot, cols)
		rowMax := 0.0
		for j, wj := range waitJitters {
			waits, err := sampleWaits(ws.st, wj.fn, calls)
			if err != nil {
				return fmt.Errorf("%s, %s: %w", ws.name, wj.name, err)
			}
			s := newSpread(waits, palette[i])
			_, _, _, ymax := s.DataRange()
			rowMax = max(rowMax, ymax)

			p := plot.New()
			p.Add(horizontalGrid(), s)
			p.X.Min, p.X.Max = 0.5, retries+0.5
			p.X.Tick.Marker = plot.ConstantTicks(retryTicks())
			p.Y.Min = 0
			if i == 0 {
				p.Title.Text = wj.name
				p.Title.TextStyle.Font.Size = vg.Points(13)
			}
			if j == 0 {
				p.Y.Label.Text = "wait (s)"
			}
			if i == rows-1 {
				p.X.Label.Text = "retry"
			}
			plots[i][j] = p
		}
		// One scale per row, so that the jitters compare at a glance.
		for _, p := range plots[i] {
			p.Y.Max = rowMax * 1.04
		}
	}

	img, dc := newCanvas(14*vg.Inch, 11*vg.Inch)
	body := header(dc,
		"Waits before each retry: strategy (rows) × jitter (columns)",
		fmt.Sprintf("%d calls of a backoff.Policy per panel, every attempt failing;"+
			" thin line: min to max, box: 25th to 75th percentile, black bar: median", calls))
	// The strategies' names go in a column of their own on the left: as
	// axis labels, they would be longer than a panel is high.
	const labelWidth = 36
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(8), PadY: vg.Points(10), PadLeft: vg.Points(labelWidth), PadRight: vg.Points(10), PadBottom: vg.Points(6)}
	canvases := plot.Align(plots, tiles, body)
	rowLabel := plots[0][0].Title.TextStyle
	rowLabel.Rotation, rowLabel.XAlign, rowLabel.YAlign = math.Pi/2, draw.XCenter, draw.YCenter
	for i := range plots {
		for j := range plots[i] {
			plots[i][j].Draw(canvases[i][j])
		}
		data := plots[i][0].DataCanvas(canvases[i][0])
		at := vg.Point{X: body.Min.X + vg.Points(labelWidth/2), Y: (data.Min.Y + data.Max.Y) / 2}
		body.FillText(rowLabel, at, waitStrategies[i].name)
	}
	return savePNG(img, file)
}

// retryTicks returns the ticks 1 to retries.
func retryTicks() []plot.Tick {
	var t []plot.Tick
	for r := 1; r <= retries; r++ {
		t = append(t, plot.Tick{Value: float64(r), Label: fmt.Sprint(r)})
	}
	return t
}
