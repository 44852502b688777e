package main

import (
	"context"
	"fmt"

	"github.com/sgdprior/sgdprior/problem"
	progressrec "github.com/sgdprior/sgdprior/progress"
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

// verifyInvocation is one verify run: the problem, the settings, θ*'s file (empty: minimise
// first) and the JSON output file (empty: none).
type verifyInvocation struct {
	spec     problem.Spec
	settings verify.Settings
	params   string
	json     string
}

// parseVerify binds verify's flags into a problem.Spec and a verify.Settings and validates
// them; it loads no data.
func parseVerify(e *env, args []string) (*verifyInvocation, error) {
	fs := newFlagSet(e, "verify", verifySynopsis)
	inv := &verifyInvocation{spec: problem.DefaultSpec(), settings: verify.DefaultSettings()}
	set := &inv.settings
	inv.spec.BindFlags(fs)
	set.BindFlags(fs)
	fs.StringVar(&inv.params, "params", "", "θ* as a 1-D .npy file; without it a full-batch minimisation (L-BFGS + Newton–CG) runs first")
	fs.StringVar(&inv.json, "json", "", "write the results as JSON here")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if err := set.Validate(); err != nil {
		return nil, flagError(err)
	}
	if err := inv.spec.Validate(); err != nil {
		return nil, flagError(err)
	}
	return inv, nil
}

func runVerify(ctx context.Context, e *env, args []string) error {
	inv, err := parseVerify(e, args)
	if err != nil {
		return err
	}
	pr, err := problem.Load(inv.spec)
	if err != nil {
		return flagError(err)
	}
	if err := flagError(pr.CheckBatch(inv.settings.Batch)); err != nil {
		return err
	}
	var theta []float64
	if inv.params != "" {
		if theta, err = pr.ReadParams("params", inv.params); err != nil {
			return flagError(err)
		}
	}
	set := inv.settings
	prog := newProgress(e.stdout)
	set.Progress = progressrec.Func(prog.update)
	rep, err := verify.Run(ctx, pr, theta, &set)
	prog.done()
	if err != nil {
		return rankDeficientHint(flagError(err))
	}
	rep.Provenance = newProvenance(e, set.Seed, pr)
	printVerify(e, pr, rep)
	if inv.json != "" {
		if err := rep.Write(inv.json); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s\n", inv.json)
	}
	return nil
}

func printVerify(e *env, pr *problem.Problem, out *verify.Report) {
	fmt.Fprintf(e.stdout, "%s on %s (n = %d, d = %d): %s, η = %g, B = %d, sampling %s (κ_B = %.4g)\n",
		pr.Model.Name(), pr.Data.Name, out.N, out.D, out.Simulator, out.LR, out.Batch, out.Sampling, out.Kappa)
	fmt.Fprintf(e.stdout, "%d chains × %d kept samples; basis %s (%d directions); max R̂ %.4f, min ESS %.0f\n",
		out.Chains, out.Samples/out.Chains, out.Basis, out.BasisDim, float64(out.RHatMax), float64(out.ESSMin))
	fmt.Fprintf(e.stdout, "%-14s %12s %10s %12s %9s  %s\n", "prediction", "rel. Frob.", "KL", "score err.", "max|t|", "verdict")
	cmp := out.Comparisons
	for _, c := range cmp {
		verdict := "consistent"
		switch {
		case c.Cov == nil:
			verdict = "no prediction"
		case !c.Consistent:
			verdict = "inconsistent"
		}
		fmt.Fprintf(e.stdout, "%-14s %12.4g %10.4g %12.4g %9.3g  %s\n", c.Name, c.RelFrobenius, c.KL, c.ScoreError, c.MaxAbsZ, verdict)
	}
	if len(cmp) > 0 {
		fmt.Fprintf(e.stdout, "test: %s, α = %g\n", cmp[0].Test, cmp[0].Alpha)
	}
	for _, w := range out.Warnings {
		fmt.Fprintf(e.stdout, "warning: %s\n", w)
	}
}
