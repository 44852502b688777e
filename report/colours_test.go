package report

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/study"
)

// svgItem matches a path (its style, empty when vgsvg leaves the default black fill) or a
// text (its content).
var svgItem = regexp.MustCompile(`<path d="[^"]*"(?: style="([^"]*)")?\s*/>|<text[^>]*>([^<]*)</text>`)

func isPath(m []string) bool { return strings.HasPrefix(m[0], "<path") }

// styleColour returns the colour a path is drawn with: its stroke, or its fill when it is
// not stroked.
func styleColour(style string) string {
	fill, stroke := "#000000", ""
	for _, kv := range strings.Split(style, ";") {
		k, v, _ := strings.Cut(kv, ":")
		switch k {
		case "fill":
			fill = v
		case "stroke":
			stroke = v
		}
	}
	if stroke != "" && stroke != "none" {
		return stroke
	}
	return fill
}

// legendColours reads a figure's legend from its SVG: gonum draws each entry's thumbnail
// just before its label, so an entry's colour is that of the last path before the text.
// Texts that follow no path (axis labels after their tick marks are not entries we ask
// for) are recorded too; callers look up the labels they know.
func legendColours(svg string) map[string]string {
	out := map[string]string{}
	last := ""
	for _, m := range svgItem.FindAllStringSubmatch(svg, -1) {
		if isPath(m) {
			last = styleColour(m[1])
			continue
		}
		if last != "" {
			out[m[2]] = last
		}
	}
	return out
}

// pathsFilled counts the paths filled with colour c and not stroked.
func pathsFilled(svg, c string) int {
	n := 0
	for _, m := range svgItem.FindAllStringSubmatch(svg, -1) {
		if isPath(m) && styleColour(m[1]) == c && !strings.Contains(m[1], "stroke:") {
			n++
		}
	}
	return n
}

// nearWhite reports whether an SVG colour #RRGGBB has every channel above 200.
func nearWhite(c string) bool {
	if len(c) != 7 || c[0] != '#' {
		return false
	}
	for i := 1; i < 7; i += 2 {
		v, err := strconv.ParseUint(c[i:i+2], 16, 8)
		if err != nil || v <= 200 {
			return false
		}
	}
	return true
}

// TestCloudSamplesVisible: the SGD samples of a cloud figure are drawn in a visible colour
// (they were a premultiplied colour.RGBA{120, 120, 120, 120}, which is white at 47%).
func TestCloudSamplesVisible(t *testing.T) {
	f, err := CloudPlot("c", "t", "x", "y", "", []float64{0, 1, -1}, []float64{0, 1, 1},
		[]Ellipse{{Name: "e", Cov: [2][2]float64{{1, 0.5}, {0.5, 2}}}})
	if err != nil {
		t.Fatal(err)
	}
	svg := string(f.SVG)
	c, ok := legendColours(svg)["SGD samples"]
	if !ok {
		t.Fatal("no legend entry for the SGD samples")
	}
	if nearWhite(c) {
		t.Errorf("the SGD samples are drawn in %s (white on white)", c)
	}
	if n := pathsFilled(svg, c); n != 3+1 { // three samples and the legend's thumbnail
		t.Errorf("%d paths filled with the samples' colour %s, want 4", n, c)
	}
}

// TestPredictionColoursAgree: across every figure of a rendered report a series label (a
// prediction, the measured covariance, a simulator) has one colour, and within a figure no
// two series share one.
func TestPredictionColoursAgree(t *testing.T) {
	rep, err := Build(fixture())
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]bool{"measured": true, "SGD samples": true, "SGD": true, "exact (SDE)": true, "Kramers": true}
	for _, n := range []string{"seed", "continuous", "discrete", "linear_exact", "posterior", "sgld_discrete", "sgld_exact"} {
		labels[study.PredictionLabel(n)] = true
	}
	seen := map[string]string{}
	where := map[string]string{}
	checked := 0
	for _, f := range rep.Figures {
		inFig := map[string]string{}
		for label, c := range legendColours(string(f.SVG)) {
			if !labels[label] {
				continue
			}
			checked++
			if prev, ok := seen[label]; ok && prev != c {
				t.Errorf("%q is %s in %s but %s in %s", label, prev, where[label], c, f.Name)
			}
			seen[label], where[label] = c, f.Name
			if other, ok := inFig[c]; ok {
				t.Errorf("%s: %q and %q are both %s", f.Name, other, label, c)
			}
			inFig[c] = label
		}
	}
	if checked < 8 {
		t.Errorf("only %d legend entries checked", checked)
	}
}

// TestFieldArrowheads: each non-zero vector of a field plot is an arrow with a filled head.
func TestFieldArrowheads(t *testing.T) {
	g := []float64{-1, 0, 1}
	u, v := make([]float64, 9), make([]float64, 9)
	nonzero := 0
	for j := range g {
		for i := range g {
			u[j*3+i], v[j*3+i] = -g[j], g[i]
			if g[i] != 0 || g[j] != 0 {
				nonzero++
			}
		}
	}
	f, err := FieldPlot("f", "t", "", g, g, u, v)
	if err != nil {
		t.Fatal(err)
	}
	heads := 0
	for _, m := range svgItem.FindAllStringSubmatch(string(f.SVG), -1) {
		if c := styleColour(m[1]); isPath(m) && !strings.Contains(m[1], "stroke:") && c != "#FFFFFF" {
			heads++
		}
	}
	if n := heads; n != nonzero {
		t.Errorf("%d filled arrowheads for %d non-zero vectors", n, nonzero)
	}
}

// TestLogTickLabelsClean: a log axis's labels are the powers of ten written briefly
// (math.Pow10(-23) is 1.0000000000000001e-23 in shortest round-trip form).
func TestLogTickLabelsClean(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   string
	}{
		{3e-26, 2e-19, "1e-25 1e-24 1e-23 1e-22 1e-21 1e-20 1e-19"},
		{3e-6, 2, "1e-05 0.0001 0.001 0.01 0.1 1"},
		{0.5, 2e4, "1 10 100 1000 10000"},
		{2e-305, 1e-299, "1e-304 1e-303 1e-302 1e-301 1e-300 1e-299"},
	} {
		var labels []string
		for _, tk := range (logTicks{}).Ticks(c.lo, c.hi) {
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if got := strings.Join(labels, " "); got != c.want {
			t.Errorf("ticks on [%g, %g]: labels %q, want %q", c.lo, c.hi, got, c.want)
		}
	}
}
