package study

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// networkResults is a Results holding one problem's real-network steps with the given
// JSON outputs (kind → output).
func networkResults(t *testing.T, outputs map[string]string) *Results {
	t.Helper()
	r := &Results{Study: &Study{Problems: []Problem{{Name: "n"}}}}
	for _, kind := range []string{KindTrack, KindBasins, KindEscape} {
		out, ok := outputs[kind]
		if !ok {
			continue
		}
		if !json.Valid([]byte(out)) {
			t.Fatalf("%s fixture is not JSON", kind)
		}
		r.Steps = append(r.Steps, StepResult{Step: Step{ID: "n/" + kind, Entry: "n", Command: kind}, Output: json.RawMessage(out)})
	}
	return r
}

func verdictOf(t *testing.T, r *Results, topic string) Verdict {
	t.Helper()
	for _, e := range Summarize(r).Entries {
		for _, v := range e.Verdicts {
			if v.Topic == topic {
				return v
			}
		}
	}
	t.Fatalf("no verdict %q", topic)
	return Verdict{}
}

func basinsFixture(min1, min2, rho string, hasTest bool) string {
	ht := "false"
	if hasTest {
		ht = "true"
	}
	return `{"weight_decay": 0.001, "grad_tol": 1e-8, "has_test": ` + ht + `, "runs": [{}, {}],
	"summary": {"sharpness_test_error_rank_corr": ` + rho + `,
	"sgd_vs_gd": [
	 {"a": "sgd lr=0.05 batch=16", "b": "gd lr=0.05", "quantity": "lambda_max", "seeds": 5, "mean_diff": -0.1, ` + min1 + `},
	 {"a": "sgd lr=0.05 batch=16", "b": "gd lr=0.05", "quantity": "iterate_lambda_max", "seeds": 5, "mean_diff": -0.5, "ci_low": -0.7, "ci_high": -0.3},
	 {"a": "sgd lr=0.2 batch=16", "b": "gd lr=0.2", "quantity": "lambda_max", "seeds": 5, "mean_diff": -0.2, ` + min2 + `}]}}`
}

// TestBasinsVerdicts: SGD is called flatter only when every cell's interval of the paired
// λ_max difference lies below 0; the rank correlation holds when its bootstrap interval lies
// above 0 and is inconclusive when it contains 0; without a test set the text says so.
func TestBasinsVerdicts(t *testing.T) {
	below := `"ci_low": -0.3, "ci_high": -0.01`
	straddle := `"ci_low": -0.3, "ci_high": 0.2`
	above := `"ci_low": 0.05, "ci_high": 0.4`
	pos := `{"rho": 0.4, "ci_low": 0.1, "ci_high": 0.6, "target": "test_error", "runs": 30, "resamples": 100, "valid_resamples": 100, "level": 0.95}`
	zero := `{"rho": 0.1, "ci_low": -0.2, "ci_high": 0.4, "target": "test_error", "runs": 30, "resamples": 100, "valid_resamples": 100, "level": 0.95}`
	cases := []struct {
		min1, min2, rho   string
		hasTest           bool
		flat, gen         string
		flatText, genText string
	}{
		{below, below, pos, true, Holds, Holds, "flatter in 2 of 2 cells", "[0.1, 0.6]"},
		{below, straddle, zero, true, Inconclusive, Inconclusive, "the interval contains 0 in 1", "contains 0"},
		{above, above, zero, false, Fails, Inconclusive, "sharper in 2", "no test set"},
	}
	for i, c := range cases {
		r := networkResults(t, map[string]string{KindBasins: basinsFixture(c.min1, c.min2, c.rho, c.hasTest)})
		f := verdictOf(t, r, TopicSGDFlatter)
		if f.Status != c.flat || !strings.Contains(f.Text, c.flatText) || !strings.Contains(f.Text, "erase") || !strings.Contains(f.Text, "-0.5 [-0.7, -0.3]") {
			t.Errorf("case %d: flatter verdict %s: %s", i, f.Status, f.Text)
		}
		g := verdictOf(t, r, TopicFlatGeneral)
		if g.Status != c.gen || !strings.Contains(g.Text, c.genText) {
			t.Errorf("case %d: generalization verdict %s: %s", i, g.Status, g.Text)
		}
	}
}

// TestWilson: the Wilson interval against values computed by hand from its formula: 0/8
// gives [0, z²/(n + z²)] = [0, 0.3244], 4/8 gives 0.5 ± 0.2848 (√(0.25/8 + 1.96²/256)·1.96/1.4802).
func TestWilson(t *testing.T) {
	lo, hi := wilson(0, 8, 1.96)
	if lo != 0 || math.Abs(hi-1.96*1.96/(8+1.96*1.96)) > 1e-12 {
		t.Errorf("wilson(0, 8) = [%v, %v]", lo, hi)
	}
	lo, hi = wilson(4, 8, 1.96)
	h := 1.96 * math.Sqrt(0.25/8+1.96*1.96/256) / (1 + 1.96*1.96/8)
	if math.Abs(lo-(0.5-h)) > 1e-12 || math.Abs(hi-(0.5+h)) > 1e-12 || math.Abs(h-0.2848) > 1e-4 {
		t.Errorf("wilson(4, 8) = [%v, %v], half-width %v", lo, hi, h)
	}
}

func escapeFixture(sgd, iso string) string {
	return `{"settings": {"lr": 1, "batch": 16, "chains": 8, "steps": 1000, "check_every": 50}, "loss_star": 0.05, "lambda_max": 0.2, "lr_lambda_max": 0.2, "threshold": 0.06,
	"noises": {"sgd": ` + sgd + `, "isotropic": ` + iso + `, "gauss": {"escaped": 8, "escaped_fraction": 1, "escaped_fraction_stderr": 0, "median_escape_step": 50}}}`
}

// TestEscapeVerdict: SGD escapes "where isotropic noise does not" when its 95% Wilson
// interval lies above isotropic noise's (8/8 against 0/8: [0.676, 1] against [0, 0.324]);
// overlapping intervals (4/8 against 2/8, 8/8 against 8/8) are inconclusive.
func TestEscapeVerdict(t *testing.T) {
	all := `{"escaped": 8, "escaped_fraction": 1, "escaped_fraction_stderr": 0, "median_escape_step": 100}`
	none := `{"escaped": 0, "escaped_fraction": 0, "escaped_fraction_stderr": 0, "median_escape_step": null}`
	half := `{"escaped": 4, "escaped_fraction": 0.5, "escaped_fraction_stderr": 0.177, "median_escape_step": 900}`
	quarter := `{"escaped": 2, "escaped_fraction": 0.25, "escaped_fraction_stderr": 0.153, "median_escape_step": null}`
	cases := []struct {
		sgd, iso, status, text string
	}{
		{all, none, Holds, "sgd 8/8 = 1 ± 0 (median escape step 100); gauss 8/8"},
		{all, none, Holds, "[0.6756, 1] against isotropic noise's [0, 0.3244]"},
		{none, all, Fails, "isotropic noise escapes more often"},
		{half, quarter, Inconclusive, "overlap"},
		{all, all, Inconclusive, "overlap"},
	}
	for i, c := range cases {
		v := verdictOf(t, networkResults(t, map[string]string{KindEscape: escapeFixture(c.sgd, c.iso)}), TopicSGDEscape)
		if v.Status != c.status || !strings.Contains(v.Text, c.text) {
			t.Errorf("case %d: %s: %s", i, v.Status, v.Text)
		}
	}
}

// TestTrackVerdict: the trajectory's verdict is Info and quotes the implicit part's relative
// size and cosine at the first and last rows with a prior (step 0 and null rows skipped) and
// Yaida's ratio over the first and last windows.
func TestTrackVerdict(t *testing.T) {
	out := `{"lr": 0.1, "two_over_lr": 20, "batch": 16, "steps": 200, "rows": [
	 {"step": 0, "implicit_ratio": 9, "prior_cos": 0.9, "grad_norm": 1, "fdr_ratio": null, "lambda_max": 1},
	 {"step": 100, "implicit_ratio": 50, "prior_cos": 0.5, "grad_norm": 0.4, "fdr_ratio": 0.1, "lambda_max": 2},
	 {"step": 150, "implicit_ratio": null, "prior_cos": null, "grad_norm": 0.3, "fdr_ratio": 0.5, "lambda_max": 2.5},
	 {"step": 200, "implicit_ratio": 3000, "prior_cos": 0.05, "grad_norm": 0.01, "fdr_ratio": 0.9, "lambda_max": 3}]}`
	v := verdictOf(t, networkResults(t, map[string]string{KindTrack: out}), TopicTrack)
	for _, s := range []string{"‖implicit‖/‖s_lik‖ 50 at step 100, 3000 at step 200", "cos(s_prior, −∇L) 0.5 → 0.05", "‖∇L‖ 0.4 → 0.01",
		"R = 0.1 over the window ending at step 100, 0.9 over the last (ending at step 200)", "λ_max at the end 3 beside 2/η = 20", "vanishes at every critical point"} {
		if !strings.Contains(v.Text, s) {
			t.Errorf("the track verdict lacks %q: %s", s, v.Text)
		}
	}
	if v.Status != Info {
		t.Errorf("status %s, want info", v.Status)
	}
}
