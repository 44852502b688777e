package stationary

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
)

// ExactMethod selects how ExactLeastSquares solves its linear matrix equation.
type ExactMethod int

const (
	// ExactAuto uses ExactKronecker when d ≤ ExactKroneckerMaxDim, else ExactIterative.
	ExactAuto ExactMethod = iota
	// ExactKronecker assembles the d(d+1)/2 × d(d+1)/2 matrix of the operator on symmetric
	// matrices and solves it by Cholesky: O(d⁶) time, O(d⁴) memory.
	ExactKronecker
	// ExactIterative runs preconditioned conjugate gradients on the operator (see
	// ExactLeastSquares): O(d³ + N d²) per iteration.
	ExactIterative
)

// ExactKroneckerMaxDim is the largest d for which ExactAuto assembles the Kronecker system.
const ExactKroneckerMaxDim = 40

// ExactSettings controls ExactLeastSquares. The zero value means defaults.
type ExactSettings struct {
	// Method selects the solver. Default ExactAuto.
	Method ExactMethod
	// Tol is the relative residual at which the iterative solver stops,
	// ‖R − 𝓛(Σ)‖_F ≤ Tol·‖R‖_F. Default 1e-12.
	Tol float64
	// MaxIter is the largest number of iterations of the iterative solver; reaching it is a
	// *linalg.NotConvergedError. Default 1000.
	MaxIter int
}

// ExactLeastSquares writes into dst the exact stationary covariance of SGD on linear least
// squares with weight decay (MATH.md §6, "exact for linear least squares"):
//
//	H Σ + Σ H − η H Σ H − η κ_B (M₄(Σ) − H_d Σ H_d) = η κ_B C(θ*),
//
// with ℓ_i = ½(x_iᵀθ − y_i)² (σ = 1), x_i the rows of the N×d matrix x (the caller includes
// the constant 1 of a bias), H_d = (1/N) Σ x_i x_iᵀ = XᵀX/N, H = H_d + λI (λ = lambda, the
// weight decay), M₄(Σ) = (1/N) Σ_i (x_iᵀΣx_i) x_i x_iᵀ, κ_B = kappa and C(θ*) = c the
// per-example gradient covariance at the minimum (LeastSquaresNoise). For a Gaussian
// likelihood with noise scale σ ≠ 1, ℓ_i = (x_iᵀθ − y_i)²/(2σ²) = ½((x_i/σ)ᵀθ − y_i/σ)²: pass
// X/σ and compute C from X/σ and y/σ. It follows from
// δ' = (I − η(H_b + λI))δ − η ξ_b, δ = θ − θ*, with H_b the mini-batch mean of x_i x_iᵀ and
// ξ_b the mini-batch noise at θ* (Cov ξ_b = κ_B C): the stationary mean is θ* and
// E[H_bΣH_b] = H_dΣH_d + κ_B (M₄(Σ) − H_dΣH_d), exactly, for sampling with replacement
// (κ_B = 1/B) and without (κ_B = (N − B)/(B(N − 1))).
//
// The operator 𝓛(Σ) on the left equals (Σ − E[A_b Σ A_b])/η with A_b = I − η(H_b + λI); it is
// self-adjoint for the Frobenius inner product, and positive definite exactly when the second
// moment of SGD is stable. It is solved in H's eigenbasis (H = QΛQᵀ, where H_dΣH_d and the
// Lyapunov terms are diagonal: 𝓛₀(Σ̃)_ij = (λ_i + λ_j − ηλ_iλ_j + ηκ_B μ_iμ_j) Σ̃_ij,
// μ_i = λ_i − λ), either by Cholesky on the assembled matrix (ExactKronecker) or by conjugate
// gradients preconditioned by 𝓛₀⁻¹ (ExactIterative).
//
// Null directions (MATH.md §6), eigenvectors of H with |λ| ≤ NullTol·max|λ(H)| along which
// c carries no noise either (a rank-deficient X without weight decay, e.g. a feature equal
// to the bias column), are removed as every other prediction removes them: the equation is
// solved on the remaining eigenvectors V (design X·V, noise VᵀcV) and Σ = V Σ_V Vᵀ, with
// zero variance along the null directions, which neither the gradient nor its noise moves.
//
// Errors: *CurvatureError when H is not positive definite on the directions that remain (a
// zero-curvature direction with noise); *UnstableError when some
// ηλ_i ≥ 2 or, more generally, when the second moment diverges (𝓛 not positive definite);
// *linalg.NotConvergedError from the iterative solver.
func ExactLeastSquares(dst *mat.SymDense, x mat.Matrix, lambda, eta, kappa float64, c mat.Symmetric, s *ExactSettings) error {
	return exactLS(dst, x, lambda, eta, kappa, c, false, s, false)
}

// ExactLeastSquaresSGLD is ExactLeastSquares for SGLD (MATH.md §9),
// θ_{k+1} = θ_k − η∇L_b(θ_k) + √(2η/N) ξ_k with ξ_k ~ N(0, I) independent of the batch. The
// injected noise adds (2η/N) I to the one-step covariance recursion, that is (2/N) I to the
// right-hand side after dividing by η:
//
//	H Σ + Σ H − η H Σ H − η κ_B (M₄(Σ) − H_d Σ H_d) = η κ_B C(θ*) + (2/N) I,
//
// N the number of rows of x. As η → 0 it tends to the posterior covariance (N H)⁻¹.
func ExactLeastSquaresSGLD(dst *mat.SymDense, x mat.Matrix, lambda, eta, kappa float64, c mat.Symmetric, s *ExactSettings) error {
	return exactLS(dst, x, lambda, eta, kappa, c, true, s, false)
}

// exactLS implements ExactLeastSquares; dropM4 removes the M₄(Σ) − H_dΣH_d term (tests).
func exactLS(dst *mat.SymDense, x mat.Matrix, lambda, eta, kappa float64, c mat.Symmetric, sgld bool, s *ExactSettings, dropM4 bool) error {
	const what = "exact least-squares covariance"
	n, d := x.Dims()
	if n == 0 || d == 0 {
		panic("stationary: ExactLeastSquares: empty design matrix")
	}
	checkSquare("ExactLeastSquares", d, c)
	switch {
	case !(eta > 0) || math.IsInf(eta, 0):
		return fmt.Errorf("stationary: %s: learning rate η = %g must be finite and > 0", what, eta)
	case !(kappa >= 0) || math.IsInf(kappa, 0):
		return fmt.Errorf("stationary: %s: κ_B = %g must be finite and ≥ 0", what, kappa)
	case !(lambda >= 0) || math.IsInf(lambda, 0):
		return fmt.Errorf("stationary: %s: weight decay λ = %g must be finite and ≥ 0", what, lambda)
	}
	if err := checkFinite(what, x, c); err != nil {
		return err
	}
	var set ExactSettings
	if s != nil {
		set = *s
	}
	if set.Tol <= 0 {
		set.Tol = 1e-12
	}
	if set.MaxIter <= 0 {
		set.MaxIter = 1000
	}
	if set.Method == ExactAuto {
		set.Method = ExactIterative
		if d <= ExactKroneckerMaxDim {
			set.Method = ExactKronecker
		}
	}

	// H_d = XᵀX/N, H = H_d + λI = QΛQᵀ.
	xd := mat.DenseCopyOf(x)
	hd := mat.NewSymDense(d, nil)
	hd.SymOuterK(1/float64(n), xd.T())
	h := mat.NewSymDense(d, nil)
	h.CopySym(hd)
	for i := 0; i < d; i++ {
		h.SetSym(i, i, h.At(i, i)+lambda)
	}
	vals, q, err := eigSym(h, "H")
	if err != nil {
		return err
	}
	if !sgld {
		if keep, ok := exactNullDirections(vals, q, c); ok {
			return exactReduced(dst, xd, keep, lambda, eta, kappa, c, s, dropM4)
		}
	}
	if err := checkDiscreteStable(vals, eta, what); err != nil {
		return err
	}

	p := &exactOp{d: d, n: n, eta: eta, kappa: kappa, dropM4: dropM4}
	// Rows of X̃ = X Q are the examples in H's eigenbasis.
	p.xt = mat.NewDense(n, d, nil)
	p.xt.Mul(xd, q)
	p.w = make([]float64, d*d)
	for i := 0; i < d; i++ {
		mi := vals[i] - lambda
		for j := 0; j < d; j++ {
			mj := vals[j] - lambda
			lin := vals[i] + vals[j] - eta*vals[i]*vals[j]
			if !dropM4 {
				lin += eta * kappa * mi * mj
			}
			p.w[i*d+j] = lin
		}
	}
	// Right-hand side R̃ = Qᵀ(ηκC + (2/N)I)Q.
	rhs := make([]float64, d*d)
	if c != nil {
		var tmp, ct mat.Dense
		tmp.Mul(c, q)
		ct.Mul(q.T(), &tmp)
		for i := 0; i < d; i++ {
			for j := 0; j < d; j++ {
				rhs[i*d+j] = eta * kappa * 0.5 * (ct.At(i, j) + ct.At(j, i))
			}
		}
	}
	if sgld {
		for i := 0; i < d; i++ {
			rhs[i*d+i] += 2 / float64(n)
		}
	}

	sol := make([]float64, d*d)
	switch set.Method {
	case ExactKronecker:
		err = p.solveKronecker(sol, rhs)
	case ExactIterative:
		err = p.solvePCG(sol, rhs, set.Tol, set.MaxIter)
	default:
		panic("stationary: ExactLeastSquares: unknown method")
	}
	if err != nil {
		if _, ok := err.(*linalg.NotConvergedError); ok {
			return err
		}
		return &UnstableError{What: what, Eta: eta, LambdaMax: vals[d-1],
			Detail: fmt.Sprintf("the second moment of SGD diverges at η = %g, κ_B = %g (the operator HΣ+ΣH−ηHΣH−ηκ_B(M₄(Σ)−H_dΣH_d) is not positive definite): reduce η", eta, kappa)}
	}
	st := mat.NewDense(d, d, sol)
	var tmp, out mat.Dense
	tmp.Mul(q, st)
	out.Mul(&tmp, q.T())
	reuseSym(dst, d)
	symmetrizeInto(dst, &out)
	return nil
}

// exactNullDirections finds the null directions of a least-squares problem (MATH.md §6): the
// eigenvectors of H with |λ| ≤ NullTol·max|λ(H)| along which the noise c carries at most
// NullTol·λ_max(c) (exact symmetries, such as a feature equal to the bias column without
// weight decay). It returns the d×k eigenvectors to keep and true when there are such
// directions, and false otherwise (none, or a zero-curvature direction with noise, which
// has no stationary covariance and is left to the caller's CurvatureError).
func exactNullDirections(vals []float64, q *mat.Dense, c mat.Symmetric) (*mat.Dense, bool) {
	d := len(vals)
	hmax := maxAbs(vals)
	var keep, null []int
	for i, v := range vals {
		if math.Abs(v) <= NullTol*hmax {
			null = append(null, i)
		} else {
			keep = append(keep, i)
		}
	}
	if len(null) == 0 || len(keep) == 0 {
		return nil, false
	}
	if c != nil {
		cvals, _, err := eigSym(c, "C")
		if err != nil {
			return nil, false
		}
		z := mat.NewDense(d, len(null), nil)
		for j, i := range null {
			z.SetCol(j, mat.Col(nil, i, q))
		}
		czz := Project(c, z)
		zv, _, err := eigSym(czz, "C on the null directions")
		if err != nil || zv[len(zv)-1] > NullTol*max(cvals[d-1], 0) {
			return nil, false
		}
	}
	basis := mat.NewDense(d, len(keep), nil)
	for j, i := range keep {
		basis.SetCol(j, mat.Col(nil, i, q))
	}
	return basis, true
}

// exactReduced solves the exact least-squares equation on the span of the d×k basis v (the
// directions exactNullDirections keeps) with the design X·v and the noise vᵀcv, and writes
// v Σ_r vᵀ into dst: zero variance along the removed null directions, where neither the
// gradient nor its noise moves SGD.
func exactReduced(dst *mat.SymDense, x *mat.Dense, v *mat.Dense, lambda, eta, kappa float64, c mat.Symmetric, s *ExactSettings, dropM4 bool) error {
	n, _ := x.Dims()
	_, k := v.Dims()
	xr := mat.NewDense(n, k, nil)
	xr.Mul(x, v)
	var cr mat.Symmetric
	if c != nil {
		cr = Project(c, v)
	}
	var sr mat.SymDense
	if err := exactLS(&sr, xr, lambda, eta, kappa, cr, false, s, dropM4); err != nil {
		return err
	}
	full := Unproject(&sr, v)
	reuseSym(dst, full.SymmetricDim())
	dst.CopySym(full)
	return nil
}

// exactOp is the operator 𝓛 of ExactLeastSquares in H's eigenbasis, acting on d×d
// symmetric matrices stored row-major.
type exactOp struct {
	d, n       int
	eta, kappa float64
	dropM4     bool
	xt         *mat.Dense // N×d examples in the eigenbasis
	w          []float64  // diagonal part 𝓛₀
}

var errNotPD = fmt.Errorf("not positive definite")

// apply writes 𝓛(Σ) = 𝓛₀(Σ) − (ηκ/N) Σ_i (x̃_iᵀΣx̃_i) x̃_i x̃_iᵀ into dst.
func (p *exactOp) apply(dst, sig []float64) {
	for i, v := range sig {
		dst[i] = p.w[i] * v
	}
	if p.dropM4 || p.kappa == 0 {
		return
	}
	d, n := p.d, p.n
	// q_i = x̃_iᵀ Σ x̃_i, then dst −= (ηκ/N) X̃ᵀ diag(q) X̃.
	xs := make([]float64, n*d)
	xr := p.xt.RawMatrix()
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, xr, blas64.General{Rows: d, Cols: d, Stride: d, Data: sig}, 0,
		blas64.General{Rows: n, Cols: d, Stride: d, Data: xs})
	for i := 0; i < n; i++ {
		row := xr.Data[i*xr.Stride : i*xr.Stride+d]
		qi := floats.Dot(row, xs[i*d:(i+1)*d])
		floats.ScaleTo(xs[i*d:(i+1)*d], qi, row) // reuse xs as diag(q) X̃
	}
	blas64.Gemm(blas.Trans, blas.NoTrans, -p.eta*p.kappa/float64(n), xr,
		blas64.General{Rows: n, Cols: d, Stride: d, Data: xs}, 1,
		blas64.General{Rows: d, Cols: d, Stride: d, Data: dst})
}

// solveKronecker assembles 𝓛 on the isometric half-vectorisation
// svec(Σ) = (Σ_ii, √2 Σ_ij (i < j)), where ⟨A, B⟩_F = svec(A)·svec(B), and solves by Cholesky.
// The M₄ part is (1/N) SᵀS with the rows of S the svec(x̃_i x̃_iᵀ).
func (p *exactOp) solveKronecker(sol, rhs []float64) error {
	d, n := p.d, p.n
	m := d * (d + 1) / 2
	a := mat.NewSymDense(m, nil)
	k := 0
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			a.SetSym(k, k, p.w[i*d+j])
			k++
		}
	}
	if !p.dropM4 && p.kappa != 0 {
		sq := math.Sqrt2
		s := mat.NewDense(n, m, nil)
		for r := 0; r < n; r++ {
			row := p.xt.RawRowView(r)
			k := 0
			for i := 0; i < d; i++ {
				s.Set(r, k, row[i]*row[i])
				k++
				for j := i + 1; j < d; j++ {
					s.Set(r, k, sq*row[i]*row[j])
					k++
				}
			}
		}
		a.SymRankK(a, -p.eta*p.kappa/float64(n), s.T())
	}
	b := mat.NewVecDense(m, nil)
	k = 0
	for i := 0; i < d; i++ {
		b.SetVec(k, rhs[i*d+i])
		k++
		for j := i + 1; j < d; j++ {
			b.SetVec(k, math.Sqrt2*0.5*(rhs[i*d+j]+rhs[j*d+i]))
			k++
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(a) {
		return errNotPD
	}
	var x mat.VecDense
	if err := ch.SolveVecTo(&x, b); err != nil {
		return errNotPD
	}
	k = 0
	for i := 0; i < d; i++ {
		sol[i*d+i] = x.AtVec(k)
		k++
		for j := i + 1; j < d; j++ {
			v := x.AtVec(k) / math.Sqrt2
			sol[i*d+j], sol[j*d+i] = v, v
			k++
		}
	}
	return nil
}

// solvePCG runs conjugate gradients (linalg.PCG) on 𝓛 Σ = R with the Frobenius inner
// product, preconditioned by 𝓛₀⁻¹ (elementwise division by w), from Σ = 𝓛₀⁻¹R. A 𝓛 that is
// not positive definite gives a *linalg.NotPSDError (the caller reports it as unstable).
func (p *exactOp) solvePCG(sol, rhs []float64, tol float64, maxIter int) error {
	precond := func(z, r []float64) error {
		for i := range z {
			z[i] = r[i] / p.w[i]
		}
		return nil
	}
	precond(sol, rhs)
	_, err := linalg.PCG(sol, rhs, p.apply, tol, maxIter, linalg.PCGOptions{Precond: precond,
		Method: "preconditioned CG (exact least-squares covariance)"})
	return err
}

// LeastSquaresNoise writes into dst the per-example gradient covariance of the least-squares
// loss ℓ_i = ½(x_iᵀθ − y_i)² at θ (MATH.md §2, §6):
//
//	C(θ) = (1/N) Σ_i ρ_i² x_i x_iᵀ − ḡ ḡᵀ,  ρ_i = x_iᵀθ − y_i,  ḡ = (1/N) Σ_i ρ_i x_i,
//
// which at the minimum of the objective with weight decay λ is
// (1/N) Σ ρ_i² x_i x_iᵀ − λ² θ* θ*ᵀ (there ḡ = −λθ*).
func LeastSquaresNoise(dst *mat.SymDense, x mat.Matrix, y, theta []float64) {
	n, d := x.Dims()
	if len(y) != n || len(theta) != d {
		panic("stationary: LeastSquaresNoise: length mismatch")
	}
	reuseSym(dst, d)
	xd := mat.DenseCopyOf(x)
	g := make([]float64, d)
	w := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		row := xd.RawRowView(i)
		rho := floats.Dot(row, theta) - y[i]
		floats.AddScaled(g, rho/float64(n), row)
		floats.ScaleTo(w.RawRowView(i), rho, row)
	}
	dst.SymOuterK(1/float64(n), w.T())
	dst.SymRankOne(dst, -1, mat.NewVecDense(d, g))
}
