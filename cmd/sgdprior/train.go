package main

import (
	"context"
	"fmt"
	"io"

	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/study"
	"github.com/sgdprior/sgdprior/train"
)

func init() {
	register(&command{
		name:    "train",
		summary: "train a model by SGD or find the exact full-batch minimum (--method lbfgs)",
		run:     runTrain,
	})
}

const trainSynopsis = "--data D --model M (--method sgd --lr η --batch B (--steps T | --epochs E) | --method lbfgs) --out params.npy [flags]"

// parseTrain binds the flags into a train step (problem.Spec, train.RunSettings, the files
// read and written) and validates them; it loads no data.
func parseTrain(e *env, args []string) (*study.Step, error) {
	fs := newFlagSet(e, "train", trainSynopsis)
	spec, set := problem.DefaultSpec(), train.DefaultRunSettings()
	st := &study.Step{Command: study.KindTrain, Spec: &spec, Train: &set}
	spec.BindFlags(fs)
	set.BindFlags(fs)
	fs.StringVar(&st.Theta, "out", "", "write the parameter vector here (1-D float64 .npy)")
	fs.StringVar(&st.Init, "init", "", "start from this parameter vector (.npy); default: PyTorch's Linear initialisation from --seed")
	fs.StringVar(&st.JSON, "json", "", "write a JSON summary here")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if st.Theta == "" {
		return nil, usagef("--out is required")
	}
	if err := distinctOutputs(map[string]string{"out": st.Theta, "json": st.JSON}); err != nil {
		return nil, err
	}
	if err := set.Validate(); err != nil {
		return nil, flagError(err)
	}
	st.Seed = set.Seed
	return st, nil
}

func runTrain(ctx context.Context, e *env, args []string) error {
	st, err := parseTrain(e, args)
	if err != nil {
		return err
	}
	o, err := execStep(ctx, e, st, study.Env{})
	if err != nil {
		return err
	}
	printTrain(e.stdout, st, o)
	return nil
}

func printTrain(w io.Writer, st *study.Step, o *study.Outcome) {
	pr, out := o.Problem, o.Train
	fmt.Fprintf(w, "%s on %s (n = %d, d = %d), %s\n", pr.Model.Name(), pr.Data.Name, pr.Data.Len(), out.D, st.Train.Method)
	if lm := pr.LabelMapping(); lm != "" {
		fmt.Fprintf(w, "labels: %s\n", lm)
	}
	fmt.Fprintf(w, "loss %.10g (nll %.10g, weight decay %g)  ‖∇L‖ %.3g\n", float64(out.Loss), float64(out.NLL), pr.Spec.WeightDecay, float64(out.GradNorm))
	if out.Accuracy != nil {
		fmt.Fprintf(w, "training accuracy %.4f\n", float64(*out.Accuracy))
	}
	if pr.HasTest() {
		fmt.Fprintf(w, "test set %s (n = %d): loss (nll) %.6g", pr.Test.Name, out.TestN, float64(out.TestLoss))
		if out.TestAccuracy.OK() {
			fmt.Fprintf(w, ", accuracy %.4f", float64(out.TestAccuracy))
		}
		fmt.Fprintln(w)
	}
	for _, x := range out.Warnings {
		fmt.Fprintf(w, "warning: %s\n", x)
	}
	fmt.Fprintf(w, "wrote %s\n", st.Theta)
	if st.JSON != "" {
		fmt.Fprintf(w, "wrote %s\n", st.JSON)
	}
}
