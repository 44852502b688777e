package stationary

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestExactLeastSquaresNullDirection (issue 12, item 10): a design with a null direction (a
// feature equal to the bias column, no weight decay) has an exact symmetry θ_j − θ_bias,
// without curvature or noise; every other prediction removes it, and so must the exact
// least-squares covariance. Independent check: in the rotated coordinates
// u = (θ_j + θ_bias)/√2, w = (θ_j − θ_bias)/√2 the design no longer depends on w and its u
// column is √2·1, a full-rank least-squares problem; Σ must be R Σ_r Rᵀ (R: the rotation's
// columns for the kept coordinates), with zero variance along w.
func TestExactLeastSquaresNullDirection(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		for _, n := range []int{30, 200} {
			exactNullDirection(t, seed, n)
		}
	}
}

func exactNullDirection(t *testing.T, seed uint64, n int) {
	rnd := newRand(seed)
	const p = 3 // p features, then the bias
	xr, y := lsData(rnd, n, p+1, 0.5)
	thr := lsMinimum(t, xr, y, 0)
	// Full design: features, a copy of the bias column, the bias; θ_j = θ_bias = u/√2.
	x := mat.NewDense(n, p+2, nil)
	xrr := mat.NewDense(n, p+1, nil) // reduced design in (features, u): u column √2
	for i := 0; i < n; i++ {
		for j := 0; j < p; j++ {
			x.Set(i, j, xr.At(i, j))
			xrr.Set(i, j, xr.At(i, j))
		}
		x.Set(i, p, 1)
		x.Set(i, p+1, 1)
		xrr.Set(i, p, math.Sqrt2)
	}
	rot := mat.NewDense(p+2, p+1, nil) // θ = R θ_r
	for j := 0; j < p; j++ {
		rot.Set(j, j, 1)
	}
	rot.Set(p, p, 1/math.Sqrt2)
	rot.Set(p+1, p, 1/math.Sqrt2)
	thrr := append([]float64(nil), thr...)
	thrr[p] = thr[p] / math.Sqrt2 // u = θ_bias·√2/2·... : X_rr θ_rr = X_r θ_r
	theta := make([]float64, p+2)
	mat.NewVecDense(p+2, theta).MulVec(rot, mat.NewVecDense(p+1, thrr))
	var cr, c mat.SymDense
	LeastSquaresNoise(&cr, xrr, y, thrr)
	LeastSquaresNoise(&c, x, y, theta)
	const eta, kappa = 0.1, 0.05
	var sr, s mat.SymDense
	if err := ExactLeastSquares(&sr, xrr, 0, eta, kappa, &cr, nil); err != nil {
		t.Fatal(err)
	}
	if err := ExactLeastSquares(&s, x, 0, eta, kappa, &c, nil); err != nil {
		t.Errorf("seed %d, N = %d: a design with a null direction is refused: %v", seed, n, err)
		return
	}
	var tmp, want mat.Dense
	tmp.Mul(rot, &sr)
	want.Mul(&tmp, rot.T())
	if e := relErrMat(&s, &want); e > 1e-9 {
		t.Errorf("seed %d, N = %d: Σ differs from the reduced problem's by %.3g", seed, n, e)
	}
}
