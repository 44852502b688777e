package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"gonum.org/v1/gonum/floats"

	"github.com/sgdprior/sgdprior/data"
	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/sim"
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

// trainSummary is the JSON written by train --json.
type trainSummary struct {
	Method     string     `json:"method"`
	Loss       jsonFloat  `json:"loss"`
	NLL        jsonFloat  `json:"nll"`
	GradNorm   jsonFloat  `json:"grad_norm"`
	Accuracy   *float64   `json:"accuracy,omitempty"`
	Steps      int        `json:"steps,omitempty"`
	Iterations int        `json:"iterations,omitempty"`
	Converged  *bool      `json:"converged,omitempty"`
	LR         float64    `json:"lr,omitempty"`
	Batch      int        `json:"batch,omitempty"`
	Sampling   string     `json:"sampling,omitempty"`
	D          int        `json:"d"`
	Params     string     `json:"params"`
	Provenance provenance `json:"provenance"`
	Warnings   []string   `json:"warnings"`
}

func runTrain(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "train", trainSynopsis)
	var pf problemFlags
	pf.register(fs)
	method := fs.String("method", "sgd", "sgd (iterates of SGD) or lbfgs (exact full-batch minimum θ*)")
	steps := fs.Int("steps", 0, "SGD steps (or --epochs)")
	epochs := fs.Float64("epochs", 0, "SGD epochs: steps = epochs·N/B")
	gtol := fs.Float64("gtol", 1e-10, "lbfgs: stop when ‖∇L‖ ≤ gtol")
	out := fs.String("out", "", "write the parameter vector here (1-D float64 .npy)")
	initPath := fs.String("init", "", "start from this parameter vector (.npy); default: PyTorch's Linear initialisation from --seed")
	jsonPath := fs.String("json", "", "write a JSON summary here")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out is required")
	}
	switch *method {
	case "sgd":
		if err := pf.checkLRBatch(); err != nil {
			return err
		}
		if (*steps > 0) == (*epochs > 0) {
			return usagef("--method sgd needs exactly one of --steps T > 0 and --epochs E > 0")
		}
	case "lbfgs":
		if !(*gtol > 0) {
			return usagef("--gtol must be > 0, not %v", *gtol)
		}
	default:
		return usagef("--method must be sgd or lbfgs, not %q", *method)
	}
	pr, err := pf.load()
	if err != nil {
		return err
	}
	d := pr.Model.NumParams()
	theta := make([]float64, d)
	if *initPath != "" {
		v, err := pr.ReadParams("init", *initPath)
		if err != nil {
			return flagError(err)
		}
		copy(theta, v)
	} else {
		model.InitParams(theta, pr.Model, rand.New(rand.NewPCG(pf.seed, 0x5eed)))
	}
	obj := model.Objective{Model: pr.Model, WeightDecay: pf.spec.WeightDecay}
	sum := trainSummary{Method: *method, D: d, Params: *out, Provenance: newProvenance(e, pf.seed, pr), Warnings: []string{}}
	prog := newProgress(e.stdout)
	switch *method {
	case "lbfgs":
		res, err := train.Minimize(obj, pr.Batch, theta, train.Settings{
			GradTol: *gtol,
			Progress: func(it int, loss, gn float64) {
				prog.update(fmt.Sprintf("lbfgs iteration %d  loss %.6g  ‖∇L‖ %.3g", it, loss, gn), -1)
			},
		})
		prog.done()
		if err != nil {
			return err
		}
		sum.Iterations = res.Iterations + res.NewtonIter
		conv := res.Converged
		sum.Converged = &conv
		if !conv {
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("‖∇L‖ = %.3g did not reach --gtol %.3g", res.GradNorm, *gtol))
		}
	case "sgd":
		if err := flagError(pr.CheckBatch(pf.batch)); err != nil {
			return err
		}
		samp := pf.sampling
		T := *steps
		if *epochs > 0 {
			T = int(math.Ceil(*epochs * float64(pr.Data.Len()) / float64(pf.batch)))
		}
		err := train.SGD(ctx, sim.NewModelProblem(pr.Model, pr.Batch, pf.spec.WeightDecay), theta, train.SGDSettings{
			LR: pf.lr, Batch: pf.batch, Sampling: samp, Steps: T, Seed: pf.seed,
			Progress: func(step int) {
				prog.update(fmt.Sprintf("sgd step %d/%d", step, T), float64(step)/float64(T))
			},
		})
		prog.done()
		if err != nil {
			return err
		}
		sum.Steps, sum.LR, sum.Batch, sum.Sampling = T, pf.lr, pf.batch, pf.sampling.String()
	}
	grad := make([]float64, d)
	loss := obj.Loss(grad, theta, pr.Batch)
	nll := pr.Model.Loss(nil, theta, pr.Batch)
	gn := floats.Norm(grad, 2)
	sum.Loss, sum.NLL, sum.GradNorm = jsonFloat(loss), jsonFloat(nll), jsonFloat(gn)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return fmt.Errorf("the objective is %v after training: lower --lr (SGD is unstable when η ≥ 2/λ_max)", loss)
	}
	if err := data.WriteVector(*out, theta); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s on %s (n = %d, d = %d), %s\n", pr.Model.Name(), pr.Data.Name, pr.Data.Len(), d, *method)
	if lm := pr.LabelMapping(); lm != "" {
		fmt.Fprintf(e.stdout, "labels: %s\n", lm)
	}
	fmt.Fprintf(e.stdout, "loss %.10g (nll %.10g, weight decay %g)  ‖∇L‖ %.3g\n", loss, nll, pf.spec.WeightDecay, gn)
	if len(pr.Data.Classes) > 0 {
		acc := model.Accuracy(pr.Model, theta, pr.Batch)
		sum.Accuracy = &acc
		fmt.Fprintf(e.stdout, "training accuracy %.4f\n", acc)
	}
	for _, w := range sum.Warnings {
		fmt.Fprintf(e.stdout, "warning: %s\n", w)
	}
	fmt.Fprintf(e.stdout, "wrote %s\n", *out)
	if *jsonPath != "" {
		if err := writeJSON(*jsonPath, sum); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s\n", *jsonPath)
	}
	return nil
}

// splitList splits a comma-separated flag value.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
