package report

import (
	"encoding/json"
	"html/template"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/study"
)

const networkBasinsOut = `{"model": "mlp:8", "data": "digits", "weight_decay": 0.001, "epochs": 2, "grad_tol": 1e-8, "trace_method": "exact", "has_test": true,
"runs": [{"lr": 0.05, "batch": 16, "seed": 1, "ratio": 0.003125, "lambda_max": 0.4, "iterate_lambda_max": 0.9, "two_over_lr": 40, "trace_h": 3, "trace_h_stderr": null,
  "train_loss": 0.1, "test_loss": 0.2, "train_acc": 0.98, "test_acc": 0.95, "gen_gap": 0.1, "grad_norm": 1e-9, "converged": true},
 {"lr": 0.05, "batch": 1438, "seed": 1, "gd": true, "ratio": 3.5e-5, "lambda_max": 0.41, "iterate_lambda_max": 0.5, "two_over_lr": 40, "trace_h": 3.1,
  "train_loss": 0.1, "test_loss": 0.21, "train_acc": 0.98, "test_acc": 0.94, "gen_gap": 0.11, "grad_norm": 1e-9, "converged": true}],
"summary": {"sharpness_test_error_rank_corr": {"rho": 0.3, "ci_low": -0.1, "ci_high": 0.6, "target": "test_error", "runs": 2, "resamples": 10, "valid_resamples": 10, "level": 0.95},
 "by_ratio": [{"ratio": 0.003125, "lambda_max_mean": 0.4, "lambda_max_stderr": 0.01, "iterate_lambda_max_mean": 0.9, "iterate_lambda_max_stderr": 0.05, "seeds": 5, "cells": ["sgd lr=0.05 batch=16"]},
  {"ratio": 0.0125, "lambda_max_mean": 0.38, "lambda_max_stderr": 0.02, "iterate_lambda_max_mean": 0.8, "iterate_lambda_max_stderr": 0.1, "seeds": 5, "cells": ["sgd lr=0.2 batch=16"]}],
 "sgd_vs_gd": [{"a": "sgd lr=0.05 batch=16", "b": "gd lr=0.05", "quantity": "lambda_max", "seeds": 5, "mean_diff": -0.01, "stderr": 0.01, "ci_low": -0.04, "ci_high": 0.02, "verdict": "inconclusive"}]}}`

const networkEscapeOut = `{"settings": {"lr": 1, "batch": 16, "chains": 8, "steps": 1000, "check_every": 50, "delta": 0.01}, "loss_star": 0.05, "lambda_max": 0.18, "lr_lambda_max": 0.18, "threshold": 0.06,
"noises": {"sgd": {"escaped": 8, "escaped_fraction": 1, "escaped_fraction_stderr": 0, "median_escape_step": 100, "mean_escape_step": 87.5, "mean_escape_step_stderr": 31},
 "isotropic": {"escaped": 0, "escaped_fraction": 0, "escaped_fraction_stderr": 0, "median_escape_step": null, "mean_escape_step": null}}}`

const networkTrackOut = `{"model": "mlp:8", "data": "digits", "lr": 0.05, "two_over_lr": 40, "batch": 16, "steps": 100, "rows": [
 {"step": 0, "train_loss": 2.3, "lambda_max": 0.1, "implicit_ratio": 5, "prior_cos": 0.9, "fdr_ratio": null, "grad_norm": 1},
 {"step": 100, "train_loss": 0.3, "lambda_max": 0.8, "implicit_ratio": 50, "prior_cos": 0.6, "fdr_ratio": 0.2, "grad_norm": 0.2}]}`

// TestNetworkSection: a problem with track, basins and escape steps gets its verdicts, the
// basins and escape tables (with CSV), the sharpness and track figures, and the overview
// quotes the real-network verdicts with their numbers.
func TestNetworkSection(t *testing.T) {
	s := &study.Study{Title: "net", Problems: []study.Problem{{Name: "n", Title: "Network"}}}
	mk := func(cmd, stem, out string) study.StepResult {
		st := study.Step{ID: "n/" + stem, Entry: "n", Command: cmd, JSON: "n/" + stem + ".json"}
		return study.StepResult{Step: st, CommandLine: st.CommandLine(), Output: json.RawMessage(out)}
	}
	res := &study.Results{Version: "test", Study: s, Steps: []study.StepResult{
		mk(study.KindTrack, "track-lr0.05", networkTrackOut), mk(study.KindBasins, "basins", networkBasinsOut), mk(study.KindEscape, "escape", networkEscapeOut)}}
	res.Summary = study.Summarize(res)
	rep, err := Build(res)
	if err != nil {
		t.Fatal(err)
	}
	var figs, tables []string
	for _, f := range rep.Figures {
		figs = append(figs, f.Name)
		checkFigure(t, f)
	}
	for _, tb := range rep.Tables {
		tables = append(tables, tb.Name)
	}
	for _, want := range []string{"n-sharpness", "n-track-train_loss", "n-track-lambda_max", "n-track-implicit_ratio", "n-track-fdr_ratio"} {
		if !strings.Contains(strings.Join(figs, " "), want) {
			t.Errorf("no figure %s in %v", want, figs)
		}
	}
	for _, want := range []string{"n-basins-runs", "n-basins-by-ratio", "n-escape"} {
		if !strings.Contains(strings.Join(tables, " "), want) {
			t.Errorf("no table %s in %v", want, tables)
		}
	}
	for _, tb := range rep.Tables {
		if tb.Name == "n-escape" {
			csv := string(tb.CSV())
			if !strings.Contains(csv, "sgd,8,8,1,0,100,87.5,31") || !strings.Contains(csv, "isotropic,0,8,0,0,,,") {
				t.Errorf("escape CSV:\n%s", csv)
			}
		}
	}
	page := string(rep.HTML)
	i, j := strings.Index(page, "<main>"), strings.Index(page, `<h2 id="glance">`)
	overview := page[i:j]
	for _, want := range []string{"vanishes at every critical point", study.TopicSGDFlatter, study.TopicFlatGeneral, study.TopicSGDEscape, study.TopicTrack,
		"sgd 8/8 = 1 ± 0", "-0.01 [-0.04, 0.02]", "[-0.1, 0.6]", "‖implicit‖/‖s_lik‖ 50 at step 100"} {
		if !strings.Contains(overview, template.HTMLEscapeString(want)) {
			t.Errorf("the overview lacks %q", want)
		}
	}
}
