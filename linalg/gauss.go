package linalg

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Commutator returns ‖CH − HC‖_F / (‖C‖_F ‖H‖_F) (MATH.md §5): 0 exactly when C and H
// commute, in which case the note's precision (2/η)C⁻¹H is symmetric. It returns 0 when
// C or H is zero.
func Commutator(c, h mat.Symmetric) float64 {
	d := c.SymmetricDim()
	checkSquare("Commutator", d, h)
	nc, nh := mat.Norm(c, 2), mat.Norm(h, 2)
	if nc == 0 || nh == 0 {
		return 0
	}
	var ch, hc mat.Dense
	ch.Mul(c, h)
	hc.Mul(h, c)
	ch.Sub(&ch, &hc)
	return mat.Norm(&ch, 2) / (nc * nh)
}

// RelFrobError returns ‖est − ref‖_F / ‖ref‖_F (MATH.md §7). It is 0 when both are zero and
// +Inf when only ref is.
func RelFrobError(est, ref mat.Matrix) float64 {
	r, c := ref.Dims()
	if r2, c2 := est.Dims(); r2 != r || c2 != c {
		panic("linalg: RelFrobError: matrix dimensions differ")
	}
	var diff mat.Dense
	diff.Sub(est, ref)
	num, den := mat.Norm(&diff, 2), mat.Norm(ref, 2)
	if den == 0 {
		if num == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return num / den
}

// GaussianKL returns the Kullback–Leibler divergence KL(N(m1, S1) ‖ N(m0, S0)) (MATH.md §7)
//
//	½ [ tr(S0⁻¹S1) + (m0 − m1)ᵀ S0⁻¹ (m0 − m1) − d + ln det S0 − ln det S1 ].
//
// A nil mean is the zero vector. It returns an error when S0 or S1 is not positive definite
// (Cholesky fails). The result is clamped at 0 against rounding.
func GaussianKL(m1 []float64, s1 mat.Symmetric, m0 []float64, s0 mat.Symmetric) (float64, error) {
	d := s0.SymmetricDim()
	checkSquare("GaussianKL", d, s1)
	if (m1 != nil && len(m1) != d) || (m0 != nil && len(m0) != d) {
		panic("linalg: GaussianKL: mean length mismatch")
	}
	if err := checkFinite("Gaussian KL", s0, s1); err != nil {
		return 0, err
	}
	var c0, c1 mat.Cholesky
	if !c0.Factorize(s0) {
		return 0, fmt.Errorf("linalg: Gaussian KL: the reference covariance S0 is not positive definite")
	}
	if !c1.Factorize(s1) {
		return 0, fmt.Errorf("linalg: Gaussian KL: the covariance S1 is not positive definite")
	}
	var x mat.Dense
	if err := c0.SolveTo(&x, s1); err != nil {
		return 0, fmt.Errorf("linalg: Gaussian KL: S0 is too ill-conditioned: %v", err)
	}
	tr := mat.Trace(&x)
	dm := mat.NewVecDense(d, nil)
	for i := 0; i < d; i++ {
		var a, b float64
		if m0 != nil {
			a = m0[i]
		}
		if m1 != nil {
			b = m1[i]
		}
		dm.SetVec(i, a-b)
	}
	var y mat.VecDense
	if err := c0.SolveVecTo(&y, dm); err != nil {
		return 0, fmt.Errorf("linalg: Gaussian KL: S0 is too ill-conditioned: %v", err)
	}
	quad := mat.Dot(dm, &y)
	kl := 0.5 * (tr + quad - float64(d) + c0.LogDet() - c1.LogDet())
	return max(kl, 0), nil
}
