// Package report renders sgdprior's results for people: figures (SVG for the HTML report,
// and SVG and PNG files), tables and plain-language verdicts. It never computes
// mathematics: every number it shows comes from the results it is given.
package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Figure is one rendered figure.
type Figure struct {
	Name    string // file stem, e.g. "cloud-logistic"
	Title   string
	Caption string
	SVG     []byte // standalone SVG document
	PNG     []byte
}

// InlineSVG returns the SVG without its XML prolog, for embedding in HTML.
func (f *Figure) InlineSVG() string {
	s := string(f.SVG)
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	return s
}

// Default figure size.
const (
	figWidth  = 6 * vg.Inch
	figHeight = 4 * vg.Inch
)

// palette is a colour-blind-safe set (Okabe–Ito).
var palette = []color.Color{
	color.RGBA{0, 114, 178, 255},   // blue
	color.RGBA{213, 94, 0, 255},    // vermillion
	color.RGBA{0, 158, 115, 255},   // green
	color.RGBA{204, 121, 167, 255}, // purple
	color.RGBA{230, 159, 0, 255},   // orange
	color.RGBA{86, 180, 233, 255},  // sky
	color.RGBA{0, 0, 0, 255},       // black
}

func colorAt(i int) color.Color { return palette[i%len(palette)] }

// render draws p into SVG and PNG. The legend, if any, goes in a band below the plot
// (figHeight stays the plot's own height), so that it never hides data.
func render(p *plot.Plot, name, title, caption string) (*Figure, error) {
	f := &Figure{Name: name, Title: title, Caption: caption}
	leg := p.Legend
	leg.TextStyle.Font.Size = vg.Points(9)
	leg.Padding = vg.Points(2)
	p.Legend = plot.NewLegend()
	var band vg.Length
	if h := leg.Rectangle(draw.Canvas{}).Size().Y; h > 0 {
		band = h + vg.Points(12)
	}
	height := figHeight + band
	drawAll := func(dc draw.Canvas) {
		p.Draw(draw.Crop(dc, 0, 0, band, 0))
		if band > 0 {
			leg.Top, leg.Left = true, true
			leg.Draw(draw.Crop(dc, vg.Points(48), 0, vg.Points(4), -(height - band + vg.Points(4))))
		}
	}
	svg := vgsvg.New(figWidth, height)
	drawAll(draw.New(svg))
	var b bytes.Buffer
	if _, err := svg.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("report: %s: svg: %v", name, err)
	}
	f.SVG = b.Bytes()
	img := vgimg.New(figWidth, height)
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	drawAll(dc)
	var pb bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&pb); err != nil {
		return nil, fmt.Errorf("report: %s: png: %v", name, err)
	}
	f.PNG = pb.Bytes()
	return f, nil
}

func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	return p
}

// finite drops the points with a non-finite coordinate (and, with logY, y ≤ 0).
func finite(xs, ys []float64, logY bool) plotter.XYs {
	var pts plotter.XYs
	for i := range xs {
		x, y := xs[i], ys[i]
		if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) || (logY && y <= 0) {
			continue
		}
		pts = append(pts, plotter.XY{X: x, Y: y})
	}
	return pts
}

// Series is a named set of points.
type Series struct {
	Name string
	X, Y []float64
	// Err, if set, holds a standard error per point, drawn as ±2 SE bars.
	Err []float64
	// Points draws markers instead of a line.
	Points bool
}

// LinePlot draws several series; logX/logY select log axes.
func LinePlot(name, title, xlabel, ylabel, caption string, series []Series, logX, logY bool) (*Figure, error) {
	p := newPlot(title, xlabel, ylabel)
	if logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
	}
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	for i, s := range series {
		xs := s.X
		if logX {
			xs = positiveOrNaN(xs)
		}
		pts := finite(xs, s.Y, logY)
		if len(pts) == 0 {
			continue
		}
		c := colorAt(i)
		if s.Points {
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				return nil, err
			}
			sc.GlyphStyle.Color = c
			sc.GlyphStyle.Radius = vg.Points(2.5)
			sc.GlyphStyle.Shape = draw.CircleGlyph{}
			p.Add(sc)
			p.Legend.Add(s.Name, sc)
		} else {
			l, err := plotter.NewLine(pts)
			if err != nil {
				return nil, err
			}
			l.LineStyle.Color = c
			l.LineStyle.Width = vg.Points(1.5)
			if i > 0 {
				l.LineStyle.Dashes = [][]vg.Length{nil, {vg.Points(5), vg.Points(3)}, {vg.Points(2), vg.Points(2)}}[i%3]
			}
			p.Add(l)
			p.Legend.Add(s.Name, l)
		}
		if s.Err != nil {
			eb := errBars(xs, s.Y, s.Err, logY)
			if len(eb.XYs) > 0 {
				bars, err := plotter.NewYErrorBars(eb)
				if err != nil {
					return nil, err
				}
				bars.LineStyle.Color = c
				p.Add(bars)
			}
		}
	}
	return render(p, name, title, caption)
}

func positiveOrNaN(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		if x > 0 {
			out[i] = x
		} else {
			out[i] = math.NaN()
		}
	}
	return out
}

type yErr struct {
	plotter.XYs
	plotter.YErrors
}

// errBars builds ±2 SE bars, clipped to positive values on a log axis.
func errBars(xs, ys, se []float64, logY bool) yErr {
	var e yErr
	for i := range xs {
		x, y, s := xs[i], ys[i], se[i]
		if math.IsNaN(x+y+s) || math.IsInf(x+y+s, 0) {
			continue
		}
		lo, hi := 2*s, 2*s
		if logY {
			if y <= 0 {
				continue
			}
			if y-lo <= 0 {
				lo = y * (1 - 1e-3)
			}
		}
		e.XYs = append(e.XYs, plotter.XY{X: x, Y: y})
		e.YErrors = append(e.YErrors, struct{ Low, High float64 }{lo, hi})
	}
	return e
}

// Ellipse is a 2-D covariance drawn as its 2-standard-deviation contour.
type Ellipse struct {
	Name   string
	Center [2]float64
	Cov    [2][2]float64
}

// CloudPlot draws samples in a plane with prediction ellipses.
func CloudPlot(name, title, xlabel, ylabel, caption string, xs, ys []float64, ellipses []Ellipse) (*Figure, error) {
	p := newPlot(title, xlabel, ylabel)
	pts := finite(xs, ys, false)
	if len(pts) > 0 {
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle.Color = color.RGBA{120, 120, 120, 120}
		sc.GlyphStyle.Radius = vg.Points(1)
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(sc)
		p.Legend.Add("SGD samples", sc)
	}
	for i, el := range ellipses {
		c := el.Cov
		// Eigen-decomposition of the 2×2 symmetric matrix.
		tr, det := c[0][0]+c[1][1], c[0][0]*c[1][1]-c[0][1]*c[1][0]
		disc := math.Sqrt(math.Max(tr*tr/4-det, 0))
		l1, l2 := tr/2+disc, tr/2-disc
		if !(l2 > 0) || math.IsNaN(l1) {
			continue
		}
		ang := 0.5 * math.Atan2(2*c[0][1], c[0][0]-c[1][1])
		var ring plotter.XYs
		for k := 0; k <= 100; k++ {
			t := 2 * math.Pi * float64(k) / 100
			a, b := 2*math.Sqrt(l1)*math.Cos(t), 2*math.Sqrt(l2)*math.Sin(t)
			ring = append(ring, plotter.XY{
				X: el.Center[0] + a*math.Cos(ang) - b*math.Sin(ang),
				Y: el.Center[1] + a*math.Sin(ang) + b*math.Cos(ang),
			})
		}
		l, err := plotter.NewLine(ring)
		if err != nil {
			return nil, err
		}
		l.LineStyle.Color = colorAt(i)
		l.LineStyle.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(el.Name, l)
	}
	return render(p, name, title, caption)
}

// vectorField is a plotter.FieldXY over a regular grid.
type vectorField struct {
	nx, ny  int
	x, y    []float64
	u, v    []float64 // row-major, index j*nx+i
	maxNorm float64
}

func (f *vectorField) Dims() (int, int) { return f.nx, f.ny }
func (f *vectorField) X(c int) float64  { return f.x[c] }
func (f *vectorField) Y(r int) float64  { return f.y[r] }
func (f *vectorField) Vector(c, r int) plotter.XY {
	k := r*f.nx + c
	return plotter.XY{X: f.u[k] / f.maxNorm, Y: f.v[k] / f.maxNorm}
}

// FieldPlot draws a 2-D vector field (e.g. the probability current) on a grid: x (nx), y
// (ny), and components u, v of length nx·ny, row-major by y.
func FieldPlot(name, title, caption string, x, y, u, v []float64) (*Figure, error) {
	if len(u) != len(x)*len(y) || len(v) != len(u) {
		panic("report: FieldPlot: shape mismatch")
	}
	p := newPlot(title, "θ₁", "θ₂")
	f := &vectorField{nx: len(x), ny: len(y), x: x, y: y, u: u, v: v}
	for k := range u {
		if n := math.Hypot(u[k], v[k]); n > f.maxNorm && !math.IsNaN(n) {
			f.maxNorm = n
		}
	}
	if f.maxNorm == 0 {
		f.maxNorm = 1
	}
	fld := plotter.NewField(f)
	fld.LineStyle.Color = colorAt(0)
	p.Add(fld)
	return render(p, name, title, caption)
}

// Contour is one field of a ContourPlot: values Z on the plot's grid (nx·ny values,
// row-major by y: index j·nx + i), drawn as contour lines of one colour.
type Contour struct {
	Name string
	Z    []float64
}

// gridField is a plotter.GridXYZ over a regular grid.
type gridField struct {
	x, y []float64
	z    []float64 // index j*nx+i
}

func (g gridField) Dims() (int, int)   { return len(g.x), len(g.y) }
func (g gridField) Z(c, r int) float64 { return g.z[r*len(g.x)+c] }
func (g gridField) X(c int) float64    { return g.x[c] }
func (g gridField) Y(r int) float64    { return g.y[r] }

// swatch is a legend entry for a line style.
type swatch struct{ style draw.LineStyle }

func (s swatch) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(s.style, c.Min.X, y, c.Max.X, y)
}

// ContourPlot draws several fields on one grid x (nx) × y (ny) as contour lines at the
// same levels: 10%, 30%, 50%, 70% and 90% of the first field's largest value, so that the
// fields can be compared line for line.
func ContourPlot(name, title, xlabel, ylabel, caption string, x, y []float64, fields []Contour) (*Figure, error) {
	for _, f := range fields {
		if len(f.Z) != len(x)*len(y) {
			panic("report: ContourPlot: shape mismatch")
		}
	}
	p := newPlot(title, xlabel, ylabel)
	if len(fields) > 0 && len(x) > 1 && len(y) > 1 {
		top := math.Inf(-1)
		for _, z := range fields[0].Z {
			if z > top {
				top = z
			}
		}
		if top > 0 && !math.IsInf(top, 0) {
			levels := []float64{0.1 * top, 0.3 * top, 0.5 * top, 0.7 * top, 0.9 * top}
			for i, f := range fields {
				style := draw.LineStyle{Color: colorAt(i), Width: vg.Points(1.2)}
				if i > 0 {
					style.Dashes = [][]vg.Length{nil, {vg.Points(5), vg.Points(3)}, {vg.Points(2), vg.Points(2)}}[i%3]
				}
				z := make([]float64, len(f.Z))
				for k, v := range f.Z {
					if math.IsInf(v, 0) {
						v = math.NaN()
					}
					z[k] = v
				}
				p.Add(&contourLines{g: gridField{x: x, y: y, z: z}, levels: levels, style: style})
				p.Legend.Add(f.Name, swatch{style})
			}
		}
	}
	return render(p, name, title, caption)
}

// logTicks marks a log axis: labelled major ticks at the powers of ten (written exactly,
// "1e-05", "0.01", "100"), unlabelled minor ticks at 2–9 times them; with less than a
// decade in range, the default ticks.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || !(max > min) {
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	lo, hi := int(math.Floor(math.Log10(min))), int(math.Ceil(math.Log10(max)))
	var ticks []plot.Tick
	major := 0
	for k := lo; k <= hi; k++ {
		v := math.Pow10(k)
		if v >= min && v <= max {
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
			major++
		}
		if hi-lo > 8 {
			continue // minor ticks would crowd the axis
		}
		for m := 2; m <= 9; m++ {
			if w := float64(m) * v; w >= min && w <= max {
				ticks = append(ticks, plot.Tick{Value: w})
			}
		}
	}
	if major < 2 {
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	return ticks
}
