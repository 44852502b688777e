package stationary

import (
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

// StationaryScore writes the note's exact stationary score field at θ (MATH.md §4, §7)
//
//	s_st(θ) = 2D⁻¹μ = −(2/η) C_B(θ)⁻¹ ∇L(θ)
//
// into dst, from grad = ∇L(θ) and cb = C_B(θ) formed at that θ, with C_B inverted by
// linalg.NewDenseInverse with the settings inv (damping or range). dst and grad have length d
// and may be the same slice. An error is returned when C_B(θ) cannot be inverted.
func StationaryScore(dst, grad []float64, cb mat.Symmetric, eta float64, inv *linalg.InverseSettings) error {
	ci, err := linalg.NewDenseInverse(cb, inv)
	if err != nil {
		return err
	}
	if err := ci.Solve(dst, grad); err != nil {
		return err
	}
	for i := range dst {
		dst[i] *= -2 / eta
	}
	return nil
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
