package report

import (
	"bytes"
	"image/png"
	"math"
	"strings"
	"testing"
)

// checkFigure decodes the PNG and checks the SVG is a document with drawn content.
func checkFigure(t *testing.T, f *Figure) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(f.PNG))
	if err != nil {
		t.Fatalf("%s: PNG does not decode: %v", f.Name, err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Fatalf("%s: PNG is %v", f.Name, b)
	}
	s := f.InlineSVG()
	if !strings.HasPrefix(s, "<svg") || !strings.Contains(s, "<path") {
		t.Fatalf("%s: inline SVG is not an SVG drawing: %.80q", f.Name, s)
	}
}

func TestFigures(t *testing.T) {
	xs := []float64{1, 2, 3, 4}
	f, err := LinePlot("l", "t", "x", "y", "", []Series{
		{Name: "a", X: xs, Y: []float64{1, 4, 9, 16}},
		{Name: "b", X: xs, Y: []float64{1, 2, math.NaN(), 4}, Err: []float64{.1, .1, .1, .1}, Points: true},
	}, true, true)
	if err != nil {
		t.Fatal(err)
	}
	checkFigure(t, f)
	c, err := CloudPlot("c", "t", "x", "y", "", []float64{0, 1, -1}, []float64{0, 1, 1},
		[]Ellipse{{Name: "e", Cov: [2][2]float64{{1, 0.5}, {0.5, 2}}}})
	if err != nil {
		t.Fatal(err)
	}
	checkFigure(t, c)
	g := []float64{-1, 0, 1}
	u := make([]float64, 9)
	v := make([]float64, 9)
	for j := range g {
		for i := range g {
			u[j*3+i], v[j*3+i] = -g[j], g[i]
		}
	}
	fl, err := FieldPlot("f", "t", "", g, g, u, v)
	if err != nil {
		t.Fatal(err)
	}
	checkFigure(t, fl)
}

// TestLinePlotSingleValueLog draws log axes whose data span a single value below 1 (one
// basins ratio η/B = 0.0125, equal values on y): gonum/plot's default widening to v ± 1
// would reach below zero, which panics on a log scale.
func TestLinePlotSingleValueLog(t *testing.T) {
	f, err := LinePlot("s", "t", "η/B", "λ_max", "", []Series{
		{Name: "a", X: []float64{0.0125}, Y: []float64{0.5}, Err: []float64{0}, Points: true},
		{Name: "b", X: []float64{0.0125}, Y: []float64{0.5}, Points: true},
	}, true, true)
	if err != nil {
		t.Fatal(err)
	}
	checkFigure(t, f)
}
