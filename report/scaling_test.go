package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/basins"
	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/study"
	"github.com/sgdprior/sgdprior/verify"
)

// scalingVerify is an SGD verify output at (η, B) with two directions (h = 2, 1), measured
// variances (η/B)/h·(1 ± 0.01·seed) and prediction "seed" exactly (η/B)/h.
func scalingVerify(lr float64, b int, seed uint64) json.RawMessage {
	x := lr / float64(b)
	o := verify.Report{LR: lr, Batch: b, Simulator: "sgd", Basis: "full", BasisDim: 2, Chains: 8, Predictions: map[string]verify.PredResult{
		"seed": {Verdict: verify.VerdictHolds, Alpha: 0.01}}, Warnings: []string{}}
	for j, h := range []float64{2, 1} {
		v := x / h * (1 + 0.01*float64(seed)*float64(1-2*j))
		o.Directions = append(o.Directions, verify.Direction{H: jsonnum.Float(h), Var: jsonnum.Float(v), VarSE: jsonnum.Float(0.03 * x),
			Ratio: map[string]jsonnum.Float{"seed": jsonnum.Float(v / (x / h))}, RatioSE: map[string]jsonnum.Float{"seed": 0.03}})
	}
	raw, err := json.Marshal(&o)
	if err != nil {
		panic(err)
	}
	return raw
}

// scalingFixture is problem "p" with SGD verify steps at the given learning rates (B = 10),
// each replicated over seeds 1, 2, 3, and a basins step with two cells of three seeds; the
// summary's Scaling is set as the integrator does.
func scalingFixture(lrs []float64) *study.Results {
	s := &study.Study{Title: "scaling", Problems: []study.Problem{{Name: "p"}}}
	res := &study.Results{Version: "test", CommandLine: []string{"sgdprior", "run"}, StudyFile: "s.toml", Study: s}
	add := func(st study.Step, out json.RawMessage) {
		st.Args = []string{"--json", st.JSON}
		res.Steps = append(res.Steps, study.StepResult{Step: st, CommandLine: st.CommandLine(), Output: out})
	}
	for _, lr := range lrs {
		for seed := uint64(1); seed <= 3; seed++ {
			stem := fmt.Sprintf("verify-lr%g-B10-sgd-seed%d", lr, seed)
			add(study.Step{ID: "p/" + stem, Entry: "p", Command: study.KindVerify, JSON: "p/" + stem + ".json", LR: lr, Batch: 10, Simulator: "sgd", Replicate: seed,
				Base: fmt.Sprintf("p/verify-lr%g-B10-sgd", lr)},
				scalingVerify(lr, 10, seed))
		}
	}
	o := basins.Output{Model: "mlp", Data: "d", HasTest: true, Warnings: []string{}}
	for _, b := range []int{16, 64} {
		for seed := uint64(1); seed <= 3; seed++ {
			o.Runs = append(o.Runs, basins.RunResult{LR: 0.2, Batch: b, Seed: seed, Ratio: basins.Float(0.2 / float64(b)),
				LambdaMax: basins.Float(float64(100/b) + float64(seed)), TestAcc: basins.Float(0.8 + 0.01*float64(seed))})
		}
	}
	raw, _ := json.Marshal(&o)
	add(study.Step{ID: "p/basins", Entry: "p", Command: study.KindBasins, JSON: "p/basins.json"}, raw)
	res.Summary = study.Summarize(res)
	res.Summary.Scaling = study.Scaling(res)
	return res
}

func TestScalingPart(t *testing.T) {
	res := scalingFixture([]float64{0.1, 0.4})
	rep, err := Build(res)
	if err != nil {
		t.Fatal(err)
	}
	figs := map[string]*Figure{}
	for _, f := range rep.Figures {
		checkFigure(t, f)
		if figs[f.Name] != nil {
			t.Errorf("figure %s twice", f.Name)
		}
		figs[f.Name] = f
	}
	for _, n := range []string{"p-scaling-sgd-total", "p-scaling-sgd-direction1", "p-scaling-sgd-direction2", "p-scaling-sharpness", "p-scaling-test-error"} {
		f := figs[n]
		if f == nil {
			t.Errorf("no figure %s", n)
			continue
		}
		if strings.Contains(f.Caption, "Drawn for seed") {
			t.Errorf("the scaling figure %s is captioned as one seed's", n)
		}
	}
	if f := figs["p-scaling-sgd-total"]; f != nil && !strings.Contains(f.Caption, "mean over 3 seeds") {
		t.Errorf("caption %q", f.Caption)
	}
	page := string(rep.HTML)
	for _, s := range []string{"Scaling with η/B", `id="scaling-p"`, `data-table="p-scaling-slopes"`, `data-figure="p-scaling-sgd-total"`} {
		if !strings.Contains(page, s) {
			t.Errorf("the page does not contain %q", s)
		}
	}
	// An exact slope shows in a cell of the table (the caption names the word in any case).
	if !regexp.MustCompile(`<td[^>]*>exact</td>`).MatchString(page) {
		t.Error("the page's slope table has no exact slope")
	}
	tabs := map[string]*Table{}
	for _, tb := range rep.Tables {
		tabs[tb.Name] = tb
	}
	// The slope table holds the summary's numbers at full precision, row for row.
	sl := tabs["p-scaling-slopes"]
	if sl == nil {
		t.Fatal("no slope table")
	}
	se := res.Summary.Scaling[0]
	var want []study.ScalingSlope
	want = append(want, se.Simulators[0].Slopes...)
	want = append(want, se.Network.Slopes...)
	recs, err := csv.NewReader(strings.NewReader(string(sl.CSV()))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(want)+1 {
		t.Fatalf("%d slope rows, want %d", len(recs)-1, len(want))
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for i, w := range want {
		r := recs[i+1]
		if r[col["series"]] != w.Series || r[col["quantity"]] != w.Quantity || r[col["slope"]] != csvFloat(float64(w.Slope)) ||
			r[col["ci_low"]] != csvFloat(float64(w.CILow)) || r[col["ci_high"]] != csvFloat(float64(w.CIHigh)) {
			t.Errorf("slope row %d: %v, want %+v", i, r, w)
		}
	}
	// The seed prediction of the total is an exact power law (slope 1); the measured total
	// has an interval from its 6 values.
	if w := want[1]; !w.Exact || recs[2][col["exact"]] != "yes" {
		t.Errorf("prediction slope %+v, row %v", w, recs[2])
	}
	if w := want[0]; w.N != 6 || !w.CILow.OK() {
		t.Errorf("measured slope %+v", w)
	}
	pts := tabs["p-scaling-points"]
	if pts == nil || len(pts.Rows) != 2*2+2*2 {
		t.Fatalf("points table %+v", pts)
	}
	if c := pts.Rows[0][5]; c.CSV != csvFloat(float64(se.Simulators[0].Points[0].Total.Mean)) {
		t.Errorf("points row 0 mean %q, want %v", c.CSV, se.Simulators[0].Points[0].Total.Mean)
	}
	// The per-step parts are the first seed's: the prediction table has one row per point.
	pr := tabs["p-predictions"]
	if pr == nil {
		t.Fatal("no prediction table")
	}
	if len(pr.Rows) != 2 || !strings.Contains(pr.Caption, "Drawn for seed 1 only, the first of the 3 seeds") {
		t.Errorf("prediction table: %d rows (want 2), caption %q", len(pr.Rows), pr.Caption)
	}
	if f := figs["p-ratios-lr0.4-B10"]; f == nil || !strings.Contains(f.Caption, "Drawn for seed 1 only") {
		t.Errorf("ratio figure %v", f)
	}
	// Every replicate's command is still listed.
	if n := strings.Count(page, `<pre class="cmd">`); n != len(res.Steps) {
		t.Errorf("%d commands listed for %d steps", n, len(res.Steps))
	}
}

// TestScalingPartAbsent: one η/B among the verify steps and the basins cells (both at one
// ratio) gives no scaling part.
func TestScalingPartAbsent(t *testing.T) {
	res := scalingFixture([]float64{0.1})
	// Both basins cells at η/B = 0.2/16.
	var o basins.Output
	last := &res.Steps[len(res.Steps)-1]
	if err := json.Unmarshal(last.Output, &o); err != nil {
		t.Fatal(err)
	}
	for i := range o.Runs {
		o.Runs[i].Batch = 16
		o.Runs[i].Seed = uint64(i + 1)
	}
	last.Output, _ = json.Marshal(&o)
	res.Summary.Scaling = study.Scaling(res)
	if len(res.Summary.Scaling) != 0 {
		t.Fatalf("Scaling: %+v", res.Summary.Scaling)
	}
	rep, err := Build(res)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(rep.HTML), "Scaling with η/B") {
		t.Error("a scaling part with one η/B")
	}
	for _, f := range rep.Figures {
		if strings.Contains(f.Name, "-scaling-") {
			t.Errorf("figure %s", f.Name)
		}
	}
}

// TestScalingAbsentPrediction: a prediction with no value at any point (here "discrete",
// which every verify step has without a covariance or a ratio) is not drawn, and the
// caption names it; the others are drawn as before.
func TestScalingAbsentPrediction(t *testing.T) {
	res := scalingFixture([]float64{0.1, 0.4})
	for i := range res.Steps {
		st := &res.Steps[i]
		if st.Command != study.KindVerify {
			continue
		}
		var o verify.Report
		if err := json.Unmarshal(st.Output, &o); err != nil {
			t.Fatal(err)
		}
		o.Predictions["discrete"] = verify.PredResult{Verdict: verify.VerdictInconclusive, Alpha: 0.01}
		raw, err := json.Marshal(&o)
		if err != nil {
			t.Fatal(err)
		}
		st.Output = raw
	}
	res.Summary = study.Summarize(res)
	rep, err := Build(res)
	if err != nil {
		t.Fatal(err)
	}
	label := study.PredictionLabel("discrete")
	for _, f := range rep.Figures {
		if f.Name != "p-scaling-sgd-total" {
			continue
		}
		if !strings.Contains(f.Caption, "Not drawn") || !strings.Contains(f.Caption, label) {
			t.Errorf("caption %q does not name the absent %s", f.Caption, label)
		}
		if svg := string(f.SVG); strings.Contains(svg, label) || !strings.Contains(svg, "(seed)") {
			t.Errorf("the legend lists the absent %s, or lacks the drawn one", label)
		}
		return
	}
	t.Fatal("no figure p-scaling-sgd-total")
}
