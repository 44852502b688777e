package escape

import (
	"flag"
	"fmt"
	"math"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/memlimit"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/progress"
)

// Settings configures Run. Start from DefaultSettings; the keys of Validate's errors are the
// flag names of the escape command.
type Settings struct {
	// LR is η, Batch B, Sampling SGD's mini-batch scheme (it also sets κ_B of the Gaussian
	// noises), Seed the seed of every random stream (chains, the minimisation without θ*,
	// Lanczos).
	LR       float64
	Batch    int
	Sampling noise.Sampling
	Seed     uint64
	// Chains is K ≥ 2 per noise; Steps the horizon (escapes later are censored);
	// CheckEvery the interval in steps between checks of the full-batch loss.
	Chains, Steps, CheckEvery int
	// Delta is δ > 0: a chain has escaped when L(θ) > L(θ*) + δ.
	Delta float64
	// TopK is k, the number of top Hessian eigenvectors of the top_hessian noise.
	TopK int
	// Landing is the largest number of escaped chains per noise that are descended to
	// measure where they land (the lowest-indexed escaped chains); 0 disables landing.
	Landing int
	// Progress, if non-nil, receives the progress of the chains.
	Progress progress.Recorder
}

// DefaultSettings returns the escape command's defaults: 16 chains per noise, a horizon of
// 20000 steps, a loss check every 100 steps, δ = 0.1, k = 10, landing of at most 8 escaped
// chains per noise, sampling without replacement and seed 1. LR and Batch have no default.
func DefaultSettings() Settings {
	return Settings{Seed: 1, Chains: 16, Steps: 20000, CheckEvery: 100, Delta: 0.1, TopK: 10, Landing: 8}
}

// Validate checks the settings that do not need the data; the error is a *field.Error keyed
// by the flag name.
func (s *Settings) Validate() error {
	if err := noise.CheckLRBatch(s.LR, s.Batch); err != nil {
		return err
	}
	switch {
	case s.Sampling < noise.Without || s.Sampling > noise.Reshuffle:
		return field.Errorf("sampling", "is not a sampling scheme")
	case s.Chains < 2:
		return field.Errorf("chains", "must be ≥ 2 (standard errors need several chains), not %d", s.Chains)
	case s.Steps < 1:
		return field.Errorf("steps", "must be ≥ 1, not %d", s.Steps)
	case s.CheckEvery < 1 || s.CheckEvery > s.Steps:
		return field.Errorf("check-every", "must be in [1, --steps], not %d", s.CheckEvery)
	case !(s.Delta > 0) || math.IsInf(s.Delta, 0):
		return field.Errorf("delta", "must be a positive finite number, not %v", s.Delta)
	case s.TopK < 1:
		return field.Errorf("top-k", "must be ≥ 1, not %d", s.TopK)
	case s.Landing < 0:
		return field.Errorf("landing", "must be ≥ 0, not %d", s.Landing)
	}
	return s.CheckMemory(0)
}

// CheckMemory checks, before anything is allocated, that the chains' state for a model of
// d parameters fits in the memory available (internal/memlimit): per chain its final
// point (d numbers) and 16 numbers of bookkeeping. The error is a *field.Error keyed
// "chains". Validate calls it with d = 0, d unknown (a lower bound of one parameter); Run
// with p's d.
func (s *Settings) CheckMemory(d int) error {
	per, _ := memlimit.MulInt(8, max(d, 1)+16)
	b, _ := memlimit.Mul(uint64(max(s.Chains, 0)), per)
	what := fmt.Sprintf("%s chains × %d parameters", memlimit.Count(s.Chains), d)
	if d == 0 {
		what = fmt.Sprintf("%s chains (of one parameter at least)", memlimit.Count(s.Chains))
	}
	return memlimit.Need("chains", b, what)
}

// BindFlags defines the `sgdprior escape` settings flags on fs, bound to s; their defaults
// are s's current values (start from DefaultSettings).
func (s *Settings) BindFlags(fs *flag.FlagSet) {
	noise.BindSGDFlags(fs, &s.LR, &s.Batch, &s.Sampling, &s.Seed)
	fs.IntVar(&s.Chains, "chains", s.Chains, "chains K per noise")
	fs.IntVar(&s.Steps, "steps", s.Steps, "horizon in steps: later escapes are censored")
	fs.IntVar(&s.CheckEvery, "check-every", s.CheckEvery, "steps between checks of the full-batch loss")
	fs.Float64Var(&s.Delta, "delta", s.Delta, "a chain has escaped when L(θ) > L(θ*) + δ")
	fs.IntVar(&s.TopK, "top-k", s.TopK, "number of top Hessian eigenvectors carrying the top_hessian noise")
	fs.IntVar(&s.Landing, "landing", s.Landing, "escaped chains per noise descended to measure where they land (0: none)")
}
