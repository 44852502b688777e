package study

import (
	"encoding/json"
	"strings"
	"testing"
)

// These tests feed Summarize hand-written outputs in the subcommands' JSON shapes and check
// the verdicts it words from them (the numbers themselves are the commands' business).

func step(entry, cmd, stem string, lr float64, b int, sim, output string) StepResult {
	return StepResult{Step: Step{ID: entry + "/" + stem, Entry: entry, Command: cmd, LR: lr, Batch: b, Simulator: sim}, Output: json.RawMessage(output)}
}

func verdictFor(t *testing.T, sum *Summary, entry, topic, stepID string) Verdict {
	t.Helper()
	for _, e := range sum.Entries {
		if e.Name != entry {
			continue
		}
		for _, v := range e.Verdicts {
			if v.Topic == topic && (stepID == "" || v.Step == stepID) {
				return v
			}
		}
	}
	t.Fatalf("no verdict %q on %s (%s)", topic, entry, stepID)
	return Verdict{}
}

func expect(t *testing.T, v Verdict, status string, words ...string) {
	t.Helper()
	if v.Status != status {
		t.Errorf("%s: status %s, want %s: %s", v.Topic, v.Status, status, v.Text)
	}
	for _, w := range words {
		if !strings.Contains(v.Text, w) {
			t.Errorf("%s: %q does not say %q", v.Topic, v.Text, w)
		}
	}
}

const scoreFull = `{"n": 100, "d": 3, "lr": 0.1, "batch": 10, "kappa": 0.09, "damping": 0, "inverse": "dense", "loss": 0.5, "grad_norm": 1e-9,
 "noise": {"trace": 2, "trace_batch": 0.18, "rank": 3, "top_eigenvalues": [1, 0.6, 0.4], "noise_scale": null},
 "diagnostics": {"range_fraction": 0, "commutator": 0.3, "asymmetry_seed": 0.2, "divergence_ratio": 0.02, "noise_kurtosis": [0.5, 2.5], "noise_tail_index": [6, 3]},
 "gaussian": {"removed_directions": 0, "directions": [
   {"h": 3, "c": 0.2, "var_seed": 0.003, "var_continuous": 0.003, "var_discrete": 0.0035, "var_posterior": 0.0033, "prior_precision": {"seed": 10, "continuous": 12, "discrete": 5}},
   {"h": 2, "c": 0.1, "var_seed": 0.0025, "var_continuous": 0.0026, "var_discrete": 0.0027, "var_posterior": 0.005, "prior_precision": {"seed": -40, "continuous": 3, "discrete": 1}},
   {"h": 1, "c": 0.1, "var_seed": 0.005, "var_continuous": 0.005, "var_discrete": 0.0051, "var_posterior": 0.01, "prior_precision": {"seed": 2, "continuous": -0.5, "discrete": null}}]},
 "optimal_lr": 0.02, "implicit_regularizer": 0.0045, "warnings": ["θ is a minimum: the noise scale is undefined"]}`

const scoreRange = `{"n": 100, "d": 20, "lr": 0.1, "batch": 10, "kappa": 0.09, "inverse": "range", "grad_norm": 1e-9,
 "noise": {"rank": 10, "rank_estimated": true},
 "diagnostics": {"range_fraction": 0.01, "commutator": 0.01},
 "warnings": []}`

const verifyOut = `{"chains": 8, "steps": 1000, "burnin": 100, "thin": 1, "samples": 7200, "simulator": "sgd", "lr": 0.1, "batch": 10, "basis": "full",
 "converged": true, "rhat_max": 1.004, "ess_min": 900, "convergence": {"converged": true, "rhat_limit": 1.01, "ess_limit": 400},
 "directions": [{"h": 3, "var": 0.0034, "var_stderr": 0.0001, "ratio": {"seed": 1.13, "discrete": 0.97}, "ratio_stderr": {"seed": 0.03, "discrete": 0.03}}],
 "predictions": {
   "seed": {"rel_frobenius": 0.2, "kl": 0.1, "score_error": 0.3, "verdict": "fails", "effect": {"rel_error": 0.19, "ci_low": 0.15, "ci_high": 0.23}, "detectable_rel_error": 0.04, "consistent": false, "test": "t-tests", "alpha": 0.01},
   "discrete": {"rel_frobenius": 0.02, "kl": 0.001, "score_error": 0.01, "verdict": "holds", "effect": {"rel_error": 0, "ci_low": 0, "ci_high": 0.03}, "detectable_rel_error": 0.04, "consistent": true, "test": "t-tests", "alpha": 0.01},
   "sgld_exact": {"rel_frobenius": null, "kl": null, "score_error": null, "verdict": "inconclusive", "reason": "no prediction", "consistent": null, "test": "t-tests", "alpha": 0.01}},
 "warnings": ["max split-R̂ fine"]}`

const wellsOut = `{"preset": "wells", "params": {"center0": -1, "width0": 0.3, "depth0": 1, "center1": 1.3, "width1": 1.2, "depth1": 1},
 "lr": 0.2, "batch": 1, "kappa": 1,
 "grid": {"x": [-1, 0, 1]}, "density": {"exact": [0.1, 0.2, 0.7], "seed": [0.1, 0.1, 0.8], "sgd": [0.05, 0.15, 0.8], "sgd_stderr": [0.01, 0.01, 0.01]},
 "wells": [
   {"center": [-0.97], "mass_exact": 0.09, "mass_seed": 0.13, "mass_sgd": 0.02, "mass_sgd_stderr": 0.002, "escape_exact": 2293, "escape_kramers": 542, "escape_sgd": 706, "escape_sgd_stderr": 79},
   {"center": [1.27], "mass_exact": 0.91, "mass_seed": 0.87, "mass_sgd": 0.98, "mass_sgd_stderr": 0.002, "escape_exact": 23310, "escape_kramers": 18950, "escape_sgd": 24570, "escape_sgd_stderr": 2964}],
 "sweep": [{"lr": 0.1, "batch": 2, "kappa": 1, "shares": {"exact": [0.1, 0.9], "seed": [0.2, 0.8], "sgd": [0.1, 0.9], "sgd_stderr": [0.01, 0.01]}},
           {"lr": 0.3, "batch": 1, "kappa": 1, "shares": {"exact": [0.1, 0.9], "seed": [0.2, 0.8], "sgd": [0.1, 0.9], "sgd_stderr": [0.01, 0.01]}}],
 "current": null, "warnings": ["sweep: few escapes"]}`

const ou2dOut = `{"preset": "ou2d", "params": {}, "lr": 0.08, "batch": 1, "kappa": 1,
 "grid": {"x": [0, 1], "y": [0, 1]}, "density": {"exact": [1, 2, 3, 4]},
 "variance": {"exact": [0.04, -0.05, -0.05, 0.12], "seed": [0.04, -0.05, -0.05, 0.13], "discrete": [0.043, -0.05, -0.05, 0.128], "sgd": [0.0436, -0.056, -0.056, 0.128], "sgd_stderr": [0.0002, 0.0003, 0.0003, 0.0007]},
 "wells": [{"center": [0, 0], "mass_exact": 1}], "current": 0.149, "warnings": []}`

func testResults() *Results {
	s := &Study{
		Problems:   []Problem{{Name: "p"}, {Name: "q"}},
		Landscapes: []Landscape{{Name: "w", Preset: "wells"}, {Name: "o", Preset: "ou2d"}},
	}
	return &Results{Study: s, Steps: []StepResult{
		step("p", KindTrain, "train", 0, 0, "", `{"method": "lbfgs", "loss": 0.5, "grad_norm": 1e-12, "iterations": 12, "converged": true, "provenance": {"weight_decay": 0.01}, "warnings": []}`),
		step("p", KindScore, "score-lr0.1-B10", 0.1, 10, "", scoreFull),
		step("p", KindVerify, "verify-lr0.1-B10-sgd", 0.1, 10, "sgd", verifyOut),
		step("q", KindScore, "score-lr0.1-B10", 0.1, 10, "", scoreRange),
		step("w", KindLandscape, "landscape", 0, 0, "", wellsOut),
		step("o", KindLandscape, "landscape", 0, 0, "", ou2dOut),
	}}
}

func TestSummarize(t *testing.T) {
	res := testResults()
	sum := Summarize(res)
	if sum.Thresholds != (Thresholds{}).WithDefaults() {
		t.Errorf("thresholds %+v", sum.Thresholds)
	}
	expect(t, verdictFor(t, sum, "p", TopicMinimum, ""), Holds, "λ = 0.01", "12 iterations")
	expect(t, verdictFor(t, sum, "p", TopicDefined, ""), Holds, "rank 3 of d = 3")
	expect(t, verdictFor(t, sum, "p", TopicCurrent, ""), Fails, "0.3", "threshold 0.05", "asymmetry ‖J − Jᵀ‖/‖J‖ of the note's score field, the direct measure of a non-gradient field, is 0.2")
	expect(t, verdictFor(t, sum, "p", TopicDiffusion, ""), Holds, "0.02", "0.1")
	expect(t, verdictFor(t, sum, "p", TopicGaussian, ""), Fails, "(0.5, 2.5)", "2.5 > 1", "Tail index", "(6, 3)")
	expect(t, verdictFor(t, sum, "p", TopicRank, ""), Holds)
	prior := verdictFor(t, sum, "p", TopicPrior, "")
	expect(t, prior, Fails, "the note's (seed): 1 of 3 (k = 2)", "continuous Lyapunov: 1 of 3 (k = 3)", "Positive in every direction for discrete Lyapunov")
	if prior.Short != "no: negative along 1 of 3 directions" || prior.Where != "η = 0.1, B = 10" {
		t.Errorf("prior verdict: short %q, where %q", prior.Short, prior.Where)
	}
	pred := verdictFor(t, sum, "p", TopicPrediction, "")
	expect(t, pred, Holds, "holds (not rejected) for discrete Lyapunov (relative error 0 [0, 0.03], detectable 0.04; rel. Frobenius error 0.02", "fails for the note's (seed)",
		"inconclusive for SGLD exact least squares (no prediction)", "8 chains, 7200 samples", "from the 8 chain replicates, at level α = 0.01")
	if pred.Short != "discrete Lyapunov" || pred.Where != "SGD, η = 0.1, B = 10" {
		t.Errorf("prediction verdict: short %q, where %q", pred.Short, pred.Where)
	}
	expect(t, verdictFor(t, sum, "q", TopicDefined, ""), Partly, "only on the range", "estimated numerical rank of 10 of d = 20", "0.01")
	expect(t, verdictFor(t, sum, "q", TopicRank, ""), Fails, "along 10 directions")
	expect(t, verdictFor(t, sum, "q", TopicDiffusion, ""), Unknown, "--divergence")
	expect(t, verdictFor(t, sum, "q", TopicCurrent, ""), Holds, "0.01 ≤ 0.05")
	expect(t, verdictFor(t, sum, "w", TopicFlat, ""), Holds, "flat well (θ = 1.27, width 1.2)", "sharp one (θ = -0.97, width 0.3)",
		"SGD: flat 0.98 ± 0.002, sharp 0.02 (×49)", "exact SDE density: flat 0.91, sharp 0.09 (×10.11)")
	expect(t, verdictFor(t, sum, "w", TopicEscape, ""), Info, "exact 23310 steps", "SGD 24570 ± 2964")
	if v := verdictFor(t, sum, "w", TopicFlat, ""); v.Short != "yes, ×49 under SGD" || v.Where != "η = 0.2, B = 1" {
		t.Errorf("flat verdict: short %q, where %q", v.Short, v.Where)
	}
	expect(t, verdictFor(t, sum, "o", TopicCurrent2D, ""), Fails, "0.149")
	expect(t, verdictFor(t, sum, "o", TopicVariance, ""), Info, "(0.0436, -0.056, -0.056, 0.128)")
	for _, e := range sum.Entries {
		if e.Name == "w" {
			if e.FlatWell == nil || *e.FlatWell != 1 {
				t.Errorf("flat well %v, want 1", e.FlatWell)
			}
			if len(e.SweepX) != 2 || e.SweepX[0] != 0.05 || e.SweepX[1] != 0.3 {
				t.Errorf("sweep η/B %v", e.SweepX)
			}
		}
	}
	var ws []string
	for _, w := range sum.Warnings {
		ws = append(ws, w.Step+": "+w.Text)
	}
	want := []string{"p/score-lr0.1-B10: θ is a minimum: the noise scale is undefined", "p/verify-lr0.1-B10-sgd: max split-R̂ fine", "w/landscape: sweep: few escapes"}
	if strings.Join(ws, "|") != strings.Join(want, "|") {
		t.Errorf("warnings %q, want %q", ws, want)
	}
}

// TestSummarizeUnresolved: masses the test does not tell apart are not a win, and
// wells whose flatness is unknown are not guessed.
func TestSummarizeUnresolved(t *testing.T) {
	res := testResults()
	close := strings.Replace(strings.Replace(wellsOut, `"mass_sgd": 0.02, "mass_sgd_stderr": 0.002`, `"mass_sgd": 0.49, "mass_sgd_stderr": 0.01`, 1),
		`"mass_sgd": 0.98, "mass_sgd_stderr": 0.002`, `"mass_sgd": 0.51, "mass_sgd_stderr": 0.01`, 1)
	res.Steps[4].Output = json.RawMessage(close)
	expect(t, verdictFor(t, Summarize(res), "w", TopicFlat, ""), Inconclusive, "does not tell")
	noParams := strings.Replace(wellsOut, `"width0": 0.3`, `"w0": 0.3`, 1)
	res.Steps[4].Output = json.RawMessage(noParams)
	sum := Summarize(res)
	expect(t, verdictFor(t, sum, "w", TopicFlat, ""), Unknown, "cannot be told apart")
	if sum.Entries[2].FlatWell != nil {
		t.Error("a flat well was named without widths")
	}
	// A well whose minimum is null has no nearest width.
	nullCenter := strings.Replace(wellsOut, `"center": [-0.97]`, `"center": [null]`, 1)
	res.Steps[4].Output = json.RawMessage(nullCenter)
	expect(t, verdictFor(t, Summarize(res), "w", TopicFlat, ""), Unknown, "cannot be told apart")
	// An output that cannot be read gives an Unknown verdict naming the step.
	res.Steps[1].Output = json.RawMessage(`{"noise": "many"}`)
	expect(t, verdictFor(t, Summarize(res), "p", TopicDefined, ""), Unknown, "p/score-lr0.1-B10")
}

// TestSummarizeDivergenceAtMinimum: at a minimum score's divergence ratio is null; the
// verdict then measures ‖s_gen − s_st‖ against the note's implicit prior score.
func TestSummarizeDivergenceAtMinimum(t *testing.T) {
	res := testResults()
	out := strings.Replace(scoreFull, `"divergence_ratio": 0.02`, `"divergence_ratio": null, "divergence_method": "exact"`, 1)
	out = strings.Replace(out, `"optimal_lr"`, `"vectors": {"stationary_score": [0, 0, 0], "stationary_score_general": [3, 4, 0], "prior_score": [10, 0, 0], "likelihood_score": [-10, 0, 0]}, "optimal_lr"`, 1)
	res.Steps[1].Output = json.RawMessage(out)
	// var_continuous 0.003, 0.0026, 0.005: tr Σ⁻¹ = 333.3 + 384.6 + 200 = 917.9, √ = 30.3.
	expect(t, verdictFor(t, Summarize(res), "p", TopicDiffusion, ""), Fails, "‖s_gen − s_st‖ = 5 against a typical stationary score of 30.3", "a ratio of 0.165")
	small := strings.Replace(out, `[3, 4, 0]`, `[0.3, 0.4, 0]`, 1)
	res.Steps[1].Output = json.RawMessage(small)
	expect(t, verdictFor(t, Summarize(res), "p", TopicDiffusion, ""), Holds, "a ratio of 0.0165")
}

// TestSummarizeLinearExactPrior: the exact least-squares prior precision is judged when the
// score output has it (and only then), alongside the others.
func TestSummarizeLinearExactPrior(t *testing.T) {
	res := testResults()
	out := strings.Replace(scoreFull, `"prior_precision": {"seed": 10,`, `"var_linear_exact": 0.003, "prior_precision": {"linear_exact": -1, "seed": 10,`, 1)
	res.Steps[1].Output = json.RawMessage(out)
	expect(t, verdictFor(t, Summarize(res), "p", TopicPrior, ""), Fails, "exact least squares: 1 of 1 (k = 1)", "the note's (seed): 1 of 3 (k = 2)")
	expect(t, verdictFor(t, Summarize(testResults()), "p", TopicPrior, ""), Fails)
	if v := verdictFor(t, Summarize(testResults()), "p", TopicPrior, ""); strings.Contains(v.Text, "exact least squares") {
		t.Errorf("exact least squares judged without its precisions: %s", v.Text)
	}
}
