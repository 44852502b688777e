package linalg

import (
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
}

func TestTrace(t *testing.T) {
	rnd := newRand(21)
	d, m := 15, 6
	u := randDense(rnd, d, m)
	c := outerLoop(u, 0.7)
	want := mat.Trace(c)
	approx(t, "Trace", Trace(DenseOperator{c}), want, 1e-13)
	// Frobenius² of U times κ, computed directly.
	var fro float64
	for i := 0; i < d; i++ {
		for j := 0; j < m; j++ {
			fro += u.At(i, j) * u.At(i, j)
		}
	}
	approx(t, "κ‖U‖²_F", 0.7*fro, want, 1e-13)
}
