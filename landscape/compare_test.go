package landscape

import (
	"math"
	"testing"
)

func TestCompareMasses(t *testing.T) {
	nan := Float(math.NaN())
	w := func(m, se Float) WellOut { return WellOut{MassSGD: m, MassSGDStderr: se} }
	for _, c := range []struct {
		name         string
		a, b         WellOut
		diff, margin float64
		want         MassComparison
	}{
		{"first wins", w(0.98, 0.002), w(0.02, 0.002), 0.96, 0.008, FirstWins},
		{"second wins", w(0.3, 0.01), w(0.7, 0.01), -0.4, 0.04, SecondWins},
		{"within the margin", w(0.51, 0.01), w(0.49, 0.01), 0.02, 0.04, Unresolved},
		{"on the margin", w(0.625, 0.0625), w(0.375, 0.0625), 0.25, 0.25, Unresolved},
		{"no standard error", w(0.51, nan), w(0.49, 0.01), 0.02, 0, FirstWins},
		{"equal without standard errors", w(0.5, nan), w(0.5, nan), 0, 0, Unresolved},
		{"mass absent", w(nan, 0.01), w(0.49, 0.01), math.NaN(), 0.04, Unresolved},
	} {
		diff, margin, got := CompareMasses(c.a, c.b)
		okDiff := math.Abs(diff-c.diff) < 1e-12 || (math.IsNaN(c.diff) && math.IsNaN(diff))
		if !okDiff || math.Abs(margin-c.margin) > 1e-12 || got != c.want {
			t.Errorf("%s: CompareMasses = %v, %v, %v; want %v, %v, %v", c.name, diff, margin, got, c.diff, c.margin, c.want)
		}
	}
	// The rule is symmetric: swapping the wells swaps the winner.
	a, b := w(0.98, 0.002), w(0.02, 0.002)
	if _, _, r := CompareMasses(b, a); r != SecondWins {
		t.Errorf("swapped: %v", r)
	}
}
