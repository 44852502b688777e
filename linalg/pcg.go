package linalg

import (
	"math"

	"gonum.org/v1/gonum/floats"
	gonumlapack "gonum.org/v1/gonum/lapack/gonum"
)

// PCGOptions are the variants of PCG. The zero value is conjugate gradients without
// preconditioner from the x given, with the curvature pᵀAp = p·(Ap).
type PCGOptions struct {
	// Precond, if non-nil, writes z = M⁻¹r into dst, M⁻¹ an approximation of A⁻¹ (symmetric
	// positive definite); an error it returns stops PCG. Nil means M = I (plain CG).
	Precond func(dst, r []float64) error
	// Curvature, if non-nil, returns pᵀAp for the search direction p and ap, the A p that
	// apply wrote; an error it returns stops PCG (e.g. a rank or definiteness test of the
	// caller's own). Nil means floats.Dot(p, ap), which must be > 0, else PCG returns a
	// *NotPSDError.
	Curvature func(p, ap []float64) (float64, error)
	// ZeroStart sets x = 0 and r = b without applying A, and takes the first step without
	// testing the residual (x = 0 is never accepted unless b = 0). Otherwise x is the
	// starting point and r = b − A x.
	ZeroStart bool
	// Method names the solver in errors; default "preconditioned CG".
	Method string
	// Trace, if non-nil, receives the step lengths α_j and β_j of the run and its final
	// relative residual (see PCGTrace).
	Trace *PCGTrace
}

// PCGTrace records a run of PCG: the coefficients α_j, β_j of each iteration (from which
// CondEstimate recovers the Lanczos tridiagonal matrix of the preconditioned operator) and
// the final relative residual ‖b − Ax‖/‖b‖ (0 for b = 0).
type PCGTrace struct {
	Alpha, Beta []float64
	Residual    float64
}

// CondEstimate returns the extreme eigenvalues of the Lanczos tridiagonal matrix T_k that
// k iterations of PCG build implicitly (MATH.md §2, "PCG diagnostics"): with the run's
// α_j = r_jᵀz_j / p_jᵀAp_j and β_j = r_{j+1}ᵀz_{j+1} / r_jᵀz_j,
//
//	T_jj = 1/α_j + β_{j−1}/α_{j−1} (the second term absent for j = 0),  T_{j,j+1} = √β_j / α_j,
//
// T_k = Q_kᵀ M^{−1/2} A M^{−1/2} Q_k for an orthonormal Q_k, so its eigenvalues are Ritz values
// of the preconditioned operator: lo ≥ λ_min and hi ≤ λ_max, and hi/lo is a lower bound on
// its condition number that is sharp once the extreme eigenvalues have converged (they
// converge first). It returns NaN values for a trace without iterations.
func (t *PCGTrace) CondEstimate() (lo, hi float64) {
	k := len(t.Alpha)
	if k == 0 {
		return math.NaN(), math.NaN()
	}
	d := make([]float64, k)
	e := make([]float64, max(k-1, 0))
	for j := 0; j < k; j++ {
		d[j] = 1 / t.Alpha[j]
		if j > 0 {
			d[j] += t.Beta[j-1] / t.Alpha[j-1]
		}
		if j+1 < k {
			e[j] = math.Sqrt(t.Beta[j]) / t.Alpha[j]
		}
	}
	vals := tridiagValues(d, e)
	return vals[0], vals[k-1]
}

// PCG solves A x = b for a symmetric positive definite A, given by apply (dst = A v), by
// preconditioned conjugate gradients (Hestenes–Stiefel; the CG of docs/MATH.md §2's matrix-free
// inverses): from r₀ = b − A x₀, z₀ = M⁻¹r₀, p₀ = z₀, each iteration
//
//	α = rᵀz / pᵀAp,  x ← x + α p,  r ← r − α A p,  z = M⁻¹ r,
//	β = r_newᵀz_new / rᵀz,  p ← z + β p,
//
// and stops when ‖r‖ ≤ tol·‖b‖, tested before each iteration (not before the first with
// ZeroStart) and after the last. ‖·‖ is floats.Norm(·, 2) with a preconditioner, and √(rᵀr)
// from the dot product CG computes anyway without one (then, with ZeroStart, r₀ᵀr₀ is taken
// as ‖b‖·‖b‖). x receives the solution (on error, the
// last iterate); x and b may be the same slice. b = 0 gives x = 0. It returns the number of iterations (products A p) and
// a *NotConvergedError after maxIter iterations, an error of Precond or Curvature, or a
// *NotPSDError when pᵀAp ≤ 0. It panics if len(x) ≠ len(b).
func PCG(x, b []float64, apply func(dst, v []float64), tol float64, maxIter int, o PCGOptions) (iters int, err error) {
	var res float64 // ‖r‖ of the current iterate
	n := len(b)
	if len(x) != n {
		panic("linalg: PCG: length mismatch")
	}
	method := o.Method
	if method == "" {
		method = "preconditioned CG"
	}
	plain := o.Precond == nil
	norm := func(v []float64, vv float64) float64 {
		if plain {
			return math.Sqrt(vv)
		}
		return floats.Norm(v, 2)
	}
	var nb float64
	if plain {
		nb = norm(b, floats.Dot(b, b))
	} else {
		nb = norm(b, 0)
	}
	if o.Trace != nil {
		o.Trace.Alpha, o.Trace.Beta, o.Trace.Residual = o.Trace.Alpha[:0], o.Trace.Beta[:0], 0
		defer func() { o.Trace.Residual = res / nb }()
	}
	if nb == 0 {
		clear(x)
		nb = 1
		return 0, nil
	}
	r := make([]float64, n)
	if o.ZeroStart {
		copy(r, b)
		clear(x)
	} else {
		apply(r, x)
		floats.SubTo(r, b, r)
	}
	z := r
	if !plain {
		z = make([]float64, n)
		if err := o.Precond(z, r); err != nil {
			return 0, err
		}
	}
	p := append([]float64(nil), z...)
	ap := make([]float64, n)
	var rz float64
	if plain && o.ZeroStart {
		rz = nb * nb // r₀ = b
	} else {
		rz = floats.Dot(r, z)
	}
	if plain {
		res = norm(r, rz)
	} else {
		res = norm(r, 0)
	}
	maxRQ := 0.0
	for it := 0; it < maxIter; it++ {
		if res <= tol*nb && (it > 0 || !o.ZeroStart) {
			return it, nil
		}
		apply(ap, p)
		var pap float64
		if o.Curvature != nil {
			if pap, err = o.Curvature(p, ap); err != nil {
				return it + 1, err
			}
		} else {
			pap = floats.Dot(p, ap)
			if !(pap > 0) {
				pp := floats.Dot(p, p)
				return it + 1, &NotPSDError{What: "the operator of " + method, Eigenvalue: pap / pp, MaxEig: maxRQ}
			}
			if rq := pap / floats.Dot(p, p); rq > maxRQ {
				maxRQ = rq
			}
		}
		alpha := rz / pap
		floats.AddScaled(x, alpha, p)
		floats.AddScaled(r, -alpha, ap)
		if !plain {
			res = norm(r, 0)
			if err := o.Precond(z, r); err != nil {
				return it + 1, err
			}
		}
		rzNew := floats.Dot(r, z)
		if plain {
			res = norm(r, rzNew)
		}
		beta := rzNew / rz
		rz = rzNew
		if o.Trace != nil {
			o.Trace.Alpha = append(o.Trace.Alpha, alpha)
			o.Trace.Beta = append(o.Trace.Beta, beta)
		}
		for i := range p {
			p[i] = z[i] + beta*p[i]
		}
	}
	if res <= tol*nb {
		return maxIter, nil
	}
	return maxIter, &NotConvergedError{Method: method, Iter: maxIter, Residual: res / nb, Tolerance: tol}
}

// tridiagValues returns the eigenvalues, ascending, of the symmetric tridiagonal matrix with
// diagonal d and off-diagonal e (LAPACK's root-free QR, Dsterf; d and e are overwritten).
func tridiagValues(d, e []float64) []float64 {
	if !(gonumlapack.Implementation{}).Dsterf(len(d), d, e) {
		panic("linalg: tridiagonal eigenvalues failed to converge")
	}
	return d
}
