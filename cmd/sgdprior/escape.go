package main

import (
	"context"
	"fmt"
	"io"

	"github.com/sgdprior/sgdprior/escape"
	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/landscape"
	"github.com/sgdprior/sgdprior/problem"
	recorder "github.com/sgdprior/sgdprior/progress"
	"github.com/sgdprior/sgdprior/study"
)

func init() {
	register(&command{
		name:    "escape",
		summary: "from a sharp minimum, compare how SGD, Gaussian-noise SGD, isotropic and top-Hessian noise escape (Kaplan–Meier, censored-exponential mean, where they land)",
		run:     runEscape,
	})
}

const escapeSynopsis = "<problem flags> --lr η --batch B [--params θ*.npy] [--chains K --steps T --check-every s --delta δ --top-k k --landing m] [--law-lr η₁,η₂ --law-batch B₁,B₂] [--json out.json]"

// lawFlags are the grid of Xie et al.'s law: when --law-lr is given, escape runs the grid
// (SGD chains only, escape.Law) instead of the four-noise comparison.
type lawFlags struct {
	lrs     landscape.LRList
	batches landscape.BatchList
}

// parseEscape binds escape's flags into an escape step (problem.Spec, escape.Settings,
// θ*'s file: without it escape minimises first) and validates them; it loads no data.
func parseEscape(e *env, args []string) (*study.Step, error) {
	st, _, err := parseEscapeLaw(e, args)
	return st, err
}

// parseEscapeLaw is parseEscape that also returns the law's grid (empty without --law-lr);
// with a grid, --lr and --batch default to its first η and B.
func parseEscapeLaw(e *env, args []string) (*study.Step, *lawFlags, error) {
	fs := newFlagSet(e, "escape", escapeSynopsis)
	spec, set := problem.DefaultSpec(), escape.DefaultSettings()
	st := &study.Step{Command: study.KindEscape, Spec: &spec, Escape: &set}
	spec.BindFlags(fs)
	set.BindFlags(fs)
	fs.StringVar(&st.Theta, "params", "", "θ* as a 1-D .npy file; without it a full-batch minimisation (L-BFGS + Newton–CG) from --seed's initialisation runs first")
	fs.StringVar(&st.JSON, "json", "", "write the results as JSON here")
	law := &lawFlags{}
	fs.Var(&law.lrs, "law-lr", "comma-separated η of Xie et al.'s escape-law grid: run SGD chains over --law-lr × --law-batch and fit log τ = a + b·ΔL·B/(η λ_max) instead of comparing noises")
	fs.Var(&law.batches, "law-batch", "comma-separated B of the escape-law grid (with --law-lr)")
	if err := parseFlags(fs, args); err != nil {
		return nil, nil, err
	}
	if (len(law.lrs) == 0) != (len(law.batches) == 0) {
		key := "law-lr"
		if len(law.batches) == 0 {
			key = "law-batch"
		}
		return nil, nil, flagError(field.Errorf(key, "is needed with --law-lr and --law-batch: give both"))
	}
	if len(law.lrs) > 0 {
		if set.LR == 0 {
			set.LR = law.lrs[0]
		}
		if set.Batch == 0 {
			set.Batch = law.batches[0]
		}
	}
	if err := set.Validate(); err != nil {
		return nil, nil, flagError(err)
	}
	if err := spec.Validate(); err != nil {
		return nil, nil, flagError(err)
	}
	st.Seed, st.LR, st.Batch = set.Seed, set.LR, set.Batch
	return st, law, nil
}

func runEscape(ctx context.Context, e *env, args []string) error {
	st, law, err := parseEscapeLaw(e, args)
	if err != nil {
		return err
	}
	if len(law.lrs) > 0 {
		return runEscapeLaw(ctx, e, st, law)
	}
	o, err := execStep(ctx, e, st, study.Env{})
	if err != nil {
		return err
	}
	printEscape(e.stdout, o.Problem, o.Escape)
	if st.JSON != "" {
		fmt.Fprintf(e.stdout, "wrote %s\n", st.JSON)
	}
	return nil
}

func printEscape(w io.Writer, pr *problem.Problem, o *escape.Output) {
	s := o.Settings
	fmt.Fprintf(w, "%s on %s (n = %d, d = %d): η = %g, B = %d, sampling %s (κ_B = %.4g); θ* from %s\n",
		pr.Model.Name(), pr.Data.Name, o.N, o.D, s.LR, s.Batch, s.Sampling, s.Kappa, s.Minimum)
	fmt.Fprintf(w, "L(θ*) = %.6g, ‖∇L‖ = %.3g, λ_max = %.6g (ηλ_max = %.4g), tr C_B = %.4g; escape when L > %.6g (δ = %g), checked every %d steps, horizon %d\n",
		float64(o.Loss), float64(o.GradNorm), float64(o.LambdaMax), float64(o.Stability), float64(o.TraceCB), float64(o.Threshold), s.Delta, s.CheckEvery, s.Steps)
	fmt.Fprintf(w, "%-12s %14s %10s %22s %22s\n", "noise", "escaped", "median", "mean (cens. exp.)", "landing λ_max / test err")
	for _, nz := range escape.Noises {
		r := o.Noises.Get(nz)
		fmt.Fprintf(w, "%-12s %5d/%-3d %4.2f±%.2f %10s %22s %22s\n", nz, r.Escaped, s.Chains, float64(r.EscapedFraction), float64(r.EscapedFractionStderr),
			escapeNum(r.MedianEscapeStep, "%.0f"), escapePM(r.MeanEscapeStep, r.MeanEscapeStepStderr), escapeNum(r.Landing.LambdaMax, "%.4g")+" / "+escapeNum(r.Landing.TestError, "%.3f"))
	}
	for _, x := range o.Warnings {
		fmt.Fprintf(w, "warning: %s\n", x)
	}
}

func escapeNum(x jsonnum.Float, format string) string {
	if v := float64(x); v == v && v-v == 0 {
		return fmt.Sprintf(format, v)
	}
	return "–"
}

func escapePM(x, se jsonnum.Float) string {
	if v := float64(x); !(v == v && v-v == 0) {
		return "–"
	}
	return fmt.Sprintf("%.4g ± %.2g", float64(x), float64(se))
}

// runEscapeLaw runs escape.Law over the grid and prints and writes its output.
func runEscapeLaw(ctx context.Context, e *env, st *study.Step, law *lawFlags) error {
	pr, err := problem.Load(*st.Spec)
	if err != nil {
		return commandError(err)
	}
	var theta []float64
	if st.Theta != "" {
		if theta, err = pr.ReadParams("params", st.Theta); err != nil {
			return commandError(err)
		}
	}
	set := *st.Escape
	prog := newProgress(e.stdout)
	set.Progress = recorder.Func(prog.update)
	o, err := escape.Law(ctx, pr, theta, &set, law.lrs, law.batches)
	prog.done()
	if err != nil {
		return commandError(err)
	}
	o.Provenance = problem.NewProvenance(version, e.cmdline, set.Seed, pr)
	printEscapeLaw(e.stdout, pr, o)
	if st.JSON != "" {
		if err := o.Write(st.JSON); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s\n", st.JSON)
	}
	return nil
}

func printEscapeLaw(w io.Writer, pr *problem.Problem, o *escape.LawOutput) {
	l := o.Law
	fmt.Fprintf(w, "%s on %s (n = %d, d = %d): Xie et al.'s escape law, SGD chains (%s sampling), %d per cell, horizon %d, checked every %d; θ* from %s\n",
		pr.Model.Name(), pr.Data.Name, o.N, o.D, o.Sampling, o.Chains, o.Steps, o.CheckEvery, o.Minimum)
	fmt.Fprintf(w, "L(θ*) = %.6g; x = ΔL·B/(η h_e) with ΔL = δ = %g, h_e = λ_max(θ*) = %.6g, κ_B = 1/B; τ in SDE time η·steps\n", float64(o.Loss), l.DeltaL, l.He)
	fmt.Fprintf(w, "%10s %6s %10s %8s %12s %12s\n", "η", "B", "x", "escaped", "exposure", "mean step")
	for _, c := range l.Cells {
		fmt.Fprintf(w, "%10g %6d %10.4g %8d %12.0f %12s\n", c.LR, c.Batch, c.X, c.Events, c.Exposure, escapeNum(c.MeanEscapeStep, "%.4g"))
	}
	fmt.Fprintf(w, "log τ = a + b·x (censored-exponential MLE): a = %s, b = %s, 95%% CI [%s, %s]\n",
		escapePM(l.Intercept, l.InterceptSE), escapePM(l.Slope, l.SlopeSE), escapeNum(l.SlopeCILow, "%.4g"), escapeNum(l.SlopeCIHigh, "%.4g"))
	fmt.Fprintf(w, "verdict: %s\n", l.Verdict)
	for _, x := range o.Warnings {
		fmt.Fprintf(w, "warning: %s\n", x)
	}
}
