package main

import (
	"context"
	"fmt"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/problem"
	rec "github.com/sgdprior/sgdprior/progress"
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

// trainInvocation is one `sgdprior train` command: the problem, the training settings and
// the files it reads and writes.
type trainInvocation struct {
	spec     problem.Spec
	settings train.RunSettings
	init     string // initial parameters (.npy); "" for model.InitParams from the seed
	out      string // the parameters written
	json     string // the summary written; "" for none
}

func parseTrain(e *env, args []string) (*trainInvocation, error) {
	fs := newFlagSet(e, "train", trainSynopsis)
	inv := &trainInvocation{settings: train.DefaultRunSettings()}
	s := &inv.settings
	inv.spec = problem.DefaultSpec()
	inv.spec.BindFlags(fs)
	s.BindFlags(fs)
	fs.StringVar(&inv.out, "out", "", "write the parameter vector here (1-D float64 .npy)")
	fs.StringVar(&inv.init, "init", "", "start from this parameter vector (.npy); default: PyTorch's Linear initialisation from --seed")
	fs.StringVar(&inv.json, "json", "", "write a JSON summary here")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if inv.out == "" {
		return nil, usagef("--out is required")
	}
	if err := s.Validate(); err != nil {
		return nil, flagError(err)
	}
	return inv, nil
}

func runTrain(ctx context.Context, e *env, args []string) error {
	inv, err := parseTrain(e, args)
	if err != nil {
		return err
	}
	pr, err := loadProblem(inv.spec)
	if err != nil {
		return err
	}
	var init []float64
	if inv.init != "" {
		if init, err = pr.ReadParams("init", inv.init); err != nil {
			return flagError(err)
		}
	}
	s := inv.settings
	prog := newProgress(e.stdout)
	s.Progress = rec.Func(prog.update)
	theta, out, err := train.Run(ctx, pr, init, s)
	prog.done()
	if err != nil {
		return flagError(err)
	}
	out.Params, out.Provenance = inv.out, newProvenance(e, s.Seed, pr)
	if err := data.WriteVector(inv.out, theta); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s on %s (n = %d, d = %d), %s\n", pr.Model.Name(), pr.Data.Name, pr.Data.Len(), out.D, s.Method)
	if lm := pr.LabelMapping(); lm != "" {
		fmt.Fprintf(e.stdout, "labels: %s\n", lm)
	}
	fmt.Fprintf(e.stdout, "loss %.10g (nll %.10g, weight decay %g)  ‖∇L‖ %.3g\n", float64(out.Loss), float64(out.NLL), pr.Spec.WeightDecay, float64(out.GradNorm))
	if out.Accuracy != nil {
		fmt.Fprintf(e.stdout, "training accuracy %.4f\n", float64(*out.Accuracy))
	}
	for _, w := range out.Warnings {
		fmt.Fprintf(e.stdout, "warning: %s\n", w)
	}
	fmt.Fprintf(e.stdout, "wrote %s\n", inv.out)
	if inv.json != "" {
		if err := out.Write(inv.json); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s\n", inv.json)
	}
	return nil
}
