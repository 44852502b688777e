package stationary

import (
	"fmt"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
)

// ImpliedPriorPrecision returns the implied prior precision along one Hessian eigendirection
// (MATH.md §6, "Implicit prior as a Gaussian"):
//
//	p = σ⁻² − N·h_nll,  h_nll = h − λ,
//
// where precision = σ⁻² is the stationary precision along the direction (v_kᵀΣ⁻¹v_k), h its
// curvature of the objective (mean NLL + (λ/2)‖θ‖²) and λ the weight decay, so that h − λ is
// the curvature of the mean NLL. The explicit prior N·λ is part of p. A negative p means the
// "prior" widens rather than confines.
func ImpliedPriorPrecision(precision, h, lambda float64, n int) float64 {
	nll := float64(n) * (h - lambda)
	return precision - nll
}

// StationaryScore writes the note's stationary score (docs/MATH.md §4; the note's (*5))
//
//	s_st = 2D⁻¹μ = −(2/η) C_B⁻¹ ∇L,  μ = −η∇L, D = η²C_B,
//
// into dst: it solves C_B x = ∇L with inv (the exact, damped (C_B + λI)⁻¹ or range
// pseudo-inverse of C_B) and scales x by −2/η. A failed solve is returned.
func StationaryScore(dst []float64, inv linalg.Inverse, grad []float64, eta float64) error {
	if len(dst) != len(grad) {
		panic("stationary: StationaryScore: length mismatch")
	}
	if err := inv.Solve(dst, grad); err != nil {
		return fmt.Errorf("solving C_B x = ∇L: %w", err)
	}
	floats.Scale(-2/eta, dst)
	return nil
}

// StationaryScoreAt writes the note's exact stationary score field at θ (docs/MATH.md §4,
// §7), StationaryScore with C_B = C_B(θ) formed at that θ (cb) and inverted densely by
// linalg.NewDenseInverse with the settings inv (damping or range), from grad = ∇L(θ). dst
// and grad have length d. An error is returned when C_B(θ) cannot be inverted.
func StationaryScoreAt(dst, grad []float64, cb mat.Symmetric, eta float64, inv *linalg.InverseSettings) error {
	ci, err := linalg.NewDenseInverse(cb, inv)
	if err != nil {
		return err
	}
	return StationaryScore(dst, ci, grad, eta)
}

// PosteriorScore writes the score of the posterior exp(−N L) at θ (MATH.md §4, §6),
//
//	s_post(θ) = −N ∇L(θ),
//
// into dst from grad = ∇L(θ). dst and grad may be the same slice.
func PosteriorScore(dst, grad []float64, n int) {
	for i := range dst {
		dst[i] = -float64(n) * grad[i]
	}
}

// PriorPrecisionMatrix returns the implied prior precision matrix P = Σ⁻¹ − N·H_nll on the
// predicted subspace (MATH.md §6, "the prior as a matrix"), restricted to the range of Σ:
// with Σ = QΛQᵀ and R the eigenvectors of Λ > 1e-12·λ_max (k×r), it returns
// P_R = Λ_R⁻¹ − N·Rᵀ H_nll R (r×r) and R, where H_nll = h − λI (h the k×k Hessian of the
// objective on the subspace, λ the weight decay). Along the k − r directions of zero
// stationary variance the precision is infinite (no gradient noise moves SGD there). An
// eigendecomposition failure is an error.
func PriorPrecisionMatrix(sigma, h mat.Symmetric, lambda float64, n int) (*mat.SymDense, *mat.Dense, error) {
	k := sigma.SymmetricDim()
	checkSquare("PriorPrecisionMatrix", k, h)
	vals, q, err := eigSym(sigma, "Σ")
	if err != nil {
		return nil, nil, err
	}
	lmax := vals[k-1]
	var keep []int
	for i, v := range vals {
		if v > 1e-12*lmax {
			keep = append(keep, i)
		}
	}
	r := mat.NewDense(k, max(len(keep), 1), nil)
	if len(keep) == 0 {
		return mat.NewSymDense(0, nil), nil, nil
	}
	for j, i := range keep {
		r.SetCol(j, mat.Col(nil, i, q))
	}
	hn := mat.NewSymDense(k, nil)
	hn.CopySym(h)
	for i := 0; i < k; i++ {
		hn.SetSym(i, i, hn.At(i, i)-lambda)
	}
	p := Project(hn, r)
	p.ScaleSym(-float64(n), p)
	for j, i := range keep {
		p.SetSym(j, j, p.At(j, j)+1/vals[i])
	}
	return p, r, nil
}

// SeedPriorPrecision returns the seed's implied prior precision matrix (MATH.md §6):
// sym((2/η)C_B⁻¹H) − N·H_nll, from the symmetric part prec of the seed precision
// (NoteResult.Precision), h the Hessian of the objective on the subspace and λ the weight
// decay (H_nll = h − λI). It exists even when sym((2/η)C_B⁻¹H) is indefinite (cov_seed null).
func SeedPriorPrecision(prec, h mat.Symmetric, lambda float64, n int) *mat.SymDense {
	k := prec.SymmetricDim()
	checkSquare("SeedPriorPrecision", k, h)
	p := mat.NewSymDense(k, nil)
	for i := 0; i < k; i++ {
		for j := i; j < k; j++ {
			v := prec.At(i, j) - float64(n)*h.At(i, j)
			if i == j {
				v += float64(n) * lambda
			}
			p.SetSym(i, j, v)
		}
	}
	return p
}
