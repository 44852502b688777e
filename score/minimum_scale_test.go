package score

import (
	"math"
	"testing"
)

func TestDivergenceShiftAtMinimum(t *testing.T) {
	// var 0.003, 0.0026, 0.005: tr Σ⁻¹ = 333.3 + 384.6 + 200 = 917.9, √ = 30.30; ‖(3, 4, 0)‖ = 5.
	shift, scale, ratio, n := DivergenceShiftAtMinimum([]float64{3, 4, 0}, []float64{0, 0, 0}, []float64{0.003, 0.0026, 0.005})
	wantScale := math.Sqrt(1/0.003 + 1/0.0026 + 1/0.005)
	if shift != 5 || math.Abs(scale-wantScale) > 1e-12 || math.Abs(ratio-5/wantScale) > 1e-15 || n != 3 {
		t.Errorf("got %v, %v, %v, %d; want 5, %v, %v, 3", shift, scale, ratio, n, wantScale, 5/wantScale)
	}
	// Variances that are not positive and finite are left out.
	_, scale, _, n = DivergenceShiftAtMinimum([]float64{1}, []float64{0.5}, []float64{4, 0, -1, math.Inf(1), math.NaN()})
	if scale != 0.5 || n != 1 {
		t.Errorf("scale %v over %d directions, want 0.5 over 1", scale, n)
	}
	// Without a usable variance there is no scale.
	shift, scale, ratio, n = DivergenceShiftAtMinimum([]float64{1, 1}, []float64{1, 0}, nil)
	if shift != 1 || !math.IsNaN(scale) || !math.IsNaN(ratio) || n != 0 {
		t.Errorf("no variances: %v, %v, %v, %d", shift, scale, ratio, n)
	}
	defer func() {
		if recover() == nil {
			t.Error("no panic on scores of different lengths")
		}
	}()
	DivergenceShiftAtMinimum([]float64{1}, []float64{1, 2}, nil)
}
