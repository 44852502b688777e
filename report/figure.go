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

	"github.com/sgdprior/sgdprior/stationary"
	"github.com/sgdprior/sgdprior/study"
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

// Colours. A series takes its colour from its label (figureColours.of), so that each
// prediction, simulator and measured quantity has one colour in every figure and legend of
// the report. The predictions take the colour-blind-safe Okabe–Ito colours (and a brown) in
// the order of stationary.PredictionNames; the exact answers of the landscapes take the
// continuous Lyapunov prediction's colour (both are the SDE's stationary law, never in one
// figure); what SGD did is black or grey.
var predictionPalette = []color.Color{
	color.RGBA{0, 114, 178, 255},   // blue: the note's (seed)
	color.RGBA{213, 94, 0, 255},    // vermillion: continuous Lyapunov
	color.RGBA{0, 158, 115, 255},   // bluish green: discrete Lyapunov
	color.RGBA{204, 121, 167, 255}, // reddish purple: exact least squares
	color.RGBA{230, 159, 0, 255},   // orange: Bayesian posterior
	color.RGBA{86, 180, 233, 255},  // sky blue: SGLD discrete Lyapunov
	color.RGBA{140, 86, 40, 255},   // brown: SGLD exact least squares
}

var (
	black     = color.RGBA{0, 0, 0, 255}
	grey      = color.RGBA{110, 110, 110, 255}
	lightGrey = color.RGBA{160, 160, 160, 255}
	olive     = color.RGBA{150, 130, 0, 255}
	indigo    = color.RGBA{90, 70, 160, 255}
	// sampleColour is the SGD samples' colour: grey at 55% opacity. color.NRGBA is not
	// premultiplied; the same numbers as a color.RGBA would be white.
	sampleColour = color.NRGBA{80, 80, 80, 140}
	// currentColour draws the probability current's arrows.
	currentColour = color.RGBA{40, 40, 40, 255}
)

// labelColours maps each series label of the report's figures to its colour.
var labelColours = func() map[string]color.Color {
	m := map[string]color.Color{
		labelMeasured: black, labelSamples: sampleColour, "SGD": black, "SGD (histogram)": black,
		"Gaussian-noise SGD": grey, "SDE (Euler–Maruyama)": olive, "Kramers": indigo, "agreement (1)": lightGrey,
	}
	for i, n := range stationary.PredictionNames {
		m[study.PredictionLabel(n)] = predictionPalette[i%len(predictionPalette)]
	}
	exact := m[study.PredictionLabel(stationary.PredContinuous)]
	for _, l := range []string{"exact (SDE)", "exact (Fokker–Planck)", "exact (first passage)"} {
		m[l] = exact
	}
	return m
}()

// Labels with a fixed meaning.
const (
	labelMeasured = "measured"
	labelSamples  = "SGD samples"
)

// otherColours colour, in turn, the series of a figure whose label has no colour of its own
// (the spectra's).
var otherColours = []color.Color{black, predictionPalette[5], indigo, predictionPalette[6]}

// figureColours hands out the colours of one figure's series.
type figureColours struct{ others int }

// of returns label's colour: its own if it has one, else the next of otherColours.
func (fc *figureColours) of(label string) color.Color {
	if c, ok := labelColours[label]; ok {
		return c
	}
	c := otherColours[fc.others%len(otherColours)]
	fc.others++
	return c
}

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
	var fc figureColours
	for i, s := range series {
		xs := s.X
		if logX {
			xs = positiveOrNaN(xs)
		}
		pts := finite(xs, s.Y, logY)
		if len(pts) == 0 {
			continue
		}
		c := fc.of(s.Name)
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
	if logX {
		widenLogRange(&p.X)
	}
	if logY {
		widenLogRange(&p.Y)
	}
	return render(p, name, title, caption)
}

// widenLogRange gives a log axis whose data span a single value v (one point, or equal
// points) the range [v/2, 2v]: gonum/plot would widen it to [v − 1, v + 1], below zero
// for v < 1, which a log scale cannot draw.
func widenLogRange(ax *plot.Axis) {
	if ax.Min == ax.Max && ax.Min > 0 {
		ax.Min, ax.Max = ax.Min/2, ax.Max*2
	}
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
		sc.GlyphStyle.Color = labelColours[labelSamples]
		sc.GlyphStyle.Radius = vg.Points(1)
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(sc)
		p.Legend.Add(labelSamples, sc)
	}
	var fc figureColours
	for _, el := range ellipses {
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
		l.LineStyle.Color = fc.of(el.Name)
		l.LineStyle.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(el.Name, l)
	}
	return render(p, name, title, caption)
}

// arrowField is a plot.Plotter that draws a vector field on a regular grid as arrows with
// filled heads, each centred on its grid point, pointing along the vector in the plot's
// coordinates, its length proportional to the vector's norm: the largest is 0.95 of the
// smaller grid spacing (on the canvas), its head 0.35 of its length.
type arrowField struct {
	x, y    []float64
	u, v    []float64 // index j*len(x)+i
	maxNorm float64
	color   color.Color
}

// spacing returns the smallest distance between consecutive canvas coordinates of xs under
// tr (+Inf for fewer than two).
func spacing(xs []float64, tr func(float64) vg.Length) vg.Length {
	s := vg.Length(math.Inf(1))
	for i := 1; i < len(xs); i++ {
		s = min(s, vg.Length(math.Abs(float64(tr(xs[i])-tr(xs[i-1])))))
	}
	return s
}

func (f *arrowField) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	full := 0.95 * min(spacing(f.x, trX), spacing(f.y, trY))
	if math.IsInf(float64(full), 1) {
		full = vg.Points(20)
	}
	shaft := draw.LineStyle{Color: f.color, Width: vg.Points(0.8)}
	for j, y := range f.y {
		for i, x := range f.x {
			u, v := f.u[j*len(f.x)+i], f.v[j*len(f.x)+i]
			n := math.Hypot(u, v)
			if !(n > 0) || math.IsInf(n, 0) {
				continue
			}
			// The vector's direction on the canvas: the image of a small step along (u, v).
			eps := 1e-6 / n * math.Max(spacingData(f.x), spacingData(f.y))
			p0 := vg.Point{X: trX(x), Y: trY(y)}
			dx, dy := float64(trX(x+eps*u)-p0.X), float64(trY(y+eps*v)-p0.Y)
			dn := math.Hypot(dx, dy)
			if !(dn > 0) {
				continue
			}
			l := float64(full) * n / f.maxNorm
			ex, ey := dx/dn, dy/dn
			tail := vg.Point{X: p0.X - vg.Length(0.5*l*ex), Y: p0.Y - vg.Length(0.5*l*ey)}
			tip := vg.Point{X: p0.X + vg.Length(0.5*l*ex), Y: p0.Y + vg.Length(0.5*l*ey)}
			h, w := 0.35*l, 0.15*l
			base := vg.Point{X: tip.X - vg.Length(h*ex), Y: tip.Y - vg.Length(h*ey)}
			c.StrokeLine2(shaft, tail.X, tail.Y, base.X, base.Y)
			c.FillPolygon(f.color, []vg.Point{tip,
				{X: base.X - vg.Length(w*ey), Y: base.Y + vg.Length(w*ex)},
				{X: base.X + vg.Length(w*ey), Y: base.Y - vg.Length(w*ex)}})
		}
	}
}

// spacingData returns the largest gap between consecutive values of xs (1 for fewer than
// two), the scale of the step that finds an arrow's direction.
func spacingData(xs []float64) float64 {
	s := 0.0
	for i := 1; i < len(xs); i++ {
		s = math.Max(s, math.Abs(xs[i]-xs[i-1]))
	}
	if s == 0 {
		return 1
	}
	return s
}

// DataRange is the grid extended by half a spacing on each side (the arrows' reach).
func (f *arrowField) DataRange() (xmin, xmax, ymin, ymax float64) {
	ext := func(xs []float64) (float64, float64) {
		lo, hi := xs[0], xs[0]
		for _, x := range xs {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
		pad := 0.5 * spacingData(xs)
		return lo - pad, hi + pad
	}
	xmin, xmax = ext(f.x)
	ymin, ymax = ext(f.y)
	return
}

// FieldPlot draws a 2-D vector field (e.g. the probability current) on a grid as arrows:
// x (nx), y (ny), and components u, v of length nx·ny, row-major by y.
func FieldPlot(name, title, caption string, x, y, u, v []float64) (*Figure, error) {
	if len(u) != len(x)*len(y) || len(v) != len(u) || len(x) == 0 || len(y) == 0 {
		panic("report: FieldPlot: shape mismatch")
	}
	p := newPlot(title, "θ₁", "θ₂")
	f := &arrowField{x: x, y: y, u: u, v: v, color: currentColour}
	for k := range u {
		if n := math.Hypot(u[k], v[k]); n > f.maxNorm && !math.IsNaN(n) && !math.IsInf(n, 0) {
			f.maxNorm = n
		}
	}
	p.Add(f)
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
			var fc figureColours
			for i, f := range fields {
				style := draw.LineStyle{Color: fc.of(f.Name), Width: vg.Points(1.2)}
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

// pow10 returns the float64 nearest to 10^k. (math.Pow10 divides for k < 0 and can be an
// ulp off: math.Pow10(-23) prints as 1.0000000000000001e-23.)
func pow10(k int) float64 {
	v, err := strconv.ParseFloat("1e"+strconv.Itoa(k), 64)
	if err != nil && v == 0 {
		return math.Pow10(k) // out of range: 0 or +Inf, as math.Pow10 gives
	}
	return v
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
		v := pow10(k)
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
