package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

func ulpDiff(got, want float64) float64 {
	if got == want {
		return 0
	}
	u := math.Nextafter(math.Abs(want), math.Inf(1)) - math.Abs(want)
	return math.Abs(got-want) / u
}

// TestTanh compares tanhScalar with math.Tanh (within 2 ulp) on a dense grid, random values
// and special cases, and the vector kernel with tanhScalar bitwise.
func TestTanh(t *testing.T) {
	var xs []float64
	for i := -200000; i <= 200000; i++ {
		xs = append(xs, float64(i)*1.3e-4)
	}
	rng := rand.New(rand.NewPCG(8, 1))
	for i := 0; i < 100000; i++ {
		xs = append(xs, rng.NormFloat64()*math.Exp(4*rng.NormFloat64()))
	}
	xs = append(xs, 0, math.Copysign(0, -1), 0.625, -0.625, math.Nextafter(0.625, 0), 21.9, 22, 22.1, 40, -40, 710, -710,
		1e-300, -1e-310, 5e-324, math.MaxFloat64, -math.MaxFloat64, math.Inf(1), math.Inf(-1))
	worst := 0.0
	for _, x := range xs {
		got, want := tanhScalar(x), math.Tanh(x)
		if math.Signbit(got) != math.Signbit(want) {
			t.Fatalf("tanh(%v) = %v, want %v (sign)", x, got, want)
		}
		worst = math.Max(worst, ulpDiff(got, want))
	}
	if worst > 2 {
		t.Errorf("tanhScalar: worst error %v ulp against math.Tanh, want ≤ 2", worst)
	}
	if v := tanhScalar(math.NaN()); !math.IsNaN(v) {
		t.Errorf("tanh(NaN) = %v", v)
	}
	xs = append(xs, math.NaN(), -math.NaN(), 3) // length not a multiple of 4 → tail too
	ys := append([]float64(nil), xs...)
	TanhInPlace(ys)
	for i, x := range xs {
		want := tanhScalar(x)
		if math.IsNaN(want) && math.IsNaN(ys[i]) {
			continue
		}
		if math.Float64bits(ys[i]) != math.Float64bits(want) {
			t.Fatalf("TanhInPlace(%v) = %v, tanhScalar %v", x, ys[i], want)
		}
	}
}

func BenchmarkTanh(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := randSlice(rng, 32768)
	y := make([]float64, len(x))
	b.Run("math.Tanh", func(b *testing.B) {
		for b.Loop() {
			for i, v := range x {
				y[i] = math.Tanh(v)
			}
		}
	})
	b.Run("tanhScalar", func(b *testing.B) {
		for b.Loop() {
			for i, v := range x {
				y[i] = tanhScalar(v)
			}
		}
	})
	b.Run("TanhInPlace", func(b *testing.B) {
		for b.Loop() {
			copy(y, x)
			TanhInPlace(y)
		}
	})
}
