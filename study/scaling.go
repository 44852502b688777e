package study

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/sgdprior/sgdprior/basins"
	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/sim"
	"github.com/sgdprior/sgdprior/verify"
)

// ScalingEntry is one problem's measured and predicted quantities against the ratio η/B
// (Scaling): for each simulator the stationary variance of its verify steps beside each
// prediction, and, where the problem has a basins step, the sharpness and test error of
// SGD's minima.
type ScalingEntry struct {
	Problem    string             `json:"problem"`
	Simulators []SimulatorScaling `json:"simulators,omitempty"`
	Network    *NetworkScaling    `json:"network,omitempty"`
}

// SE sources: how a point's standard error was estimated.
const (
	// SEOverSeeds: the standard error over the seed replicates (seedMeanSE).
	SEOverSeeds = "seeds"
	// SEOverChains: the one run's own between-chain standard error (verify).
	SEOverChains = "chains"
)

// SimulatorScaling is the stationary variance of one simulator's verify steps against η/B.
type SimulatorScaling struct {
	Simulator string `json:"simulator"`
	// Seeds is the largest number of replicates of a point (1 without seed replicates), and
	// SE says how the points' standard errors were estimated (SEOverSeeds or SEOverChains).
	Seeds int    `json:"seeds"`
	SE    string `json:"se"`
	// Directions is the number of Hessian directions with a per-direction series: the
	// smallest comparison-basis dimension over the runs.
	Directions int `json:"directions"`
	// Predictions are the names of the predictions, in the report's order.
	Predictions []string `json:"predictions"`
	// Points are the grid points in increasing η/B (then η).
	Points []ScalingPoint `json:"points"`
	// Slopes are the fitted slopes of log(value) on log(η/B): the total, then each
	// direction; in each, the measured values, then each prediction.
	Slopes []ScalingSlope `json:"slopes"`
	// Unread lists the verify steps whose output could not be read, with why.
	Unread []string `json:"unread,omitempty"`
}

// ScalingPoint is one (η, B) point: the measured stationary variance, total (the trace of
// the measured covariance in the comparison basis) and per Hessian direction, and each
// prediction's, each as the mean over the point's replicates.
type ScalingPoint struct {
	LR    float64 `json:"lr"`
	Batch int     `json:"batch"`
	Ratio Float   `json:"ratio"` // η/B
	// Seeds are the replicates' seeds (Step.Replicate; 0 without seed replicates), in step
	// order; every Values below follows it.
	Seeds      []uint64            `json:"seeds"`
	Total      ScalingValue        `json:"total"`
	Direction  []ScalingValue      `json:"direction"`
	Prediction []PredictionScaling `json:"prediction"`
}

// PredictionScaling is one prediction's variance at a point, total and per direction.
type PredictionScaling struct {
	Name      string         `json:"name"`
	Total     ScalingValue   `json:"total"`
	Direction []ScalingValue `json:"direction"`
}

// ScalingValue is a quantity at one point: each replicate's value (NaN, written null, when
// the replicate has none), their mean and its standard error (over seeds, or the run's
// own when there is one replicate: SimulatorScaling.SE).
type ScalingValue struct {
	Mean   Float   `json:"mean"`
	SE     Float   `json:"stderr"`
	Values []Float `json:"values"`
}

// ScalingSlope is the least-squares fit of log(y) on log(η/B) over every (seed, point)
// value of one series (logLogFit), with its 95% Student-t interval (slopeInterval).
type ScalingSlope struct {
	// Series is "total" or "direction <j>" (1-based, sharpest first); Quantity "measured",
	// a prediction's name, "lambda_max" or "test_error".
	Series   string `json:"series"`
	Quantity string `json:"quantity"`
	// N values were fitted over Ratios distinct η/B; LeftOut were not finite and positive.
	N       int `json:"n"`
	Ratios  int `json:"ratios"`
	LeftOut int `json:"left_out"`
	// Slope and Intercept of log y = Intercept + Slope·log(η/B); SE the slope's standard
	// error; CILow, CIHigh its 95% interval. Null when unavailable (Note says why).
	Slope     Float `json:"slope"`
	Intercept Float `json:"intercept"`
	SE        Float `json:"stderr"`
	CILow     Float `json:"ci_low"`
	CIHigh    Float `json:"ci_high"`
	// MaxResidual is the largest |residual| of the fit (in log y). Exact marks a
	// prediction whose residuals are at round-off (≤ ExactResidual): an exact power law.
	MaxResidual Float  `json:"max_residual"`
	Exact       bool   `json:"exact,omitempty"`
	Note        string `json:"note,omitempty"`
}

// NetworkScaling is the sharpness and test error of SGD's minima in each (η, B) cell of a
// basins step against η/B, with the spread over the basins' seeds.
type NetworkScaling struct {
	// TestError says what the test error is: "1 − test accuracy" or "test NLL".
	TestError string         `json:"test_error"`
	Cells     []NetworkCell  `json:"cells"`
	Slopes    []ScalingSlope `json:"slopes"`
}

// NetworkCell is one (η, B) cell of SGD runs: λ_max at the minimum and the test error,
// each over the cell's seeds.
type NetworkCell struct {
	LR        float64      `json:"lr"`
	Batch     int          `json:"batch"`
	Ratio     Float        `json:"ratio"`
	Seeds     []uint64     `json:"seeds"`
	LambdaMax ScalingValue `json:"lambda_max"`
	TestError ScalingValue `json:"test_error"`
}

// ExactResidual is the largest |log residual| of a prediction's fit that counts as
// round-off: the prediction is then an exact power law in η/B.
const ExactResidual = 1e-9

// slopeLevel is the confidence level of the slopes' intervals.
const slopeLevel = 0.95

// Scaling draws, for every problem with at least two distinct η/B among the verify steps of
// one simulator (or among the SGD cells of its basins step), the quantities against η/B
// (ScalingEntry). Outputs that cannot be read are listed, never fatal. (docs/MATH.md §15)
func Scaling(r *Results) []ScalingEntry {
	var out []ScalingEntry
	for _, p := range r.Study.Problems {
		steps := r.EntrySteps(p.Name)
		e := ScalingEntry{Problem: p.Name}
		var sims []string
		for _, s := range steps {
			if s.Command == KindVerify && !slices.Contains(sims, s.Simulator) {
				sims = append(sims, s.Simulator)
			}
		}
		for _, m := range sims {
			if ss := simulatorScaling(steps, m); ss != nil {
				e.Simulators = append(e.Simulators, *ss)
			}
		}
		e.Network = networkScaling(steps)
		if len(e.Simulators) > 0 || e.Network != nil {
			out = append(out, e)
		}
	}
	return out
}

// verifyReplicate is one decoded verify step.
type verifyReplicate struct {
	seed uint64
	rep  *verify.Report
}

type pointKey struct {
	lr    float64
	batch int
}

// sortPoints orders grid points by η/B, then η, then B.
func sortPoints(keys []pointKey) {
	sort.SliceStable(keys, func(i, j int) bool {
		ri, rj := ratio(keys[i]), ratio(keys[j])
		if ri != rj {
			return ri < rj
		}
		if keys[i].lr != keys[j].lr {
			return keys[i].lr < keys[j].lr
		}
		return keys[i].batch < keys[j].batch
	})
}

// simulatorScaling is the scaling of simulator m's verify steps among steps; nil with fewer
// than two distinct η/B.
func simulatorScaling(steps []*StepResult, m string) *SimulatorScaling {
	ss := &SimulatorScaling{Simulator: m, SE: SEOverChains}
	groups := map[pointKey][]verifyReplicate{}
	var keys []pointKey
	replicated := false
	for _, s := range steps {
		if s.Command != KindVerify || s.Simulator != m {
			continue
		}
		if s.Base != "" {
			replicated = true
		}
		o, err := s.Verify()
		if err != nil {
			ss.Unread = append(ss.Unread, err.Error())
			continue
		}
		k := pointKey{s.LR, s.Batch}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], verifyReplicate{s.Replicate, o})
	}
	if distinctRatios(keys) < 2 {
		return nil
	}
	sortPoints(keys)
	// The directions and predictions every run has.
	ss.Directions = -1
	predSet := map[string]bool{}
	for _, k := range keys {
		if len(groups[k]) > 1 {
			replicated = true
		}
		for _, g := range groups[k] {
			if len(g.rep.Directions) < ss.Directions || ss.Directions < 0 {
				ss.Directions = len(g.rep.Directions)
			}
			for n := range g.rep.Predictions {
				predSet[n] = true
			}
		}
	}
	ss.Predictions = PredictionNames(predSet)
	if replicated {
		ss.SE = SEOverSeeds
	}
	for _, k := range keys {
		g := groups[k]
		ss.Seeds = max(ss.Seeds, len(g))
		pt := ScalingPoint{LR: k.lr, Batch: k.batch, Ratio: Float(ratio(k))}
		// Per replicate: the measured total and per-direction variances with the run's own
		// standard errors, and each prediction's.
		tot, totSE := make([]float64, len(g)), make([]float64, len(g))
		dir := make([][]float64, ss.Directions)
		dirSE := make([][]float64, ss.Directions)
		for j := range dir {
			dir[j], dirSE[j] = make([]float64, len(g)), make([]float64, len(g))
		}
		predTot := make([][]float64, len(ss.Predictions))
		predDir := make([][][]float64, len(ss.Predictions))
		for q := range ss.Predictions {
			predTot[q] = make([]float64, len(g))
			predDir[q] = make([][]float64, ss.Directions)
			for j := range predDir[q] {
				predDir[q][j] = make([]float64, len(g))
			}
		}
		for i, rp := range g {
			pt.Seeds = append(pt.Seeds, rp.seed)
			o := rp.rep
			tot[i], totSE[i] = measuredTotal(o)
			for j := 0; j < ss.Directions; j++ {
				dir[j][i], dirSE[j][i] = float64(o.Directions[j].Var), float64(o.Directions[j].VarSE)
			}
			for q, n := range ss.Predictions {
				predTot[q][i] = predictedTotal(o, n)
				for j := 0; j < ss.Directions; j++ {
					predDir[q][j][i] = predictedDirection(o, j, n)
				}
			}
		}
		pt.Total = scalingValue(tot, totSE, replicated)
		for j := range dir {
			pt.Direction = append(pt.Direction, scalingValue(dir[j], dirSE[j], replicated))
		}
		for q, n := range ss.Predictions {
			ps := PredictionScaling{Name: n, Total: scalingValue(predTot[q], nil, replicated)}
			for j := range predDir[q] {
				ps.Direction = append(ps.Direction, scalingValue(predDir[q][j], nil, replicated))
			}
			pt.Prediction = append(pt.Prediction, ps)
		}
		ss.Points = append(ss.Points, pt)
	}
	// The slopes over every (seed, point) value.
	addSeries := func(name string, measured func(pt *ScalingPoint) *ScalingValue, pred func(pt *ScalingPoint, q int) *ScalingValue) {
		ss.Slopes = append(ss.Slopes, fitSlope(name, "measured", ss.Points, measured, false))
		for q, n := range ss.Predictions {
			ss.Slopes = append(ss.Slopes, fitSlope(name, n, ss.Points, func(pt *ScalingPoint) *ScalingValue { return pred(pt, q) }, true))
		}
	}
	addSeries("total", func(pt *ScalingPoint) *ScalingValue { return &pt.Total },
		func(pt *ScalingPoint, q int) *ScalingValue { return &pt.Prediction[q].Total })
	for j := 0; j < ss.Directions; j++ {
		addSeries(fmt.Sprintf("direction %d", j+1), func(pt *ScalingPoint) *ScalingValue { return &pt.Direction[j] },
			func(pt *ScalingPoint, q int) *ScalingValue { return &pt.Prediction[q].Direction[j] })
	}
	return ss
}

func ratio(k pointKey) float64 { return k.lr / float64(k.batch) }

func distinctRatios(keys []pointKey) int {
	xs := make([]float64, len(keys))
	for i, k := range keys {
		xs[i] = ratio(k)
	}
	return countDistinct(xs)
}

// sameRatio is the relative difference below which two ratios η/B count as one: 0.05/16 and
// 0.2/64 may differ in their last bits.
const sameRatio = 1e-12

// countDistinct is the number of distinct values of xs, values within a relative sameRatio
// of the previous one (in increasing order) counting as one.
func countDistinct(xs []float64) int {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := 0
	for i, x := range s {
		if i == 0 || x-s[i-1] > sameRatio*math.Abs(x) {
			n++
		}
	}
	return n
}

// measuredTotal is the total measured stationary variance of a verify run, the trace of its
// measured covariance (the sum of the per-direction variances Σ_j v̂_j in the comparison
// basis when the covariance is not inline), and its standard error from the run's chains,
// quadratureSE of the per-direction standard errors. (docs/MATH.md §15)
func measuredTotal(o *verify.Report) (total, se float64) {
	ses := make([]float64, len(o.Directions))
	sum := 0.0
	for j, d := range o.Directions {
		ses[j] = float64(d.VarSE)
		sum += float64(d.Var)
	}
	if t, ok := matrixTrace(o.Cov); ok {
		sum = t
	}
	if len(o.Directions) == 0 {
		return sum, math.NaN()
	}
	return sum, quadratureSE(ses)
}

// predictedTotal is the trace of prediction n's covariance (Σ_j v̂_j/ratio_j over the
// comparison basis when the covariance is not inline); NaN when there is none.
func predictedTotal(o *verify.Report, n string) float64 {
	p, ok := o.Predictions[n]
	if !ok {
		return math.NaN()
	}
	if t, ok := matrixTrace(p.Cov); ok {
		return t
	}
	if len(o.Directions) == 0 {
		return math.NaN()
	}
	sum := 0.0
	for j := range o.Directions {
		sum += predictedDirection(o, j, n)
	}
	return sum
}

// predictedDirection is prediction n's variance along comparison direction j: the diagonal
// entry of its covariance when that is inline in the comparison basis (a top-k basis),
// otherwise the measured variance over verify's ratio (measured/predicted), v̂_j/ratio_j
// (a full basis writes the matrices in the parameter basis); NaN when neither is there.
func predictedDirection(o *verify.Report, j int, n string) float64 {
	if p, ok := o.Predictions[n]; ok && o.Basis != "full" && p.Cov != nil && p.Cov.File == "" &&
		len(p.Cov.Rows) == len(o.Directions) && len(p.Cov.Rows[j]) == len(o.Directions) {
		return float64(p.Cov.Rows[j][j])
	}
	r, ok := o.Directions[j].Ratio[n]
	if !ok {
		return math.NaN()
	}
	return float64(o.Directions[j].Var) / float64(r)
}

// matrixTrace is the trace of an inline square matrix; false when m is absent or a file.
func matrixTrace(m *jsonnum.Matrix) (float64, bool) {
	if m == nil || m.File != "" || len(m.Rows) == 0 {
		return 0, false
	}
	t := 0.0
	for i, row := range m.Rows {
		if len(row) != len(m.Rows) {
			return 0, false
		}
		t += float64(row[i])
	}
	return t, true
}

// quadratureSE is the standard error of a sum of estimates from their standard errors,
// √(Σ_j se_j²), treating the estimates as independent (the between-chain covariance of the
// per-direction variances is not in verify's output). (docs/MATH.md §15)
func quadratureSE(ses []float64) float64 {
	s := 0.0
	for _, x := range ses {
		s += x * x
	}
	return math.Sqrt(s)
}

// seedMeanSE is the mean of the finite values and its standard error over them, the sample
// standard deviation (divisor n − 1) over √n (sim.BetweenChainSE: each seed is a
// replicate); the standard error is NaN for fewer than two finite values, both are NaN for
// none. (docs/MATH.md §15)
func seedMeanSE(values []float64) (mean, se float64) {
	var fin []float64
	for _, v := range values {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			fin = append(fin, v)
		}
	}
	if len(fin) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, v := range fin {
		mean += v
	}
	mean /= float64(len(fin))
	return mean, sim.BetweenChainSE(fin)
}

// scalingValue is a point's value from its replicates' values: replicated, the mean and
// standard error over seeds (seedMeanSE); otherwise the one value with the run's own
// standard error runSE[0] (NaN when runSE is nil: a prediction has none).
func scalingValue(values, runSE []float64, replicated bool) ScalingValue {
	v := ScalingValue{Values: make([]Float, len(values))}
	for i, x := range values {
		v.Values[i] = Float(x)
	}
	switch {
	case replicated:
		m, se := seedMeanSE(values)
		v.Mean, v.SE = Float(m), Float(se)
	case len(values) == 1:
		v.Mean, v.SE = Float(values[0]), Float(math.NaN())
		if runSE != nil {
			v.SE = Float(runSE[0])
		}
	default:
		// Callers mark a point with several values as replicated.
		panic(fmt.Sprintf("study: scalingValue: %d values of an unreplicated point", len(values)))
	}
	return v
}

// fitSlope fits log y on log(η/B) over every replicate value of every point (val(pt)).
func fitSlope(series, quantity string, pts []ScalingPoint, val func(pt *ScalingPoint) *ScalingValue, prediction bool) ScalingSlope {
	var xs, ys []float64
	for i := range pts {
		for _, y := range val(&pts[i]).Values {
			xs, ys = append(xs, float64(pts[i].Ratio)), append(ys, float64(y))
		}
	}
	return slopeOf(series, quantity, xs, ys, prediction)
}

// slopeOf is the ScalingSlope of the values ys at the ratios xs: the points with x or y not
// finite and positive are left out and counted; the fit (logLogFit) needs two distinct
// ratios, its interval (slopeInterval) one residual degree of freedom (n − 2 ≥ 1). A
// prediction is Exact when its residuals are at round-off.
func slopeOf(series, quantity string, xs, ys []float64, prediction bool) ScalingSlope {
	nan := Float(math.NaN())
	s := ScalingSlope{Series: series, Quantity: quantity, Slope: nan, Intercept: nan, SE: nan, CILow: nan, CIHigh: nan, MaxResidual: nan}
	var kept, lx, ly []float64
	for i := range xs {
		if !(xs[i] > 0) || !(ys[i] > 0) || math.IsInf(xs[i], 0) || math.IsInf(ys[i], 0) {
			s.LeftOut++
			continue
		}
		kept = append(kept, xs[i])
		lx, ly = append(lx, math.Log(xs[i])), append(ly, math.Log(ys[i]))
	}
	s.N, s.Ratios = len(lx), countDistinct(kept)
	if s.Ratios < 2 {
		s.Note = fmt.Sprintf("no slope: %d distinct η/B with a finite positive value (need 2)", s.Ratios)
		return s
	}
	f := logLogFit(lx, ly)
	s.Slope, s.Intercept, s.MaxResidual = Float(f.Slope), Float(f.Intercept), Float(f.MaxResidual)
	if prediction && f.MaxResidual <= ExactResidual {
		s.Exact = true
		s.Note = "exact power law: the residuals are at round-off"
		return s
	}
	if f.DOF < 1 {
		s.Note = fmt.Sprintf("no interval: %d values leave n − 2 = %d degrees of freedom", s.N, f.DOF)
		return s
	}
	s.SE = Float(f.SlopeSE)
	lo, hi := slopeInterval(f.Slope, f.SlopeSE, f.DOF, slopeLevel)
	s.CILow, s.CIHigh = Float(lo), Float(hi)
	if prediction {
		s.Note = "a prediction has no sampling noise: the interval measures its departure from a power law"
	}
	return s
}

// LineFit is an ordinary least-squares line y = Intercept + Slope·x.
type LineFit struct {
	Slope, Intercept float64
	// SlopeSE is the slope's standard error √(s²/Sxx), s² = Σ r_i²/(n − 2) (NaN for n ≤ 2);
	// DOF = n − 2; MaxResidual = max |r_i|.
	SlopeSE     float64
	DOF         int
	MaxResidual float64
}

// logLogFit is the least-squares line through (x_i, y_i), here (log(η/B), log value):
// slope Sxy/Sxx with Sxx = Σ(x_i − x̄)², Sxy = Σ(x_i − x̄)(y_i − ȳ), intercept ȳ − slope·x̄,
// and the slope's standard error √(Σ r_i²/((n − 2)Sxx)). The x_i must not all be equal. (docs/MATH.md §15)
func logLogFit(x, y []float64) LineFit {
	n := len(x)
	if n != len(y) {
		panic("study: logLogFit: x and y differ in length")
	}
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(n)
	my /= float64(n)
	var sxx, sxy float64
	for i := range x {
		sxx += (x[i] - mx) * (x[i] - mx)
		sxy += (x[i] - mx) * (y[i] - my)
	}
	if sxx == 0 {
		panic("study: logLogFit: every x is equal")
	}
	f := LineFit{Slope: sxy / sxx, DOF: n - 2, SlopeSE: math.NaN()}
	f.Intercept = my - f.Slope*mx
	var ssr float64
	for i := range x {
		r := y[i] - f.Intercept - f.Slope*x[i]
		ssr += r * r
		f.MaxResidual = math.Max(f.MaxResidual, math.Abs(r))
	}
	if f.DOF >= 1 {
		f.SlopeSE = math.Sqrt(ssr / float64(f.DOF) / sxx)
	}
	return f
}

// slopeInterval is the two-sided Student-t interval of a slope at the given level:
// slope ± t_{(1+level)/2, dof}·se. (docs/MATH.md §15)
func slopeInterval(slope, se float64, dof int, level float64) (lo, hi float64) {
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(dof)}.Quantile((1 + level) / 2)
	return slope - t*se, slope + t*se
}

// networkScaling is the sharpness and test error of the SGD cells of the problem's basins
// steps (runs of several steps merged, the first of an (η, B, seed) kept); nil without a
// basins step or with fewer than two distinct η/B.
func networkScaling(steps []*StepResult) *NetworkScaling {
	var runs []basins.RunResult
	type runKey struct {
		k    pointKey
		seed uint64
	}
	seen := map[runKey]bool{}
	hasAcc := false
	for _, s := range steps {
		if s.Command != KindBasins {
			continue
		}
		o, err := s.Basins()
		if err != nil {
			continue
		}
		for _, r := range o.Runs {
			k := runKey{pointKey{float64(r.LR), r.Batch}, r.Seed}
			if r.GD || seen[k] {
				continue
			}
			seen[k] = true
			runs = append(runs, r)
			if r.TestAcc.OK() {
				hasAcc = true
			}
		}
	}
	groups := map[pointKey][]basins.RunResult{}
	var keys []pointKey
	for _, r := range runs {
		k := pointKey{float64(r.LR), r.Batch}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	if distinctRatios(keys) < 2 {
		return nil
	}
	sortPoints(keys)
	ns := &NetworkScaling{TestError: "test NLL"}
	if hasAcc {
		ns.TestError = "1 − test accuracy"
	}
	var xs, lam, terr []float64
	for _, k := range keys {
		c := NetworkCell{LR: k.lr, Batch: k.batch, Ratio: Float(ratio(k))}
		var l, te []float64
		for _, r := range groups[k] {
			c.Seeds = append(c.Seeds, r.Seed)
			l = append(l, float64(r.LambdaMax))
			te = append(te, testError(r, hasAcc))
		}
		c.LambdaMax, c.TestError = scalingValue(l, nil, true), scalingValue(te, nil, true)
		ns.Cells = append(ns.Cells, c)
		for range l {
			xs = append(xs, ratio(k))
		}
		lam, terr = append(lam, l...), append(terr, te...)
	}
	ns.Slopes = []ScalingSlope{slopeOf("network", "lambda_max", xs, lam, false), slopeOf("network", "test_error", xs, terr, false)}
	return ns
}

// testError is a run's test error: 1 − test accuracy for a classifier (acc), else the test
// NLL.
func testError(r basins.RunResult, acc bool) float64 {
	if acc {
		return 1 - float64(r.TestAcc)
	}
	return float64(r.TestLoss)
}
