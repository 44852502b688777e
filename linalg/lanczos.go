package linalg

import (
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// LanczosSettings controls Lanczos. The zero value means defaults.
type LanczosSettings struct {
	// MaxIter is the largest Krylov dimension (number of operator products). Default
	// min(d, max(4k, k+50)). Reaching it without convergence is a *NotConvergedError.
	MaxIter int
	// Tol is the convergence tolerance: the Ritz pair (θ_i, y_i) counts as converged when its
	// residual ‖A y_i − θ_i y_i‖ = β_m |s_{m,i}| is at most Tol·max_j |θ_j|. Default 1e-10.
	Tol float64
	// Magnitude ranks eigenvalues by |λ| instead of by value. Default false: the k
	// algebraically largest.
	Magnitude bool
}

// LanczosResult describes a Lanczos run.
type LanczosResult struct {
	// Steps is the dimension of the Krylov basis built (operator products used).
	Steps int
	// Residuals holds the residual norm ‖A y_i − θ_i y_i‖ of each returned pair.
	Residuals []float64
	// Restarts counts the invariant subspaces found (the basis was continued from a fresh
	// random vector orthogonal to it; this happens when the operator has low rank).
	Restarts int
}

// Lanczos computes the k = len(vals) largest eigenvalues of the symmetric operator a (by value,
// or by magnitude if s.Magnitude) and, if vecs is not nil, their orthonormal eigenvectors
// (columns of vecs, which must be empty or d×k). Eigenvalues are written in decreasing order
// (of value or magnitude).
//
// It is the Lanczos iteration A Q_m = Q_m T_m + β_m q_{m+1} e_mᵀ with full
// reorthogonalisation (classical Gram–Schmidt, applied twice) of every new basis vector,
// started from a Gaussian random vector drawn from src. The Ritz values of the tridiagonal
// T_m approximate the extreme eigenvalues; the residual bound β_m |s_{m,i}| is exact for the
// Ritz pairs. When the Krylov space becomes invariant (β_m ≈ 0, as for an operator of rank
// below m) the basis is continued from a fresh random vector orthogonalised against it, so
// eigenvalues outside the first Krylov space (such as the zero eigenvalue of a low-rank
// operator) are found too. The basis costs d·MaxIter floats.
//
// If the iteration stops without convergence, vals and vecs hold the current Ritz pairs and a
// *NotConvergedError is returned.
func Lanczos(vals []float64, vecs *mat.Dense, a SymOperator, src rand.Source, s *LanczosSettings) (LanczosResult, error) {
	d := a.Dim()
	k := len(vals)
	if k == 0 || k > d {
		panic("linalg: Lanczos: need 1 ≤ k ≤ d eigenvalues")
	}
	if src == nil {
		panic("linalg: Lanczos: nil random source")
	}
	if vecs != nil {
		reuseDense(vecs, d, k)
	}
	var set LanczosSettings
	if s != nil {
		set = *s
	}
	if set.MaxIter <= 0 {
		set.MaxIter = min(d, max(4*k, k+50))
	}
	set.MaxIter = min(set.MaxIter, d)
	set.MaxIter = max(set.MaxIter, k)
	if set.Tol <= 0 {
		set.Tol = 1e-10
	}
	rnd := rand.New(src)

	basis := make([][]float64, 0, set.MaxIter)
	alpha := make([]float64, 0, set.MaxIter)
	beta := make([]float64, 0, set.MaxIter) // beta[j] couples q_j and q_{j+1}
	var res LanczosResult
	anorm := 0.0

	q := randomUnit(rnd, d, nil)
	w := make([]float64, d)
	var ritz []float64
	var svec *mat.Dense
	var order []int
	for j := 0; ; j++ {
		basis = append(basis, q)
		a.Apply(w, q)
		aj := floats.Dot(q, w)
		alpha = append(alpha, aj)
		anorm = max(anorm, math.Abs(aj), floats.Norm(w, 2))
		reorthogonalise(w, basis)
		reorthogonalise(w, basis)
		bj := floats.Norm(w, 2)
		m := j + 1
		breakdown := bj <= 10*math.Sqrt(float64(d))*eps*anorm
		if breakdown {
			bj = 0
		}
		beta = append(beta, bj)

		last := m == set.MaxIter
		if m >= k && (last || bj == 0 || (m-k)%(1+m/50) == 0) {
			ritz, svec, order = tridiagEigen(alpha, beta[:m-1], k, set.Magnitude)
			if converged(ritz, svec, order, bj, set.Tol) || m == d {
				res.Steps = m
				finishLanczos(vals, vecs, &res, basis, ritz, svec, order, bj)
				return res, nil
			}
			if last {
				res.Steps = m
				finishLanczos(vals, vecs, &res, basis, ritz, svec, order, bj)
				worst := 0.0
				for _, r := range res.Residuals {
					worst = max(worst, r)
				}
				scale := maxAbs(ritz)
				if scale == 0 {
					scale = 1
				}
				return res, &NotConvergedError{Method: "Lanczos", Iter: m, Residual: worst / scale, Tolerance: set.Tol}
			}
		}
		if m == d {
			// Cannot happen: m == d is always checked above (m ≥ k since k ≤ d).
			panic("linalg: Lanczos: internal error")
		}
		if breakdown {
			res.Restarts++
			q = randomUnit(rnd, d, basis)
		} else {
			q = make([]float64, d)
			floats.ScaleTo(q, 1/bj, w)
		}
	}
}

// randomUnit returns a Gaussian random unit vector orthogonal to basis.
func randomUnit(rnd *rand.Rand, d int, basis [][]float64) []float64 {
	for {
		q := make([]float64, d)
		for i := range q {
			q[i] = rnd.NormFloat64()
		}
		n0 := floats.Norm(q, 2)
		reorthogonalise(q, basis)
		reorthogonalise(q, basis)
		n := floats.Norm(q, 2)
		if n > 1e-8*n0 {
			floats.Scale(1/n, q)
			return q
		}
	}
}

// reorthogonalise removes from w its components along the orthonormal basis vectors
// (one pass of classical Gram–Schmidt).
func reorthogonalise(w []float64, basis [][]float64) {
	h := make([]float64, len(basis))
	for i, b := range basis {
		h[i] = floats.Dot(b, w)
	}
	for i, b := range basis {
		floats.AddScaled(w, -h[i], b)
	}
}

// tridiagEigen returns the eigenvalues and eigenvectors of the symmetric tridiagonal matrix
// with diagonal a and off-diagonal b, and the indices of the k wanted ones in decreasing order.
func tridiagEigen(a, b []float64, k int, magnitude bool) ([]float64, *mat.Dense, []int) {
	m := len(a)
	t := mat.NewSymDense(m, nil)
	for i := 0; i < m; i++ {
		t.SetSym(i, i, a[i])
		if i+1 < m {
			t.SetSym(i, i+1, b[i])
		}
	}
	var es mat.EigenSym
	if !es.Factorize(t, true) {
		panic("linalg: Lanczos: tridiagonal eigendecomposition failed")
	}
	vals := es.Values(nil)
	var v mat.Dense
	es.VectorsTo(&v)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	key := func(i int) float64 {
		if magnitude {
			return math.Abs(vals[i])
		}
		return vals[i]
	}
	sort.SliceStable(idx, func(x, y int) bool { return key(idx[x]) > key(idx[y]) })
	return vals, &v, idx[:k]
}

func converged(ritz []float64, s *mat.Dense, order []int, bm, tol float64) bool {
	scale := maxAbs(ritz)
	m, _ := s.Dims()
	for _, i := range order {
		if bm*math.Abs(s.At(m-1, i)) > tol*scale {
			return false
		}
	}
	return true
}

func finishLanczos(vals []float64, vecs *mat.Dense, res *LanczosResult, basis [][]float64, ritz []float64, s *mat.Dense, order []int, bm float64) {
	m, _ := s.Dims()
	res.Residuals = make([]float64, len(order))
	for c, i := range order {
		vals[c] = ritz[i]
		res.Residuals[c] = bm * math.Abs(s.At(m-1, i))
	}
	if vecs == nil {
		return
	}
	d := len(basis[0])
	y := make([]float64, d)
	for c, i := range order {
		for k := range y {
			y[k] = 0
		}
		for j := 0; j < m; j++ {
			floats.AddScaled(y, s.At(j, i), basis[j])
		}
		vecs.SetCol(c, y)
	}
}

func maxAbs(x []float64) float64 {
	var m float64
	for _, v := range x {
		m = max(m, math.Abs(v))
	}
	return m
}
