package linalg

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestNumericalRank(t *testing.T) {
	vals := []float64{1e-12, 5, -3, 0, 4e-10, 6e-10}
	// max |λ| = 5: threshold 5e-10 keeps 5, −3 and 6e-10.
	if r := NumericalRank(vals, 0); r != 3 {
		t.Errorf("rank %d, want 3", r)
	}
	if r := NumericalRank(vals, 1e-13); r != 5 {
		t.Errorf("rank at rcond 1e-13: %d, want 5", r)
	}
	if r := NumericalRank([]float64{0, 0}, 0); r != 0 {
		t.Errorf("zero spectrum rank %d", r)
	}
	rnd := newRand(20)
	u := randDense(rnd, 10, 3)
	r, err := SymRank(outerLoop(u, 1), 0)
	if err != nil || r != 3 {
		t.Errorf("SymRank of UUᵀ (U 10×3) = %d, %v; want 3", r, err)
	}
}

func TestTrace(t *testing.T) {
	rnd := newRand(21)
	d, m := 15, 6
	u := randDense(rnd, d, m)
	c := outerLoop(u, 0.7)
	want := mat.Trace(c)
	approx(t, "Trace", Trace(DenseOperator{c}), want, 1e-13)
	approx(t, "FactorTrace", FactorTrace(NewDenseFactor(u), 0.7), want, 1e-13)
	// Frobenius² of U times κ, computed directly.
	var fro float64
	for i := 0; i < d; i++ {
		for j := 0; j < m; j++ {
			fro += u.At(i, j) * u.At(i, j)
		}
	}
	approx(t, "κ‖U‖²_F", 0.7*fro, want, 1e-13)
}

// TestHutchinsonTrace: a fixed-seed estimate lies within 4 of its reported standard errors of
// the exact trace, and the reported standard error is within 30% of the exact one
// √(2 Σ_{i≠j} A_ij² / n) (the sample s.d. from 400 probes has ~3.5% relative error, the
// fourth moments of z add more; 30% is a loose bound that still catches a wrong formula).
func TestHutchinsonTrace(t *testing.T) {
	rnd := newRand(22)
	d := 30
	a := mat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			a.SetSym(i, j, rnd.NormFloat64())
		}
	}
	n := 400
	est, se := HutchinsonTrace(DenseOperator{a}, n, rand.NewPCG(9, 9))
	exact := mat.Trace(a)
	if math.Abs(est-exact) > 4*se {
		t.Errorf("Hutchinson %g ± %g, exact %g", est, se, exact)
	}
	var off float64
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			if i != j {
				off += a.At(i, j) * a.At(i, j)
			}
		}
	}
	seExact := math.Sqrt(2 * off / float64(n))
	if math.Abs(se-seExact) > 0.3*seExact {
		t.Errorf("standard error %g, exact %g", se, seExact)
	}
	// Diagonal matrix: Rademacher probes are exact.
	diag := mat.NewSymDense(3, []float64{1, 0, 0, 0, 2, 0, 0, 0, 3})
	est, se = HutchinsonTrace(DenseOperator{diag}, 5, rand.NewPCG(1, 1))
	approx(t, "diag estimate", est, 6, 1e-15)
	approx(t, "diag s.e.", se, 0, 1e-15)
}
