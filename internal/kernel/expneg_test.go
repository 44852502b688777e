package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestExpNonPos compares ExpNonPosInPlace on one element with math.Exp on random and special arguments: at most
// 2 ulp apart (each is within 1 ulp of eˣ, and amd64 math.Exp is a different algorithm),
// special values identical.
func TestExpNonPos(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 1))
	check := func(x float64) {
		t.Helper()
		v := []float64{x}
		ExpNonPosInPlace(v)
		got, want := v[0], math.Exp(x)
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
	v := []float64{math.Inf(-1)}
	if ExpNonPosInPlace(v); v[0] != 0 {
		t.Fatalf("exp(−Inf) = %v", v[0])
	}
}

// TestExpNonPosInPlace compares the vectorised exponential with math.Exp (2 ulp, special
// values identical) and checks that an element's bits do not depend on its position (the
// AVX lanes and the scalar tail perform the same operations) or on the rest of the slice.
func TestExpNonPosInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 2))
	x := make([]float64, 1003)
	for i := range x {
		switch i % 3 {
		case 0:
			x[i] = -r.Float64() * 40
		case 1:
			x[i] = -r.Float64() * 708
		default:
			x[i] = -math.Exp(-r.Float64() * 60)
		}
	}
	x[5], x[6] = 0, math.Copysign(0, -1)
	got := append([]float64(nil), x...)
	ExpNonPosInPlace(got)
	for i, v := range x {
		if d := ulpDiff(got[i], math.Exp(v)); d > 2 {
			t.Fatalf("exp(%v) = %v, math.Exp = %v: %g ulp apart", v, got[i], math.Exp(v), d)
		}
		if s := expScalar(v); s != got[i] {
			t.Fatalf("element %d: %v in the slice, %v alone (expScalar)", i, got[i], s)
		}
	}
	// Shifted by one, every element moves between the lanes and the tail.
	sh := append([]float64(nil), x[1:]...)
	ExpNonPosInPlace(sh)
	for i := range sh {
		if sh[i] != got[i+1] {
			t.Fatalf("element %d differs when shifted", i+1)
		}
	}
	// Out-of-range arguments take the element-by-element path, with the same bits elsewhere.
	sp := append([]float64(nil), x...)
	specials := []float64{-708.0000001, -745.1, -746, -1e10, math.Inf(-1), math.NaN()}
	for k, v := range specials {
		sp[10*k+1] = v
	}
	ExpNonPosInPlace(sp)
	for i := range sp {
		want := got[i]
		if i%10 == 1 && i/10 < len(specials) {
			want = math.Exp(specials[i/10])
		}
		if !(sp[i] == want || math.IsNaN(sp[i]) && math.IsNaN(want)) {
			t.Fatalf("element %d = %v, want %v", i, sp[i], want)
		}
	}
}
