package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/sgdprior/sgdprior/basins"
	"github.com/sgdprior/sgdprior/escape"
	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/study"
	"github.com/sgdprior/sgdprior/track"
)

// networkParts adds the figures and tables of a problem's real-network steps among steps
// (track, basins, escape) to e.
func networkParts(name string, e *entry, steps []*study.StepResult) error {
	var tracks []*track.Output
	for _, s := range steps {
		switch s.Command {
		case study.KindTrack:
			o, err := s.Track()
			if err != nil {
				e.Missing = append(e.Missing, err.Error())
				continue
			}
			tracks = append(tracks, o)
		case study.KindBasins:
			o, err := s.Basins()
			if err != nil {
				e.Missing = append(e.Missing, err.Error())
				continue
			}
			if f, err := sharpnessFigure(name+"-sharpness", o); err != nil {
				return err
			} else if f != nil {
				e.Figures = append(e.Figures, f)
			}
			e.Tables = append(e.Tables, basinsRunTable(name+"-basins-runs", o), basinsRatioTable(name+"-basins-by-ratio", o))
		case study.KindEscape:
			o, err := s.Escape()
			if err != nil {
				e.Missing = append(e.Missing, err.Error())
				continue
			}
			e.Tables = append(e.Tables, escapeTable(name+"-escape", o))
		}
	}
	if len(tracks) > 0 {
		figs, err := trackFigures(name, tracks)
		if err != nil {
			return err
		}
		e.Figures = append(e.Figures, figs...)
	}
	return nil
}

// trackMetrics are the track columns the report plots against the step, one series per
// trajectory.
var trackMetrics = []struct {
	key, label string
	val        func(r *track.Row) jsonnum.Float
	ref        func(o *track.Output) float64 // a reference line per trajectory (nil: none)
	refName    string
}{
	{"train_loss", "training NLL", func(r *track.Row) jsonnum.Float { return r.TrainLoss }, nil, ""},
	{"test_loss", "test NLL", func(r *track.Row) jsonnum.Float { return r.TestLoss }, nil, ""},
	{"lambda_max", "λ_max(H)", func(r *track.Row) jsonnum.Float { return r.LambdaMax }, func(o *track.Output) float64 { return float64(o.TwoOverLR) }, "2/η"},
	{"implicit_ratio", "‖implicit‖/‖s_lik‖", func(r *track.Row) jsonnum.Float { return r.ImplicitRatio }, nil, ""},
	{"prior_cos", "cos(s_prior, −∇L)", func(r *track.Row) jsonnum.Float { return r.PriorCos }, nil, ""},
	{"fdr_ratio", "Yaida's ratio R", func(r *track.Row) jsonnum.Float { return r.FDRRatio }, func(*track.Output) float64 { return 1 }, "stationarity"},
}

// trackFigures draws each of trackMetrics against the step, a series per trajectory (and
// its reference line); a metric without points has no figure. The y axis is logarithmic
// for positive metrics spanning more than two decades.
func trackFigures(name string, tracks []*track.Output) ([]*Figure, error) {
	var figs []*Figure
	for _, m := range trackMetrics {
		var series []Series
		refs := map[float64]bool{} // a reference line shared by the trajectories is drawn once
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, o := range tracks {
			s := Series{Name: fmt.Sprintf("η = %s, B = %d", study.Format(float64(o.LR)), o.Batch)}
			for i := range o.Rows {
				r := &o.Rows[i]
				if v := m.val(r); v.OK() {
					s.X, s.Y = append(s.X, float64(r.Step)), append(s.Y, float64(v))
					lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
				}
			}
			if len(s.X) == 0 {
				continue
			}
			series = append(series, s)
			if m.ref != nil && !refs[m.ref(o)] {
				y := m.ref(o)
				refs[y] = true
				name := m.refName + " = " + study.Format(y)
				series = append(series, Series{Name: name, X: []float64{s.X[0], s.X[len(s.X)-1]}, Y: []float64{y, y}})
			}
		}
		if len(series) == 0 {
			continue
		}
		logY := lo > 0 && hi > 100*lo
		caption := fmt.Sprintf("%s along SGD's trajectories on %s %s, one line per learning rate (sgdprior track).", m.label, tracks[0].Model, tracks[0].Data)
		f, err := LinePlot(name+"-track-"+m.key, m.label+" along the trajectory", "step", m.label, caption, series, false, logY)
		if err != nil {
			return nil, fmt.Errorf("figure %s: %w", m.key, err)
		}
		figs = append(figs, f)
	}
	return figs, nil
}

// sharpnessFigure draws λ_max against η/B (SGD cells, mean ± 2 SE over seeds) at the
// minimum and at the last iterate; nil without ratios.
func sharpnessFigure(name string, o *basins.Output) (*Figure, error) {
	if len(o.Summary.ByRatio) == 0 {
		return nil, nil
	}
	atMin := Series{Name: "at the minimum", Points: true}
	atIter := Series{Name: "at the last iterate", Points: true}
	for _, b := range o.Summary.ByRatio {
		x := float64(b.Ratio)
		atMin.X, atMin.Y, atMin.Err = append(atMin.X, x), append(atMin.Y, float64(b.LambdaMaxMean)), append(atMin.Err, zeroNaN(float64(b.LambdaMaxStderr)))
		atIter.X, atIter.Y, atIter.Err = append(atIter.X, x), append(atIter.Y, float64(b.IterateLambdaMaxMean)), append(atIter.Err, zeroNaN(float64(b.IterateLambdaMaxStderr)))
	}
	caption := fmt.Sprintf("λ_max of the Hessian against η/B for SGD on %s %s: mean over seeds ± 2 SE, at the minimum each run descends to and at its last iterate (sgdprior basins).", o.Model, o.Data)
	return LinePlot(name, "Sharpness against η/B", "η/B", "λ_max", caption, []Series{atMin, atIter}, true, false)
}

func zeroNaN(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

// basinsRunTable lists every basins run.
func basinsRunTable(name string, o *basins.Output) *Table {
	t := &Table{
		Name:  name,
		Title: fmt.Sprintf("The minima reached (%s on %s, weight decay %s)", o.Model, o.Data, study.Format(o.WeightDecay)),
		Caption: fmt.Sprintf("Each (η, B, seed) run of SGD (%s epochs) and of full-batch GD, descended to ‖∇L‖ ≤ %s: λ_max at the minimum and at the last iterate beside 2/η, tr H (%s), losses (mean NLL) and accuracies.",
			study.Format(o.Epochs), study.Format(o.GradTol), o.TraceMethod),
		Header: []string{"arm", "lr", "batch", "seed", "lr_over_batch", "lambda_max", "iterate_lambda_max", "two_over_lr", "trace_h", "trace_h_stderr",
			"train_loss", "test_loss", "train_acc", "test_acc", "gen_gap", "grad_norm", "converged"},
	}
	for _, r := range o.Runs {
		arm, conv := "sgd", "no"
		if r.GD {
			arm = "gd"
		}
		if r.Converged {
			conv = "yes"
		}
		t.Rows = append(t.Rows, []Cell{text(arm), num(float64(r.LR)), intCell(r.Batch), intCell(int(r.Seed)), num(float64(r.Ratio)), num(float64(r.LambdaMax)),
			num(float64(r.IterateLambdaMax)), num(float64(r.TwoOverLR)), numSE(float64(r.TraceH), float64(r.TraceHStderr)), num(float64(r.TraceHStderr)),
			num(float64(r.TrainLoss)), num(float64(r.TestLoss)), num(float64(r.TrainAcc)), num(float64(r.TestAcc)), num(float64(r.GenGap)), num(float64(r.GradNorm)), text(conv)})
	}
	return t
}

// basinsRatioTable lists sharpness by η/B and the paired comparisons.
func basinsRatioTable(name string, o *basins.Output) *Table {
	t := &Table{
		Name:    name,
		Title:   "Sharpness by η/B and the paired comparisons",
		Caption: fmt.Sprintf("Per η/B, λ_max (mean ± SE over seeds of the cells' mean) at the minimum and at the last iterate; then each paired comparison over seeds (mean difference A − B, %s%% Student-t interval).", study.Format(100*basins.Level)),
		Header:  []string{"what", "a", "b", "quantity", "value", "stderr", "ci_low", "ci_high", "seeds", "verdict"},
	}
	for _, b := range o.Summary.ByRatio {
		t.Rows = append(t.Rows,
			[]Cell{text("η/B = " + study.Format(float64(b.Ratio))), text(strings.Join(b.Cells, "; ")), text(""), text("lambda_max"),
				numSE(float64(b.LambdaMaxMean), float64(b.LambdaMaxStderr)), num(float64(b.LambdaMaxStderr)), num(math.NaN()), num(math.NaN()), intCell(b.Seeds), text("")},
			[]Cell{text("η/B = " + study.Format(float64(b.Ratio))), text(strings.Join(b.Cells, "; ")), text(""), text("iterate_lambda_max"),
				numSE(float64(b.IterateLambdaMaxMean), float64(b.IterateLambdaMaxStderr)), num(float64(b.IterateLambdaMaxStderr)), num(math.NaN()), num(math.NaN()), intCell(b.Seeds), text("")})
	}
	add := func(what string, cs []basins.Comparison) {
		for _, c := range cs {
			t.Rows = append(t.Rows, []Cell{text(what), text(c.A), text(c.B), text(c.Quantity), num(float64(c.MeanDiff)), num(float64(c.Stderr)),
				num(float64(c.CILow)), num(float64(c.CIHigh)), intCell(c.Seeds), text(c.Verdict)})
		}
	}
	add("equal η/B", o.Summary.EqualRatio)
	add("SGD vs GD", o.Summary.SGDvsGD)
	return t
}

// escapeTable lists each noise's escapes.
func escapeTable(name string, o *escape.Output) *Table {
	s := o.Settings
	t := &Table{
		Name:  name,
		Title: fmt.Sprintf("Escapes from θ* (η = %s, B = %d, %d chains per noise)", study.Format(s.LR), s.Batch, s.Chains),
		Caption: fmt.Sprintf("A chain escapes when L > L(θ*) + δ = %s (δ = %s), checked every %d steps up to %d (later escapes censored): the escaped fraction ± binomial SE, the Kaplan–Meier median, the censored-exponential mean ± SE, and where escaped chains land after descent.",
			study.Format(float64(o.Threshold)), study.Format(s.Delta), s.CheckEvery, s.Steps),
		Header: []string{"noise", "escaped", "chains", "escaped_fraction", "escaped_fraction_stderr", "median_escape_step", "mean_escape_step", "mean_escape_step_stderr",
			"landing_lambda_max", "landing_test_error"},
	}
	for _, n := range escape.Noises {
		r := o.Noises.Get(n)
		if r == nil {
			continue
		}
		t.Rows = append(t.Rows, []Cell{text(n.String()), intCell(r.Escaped), intCell(s.Chains), numSE(float64(r.EscapedFraction), float64(r.EscapedFractionStderr)),
			num(float64(r.EscapedFractionStderr)), num(float64(r.MedianEscapeStep)), numSE(float64(r.MeanEscapeStep), float64(r.MeanEscapeStepStderr)),
			num(float64(r.MeanEscapeStepStderr)), num(float64(r.Landing.LambdaMax)), num(float64(r.Landing.TestError))})
	}
	return t
}

// networkAnswer is one real-network verdict quoted in the overview.
type networkAnswer struct {
	Entry   string
	Verdict study.Verdict
}

// networkAnswers are the real-network verdicts of every entry, in the order of
// study.NetworkTopics within each entry.
func networkAnswers(entries []*entry) []networkAnswer {
	var out []networkAnswer
	for _, e := range entries {
		for _, topic := range study.NetworkTopics {
			for _, v := range e.Verdicts {
				if v.Topic == topic {
					out = append(out, networkAnswer{Entry: e.Title, Verdict: v})
				}
			}
		}
	}
	return out
}
