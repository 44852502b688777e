package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"

	"github.com/sgdprior/sgdprior/linalg"
	recorder "github.com/sgdprior/sgdprior/progress"
	"github.com/sgdprior/sgdprior/score"
)

func init() {
	register(&command{
		name:    "score",
		summary: "the note's scores, gradient noise and checks of its assumptions at one θ (a model, or your own per-example gradients)",
		run:     runScore,
	})
}

const scoreSynopsis = "<problem flags> --params θ.npy --lr η --batch B [--sampling S] [--damping λ | --inverse range --rcond r] [--subset M] [--top-k k] [--divergence] [--json out.json]\n" +
	"       sgdprior score --grads G.npy [--hessian H.npy] [--n N] --lr η --batch B [--sampling S] [--damping λ | --inverse range] [--json out.json]"

// scoreInvocation is one run of score: everything a study step needs to run the same thing.
type scoreInvocation struct {
	// pf is the problem (unused with gradients but for its weight decay) and η, B, the
	// sampling and the seed, which set holds too.
	pf  problemFlags
	set score.Settings
	// params is θ's file (the model path; optional with gradients, where grads.Params
	// holds it).
	params string
	// grads are the files of a bring-your-own-gradients run (grads.Grads empty: the model
	// path).
	grads score.GradsFiles
	// json is the output file ("" for none); inlineMaxDim the largest d whose covariances
	// it holds inline.
	json         string
	inlineMaxDim int
}

// optionalCount is an int flag that also accepts −1, meaning "off".
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

// parseScore binds the flags into the invocation and validates them; it reads no file.
func parseScore(e *env, args []string) (*scoreInvocation, error) {
	fs := newFlagSet(e, "score", scoreSynopsis)
	inv := &scoreInvocation{set: score.DefaultSettings(), inlineMaxDim: score.DefaultInlineMaxDim}
	set, g := &inv.set, &inv.grads
	pf := &inv.pf
	pf.register(fs)
	var invf inverseFlags
	invf.register(fs)
	fs.StringVar(&inv.params, "params", "", "θ as a 1-D .npy file (PyTorch layout); required with --data")
	fs.StringVar(&g.Grads, "grads", "", "bring your own gradients: an M×d .npy matrix of per-example NLL gradients (row = example) instead of --data/--model")
	fs.StringVar(&g.Hessian, "hessian", "", "with --grads: the d×d Hessian of the mean objective (.npy), for the commutator and the Gaussian predictions")
	fs.IntVar(&g.N, "n", 0, "with --grads: the number N of training examples (default M, the rows of G: the population)")
	fs.IntVar(&set.Subset, "subset", set.Subset, "estimate C from a seeded random subset of M examples ((N−1)/N·S); 0: all N")
	fs.IntVar(&set.TopK, "top-k", set.TopK, "number of top eigenvalues of C reported, and for large d the Hessian subspace of the Gaussian predictions")
	fs.BoolVar(&set.Divergence, "divergence", set.Divergence, "compute the general stationary score D⁻¹(2μ − ∇·D) with its divergence term")
	fs.Var(&set.Solver, "solver", "auto, dense, woodbury (Gram matrix of the M examples) or cg (covariance products only)")
	fs.Float64Var(&set.Inverse.CGTol, "cg-tol", set.Inverse.CGTol, "CG solver: relative residual at which CG stops")
	fs.IntVar(&set.Inverse.CGMaxIter, "cg-maxiter", set.Inverse.CGMaxIter, "CG solver: largest number of iterations (default max(2d, 100))")
	fs.Var(optionalCount{&set.PreconditionerExamples, &set.PlainCG}, "preconditioner-examples", "CG solver with --damping: size of the seeded subset whose Woodbury inverse preconditions CG (−1: plain CG)")
	fs.IntVar(&set.TraceProbes, "trace-probes", set.TraceProbes, "--divergence on large models: Hutchinson probes for tr(H_i)")
	fs.IntVar(&set.DivergenceExamples, "divergence-examples", set.DivergenceExamples, "--divergence on large models: examples the divergence term is estimated from")
	fs.Var(optionalCount{&set.AsymmetryProbes, &set.SkipAsymmetry}, "asymmetry-probes", "large models: random directions estimating the Jacobian asymmetry (−1: skip)")
	fs.IntVar(&set.CommutatorProbes, "commutator-probes", set.CommutatorProbes, "large models: Gaussian probes estimating the commutator")
	fs.Var(optionalCount{&set.NoiseDirections, &set.SkipNoise}, "noise-directions", "top noise directions the Gaussianity of mini-batch noise is measured along (−1: skip)")
	fs.IntVar(&set.NoiseBatches, "noise-batches", set.NoiseBatches, "mini-batches sampled for the Gaussianity of the noise")
	fs.Float64Var(&set.MinimumTol, "minimum-tol", set.MinimumTol, "θ is a minimum when ‖∇L‖ ≤ this; the Gaussian predictions need one")
	fs.BoolVar(&set.ForceGaussian, "gaussian", set.ForceGaussian, "compute the Gaussian predictions even when θ is not a minimum (with a warning)")
	fs.StringVar(&inv.json, "json", "", "write the results as JSON here (large covariances go to .npy files beside it)")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	is, err := invf.settings()
	if err != nil {
		return nil, err
	}
	is.CGTol, is.CGMaxIter = set.Inverse.CGTol, set.Inverse.CGMaxIter
	set.Inverse = is
	set.LR, set.Batch, set.Sampling, set.Seed = pf.lr, pf.batch, pf.sampling, pf.seed
	if err := set.Validate(); err != nil {
		return nil, flagError(err)
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if g.Grads == "" {
		switch {
		case inv.params == "":
			return nil, usagef("--params θ.npy is required (or --grads G.npy to bring your own gradients)")
		case given["hessian"] || given["n"]:
			return nil, usagef("--hessian and --n go with --grads, not with --data")
		}
		if err := pf.spec.Validate(); err != nil {
			return nil, flagError(err)
		}
		return inv, nil
	}
	for _, f := range []string{"data", "model", "labels", "target", "subset", "divergence"} {
		if given[f] {
			return nil, usagef("--%s does not go with --grads (the gradients replace the data and the model)", f)
		}
	}
	if set.ForceGaussian && g.Hessian == "" {
		return nil, usagef("--gaussian with --grads needs --hessian H.npy")
	}
	g.Params = inv.params
	if err := g.Validate(); err != nil {
		return nil, flagError(err)
	}
	return inv, nil
}

func runScore(ctx context.Context, e *env, args []string) error {
	inv, err := parseScore(e, args)
	if err != nil {
		return err
	}
	return inv.run(e)
}

// run computes, prints and writes the invocation's report.
func (inv *scoreInvocation) run(e *env) error {
	prog := newProgress(e.stdout)
	set := inv.set
	set.Progress = recorder.Func(func(stage string, frac float64) { prog.update("score: "+stage, frac) })
	compute := inv.computeModel
	if inv.grads.Grads != "" {
		compute = inv.computeGrads
	}
	rep, out, heading, err := compute(e, &set)
	prog.done()
	if err != nil {
		return scoreErr(err, inv.pf.lr)
	}
	if inv.json != "" {
		out.InlineMaxDim = inv.inlineMaxDim
		if err := out.Write(inv.json); err != nil {
			return err
		}
	}
	rep.WriteSummary(e.stdout, heading, out.Warnings)
	if inv.json != "" {
		fmt.Fprintf(e.stdout, "wrote %s\n", inv.json)
	}
	return nil
}

// computeModel runs the model path.
func (inv *scoreInvocation) computeModel(e *env, set *score.Settings) (*score.Report, *score.Output, string, error) {
	pr, err := inv.pf.load()
	if err != nil {
		return nil, nil, "", err
	}
	theta, err := pr.ReadParams("params", inv.params)
	if err != nil {
		return nil, nil, "", err
	}
	rep, err := score.Compute(pr, theta, set)
	if nf := (*score.NonFiniteParamError)(nil); errors.As(err, &nf) {
		err = fmt.Errorf("%s: %w", inv.params, err)
	}
	if err != nil {
		return nil, nil, "", err
	}
	out := score.NewOutput(rep)
	out.Provenance = newProvenance(e, inv.pf.seed, pr)
	heading := fmt.Sprintf("%s on %s (n = %d, d = %d), θ from %s", pr.Model.Name(), pr.Data.Name, rep.N, rep.D, inv.params)
	if lm := pr.LabelMapping(); lm != "" {
		heading += "\nlabels: " + lm
	}
	return rep, out, heading, nil
}

// computeGrads runs the bring-your-own-gradients path.
func (inv *scoreInvocation) computeGrads(e *env, set *score.Settings) (*score.Report, *score.Output, string, error) {
	f := inv.grads
	g, err := score.LoadGrads(f, inv.pf.spec.WeightDecay)
	if err != nil {
		return nil, nil, "", err
	}
	rep, err := score.ComputeGrads(g, set)
	if err != nil {
		return nil, nil, "", err
	}
	m, _ := g.G.Dims()
	out := score.NewOutput(rep)
	out.Provenance = newProvenance(e, inv.pf.seed, nil)
	out.Provenance.WeightDecay = inv.pf.spec.WeightDecay
	out.Input = &score.GradsInput{Grads: f.Grads, Hessian: f.Hessian, Params: f.Params, Rows: m}
	heading := fmt.Sprintf("per-example gradients from %s (M = %d rows, N = %d, d = %d)", f.Grads, m, rep.N, rep.D)
	return rep, out, heading, nil
}

// rankDeficientHint turns a rank-deficiency error into one that names both remedies, the
// flags --damping and --inverse range; other errors pass unchanged.
func rankDeficientHint(err error) error {
	var rd *linalg.RankDeficientError
	if !errors.As(err, &rd) {
		return err
	}
	rank := fmt.Sprintf("numerical rank %d of %d", rd.Rank, rd.Dim)
	if rd.Rank < 0 {
		rank = fmt.Sprintf("numerical rank below %d", rd.Dim)
	}
	return fmt.Errorf("the noise covariance C_B is rank-deficient (%s at rcond %g): pass --damping λ (absolute, in the units of C_B) or --inverse range (pseudo-inverse on its range)", rank, rd.RCond)
}

// scoreErr turns score's errors into messages naming the command's options: a bad setting
// as its flag (a usage error), a rank-deficient C_B with its remedies, an unstable η.
func scoreErr(err error, lr float64) error {
	if fe := flagError(err); fe != err {
		return fe
	}
	if h := rankDeficientHint(err); h != err {
		return h
	}
	var ue *linalg.UnstableError
	if errors.As(err, &ue) {
		if ue.Detail != "" {
			return fmt.Errorf("SGD is unstable at --lr %g: %s", lr, ue.Detail)
		}
		return fmt.Errorf("SGD is unstable at --lr %g: the Hessian's eigenvalue λ = %.6g gives ηλ = %.4g ≥ 2; it is stable only for η < 2/λ_max = %.6g", lr, ue.Eigenvalue, lr*ue.Eigenvalue, 2/ue.LambdaMax)
	}
	return err
}
