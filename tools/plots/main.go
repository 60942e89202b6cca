// Command plots draws the pictures of docs/pictures.md from real runs of
// the library: docs/img/waits.png, the waits a Policy computes for each
// strategy and jitter, and docs/img/storm.png, the requests that reach a
// failing server through a Transport with and without its retry budget.
//
// Run it from the root of the repository:
//
//	go run ./tools/plots
//
// Both pictures are statistical: the engine draws its random numbers from
// math/rand/v2 and the storm runs on the real clock, so each run draws
// slightly different pictures.
package main

import (
	"flag"
	"fmt"
	"image/color"
	"io"
	"log"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// config is the size of the runs behind the pictures.
type config struct {
	out   string // the directory the PNG files are written to
	calls int    // calls of a Policy per panel of waits.png
	storm stormConfig
}

func main() {
	log.SetFlags(0)
	cfg := config{storm: defaultStorm}
	flag.StringVar(&cfg.out, "out", filepath.Join("docs", "img"), "directory to write waits.png and storm.png to")
	flag.IntVar(&cfg.calls, "calls", 4000, "calls of a Policy per panel of waits.png")
	flag.Parse()
	if _, err := generate(cfg, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// generate draws both pictures into cfg.out, prints a summary of the storm
// run to w and returns its counts.
func generate(cfg config, w io.Writer) (*stormResult, error) {
	if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		return nil, err
	}
	if err := drawWaits(filepath.Join(cfg.out, "waits.png"), cfg.calls); err != nil {
		return nil, fmt.Errorf("waits.png: %w", err)
	}
	res, err := runStorm(cfg.storm)
	if err != nil {
		return nil, fmt.Errorf("storm: %w", err)
	}
	if err := drawStorm(filepath.Join(cfg.out, "storm.png"), cfg.storm, res); err != nil {
		return nil, fmt.Errorf("storm.png: %w", err)
	}
	res.summary(w, cfg.storm)
	return res, nil
}

// palette holds the colours of the series, which stay distinct in print
// and for the common forms of colour blindness (Okabe and Ito's palette).
var palette = []color.Color{
	color.RGBA{R: 0, G: 114, B: 178, A: 255},   // blue
	color.RGBA{R: 213, G: 94, B: 0, A: 255},    // vermillion
	color.RGBA{R: 0, G: 158, B: 115, A: 255},   // bluish green
	color.RGBA{R: 204, G: 121, B: 167, A: 255}, // reddish purple
}

// newCanvas returns an image of w × h at 96 dpi and a drawing canvas on it.
func newCanvas(w, h vg.Length) (*vgimg.Canvas, draw.Canvas) {
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(96))
	return img, draw.New(img)
}

// header writes a title and a subtitle at the top of dc and returns the
// rest of it.
func header(dc draw.Canvas, title, subtitle string) draw.Canvas {
	style := func(size vg.Length) text.Style {
		return text.Style{Color: color.Black, Font: font.From(plot.DefaultFont, size), XAlign: draw.XCenter, YAlign: draw.YTop, Handler: plot.DefaultTextHandler}
	}
	ts, ss := style(vg.Points(17)), style(vg.Points(12))
	x := (dc.Min.X + dc.Max.X) / 2
	y := dc.Max.Y - vg.Points(8)
	dc.FillText(ts, vg.Point{X: x, Y: y}, title)
	y -= ts.Height(title) + vg.Points(4)
	dc.FillText(ss, vg.Point{X: x, Y: y}, subtitle)
	y -= ss.Height(subtitle) + vg.Points(10)
	return draw.Crop(dc, 0, 0, 0, y-dc.Max.Y)
}

// horizontalGrid returns the grid lines of the Y axis's ticks.
func horizontalGrid() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical.Color = nil
	return g
}

// savePNG writes img to file as a PNG.
func savePNG(img *vgimg.Canvas, file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
