package study

import (
	"fmt"
	"strings"

	"github.com/sgdprior/sgdprior/verify"
)

// verifyVerdict answers "Which covariance prediction matches SGD?" from a verify step: the
// convergence check with its criteria, then each prediction's verdict (holds, fails,
// inconclusive: MATH.md §7.2) with its effect size, bounds and detectable error. The status
// is Holds (Short: the predictions that hold) when one holds, Fails ("none") when every
// decided prediction fails, Inconclusive when the run has not converged or nothing is
// decided. With mult (the study's family of covariance tests, MATH.md §7.3), a prediction
// that verify rejected by its covariance test fails only when its Holm-adjusted p-value is at
// most the family's level; otherwise it is inconclusive, with both p-values. A run where no
// prediction holds and one is inconclusive is Inconclusive. mult may be nil (no correction).
func verifyVerdict(s *StepResult, mult *Multiplicity) Verdict {
	v := Verdict{Topic: TopicPrediction, Step: s.ID}
	o, err := s.Verify()
	if err != nil {
		return unknown(TopicPrediction, s.ID, err)
	}
	sim := o.Simulator
	if sim == "" {
		sim = s.Simulator
	}
	cv := o.Convergence
	conv := fmt.Sprintf("converged (largest split-R̂ %s ≤ limit %s, smallest effective sample size %s ≥ %s)",
		Format(float64(o.RHatMax)), Format(cv.RHatLimit), Format(float64(o.ESSMin)), Format(cv.ESSLimit))
	if !o.Converged {
		conv = "not converged: " + strings.TrimPrefix(cv.Reason, "not converged: ")
		if cv.Suggestion != "" {
			conv += " (to converge: " + cv.Suggestion + ")"
		}
	}
	head := fmt.Sprintf("%s (%s; %d chains, %d samples kept in all; %s): ", simulatorLabel(sim), gridText(s.LR, s.Batch),
		o.Chains, o.Samples, conv)
	var yes, no, undecided, yesNames, undecidedNames []string
	firstHolds := "" // the first prediction that holds: the verdict's value is its relative error
	alpha := 0.0
	for _, name := range PredictionNames(o.Predictions) {
		p := o.Predictions[name]
		desc := fmt.Sprintf("%s (relative error %s [%s, %s], detectable %s; rel. Frobenius error %s, KL %s)", PredictionLabel(name),
			Format(float64(p.Effect.RelError)), Format(float64(p.Effect.CILow)), Format(float64(p.Effect.CIHigh)),
			Format(float64(p.DetectableRelError)), Format(float64(p.RelFrobenius)), Format(float64(p.KL)))
		verdict, reason := p.Verdict, p.Reason
		if adj, ok := mult.Adjusted(s.ID, name); ok && verdict == verify.VerdictFails && p.PValue.OK() && float64(p.PValue) <= p.Alpha {
			if adj > mult.Alpha {
				verdict = verify.VerdictInconclusive
				reason = fmt.Sprintf("rejected at level %s alone (p = %s, relative error %s [%s, %s]) but not after Holm's correction over the study's %d covariance tests (adjusted p = %s)",
					Format(p.Alpha), Format(float64(p.PValue)), Format(float64(p.Effect.RelError)), Format(float64(p.Effect.CILow)), Format(float64(p.Effect.CIHigh)), mult.Tests, Format(adj))
			} else {
				desc = strings.TrimSuffix(desc, ")") + fmt.Sprintf("; Holm-adjusted p %s)", Format(adj))
			}
		}
		switch verdict {
		case verify.VerdictHolds:
			if firstHolds == "" {
				firstHolds = name
			}
			yes = append(yes, desc)
			yesNames = append(yesNames, PredictionLabel(name))
		case verify.VerdictFails:
			no = append(no, desc)
		default:
			reason := strings.TrimSuffix(reason, ".")
			if reason == "" {
				reason = strings.TrimSuffix(p.Why, ".")
			}
			if reason == "" {
				reason = "no prediction"
			}
			if strings.HasPrefix(reason, "not converged") {
				reason = "not converged"
			}
			undecided = append(undecided, fmt.Sprintf("%s (%s)", PredictionLabel(name), reason))
			if p.Cov != nil || p.PValue.OK() {
				undecidedNames = append(undecidedNames, PredictionLabel(name))
			}
		}
		if p.Alpha > 0 && p.Test != "" { // a level in (0, 1); 0 when absent
			alpha = p.Alpha
		}
	}
	var parts []string
	if len(yes) > 0 {
		parts = append(parts, "holds (not rejected) for "+strings.Join(yes, ", "))
	}
	if len(no) > 0 {
		parts = append(parts, "fails for "+strings.Join(no, ", "))
	}
	if len(undecided) > 0 {
		parts = append(parts, "inconclusive for "+strings.Join(undecided, ", "))
	}
	switch {
	case len(parts) == 0:
		v.Status = Unknown
		v.Text = head + "verify reports no predictions."
		return v
	case !o.Converged:
		v.Status = Inconclusive
		v.Short = "inconclusive (not converged)"
	case len(yes) > 0:
		v.Status = Holds
		v.Short = strings.Join(yesNames, ", ")
		v.setValue("relative error of "+PredictionLabel(firstHolds), float64(o.Predictions[firstHolds].Effect.RelError))
	case len(undecidedNames) > 0:
		v.Status = Inconclusive
		v.Short = "inconclusive: " + strings.Join(undecidedNames, ", ") + " undecided"
	case len(no) > 0:
		v.Status = Fails
		v.Short = "none"
	default:
		v.Status = Inconclusive
	}
	v.Text = head + strings.Join(parts, "; ") + "."
	if alpha > 0 {
		v.Text += fmt.Sprintf(" Test (MATH.md §7.2), per prediction Σ_p: the whitened covariance test on the range of Σ_p, T = ‖mean_c WΣ̂_cWᵀ − I‖²_F with its null distribution from the %d chain replicates, at level α = %s. \"relative error\" is the whitened error with the sampling contribution removed, with its 1 − α bounds; \"detectable\" is the scale error Σ = (1 + ε)Σ_p the test detects with power 0.8 at this sample size (verify's output also gives the detectable rotation).",
			o.Chains, Format(alpha))
		if mult != nil && mult.Tests > 1 {
			v.Text += fmt.Sprintf(" A prediction fails only where its rejection survives Holm's correction over the study's %d covariance tests (MATH.md §7.3), so that the report states a false \"fails\" with probability at most %s.", mult.Tests, Format(mult.Alpha))
		}
	}
	return v
}

func simulatorLabel(m string) string {
	switch m {
	case "sgd":
		return "SGD"
	case "gauss":
		return "Gaussian-noise SGD"
	case "sde":
		return "the SDE (Euler–Maruyama)"
	case "sgld":
		return "SGLD"
	}
	return m
}

// SimulatorLabel is the name of a verify simulator in words.
func SimulatorLabel(m string) string { return simulatorLabel(m) }
