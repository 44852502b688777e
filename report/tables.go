package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/landscape"
	"github.com/sgdprior/sgdprior/score"
	"github.com/sgdprior/sgdprior/study"
	"github.com/sgdprior/sgdprior/verify"
)

// Table is a table of the report, shown in the HTML and written as a CSV file.
type Table struct {
	// Name is the CSV file stem; Title the heading in the HTML.
	Name, Title string
	// Caption explains the columns.
	Caption string
	Header  []string
	Rows    [][]Cell
}

// Cell is one table cell: Text is what the HTML shows (numbers through study.Format), CSV
// what the CSV file holds (numbers at full precision, exactly as in results.json; empty
// when absent). Class, if set, is an HTML class ("neg" marks a negative prior precision).
type Cell struct {
	Text, CSV, Class string
}

// num is a number cell.
func num(x float64) Cell {
	return Cell{Text: study.Format(x), CSV: csvFloat(x)}
}

// numSE is a number ± standard error cell; the CSV holds the number alone (the standard
// error has its own column where a table needs it).
func numSE(x, se float64) Cell {
	return Cell{Text: study.FormatSE(x, se), CSV: csvFloat(x)}
}

// text is a text cell (left-aligned in the HTML).
func text(s string) Cell { return Cell{Text: s, CSV: s, Class: "txt"} }

func intCell(i int) Cell { return Cell{Text: strconv.Itoa(i), CSV: strconv.Itoa(i)} }

// csvFloat writes x at full precision (the shortest text that reads back as x), or "" when
// it is absent.
func csvFloat(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return ""
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// CSV returns the table as CSV with a header row.
func (t *Table) CSV() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(t.Header)
	for _, r := range t.Rows {
		rec := make([]string, len(r))
		for i, c := range r {
			rec[i] = c.CSV
		}
		w.Write(rec)
	}
	w.Flush()
	return b.Bytes()
}

// directionTable is the per-direction table of one score step (MATH.md §6): along each
// Hessian eigendirection v_k, the curvature, the noise, each predicted variance, the
// posterior variance, each implied prior precision (negative ones marked), and, when an
// SGD run at the same (η, B) measured them in the same basis, the measured variance.
func directionTable(name string, s *study.StepResult, o *score.Output, measured *verify.Report) *Table {
	g := o.Gaussian
	if g == nil || len(g.Directions) == 0 {
		return nil
	}
	dirs := g.Directions
	hasExact := false
	var precNames []string
	seen := map[string]bool{}
	prec := make([]map[string]jsonnum.Float, len(dirs))
	for i, d := range dirs {
		if jsonnum.Float(jsonnum.Get(d.VarLinearExact)).OK() {
			hasExact = true
		}
		prec[i] = d.PriorPrecision.ByName()
		for k := range prec[i] {
			seen[k] = true
		}
	}
	precNames = study.PredictionNames(seen)
	if measured != nil && len(measured.Directions) != len(dirs) {
		measured = nil
	}
	t := &Table{
		Name:  name,
		Title: fmt.Sprintf("Per-direction table at θ*, η = %s, B = %d", study.Format(s.LR), s.Batch),
		Caption: fmt.Sprintf("Along each Hessian eigendirection v_k (sharpest first; %d null directions removed): curvature h_k, mini-batch noise c_k = v_kᵀC_Bv_k, the stationary variance predicted by each theory, the posterior variance v_kᵀ(NH)⁻¹v_k, and the implied prior precision v_kᵀ(Σ⁻¹ − N·H_nll)v_k of each prediction. A negative precision (marked) means the \"prior\" widens rather than confines along that direction.",
			g.RemovedDirections),
		Header: []string{"k", "h", "c", "var_seed", "var_continuous", "var_discrete"},
	}
	if hasExact {
		t.Header = append(t.Header, "var_linear_exact")
	}
	t.Header = append(t.Header, "var_posterior")
	if measured != nil {
		t.Header = append(t.Header, "var_sgd", "var_sgd_stderr")
	}
	for _, pn := range precNames {
		t.Header = append(t.Header, "prior_precision_"+pn)
	}
	for k, d := range dirs {
		row := []Cell{intCell(k + 1), num(float64(d.H)), num(float64(d.C)), num(float64(d.VarNote)), num(float64(d.VarContinuous)), num(float64(d.VarDiscrete))}
		if hasExact {
			row = append(row, num(jsonnum.Get(d.VarLinearExact)))
		}
		row = append(row, num(float64(d.VarPosterior)))
		if measured != nil {
			m := measured.Directions[k]
			row = append(row, numSE(float64(m.Var), float64(m.VarSE)), num(float64(m.VarSE)))
		}
		for _, pn := range precNames {
			p, ok := prec[k][pn]
			c := num(math.NaN())
			if ok {
				c = num(float64(p))
				if p.OK() && p < 0 {
					c.Class = "neg"
					c.Text += " (widens)"
				}
			}
			row = append(row, c)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// scoreTable lists the note's quantities and the assumption diagnostics of every score
// step of a problem.
func scoreTable(name string, steps []*study.StepResult) *Table {
	t := &Table{
		Name:    name,
		Title:   "The note's quantities and the diagnostics at θ*",
		Caption: "One row per (η, B): κ_B, the loss and gradient norm at θ*, tr C and tr C_B, the numerical rank of C_B, the gradient noise scale, the fraction of ‖∇L‖² outside the range of C_B, the commutator ‖CH − HC‖/(‖C‖‖H‖), the Jacobian asymmetry of the note's score field, the relative size of the divergence term, Mandt et al.'s optimal constant learning rate and Smith et al.'s implicit regulariser.",
		Header: []string{"lr", "batch", "n", "d", "kappa", "loss", "grad_norm", "trace", "trace_batch", "rank", "noise_scale", "range_fraction",
			"commutator", "asymmetry_seed", "asymmetry_general", "divergence_ratio", "optimal_lr", "implicit_regularizer"},
	}
	for _, s := range steps {
		o, err := s.Score()
		if err != nil {
			continue
		}
		dg := o.Diagnostics
		t.Rows = append(t.Rows, []Cell{num(s.LR), intCell(s.Batch), intCell(o.N), intCell(o.D), num(float64(o.Kappa)), num(jsonnum.Get(o.Loss)), num(float64(o.GradNorm)),
			num(float64(o.Noise.Trace)), num(float64(o.Noise.TraceBatch)), num(float64(o.Noise.Rank)), num(float64(o.Noise.NoiseScale)), num(float64(dg.RangeFraction)),
			num(jsonnum.Get(dg.Commutator)), num(jsonnum.Get(dg.AsymmetryNote)), num(jsonnum.Get(dg.AsymmetryGeneral)), num(jsonnum.Get(dg.DivergenceRatio)),
			num(float64(o.OptimalLR)), num(float64(o.ImplicitRegularizer))})
	}
	return t
}

// predictionTable lists verify's judgement of every prediction for every verify step.
func predictionTable(name string, steps []*study.StepResult) *Table {
	t := &Table{
		Name:  name,
		Title: "Predictions against the measured stationary distribution",
		Caption: "For each simulation and each prediction: verify's verdict (holds, fails, or inconclusive with its reason: MATH.md §7.2), " +
			"the whitened relative error with the sampling contribution removed and its 1 − α bounds, the scale error the test detects with power 0.8, " +
			"the p-value of the covariance test at level α, the relative Frobenius error, the Gaussian KL divergence, the score error at the samples, " +
			"and the run's convergence (largest split-R̂, smallest effective sample size).",
		Header: []string{"lr", "batch", "simulator", "prediction", "verdict", "rel_error", "ci_low", "ci_high", "detectable_rel_error", "p_value", "alpha",
			"rel_frobenius", "kl", "score_error", "converged", "rhat_max", "ess_min", "reason"},
	}
	for _, s := range steps {
		o, err := s.Verify()
		if err != nil {
			continue
		}
		for _, pn := range study.PredictionNames(o.Predictions) {
			p := o.Predictions[pn]
			verdict := Cell{Text: "—"}
			switch p.Verdict {
			case verify.VerdictHolds:
				verdict = Cell{Text: "holds", Class: study.Holds}
			case verify.VerdictFails:
				verdict = Cell{Text: "fails", Class: study.Fails}
			case verify.VerdictInconclusive:
				verdict = Cell{Text: "inconclusive", Class: study.Inconclusive}
			}
			conv := "no"
			if o.Converged {
				conv = "yes"
			}
			t.Rows = append(t.Rows, []Cell{num(s.LR), intCell(s.Batch), text(s.Simulator), text(pn), verdict,
				num(float64(p.Effect.RelError)), num(float64(p.Effect.CILow)), num(float64(p.Effect.CIHigh)), num(float64(p.DetectableRelError)),
				num(float64(p.PValue)), num(p.Alpha), num(float64(p.RelFrobenius)), num(float64(p.KL)), num(float64(p.ScoreError)),
				text(conv), num(float64(o.RHatMax)), num(float64(o.ESSMin)), text(p.Reason)})
		}
	}
	return t
}

// wellTable lists a landscape's wells.
func wellTable(name string, o *landscape.Output) *Table {
	t := &Table{
		Name:    name,
		Title:   fmt.Sprintf("Wells of the %s landscape (η = %s, B = %d)", o.Preset, study.Format(float64(o.LR)), o.Batch),
		Caption: "Each well's probability under the SDE's exact density, the note's density and SGD, and its mean escape time: exact first passage, Kramers' approximation and measured on SGD (in SGD steps).",
		Header:  []string{"well", "center", "curvature", "mass_exact", "mass_seed", "mass_sgd", "mass_sgd_stderr", "escape_exact", "escape_kramers", "escape_sgd", "escape_sgd_stderr"},
	}
	// The landscape output reports no curvature: its column stays empty.
	for i, w := range o.Wells {
		t.Rows = append(t.Rows, []Cell{intCell(i + 1), listCell(jsonnum.Values(w.Center)), listCell(nil), num(float64(w.MassExact)), num(float64(w.MassNote)),
			numSE(float64(w.MassSGD), float64(w.MassSGDStderr)), num(float64(w.MassSGDStderr)), num(float64(w.EscapeExact)), num(float64(w.EscapeKramers)),
			numSE(float64(w.EscapeSGD), float64(w.EscapeSGDStderr)), num(float64(w.EscapeSGDStderr))})
	}
	return t
}

// sweepTable lists a landscape's η/B sweep.
func sweepTable(name string, o *landscape.Output, sum *study.EntrySummary) *Table {
	t := &Table{
		Name:    name,
		Title:   fmt.Sprintf("Well shares across the η/B sweep (%s)", o.Preset),
		Caption: "Each well's share under the SDE's exact density, the note's density and SGD, for each (η, B).",
		Header:  []string{"lr", "batch", "lr_over_batch", "well", "share_exact", "share_seed", "share_sgd", "share_sgd_stderr"},
	}
	at := func(f []jsonnum.Float, i int) float64 {
		if i < len(f) {
			return float64(f[i])
		}
		return math.NaN()
	}
	for i, sw := range o.Sweep {
		x := math.NaN()
		if sum != nil && i < len(sum.SweepX) {
			x = sum.SweepX[i].Float64()
		}
		nw := max(len(sw.Shares.Exact), len(sw.Shares.Note), len(sw.Shares.SGD))
		for w := 0; w < nw; w++ {
			t.Rows = append(t.Rows, []Cell{num(float64(sw.LR)), intCell(sw.Batch), num(x), intCell(w + 1), num(at(sw.Shares.Exact, w)), num(at(sw.Shares.Note, w)),
				numSE(at(sw.Shares.SGD, w), at(sw.Shares.SGDStderr, w)), num(at(sw.Shares.SGDStderr, w))})
		}
	}
	return t
}

// summaryTables are the study-wide tables: verdicts, warnings and steps.
func summaryTables(res *study.Results) []*Table {
	v := &Table{Name: "verdicts", Title: "Verdicts", Header: []string{"entry", "topic", "status", "text", "step"}}
	for _, e := range res.Summary.Entries {
		for _, vd := range e.Verdicts {
			v.Rows = append(v.Rows, []Cell{text(e.Name), text(vd.Topic), {Text: vd.Status, CSV: vd.Status, Class: "txt " + vd.Status}, text(vd.Text), text(vd.Step)})
		}
	}
	w := &Table{Name: "warnings", Title: "Warnings", Header: []string{"step", "warning"}}
	for _, x := range res.Summary.Warnings {
		w.Rows = append(w.Rows, []Cell{text(x.Step), text(x.Text)})
	}
	s := &Table{Name: "steps", Title: "Steps", Header: []string{"step", "command_line", "json"}}
	for _, st := range res.Steps {
		s.Rows = append(s.Rows, []Cell{text(st.ID), text(st.CommandLine), text(st.JSON)})
	}
	return []*Table{v, w, s}
}

// listCell shows a short vector ("1.5" or "1.5, −2"); the CSV separates its values by
// spaces.
func listCell(xs []float64) Cell {
	if len(xs) == 0 {
		return Cell{Text: "—"}
	}
	show, raw := make([]string, len(xs)), make([]string, len(xs))
	for i, x := range xs {
		show[i], raw[i] = study.Format(x), csvFloat(x)
	}
	return Cell{Text: strings.Join(show, ", "), CSV: strings.Join(raw, " ")}
}
