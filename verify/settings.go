package verify

import (
	"fmt"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/memlimit"
	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/progress"
	"github.com/sgdprior/sgdprior/sim"
	"github.com/sgdprior/sgdprior/stationary"
)

// Settings configures Run. Start from DefaultSettings; the keys of Validate's errors are the
// flag names of the verify command.
type Settings struct {
	// LR is η, Batch B, Sampling the mini-batch scheme, Seed the seed of every random stream
	// (the chains, the minimisation without θ*, Lanczos).
	LR       float64
	Batch    int
	Sampling noise.Sampling
	Seed     uint64
	// Method is the simulator: SGD, Gaussian-noise SGD, the SDE or SGLD.
	Method sim.Method
	// Chains K ≥ 2, Steps per chain (burn-in included), Burnin in [0, Steps), Thin ≥ 1 with
	// at least 4 kept samples per chain.
	Chains, Steps, Burnin, Thin int
	// DT is the SDE step in units of SGD steps, 0 < DT ≤ 1 (used by the SDE only).
	DT float64
	// TopK is the dimension of the Hessian subspace compared in for d > stationary.SmallDim.
	TopK int
	// LanczosTol is the relative residual at which Lanczos for the top-k Hessian subspace
	// stops (0: linalg's default 1e-10); not reaching it is a warning, as in score.
	LanczosTol float64
	// Alpha is the level of the consistency test, in (0, 1).
	Alpha float64
	// Inverse chooses how C_B is inverted (damping or range).
	Inverse linalg.InverseSettings
	// Checkpoint, if set, is where the run's state is written every CheckpointEvery steps
	// (0: max(1000, Steps/20)); Resume, if set, is a checkpoint to resume from.
	Checkpoint      string
	CheckpointEvery int
	Resume          string
	// Progress, if non-nil, receives the progress of chain 0.
	Progress progress.Recorder
}

// DefaultSettings returns the verify command's defaults: 32 chains of 20000 steps, burn-in
// 2000, no thinning, dt 1, top-k 20, α = 0.01, SGD without replacement, seed 1, and an exact
// inverse of C_B with rcond linalg.DefaultRCond. LR and Batch have no default (0, invalid).
func DefaultSettings() Settings {
	return Settings{Seed: 1, Method: sim.SGD, Chains: 32, Steps: 20000, Burnin: 2000, Thin: 1, DT: 1,
		TopK: 20, Alpha: 0.01, Inverse: linalg.DefaultInverseSettings()}
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
	case s.Chains < 2:
		return field.Errorf("chains", "must be ≥ 2 (standard errors come from the spread between chains), not %d", s.Chains)
	case s.CheckpointEvery < 0:
		return field.Errorf("checkpoint-every", "must be ≥ 1 steps (0: the default), not %d", s.CheckpointEvery)
	case s.Steps < 1:
		return field.Errorf("steps", "must be ≥ 1, not %d", s.Steps)
	case s.Burnin < 0 || s.Burnin >= s.Steps:
		return field.Errorf("burnin", "must be in [0, --steps) = [0, %d), not %d (lower --burnin or raise --steps)", s.Steps, s.Burnin)
	case s.Thin < 1:
		return field.Errorf("thin", "must be ≥ 1, not %d", s.Thin)
	case (s.Steps-s.Burnin)/s.Thin < 4:
		return field.Errorf("thin", "%d leaves fewer than 4 samples per chain", s.Thin)
	case !(s.DT > 0 && s.DT <= 1):
		return field.Errorf("dt", "must be in (0, 1], not %v", s.DT)
	case s.TopK < 1:
		return field.Errorf("top-k", "must be ≥ 1, not %d", s.TopK)
	case !(s.LanczosTol >= 0 && s.LanczosTol < 1):
		return field.Errorf("lanczos-tol", "must be in [0, 1), not %v", s.LanczosTol)
	case !(s.Alpha > 0 && s.Alpha < 1):
		return field.Errorf("alpha", "must be in (0, 1), not %v", s.Alpha)
	}
	return s.CheckMemory(0)
}

// CheckMemory checks, before anything is allocated, that the run's buffers for a model of d
// parameters fit in the memory available (internal/memlimit): per chain, the kept samples
// ((Steps − Burnin)/Thin of k numbers each, k = d for d ≤ stationary.SmallDim, else
// min(TopK, d)), the chain's k×k covariance and 3 vectors of length d (start, iterate,
// final). The error is a *field.Error keyed "chains" when the per-chain vectors alone do
// not fit, else "steps". Validate calls it with d = 0, d unknown: a lower bound of one
// number per kept sample; Run with p's d.
func (s *Settings) CheckMemory(d int) error {
	k, dd := d, d
	if d == 0 {
		k, dd = 1, 1
	} else if d > stationary.SmallDim {
		k = min(s.TopK, d)
	}
	kept := (s.Steps - s.Burnin) / s.Thin
	perChain, _ := memlimit.MulInt(3, dd)
	if b, _ := memlimit.Mul(8, uint64(s.Chains), perChain); memlimit.Need("chains", b, "") != nil {
		what := fmt.Sprintf("%s chains × %d parameters", memlimit.Count(s.Chains), d)
		if d == 0 {
			what = fmt.Sprintf("%s chains (of one parameter at least)", memlimit.Count(s.Chains))
		}
		return memlimit.Need("chains", b, what)
	}
	samples, _ := memlimit.MulInt(kept, k)
	cov, _ := memlimit.MulInt(k, k)
	b, _ := memlimit.Mul(8, uint64(s.Chains), memlimit.Add(memlimit.Add(samples, cov), perChain))
	what := fmt.Sprintf("%s steps × %s chains × %d parameters kept", memlimit.Count(s.Steps), memlimit.Count(s.Chains), k)
	if d == 0 {
		what = fmt.Sprintf("%s steps × %s chains (one number kept per step at least)", memlimit.Count(s.Steps), memlimit.Count(s.Chains))
	}
	return memlimit.Need("steps", b, what)
}
