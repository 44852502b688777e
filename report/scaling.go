package report

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/sgdprior/sgdprior/study"
)

// scalingPart is the "Scaling with η/B" part of a problem: its figures and its table.
type scalingPart struct {
	Figures []*Figure
	Tables  []*Table
}

// scalingEntry returns the summary's scaling entry of the named problem, nil without one.
func scalingEntry(res *study.Results, name string) *study.ScalingEntry {
	for i := range res.Summary.Scaling {
		if res.Summary.Scaling[i].Problem == name {
			return &res.Summary.Scaling[i]
		}
	}
	return nil
}

// seSentence says how a simulator's points' error bars were estimated.
func seSentence(ss *study.SimulatorScaling) string {
	if ss.SE == study.SEOverSeeds {
		return fmt.Sprintf("mean over %d seeds ± 2 standard errors over seeds", ss.Seeds)
	}
	return "one seed: ± 2 of the run's own between-chain standard errors (the total's from the directions' in quadrature)"
}

// scalingParts draws, for each simulator, the measured stationary variance against η/B
// (log-log, with error bars) beside each prediction: the total, and for the first
// simulator also the sharpest and the flattest Hessian directions; and, where the basins
// step ran, λ_max and the test error of each cell against η/B.
func scalingParts(name string, se *study.ScalingEntry) (*scalingPart, error) {
	part := &scalingPart{}
	for k := range se.Simulators {
		ss := &se.Simulators[k]
		label := study.SimulatorLabel(ss.Simulator)
		type view struct {
			stem, what string
			dir        int // −1: total
		}
		views := []view{{"total", "total stationary variance (trace of the covariance in the measured subspace)", -1}}
		if k == 0 && ss.Directions >= 2 {
			views = append(views,
				view{"direction1", "stationary variance along the sharpest Hessian direction", 0},
				view{fmt.Sprintf("direction%d", ss.Directions), fmt.Sprintf("stationary variance along the flattest measured Hessian direction (%d of %d)", ss.Directions, ss.Directions), ss.Directions - 1})
		}
		for _, v := range views {
			meas := Series{Name: labelMeasured, Points: true}
			preds := make([]Series, len(ss.Predictions))
			for q, n := range ss.Predictions {
				preds[q].Name = study.PredictionLabel(n)
			}
			for i := range ss.Points {
				pt := &ss.Points[i]
				x := float64(pt.Ratio)
				m := pt.Total
				if v.dir >= 0 {
					m = pt.Direction[v.dir]
				}
				meas.X, meas.Y, meas.Err = append(meas.X, x), append(meas.Y, float64(m.Mean)), append(meas.Err, zeroNaN(float64(m.SE)))
				for q := range ss.Predictions {
					p := pt.Prediction[q].Total
					if v.dir >= 0 {
						p = pt.Prediction[q].Direction[v.dir]
					}
					preds[q].X, preds[q].Y = append(preds[q].X, x), append(preds[q].Y, float64(p.Mean))
				}
			}
			caption := fmt.Sprintf("The %s of %s at each (η, B) against η/B, log-log: measured (%s) beside each prediction (lines; mean over seeds). The fitted slopes are in the table below.",
				v.what, label, seSentence(ss))
			drawn, absent := plottable(preds)
			if len(absent) > 0 {
				caption += " Not drawn, having no positive finite value at any point (the verify steps say why): " + strings.Join(absent, ", ") + "."
			}
			f, err := LinePlot(name+"-scaling-"+ss.Simulator+"-"+v.stem, fmt.Sprintf("%s: %s against η/B", label, strings.SplitN(v.what, " (", 2)[0]), "η/B", "variance",
				caption, append([]Series{meas}, drawn...), true, true)
			if err != nil {
				return nil, fmt.Errorf("figure %s-scaling-%s-%s: %w", name, ss.Simulator, v.stem, err)
			}
			part.Figures = append(part.Figures, f)
		}
	}
	if ns := se.Network; ns != nil {
		for _, q := range []struct {
			stem, title, ylabel string
			val                 func(c *study.NetworkCell) study.ScalingValue
		}{
			{"sharpness", "Sharpness of SGD's minima against η/B", "λ_max", func(c *study.NetworkCell) study.ScalingValue { return c.LambdaMax }},
			{"test-error", "Test error of SGD's minima against η/B", ns.TestError, func(c *study.NetworkCell) study.ScalingValue { return c.TestError }},
		} {
			s := Series{Name: labelMeasured, Points: true}
			for i := range ns.Cells {
				c := &ns.Cells[i]
				v := q.val(c)
				s.X, s.Y, s.Err = append(s.X, float64(c.Ratio)), append(s.Y, float64(v.Mean)), append(s.Err, zeroNaN(float64(v.SE)))
			}
			caption := fmt.Sprintf("%s at the minimum of each (η, B) cell of SGD against η/B, log-log: mean over the basins step's seeds ± 2 standard errors over seeds (sgdprior basins).", q.ylabel)
			f, err := LinePlot(name+"-scaling-"+q.stem, q.title, "η/B", q.ylabel, caption, []Series{s}, true, true)
			if err != nil {
				return nil, fmt.Errorf("figure %s-scaling-%s: %w", name, q.stem, err)
			}
			part.Figures = append(part.Figures, f)
		}
	}
	part.Tables = append(part.Tables, slopeTable(name+"-scaling-slopes", se), scalingPointTable(name+"-scaling-points", se))
	return part, nil
}

// intervalCell shows a slope's 95% interval "[low, high]", "exact" for an exact power law,
// or "—" (empty in the CSV).
func intervalCell(s *study.ScalingSlope) Cell {
	switch {
	case s.Exact:
		return Cell{Text: "exact", CSV: "exact", Class: "txt"}
	case s.CILow.OK() && s.CIHigh.OK():
		return Cell{Text: "[" + study.Format(float64(s.CILow)) + ", " + study.Format(float64(s.CIHigh)) + "]",
			CSV: "[" + csvFloat(float64(s.CILow)) + ", " + csvFloat(float64(s.CIHigh)) + "]", Class: "txt"}
	}
	return Cell{Text: "—", Class: "txt"}
}

// slopeTable lists every fitted slope of the entry.
func slopeTable(name string, se *study.ScalingEntry) *Table {
	t := &Table{
		Name:  name,
		Title: "Slopes against η/B",
		Caption: "Least-squares fit of log(value) on log(η/B) over every (seed, point) value of each series: the slope, its standard error and its 95% Student-t interval (n − 2 degrees of freedom; " +
			"unavailable with fewer than two distinct η/B or n − 2 < 1). A prediction has no sampling noise: “exact” marks one whose residuals are at round-off (an exact power law); " +
			"otherwise its interval measures its departure from a power law. Values that are not finite and positive are left out and counted.",
		Header: []string{"simulator", "series", "quantity", "n", "ratios", "left_out", "slope", "stderr", "interval", "ci_low", "ci_high", "exact", "max_residual", "note"},
	}
	row := func(sim string, s *study.ScalingSlope) {
		q := s.Quantity
		if q != "measured" && q != "lambda_max" && q != "test_error" {
			q = study.PredictionLabel(q)
		}
		ex := "no"
		if s.Exact {
			ex = "yes"
		}
		iv := intervalCell(s)
		t.Rows = append(t.Rows, []Cell{text(sim), text(s.Series), {Text: q, CSV: s.Quantity, Class: "txt"}, intCell(s.N), intCell(s.Ratios), intCell(s.LeftOut),
			num(float64(s.Slope)), num(float64(s.SE)), iv, num(float64(s.CILow)), num(float64(s.CIHigh)), text(ex), num(float64(s.MaxResidual)), text(s.Note)})
	}
	for k := range se.Simulators {
		ss := &se.Simulators[k]
		for i := range ss.Slopes {
			row(ss.Simulator, &ss.Slopes[i])
		}
	}
	if se.Network != nil {
		for i := range se.Network.Slopes {
			row("basins (SGD)", &se.Network.Slopes[i])
		}
	}
	return t
}

// scalingPointTable lists the values the figures draw: per simulator and point, the total
// measured variance and each prediction's, then the basins cells.
func scalingPointTable(name string, se *study.ScalingEntry) *Table {
	t := &Table{
		Name:  name,
		Title: "Quantities against η/B",
		Caption: "Per simulator and (η, B): the total stationary variance (trace in the measured subspace), measured and predicted, as the mean over the seeds with its standard error " +
			"(over seeds with seed replicates, else the run's own); then λ_max and the test error of each basins cell, over its seeds. Per-direction values are in results.json (summary.scaling).",
		Header: []string{"simulator", "lr", "batch", "lr_over_batch", "quantity", "mean", "stderr", "seeds"},
	}
	for k := range se.Simulators {
		ss := &se.Simulators[k]
		for i := range ss.Points {
			pt := &ss.Points[i]
			add := func(q string, v study.ScalingValue) {
				t.Rows = append(t.Rows, []Cell{text(ss.Simulator), num(pt.LR), intCell(pt.Batch), num(float64(pt.Ratio)), text(q),
					numSE(float64(v.Mean), float64(v.SE)), num(float64(v.SE)), intCell(len(v.Values))})
			}
			add("measured", pt.Total)
			for _, p := range pt.Prediction {
				add(p.Name, p.Total)
			}
		}
	}
	if ns := se.Network; ns != nil {
		for i := range ns.Cells {
			c := &ns.Cells[i]
			for _, q := range []struct {
				n string
				v study.ScalingValue
			}{{"lambda_max", c.LambdaMax}, {"test_error", c.TestError}} {
				t.Rows = append(t.Rows, []Cell{text("basins (SGD)"), num(c.LR), intCell(c.Batch), num(float64(c.Ratio)), text(q.n),
					numSE(float64(q.v.Mean), float64(q.v.SE)), num(float64(q.v.SE)), intCell(len(q.v.Values))})
			}
		}
	}
	return t
}

// firstSeed returns the steps the per-step figures and tables are drawn from: when the
// study is replicated (some step has a Base ID), those of the first seed (the first
// replicated step's) and the unreplicated ones, with a sentence for the captions; else every
// step and "".
func firstSeed(steps []*study.StepResult) ([]*study.StepResult, string) {
	var first uint64
	found := false
	seeds := map[uint64]bool{}
	for _, s := range steps {
		if s.Base != "" {
			if !found {
				first, found = s.Replicate, true
			}
			seeds[s.Replicate] = true
		}
	}
	if !found {
		return steps, ""
	}
	var out []*study.StepResult
	for _, s := range steps {
		if s.InReplicate(first) {
			out = append(out, s)
		}
	}
	return out, fmt.Sprintf("Drawn for seed %d only, the first of the %d seeds the steps are replicated over; the verdicts and the scaling part aggregate every seed.", first, len(seeds))
}

// plottable splits the series into those with a positive finite value somewhere (drawn on
// a log axis) and the names of the others (a prediction that does not exist at any point,
// such as the note's covariance where its precision is indefinite).
func plottable(series []Series) (drawn []Series, absent []string) {
	for _, s := range series {
		if slices.ContainsFunc(s.Y, func(y float64) bool { return y > 0 && !math.IsInf(y, 0) }) {
			drawn = append(drawn, s)
		} else {
			absent = append(absent, s.Name)
		}
	}
	return drawn, absent
}

// captionNote appends note to the captions of figs and tabs.
func captionNote(note string, figs []*Figure, tabs []*Table) {
	if note == "" {
		return
	}
	for _, f := range figs {
		f.Caption = strings.TrimSpace(f.Caption + " " + note)
	}
	for _, t := range tabs {
		t.Caption = strings.TrimSpace(t.Caption + " " + note)
	}
}
