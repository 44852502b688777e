package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/problem"
	recorder "github.com/sgdprior/sgdprior/progress"
	"github.com/sgdprior/sgdprior/score"
	"github.com/sgdprior/sgdprior/stationary"
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
	// spec is the problem (unused with gradients but for its weight decay).
	spec problem.Spec
	set  score.Settings
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

// parseScore binds the flags into the invocation and validates them; it reads no file.
func parseScore(e *env, args []string) (*scoreInvocation, error) {
	fs := newFlagSet(e, "score", scoreSynopsis)
	inv := &scoreInvocation{set: score.DefaultSettings(), inlineMaxDim: score.DefaultInlineMaxDim}
	set, g := &inv.set, &inv.grads
	inv.spec = problem.DefaultSpec()
	inv.spec.BindFlags(fs)
	fs.StringVar(&inv.params, "params", "", "θ as a 1-D .npy file (PyTorch layout); required with --data")
	g.BindFlags(fs)
	set.BindFlags(fs)
	fs.StringVar(&inv.json, "json", "", "write the results as JSON here (large covariances go to .npy files beside it)")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
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
		if err := inv.spec.Validate(); err != nil {
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
		return scoreErr(err, inv.set.LR)
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
	pr, err := loadProblem(inv.spec)
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
	out.Provenance = newProvenance(e, inv.set.Seed, pr)
	heading := fmt.Sprintf("%s on %s (n = %d, d = %d), θ from %s", pr.Model.Name(), pr.Data.Name, rep.N, rep.D, inv.params)
	if lm := pr.LabelMapping(); lm != "" {
		heading += "\nlabels: " + lm
	}
	return rep, out, heading, nil
}

// computeGrads runs the bring-your-own-gradients path.
func (inv *scoreInvocation) computeGrads(e *env, set *score.Settings) (*score.Report, *score.Output, string, error) {
	f := inv.grads
	g, err := score.LoadGrads(f, inv.spec.WeightDecay)
	if err != nil {
		return nil, nil, "", err
	}
	rep, err := score.ComputeGrads(g, set)
	if err != nil {
		return nil, nil, "", err
	}
	m, _ := g.G.Dims()
	out := score.NewOutput(rep)
	out.Provenance = newProvenance(e, inv.set.Seed, nil)
	out.Provenance.WeightDecay = inv.spec.WeightDecay
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
	var ue *stationary.UnstableError
	if errors.As(err, &ue) {
		if ue.Detail != "" {
			return fmt.Errorf("SGD is unstable at --lr %g: %s", lr, ue.Detail)
		}
		return fmt.Errorf("SGD is unstable at --lr %g: the Hessian's eigenvalue λ = %.6g gives ηλ = %.4g ≥ 2; it is stable only for η < 2/λ_max = %.6g", lr, ue.Eigenvalue, lr*ue.Eigenvalue, 2/ue.LambdaMax)
	}
	return err
}
