package score

import (
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/noise"
)

// Report holds every quantity computed at θ. Quantities that were not computed are nil
// (pointers, slices) and say so in the accompanying Method strings; a computed quantity that
// is not finite is NaN or ±Inf, with a warning.
type Report struct {
	// N is the number of examples, D the number of parameters d.
	N, D int
	// LR, Batch, Sampling and Kappa are η, B, the sampling scheme and κ_B (C_B = κ_B C).
	LR       float64
	Batch    int
	Sampling noise.Sampling
	Kappa    float64
	// Damping is λ of the damped inverse (C_B + λI)⁻¹ (0 if none); Inverse is the inverse
	// used: exact, damped or range (pseudo-inverse, with RCond).
	Damping float64
	Inverse InverseKind
	RCond   float64
	// Solver is the strategy used (never SolverAuto); SolverChoice says why, with the
	// predicted cost of the choice and of the alternative.
	Solver       Solver
	SolverChoice string
	// CG describes the solves of the damped CG solver (nil for the other solvers).
	CG *CGStats
	// Subset lists the indices of the M < N examples C was estimated from (sorted); nil when
	// C is the population covariance of all N examples.
	Subset []int
	// CovExamples is M.
	CovExamples int
	// Loss is the objective L(θ) (NaN when unknown: gradient inputs).
	Loss float64
	// FromGradients is true for a report of ComputeGrads (no loss, no model).
	FromGradients bool
	// GradNorm is ‖∇L‖; AtMinimum reports GradNorm ≤ MinimumTol.
	GradNorm  float64
	AtMinimum bool
	// RoundoffFloor is noise.RoundoffFloor(d, tr H, ‖θ‖, mean‖g_i‖) (MATH.md §2; NaN when
	// tr H is unknown) and RoundoffMethod says how tr H was found; AtCriticalPoint reports
	// GradNorm ≤ RoundoffFloor: θ is a critical point to round-off, where the implicit part
	// of the note's prior score is exactly 0 in exact arithmetic (MATH.md §4).
	RoundoffFloor   float64
	RoundoffMethod  string
	AtCriticalPoint bool

	Noise       Noise
	Vectors     Vectors
	Diagnostics Diagnostics
	// Gaussian holds the predictions near a minimum (nil when not computed).
	Gaussian *Gaussian

	// OptimalLR is Mandt et al.'s η* = 2d/(N tr C_B) (MATH.md §6, §10).
	OptimalLR float64
	// ImplicitRegularizer is Smith et al.'s (η/4)(‖∇L‖² + tr C_B) (MATH.md §10).
	ImplicitRegularizer float64

	// Warnings lists conditions the caller should report.
	Warnings []string
}

// CGStats describes the conjugate-gradient solves of (C_B + λI)x = b behind the scores
// (SolverCG, MATH.md §2, "PCG diagnostics").
type CGStats struct {
	// Preconditioner says what preconditions CG ("none (plain CG)" without one);
	// PreconditionerExamples is the size m of its subset, Shift the μ − λ of its shifted
	// covariance κ_B C_S + μI, and EffectiveDim (± EffectiveDimSE) the Hutchinson estimate
	// of d_eff(λ) = tr κ_B C_S (κ_B C_S + λI)⁻¹ (0 without a preconditioner).
	Preconditioner         string
	PreconditionerExamples int
	Shift                  float64
	EffectiveDim           float64
	EffectiveDimSE         float64
	// Tol is the relative residual at which each solve stops.
	Tol float64
	// Iterations holds the iterations (covariance products) of each solve, in order.
	Iterations []int
	// MaxResidual is the largest final relative residual ‖b − Ax‖/‖b‖ over the solves,
	// recomputed from the solution (CG's recurrence drifts below it at high accuracy).
	MaxResidual float64
	// RitzMin and RitzMax are the extreme Ritz values of the preconditioned operator from
	// the solve with the most iterations (linalg.PCGTrace.CondEstimate), and Condition their
	// ratio: a lower bound on its condition number, sharp once the extremes converge.
	RitzMin, RitzMax, Condition float64
	// Seconds is the wall time of the solves (for predictions; not written to the JSON
	// output, which stays reproducible).
	Seconds float64
}

// InverseKind names how C_B was inverted; its value is the JSON spelling.
type InverseKind string

// The inverses of C_B.
const (
	InverseExact  InverseKind = "exact"  // C_B⁻¹
	InverseDamped InverseKind = "damped" // (C_B + λI)⁻¹
	InverseRange  InverseKind = "range"  // pseudo-inverse on the range of C_B
)

// String returns "exact", "damped" or "range".
func (k InverseKind) String() string { return string(k) }

// Noise describes the gradient noise at θ (MATH.md §2). Spectra are of the per-example C;
// C_B's are κ_B times them.
type Noise struct {
	// Trace is tr C, TraceBatch tr C_B = κ_B tr C.
	Trace, TraceBatch float64
	// Rank is the numerical rank of C (eigenvalues above RCond·λ_max). RankMethod says how
	// it was found: "eigenvalues" (exact), "pivoted Cholesky of the Gram matrix (estimate)"
	// or "upper bound min(d, M−1) (estimate)"; RankEstimated is false only for the first.
	Rank          int
	RankEstimated bool
	RankMethod    string
	// TopEigenvalues are the largest eigenvalues of C in decreasing order (at most TopK);
	// TopVectors (d×k) their orthonormal eigenvectors. EigenMethod says how they were found.
	TopEigenvalues []float64
	TopVectors     *mat.Dense
	EigenMethod    string
	// NoiseScale is McCandlish et al.'s B_noise = tr C / ‖ḡ‖², ḡ the mean NLL gradient; NaN
	// at a minimum (with a warning).
	NoiseScale float64
}

// Vectors are the note's vectors at θ (MATH.md §4, §5), each of length d.
type Vectors struct {
	// Grad is ∇L = ḡ + λθ.
	Grad []float64
	// Stationary is s_st = 2D⁻¹μ = −(2/η) C_B⁻¹ ∇L (C_B + λI, or the pseudo-inverse, per
	// the inverse used).
	Stationary []float64
	// Likelihood is s_lik = −∇L_full = −N ḡ.
	Likelihood []float64
	// Prior is the note's implicit prior score s_prior = s_st − s_lik.
	Prior []float64
	// StationaryGeneral is s_gen = D⁻¹(2μ − ∇·D) = s_st − C_B⁻¹ κ_B (∇·C) (nil unless
	// Settings.Divergence); DivergenceC is ∇·C.
	StationaryGeneral []float64
	DivergenceC       []float64
	// ExplicitPrior is −N∇r = −Nλθ and ImplicitPrior is s_prior + N∇r (both nil without
	// weight decay).
	ExplicitPrior, ImplicitPrior []float64
}

// Diagnostics are the checks of the note's assumptions (MATH.md §4, §5). Pointers are nil
// when the quantity was not computed; the Method strings say how it was.
type Diagnostics struct {
	// RangeFraction is ‖∇L − P∇L‖²/‖∇L‖², P the projector on the range used by the inverse
	// (NaN unless the range pseudo-inverse is used, or when ‖∇L‖ is below the round-off
	// floor, where the fraction is that of round-off: RangeFractionNote says why).
	RangeFraction     float64
	RangeFractionNote string
	// ImplicitBound is ‖N I − (2/η) A⁻¹‖₂ · RoundoffFloor, A = C_B (+λI), a bound on the
	// computed implicit part (N I − (2/η)A⁻¹)∇L of the prior score at a critical point,
	// where it is 0 in exact arithmetic (MATH.md §4); NaN when not at a critical point or
	// not bounded (ImplicitNote says why).
	ImplicitBound float64
	ImplicitNote  string
	// Commutator is ‖CH − HC‖_F / (‖C‖_F ‖H‖_F).
	Commutator       *float64
	CommutatorMethod string
	// AsymmetryNote is ‖J − Jᵀ‖_F / ‖J‖_F for the Jacobian J of F_seed = 2D⁻¹μ, and
	// AsymmetryGeneral that of F_gen = D⁻¹(2μ − ∇·D).
	AsymmetryNote, AsymmetryGeneral *float64
	AsymmetryMethod                 string
	// AsymmetryNoteSE and AsymmetryGeneralSE are the jackknife standard errors of the probe
	// estimates over the probes (MATH.md §5); nil for the dense Jacobian (no sampling).
	AsymmetryNoteSE, AsymmetryGeneralSE *float64
	// Ladder holds the λ-dependent checks over a ladder of regularisations of C_B, on
	// rank-deficient problems (rank C_B < d; nil otherwise; MATH.md §5).
	Ladder []LadderRung
	// DivergenceRatio is ‖s_gen − s_st‖ / ‖s_st‖ (NaN at a minimum, where s_st = 0) and
	// DivergenceNorm is ‖s_gen − s_st‖ = ‖C_B⁻¹κ_B∇·C‖; DivergenceMethod says how ∇·C was
	// found.
	DivergenceRatio  *float64
	DivergenceNorm   *float64
	DivergenceMethod string
	// DivergenceNormSE, DivergenceRatioSE and DivergenceShiftSE are the jackknife standard
	// errors of ‖s_gen − s_st‖, of the ratio (away from a minimum) and of the shift
	// DivergenceShiftAtMinimum (at a minimum, with the Gaussian predictions) over the
	// Hutchinson probes and the example groups of the estimate of ∇·C (MATH.md §5,
	// "Standard error of the divergence term"; 0 when ∇·C is exact; nil when not computed).
	DivergenceNormSE, DivergenceRatioSE, DivergenceShiftSE *float64
	// NoiseKurtosis and NoiseTailIndex hold, per top noise direction (eigenvectors of C in
	// decreasing order of eigenvalue), the excess kurtosis and the tail index α of the
	// mini-batch noise ∇L_b − ∇L projected on it (0 and 2 for Gaussian noise).
	NoiseKurtosis, NoiseTailIndex []float64
	// NoiseVariance is the sample variance of each projection: κ_B λ_k up to sampling
	// error, λ_k the eigenvalue of C.
	NoiseVariance []float64
	// NoiseKurtosisExact is, per direction, the exact excess kurtosis of the mini-batch noise
	// from the per-example second and fourth central moments of the projections
	// (noise.BatchMeanKurtosis, MATH.md §2): no sampling error. NoiseKurtosisSE is, per
	// direction, the bootstrap standard error of the sampled estimate NoiseKurtosis (over
	// the mini-batches; MATH.md §2).
	NoiseKurtosisExact []float64
	NoiseKurtosisSE    []float64
	NoiseMethod        string
}

// Gaussian holds the stationary covariances near a minimum (MATH.md §6), computed on the
// subspace spanned by the columns of Basis (d×k): the eigenvectors of H with positive
// curvature, in decreasing order of curvature, after null directions were removed. Every
// covariance is k×k in that basis; its parameter-basis form is Basis Σ Basisᵀ (ToParams).
type Gaussian struct {
	// Subspace is true when H was only explored in its top-TopK eigenspace (Lanczos).
	Subspace bool
	Basis    *mat.Dense
	// CovNote is the note's covariance (nil when the symmetric part of its precision is
	// not positive definite); NoteAsymmetry is the asymmetry of its precision (2/η)C_B⁻¹H.
	CovNote       *mat.SymDense
	NoteAsymmetry float64
	// CovContinuous, CovDiscrete and CovPosterior solve the continuous and the discrete
	// Lyapunov equations and give the Laplace posterior (N H)⁻¹; CovLinearExact is the
	// exact least-squares covariance (nil unless the model is linreg on the dense path).
	// MATH.md §6 states the least-squares equation for σ = 1; for ℓ_i = (x_iᵀθ − y_i)²/(2σ²)
	// it is applied to the scaled design x̃_i = (x_i, 1)/σ (and ỹ = y/σ), for which
	// ℓ_i = ½(x̃_iᵀθ − ỹ_i)² exactly, so H_d, M₄ and C(θ*) all carry the 1/σ² of the model.
	CovContinuous, CovDiscrete, CovPosterior, CovLinearExact *mat.SymDense
	// Removed counts the null directions (zero curvature and zero noise) removed; Flat
	// counts zero-curvature directions with noise and Negative the negative-curvature ones,
	// both dropped with a warning.
	Removed, Flat, Negative int
	// ExplicitPriorPrecision is Nλ, the weight-decay prior's precision, which every prior
	// precision includes.
	ExplicitPriorPrecision float64
	// Directions is the per-direction table, in decreasing order of curvature.
	Directions []Direction
	// MinEig holds, per prediction, the smallest eigenvalue of its implied prior precision
	// matrix on the predicted subspace and its eigenvector's content (MATH.md §6, "the
	// prior as a matrix"); nil where the matrix does not exist.
	MinEig PriorMinEig
	// Coverage says which part of the parameter space the predictions cover.
	Coverage Coverage
}

// PriorMinEig holds one *PriorEig per prediction (nil: the matrix does not exist).
type PriorMinEig struct {
	Note, Continuous, Discrete, LinearExact *PriorEig
}

// PriorEig is the smallest eigenvalue of an implied prior precision P on the predicted
// subspace (MATH.md §6) and the content of its unit eigenvector v.
type PriorEig struct {
	// Value is the smallest eigenvalue (on the range of Σ for a singular Σ, whose
	// precision is infinite elsewhere; Infinite counts those directions).
	Value    float64
	Infinite int
	// Hessian is vᵀHv and HessianRel vᵀHv / max h_k; Noise is vᵀC_Bv and NoiseRel
	// vᵀC_Bv / λ_max(VᵀC_BV). Weights are v's squared coordinates on the Hessian
	// eigendirections of the table (in its order; they sum to 1).
	Hessian, HessianRel, Noise, NoiseRel float64
	Weights                              []float64
}

// Coverage is the part of the parameter space the Gaussian predictions cover: K of the D
// directions, and NoNoise = D − rank C_B directions that carry no noise at all.
type Coverage struct {
	K, D, NoNoise int
	// Full is true when K = D (every direction is predicted).
	Full bool
}

// LadderRung is one regularisation of C_B in the regularisation ladder (MATH.md §5):
// Damping λ of (C_B + λI)⁻¹, or the pseudo-inverse (Range, with RCond). NaN or nil where
// not computed (Note says why).
type LadderRung struct {
	Damping float64
	Range   bool
	RCond   float64
	// User marks the regularisation the report's other numbers use.
	User bool
	// DivergenceNorm is ‖A⁻¹κ_B∇·C‖, DivergenceRatio its ratio to ‖s_st‖ (NaN at a
	// minimum) and DivergenceShift its ratio to the stationary density's typical score
	// √tr Σ⁻¹ of the continuous Lyapunov Gaussian (DivergenceShiftAtMinimum; NaN away from
	// a minimum or without the Gaussian predictions).
	DivergenceNorm, DivergenceRatio, DivergenceShift float64
	// DivergenceNormSE, DivergenceRatioSE and DivergenceShiftSE are their jackknife
	// standard errors (as Diagnostics.DivergenceNormSE; NaN where the value is NaN).
	DivergenceNormSE, DivergenceRatioSE, DivergenceShiftSE float64
	// AsymmetryNote and AsymmetryNoteSE are the Jacobian asymmetry of F_seed with this
	// inverse and its standard error (0 for a dense Jacobian).
	AsymmetryNote, AsymmetryNoteSE float64
	// PriorMinEigNote is the smallest eigenvalue of the seed's implied prior precision.
	PriorMinEigNote float64
	Note            string
}

// Direction is one Hessian eigendirection v_k of the Gaussian table (MATH.md §6).
type Direction struct {
	// H is h_k, C is c_k = v_kᵀ C_B v_k.
	H, C float64
	// Var* are v_kᵀ Σ_X v_k (VarLinearExact NaN unless computed; VarNote NaN when CovNote
	// is nil).
	VarNote, VarContinuous, VarDiscrete, VarPosterior, VarLinearExact float64
	// Prior holds v_kᵀ P_X v_k, P_X = Σ_X⁻¹ − N H_nll (Σ_X⁻¹ on the range of Σ_X; +Inf along
	// a direction of zero stationary variance, where no gradient noise moves SGD).
	Prior PriorPrecision
}

// PriorPrecision holds the implied prior precisions along one direction (NaN when not
// computed). A negative value means the "prior" widens rather than confines.
type PriorPrecision struct {
	Note, Continuous, Discrete, LinearExact float64
}

// ToParams writes Basis Σ Basisᵀ (d×d) into dst: a covariance of g in the parameter basis.
// Directions outside the basis get zero variance. Only sensible for small d.
func (g *Gaussian) ToParams(dst *mat.SymDense, cov *mat.SymDense) {
	d, k := g.Basis.Dims()
	if cov.SymmetricDim() != k {
		panic("score: ToParams: covariance does not match the basis")
	}
	var t, out mat.Dense
	t.Mul(g.Basis, cov)
	out.Mul(&t, g.Basis.T())
	if dst.IsEmpty() {
		dst.ReuseAsSym(d)
	}
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			dst.SetSym(i, j, 0.5*(out.At(i, j)+out.At(j, i)))
		}
	}
}
