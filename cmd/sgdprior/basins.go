package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/sgdprior/sgdprior/basins"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/study"
)

func init() {
	register(&command{
		name:    "basins",
		summary: "which minima SGD reaches: a sweep over η × B × seeds (and GD), each descended to its basin's minimum, sharpness, barriers, generalization",
		run:     runBasins,
	})
}

const basinsSynopsis = "--data D --model M [--weight-decay λ] [--lr 0.05,0.2 --batch 16,64 --seeds 1,2,3,4,5] [--epochs E] [--gd --gd-steps T] [--grad-tol g] [--top-k k --exact-dim d --probes m] [--barrier-points n] [--bootstrap R --seed s] [--json out.json]"

// parseBasins binds basins' flags into a basins step (problem.Spec, basins.Settings) and
// validates them; it loads no data.
func parseBasins(e *env, args []string) (*study.Step, error) {
	fs := newFlagSet(e, "basins", basinsSynopsis)
	spec, set := problem.DefaultSpec(), basins.DefaultSettings()
	st := &study.Step{Command: study.KindBasins, Spec: &spec, Basins: &set}
	spec.BindFlags(fs)
	set.BindFlags(fs)
	fs.StringVar(&st.JSON, "json", "", "write the results as JSON here")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if err := set.Validate(); err != nil {
		return nil, flagError(err)
	}
	if err := spec.Validate(); err != nil {
		return nil, flagError(err)
	}
	st.Seed = set.Seed
	return st, nil
}

func runBasins(ctx context.Context, e *env, args []string) error {
	st, err := parseBasins(e, args)
	if err != nil {
		return err
	}
	o, err := execStep(ctx, e, st, study.Env{})
	if err != nil {
		return err
	}
	printBasins(e.stdout, o.Basins)
	if st.JSON != "" {
		fmt.Fprintf(e.stdout, "wrote %s\n", st.JSON)
	}
	return nil
}

func printBasins(w io.Writer, o *basins.Output) {
	fmt.Fprintf(w, "%s on %s (n = %d, d = %d, weight decay %g): %d runs, descended to ‖∇L‖ ≤ %g; tr H %s\n",
		o.Model, o.Data, o.N, o.D, o.WeightDecay, len(o.Runs), o.GradTol, o.TraceMethod)
	fmt.Fprintf(w, "%-22s %5s %10s %10s %10s %10s %10s %10s %10s\n", "cell", "seed", "λ_max(θ_T)", "λ_max", "2/η", "tr H", "train loss", "test loss", "test acc")
	for _, r := range o.Runs {
		cell := fmt.Sprintf("sgd η=%g B=%d", float64(r.LR), r.Batch)
		if r.GD {
			cell = fmt.Sprintf("gd η=%g", float64(r.LR))
		}
		fmt.Fprintf(w, "%-22s %5d %10.4g %10.4g %10.4g %10.4g %10.4g %10s %10s\n", cell, r.Seed, float64(r.IterateLambdaMax), float64(r.LambdaMax), float64(r.TwoOverLR),
			float64(r.TraceH), float64(r.TrainLoss), fmtNum(r.TestLoss), fmtNum(r.TestAcc))
	}
	fmt.Fprintln(w, "sharpness against η/B (SGD, mean ± SE over seeds; λ_max at the minimum, and at the last iterate θ_T):")
	for _, b := range o.Summary.ByRatio {
		fmt.Fprintf(w, "  η/B = %-10.4g λ_max = %.4g ± %.2g, at θ_T %.4g ± %.2g  (%s)\n", float64(b.Ratio), float64(b.LambdaMaxMean), float64(b.LambdaMaxStderr),
			float64(b.IterateLambdaMaxMean), float64(b.IterateLambdaMaxStderr), strings.Join(b.Cells, "; "))
	}
	for _, c := range o.Summary.EqualRatio {
		fmt.Fprintf(w, "equal η/B: %s − %s: Δ%s = %.3g [%.3g, %.3g]: %s\n", c.A, c.B, c.Quantity, float64(c.MeanDiff), float64(c.CILow), float64(c.CIHigh), c.Verdict)
	}
	for _, c := range o.Summary.SGDvsGD {
		fmt.Fprintf(w, "SGD vs GD: %s − %s: Δ%s = %.3g [%.3g, %.3g]: %s\n", c.A, c.B, c.Quantity, float64(c.MeanDiff), float64(c.CILow), float64(c.CIHigh), c.Verdict)
	}
	rc := o.Summary.SharpnessTestErrorRankCorr
	fmt.Fprintf(w, "Spearman ρ(λ_max, %s) = %.3g, %.0f%% bootstrap CI over seeds [%.3g, %.3g]\n", rc.Target, float64(rc.Rho), 100*rc.Level, float64(rc.CILow), float64(rc.CIHigh))
	mx := 0.0
	for _, b := range o.Summary.BarrierPairs {
		mx = max(mx, float64(b.Max))
	}
	fmt.Fprintf(w, "straight-line barriers between minima of the same seed: largest %.3g over %d pairs\n", mx, len(o.Barriers))
	for _, x := range o.Warnings {
		fmt.Fprintf(w, "warning: %s\n", x)
	}
}

func fmtNum(f basins.Float) string {
	if !f.OK() {
		return "—"
	}
	return fmt.Sprintf("%.4g", float64(f))
}
