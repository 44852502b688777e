package study

import (
	"strings"
	"testing"
)

func verifyStep(out string) *StepResult {
	s := step("p", KindVerify, "verify-lr0.1-B10-sgd", 0.1, 10, "sgd", out)
	return &s
}

// An unconverged run: the verdict is inconclusive, names the failed criterion and the
// suggested settings, and gives no prediction as holding even if one would.
func TestVerifyVerdictNotConverged(t *testing.T) {
	out := `{"chains": 8, "samples": 800, "simulator": "sgd", "converged": false, "rhat_max": 1.3, "ess_min": 50,
 "convergence": {"converged": false, "rhat_limit": 1.05, "ess_limit": 400, "reason": "not converged: largest split-R̂ 1.3 (direction 2) > limit 1.05", "suggestion": "--burnin ≥ 900"},
 "predictions": {"discrete": {"rel_frobenius": 0.02, "kl": 0.001, "verdict": "inconclusive", "reason": "not converged: largest split-R̂ 1.3", "consistent": null, "test": "T", "alpha": 0.01}}}`
	v := verifyVerdict(verifyStep(out), nil)
	if v.Status != Inconclusive || !strings.Contains(v.Text, "not converged: largest split-R̂ 1.3 (direction 2) > limit 1.05") ||
		!strings.Contains(v.Text, "--burnin ≥ 900") || !strings.Contains(v.Text, "inconclusive for discrete Lyapunov (not converged)") {
		t.Errorf("status %s, text %q", v.Status, v.Text)
	}
}

// A converged run where every decided prediction fails but one is undecided: Inconclusive
// (the undecided one might hold), short naming it, with each effect size and its bounds; the
// same run without the undecided prediction is Fails, short "none".
func TestVerifyVerdictAllFail(t *testing.T) {
	out := `{"chains": 32, "samples": 32000, "simulator": "sgd", "converged": true, "rhat_max": 1.004, "ess_min": 2000,
 "convergence": {"converged": true, "rhat_limit": 1.02, "ess_limit": 400},
 "predictions": {
  "seed": {"rel_frobenius": 0.3, "kl": 0.2, "verdict": "fails", "reason": "rejects", "effect": {"rel_error": 0.31, "ci_low": 0.25, "ci_high": 0.37}, "detectable_rel_error": 0.05, "consistent": false, "test": "T", "alpha": 0.01},
  "continuous": {"rel_frobenius": 0.2, "kl": 0.1, "verdict": "fails", "reason": "rejects", "effect": {"rel_error": 0.2, "ci_low": 0.15, "ci_high": 0.25}, "detectable_rel_error": 0.05, "consistent": false, "test": "T", "alpha": 0.01},
  "discrete": {"rel_frobenius": 0.05, "kl": 0.01, "verdict": "inconclusive", "reason": "the measured variance outside the range cannot be told from the limit 0.01", "consistent": null, "test": "T", "alpha": 0.01}}}`
	v := verifyVerdict(verifyStep(out), nil)
	if v.Status != Inconclusive || v.Short != "inconclusive: discrete Lyapunov undecided" || !strings.Contains(v.Text, "fails for the note's (seed) (relative error 0.31 [0.25, 0.37], detectable 0.05") ||
		!strings.Contains(v.Text, "inconclusive for discrete Lyapunov (the measured variance outside the range") ||
		!strings.Contains(v.Text, "converged (largest split-R̂ 1.004 ≤ limit 1.02, smallest effective sample size 2000 ≥ 400)") {
		t.Errorf("status %s, short %q, text %q", v.Status, v.Short, v.Text)
	}
	i := strings.Index(out, ",\n  \"discrete\"")
	v = verifyVerdict(verifyStep(out[:i]+"}}"), nil)
	if v.Status != Fails || v.Short != "none" {
		t.Errorf("without the undecided prediction: status %s, short %q", v.Status, v.Short)
	}
}

// Two predictions hold: Holds, with both names as the short answer.
func TestVerifyVerdictHoldsNames(t *testing.T) {
	out := `{"chains": 32, "samples": 32000, "simulator": "sgd", "converged": true, "rhat_max": 1.004, "ess_min": 2000,
 "convergence": {"converged": true, "rhat_limit": 1.02, "ess_limit": 400},
 "predictions": {
  "discrete": {"verdict": "holds", "effect": {"rel_error": 0, "ci_low": 0, "ci_high": 0.03}, "consistent": true},
  "linear_exact": {"verdict": "holds", "effect": {"rel_error": 0.01, "ci_low": 0, "ci_high": 0.04}, "consistent": true},
  "seed": {"verdict": "fails", "consistent": false}}}`
	v := verifyVerdict(verifyStep(out), nil)
	if v.Status != Holds || v.Short != "discrete Lyapunov, exact least squares" {
		t.Errorf("status %s, short %q, text %q", v.Status, v.Short, v.Text)
	}
}
