package score

import (
	"fmt"
	"io"
	"math"
	"strings"

	"gonum.org/v1/gonum/floats"
)

// WriteSummary writes the readable summary of rep under heading, with the given warnings
// (Output.Warnings: the report's and those of its JSON rendering) at the end.
func (rep *Report) WriteSummary(w io.Writer, heading string, warnings []string) {
	fmt.Fprintln(w, heading)
	fmt.Fprintf(w, "SGD: η = %g, B = %d, sampling %s, κ_B = %.6g\n", rep.LR, rep.Batch, rep.Sampling, rep.Kappa)
	inv := "exact inverse of C_B"
	switch rep.Inverse {
	case InverseDamped:
		inv = fmt.Sprintf("(C_B + λI)⁻¹ with λ = %g", rep.Damping)
	case InverseRange:
		inv = fmt.Sprintf("pseudo-inverse of C_B on its range (rcond %g)", rep.RCond)
	}
	cov := fmt.Sprintf("all %d examples", rep.N)
	if rep.CovExamples < rep.N {
		cov = fmt.Sprintf("%d of the %d examples", rep.CovExamples, rep.N)
	}
	fmt.Fprintf(w, "inverse: %s; solver %s; C from %s\n", inv, rep.Solver, cov)
	minimum := "not a minimum"
	if rep.AtMinimum {
		minimum = "a minimum"
	}
	if rep.AtCriticalPoint {
		minimum += ", a critical point to round-off"
	}
	floor := ""
	if !math.IsNaN(rep.RoundoffFloor) {
		floor = fmt.Sprintf("; round-off floor %.3g", rep.RoundoffFloor)
	}
	if !rep.FromGradients {
		fmt.Fprintf(w, "loss %.10g  ‖∇L‖ %.3g (%s%s)\n", rep.Loss, rep.GradNorm, minimum, floor)
	} else {
		fmt.Fprintf(w, "‖∇L‖ %.3g (%s%s)\n", rep.GradNorm, minimum, floor)
	}
	n := rep.Noise
	rank := fmt.Sprintf("%d", n.Rank)
	if n.RankEstimated {
		rank += " (" + n.RankMethod + ")"
	}
	fmt.Fprintf(w, "noise: tr C %.6g, tr C_B %.6g, rank %s of d = %d\n", n.Trace, n.TraceBatch, rank, rep.D)
	fmt.Fprintf(w, "  top eigenvalues of C: %s\n", fmtFloats(n.TopEigenvalues, 6))
	fmt.Fprintf(w, "  gradient noise scale tr C/‖ḡ‖²: %s\n", fmtOne(n.NoiseScale))
	v := rep.Vectors
	fmt.Fprintf(w, "scores: ‖s_st‖ %.6g  ‖s_lik‖ %.6g  ‖s_prior‖ %.6g  cos(s_prior, s_lik) %s\n",
		floats.Norm(v.Stationary, 2), floats.Norm(v.Likelihood, 2), floats.Norm(v.Prior, 2), fmtOne(cosine(v.Prior, v.Likelihood)))
	dg := rep.Diagnostics
	switch {
	case rep.AtCriticalPoint:
		explicit := ""
		if v.ExplicitPrior != nil {
			explicit = fmt.Sprintf(" ‖−N∇r‖ = %.6g", floats.Norm(v.ExplicitPrior, 2))
		}
		bound := ""
		if !math.IsNaN(dg.ImplicitBound) {
			bound = fmt.Sprintf(" (the computed one is round-off, ≤ %.3g)", dg.ImplicitBound)
		}
		fmt.Fprintf(w, "  at a critical point the implicit part of the prior score is exactly 0%s: it vanishes at every critical point, so s_prior is the explicit prior −N∇r%s alone; the information is in its Jacobian (the seed precision)\n", bound, explicit)
	case v.ExplicitPrior != nil:
		fmt.Fprintf(w, "  weight decay: explicit ‖−N∇r‖ %.6g, implicit ‖s_prior + N∇r‖ %.6g\n", floats.Norm(v.ExplicitPrior, 2), floats.Norm(v.ImplicitPrior, 2))
	}
	if rep.Inverse == InverseRange {
		if dg.RangeFractionNote != "" {
			fmt.Fprintf(w, "  fraction of ‖∇L‖² outside the range of C_B: null (%s)\n", dg.RangeFractionNote)
		} else {
			fmt.Fprintf(w, "  fraction of ‖∇L‖² outside the range of C_B: %.4g\n", dg.RangeFraction)
		}
	}
	fmt.Fprintln(w, "checks of the note's assumptions:")
	if dg.DivergenceRatio != nil {
		fmt.Fprintf(w, "  divergence term: ‖s_gen − s_st‖ %.4g, ratio to ‖s_st‖ %s  [%s]\n", *dg.DivergenceNorm, fmtOne(*dg.DivergenceRatio), dg.DivergenceMethod)
	}
	if dg.AsymmetryNote != nil {
		line := fmt.Sprintf("  Jacobian asymmetry ‖J − Jᵀ‖/‖J‖: seed %.4g", *dg.AsymmetryNote)
		if dg.AsymmetryGeneral != nil {
			line += fmt.Sprintf(", general %.4g", *dg.AsymmetryGeneral)
		}
		fmt.Fprintf(w, "%s  [%s]\n", line, dg.AsymmetryMethod)
	} else if dg.AsymmetryMethod != "" {
		fmt.Fprintf(w, "  Jacobian asymmetry: %s\n", dg.AsymmetryMethod)
	}
	if dg.Commutator != nil {
		fmt.Fprintf(w, "  commutator ‖CH − HC‖/(‖C‖‖H‖): %.4g  [%s]\n", *dg.Commutator, dg.CommutatorMethod)
	}
	if dg.NoiseKurtosis != nil {
		fmt.Fprintf(w, "  mini-batch noise on the top %d noise directions: exact excess kurtosis %s (sampled %s, bootstrap SE %s), tail index %s (2 if Gaussian)\n",
			len(dg.NoiseKurtosis), fmtFloats(dg.NoiseKurtosisExact, 4), fmtFloats(dg.NoiseKurtosis, 4), fmtFloats(dg.NoiseKurtosisSE, 4), fmtFloats(dg.NoiseTailIndex, 4))
	}
	if len(dg.Ladder) > 0 {
		fmt.Fprintln(w, "  regularisation ladder (rank C_B < d: these checks depend on the inverse of C_B):")
		for _, r := range dg.Ladder {
			name := fmt.Sprintf("λ = %.3g", r.Damping)
			if r.Range {
				name = fmt.Sprintf("pinv (rcond %g)", r.RCond)
			}
			if r.User {
				name += " (used)"
			}
			fmt.Fprintf(w, "    %-22s ‖s_gen − s_st‖ %s, shift/width %s, asymmetry seed %s, min eig P_seed %s\n", name,
				fmtOne(r.DivergenceNorm), fmtOne(r.DivergenceShift), fmtOne(r.AsymmetryNote), fmtOne(r.PriorMinEigNote))
		}
	}
	if g := rep.Gaussian; g != nil {
		where := "all positive-curvature directions"
		if g.Subspace {
			where = fmt.Sprintf("the top-%d Hessian subspace", len(g.Directions))
		}
		fmt.Fprintf(w, "Gaussian predictions near the minimum (%s; %d null, %d flat, %d negative-curvature directions removed):\n",
			where, g.Removed, g.Flat, g.Negative)
		fmt.Fprintf(w, "  %-11s %-11s %-11s %-11s %-11s %-11s %-11s %-11s %-11s\n", "h", "c", "var seed", "var cont", "var disc", "var post", "P seed", "P cont", "P disc")
		for i, d := range g.Directions {
			if i == 12 && len(g.Directions) > 13 {
				fmt.Fprintf(w, "  … %d more directions in the JSON\n", len(g.Directions)-12)
				break
			}
			fmt.Fprintf(w, "  %-11.4g %-11.4g %-11s %-11.4g %-11.4g %-11.4g %-11s %-11.4g %-11.4g\n", d.H, d.C, fmtOne(d.VarNote),
				d.VarContinuous, d.VarDiscrete, d.VarPosterior, fmtOne(d.Prior.Note), d.Prior.Continuous, d.Prior.Discrete)
		}
		me := g.MinEig
		fmt.Fprintf(w, "  smallest eigenvalue of each implied prior precision matrix P on the %d of d = %d directions (%d carry no noise): seed %s, continuous %s, discrete %s",
			g.Coverage.K, g.Coverage.D, g.Coverage.NoNoise, fmtEig(me.Note), fmtEig(me.Continuous), fmtEig(me.Discrete))
		if me.LinearExact != nil {
			fmt.Fprintf(w, ", exact %s", fmtEig(me.LinearExact))
		}
		fmt.Fprintln(w)
		if g.ExplicitPriorPrecision > 0 {
			fmt.Fprintf(w, "  (prior precisions P = Σ⁻¹ − N H_nll include the weight-decay prior's N λ = %.4g)\n", g.ExplicitPriorPrecision)
		}
	}
	fmt.Fprintf(w, "lenses: Mandt et al. optimal η* = 2d/(N tr C_B) = %s; Smith et al. implicit regulariser (η/4)(‖∇L‖² + tr C_B) = %.6g\n",
		fmtOne(rep.OptimalLR), rep.ImplicitRegularizer)
	for _, wn := range warnings {
		fmt.Fprintf(w, "warning: %s\n", wn)
	}
}

// fmtEig formats a smallest eigenvalue with its eigenvector's relative Hessian and noise
// content.
func fmtEig(e *PriorEig) string {
	if e == nil {
		return "null"
	}
	return fmt.Sprintf("%s (vᵀHv/h_max %.2g, vᵀC_Bv/c_max %.2g)", fmtOne(e.Value), e.HessianRel, e.NoiseRel)
}

func cosine(a, b []float64) float64 {
	return floats.Dot(a, b) / (floats.Norm(a, 2) * floats.Norm(b, 2))
}

func fmtOne(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "null"
	}
	return fmt.Sprintf("%.4g", x)
}

func fmtFloats(v []float64, max int) string {
	parts := make([]string, 0, len(v))
	for i, x := range v {
		if i == max {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmtOne(x))
	}
	return "[" + strings.Join(parts, " ") + "]"
}
