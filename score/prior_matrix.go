package score

import (
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/stationary"
)

// smallestEig returns the smallest eigenvalue of the symmetric p and its unit eigenvector.
func smallestEig(p *mat.SymDense) (float64, []float64, bool) {
	var es mat.EigenSym
	if p.SymmetricDim() == 0 || !es.Factorize(p, true) {
		return math.NaN(), nil, false
	}
	var q mat.Dense
	es.VectorsTo(&q)
	return es.Values(nil)[0], mat.Col(nil, 0, &q), true
}

// priorEig describes the smallest eigenvalue of an implied prior precision P given in the
// coordinates of the k×r basis r of the predicted subspace (nil: the subspace itself), with
// infinite the number of subspace directions where P is infinite (MATH.md §6): the
// eigenvector v (in the subspace's Hessian-eigenbasis coordinates) has weights v_i² on the
// Hessian eigendirections, Hessian content vᵀHv and noise content vᵀC_Bv.
func priorEig(p *mat.SymDense, r *mat.Dense, red *stationary.Minimum, infinite int) *PriorEig {
	val, w, ok := smallestEig(p)
	if !ok {
		return nil
	}
	v := w
	if r != nil {
		k, _ := r.Dims()
		v = make([]float64, k)
		mat.NewVecDense(k, v).MulVec(r, mat.NewVecDense(len(w), w))
	}
	e := &PriorEig{Value: val, Infinite: infinite, Weights: make([]float64, len(v))}
	k := len(v)
	for i, x := range v {
		e.Weights[i] = x * x
	}
	vv := mat.NewVecDense(k, v)
	e.Hessian = mat.Inner(vv, red.H, vv)
	e.Noise = mat.Inner(vv, red.CB, vv)
	if len(red.Curvatures) > 0 && red.Curvatures[0] > 0 {
		e.HessianRel = e.Hessian / red.Curvatures[0]
	}
	var es mat.EigenSym
	if es.Factorize(red.CB, false) {
		vals := es.Values(nil)
		if cmax := vals[len(vals)-1]; cmax > 0 {
			e.NoiseRel = e.Noise / cmax
		}
	}
	return e
}

// covPriorEig is priorEig for the implied prior precision of a stationary covariance Σ
// (stationary.PriorPrecisionMatrix); nil for a nil Σ.
func covPriorEig(sigma *mat.SymDense, red *stationary.Minimum, lambda float64, n int) *PriorEig {
	if sigma == nil {
		return nil
	}
	p, r, err := stationary.PriorPrecisionMatrix(sigma, red.H, lambda, n)
	if err != nil || r == nil {
		return nil
	}
	_, nr := r.Dims()
	return priorEig(p, r, red, sigma.SymmetricDim()-nr)
}
