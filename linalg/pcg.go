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
	if len(x) != len(b) {
		panic("linalg: PCG: length mismatch")
	}
	c := newCGColumn(x, b, tol, o.Precond == nil, &o)
	if c.done {
		return 0, nil
	}
	if !o.ZeroStart {
		apply(c.r, x)
	}
	c.residual(&o)
	if !c.plain {
		if err := o.Precond(c.z, c.r); err != nil {
			return 0, err
		}
	}
	c.begin(&o)
	for c.it < maxIter {
		if c.converged(&o) {
			return c.it, nil
		}
		apply(c.ap, c.p)
		if c.step(&o); c.err != nil {
			return c.it, c.err
		}
		if !c.plain {
			if err := o.Precond(c.z, c.r); err != nil {
				return c.it, err
			}
		}
		c.next(&o)
	}
	return c.it, c.finish(maxIter)
}

// PCGMultiOptions are the variants of PCGMulti: PCGOptions with the preconditioner applied
// to several vectors at once, and one trace per right-hand side.
type PCGMultiOptions struct {
	// Precond, if non-nil, writes dst[k] = M⁻¹r[k] for every k (an error stops PCGMulti).
	Precond func(dst, r [][]float64) error
	// Curvature, ZeroStart and Method are those of PCGOptions.
	Curvature func(p, ap []float64) (float64, error)
	ZeroStart bool
	Method    string
	// Traces, if non-nil, has one PCGTrace per right-hand side.
	Traces []PCGTrace
}

// PCGMulti solves A x_k = b_k for several right-hand sides by PCG's recurrence, one
// independent conjugate-gradient run per column in lock-step: each iteration applies A
// (apply: dst[k] = A v[k]) and M⁻¹ (o.Precond) to the columns still running at once, so that
// a caller can share one pass over its data, or one blocked triangular solve, between them
// (MATH.md §2, "Several right-hand sides"). A column stops when its own test of PCG is met,
// and its iterate, iteration count and trace are those PCG returns for it alone with
// column-wise equal products. It returns every column's iterations and the error of the
// lowest-numbered column that failed (a *NotConvergedError after maxIter, a *NotPSDError,
// or an error of Precond or Curvature); on an error of Precond every column stops. It
// panics if the lengths of x and b differ.
func PCGMulti(x, b [][]float64, apply func(dst, v [][]float64), tol float64, maxIter int, o PCGMultiOptions) (iters []int, err error) {
	if len(x) != len(b) || (o.Traces != nil && len(o.Traces) != len(b)) {
		panic("linalg: PCGMulti: length mismatch")
	}
	cols := make([]*cgColumn, len(b))
	opts := make([]PCGOptions, len(b))
	iters = make([]int, len(b))
	errs := make([]error, len(b))
	var active []*cgColumn
	for k := range b {
		if len(x[k]) != len(b[k]) {
			panic("linalg: PCGMulti: length mismatch")
		}
		opts[k] = PCGOptions{Curvature: o.Curvature, ZeroStart: o.ZeroStart, Method: o.Method}
		if o.Traces != nil {
			opts[k].Trace = &o.Traces[k]
		}
		cols[k] = newCGColumn(x[k], b[k], tol, o.Precond == nil, &opts[k])
		cols[k].index = k
		if !cols[k].done {
			active = append(active, cols[k])
		}
	}
	// dst and src views of the active columns, rebuilt when one stops.
	view := func(pick func(c *cgColumn) (dst, src []float64)) (dst, src [][]float64) {
		dst, src = make([][]float64, len(active)), make([][]float64, len(active))
		for i, c := range active {
			dst[i], src[i] = pick(c)
		}
		return dst, src
	}
	precond := func() error {
		if o.Precond == nil {
			return nil
		}
		zs, rs := view(func(c *cgColumn) ([]float64, []float64) { return c.z, c.r })
		return o.Precond(zs, rs)
	}
	stopAll := func(err error) ([]int, error) {
		for _, c := range active {
			iters[c.index] = c.it
		}
		return iters, err
	}
	if len(active) > 0 && !o.ZeroStart {
		rs, xs := view(func(c *cgColumn) ([]float64, []float64) { return c.r, c.x })
		apply(rs, xs)
	}
	for _, c := range active {
		c.residual(&opts[c.index])
	}
	if err := precond(); err != nil {
		return stopAll(err)
	}
	for _, c := range active {
		c.begin(&opts[c.index])
	}
	for len(active) > 0 {
		// Columns that are done (converged, failed, or out of iterations) leave the block.
		keep := active[:0]
		for _, c := range active {
			switch {
			case c.it >= maxIter:
				iters[c.index], errs[c.index] = c.it, c.finish(maxIter)
			case c.converged(&opts[c.index]):
				iters[c.index] = c.it
			default:
				keep = append(keep, c)
			}
		}
		active = keep
		if len(active) == 0 {
			break
		}
		aps, ps := view(func(c *cgColumn) ([]float64, []float64) { return c.ap, c.p })
		apply(aps, ps)
		keep = active[:0]
		for _, c := range active {
			if c.step(&opts[c.index]); c.err != nil {
				iters[c.index], errs[c.index] = c.it, c.err
				continue
			}
			keep = append(keep, c)
		}
		active = keep
		if err := precond(); err != nil {
			return stopAll(err)
		}
		for _, c := range active {
			c.next(&opts[c.index])
		}
	}
	for _, e := range errs {
		if e != nil {
			return iters, e
		}
	}
	return iters, nil
}

// cgColumn is the state of one PCG run (PCG's recurrence, shared by PCG and PCGMulti): the
// caller applies A and M⁻¹ between the steps.
type cgColumn struct {
	x, b, r, z, p, ap []float64
	index             int
	plain             bool
	tol, nb, res, rz  float64
	alpha, maxRQ      float64
	it                int
	done              bool // b = 0: x = 0, no iteration
	err               error
	trace             *PCGTrace
	method            string
}

// newCGColumn starts a run on x, b (plain: without a preconditioner, which the caller
// applies): it resets the trace and, for b = 0, sets x = 0 and done. Without ZeroStart the
// caller then writes A x into r (residual subtracts it from b).
func newCGColumn(x, b []float64, tol float64, plain bool, o *PCGOptions) *cgColumn {
	n := len(b)
	c := &cgColumn{x: x, b: b, tol: tol, plain: plain, trace: o.Trace, method: o.Method}
	if c.method == "" {
		c.method = "preconditioned CG"
	}
	if c.plain {
		c.nb = c.norm(b, floats.Dot(b, b))
	} else {
		c.nb = c.norm(b, 0)
	}
	if c.trace != nil {
		c.trace.Alpha, c.trace.Beta, c.trace.Residual = c.trace.Alpha[:0], c.trace.Beta[:0], 0
	}
	if c.nb == 0 {
		clear(x)
		c.done = true
		return c
	}
	c.r = make([]float64, n)
	if o.ZeroStart {
		copy(c.r, b)
		clear(x)
	}
	c.z = c.r
	if !c.plain {
		c.z = make([]float64, n)
	}
	c.ap = make([]float64, n)
	return c
}

// norm is ‖v‖: √vv without a preconditioner (vv = vᵀv computed by the caller), else
// floats.Norm.
func (c *cgColumn) norm(v []float64, vv float64) float64 {
	if c.plain {
		return math.Sqrt(vv)
	}
	return floats.Norm(v, 2)
}

// residual forms r₀ = b − A x₀ from the A x₀ the caller wrote into r (not with ZeroStart).
func (c *cgColumn) residual(o *PCGOptions) {
	if !o.ZeroStart {
		floats.SubTo(c.r, c.b, c.r)
	}
}

// begin takes z₀ = M⁻¹r₀ (written by the caller) as the first direction.
func (c *cgColumn) begin(o *PCGOptions) {
	c.p = append([]float64(nil), c.z...)
	if c.plain && o.ZeroStart {
		c.rz = c.nb * c.nb // r₀ = b
	} else {
		c.rz = floats.Dot(c.r, c.z)
	}
	if c.plain {
		c.res = c.norm(c.r, c.rz)
	} else {
		c.res = c.norm(c.r, 0)
	}
	c.setResidual()
}

// converged reports whether ‖r‖ ≤ tol·‖b‖ (never before the first step with ZeroStart).
func (c *cgColumn) converged(o *PCGOptions) bool {
	return c.res <= c.tol*c.nb && (c.it > 0 || !o.ZeroStart)
}

// step takes α from the A p the caller wrote into ap and updates x and r (c.err on failure).
func (c *cgColumn) step(o *PCGOptions) {
	c.it++
	var pap float64
	if o.Curvature != nil {
		var err error
		if pap, err = o.Curvature(c.p, c.ap); err != nil {
			c.err = err
			return
		}
	} else {
		pap = floats.Dot(c.p, c.ap)
		if !(pap > 0) {
			pp := floats.Dot(c.p, c.p)
			c.err = &NotPSDError{What: "the operator of " + c.method, Eigenvalue: pap / pp, MaxEig: c.maxRQ}
			return
		}
		if rq := pap / floats.Dot(c.p, c.p); rq > c.maxRQ {
			c.maxRQ = rq
		}
	}
	alpha := c.rz / pap
	floats.AddScaled(c.x, alpha, c.p)
	floats.AddScaled(c.r, -alpha, c.ap)
	if !c.plain {
		c.res = c.norm(c.r, 0)
		c.setResidual()
	}
	c.alpha = alpha
}

// next takes β from z = M⁻¹r (written by the caller) and the new direction p.
func (c *cgColumn) next(o *PCGOptions) {
	rzNew := floats.Dot(c.r, c.z)
	if c.plain {
		c.res = c.norm(c.r, rzNew)
		c.setResidual()
	}
	beta := rzNew / c.rz
	c.rz = rzNew
	if c.trace != nil {
		c.trace.Alpha = append(c.trace.Alpha, c.alpha)
		c.trace.Beta = append(c.trace.Beta, beta)
	}
	for i := range c.p {
		c.p[i] = c.z[i] + beta*c.p[i]
	}
}

// setResidual records ‖r‖/‖b‖ in the trace.
func (c *cgColumn) setResidual() {
	if c.trace != nil {
		c.trace.Residual = c.res / c.nb
	}
}

// finish is the outcome after maxIter iterations.
func (c *cgColumn) finish(maxIter int) error {
	if c.res <= c.tol*c.nb {
		return nil
	}
	return &NotConvergedError{Method: c.method, Iter: maxIter, Residual: c.res / c.nb, Tolerance: c.tol}
}

// tridiagValues returns the eigenvalues, ascending, of the symmetric tridiagonal matrix with
// diagonal d and off-diagonal e (LAPACK's root-free QR, Dsterf; d and e are overwritten).
func tridiagValues(d, e []float64) []float64 {
	if !(gonumlapack.Implementation{}).Dsterf(len(d), d, e) {
		panic("linalg: tridiagonal eigenvalues failed to converge")
	}
	return d
}
