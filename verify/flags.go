package verify

import (
	"flag"
	"fmt"

	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/stationary"
)

// BindFlags defines the `sgdprior verify` settings flags on fs, bound to s (with the
// inverse's flags, linalg.InverseSettings.BindFlags); their defaults are s's current values (start
// from DefaultSettings).
func (s *Settings) BindFlags(fs *flag.FlagSet) {
	noise.BindSGDFlags(fs, &s.LR, &s.Batch, &s.Sampling, &s.Seed)
	s.Inverse.BindFlags(fs)
	fs.IntVar(&s.Chains, "chains", s.Chains, "number of independent chains K")
	fs.IntVar(&s.Steps, "steps", s.Steps, "steps per chain (of size --dt for the SDE), burn-in included")
	fs.IntVar(&s.Burnin, "burnin", s.Burnin, "initial steps not kept")
	fs.IntVar(&s.Thin, "thin", s.Thin, "keep every s-th iterate after burn-in")
	fs.Var(&s.Method, "simulator", "sgd, gauss (Gaussian-noise SGD), sde (Euler–Maruyama) or sgld")
	fs.Float64Var(&s.DT, "dt", s.DT, "SDE step in units of SGD steps, 0 < dt ≤ 1")
	fs.IntVar(&s.TopK, "top-k", s.TopK, fmt.Sprintf("for d > %d: compare in the top-k Hessian subspace", stationary.SmallDim))
	fs.Float64Var(&s.LanczosTol, "lanczos-tol", s.LanczosTol, "for d > 500: relative residual at which Lanczos for the top-k Hessian subspace stops (0: 1e-10); not reaching it is a warning")
	fs.Float64Var(&s.Alpha, "alpha", s.Alpha, "level of the consistency test")
	fs.StringVar(&s.Checkpoint, "checkpoint", s.Checkpoint, "write the run's state here at intervals (atomically)")
	fs.IntVar(&s.CheckpointEvery, "checkpoint-every", s.CheckpointEvery, "checkpoint interval in steps (default max(1000, steps/20))")
	fs.StringVar(&s.Resume, "resume", s.Resume, "resume from this checkpoint")
}
