package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/score"
	"github.com/sgdprior/sgdprior/study"
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

// parseScore binds the flags into a score step (a problem.Spec and θ's file, or the files
// of bring-your-own gradients; score.Settings) and validates them; it reads no file.
func parseScore(e *env, args []string) (*study.Step, error) {
	fs := newFlagSet(e, "score", scoreSynopsis)
	spec, set, g := problem.DefaultSpec(), score.DefaultSettings(), score.GradsFiles{}
	st := &study.Step{Command: study.KindScore, Spec: &spec, Score: &set}
	spec.BindFlags(fs)
	fs.StringVar(&st.Theta, "params", "", "θ as a 1-D .npy file (PyTorch layout); required with --data")
	g.BindFlags(fs)
	set.BindFlags(fs)
	fs.StringVar(&st.JSON, "json", "", "write the results as JSON here (large covariances go to .npy files beside it)")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if err := set.Validate(); err != nil {
		return nil, flagError(err)
	}
	st.Seed, st.LR, st.Batch = set.Seed, set.LR, set.Batch
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if g.Grads == "" {
		switch {
		case st.Theta == "":
			return nil, usagef("--params θ.npy is required (or --grads G.npy to bring your own gradients)")
		case given["hessian"] || given["n"]:
			return nil, usagef("--hessian and --n go with --grads, not with --data")
		}
		if err := spec.Validate(); err != nil {
			return nil, flagError(err)
		}
		return st, nil
	}
	for _, f := range []string{"data", "model", "labels", "target", "subset", "divergence"} {
		if given[f] {
			return nil, usagef("--%s does not go with --grads (the gradients replace the data and the model)", f)
		}
	}
	if set.ForceGaussian && g.Hessian == "" {
		return nil, usagef("--gaussian with --grads needs --hessian H.npy")
	}
	g.Params, st.Theta = st.Theta, ""
	if err := g.Validate(); err != nil {
		return nil, flagError(err)
	}
	st.Spec, st.Grads, st.GradsWeightDecay = nil, &g, spec.WeightDecay
	return st, nil
}

func runScore(ctx context.Context, e *env, args []string) error {
	st, err := parseScore(e, args)
	if err != nil {
		return err
	}
	return runScoreStep(ctx, e, st, study.Env{})
}

// runScoreStep runs a parsed score step, prints its summary and writes its output.
func runScoreStep(ctx context.Context, e *env, st *study.Step, env study.Env) error {
	o, err := execStep(ctx, e, st, env)
	if err != nil {
		return err
	}
	printScore(e.stdout, st, o)
	if st.JSON != "" {
		fmt.Fprintf(e.stdout, "wrote %s\n", st.JSON)
	}
	return nil
}

// printScore writes score's readable summary.
func printScore(w io.Writer, st *study.Step, o *study.Outcome) {
	var heading string
	if pr := o.Problem; pr != nil {
		heading = fmt.Sprintf("%s on %s (n = %d, d = %d), θ from %s", pr.Model.Name(), pr.Data.Name, o.ScoreReport.N, o.ScoreReport.D, st.Theta)
		if lm := pr.LabelMapping(); lm != "" {
			heading += "\nlabels: " + lm
		}
	} else {
		heading = fmt.Sprintf("per-example gradients from %s (M = %d rows, N = %d, d = %d)", st.Grads.Grads, o.Score.Input.Rows, o.ScoreReport.N, o.ScoreReport.D)
	}
	o.ScoreReport.WriteSummary(w, heading, o.Score.Warnings)
}
