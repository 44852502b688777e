package score

import (
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/model"
)

// HessianOperator is x ↦ ∇²L(θ) x for the objective L = mean NLL + (λ/2)‖θ‖² over Batch, by
// exact Hessian–vector products (the R-operator of package model).
type HessianOperator struct {
	Objective model.Objective
	Batch     model.Batch
	Theta     []float64
}

// Dim returns d.
func (h HessianOperator) Dim() int { return len(h.Theta) }

// Apply writes ∇²L(θ) x into dst.
func (h HessianOperator) Apply(dst, x []float64) { h.Objective.HessVec(dst, h.Theta, h.Batch, x) }

// DenseHessian forms the d×d matrix of a symmetric operator column by column from d products
// with unit vectors, and symmetrises it ((A + Aᵀ)/2, which removes rounding asymmetry).
func DenseHessian(op linalg.SymOperator) *mat.SymDense {
	d := op.Dim()
	cols := mat.NewDense(d, d, nil)
	e := make([]float64, d)
	col := make([]float64, d)
	for j := 0; j < d; j++ {
		e[j] = 1
		op.Apply(col, e)
		cols.SetCol(j, col)
		e[j] = 0
	}
	h := mat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			h.SetSym(i, j, 0.5*(cols.At(i, j)+cols.At(j, i)))
		}
	}
	return h
}

// GradCovariance returns the population covariance C(θ) = (1/N) Σ_i (g_i − ḡ)(g_i − ḡ)ᵀ of
// the per-example NLL gradients over all N examples of b (MATH.md §2), formed from
// materialised gradients in memory-bounded chunks.
func GradCovariance(m model.Model, b model.Batch, theta []float64) *mat.SymDense {
	c := mat.NewSymDense(m.NumParams(), nil)
	scale := 1 / float64(b.Len())
	centredChunks(m, b, theta, func(_ int, a *mat.Dense) {
		c.SymRankK(c, scale, a.T())
	})
	return c
}
