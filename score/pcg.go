package score

import (
	"fmt"

	"gonum.org/v1/gonum/floats"

	"github.com/sgdprior/sgdprior/linalg"
)

// pcgInverse solves the damped system (C_B + λI) x = b by conjugate gradients on
// matrix-free covariance products (SolverCG, MATH.md §2), preconditioned by the damped
// Woodbury inverse of the covariance estimated from a seeded subset of the examples
// (a Nyström-type preconditioner: it captures the top of the spectrum of C_B, where plain
// CG spends its iterations). It stops when ‖b − (C_B + λI)x‖ ≤ CGTol·‖b‖. It implements
// linalg.Inverse.
type pcgInverse struct {
	d       int
	apply   func(dst, x []float64) // x ↦ (C_B + λI)x
	prec    func(dst, r []float64) error
	tol     float64
	maxIter int
}

func (p *pcgInverse) Dim() int { return p.d }

// Rank returns d: the damped matrix has full rank.
func (p *pcgInverse) Rank() int { return p.d }

// RangeFraction returns 0: a damped inverse uses the whole space.
func (p *pcgInverse) RangeFraction(b []float64) float64 {
	if len(b) != p.d {
		panic("score: pcgInverse.RangeFraction: length mismatch")
	}
	return 0
}

// Solve writes (C_B + λI)⁻¹ b into dst, starting from the preconditioner's solution.
func (p *pcgInverse) Solve(dst, b []float64) error {
	if len(dst) != p.d || len(b) != p.d {
		panic("score: pcgInverse.Solve: length mismatch")
	}
	if sameSlice(dst, b) {
		b = append([]float64(nil), b...)
	}
	if err := p.prec(dst, b); err != nil {
		return err
	}
	return pcg(dst, p.apply, p.prec, b, p.tol, p.maxIter)
}

func sameSlice(a, b []float64) bool { return len(a) > 0 && len(b) > 0 && &a[0] == &b[0] }

// pcg solves A x = b by conjugate gradients preconditioned by prec (an approximation of
// A⁻¹), starting from x (which receives the solution), and stops when
// ‖b − A x‖ ≤ tol‖b‖ (linalg.PCG). It is used to re-solve a slightly perturbed system (A at
// θ ± h v) with the unperturbed inverse as preconditioner, converging in a few iterations.
func pcg(x []float64, apply func(dst, x []float64), prec func(dst, r []float64) error, b []float64, tol float64, maxIter int) error {
	_, err := linalg.PCG(x, b, apply, tol, maxIter, linalg.PCGOptions{Precond: prec, Curvature: positiveCurvature})
	return err
}

// positiveCurvature returns pᵀAp, or an error unless it is > 0.
func positiveCurvature(p, ap []float64) (float64, error) {
	pap := floats.Dot(p, ap)
	if !(pap > 0) {
		return 0, fmt.Errorf("score: preconditioned CG: the system is not positive definite")
	}
	return pap, nil
}
