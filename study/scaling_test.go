package study

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/sgdprior/sgdprior/basins"
	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/verify"
)

func closeRel(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(math.Abs(a), math.Abs(b))
}

// TestScalingLogLogFit: an exact power law is fitted exactly; noisy data agree with gonum's
// stat.LinearRegression and with the slope's variance from the normal equations,
// s²·[(XᵀX)⁻¹]₁₁.
func TestScalingLogLogFit(t *testing.T) {
	x := []float64{math.Log(1e-3), math.Log(2e-3), math.Log(8e-3), math.Log(3e-2)}
	y := make([]float64, len(x))
	for i := range x {
		y[i] = math.Log(0.7 * math.Pow(math.Exp(x[i]), 1.5))
	}
	f := logLogFit(x, y)
	if !closeRel(f.Slope, 1.5, 1e-12) || !closeRel(f.Intercept, math.Log(0.7), 1e-12) || f.MaxResidual > 1e-12 || f.DOF != 2 {
		t.Errorf("power law: %+v", f)
	}
	noisy := []float64{0.3, -1.2, 0.8, 2.9, 1.1, -0.4}
	xs := []float64{-3, -2, -1, 0, 1, 2}
	f = logLogFit(xs, noisy)
	a, b := stat.LinearRegression(xs, noisy, nil, false)
	if !closeRel(f.Slope, b, 1e-12) || !closeRel(f.Intercept, a, 1e-12) {
		t.Errorf("slope %g intercept %g, gonum %g %g", f.Slope, f.Intercept, b, a)
	}
	X := mat.NewDense(len(xs), 2, nil)
	var ssr, maxR float64
	for i := range xs {
		X.Set(i, 0, 1)
		X.Set(i, 1, xs[i])
		r := noisy[i] - a - b*xs[i]
		ssr += r * r
		maxR = math.Max(maxR, math.Abs(r))
	}
	var xtx, inv mat.Dense
	xtx.Mul(X.T(), X)
	if err := inv.Inverse(&xtx); err != nil {
		t.Fatal(err)
	}
	se := math.Sqrt(ssr / float64(len(xs)-2) * inv.At(1, 1))
	if !closeRel(f.SlopeSE, se, 1e-10) || f.DOF != 4 || !closeRel(f.MaxResidual, maxR, 1e-12) {
		t.Errorf("se %g dof %d max residual %g, want %g 4 %g", f.SlopeSE, f.DOF, f.MaxResidual, se, maxR)
	}
	if g := logLogFit([]float64{1, 2}, []float64{3, 5}); !math.IsNaN(g.SlopeSE) || g.Slope != 2 || g.DOF != 0 {
		t.Errorf("two points: %+v", g)
	}
}

// TestScalingSlopeInterval against the tabulated t quantiles (t_{0.975,1} = 12.7062047362,
// t_{0.975,3} = 3.18244630528, t_{0.975,10} = 2.22813885196) and distuv's.
func TestScalingSlopeInterval(t *testing.T) {
	for _, c := range []struct {
		dof int
		q   float64
	}{{1, 12.7062047362}, {3, 3.18244630528}, {10, 2.22813885196}} {
		lo, hi := slopeInterval(1.2, 0.1, c.dof, 0.95)
		if !closeRel(hi-1.2, 0.1*c.q, 1e-9) || !closeRel(1.2-lo, 0.1*c.q, 1e-9) {
			t.Errorf("dof %d: [%g, %g], want 1.2 ± %g", c.dof, lo, hi, 0.1*c.q)
		}
		d := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(c.dof)}.Quantile(0.975)
		if !closeRel(d, c.q, 1e-9) {
			t.Errorf("dof %d: distuv %g, table %g", c.dof, d, c.q)
		}
	}
}

func TestScalingSeedMeanSE(t *testing.T) {
	m, se := seedMeanSE([]float64{1, 2, 4, math.NaN()})
	// Mean 7/3; deviations −4/3, −1/3, 5/3: Σ = 42/9, s² = 21/9, se = √(21/27).
	if !closeRel(m, 7.0/3, 1e-15) || !closeRel(se, math.Sqrt(21.0/27), 1e-14) {
		t.Errorf("mean %g se %g", m, se)
	}
	if m, se := seedMeanSE([]float64{3}); m != 3 || !math.IsNaN(se) {
		t.Errorf("one value: %g %g", m, se)
	}
	if m, _ := seedMeanSE([]float64{math.Inf(1)}); !math.IsNaN(m) {
		t.Errorf("no finite value: mean %g", m)
	}
	if got := quadratureSE([]float64{3, 4}); got != 5 {
		t.Errorf("quadratureSE(3, 4) = %g", got)
	}
}

// scalingReport is a verify output with a diagonal measured covariance vars (standard errors
// varSE) and prediction "seed" with variances pred (diagonal), ratios as verify writes them.
func scalingReport(lr float64, b int, vars, varSE, pred []float64) json.RawMessage {
	k := len(vars)
	cov, pc := mat.NewSymDense(k, nil), mat.NewSymDense(k, nil)
	o := verify.Report{LR: lr, Batch: b, Simulator: "sgd", Basis: "full", BasisDim: k, Predictions: map[string]verify.PredResult{}, Warnings: []string{}}
	for j := range vars {
		cov.SetSym(j, j, vars[j])
		pc.SetSym(j, j, pred[j])
		o.Directions = append(o.Directions, verify.Direction{H: jsonnum.Float(k - j), Var: jsonnum.Float(vars[j]), VarSE: jsonnum.Float(varSE[j]),
			Ratio: map[string]jsonnum.Float{"seed": jsonnum.Float(vars[j] / pred[j])}, RatioSE: map[string]jsonnum.Float{"seed": jsonnum.Float(varSE[j] / pred[j])}})
	}
	o.Cov = jsonnum.NewMatrix(cov)
	o.Predictions["seed"] = verify.PredResult{Cov: jsonnum.NewMatrix(pc)}
	raw, err := json.Marshal(&o)
	if err != nil {
		panic(err)
	}
	return raw
}

// scalingResults has problem "p" with verify steps of SGD at (η, B) = (0.1, 10) and
// (0.4, 10), replicated over seeds (Replicate = seed; none when seeds is {0}): the measured
// variances are v_j(seed) = (η/B)·h_j⁻¹·(1 + 0.01·seed·(−1)^j), the prediction exactly
// (η/B)/h_j with h = (2, 1).
func scalingResults(seeds []uint64, lrs []float64) *Results {
	r := &Results{Study: &Study{Problems: []Problem{{Name: "p"}}}}
	for _, lr := range lrs {
		for _, s := range seeds {
			x := lr / 10
			vars := []float64{x / 2 * (1 + 0.01*float64(s)), x * (1 - 0.01*float64(s))}
			se := []float64{0.03 * x, 0.04 * x}
			pred := []float64{x / 2, x}
			id := fmt.Sprintf("p/verify-lr%g-B10-sgd", lr)
			if s != 0 {
				id += fmt.Sprintf("-seed%d", s)
			}
			st := Step{ID: id, Entry: "p", Command: KindVerify, LR: lr, Batch: 10, Simulator: "sgd", Replicate: s}
			if s != 0 {
				st.Base = fmt.Sprintf("p/verify-lr%g-B10-sgd", lr)
			}
			r.Steps = append(r.Steps, StepResult{Step: st, Output: scalingReport(lr, 10, vars, se, pred)})
		}
	}
	return r
}

func TestScalingReplicated(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	r := scalingResults(seeds, []float64{0.1, 0.4})
	got := Scaling(r)
	if len(got) != 1 || got[0].Problem != "p" || len(got[0].Simulators) != 1 || got[0].Network != nil {
		t.Fatalf("Scaling: %+v", got)
	}
	ss := got[0].Simulators[0]
	if ss.Seeds != 3 || ss.SE != SEOverSeeds || ss.Directions != 2 || len(ss.Points) != 2 || len(ss.Predictions) != 1 {
		t.Fatalf("%+v", ss)
	}
	var xs, ys []float64
	for i, lr := range []float64{0.1, 0.4} {
		pt := ss.Points[i]
		x := lr / 10
		if pt.LR != lr || float64(pt.Ratio) != x || len(pt.Seeds) != 3 {
			t.Errorf("point %d: %+v", i, pt)
		}
		// Naive: the total per seed is Σ_j v_j; mean and SE over the three seeds.
		var tot []float64
		for _, s := range seeds {
			v := x/2*(1+0.01*float64(s)) + x*(1-0.01*float64(s))
			tot = append(tot, v)
			xs, ys = append(xs, x), append(ys, v)
		}
		m := (tot[0] + tot[1] + tot[2]) / 3
		var ss2 float64
		for _, v := range tot {
			ss2 += (v - m) * (v - m)
		}
		se := math.Sqrt(ss2 / 2 / 3)
		if !closeRel(float64(pt.Total.Mean), m, 1e-14) || !closeRel(float64(pt.Total.SE), se, 1e-10) {
			t.Errorf("point %d total %g ± %g, want %g ± %g", i, pt.Total.Mean, pt.Total.SE, m, se)
		}
		if p := pt.Prediction[0]; p.Name != "seed" || !closeRel(float64(p.Total.Mean), 1.5*x, 1e-14) || !closeRel(float64(p.Direction[1].Mean), x, 1e-14) {
			t.Errorf("point %d prediction %+v", i, p)
		}
		if d := pt.Direction[0]; !closeRel(float64(d.Mean), x/2*1.02, 1e-14) {
			t.Errorf("point %d direction 1: %g, want %g", i, d.Mean, x/2*1.02)
		}
	}
	// The measured total's slope over the 6 (seed, point) values, against a naive fit.
	sl := ss.Slopes[0]
	if sl.Series != "total" || sl.Quantity != "measured" || sl.N != 6 || sl.Ratios != 2 || sl.LeftOut != 0 || sl.Exact {
		t.Fatalf("slope %+v", sl)
	}
	lx, ly := make([]float64, 6), make([]float64, 6)
	for i := range xs {
		lx[i], ly[i] = math.Log(xs[i]), math.Log(ys[i])
	}
	a, b := stat.LinearRegression(lx, ly, nil, false)
	var ssr, sxx float64
	mx := stat.Mean(lx, nil)
	for i := range lx {
		r := ly[i] - a - b*lx[i]
		ssr += r * r
		sxx += (lx[i] - mx) * (lx[i] - mx)
	}
	se := math.Sqrt(ssr / 4 / sxx)
	q := 2.77644510520 // t_{0.975,4}
	if !closeRel(float64(sl.Slope), b, 1e-12) || !closeRel(float64(sl.SE), se, 1e-9) ||
		!closeRel(float64(sl.CILow), b-q*se, 1e-9) || !closeRel(float64(sl.CIHigh), b+q*se, 1e-9) {
		t.Errorf("slope %g ± %g [%g, %g], want %g ± %g [%g, %g]", sl.Slope, sl.SE, sl.CILow, sl.CIHigh, b, se, b-q*se, b+q*se)
	}
	// The prediction is exactly ∝ η/B: slope 1, "exact".
	pred := ss.Slopes[1]
	if pred.Quantity != "seed" || !pred.Exact || !closeRel(float64(pred.Slope), 1, 1e-12) || !math.IsNaN(float64(pred.CILow)) {
		t.Errorf("prediction slope %+v", pred)
	}
	// Series: total, direction 1, direction 2, each measured then seed.
	if len(ss.Slopes) != 6 || ss.Slopes[2].Series != "direction 1" || ss.Slopes[5].Series != "direction 2" || ss.Slopes[5].Quantity != "seed" {
		t.Errorf("slopes %+v", ss.Slopes)
	}
}

// TestScalingOneSeed: one replicate per point takes the run's own standard errors, the total's
// in quadrature; two points leave no degree of freedom for an interval.
func TestScalingOneSeed(t *testing.T) {
	r := scalingResults([]uint64{0}, []float64{0.1, 0.4})
	got := Scaling(r)
	if len(got) != 1 {
		t.Fatalf("%d entries", len(got))
	}
	ss := got[0].Simulators[0]
	if ss.SE != SEOverChains || ss.Seeds != 1 {
		t.Errorf("%+v", ss)
	}
	x := 0.01
	want := math.Hypot(0.03*x, 0.04*x)
	if pt := ss.Points[0]; !closeRel(float64(pt.Total.SE), want, 1e-14) || float64(pt.Direction[1].SE) != 0.04*x {
		t.Errorf("total SE %g, want %g; direction 2 SE %g", pt.Total.SE, want, pt.Direction[1].SE)
	}
	sl := ss.Slopes[0]
	if sl.N != 2 || !math.IsNaN(float64(sl.CILow)) || !math.IsNaN(float64(sl.SE)) || sl.Note == "" || math.IsNaN(float64(sl.Slope)) {
		t.Errorf("slope %+v", sl)
	}
}

func TestScalingOneRatio(t *testing.T) {
	if got := Scaling(scalingResults([]uint64{1, 2, 3}, []float64{0.1})); len(got) != 0 {
		t.Errorf("one η/B: %+v", got)
	}
}

// TestScalingLeftOut: values that are not finite and positive are left out and counted; with
// one ratio left the slope is unavailable.
func TestScalingLeftOut(t *testing.T) {
	s := slopeOf("total", "measured", []float64{0.01, 0.01, 0.04, 0.04}, []float64{1, 2, math.NaN(), -1}, false)
	if s.LeftOut != 2 || s.N != 2 || s.Ratios != 1 || !math.IsNaN(float64(s.Slope)) || s.Note == "" {
		t.Errorf("%+v", s)
	}
	// Ratios equal up to their last bits count as one.
	if n := countDistinct([]float64{0.05 / 16, 0.2 / 64, 0.003125 * (1 + 1e-15), 0.004}); n != 2 {
		t.Errorf("countDistinct: %d, want 2", n)
	}
	// Measured values are never "exact", even on a power law; their interval collapses.
	s = slopeOf("total", "measured", []float64{0.01, 0.02, 0.04}, []float64{1, 2, 4}, false)
	if s.Exact || !closeRel(float64(s.Slope), 1, 1e-12) || !(float64(s.CIHigh-s.CILow) < 1e-10) {
		t.Errorf("measured on a power law: %+v", s)
	}
	s = slopeOf("total", "seed", []float64{0.01, 0.02, 0.04}, []float64{1, 2.5, 3}, true)
	if s.Exact || math.IsNaN(float64(s.CILow)) || s.N != 3 {
		t.Errorf("a prediction off a power law: %+v", s)
	}
}

// TestScalingNetwork: λ_max and the test error of each basins cell over its seeds (GD runs
// left out) against naive means.
func TestScalingNetwork(t *testing.T) {
	o := basins.Output{HasTest: true}
	for _, c := range []struct {
		lr float64
		b  int
	}{{0.05, 16}, {0.2, 16}} {
		for s := uint64(1); s <= 3; s++ {
			o.Runs = append(o.Runs, basins.RunResult{LR: basins.Float(c.lr), Batch: c.b, Seed: s, Ratio: basins.Float(c.lr / float64(c.b)),
				LambdaMax: basins.Float(10 * c.lr * float64(s)), TestAcc: basins.Float(0.9 - 0.01*float64(s)), TestLoss: 0.3})
		}
	}
	o.Runs = append(o.Runs, basins.RunResult{LR: 0.1, Batch: 100, GD: true, LambdaMax: 99, TestAcc: 0.5})
	raw, _ := json.Marshal(&o)
	r := &Results{Study: &Study{Problems: []Problem{{Name: "n"}}}, Steps: []StepResult{{Step: Step{ID: "n/basins", Entry: "n", Command: KindBasins}, Output: raw}}}
	got := Scaling(r)
	if len(got) != 1 || got[0].Network == nil || len(got[0].Simulators) != 0 {
		t.Fatalf("%+v", got)
	}
	ns := got[0].Network
	if ns.TestError != "1 − test accuracy" || len(ns.Cells) != 2 {
		t.Fatalf("%+v", ns)
	}
	c := ns.Cells[1]
	// λ_max = 2, 4, 6: mean 4, SE √(8/2/3); test error 0.11, 0.12, 0.13: mean 0.12.
	if c.LR != 0.2 || !closeRel(float64(c.LambdaMax.Mean), 4, 1e-15) || !closeRel(float64(c.LambdaMax.SE), math.Sqrt(4.0/3), 1e-14) ||
		!closeRel(float64(c.TestError.Mean), 0.12, 1e-14) {
		t.Errorf("cell %+v", c)
	}
	if s := ns.Slopes[0]; s.Quantity != "lambda_max" || s.N != 6 || s.Ratios != 2 {
		t.Errorf("slope %+v", s)
	}
}

// TestScalingPredictedValues: a top-k basis reads the prediction's per-direction variance from
// its inline covariance (even where the measured variance is 0, which leaves no ratio to
// invert); a full basis divides the measured variance by the ratio; a covariance in a .npy
// file leaves the traces to the directions.
func TestScalingPredictedValues(t *testing.T) {
	o := &verify.Report{Basis: "hessian-top-k",
		Directions:  []verify.Direction{{Var: 0, VarSE: 0.1, Ratio: map[string]jsonnum.Float{"seed": 0}}, {Var: 3, VarSE: 0.2, Ratio: map[string]jsonnum.Float{"seed": 1.5}}},
		Predictions: map[string]verify.PredResult{"seed": {Cov: &jsonnum.Matrix{Rows: [][]jsonnum.Float{{0.5, 0.1}, {0.1, 2}}}}}}
	if v := predictedDirection(o, 0, "seed"); v != 0.5 {
		t.Errorf("top-k direction 1: %g, want 0.5", v)
	}
	if v := predictedTotal(o, "seed"); v != 2.5 {
		t.Errorf("top-k total: %g, want 2.5", v)
	}
	o.Basis = "full"
	if v := predictedDirection(o, 1, "seed"); v != 2 {
		t.Errorf("full direction 2: %g, want 3/1.5", v)
	}
	if v := predictedDirection(o, 0, "none"); !math.IsNaN(v) {
		t.Errorf("a missing prediction: %g", v)
	}
	o.Predictions["seed"] = verify.PredResult{Cov: &jsonnum.Matrix{File: "pred-seed.npy"}}
	if v := predictedTotal(o, "seed"); !math.IsNaN(v) { // 0/0 along direction 1
		t.Errorf("total from the directions with a 0/0: %g", v)
	}
	o.Directions[0] = verify.Direction{Var: 1, VarSE: 0.1, Ratio: map[string]jsonnum.Float{"seed": 4}}
	if v := predictedTotal(o, "seed"); v != 2.25 {
		t.Errorf("total from the directions: %g, want 1/4 + 3/1.5", v)
	}
	o.Cov = &jsonnum.Matrix{File: "cov.npy"}
	if tot, se := measuredTotal(o); tot != 4 || !closeRel(se, math.Hypot(0.1, 0.2), 1e-15) {
		t.Errorf("measured total %g ± %g, want 4 ± %g", tot, se, math.Hypot(0.1, 0.2))
	}
	o.Cov = &jsonnum.Matrix{Rows: [][]jsonnum.Float{{1.5, 0}, {0, 2.75}}}
	if tot, _ := measuredTotal(o); tot != 4.25 {
		t.Errorf("measured total from the inline covariance %g, want 4.25", tot)
	}
}
