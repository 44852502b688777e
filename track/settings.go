package track

import (
	"flag"
	"fmt"
	"math"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/memlimit"
	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/progress"
)

// Defaults of the diagnostics' sizes (Settings).
const (
	DefaultEvery            = 100
	DefaultCovExamples      = 256
	DefaultHCExamples       = 64
	DefaultTraceProbes      = 10
	DefaultExactTraceMaxDim = 200
	DefaultDenseMaxDim      = 500
	DefaultLanczosIter      = 40
	DefaultLanczosTol       = 1e-4
)

// Settings configures Run. Start from DefaultSettings; the keys of Validate's errors are the
// flag names of the track command.
type Settings struct {
	// LR is η, Batch B, Sampling the mini-batch scheme and Seed the seed of SGD's mini-batches
	// (stream 0, as chain 0 of sim), of the default θ0 (model.InitSeeded) and of the
	// diagnostics' subsets and probes (their own streams).
	LR       float64
	Batch    int
	Sampling noise.Sampling
	Seed     uint64
	// Steps is the number of SGD steps T ≥ 1.
	Steps int
	// Every records a row every k-th step (and at steps 0 and T); LogRows > 0 adds that many
	// log-spaced steps between 1 and T.
	Every, LogRows int
	// CovExamples is M, the seeded subset (without replacement) of examples whose gradients
	// estimate C, tr C and the noise factor of the prior score (0 or ≥ N: all N). Default 256 (the Woodbury inverse costs O(M²d + M³) per row: about 10 s at M = 1024 on digits mlp:32, 0.25 s at 256).
	CovExamples int
	// HCExamples is the number of the covariance examples (a prefix of the same random
	// subset) whose (g_i − ḡ)ᵀH(g_i − ḡ) estimate Tr(HC) when d > ExactTraceMaxDim. Default 64.
	HCExamples int
	// TraceProbes is the number P ≥ 2 of Rademacher probes of Hutchinson's tr H when d >
	// ExactTraceMaxDim. Default 10.
	TraceProbes int
	// ExactTraceMaxDim is the largest d for which H is formed densely (d HVPs): tr H and
	// Tr(HC) exact on the covariance examples. Default 200.
	ExactTraceMaxDim int
	// DenseMaxDim is the largest d for which C_B is inverted as a dense d×d matrix; larger d
	// use the Woodbury inverse of the M-column noise factor. Default 500.
	DenseMaxDim int
	// LanczosIter is the Krylov dimension of λ_max's Lanczos (at most d); LanczosTol its
	// relative residual tolerance (not reaching it is a warning, the Ritz value is kept).
	LanczosIter int
	LanczosTol  float64
	// Inverse says how C_B is inverted in the prior score: exact (score's default; a row at
	// which C_B is rank-deficient has null prior quantities and a warning), damped
	// (--damping λ: C_B + λI) or range (--inverse range).
	Inverse linalg.InverseSettings
	// NoPrior skips the prior score (its columns are null).
	NoPrior bool
	// Checkpoint, if set, is where the run's state is written every CheckpointEvery steps
	// (0: max(1000, Steps/20)), atomically; Resume, if set, is a checkpoint of the same run
	// (problem, settings, seed and θ0) to continue from. A resumed run's rows are bitwise
	// those of an uninterrupted one; its Seconds count this process only.
	Checkpoint      string
	CheckpointEvery int
	Resume          string
	// Progress, if non-nil, receives the steps.
	Progress progress.Recorder
}

// DefaultSettings returns the track command's defaults: 1000 steps, a row every 100, SGD
// without replacement, seed 1, M = 256 covariance examples, 64 examples for Tr(HC), 10
// Hutchinson probes, exact traces for d ≤ 200, a dense inverse for d ≤ 500, Lanczos of 40
// iterations at tolerance 1e-4 (a Ritz value's error is about (residual)²/gap, far below the residual), and score's inverse of C_B (exact, rcond 1e-10). LR and
// Batch have no default (0, invalid).
func DefaultSettings() Settings {
	return Settings{Seed: 1, Steps: 1000, Every: DefaultEvery, CovExamples: DefaultCovExamples,
		HCExamples: DefaultHCExamples, TraceProbes: DefaultTraceProbes,
		ExactTraceMaxDim: DefaultExactTraceMaxDim, DenseMaxDim: DefaultDenseMaxDim,
		LanczosIter: DefaultLanczosIter, LanczosTol: DefaultLanczosTol,
		Inverse: linalg.DefaultInverseSettings()}
}

// Validate checks the settings; the error is a *field.Error keyed by the flag name.
func (s *Settings) Validate() error {
	if err := noise.CheckLRBatch(s.LR, s.Batch); err != nil {
		return err
	}
	if err := s.Inverse.Validate(); err != nil {
		return err
	}
	switch {
	case s.Steps < 1:
		return field.Errorf("steps", "must be ≥ 1, not %d", s.Steps)
	case s.Every < 1:
		return field.Errorf("every", "must be ≥ 1, not %d", s.Every)
	case s.LogRows < 0:
		return field.Errorf("log-rows", "must be ≥ 0, not %d", s.LogRows)
	case s.CovExamples < 0 || s.CovExamples == 1:
		return field.Errorf("cov-examples", "must be 0 (all) or ≥ 2, not %d", s.CovExamples)
	case s.HCExamples < 2:
		return field.Errorf("hc-examples", "must be ≥ 2, not %d", s.HCExamples)
	case s.TraceProbes < 2:
		return field.Errorf("trace-probes", "must be ≥ 2 (the standard error needs two), not %d", s.TraceProbes)
	case s.ExactTraceMaxDim < 0:
		return field.Errorf("exact-trace-max-dim", "must be ≥ 0, not %d", s.ExactTraceMaxDim)
	case s.DenseMaxDim < 0:
		return field.Errorf("dense-max-dim", "must be ≥ 0, not %d", s.DenseMaxDim)
	case s.LanczosIter < 2:
		return field.Errorf("lanczos-iter", "must be ≥ 2, not %d", s.LanczosIter)
	case s.CheckpointEvery < 0:
		return field.Errorf("checkpoint-every", "must be ≥ 0, not %d", s.CheckpointEvery)
	case !(s.LanczosTol > 0 && s.LanczosTol < 1):
		return field.Errorf("lanczos-tol", "must be in (0, 1), not %v", s.LanczosTol)
	}
	// The recorded rows (RecordSteps) are listed up front and each becomes a Row.
	rows := memlimit.Add(memlimit.Add(uint64(s.Steps/s.Every), uint64(s.LogRows)), 2)
	b, _ := memlimit.Mul(rowBytes, rows)
	nrows := memlimit.Count(int(min(rows, math.MaxInt)))
	if uint64(s.LogRows) > rows/2 {
		return memlimit.Need("log-rows", b, fmt.Sprintf("%s records %s rows, which", memlimit.Count(s.LogRows), nrows))
	}
	return memlimit.Need("every", b, fmt.Sprintf("%s records %s rows of --steps %s, which", memlimit.Count(s.Every), nrows, memlimit.Count(s.Steps)))
}

// rowBytes bounds the memory of one recorded row (its step in RecordSteps and its Row).
const rowBytes = 1024

// CheckMemory checks, before anything is allocated, that the diagnostics' vectors for a
// model of d parameters fit in the memory available (internal/memlimit): 2·TraceProbes +
// 2·HCExamples + LanczosIter + 8 vectors of d numbers. The error is a *field.Error keyed by
// the largest of the three flags. Run calls it with p's d.
func (s *Settings) CheckMemory(d int) error {
	key, val, most := "trace-probes", s.TraceProbes, 2*uint64(s.TraceProbes)
	if 2*uint64(s.HCExamples) > most {
		key, val, most = "hc-examples", s.HCExamples, 2*uint64(s.HCExamples)
	}
	if uint64(s.LanczosIter) > most {
		key, val = "lanczos-iter", s.LanczosIter
	}
	vecs := memlimit.Add(memlimit.Add(memlimit.Add(2*uint64(s.TraceProbes), 2*uint64(s.HCExamples)), uint64(s.LanczosIter)), 8)
	b, _ := memlimit.Mul(8, uint64(max(d, 0)), vecs)
	return memlimit.Need(key, b, fmt.Sprintf("%s vectors of %d parameters", memlimit.Count(val), d))
}

// BindFlags defines the `sgdprior track` settings flags on fs, bound to s (with SGD's and
// the inverse's flags); their defaults are s's current values (start from DefaultSettings).
func (s *Settings) BindFlags(fs *flag.FlagSet) {
	noise.BindSGDFlags(fs, &s.LR, &s.Batch, &s.Sampling, &s.Seed)
	s.Inverse.BindFlags(fs)
	fs.IntVar(&s.Steps, "steps", s.Steps, "number of SGD steps")
	fs.IntVar(&s.Every, "every", s.Every, "record a row every k-th step (and at the first and last)")
	fs.IntVar(&s.LogRows, "log-rows", s.LogRows, "also record this many log-spaced steps")
	fs.IntVar(&s.CovExamples, "cov-examples", s.CovExamples, "seeded subset of examples estimating C, tr C and the prior score's noise (0: all)")
	fs.IntVar(&s.HCExamples, "hc-examples", s.HCExamples, "for d > --exact-trace-max-dim: covariance examples estimating Tr(HC) by Hessian–vector products")
	fs.IntVar(&s.TraceProbes, "trace-probes", s.TraceProbes, "for d > --exact-trace-max-dim: Rademacher probes of Hutchinson's tr H")
	fs.IntVar(&s.ExactTraceMaxDim, "exact-trace-max-dim", s.ExactTraceMaxDim, "largest d for which H is formed densely (exact tr H and Tr(HC))")
	fs.IntVar(&s.DenseMaxDim, "dense-max-dim", s.DenseMaxDim, "largest d for which C_B is inverted densely (else Woodbury on the noise factor)")
	fs.IntVar(&s.LanczosIter, "lanczos-iter", s.LanczosIter, "Krylov dimension of λ_max's Lanczos")
	fs.Float64Var(&s.LanczosTol, "lanczos-tol", s.LanczosTol, "relative residual of λ_max's Lanczos (not reaching it is a warning)")
	fs.StringVar(&s.Checkpoint, "checkpoint", s.Checkpoint, "write the run's state here at intervals (atomically)")
	fs.IntVar(&s.CheckpointEvery, "checkpoint-every", s.CheckpointEvery, "checkpoint interval in steps (default max(1000, steps/20))")
	fs.StringVar(&s.Resume, "resume", s.Resume, "resume from this checkpoint (of the same run)")
	fs.BoolVar(&s.NoPrior, "no-prior", s.NoPrior, "skip the prior score (its columns are null)")
}
