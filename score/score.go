package score

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/stationary"
)

// ModelProblem is a model on its N training examples with weight decay λ ≥ 0: the objective
// L(θ) = (1/N) Σ ℓ_i(θ) + (λ/2)‖θ‖² (MATH.md §1).
type ModelProblem struct {
	Model       model.Model
	Batch       model.Batch
	WeightDecay float64
}

// Grads is a problem given by its per-example gradients (MATH.md §2, "bring your own
// gradients"): G is M×d, row i the gradient g_i of the per-example NLL ℓ_i.
type Grads struct {
	// G holds the per-example gradients, one per row. Not modified.
	G *mat.Dense
	// N is the number of training examples. 0 means M: G then holds them all and C is the
	// population covariance; N > M means the rows are a random sample and C is estimated by
	// (N−1)/N · S.
	N int
	// Hessian is the d×d Hessian of the mean objective L (nil if unknown: no commutator and
	// no Gaussian predictions). Its symmetric part is used.
	Hessian mat.Matrix
	// WeightDecay is λ ≥ 0 of r(θ) = (λ/2)‖θ‖²; then Theta is required (∇r = λθ). Hessian,
	// if given, must include λI.
	WeightDecay float64
	// Theta is θ (length d); only needed with weight decay.
	Theta []float64
}

// ComputeModel computes every quantity of the report at θ for a model (MATH.md §2, §4–§6,
// §10). theta is not modified.
func ComputeModel(p ModelProblem, theta []float64, s *Settings) (*Report, error) {
	set, err := s.withDefaults()
	if err != nil {
		return nil, err
	}
	if p.Model == nil || p.Batch.Len() == 0 {
		panic("score: ComputeModel needs a model and a non-empty batch")
	}
	if len(theta) != p.Model.NumParams() {
		panic(fmt.Sprintf("score: ComputeModel: θ has length %d, model %s has %d parameters", len(theta), p.Model.Name(), p.Model.NumParams()))
	}
	if _, c := p.Batch.X.Dims(); c != p.Model.NumInputs() || len(p.Batch.Y) != p.Batch.Len() {
		panic("score: ComputeModel: batch does not match the model")
	}
	if !(p.WeightDecay >= 0) || math.IsInf(p.WeightDecay, 0) {
		return nil, fmt.Errorf("score: weight decay %v must be finite and ≥ 0", p.WeightDecay)
	}
	n := p.Batch.Len()
	if n < 2 {
		return nil, errors.New("score: the gradient covariance needs at least 2 examples")
	}
	if set.Subset == 1 {
		return nil, errors.New("score: a covariance subset needs at least 2 examples")
	}
	src := newModelSource(p.Model, p.Batch, p.WeightDecay, set.Subset, set.Seed)
	c := &computation{set: set, src: src, msrc: src, theta: append([]float64(nil), theta...)}
	if err := c.run(); err != nil {
		return nil, err
	}
	if src.idx != nil {
		c.r.Subset = src.idx
	}
	return c.r, nil
}

// ComputeGrads computes the report from per-example gradients (MATH.md §2, §4, §6, §10):
// everything that needs the model at other parameter values (the divergence term, the
// Jacobian asymmetry) is not available.
func ComputeGrads(g Grads, s *Settings) (*Report, error) {
	set, err := s.withDefaults()
	if err != nil {
		return nil, err
	}
	if g.G == nil {
		panic("score: ComputeGrads: nil gradient matrix")
	}
	m, d := g.G.Dims()
	if g.N == 0 {
		g.N = m
	}
	switch {
	case m < 2:
		return nil, fmt.Errorf("score: the gradient covariance needs at least 2 gradient rows, not %d", m)
	case g.N < m:
		return nil, fmt.Errorf("score: %w", field.Errorf("n", "%d is smaller than the %d gradient rows", g.N, m))
	case !(g.WeightDecay >= 0) || math.IsInf(g.WeightDecay, 0):
		return nil, fmt.Errorf("score: %w", field.Errorf("weight-decay", "must be ≥ 0 and finite, not %v", g.WeightDecay))
	case g.WeightDecay > 0 && g.Theta == nil:
		return nil, fmt.Errorf("score: %w", field.Errorf("params", "is required with weight decay (its gradient is λθ)"))
	case g.Theta != nil && len(g.Theta) != d:
		return nil, fmt.Errorf("score: θ has length %d but the gradients have %d columns", len(g.Theta), d)
	case set.Divergence:
		return nil, errors.New("score: the divergence term needs per-example Hessians: not available from gradients")
	case set.Subset != 0:
		return nil, errors.New("score: a covariance subset is not available from gradients (pass the rows you want)")
	}
	if err := checkFiniteMatrix("the gradient matrix", g.G); err != nil {
		return nil, err
	}
	var h *mat.SymDense
	if g.Hessian != nil {
		r, cc := g.Hessian.Dims()
		if r != d || cc != d {
			return nil, fmt.Errorf("score: the Hessian is %d×%d but the gradients have %d columns", r, cc, d)
		}
		if err := checkFiniteMatrix("the Hessian", g.Hessian); err != nil {
			return nil, err
		}
		h = mat.NewSymDense(d, nil)
		for i := 0; i < d; i++ {
			for j := i; j < d; j++ {
				h.SetSym(i, j, 0.5*(g.Hessian.At(i, j)+g.Hessian.At(j, i)))
			}
		}
	}
	theta := g.Theta
	if theta == nil {
		theta = make([]float64, d)
	}
	src := newGradsSource(g.G, g.N, h, g.WeightDecay)
	c := &computation{set: set, src: src, theta: append([]float64(nil), theta...)}
	if g.Hessian != nil {
		var asym float64
		var diff mat.Dense
		diff.Sub(g.Hessian, g.Hessian.T())
		if nh := mat.Norm(g.Hessian, 2); nh > 0 {
			asym = mat.Norm(&diff, 2) / nh
		}
		if asym > 1e-8 {
			c.warn(fmt.Sprintf("the Hessian is not symmetric (‖H − Hᵀ‖_F/‖H‖_F = %.3g): its symmetric part is used", asym))
		}
	}
	if err := c.run(); err != nil {
		return nil, err
	}
	c.r.FromGradients = true
	if m < g.N {
		c.warn(fmt.Sprintf("the %d gradient rows are taken as a random sample of the N = %d examples: C is estimated by (N−1)/N·S and ḡ by their mean", m, g.N))
	}
	return c.r, nil
}

func checkFiniteMatrix(what string, a mat.Matrix) error {
	r, c := a.Dims()
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			if v := a.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("score: %s has a non-finite entry %v at (%d, %d)", what, v, i, j)
			}
		}
	}
	return nil
}

// computation carries the state of one report.
type computation struct {
	set     Settings
	src     source
	msrc    *modelSource // nil for gradient inputs
	theta   []float64
	r       *Report
	cs      *covState
	gbar    []float64 // ḡ
	hess    *hessian
	div     *divPlan            // set by divergence
	divReps *divReplicates      // jackknife replicates of ∇·C, set by divergence
	red     *stationary.Minimum // set by gaussian
	// probes are the asymmetry's Gaussian probes (nil for the dense Jacobian).
	probes [][]float64
	// rangeFraction is the fraction of ‖∇L‖² outside the range of the pseudo-inverse (NaN
	// for other inverses).
	rangeFraction float64
	// pending holds warnings issued before the report exists.
	pending []string
}

func (c *computation) warn(w string) {
	if c.r == nil {
		c.pending = append(c.pending, w)
		return
	}
	c.r.Warnings = append(c.r.Warnings, w)
}

func (c *computation) run() error {
	set := &c.set
	src := c.src
	n, d, m := src.numExamples(), src.dim(), src.covExamples()
	if set.Batch > n {
		return fmt.Errorf("score: %w", field.Errorf("batch", "%d is larger than N = %d", set.Batch, n))
	}
	if set.Sampling != noise.With && n < 2 {
		return errors.New("score: sampling without replacement needs at least 2 examples")
	}
	kappa, err := noise.Kappa(set.Sampling, n, set.Batch)
	if err != nil {
		return fmt.Errorf("score: %w", err)
	}
	c.r = &Report{N: n, D: d, LR: set.LR, Batch: set.Batch, Sampling: set.Sampling, Kappa: kappa,
		Damping: set.Inverse.Damping, RCond: set.Inverse.RCond, CovExamples: m, Warnings: append([]string{}, c.pending...)}
	r := c.r
	switch {
	case set.Inverse.Damping > 0:
		r.Inverse = InverseDamped
	case set.Inverse.Range:
		r.Inverse = InverseRange
	default:
		r.Inverse = InverseExact
	}
	if set.Sampling == noise.Reshuffle {
		c.warn("sampling reshuffle is treated as without replacement (κ_B = (N−B)/(B(N−1)), and sampled mini-batches are independent)")
	}
	if set.Sampling != noise.With && set.Batch == n {
		return fmt.Errorf("score: %w", field.Errorf("batch", "%d equals N: sampling without replacement has no mini-batch noise (κ_B = 0)", n))
	}
	plan := planSolver(set, d, m, c.msrc != nil && cachesPass(c.msrc.m, m))
	if c.msrc != nil && c.msrc.sub.Sparse != nil {
		plan.why += fmt.Sprintf("; the features are compressed (%.1f%% nonzero), so the first layer's products run over the nonzeros, faster than these flops say", 100*c.msrc.sub.Sparse.Density())
	}
	solver := plan.solver
	r.Solver, r.SolverChoice = solver, plan.why
	if set.Progress != nil {
		what := "set-up"
		if solver == SolverCG {
			what = "each iteration"
		}
		set.announce(fmt.Sprintf("solver %s; %s", plan.why, fmt.Sprintf("predicted %s: %s", what, predict(plan.flops, gemmRate()))))
	}

	// Gradient (MATH.md §1).
	set.progress("gradient")
	c.gbar = make([]float64, d)
	nll := src.meanGrad(c.gbar, c.theta)
	grad := append([]float64(nil), c.gbar...)
	lam := src.weightDecay()
	if lam != 0 {
		floats.AddScaled(grad, lam, c.theta)
	}
	r.Loss = nll + lam/2*floats.Dot(c.theta, c.theta)
	r.GradNorm = floats.Norm(grad, 2)
	r.AtMinimum = r.GradNorm <= set.MinimumTol
	if math.IsNaN(r.GradNorm) || math.IsInf(r.GradNorm, 0) {
		return fmt.Errorf("score: the gradient at θ is not finite (‖∇L‖ = %v)", r.GradNorm)
	}

	// Noise (MATH.md §2).
	set.progress("noise covariance")
	c.cs = newCovState(src, c.theta, solver, kappa)
	k := max(set.TopK, set.noiseDirections(), 1)
	w, err := c.cs.spectrum(&r.Noise, src, k, set.Inverse.RCond, set.Seed)
	if err != nil {
		return err
	}
	r.Warnings = append(r.Warnings, w...)
	if len(r.Noise.TopEigenvalues) > set.TopK {
		r.Noise.TopEigenvalues = r.Noise.TopEigenvalues[:set.TopK]
	}
	gg := floats.Dot(c.gbar, c.gbar)
	r.Noise.NoiseScale = GradientNoiseScale(r.Noise.Trace, gg)
	if r.AtMinimum || gg == 0 {
		r.Noise.NoiseScale = math.NaN()
		c.warn("the gradient noise scale tr C/‖ḡ‖² is undefined at a minimum: reported as null")
	}

	// Inverse and the note's vectors (MATH.md §4).
	set.progress("scores")
	known := -1
	if solver == SolverWoodbury && (!r.Noise.RankEstimated || m-1 < d) {
		known = r.Noise.Rank
	}
	w, err = c.cs.invert(&set.Inverse, known, set.Seed, set.precondExamples())
	if err != nil {
		return err
	}
	r.Warnings = append(r.Warnings, w...)
	r.CG = c.cs.cg // filled in by every later solve
	v := &r.Vectors
	v.Grad = grad
	v.Stationary = make([]float64, d)
	if err := stationary.StationaryScore(v.Stationary, c.cs.inv, grad, set.LR); err != nil {
		return fmt.Errorf("score: %w", err)
	}
	v.Likelihood = make([]float64, d)
	LikelihoodScore(v.Likelihood, n, c.gbar)
	v.Prior = make([]float64, d)
	PriorScore(v.Prior, v.Stationary, v.Likelihood)
	if lam != 0 {
		v.ExplicitPrior = make([]float64, d)
		v.ImplicitPrior = make([]float64, d)
		SplitPriorScore(v.ExplicitPrior, v.ImplicitPrior, v.Prior, n, lam, c.theta)
	}
	c.rangeFraction = math.NaN()
	if r.Inverse == InverseRange {
		c.rangeFraction = c.cs.inv.RangeFraction(grad)
	}
	r.Diagnostics.RangeFraction = c.rangeFraction

	// General score (MATH.md §5).
	if set.Divergence {
		set.progress("divergence term")
		if err := c.divergence(); err != nil {
			return err
		}
	}

	// Hessian and commutator (MATH.md §5).
	if src.hasHessian() {
		set.progress("Hessian")
		if err := c.hessianAndCommutator(); err != nil {
			return err
		}
	}

	// Round-off floor (MATH.md §2) and what it means for the vectors (MATH.md §4).
	c.roundoff()
	if r.Inverse == InverseRange && !math.IsNaN(r.Diagnostics.RangeFraction) && r.Diagnostics.RangeFraction > 0 {
		c.warn(fmt.Sprintf("%.3g of ‖∇L‖² lies outside the range of C_B: along those directions SGD has no noise and the note's stationary density does not exist", r.Diagnostics.RangeFraction))
	}

	// Jacobian asymmetry (MATH.md §5).
	if c.msrc != nil {
		if err := c.asymmetry(); err != nil {
			return err
		}
	} else {
		r.Diagnostics.AsymmetryMethod = "not available from gradients (needs the model at other parameter values)"
	}

	// Gaussianity of mini-batch noise (MATH.md §5, §10).
	if !set.SkipNoise {
		set.progress("mini-batch noise")
		c.gaussianity()
	}

	// Near a minimum (MATH.md §6).
	if src.hasHessian() && (r.AtMinimum || set.ForceGaussian) {
		if !r.AtMinimum {
			c.warn(fmt.Sprintf("θ is not a minimum (‖∇L‖ = %.3g > %.3g): the Gaussian predictions are forced", r.GradNorm, set.MinimumTol))
		}
		set.progress("Gaussian predictions")
		if err := c.gaussian(); err != nil {
			return err
		}
	}

	c.divergenceSE()

	// Regularisation ladder on rank-deficient problems (MATH.md §5).
	set.progress("regularisation ladder")
	c.ladder()

	// Other lenses (MATH.md §10).
	r.OptimalLR = stationary.MandtLearningRate(d, n, r.Noise.TraceBatch)
	r.ImplicitRegularizer = stationary.SmithRegularizer(set.LR, r.GradNorm*r.GradNorm, r.Noise.TraceBatch)
	if g := r.CG; g != nil && g.MaxResidual > 10*g.Tol {
		c.warn(fmt.Sprintf("the CG solves reached a true relative residual of only %.2g (tolerance %.2g; CG's own recurrence claimed convergence): the scores are that accurate, and a larger damping improves the conditioning (condition estimate %.3g)", g.MaxResidual, g.Tol, g.Condition))
	}
	return nil
}

// GradientNoiseScale returns the gradient noise scale of McCandlish et al. (2018),
// B_noise = tr C / ‖ḡ‖² (docs/MATH.md §2), from tr C and ‖ḡ‖², ḡ the mean NLL gradient. It
// is undefined at a minimum (‖ḡ‖² → 0), where the caller reports it as null.
func GradientNoiseScale(traceC, meanGradNormSq float64) float64 { return traceC / meanGradNormSq }

// LikelihoodScore writes the likelihood score s_lik = −∇L_full = −N ḡ into dst, ḡ the mean
// per-example NLL gradient (docs/MATH.md §4).
func LikelihoodScore(dst []float64, n int, gbar []float64) {
	floats.ScaleTo(dst, -float64(n), gbar)
}

// PriorScore writes the note's implicit prior score s_prior = s_st − s_lik into dst
// (docs/MATH.md §4); in the note's convention (SGD on L_full with step η/N) it is
// (I − 2η_full D_full⁻¹)∇L_full.
func PriorScore(dst, stationary, likelihood []float64) {
	floats.SubTo(dst, stationary, likelihood)
}

// SplitPriorScore splits s_prior under weight decay r(θ) = (λ/2)‖θ‖² (docs/MATH.md §4) into
// the explicit prior score −N∇r = −Nλθ (into explicit) and the implicit part
// s_prior + N∇r = s_prior − explicit (into implicit).
func SplitPriorScore(explicit, implicit, prior []float64, n int, lambda float64, theta []float64) {
	floats.ScaleTo(explicit, -float64(n)*lambda, theta)
	floats.SubTo(implicit, prior, explicit)
}
