package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestVecKernels checks Dot, ScaleTo and AxpbyTo (assembly where available) against plain
// loops for every length up to 70 (all tail cases), with aliasing for AxpbyTo.
func TestVecKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 1))
	for n := 0; n <= 70; n++ {
		x, y := randSlice(rng, n+3), randSlice(rng, n+3)
		x, y = x[:n], y[:n]
		var want float64
		for i := range x {
			want += x[i] * y[i]
		}
		// Summation order differs: a few ulps of Σ|x_i y_i|.
		var abs float64
		for i := range x {
			abs += math.Abs(x[i] * y[i])
		}
		for name, got := range map[string]float64{"dot": Dot(x, y), "dotGo": dotGo(x, y)} {
			if math.Abs(got-want) > 1e-15*abs+1e-300 {
				t.Errorf("%s n=%d: %v, want %v", name, n, got, want)
			}
		}
		dst := make([]float64, n+1)
		dst[n] = 42
		ScaleTo(dst, -1.5, x)
		for i := range x {
			if dst[i] != -1.5*x[i] {
				t.Fatalf("ScaleTo n=%d: dst[%d] = %v, want %v", n, i, dst[i], -1.5*x[i])
			}
		}
		if dst[n] != 42 {
			t.Fatalf("ScaleTo n=%d wrote past the end", n)
		}
		AxpbyTo(dst, 0.5, x, 2, y)
		for i := range x {
			if want := math.FMA(0.5, x[i], 2*y[i]); math.Abs(dst[i]-want) > 1e-15*(math.Abs(x[i])+math.Abs(y[i])) {
				t.Fatalf("AxpbyTo n=%d: dst[%d] = %v, want %v", n, i, dst[i], want)
			}
		}
		if dst[n] != 42 {
			t.Fatalf("AxpbyTo n=%d wrote past the end", n)
		}
		// In place: y ← 3x + y.
		y0 := append([]float64(nil), y...)
		AxpbyTo(y, 3, x, 1, y)
		for i := range x {
			if want := 3*x[i] + y0[i]; math.Abs(y[i]-want) > 1e-15*(3*math.Abs(x[i])+math.Abs(y0[i])) {
				t.Fatalf("AxpbyTo in place n=%d: y[%d] = %v, want %v", n, i, y[i], want)
			}
		}
	}
}
