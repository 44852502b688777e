package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestExpNonPos compares expNonPos with math.Exp on random and special arguments: at most
// 2 ulp apart (each is within 1 ulp of eˣ, and amd64 math.Exp is a different algorithm),
// special values identical.
func TestExpNonPos(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 1))
	check := func(x float64) {
		t.Helper()
		got, want := expNonPos(x), math.Exp(x)
		if math.IsNaN(want) {
			if !math.IsNaN(got) {
				t.Fatalf("expNonPos(%v) = %v, want NaN", x, got)
			}
			return
		}
		if d := ulpDiff(got, want); d > 2 { // ulpDiff: tanh_test.go
			t.Fatalf("expNonPos(%v) = %v, math.Exp = %v: %g ulp apart", x, got, want, d)
		}
	}
	for i := 0; i < 200000; i++ {
		check(-r.Float64() * 40)
		check(-r.Float64() * 750)
		check(-math.Exp(-r.Float64() * 60)) // tiny arguments down to ~1e-26
	}
	for _, x := range []float64{0, math.Copysign(0, -1), -1e-300, -1.0 / (1 << 28), -math.Ln2, -0.5 * math.Ln2,
		-708, -708.0000001, -707.9999, -745.1, -746, -1e10, math.Inf(-1), math.NaN(), 1, math.Inf(1)} {
		check(x)
	}
	if got := expNonPos(math.Inf(-1)); got != 0 {
		t.Fatalf("expNonPos(−Inf) = %v", got)
	}
}
