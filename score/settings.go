package score

import (
	"fmt"
	"math"

	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/sim"
)

// Solver selects the strategy behind every covariance computation (see the package doc).
type Solver int

const (
	// SolverAuto uses SolverDense when d ≤ Settings.DenseMaxDim, otherwise SolverWoodbury
	// when the covariance examples number at most Settings.WoodburyMaxExamples, otherwise
	// SolverCG.
	SolverAuto Solver = iota
	// SolverDense forms the d×d covariance C and Hessian H.
	SolverDense
	// SolverWoodbury inverts C_B through the M×M Gram matrix of the centred per-example
	// gradients (Woodbury identity); spectra come from Lanczos on the Gram matrix.
	SolverWoodbury
	// SolverCG inverts C_B + λI by conjugate gradients on matrix-free covariance products
	// and finds spectra by Lanczos on them; it never forms the Gram matrix.
	SolverCG
)

var solverNames = [...]string{SolverAuto: "auto", SolverDense: "dense", SolverWoodbury: "woodbury", SolverCG: "cg"}

// String returns the solver's command-line spelling.
func (s Solver) String() string {
	if s < 0 || int(s) >= len(solverNames) {
		return fmt.Sprintf("Solver(%d)", int(s))
	}
	return solverNames[s]
}

// ParseSolver parses "auto", "dense", "woodbury" or "cg".
func ParseSolver(s string) (Solver, error) {
	for i, n := range solverNames {
		if s == n {
			return Solver(i), nil
		}
	}
	return 0, fmt.Errorf("score: unknown solver %q (want auto, dense, woodbury or cg)", s)
}

// Settings controls a computation. LR and Batch are required; the zero value of every
// other field means its default.
type Settings struct {
	// LR is the learning rate η > 0 of SGD on the mean objective. Required.
	LR float64
	// Batch is the batch size B, 1 ≤ B ≤ N. Required.
	Batch int
	// Sampling is the mini-batch scheme; default sim.Without. sim.Reshuffle is treated as
	// Without (κ_B and sampled mini-batches), with a warning saying so.
	Sampling sim.Sampling
	// Inverse says how C_B is inverted: Damping λ (C_B + λI, in the units of C_B), Range
	// (pseudo-inverse on the range of C_B, eigenvalues at or below RCond·λ_max dropped),
	// RCond (default 1e-10, also the rank threshold), CGTol and CGMaxIter (SolverCG). The
	// zero value means the exact inverse, an error when C_B is rank-deficient.
	Inverse linalg.Settings
	// Solver selects the strategy; default SolverAuto.
	Solver Solver
	// DenseMaxDim is the largest d for which SolverAuto chooses SolverDense. Default 500.
	DenseMaxDim int
	// WoodburyMaxExamples is the largest number of covariance examples M for which
	// SolverAuto chooses SolverWoodbury (the Gram matrix is M×M). Default 8192.
	WoodburyMaxExamples int
	// Subset is M, the number of examples drawn (seeded, without replacement) to estimate C
	// by (N−1)/N·S. 0 (the default) or M ≥ N means all N examples (population C). The
	// Hessian used with C (commutator, Gaussian predictions) comes from the same examples;
	// the gradient ∇L always uses all N. Only for model inputs.
	Subset int
	// PreconditionerExamples is the size of the seeded subset of examples whose damped
	// Woodbury inverse preconditions the CG solver (damped only). Default 2048; negative
	// means plain CG.
	PreconditionerExamples int
	// TopK is the number of top eigenvalues of C reported, and the dimension of the
	// Hessian subspace of the Gaussian predictions when d > DenseMaxDim. Default 10.
	TopK int

	// Divergence computes the general stationary score D⁻¹(2μ − ∇·D) and its divergence term
	// (MATH.md §5). Default false. Only for model inputs.
	Divergence bool
	// DivergenceExamples is the number of covariance examples the divergence term is
	// estimated from when d > ExactTraceMaxDim (a seeded subset of them). Default
	// min(M, 512).
	DivergenceExamples int
	// ExactTraceMaxDim is the largest d for which tr(H_i) is computed exactly, from d
	// per-example Hessian–vector products with unit vectors, on all covariance examples.
	// Larger models use TraceProbes Hutchinson probes. Default 200.
	ExactTraceMaxDim int
	// TraceProbes is the number of Rademacher probes of the Hutchinson estimate of tr(H_i).
	// Default 10.
	TraceProbes int

	// AsymmetryDenseMaxDim is the largest d for which the Jacobian of the score field is
	// formed densely (2d central differences). Larger models use AsymmetryProbes random
	// probes. Default 40.
	AsymmetryDenseMaxDim int
	// AsymmetryProbes is the number P of random Gaussian directions w_p whose Jacobian
	// products J w_p (central differences) estimate the asymmetry from the P(P−1)/2 pairs
	// w_pᵀJw_q − w_qᵀJw_p. Default 4. Negative disables the asymmetry on large models.
	AsymmetryProbes int
	// FDStep is the relative step δ of the central differences: h = δ·max(1, |θ_j|) for a
	// coordinate direction, h = δ·max(1, ‖θ‖) along a unit probe. Default ε^(1/3) ≈ 6e-6.
	FDStep float64
	// CommutatorProbes is the number of Gaussian probes z estimating ‖CH − HC‖_F,
	// ‖C‖_F and ‖H‖_F by E‖Az‖² = ‖A‖_F² when d > DenseMaxDim. Default 10.
	CommutatorProbes int

	// NoiseDirections is the number of top noise directions (eigenvectors of C) the
	// Gaussianity of mini-batch noise is measured along. Default 3 (at most the rank).
	// Negative disables the measurement.
	NoiseDirections int
	// NoiseBatches is the number of seeded mini-batches sampled for it. Default 2000.
	NoiseBatches int

	// MinimumTol is the gradient norm ‖∇L‖ below which θ counts as a minimum. Default 1e-6.
	MinimumTol float64
	// ForceGaussian computes the Gaussian predictions even when θ is not a minimum (with a
	// warning). Default false.
	ForceGaussian bool

	// Seed seeds every random stream. Default 0 (a valid seed).
	Seed uint64
	// Progress, when non-nil, receives a short message as each stage starts.
	Progress func(stage string)
}

// Default values of Settings.
const (
	DefaultDenseMaxDim            = 500
	DefaultWoodburyMaxExamples    = 8192
	DefaultTopK                   = 10
	DefaultPreconditionerExamples = 2048
	DefaultDivergenceExamples     = 512
	DefaultExactTraceMaxDim       = 200
	DefaultTraceProbes            = 10
	DefaultAsymmetryDenseMaxDim   = 40
	DefaultAsymmetryProbes        = 4
	DefaultCommutatorProbes       = 10
	DefaultNoiseDirections        = 3
	DefaultNoiseBatches           = 2000
	DefaultMinimumTol             = 1e-6
)

// DefaultFDStep is ε^(1/3), the relative step of central differences.
var DefaultFDStep = math.Cbrt(0x1p-52)

// Random stream identifiers (the second PCG seed word), one per use.
const (
	streamSubset uint64 = 0x5c0e0001 + iota
	streamLanczosC
	streamLanczosH
	streamCommutator
	streamAsymmetry
	streamTrace
	streamDivergenceSubset
	streamBatches
	streamCGProbe
	streamPrecond
)

// withDefaults validates s and fills in defaults.
func (s *Settings) withDefaults() (Settings, error) {
	if s == nil {
		panic("score: nil Settings")
	}
	out := *s
	switch {
	case !(out.LR > 0) || math.IsInf(out.LR, 0):
		return out, fmt.Errorf("score: learning rate η = %v must be finite and > 0", out.LR)
	case out.Batch < 1:
		return out, fmt.Errorf("score: batch size %d must be ≥ 1", out.Batch)
	case out.Sampling < sim.Without || out.Sampling > sim.Reshuffle:
		return out, fmt.Errorf("score: unknown sampling %v", out.Sampling)
	case out.Solver < SolverAuto || out.Solver > SolverCG:
		return out, fmt.Errorf("score: unknown solver %v", out.Solver)
	case out.Subset < 0:
		return out, fmt.Errorf("score: subset %d must be ≥ 0", out.Subset)
	case out.TopK < 0:
		return out, fmt.Errorf("score: top-k %d must be ≥ 0", out.TopK)
	case out.MinimumTol < 0 || math.IsNaN(out.MinimumTol):
		return out, fmt.Errorf("score: minimum tolerance %v must be ≥ 0", out.MinimumTol)
	case out.FDStep < 0 || out.FDStep >= 1 || math.IsNaN(out.FDStep):
		return out, fmt.Errorf("score: finite-difference step %v must be in [0, 1)", out.FDStep)
	case out.Inverse.Damping > 0 && out.Inverse.Range:
		return out, fmt.Errorf("score: damping (%g) and the range pseudo-inverse are exclusive: choose one", out.Inverse.Damping)
	case out.Inverse.Damping < 0 || math.IsNaN(out.Inverse.Damping) || math.IsInf(out.Inverse.Damping, 0):
		return out, fmt.Errorf("score: damping %v must be finite and ≥ 0", out.Inverse.Damping)
	case out.Inverse.RCond < 0 || out.Inverse.RCond >= 1 || math.IsNaN(out.Inverse.RCond):
		return out, fmt.Errorf("score: rcond %v must be in [0, 1)", out.Inverse.RCond)
	}
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&out.DenseMaxDim, DefaultDenseMaxDim)
	def(&out.WoodburyMaxExamples, DefaultWoodburyMaxExamples)
	def(&out.TopK, DefaultTopK)
	def(&out.PreconditionerExamples, DefaultPreconditionerExamples)
	def(&out.DivergenceExamples, DefaultDivergenceExamples)
	def(&out.ExactTraceMaxDim, DefaultExactTraceMaxDim)
	def(&out.TraceProbes, DefaultTraceProbes)
	def(&out.AsymmetryDenseMaxDim, DefaultAsymmetryDenseMaxDim)
	def(&out.AsymmetryProbes, DefaultAsymmetryProbes)
	def(&out.CommutatorProbes, DefaultCommutatorProbes)
	def(&out.NoiseDirections, DefaultNoiseDirections)
	def(&out.NoiseBatches, DefaultNoiseBatches)
	if out.MinimumTol == 0 {
		out.MinimumTol = DefaultMinimumTol
	}
	if out.FDStep == 0 {
		out.FDStep = DefaultFDStep
	}
	if out.Inverse.RCond == 0 {
		out.Inverse.RCond = linalg.DefaultRCond
	}
	if out.TraceProbes < 1 || out.CommutatorProbes < 1 || out.NoiseBatches < 2 {
		return out, fmt.Errorf("score: trace probes (%d), commutator probes (%d) must be ≥ 1 and noise batches (%d) ≥ 2",
			out.TraceProbes, out.CommutatorProbes, out.NoiseBatches)
	}
	if out.AsymmetryProbes == 1 {
		return out, fmt.Errorf("score: the asymmetry needs at least 2 probes, not 1")
	}
	return out, nil
}

func (s *Settings) progress(msg string) {
	if s.Progress != nil {
		s.Progress(msg)
	}
}
