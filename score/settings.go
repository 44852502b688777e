package score

import (
	"fmt"
	"math"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/memlimit"
	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/progress"
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

// Settings controls a computation. Start from DefaultSettings and set LR and Batch (and what
// else differs); every value of a Settings made by DefaultSettings is taken as given, so that
// MinimumTol 0 means "‖∇L‖ = 0 exactly". For compatibility, a Settings not made by
// DefaultSettings (a composite literal) has its zero numeric fields replaced by the
// defaults before it is validated.
type Settings struct {
	// LR is the learning rate η > 0 of SGD on the mean objective. Required.
	LR float64
	// Batch is the batch size B, 1 ≤ B ≤ N. Required.
	Batch int
	// Sampling is the mini-batch scheme; default noise.Without. noise.Reshuffle is treated as
	// Without (κ_B and sampled mini-batches), with a warning saying so.
	Sampling noise.Sampling
	// Inverse says how C_B is inverted: Damping λ (C_B + λI, in the units of C_B), Range
	// (pseudo-inverse on the range of C_B, eigenvalues at or below RCond·λ_max dropped),
	// RCond (default 1e-10, also the rank threshold), CGTol and CGMaxIter (SolverCG; CGMaxIter
	// 0 means max(2d, 100)). No damping and no range means the exact inverse, an error when
	// C_B is rank-deficient.
	Inverse linalg.InverseSettings
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
	// PreconditionerExamples is the size m of the seeded subset of examples whose shifted
	// covariance preconditions the damped CG solver (MATH.md §2, "Shifted subset
	// preconditioner"). Default 8192, or the largest m whose m×m matrix (8m² bytes) fits
	// in an eighth of the memory available.
	PreconditionerExamples int
	// PlainCG runs the CG solver without a preconditioner (PreconditionerExamples unused).
	PlainCG bool
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
	// AsymmetryProbes is the number P ≥ 2 of random Gaussian directions w_p whose Jacobian
	// products J w_p (central differences) estimate the asymmetry from the P(P−1)/2 pairs
	// w_pᵀJw_q − w_qᵀJw_p. Default 16 (with 4 the jackknife standard error on digits mlp:32 is ±0.5, too wide to decide a 0.05 threshold; with 16 it is ±0.08).
	AsymmetryProbes int
	// SkipAsymmetry disables the probe estimate of the asymmetry on large models
	// (d > AsymmetryDenseMaxDim; AsymmetryProbes unused).
	SkipAsymmetry bool
	// FDStep is the relative step δ of the central differences: h = δ·max(1, |θ_j|) for a
	// coordinate direction, h = δ·max(1, ‖θ‖) along a unit probe. Default ε^(1/3) ≈ 6e-6.
	FDStep float64
	// CommutatorProbes is the number of Gaussian probes z estimating ‖CH − HC‖_F,
	// ‖C‖_F and ‖H‖_F by E‖Az‖² = ‖A‖_F² when d > DenseMaxDim. Default 10.
	CommutatorProbes int

	// NoiseDirections is the number of top noise directions (eigenvectors of C) the
	// Gaussianity of mini-batch noise is measured along. Default 3 (at most the rank).
	NoiseDirections int
	// SkipNoise disables the measurement (NoiseDirections unused).
	SkipNoise bool
	// NoiseBatches is the number of seeded mini-batches sampled for it. Default 2000.
	NoiseBatches int

	// MinimumTol is the gradient norm ‖∇L‖ at or below which θ counts as a minimum.
	// Default 1e-6; 0 means ‖∇L‖ = 0 exactly.
	MinimumTol float64
	// ForceGaussian computes the Gaussian predictions even when θ is not a minimum (with a
	// warning). Default false.
	ForceGaussian bool

	// Seed seeds every random stream. Default 0 (a valid seed).
	Seed uint64
	// Progress, when non-nil, receives the name of each stage as it starts (frac −1).
	Progress progress.Recorder

	// explicit is set by DefaultSettings: zero values are then taken as given.
	explicit bool
}

// DefaultSettings returns the defaults of every setting (those of the score command); LR
// and Batch, which have none, are 0 and must be set.
func DefaultSettings() Settings {
	return Settings{
		Inverse:                linalg.InverseSettings{RCond: linalg.DefaultRCond, CGTol: linalg.DefaultCGTol},
		DenseMaxDim:            DefaultDenseMaxDim,
		WoodburyMaxExamples:    DefaultWoodburyMaxExamples,
		PreconditionerExamples: DefaultPreconditionerExamples,
		TopK:                   DefaultTopK,
		DivergenceExamples:     DefaultDivergenceExamples,
		ExactTraceMaxDim:       DefaultExactTraceMaxDim,
		TraceProbes:            DefaultTraceProbes,
		AsymmetryDenseMaxDim:   DefaultAsymmetryDenseMaxDim,
		AsymmetryProbes:        DefaultAsymmetryProbes,
		FDStep:                 DefaultFDStep,
		CommutatorProbes:       DefaultCommutatorProbes,
		NoiseDirections:        DefaultNoiseDirections,
		NoiseBatches:           DefaultNoiseBatches,
		MinimumTol:             DefaultMinimumTol,
		Seed:                   1,
		explicit:               true,
	}
}

// Validate checks every value, returning a *field.Error whose key is the score command's
// flag name ("top-k", "minimum-tol"; settings without a flag by their Go name in the same
// spelling, "dense-max-dim").
func (s *Settings) Validate() error {
	if err := noise.CheckLRBatch(s.LR, s.Batch); err != nil {
		return err
	}
	if err := s.Inverse.Validate(); err != nil {
		return err
	}
	inv := &s.Inverse
	switch {
	case s.Sampling < noise.Without || s.Sampling > noise.Reshuffle:
		return field.Errorf("sampling", "must be with, without or reshuffle, not %v", s.Sampling)
	case s.Solver < SolverAuto || s.Solver > SolverCG:
		return field.Errorf("solver", "must be auto, dense, woodbury or cg, not %v", s.Solver)
	case s.Subset < 0 || s.Subset == 1:
		return field.Errorf("subset", "must be 0 (all examples) or ≥ 2, not %d", s.Subset)
	case s.TopK < 1:
		return field.Errorf("top-k", "must be ≥ 1, not %d", s.TopK)
	case !(inv.CGTol > 0 && inv.CGTol < 1):
		return field.Errorf("cg-tol", "must be in (0, 1), not %v", inv.CGTol)
	case inv.CGMaxIter < 0:
		return field.Errorf("cg-maxiter", "must be ≥ 0, not %d", inv.CGMaxIter)
	case !s.PlainCG && s.PreconditionerExamples < 2:
		return field.Errorf("preconditioner-examples", "must be ≥ 2 (or −1 for plain CG), not %d", s.PreconditionerExamples)
	case s.TraceProbes < 1:
		return field.Errorf("trace-probes", "must be ≥ 1, not %d", s.TraceProbes)
	case s.DivergenceExamples < 2:
		return field.Errorf("divergence-examples", "must be ≥ 2, not %d", s.DivergenceExamples)
	case !s.SkipAsymmetry && s.AsymmetryProbes < 2:
		return field.Errorf("asymmetry-probes", "must be ≥ 2 (or −1 to skip), not %d", s.AsymmetryProbes)
	case s.CommutatorProbes < 1:
		return field.Errorf("commutator-probes", "must be ≥ 1, not %d", s.CommutatorProbes)
	case !s.SkipNoise && s.NoiseDirections < 1:
		return field.Errorf("noise-directions", "must be ≥ 1 (or −1 to skip), not %d", s.NoiseDirections)
	case s.NoiseBatches < 2:
		return field.Errorf("noise-batches", "must be ≥ 2, not %d", s.NoiseBatches)
	case !(s.MinimumTol >= 0) || math.IsInf(s.MinimumTol, 0):
		return field.Errorf("minimum-tol", "must be ≥ 0, not %v", s.MinimumTol)
	case !(s.FDStep > 0 && s.FDStep < 1):
		return field.Errorf("fd-step", "must be in (0, 1), not %v", s.FDStep)
	case s.DenseMaxDim < 0:
		return field.Errorf("dense-max-dim", "must be ≥ 0, not %d", s.DenseMaxDim)
	case s.WoodburyMaxExamples < 0:
		return field.Errorf("woodbury-max-examples", "must be ≥ 0, not %d", s.WoodburyMaxExamples)
	case s.ExactTraceMaxDim < 0:
		return field.Errorf("exact-trace-max-dim", "must be ≥ 0, not %d", s.ExactTraceMaxDim)
	case s.AsymmetryDenseMaxDim < 0:
		return field.Errorf("asymmetry-dense-max-dim", "must be ≥ 0, not %d", s.AsymmetryDenseMaxDim)
	}
	return nil
}

// Default values of Settings.
const (
	DefaultDenseMaxDim            = 500
	DefaultWoodburyMaxExamples    = 8192
	DefaultTopK                   = 10
	DefaultPreconditionerExamples = 8192
	DefaultDivergenceExamples     = 512
	DefaultExactTraceMaxDim       = 200
	DefaultTraceProbes            = 10
	DefaultAsymmetryDenseMaxDim   = 40
	DefaultAsymmetryProbes        = 16
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
	streamFloorTrace
	streamKurtosisBootstrap
	streamDivergenceGroups
	streamPrecondLanczos
	streamEffDim
)

// withDefaults fills in the defaults of a Settings not made by DefaultSettings (its zero
// numeric fields) and validates the result.
func (s *Settings) withDefaults() (Settings, error) {
	if s == nil {
		panic("score: nil Settings")
	}
	out := *s
	if !out.explicit {
		def := DefaultSettings()
		setInt := func(p *int, v int) {
			if *p == 0 {
				*p = v
			}
		}
		setFloat := func(p *float64, v float64) {
			if *p == 0 {
				*p = v
			}
		}
		setInt(&out.DenseMaxDim, def.DenseMaxDim)
		setInt(&out.WoodburyMaxExamples, def.WoodburyMaxExamples)
		setInt(&out.TopK, def.TopK)
		setInt(&out.PreconditionerExamples, def.PreconditionerExamples)
		setInt(&out.DivergenceExamples, def.DivergenceExamples)
		setInt(&out.ExactTraceMaxDim, def.ExactTraceMaxDim)
		setInt(&out.TraceProbes, def.TraceProbes)
		setInt(&out.AsymmetryDenseMaxDim, def.AsymmetryDenseMaxDim)
		setInt(&out.AsymmetryProbes, def.AsymmetryProbes)
		setInt(&out.CommutatorProbes, def.CommutatorProbes)
		setInt(&out.NoiseDirections, def.NoiseDirections)
		setInt(&out.NoiseBatches, def.NoiseBatches)
		setFloat(&out.MinimumTol, def.MinimumTol)
		setFloat(&out.FDStep, def.FDStep)
		setFloat(&out.Inverse.RCond, def.Inverse.RCond)
		setFloat(&out.Inverse.CGTol, def.Inverse.CGTol)
		out.explicit = true
	}
	if err := out.Validate(); err != nil {
		return out, fmt.Errorf("score: %w", err)
	}
	return out, nil
}

// precondExamples is the preconditioner's size, negative for plain CG.
func (s *Settings) precondExamples() int {
	if s.PlainCG {
		return -1
	}
	m := s.PreconditionerExamples
	if m == DefaultPreconditionerExamples {
		// The default shrinks until its m×m matrix fits in an eighth of the memory.
		if avail, ok := memlimit.Available(); ok {
			for m > 256 && uint64(8*m*m) > avail/8 {
				m /= 2
			}
		}
	}
	return m
}

// noiseDirections is the number of noise directions measured, 0 when skipped.
func (s *Settings) noiseDirections() int {
	if s.SkipNoise {
		return 0
	}
	return s.NoiseDirections
}

func (s *Settings) progress(stage string) { progress.Record(s.Progress, stage, -1) }

// announce reports a stage that states a choice or a predicted cost (progress.Announce: not
// thinned out).
func (s *Settings) announce(stage string) { progress.Record(s.Progress, stage, progress.Announce) }

// Set parses the command-line spelling of a solver (flag.Value).
func (s *Solver) Set(v string) error {
	p, err := ParseSolver(v)
	if err != nil {
		return fmt.Errorf("must be auto, dense, woodbury or cg, not %q", v)
	}
	*s = p
	return nil
}
