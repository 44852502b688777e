package score

import (
	"errors"
	"flag"
	"strconv"

	"github.com/sgdprior/sgdprior/noise"
)

// BindFlags defines the `sgdprior score` settings flags on fs, bound to s; their defaults
// are s's current values (start from DefaultSettings), with the inverse of C_B's (--damping,
// --inverse, --rcond: linalg.InverseSettings.BindFlags).
func (s *Settings) BindFlags(fs *flag.FlagSet) {
	noise.BindSGDFlags(fs, &s.LR, &s.Batch, &s.Sampling, &s.Seed)
	s.Inverse.BindFlags(fs)
	fs.IntVar(&s.Subset, "subset", s.Subset, "estimate C from a seeded random subset of M examples ((N−1)/N·S); 0: all N")
	fs.IntVar(&s.TopK, "top-k", s.TopK, "number of top eigenvalues of C reported, and for large d the Hessian subspace of the Gaussian predictions")
	fs.BoolVar(&s.Divergence, "divergence", s.Divergence, "compute the general stationary score D⁻¹(2μ − ∇·D) with its divergence term")
	fs.Var(&s.Solver, "solver", "auto, dense, woodbury (Gram matrix of the M examples) or cg (covariance products only)")
	fs.Float64Var(&s.Inverse.CGTol, "cg-tol", s.Inverse.CGTol, "CG solver: relative residual at which CG stops")
	fs.IntVar(&s.Inverse.CGMaxIter, "cg-maxiter", s.Inverse.CGMaxIter, "CG solver: largest number of iterations (default max(2d, 100))")
	fs.Var(optionalCount{&s.PreconditionerExamples, &s.PlainCG}, "preconditioner-examples", "CG solver with --damping: size of the seeded subset whose shifted covariance preconditions CG (−1: plain CG)")
	fs.IntVar(&s.TraceProbes, "trace-probes", s.TraceProbes, "--divergence on large models: Hutchinson probes for tr(H_i)")
	fs.IntVar(&s.DivergenceExamples, "divergence-examples", s.DivergenceExamples, "--divergence on large models: examples the divergence term is estimated from")
	fs.Var(optionalCount{&s.AsymmetryProbes, &s.SkipAsymmetry}, "asymmetry-probes", "large models: random directions estimating the Jacobian asymmetry (−1: skip)")
	fs.IntVar(&s.CommutatorProbes, "commutator-probes", s.CommutatorProbes, "large models: Gaussian probes estimating the commutator")
	fs.Var(optionalCount{&s.NoiseDirections, &s.SkipNoise}, "noise-directions", "top noise directions the Gaussianity of mini-batch noise is measured along (−1: skip)")
	fs.IntVar(&s.NoiseBatches, "noise-batches", s.NoiseBatches, "mini-batches sampled for the Gaussianity of the noise")
	fs.Float64Var(&s.MinimumTol, "minimum-tol", s.MinimumTol, "θ is a minimum when ‖∇L‖ ≤ this; the Gaussian predictions need one")
	fs.BoolVar(&s.ForceGaussian, "gaussian", s.ForceGaussian, "compute the Gaussian predictions even when θ is not a minimum (with a warning)")
}

// BindFlags defines the bring-your-own-gradients flags (--grads, --hessian, --n) on fs,
// bound to f. Params is shared with the model path and bound by the command.
func (f *GradsFiles) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&f.Grads, "grads", f.Grads, "bring your own gradients: an M×d .npy matrix of per-example NLL gradients (row = example) instead of --data/--model")
	fs.StringVar(&f.Hessian, "hessian", f.Hessian, "with --grads: the d×d Hessian of the mean objective (.npy), for the commutator and the Gaussian predictions")
	fs.IntVar(&f.N, "n", f.N, "with --grads: the number N of training examples (default M, the rows of G: the population)")
}

// optionalCount is a count flag that also accepts −1, which sets off instead (the
// command-line spelling of PlainCG, SkipAsymmetry and SkipNoise).
type optionalCount struct {
	n   *int
	off *bool
}

func (c optionalCount) String() string {
	switch {
	case c.n == nil:
		return "0"
	case *c.off:
		return "-1"
	}
	return strconv.Itoa(*c.n)
}

func (c optionalCount) Set(s string) error {
	v, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("parse error")
	}
	*c.off = v == -1
	if v != -1 {
		*c.n = v
	}
	return nil
}
