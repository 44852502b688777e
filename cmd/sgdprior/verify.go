package main

import (
	"context"
	"fmt"
	"io"

	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/study"
	"github.com/sgdprior/sgdprior/verify"
)

func init() {
	register(&command{
		name:    "verify",
		summary: "run many SGD chains at a minimum and judge every prediction of the stationary covariance",
		run:     runVerify,
	})
}

const verifySynopsis = "<problem flags> --lr η --batch B [--params θ*.npy] [--chains K --steps T --burnin T0 --thin s] [--simulator sgd|gauss|sde|sgld] [--dt h] [--top-k k] [--damping λ | --inverse range --rcond r] [--checkpoint F] [--resume F] [--json out.json]"

// parseVerify binds verify's flags into a verify step (problem.Spec, verify.Settings, θ*'s
// file: without it verify minimises first) and validates them; it loads no data.
func parseVerify(e *env, args []string) (*study.Step, error) {
	fs := newFlagSet(e, "verify", verifySynopsis)
	spec, set := problem.DefaultSpec(), verify.DefaultSettings()
	st := &study.Step{Command: study.KindVerify, Spec: &spec, Verify: &set}
	spec.BindFlags(fs)
	set.BindFlags(fs)
	fs.StringVar(&st.Theta, "params", "", "θ* as a 1-D .npy file; without it a full-batch minimisation (L-BFGS + Newton–CG) runs first")
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
	if err := distinctOutputs(map[string]string{"json": st.JSON, "checkpoint": set.Checkpoint}); err != nil {
		return nil, err
	}
	st.Seed, st.LR, st.Batch, st.Simulator = set.Seed, set.LR, set.Batch, set.Method.String()
	return st, nil
}

func runVerify(ctx context.Context, e *env, args []string) error {
	st, err := parseVerify(e, args)
	if err != nil {
		return err
	}
	o, err := execStep(ctx, e, st, study.Env{})
	if err != nil {
		return err
	}
	printVerify(e.stdout, o)
	if st.JSON != "" {
		fmt.Fprintf(e.stdout, "wrote %s\n", st.JSON)
	}
	return nil
}

func printVerify(w io.Writer, o *study.Outcome) {
	pr, out := o.Problem, o.Verify
	fmt.Fprintf(w, "%s on %s (n = %d, d = %d): %s, η = %g, B = %d, sampling %s (κ_B = %.4g)\n",
		pr.Model.Name(), pr.Data.Name, out.N, out.D, out.Simulator, out.LR, out.Batch, out.Sampling, out.Kappa)
	conv := "converged"
	if !out.Converged {
		conv = "NOT converged"
	}
	fmt.Fprintf(w, "%d chains × %d kept samples (starts %s); basis %s (%d directions); %s: max R̂ %.4f (limit %.4g), min ESS %.0f (limit %.0f)\n",
		out.Chains, out.Samples/out.Chains, out.Starts, out.Basis, out.BasisDim, conv, float64(out.RHatMax), out.Convergence.RHatLimit, float64(out.ESSMin), out.Convergence.ESSLimit)
	if out.Convergence.Suggestion != "" {
		fmt.Fprintf(w, "to converge: %s\n", out.Convergence.Suggestion)
	}
	fmt.Fprintf(w, "%-14s %10s %10s %22s %10s  %s\n", "prediction", "rel. Frob.", "KL", "rel. error [bounds]", "detectable", "verdict")
	cmp := out.Comparisons
	for _, c := range cmp {
		eff, det := "", ""
		if t := c.CovTest; t != nil {
			eff = fmt.Sprintf("%.3g [%.3g, %.3g]", t.RelError, t.CILow, t.CIHigh)
			det = fmt.Sprintf("%.3g", t.Detectable)
		}
		fmt.Fprintf(w, "%-14s %10.4g %10.4g %22s %10s  %s: %s\n", c.Name, c.RelFrobenius, c.KL, eff, det, c.Verdict, c.Reason)
	}
	for _, c := range cmp {
		if c.Test != "" {
			fmt.Fprintf(w, "test: %s, α = %g\n", c.Test, c.Alpha)
			break
		}
	}
	for _, x := range out.Warnings {
		fmt.Fprintf(w, "warning: %s\n", x)
	}
}
