package score

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
)

// rangeRebuildMaxDim is the largest Gram matrix for which the asymmetry rebuilds the range
// pseudo-inverse at each perturbed θ (an eigendecomposition each time).
const rangeRebuildMaxDim = 400

// solverAt returns a solver of the (damped or pseudo-inverted) C_B(θ') x = b at a nearby θ',
// recomputing the covariance there: the dense inverse or the Woodbury range pseudo-inverse
// is rebuilt. It returns nil for the other solvers (their Jacobian products do not
// re-solve: see jacobianProduct).
func (c *computation) solverAt(theta []float64) (func(dst, b []float64) error, error) {
	set := &c.set
	switch c.r.Solver {
	case SolverDense:
		cs := newCovState(c.src, theta, SolverDense, c.r.Kappa)
		if _, err := cs.invert(&set.Inverse, -1, set.Seed, set.precondExamples()); err != nil {
			return nil, err
		}
		return cs.inv.Solve, nil
	case SolverWoodbury:
		cs := newCovState(c.src, theta, SolverWoodbury, c.r.Kappa)
		if _, err := cs.invert(&set.Inverse, -1, set.Seed, set.precondExamples()); err != nil {
			return nil, err
		}
		return cs.inv.Solve, nil
	}
	return nil, nil
}

// fields writes F_seed(θ') = −(2/η) A(θ')⁻¹ ∇L(θ') into note and, when gen is not nil,
// F_gen(θ') = A(θ')⁻¹ (−(2/η)∇L(θ') − κ_B ∇·C(θ')) into gen (MATH.md §5), A = C_B damped or
// pseudo-inverted as for the scores.
func (c *computation) fields(note, gen, theta []float64) error {
	d := c.src.dim()
	grad := make([]float64, d)
	c.src.meanGrad(grad, theta)
	if lam := c.src.weightDecay(); lam != 0 {
		floats.AddScaled(grad, lam, theta)
	}
	solve, err := c.solverAt(theta)
	if err != nil {
		return err
	}
	b := make([]float64, d)
	floats.ScaleTo(b, -2/c.r.LR, grad)
	if err := solve(note, b); err != nil {
		return err
	}
	if gen != nil {
		div := make([]float64, d)
		c.div.at(div, theta)
		floats.AddScaled(b, -c.r.Kappa, div)
		if err := solve(gen, b); err != nil {
			return err
		}
	}
	return nil
}

// jacobianProduct writes J_seed u and (gen non-nil) J_gen u for the unit direction u into
// note and gen with step h: by the product rule for the damped or exact Woodbury solver
// (productRuleJacobian), by central differences of the fields otherwise.
// hu, when not nil, is H u (productRuleJacobian).
func (c *computation) jacobianProduct(note, gen, u, hu []float64, h float64) error {
	if c.productRule() {
		if hu == nil {
			hu = make([]float64, len(u))
			c.msrc.fullHessVecs([][]float64{hu}, c.theta, [][]float64{u})
		}
		return c.productRuleJacobian(note, gen, u, hu, h)
	}
	d := len(u)
	tp, tm := make([]float64, d), make([]float64, d)
	for i := range u {
		tp[i] = c.theta[i] + h*u[i]
		tm[i] = c.theta[i] - h*u[i]
	}
	sp, sm := make([]float64, d), make([]float64, d)
	var gp, gm []float64
	if gen != nil {
		gp, gm = make([]float64, d), make([]float64, d)
	}
	if err := c.fields(sp, gp, tp); err != nil {
		return err
	}
	if err := c.fields(sm, gm, tm); err != nil {
		return err
	}
	for i := range note {
		note[i] = (sp[i] - sm[i]) / (2 * h)
	}
	for i := range gen {
		gen[i] = (gp[i] - gm[i]) / (2 * h)
	}
	return nil
}

// productRule reports whether Jacobian products go by productRuleJacobian: for the
// Woodbury solver without the range pseudo-inverse and for the CG solver, whose A is
// positive definite and whose inverse at θ is at hand (the CG solver re-solves with it; a
// central difference of two re-solved fields would need each solve to a relative accuracy
// far below the step h).
func (c *computation) productRule() bool {
	return (c.r.Solver == SolverWoodbury && !c.set.Inverse.Range) || c.r.Solver == SolverCG
}

// productRuleJacobian writes J_seed u and (gen non-nil) J_gen u for the damped or exact
// Woodbury solver and the CG solver, where A = C_B + λI is positive definite and its inverse at θ is at hand.
// Differentiating A F = b along u gives
//
//	J u = A⁻¹ [∂_u b − (∂_u A) F(θ)],  ∂_u A = κ_B ∂_u C,
//
// with b = −(2/η)∇L for F_seed and b = −(2/η)∇L − κ_B ∇·C for F_gen, F(θ) the stationary
// and general scores already computed. ∂_u ∇L = H u is exact (the R-operator over all N
// examples, weight decay included); ∂_u C x is exact where the source has a tangent
// (exactTangent), a central difference with step h otherwise; ∂_u ∇·C is a central
// difference; hu is H u. One solve at θ replaces the re-solve of a perturbed system at
// θ ± hu (MATH.md §5).
func (c *computation) productRuleJacobian(note, gen, u, hu []float64, h float64) error {
	var gens [][]float64
	if gen != nil {
		gens = [][]float64{gen}
	}
	c.productRuleRHS([][]float64{note}, gens, [][]float64{u}, [][]float64{hu}, h)
	if err := c.cs.inv.Solve(note, note); err != nil || gen == nil {
		return err
	}
	return c.cs.inv.Solve(gen, gen)
}

// noExactTangent makes the product rule take central differences of C x even where the
// source has an exact tangent (tests compare the two).
var noExactTangent bool

// exactTangent reports whether the product rule takes ∂_u C x from the source's exact
// tangent (covTangents) rather than from central differences.
func (c *computation) exactTangent() bool {
	return c.productRule() && c.src.hasCovTangents() && !noExactTangent
}

// productRuleRHS writes the right-hand sides of productRuleJacobian, ∂_u b − (∂_u A) F(θ),
// for the directions us (hus[k] = H us[k]) into note[k] and (gen non-nil) gen[k]:
//
//	−(2/η) H u − κ_B (∂_u C) f,  and for F_gen also − κ_B ∂_u ∇·C.
//
// With exactTangent, ∂_u C f comes from covTangents, every direction and field in one pass
// over the covariance examples; otherwise from central differences of C f at θ ± hu, the
// directions one after the other. ∂_u ∇·C is a central difference with step h.
func (c *computation) productRuleRHS(note, gen, us, hus [][]float64, h float64) {
	d := c.src.dim()
	kappa, eta := c.r.Kappa, c.r.LR
	fs := [][]float64{c.r.Vectors.Stationary}
	if gen != nil {
		fs = append(fs, c.r.Vectors.StationaryGeneral)
	}
	nf := len(fs)
	// dc[k·nf + j] is ∂_{u_k} C f_j times den: 1 for the exact tangent, 2h for the central
	// difference (whose division comes with κ_B's product, as it always has).
	dc := make([][]float64, len(us)*nf)
	for q := range dc {
		dc[q] = make([]float64, d)
	}
	den := 1.0
	if c.exactTangent() {
		c.src.covTangents(dc, c.theta, us, fs)
	} else {
		den = 2 * h
		b := make([]float64, d)
		for k, u := range us {
			// Two products at each of θ ± hu: the factors keep no pass (16 cached passes over
			// all N examples would be garbage at once).
			fp, fm := c.src.factorOnce(c.along(u, h)), c.src.factorOnce(c.along(u, -h))
			w := make([]float64, fp.Cols())
			for j, f := range fs {
				a := dc[k*nf+j]
				linalg.MulMulT(fp, a, w, f, 1)
				linalg.MulMulT(fm, b, w, f, 1)
				floats.Sub(a, b)
			}
		}
	}
	var a, b []float64
	if gen != nil {
		a, b = make([]float64, d), make([]float64, d)
	}
	for k, u := range us {
		for i := range note[k] {
			note[k][i] = -2/eta*hus[k][i] - kappa*dc[k*nf][i]/den
		}
		if gen == nil {
			continue
		}
		for i := range gen[k] {
			gen[k][i] = -2/eta*hus[k][i] - kappa*dc[k*nf+1][i]/den
		}
		c.div.at(a, c.along(u, h))
		c.div.at(b, c.along(u, -h))
		for i := range gen[k] {
			gen[k][i] -= kappa * (a[i] - b[i]) / (2 * h)
		}
	}
}

// along returns θ + h u.
func (c *computation) along(u []float64, h float64) []float64 {
	t := make([]float64, len(u))
	for i := range u {
		t[i] = c.theta[i] + h*u[i]
	}
	return t
}

// jacobianProducts writes J_seed us[k] (and J_gen us[k] when gen is not nil) into note[k]
// (gen[k]) for the unit directions us with step h, hus[k] = H us[k]: by the product rule
// with the right-hand sides of all directions solved together (solveMany: one blocked
// preconditioner for the CG solver's lock-step runs, one blocked triangular solve for
// Woodbury's), by jacobianProduct one direction at a time otherwise.
func (c *computation) jacobianProducts(note, gen, us, hus [][]float64, h float64) error {
	if !c.productRule() {
		for k := range us {
			var g []float64
			if gen != nil {
				g = gen[k]
			}
			if err := c.jacobianProduct(note[k], g, us[k], hus[k], h); err != nil {
				return err
			}
		}
		return nil
	}
	rhs := note
	c.productRuleRHS(note, gen, us, hus, h)
	if gen != nil {
		rhs = append(append([][]float64(nil), note...), gen...)
	}
	return solveMany(c.cs.inv, rhs, rhs)
}

// asymmetry measures ‖J − Jᵀ‖_F / ‖J‖_F for the Jacobians of F_seed and (with the
// divergence) F_gen (MATH.md §5): from the dense J (2d central differences, each
// recomputing C_B(θ)) when d ≤ AsymmetryDenseMaxDim, otherwise estimated from P Gaussian
// probes w_p: with J w_p by central differences, the P(P−1)/2 pairs give
// w_pᵀ(J − Jᵀ)w_q = w_pᵀJw_q − w_qᵀJw_p, whose mean square is ‖J − Jᵀ‖_F², and
// (w_pᵀJw_q)², whose mean is ‖J‖_F².
func (c *computation) asymmetry() error {
	set := &c.set
	dg := &c.r.Diagnostics
	d := c.src.dim()
	if d > set.AsymmetryDenseMaxDim && set.SkipAsymmetry {
		dg.AsymmetryMethod = "not computed (disabled)"
		return nil
	}
	if c.r.Solver == SolverWoodbury && set.Inverse.Range && c.cs.m > rangeRebuildMaxDim {
		dg.AsymmetryMethod = fmt.Sprintf("not computed: with the range pseudo-inverse every evaluation of the field would redo the eigendecomposition of the %d×%d Gram matrix (use a damping, or a covariance subset of at most %d)", c.cs.m, c.cs.m, rangeRebuildMaxDim)
		return nil
	}
	withGen := c.div != nil
	delta := set.FDStep
	stage := "Jacobian asymmetry"
	if g := c.cs.cg; g != nil && len(g.Iterations) > 0 && set.Progress != nil {
		// The stage line carries the prediction, announced (never thinned out).
		solves := set.AsymmetryProbes
		if d <= set.AsymmetryDenseMaxDim {
			solves = d
		}
		if withGen {
			solves *= 2
		}
		perSolve := g.Seconds / float64(len(g.Iterations))
		pred := fmt.Sprintf("predicted ≈ %.0f s", float64(solves)*perSolve)
		if d > set.AsymmetryDenseMaxDim {
			// A CG iteration (one covariance product and one preconditioner solve) bounds the
			// cost of each product-sized pass a probe's right-hand side takes: ≈ 6 by central
			// differences (a covariance product at θ ± hu, each with its pass for the mean,
			// and H u), 2 or 2.5 with the exact tangent (H u, then its R-forward product and
			// a weighted sum per field, half a pass each); ∂_u ∇·C (withGen) comes on top.
			perIter := g.Seconds / float64(sumInts(g.Iterations)+2*len(g.Iterations))
			passes := 6.0
			if c.exactTangent() {
				passes = 2
				if withGen {
					passes = 2.5
				}
			}
			pred = fmt.Sprintf("predicted at most %.0f s for the solves (less: they share the preconditioner's triangular solves) and ≈ %.0f s for the right-hand sides", float64(solves)*perSolve, passes*float64(set.AsymmetryProbes)*perIter)
		}
		stage = fmt.Sprintf("Jacobian asymmetry: %d CG solves like the %d so far (%.0f iterations, %.1f s each on average), %s (--asymmetry-probes sets the number of probes; −1 skips them)",
			solves, len(g.Iterations), float64(sumInts(g.Iterations))/float64(len(g.Iterations)), perSolve, pred)
		set.announce(stage)
	} else {
		set.progress(stage)
	}
	if d <= set.AsymmetryDenseMaxDim {
		js := mat.NewDense(d, d, nil)
		var jg *mat.Dense
		if withGen {
			jg = mat.NewDense(d, d, nil)
		}
		e := make([]float64, d)
		cs, cg := make([]float64, d), make([]float64, d)
		for j := 0; j < d; j++ {
			h := delta * max(1, math.Abs(c.theta[j]))
			// The step actually taken, for an exact denominator.
			h = ((c.theta[j] + h) - (c.theta[j] - h)) / 2
			e[j] = 1
			var g []float64
			if withGen {
				g = cg
			}
			if err := c.jacobianProduct(cs, g, e, nil, h); err != nil {
				return c.asymmetryFailed(err)
			}
			e[j] = 0
			js.SetCol(j, cs)
			if withGen {
				jg.SetCol(j, cg)
			}
		}
		v := denseAsymmetry(js)
		dg.AsymmetryNote = &v
		if withGen {
			w := denseAsymmetry(jg)
			dg.AsymmetryGeneral = &w
		}
		if c.exactTangent() {
			dg.AsymmetryMethod = fmt.Sprintf("dense Jacobian from its %d columns, %s", d, c.differencing(fmt.Sprintf("relative step %.2g", delta), withGen))
		} else {
			dg.AsymmetryMethod = fmt.Sprintf("dense Jacobian from %d central differences (relative step %.2g)", 2*d, delta)
		}
		return nil
	}
	p := set.AsymmetryProbes
	rnd := rand.New(rand.NewPCG(set.Seed, streamAsymmetry))
	w := make([][]float64, p)
	jws := make([][]float64, p)
	jwg := make([][]float64, p)
	h := delta * max(1, floats.Norm(c.theta, 2))
	us := make([][]float64, p)
	norms := make([]float64, p)
	for k := 0; k < p; k++ {
		w[k] = make([]float64, d)
		for i := range w[k] {
			w[k][i] = rnd.NormFloat64()
		}
		norms[k] = floats.Norm(w[k], 2)
		us[k] = make([]float64, d)
		floats.ScaleTo(us[k], 1/norms[k], w[k])
	}
	// The probes' Hessian products share one pass over the N examples.
	var hus [][]float64
	if c.productRule() {
		hus = make([][]float64, p)
		for k := range hus {
			hus[k] = make([]float64, d)
		}
		c.msrc.fullHessVecs(hus, c.theta, us)
	}
	for k := 0; k < p; k++ {
		jws[k] = make([]float64, d)
		if withGen {
			jwg[k] = make([]float64, d)
		}
	}
	var gens [][]float64
	if withGen {
		gens = jwg
	}
	if hus == nil {
		hus = make([][]float64, p) // central differences need no H u
	}
	if err := c.jacobianProducts(jws, gens, us, hus, h); err != nil {
		return c.asymmetryFailed(err)
	}
	for k := 0; k < p; k++ {
		floats.Scale(norms[k], jws[k])
		if withGen {
			floats.Scale(norms[k], jwg[k])
		}
	}
	v, vse := probeAsymmetry(w, jws, -1), probeAsymmetrySE(w, jws)
	dg.AsymmetryNote, dg.AsymmetryNoteSE = &v, &vse
	if withGen {
		g, gse := probeAsymmetry(w, jwg, -1), probeAsymmetrySE(w, jwg)
		dg.AsymmetryGeneral, dg.AsymmetryGeneralSE = &g, &gse
	}
	c.probes = w
	dg.AsymmetryMethod = fmt.Sprintf("estimate from %d Gaussian probes (%d pairs), %s; standard error by the jackknife over the probes", p, p*(p-1)/2, c.differencing(fmt.Sprintf("step %.3g", h), withGen))
	return nil
}

// differencing describes how the Jacobian products were taken, for the method line: H u
// and ∂_u C x exact with the exact tangent (∂_u ∇·C, withGen, by central differences with
// the step described by step), all by central differences with that step otherwise.
func (c *computation) differencing(step string, withGen bool) string {
	switch {
	case !c.exactTangent():
		return "central differences with " + step
	case withGen:
		return "H u and ∂_u C exact (R-operator), ∂_u ∇·C by central differences with " + step
	}
	return "H u and ∂_u C exact (R-operator)"
}

func (c *computation) asymmetryFailed(err error) error {
	c.r.Diagnostics.AsymmetryMethod = "not computed: " + err.Error()
	c.warn(fmt.Sprintf("the Jacobian asymmetry was not computed: %v", err))
	return nil
}

// denseAsymmetry returns ‖J − Jᵀ‖_F / ‖J‖_F (0 for J = 0).
func denseAsymmetry(j *mat.Dense) float64 {
	nj := mat.Norm(j, 2)
	if nj == 0 {
		return 0
	}
	var diff mat.Dense
	diff.Sub(j, j.T())
	return mat.Norm(&diff, 2) / nj
}

// probeAsymmetrySE returns the jackknife standard error of probeAsymmetry over the probes
// (MATH.md §5): with a_(j) the estimate from the pairs without probe j (P of them),
// SE = √((P−1)/P Σ_j (a_(j) − ā)²). It is NaN for fewer than 3 probes.
func probeAsymmetrySE(w, jw [][]float64) float64 {
	p := len(w)
	if p < 3 {
		return math.NaN()
	}
	loo := make([]float64, p)
	var mean float64
	for j := range loo {
		loo[j] = probeAsymmetry(w, jw, j)
		mean += loo[j] / float64(p)
	}
	var s float64
	for _, a := range loo {
		s += (a - mean) * (a - mean)
	}
	return math.Sqrt(float64(p-1) / float64(p) * s)
}

// probeAsymmetry estimates ‖J − Jᵀ‖_F / ‖J‖_F from the products jw[k] = J w[k], leaving out
// probe skip (−1: none).
func probeAsymmetry(w, jw [][]float64, skip int) float64 {
	var num, den float64
	for p := range w {
		if p == skip {
			continue
		}
		for q := p + 1; q < len(w); q++ {
			if q == skip {
				continue
			}
			a := floats.Dot(w[p], jw[q])
			b := floats.Dot(w[q], jw[p])
			num += (a - b) * (a - b)
			den += (a*a + b*b) / 2
		}
	}
	if den == 0 {
		return 0
	}
	return math.Sqrt(num / den)
}

func sumInts(x []int) int {
	s := 0
	for _, v := range x {
		s += v
	}
	return s
}
