package main

import (
	"context"
	"fmt"
	"io"

	"github.com/sgdprior/sgdprior/escape"
	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/study"
)

func init() {
	register(&command{
		name:    "escape",
		summary: "from a sharp minimum, compare how SGD, Gaussian-noise SGD, isotropic and top-Hessian noise escape (Kaplan–Meier, censored-exponential mean, where they land)",
		run:     runEscape,
	})
}

const escapeSynopsis = "<problem flags> --lr η --batch B [--params θ*.npy] [--chains K --steps T --check-every s --delta δ --top-k k --landing m] [--json out.json]"

// parseEscape binds escape's flags into an escape step (problem.Spec, escape.Settings,
// θ*'s file: without it escape minimises first) and validates them; it loads no data.
func parseEscape(e *env, args []string) (*study.Step, error) {
	fs := newFlagSet(e, "escape", escapeSynopsis)
	spec, set := problem.DefaultSpec(), escape.DefaultSettings()
	st := &study.Step{Command: study.KindEscape, Spec: &spec, Escape: &set}
	spec.BindFlags(fs)
	set.BindFlags(fs)
	fs.StringVar(&st.Theta, "params", "", "θ* as a 1-D .npy file; without it a full-batch minimisation (L-BFGS + Newton–CG) from --seed's initialisation runs first")
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
	st.Seed, st.LR, st.Batch = set.Seed, set.LR, set.Batch
	return st, nil
}

func runEscape(ctx context.Context, e *env, args []string) error {
	st, err := parseEscape(e, args)
	if err != nil {
		return err
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
