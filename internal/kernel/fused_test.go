package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSGDUpdate compares SGDUpdate with the separate passes it replaces (bitwise, for every
// length so that the tail and the lanes are both covered) and checks the finiteness flag
// with a non-finite value in a lane and in the tail.
func TestSGDUpdate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 37; n++ {
		theta, g := make([]float64, n), make([]float64, n)
		for j := range theta {
			theta[j], g[j] = rng.NormFloat64()*3, rng.NormFloat64()
		}
		const a, lambda = -0.137, 0.013
		want := append([]float64(nil), theta...)
		gg := append([]float64(nil), g...)
		for j := range want {
			gg[j] += lambda * want[j]
		}
		for j := range want {
			want[j] += a * gg[j]
		}
		got := append([]float64(nil), theta...)
		if !SGDUpdate(got, g, a, lambda) {
			t.Fatalf("n = %d: finite update reported as not finite", n)
		}
		for j := range want {
			if math.Float64bits(got[j]) != math.Float64bits(want[j]) {
				t.Fatalf("n = %d: θ[%d] = %v, separate passes %v", n, j, got[j], want[j])
			}
		}
		for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
			for _, pos := range []int{0, n - 1, n / 2} {
				if n == 0 {
					continue
				}
				th := append([]float64(nil), theta...)
				th[pos] = bad
				if SGDUpdate(th, g, a, lambda) {
					t.Fatalf("n = %d: %v at %d not detected", n, bad, pos)
				}
			}
		}
	}
	// Overflow to ±Inf from finite inputs is detected too.
	th := []float64{1, 1, 1, 1, 1}
	if SGDUpdate(th, []float64{0, 0, math.MaxFloat64, 0, 0}, -10, 0) {
		t.Fatalf("overflow not detected")
	}
}

func BenchmarkSGDUpdate(b *testing.B) {
	theta, g := make([]float64, 2410), make([]float64, 2410)
	for b.Loop() {
		SGDUpdate(theta, g, -1e-9, 1e-3)
	}
}
