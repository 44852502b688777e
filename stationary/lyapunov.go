package stationary

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
)

// CurvatureError reports a Hessian that is not positive definite where a stationary
// covariance needs it to be.
type CurvatureError struct {
	What       string  // the computation that needed it
	Eigenvalue float64 // the offending (smallest) eigenvalue of H
}

func (e *CurvatureError) Error() string {
	return fmt.Sprintf("stationary: %s: H has eigenvalue %g ≤ 0, so there is no stationary covariance; remove null directions and restrict to positive curvature first (ReduceNull)", e.What, e.Eigenvalue)
}

// UnstableError reports SGD that diverges at the learning rate used.
type UnstableError struct {
	What       string
	Eigenvalue float64 // eigenvalue λ of H along which ηλ ≥ 2 (0 if not a single direction)
	Eta        float64
	LambdaMax  float64 // largest eigenvalue of H
	Detail     string  // extra explanation, may be empty
}

func (e *UnstableError) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("stationary: %s: %s", e.What, e.Detail)
	}
	return fmt.Sprintf("stationary: %s: SGD is unstable: eigenvalue λ = %g of H gives ηλ = %g ≥ 2 (stable only for η < 2/λ_max = %g)", e.What, e.Eigenvalue, e.Eta*e.Eigenvalue, 2/e.LambdaMax)
}

// eigSym returns the eigenvalues (ascending) and eigenvectors (columns) of a.
func eigSym(a mat.Symmetric, what string) ([]float64, *mat.Dense, error) {
	var es mat.EigenSym
	if !es.Factorize(a, true) {
		return nil, nil, errEigen(what)
	}
	var q mat.Dense
	es.VectorsTo(&q)
	return es.Values(nil), &q, nil
}

func checkSquare(what string, d int, ms ...mat.Symmetric) {
	for _, m := range ms {
		if m != nil && m.SymmetricDim() != d {
			panic("stationary: " + what + ": matrix dimensions differ")
		}
	}
}

// solveInEigenbasis writes Σ = Q Σ̃ Qᵀ into dst, where H = Q diag(λ) Qᵀ, C̃ = QᵀCQ and
// Σ̃_ij = C̃_ij / den(λ_i, λ_j) + diag_i δ_ij / den(λ_i, λ_i) (diag may be nil).
func solveInEigenbasis(dst *mat.SymDense, vals []float64, q *mat.Dense, c mat.Symmetric, diag []float64, den func(li, lj float64) float64) {
	d := len(vals)
	var ct mat.Dense
	if c != nil {
		var tmp mat.Dense
		tmp.Mul(c, q)
		ct.Mul(q.T(), &tmp)
	} else {
		ct.ReuseAs(d, d)
	}
	st := mat.NewDense(d, d, nil)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			v := 0.5 * (ct.At(i, j) + ct.At(j, i))
			if i == j && diag != nil {
				v += diag[i]
			}
			st.Set(i, j, v/den(vals[i], vals[j]))
		}
	}
	var tmp, out mat.Dense
	tmp.Mul(q, st)
	out.Mul(&tmp, q.T())
	reuseSym(dst, d)
	symmetrizeInto(dst, &out)
}

// symmetrizeInto writes (A + Aᵀ)/2 into dst (already n×n).
func symmetrizeInto(dst *mat.SymDense, a mat.Matrix) {
	n := dst.SymmetricDim()
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			dst.SetSym(i, j, 0.5*(a.At(i, j)+a.At(j, i)))
		}
	}
}

// ContinuousLyapunov writes into dst the solution Σ of the continuous Lyapunov equation
// H Σ + Σ H = η C (MATH.md §6, Mandt, Hoffman & Blei 2017): the stationary covariance of the
// SDE dθ = −ηH(θ−θ*) dt + η C^{1/2} dW with C = C_B. In H's eigenbasis (H = QΛQᵀ,
// C̃ = QᵀCQ) Σ̃_ij = η C̃_ij / (λ_i + λ_j). H must be positive definite (a *CurvatureError
// otherwise); dst must be empty or d×d.
func ContinuousLyapunov(dst *mat.SymDense, h, c mat.Symmetric, eta float64) error {
	d := h.SymmetricDim()
	checkSquare("ContinuousLyapunov", d, c)
	if err := checkFinite("continuous Lyapunov", h, c); err != nil {
		return err
	}
	vals, q, err := eigSym(h, "H")
	if err != nil {
		return err
	}
	if vals[0] <= 0 {
		return &CurvatureError{What: "continuous Lyapunov", Eigenvalue: vals[0]}
	}
	solveInEigenbasis(dst, vals, q, c, nil, func(li, lj float64) float64 { return (li + lj) / eta })
	return nil
}

// DiscreteLyapunov writes into dst the solution Σ of the discrete Lyapunov equation
// Σ = (I − ηH) Σ (I − ηH) + η² C (MATH.md §6): the exact stationary covariance of SGD on a
// quadratic with constant noise covariance C = C_B. In H's eigenbasis
// Σ̃_ij = η C̃_ij / (λ_i + λ_j − η λ_i λ_j). It returns a *CurvatureError when some λ_i ≤ 0 and
// an *UnstableError when some ηλ_i ≥ 2 (stable only for η < 2/λ_max).
func DiscreteLyapunov(dst *mat.SymDense, h, c mat.Symmetric, eta float64) error {
	return discreteLyapunov(dst, h, c, nil, eta, "discrete Lyapunov")
}

// SGLDDiscreteLyapunov writes into dst the stationary covariance of SGLD,
// θ_{k+1} = θ_k − η∇L_b(θ_k) + √(2η/N) ξ_k with ξ_k ~ N(0, I), on a quadratic with constant
// mini-batch noise C = C_B (MATH.md §9): the discrete Lyapunov solution with total noise
// η²C + (2η/N)I,
//
//	Σ = (I − ηH) Σ (I − ηH) + η² C + (2η/N) I,  Σ̃_ij = (η C̃_ij + (2/N) δ_ij) / (λ_i + λ_j − η λ_i λ_j).
//
// As η → 0 with C fixed it tends to the posterior covariance (N H)⁻¹. c may be nil (no
// mini-batch noise: full-batch Langevin). Errors as for DiscreteLyapunov.
func SGLDDiscreteLyapunov(dst *mat.SymDense, h, c mat.Symmetric, eta float64, n int) error {
	if n <= 0 {
		panic("stationary: SGLDDiscreteLyapunov: need N > 0")
	}
	d := h.SymmetricDim()
	diag := make([]float64, d)
	for i := range diag {
		diag[i] = 2 / (eta * float64(n))
	}
	return discreteLyapunov(dst, h, c, diag, eta, "SGLD discrete Lyapunov")
}

func discreteLyapunov(dst *mat.SymDense, h, c mat.Symmetric, diag []float64, eta float64, what string) error {
	d := h.SymmetricDim()
	checkSquare(what, d, c)
	if err := checkFinite(what, h, c); err != nil {
		return err
	}
	vals, q, err := eigSym(h, "H")
	if err != nil {
		return err
	}
	if err := checkDiscreteStable(vals, eta, what); err != nil {
		return err
	}
	solveInEigenbasis(dst, vals, q, c, diag, func(li, lj float64) float64 { return (li + lj - eta*li*lj) / eta })
	return nil
}

// checkDiscreteStable checks 0 < ηλ_i < 2 for the ascending eigenvalues vals.
func checkDiscreteStable(vals []float64, eta float64, what string) error {
	if vals[0] <= 0 {
		return &CurvatureError{What: what, Eigenvalue: vals[0]}
	}
	lmax := vals[len(vals)-1]
	if eta*lmax >= 2 {
		return &UnstableError{What: what, Eigenvalue: lmax, Eta: eta, LambdaMax: lmax}
	}
	return nil
}

// LaplaceCovariance writes the Laplace posterior covariance Σ_post = (N·H)⁻¹ into dst
// (MATH.md §6). The caller passes the right H: the Hessian of the mean NLL plus that of the
// explicit regulariser, so that N·H is the posterior precision N·H_nll + N∇²r. It returns a
// *CurvatureError when H is not positive definite.
func LaplaceCovariance(dst *mat.SymDense, h mat.Symmetric, n int) error {
	if n <= 0 {
		panic("stationary: LaplaceCovariance: need N > 0")
	}
	d := h.SymmetricDim()
	if err := checkFinite("Laplace posterior", h); err != nil {
		return err
	}
	vals, q, err := eigSym(h, "H")
	if err != nil {
		return err
	}
	if vals[0] <= 0 {
		return &CurvatureError{What: "Laplace posterior", Eigenvalue: vals[0]}
	}
	inv := make([]float64, d)
	for i, v := range vals {
		inv[i] = 1 / (float64(n) * v)
	}
	reuseSym(dst, d)
	fromEigen(dst, q, inv)
	return nil
}

// fromEigen writes Q diag(w) Qᵀ into dst (n×n).
func fromEigen(dst *mat.SymDense, q *mat.Dense, w []float64) {
	d := len(w)
	qs := mat.DenseCopyOf(q)
	for j := 0; j < d; j++ {
		for i := 0; i < d; i++ {
			qs.Set(i, j, qs.At(i, j)*w[j])
		}
	}
	var out mat.Dense
	out.Mul(qs, q.T())
	symmetrizeInto(dst, &out)
}

// NoteCommuteTol is the asymmetry ‖P − Pᵀ‖_F/‖P‖_F of the note's precision above
// which NoteCovariance warns that C_B and H do not commute.
const NoteCommuteTol = 1e-8

// NoteResult is the note's Gaussian prediction near a minimum (the "seed" prediction in
// the JSON outputs).
type NoteResult struct {
	// Cov is Σ_seed = (sym P_seed)⁻¹; nil when sym P_seed is not positive definite.
	Cov *mat.SymDense
	// Precision is the symmetric part (P + Pᵀ)/2 of P_seed = (2/η) C_B⁻¹ H.
	Precision *mat.SymDense
	// Asymmetry is ‖P − Pᵀ‖_F / ‖P‖_F for P = P_seed: 0 (to rounding) exactly when C_B and H
	// commute (for invertible C_B).
	Asymmetry float64
}

// NoteCovariance returns the note's stationary covariance near a minimum (MATH.md §6,
// "seed"): the precision P_seed = (2/η) C_B⁻¹ H is exact only when C_B and H commute, and
// then Σ = P_seed⁻¹ = (η/2) H⁻¹ C_B (per eigendirection var = η c_k / (2 h_k)). Otherwise
// the symmetric part of P_seed is used and a warning gives the asymmetry (when it exceeds
// NoteCommuteTol); when that symmetric part is not positive definite, Cov is nil and a
// warning says so (cov_seed is null). C_B is inverted as linalg.NewDenseInverse does with the given
// settings (nil: exact inverse, a *RankDeficientError for a singular C_B).
func NoteCovariance(h, c mat.Symmetric, eta float64, s *linalg.InverseSettings) (NoteResult, []string, error) {
	d := h.SymmetricDim()
	checkSquare("SeedCovariance", d, c)
	if err := checkFinite("seed covariance", h); err != nil {
		return NoteResult{}, nil, err
	}
	inv, err := linalg.NewDenseInverse(c, s)
	if err != nil {
		return NoteResult{}, nil, err
	}
	// P = (2/η) C⁻¹ H, column by column.
	p := mat.NewDense(d, d, nil)
	col := make([]float64, d)
	x := make([]float64, d)
	for j := 0; j < d; j++ {
		for i := 0; i < d; i++ {
			col[i] = 2 / eta * h.At(i, j)
		}
		if err := inv.Solve(x, col); err != nil {
			return NoteResult{}, nil, err
		}
		p.SetCol(j, x)
	}
	var res NoteResult
	var warn []string
	var diff mat.Dense
	diff.Sub(p, p.T())
	if np := mat.Norm(p, 2); np > 0 {
		res.Asymmetry = mat.Norm(&diff, 2) / np
	}
	if res.Asymmetry > NoteCommuteTol {
		warn = append(warn, fmt.Sprintf("seed: C_B and H do not commute: the precision (2/η)C_B⁻¹H is not symmetric (asymmetry %.3g); using its symmetric part", res.Asymmetry))
	}
	res.Precision = mat.NewSymDense(d, nil)
	symmetrizeInto(res.Precision, p)
	vals, q, err := eigSym(res.Precision, "the seed precision")
	if err != nil {
		return NoteResult{}, nil, err
	}
	if vals[0] <= 0 {
		warn = append(warn, fmt.Sprintf("seed: the symmetric part of the precision (2/η)C_B⁻¹H is not positive definite (smallest eigenvalue %g): cov_seed is null", vals[0]))
		return res, warn, nil
	}
	w := make([]float64, d)
	for i, v := range vals {
		w[i] = 1 / v
	}
	res.Cov = mat.NewSymDense(d, nil)
	fromEigen(res.Cov, q, w)
	return res, warn, nil
}

// Reduction is the subspace on which the Gaussian predictions are made (MATH.md §6).
type Reduction struct {
	// Basis holds k orthonormal columns (d×k): the eigenvectors of H with positive
	// curvature, in decreasing order of curvature.
	Basis *mat.Dense
	// Curvatures holds the k eigenvalues of H along Basis (decreasing).
	Curvatures []float64
	// H = BasisᵀH Basis = diag(Curvatures) and C = Basisᵀ C_B Basis are the k×k reduced
	// matrices.
	H, C *mat.SymDense
	// Null counts the directions with zero curvature and zero noise that were removed
	// (exact symmetries).
	Null int
	// Flat counts the directions with zero curvature but nonzero noise that were dropped.
	Flat int
	// Negative counts the directions with negative curvature that were dropped.
	Negative int
}

// ReduceNull finds the subspace on which the Gaussian predictions are made (MATH.md §6).
// With H = QΛQᵀ, a direction has zero curvature when |λ| ≤ tol·max|λ(H)|; within the
// zero-curvature eigenspace Z, the eigenvectors of ZᵀC_BZ with eigenvalue ≤ tol·λ_max(C_B)
// have zero noise too. Those directions (exact symmetries: zero curvature and zero noise) are
// removed and counted; since C_B is PSD, C_B v = 0 for them, so they do not couple to the
// rest. Zero-curvature directions with noise (the iterates random-walk) and negative-curvature
// directions (a saddle) are dropped with a warning. The result is the positive-curvature
// eigenspace of H with both matrices projected onto it. tol ≤ 0 means linalg.DefaultRCond (1e-10).
// It is an error when no positive-curvature direction remains.
func ReduceNull(h, c mat.Symmetric, tol float64) (Reduction, []string, error) {
	d := h.SymmetricDim()
	checkSquare("ReduceNull", d, c)
	if err := checkFinite("ReduceNull", h, c); err != nil {
		return Reduction{}, nil, err
	}
	if tol <= 0 {
		tol = linalg.DefaultRCond
	}
	vals, q, err := eigSym(h, "H")
	if err != nil {
		return Reduction{}, nil, err
	}
	hmax := maxAbs(vals)
	var pos, zero []int
	var red Reduction
	for i := d - 1; i >= 0; i-- {
		switch v := vals[i]; {
		case v > tol*hmax:
			pos = append(pos, i)
		case v < -tol*hmax:
			red.Negative++
		default:
			zero = append(zero, i)
		}
	}
	var warn []string
	if len(zero) > 0 {
		cvals, _, err := eigSym(c, "C_B")
		if err != nil {
			return Reduction{}, nil, err
		}
		cmax := max(cvals[d-1], 0)
		z := mat.NewDense(d, len(zero), nil)
		for j, i := range zero {
			z.SetCol(j, mat.Col(nil, i, q))
		}
		var tmp, czz mat.Dense
		tmp.Mul(c, z)
		czz.Mul(z.T(), &tmp)
		czs := mat.NewSymDense(len(zero), nil)
		symmetrizeInto(czs, &czz)
		zvals, _, err := eigSym(czs, "the noise on the zero-curvature subspace")
		if err != nil {
			return Reduction{}, nil, err
		}
		for _, v := range zvals {
			if v <= tol*cmax {
				red.Null++
			} else {
				red.Flat++
			}
		}
	}
	if red.Flat > 0 {
		warn = append(warn, fmt.Sprintf("%d direction(s) with zero curvature but nonzero noise: the iterates random-walk along them and have no stationary covariance; predictions are restricted to the positive-curvature subspace", red.Flat))
	}
	if red.Negative > 0 {
		warn = append(warn, fmt.Sprintf("%d direction(s) of negative curvature (smallest eigenvalue of H %g): not a minimum; predictions are restricted to the positive-curvature subspace", red.Negative, vals[0]))
	}
	if len(pos) == 0 {
		return Reduction{}, warn, fmt.Errorf("stationary: ReduceNull: H has no direction of positive curvature (largest eigenvalue %g)", vals[d-1])
	}
	k := len(pos)
	red.Basis = mat.NewDense(d, k, nil)
	red.Curvatures = make([]float64, k)
	red.H = mat.NewSymDense(k, nil)
	for j, i := range pos {
		red.Basis.SetCol(j, mat.Col(nil, i, q))
		red.Curvatures[j] = vals[i]
		red.H.SetSym(j, j, vals[i])
	}
	var tmp, cb mat.Dense
	tmp.Mul(c, red.Basis)
	cb.Mul(red.Basis.T(), &tmp)
	red.C = mat.NewSymDense(k, nil)
	symmetrizeInto(red.C, &cb)
	return red, warn, nil
}
