package escape

import (
	"context"
	"fmt"
	"math"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/atomicfile"
	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/sim"
	"github.com/sgdprior/sgdprior/train"
)

// lawZ is the two-sided 95% normal quantile of the Wald interval of the slope.
const lawZ = 1.959963984540054

// LawX returns Xie et al.'s control variable x = ΔL/(η·κ_B·h_e) with κ_B = 1/B (their
// with-replacement convention), i.e. x = B·ΔL/(η·h_e) (MATH.md §12).
func LawX(deltaL, lr float64, batch int, he float64) float64 {
	return deltaL * float64(batch) / (lr * he)
}

// LawLogLik returns the censored-exponential log-likelihood of the escape law (MATH.md §12):
// cell c has events[c] escapes over a total exposure exposure[c] (escape times of the
// escaped chains plus censoring times of the others) and escape rate λ_c = exp(−(a + b·x_c)),
//
//	ℓ(a, b) = Σ_c [e_c·log λ_c − λ_c·E_c],
//
// the exact log-likelihood (up to a constant) of independent exponential escape times
// censored at the horizon, which depends on the data only through (e_c, E_c).
func LawLogLik(a, b float64, x []float64, events []int, exposure []float64) float64 {
	var l float64
	for c := range x {
		eta := a + b*x[c]
		l += -float64(events[c])*eta - exposure[c]*math.Exp(-eta)
	}
	return l
}

// LawGrad returns ∇ℓ(a, b) and the observed information −∇²ℓ(a, b) (a 2×2 matrix
// [[i_aa, i_ab], [i_ab, i_bb]]) of LawLogLik (MATH.md §12): with μ_c = E_c·λ_c,
// ∂ℓ/∂a = Σ_c (μ_c − e_c), ∂ℓ/∂b = Σ_c (μ_c − e_c)·x_c, and −∇²ℓ = Σ_c μ_c·[1, x_c]ᵀ[1, x_c].
func LawGrad(a, b float64, x []float64, events []int, exposure []float64) (ga, gb, iaa, iab, ibb float64) {
	for c := range x {
		mu := exposure[c] * math.Exp(-(a + b*x[c]))
		r := mu - float64(events[c])
		ga += r
		gb += r * x[c]
		iaa += mu
		iab += mu * x[c]
		ibb += mu * x[c] * x[c]
	}
	return
}

// LawFit is the maximum-likelihood fit of the escape law log τ = a + b·x (τ = 1/λ the mean
// escape time); every number is NaN when the fit is inconclusive (Status says why).
type LawFit struct {
	Intercept, Slope     float64
	InterceptSE, SlopeSE float64
	// SlopeCILow, SlopeCIHigh: the 95% Wald interval b̂ ± 1.96·SE(b̂).
	SlopeCILow, SlopeCIHigh float64
	LogLik                  float64
	Iterations              int
	// Status is "ok", or why there is no fit ("inconclusive: …").
	Status string
}

// FitLaw fits a, b of the rate λ_c = exp(−(a + b·x_c)) by maximising LawLogLik with Newton's
// method (step halving until ℓ does not decrease; ℓ is concave), from a = log(ΣE/Σe), b = 0,
// until the Newton step is below 1e-10 (relative); standard errors are the square roots of
// the diagonal of the inverse observed information at the optimum (MATH.md §12). With fewer
// than two distinct x among the cells that have events the maximum does not exist (the
// slope runs off to ±∞), and FitLaw returns NaNs with an "inconclusive" status.
func FitLaw(x []float64, events []int, exposure []float64) LawFit {
	nan := math.NaN()
	bad := func(why string) LawFit {
		return LawFit{nan, nan, nan, nan, nan, nan, nan, 0, "inconclusive: " + why}
	}
	if len(events) != len(x) || len(exposure) != len(x) {
		panic("escape: FitLaw: x, events and exposure differ in length")
	}
	var se, sE float64
	xs := map[float64]bool{}
	for c := range x {
		if events[c] < 0 || !(exposure[c] >= 0) || math.IsInf(exposure[c], 0) || math.IsNaN(x[c]) || math.IsInf(x[c], 0) {
			return bad(fmt.Sprintf("cell %d has invalid data", c))
		}
		if events[c] > 0 {
			xs[x[c]] = true
		}
		se += float64(events[c])
		sE += exposure[c]
	}
	if len(xs) < 2 {
		return bad(fmt.Sprintf("%d distinct x among the cells with escapes; the slope needs ≥ 2", len(xs)))
	}
	// Centre x for the Newton iteration (better conditioned), then map back.
	var xm float64
	for _, v := range x {
		xm += v
	}
	xm /= float64(len(x))
	xc := make([]float64, len(x))
	for c, v := range x {
		xc[c] = v - xm
	}
	a, b := math.Log(sE/se), 0.0
	l := LawLogLik(a, b, xc, events, exposure)
	it := 0
	converged := false
	for ; it < 200; it++ {
		ga, gb, iaa, iab, ibb := LawGrad(a, b, xc, events, exposure)
		det := iaa*ibb - iab*iab
		if !(det > 0) {
			return bad("singular information matrix")
		}
		// Newton step δ = I⁻¹∇ℓ (ascent, since ∇²ℓ = −I).
		da := (ibb*ga - iab*gb) / det
		db := (iaa*gb - iab*ga) / det
		t := 1.0
		var na, nb, nl float64
		for h := 0; h < 60; h++ {
			na, nb = a+t*da, b+t*db
			nl = LawLogLik(na, nb, xc, events, exposure)
			if nl >= l {
				break
			}
			t /= 2
		}
		a, b, l = na, nb, nl
		if math.Abs(t*da) <= 1e-10*(1+math.Abs(a)) && math.Abs(t*db) <= 1e-10*(1+math.Abs(b)) {
			converged = true
			it++
			break
		}
	}
	if !converged || math.IsNaN(a) || math.IsNaN(b) {
		return bad("Newton's method did not converge")
	}
	_, _, iaa, iab, ibb := LawGrad(a, b, xc, events, exposure)
	det := iaa*ibb - iab*iab
	if !(det > 0) {
		return bad("singular information matrix at the optimum")
	}
	// Covariance in centred coordinates: I⁻¹ = [[ibb, −iab], [−iab, iaa]]/det; the
	// intercept at x = 0 is a − b·x̄, with var = var(a) + x̄² var(b) − 2x̄ cov(a, b).
	vaa, vab, vbb := ibb/det, -iab/det, iaa/det
	f := LawFit{Slope: b, SlopeSE: math.Sqrt(vbb), Intercept: a - b*xm,
		InterceptSE: math.Sqrt(vaa + xm*xm*vbb - 2*xm*vab), Iterations: it, Status: "ok"}
	f.LogLik = LawLogLik(f.Intercept, f.Slope, x, events, exposure)
	f.SlopeCILow, f.SlopeCIHigh = f.Slope-lawZ*f.SlopeSE, f.Slope+lawZ*f.SlopeSE
	return f
}

// LawCell is one (η, B) cell of the law's grid.
type LawCell struct {
	LR    float64 `json:"lr"`
	Batch int     `json:"batch"`
	// X is ΔL/(η κ_B h_e) with κ_B = 1/B.
	X float64 `json:"x"`
	// Events is the number of chains that escaped; Exposure the total exposure in steps
	// Σ_chains min(escape step, horizon); MeanEscapeStep exposure/events (null without
	// escapes); MedianEscapeStep the Kaplan–Meier median (null when survival stays above ½).
	Events           int           `json:"events"`
	Exposure         float64       `json:"exposure"`
	MeanEscapeStep   jsonnum.Float `json:"mean_escape_step"`
	MedianEscapeStep jsonnum.Float `json:"median_escape_step"`
	EscapedFraction  jsonnum.Float `json:"escaped_fraction"`
}

// LawResult is the fit of Xie et al.'s law over the grid; the numbers are null when the fit
// is inconclusive.
type LawResult struct {
	// Time is the unit of τ in the fit ("sde time η·steps").
	Time            string        `json:"time_unit"`
	DeltaL          float64       `json:"delta_l"`
	DeltaLSource    string        `json:"delta_l_source"`
	He              float64       `json:"h_e"`
	HeSource        string        `json:"h_e_source"`
	Slope           jsonnum.Float `json:"slope"`
	SlopeSE         jsonnum.Float `json:"slope_stderr"`
	SlopeCILow      jsonnum.Float `json:"slope_ci_low"`
	SlopeCIHigh     jsonnum.Float `json:"slope_ci_high"`
	Intercept       jsonnum.Float `json:"intercept"`
	InterceptSE     jsonnum.Float `json:"intercept_stderr"`
	Status          string        `json:"status"`
	Verdict         string        `json:"verdict"`
	Cells           []LawCell     `json:"cells"`
	Estimator       string        `json:"estimator"`
	KappaConvention string        `json:"kappa_convention"`
}

// LawOutput is the result of Law and its JSON (key "law").
type LawOutput struct {
	Provenance problem.Provenance `json:"provenance"`
	N          int                `json:"n"`
	D          int                `json:"d"`
	Loss       jsonnum.Float      `json:"loss_star"`
	LambdaMax  jsonnum.Float      `json:"lambda_max"`
	Chains     int                `json:"chains"`
	Steps      int                `json:"steps"`
	CheckEvery int                `json:"check_every"`
	Sampling   string             `json:"sampling"`
	Seed       uint64             `json:"seed"`
	Minimum    string             `json:"minimum"`
	Law        LawResult          `json:"law"`
	Warnings   []string           `json:"warnings"`
}

// Write writes o as JSON to path, atomically.
func (o *LawOutput) Write(path string) error { return atomicfile.WriteJSON(path, o) }

// ReadLawOutput reads a LawOutput that Write wrote.
func ReadLawOutput(path string) (*LawOutput, error) {
	var o LawOutput
	if err := atomicfile.ReadJSON(path, &o); err != nil {
		return nil, fmt.Errorf("escape: %w", err)
	}
	return &o, nil
}

// Law tests Xie et al. 2021's escape law over the grid lrs × batches (MATH.md §12): from θ*
// (theta, or train.Minimize from model.InitSeeded(Seed) when nil), in every cell (η, B)
// s.Chains chains of SGD itself (s's sampling, horizon, check interval and δ; the other
// noises are not run) record their escapes; x_c = ΔL/(η κ_B h_e) with ΔL = δ (the escape
// criterion's loss rise; the true barrier is not known on a network), h_e = λ_max(θ*) (the
// top Hessian eigenvalue, taken as the curvature along the escape direction) and κ_B = 1/B;
// then FitLaw on the cells' events and exposures in SDE time η·steps. s.LR and s.Batch are
// ignored. Each cell must satisfy η·λ_max < 2 (a *field.Error of key "law-lr" otherwise).
func Law(ctx context.Context, p *problem.Problem, theta []float64, s *Settings, lrs []float64, batches []int) (*LawOutput, error) {
	if len(lrs) == 0 || len(batches) == 0 {
		return nil, field.Errorf("law-lr", "the law's grid needs at least one η and one B")
	}
	if len(lrs)*len(batches) < 2 {
		return nil, field.Errorf("law-batch", "the law's grid needs at least 2 cells, not %d", len(lrs)*len(batches))
	}
	chk := *s
	chk.LR, chk.Batch = lrs[0], batches[0]
	for _, lr := range lrs {
		chk.LR = lr
		if err := chk.Validate(); err != nil {
			return nil, rekey(err, "law-lr")
		}
	}
	for _, b := range batches {
		chk.Batch = b
		if err := chk.Validate(); err != nil {
			return nil, rekey(err, "law-batch")
		}
		if err := p.CheckBatch(b); err != nil {
			return nil, rekey(err, "law-batch")
		}
	}
	n, d := p.N(), p.D()
	obj := p.Objective()
	out := &LawOutput{N: n, D: d, Chains: s.Chains, Steps: s.Steps, CheckEvery: s.CheckEvery,
		Sampling: s.Sampling.String(), Seed: s.Seed, Warnings: []string{}}
	if theta == nil {
		theta = make([]float64, d)
		model.InitSeeded(theta, p.Model, s.Seed)
		if _, err := train.Minimize(ctx, obj, p.Batch, theta, train.Settings{}); err != nil {
			return nil, err
		}
		out.Minimum = "train.Minimize (L-BFGS + Newton–CG) from model.InitSeeded(seed)"
	} else {
		if len(theta) != d {
			panic(fmt.Sprintf("escape: Law: θ* has length %d, want d = %d", len(theta), d))
		}
		theta = append([]float64(nil), theta...)
		out.Minimum = "params"
	}
	lstar := obj.Loss(nil, theta, p.Batch)
	out.Loss = jsonnum.Float(lstar)
	vals, _, warn, err := TopHessian(obj, p.Batch, theta, 1, s.Seed, lanczosStream)
	if err != nil {
		return nil, err
	}
	if warn != "" {
		out.Warnings = append(out.Warnings, warn)
	}
	he := vals[0]
	out.LambdaMax = jsonnum.Float(he)
	if !(he > 0) {
		return nil, fmt.Errorf("escape: Law: λ_max(θ*) = %g is not positive: θ* is not a sharp minimum", he)
	}
	for _, lr := range lrs {
		if err := CheckStable(lr, he); err != nil {
			return nil, rekey(err, "law-lr")
		}
	}
	threshold := lstar + s.Delta
	sp := sim.NewModelProblem(p.Model, p.Batch, p.Spec.WeightDecay)
	res := LawResult{Time: "sde time η·steps", DeltaL: s.Delta, DeltaLSource: "δ of the escape criterion (the barrier is not known)",
		He: he, HeSource: "λ_max(∇²L(θ*)), the top Hessian eigenvalue at θ* (Lanczos)",
		KappaConvention: "κ_B = 1/B (Xie et al.'s with-replacement convention), whatever the sampling of the chains",
		Estimator:       "censored-exponential maximum likelihood, rate exp(−(a + b·x)), Newton's method; SE from the observed Fisher information; 95% Wald interval",
		Cells:           []LawCell{}}
	x := []float64{}
	ev := []int{}
	expo := []float64{}
	cell := 0
	for _, lr := range lrs {
		for _, b := range batches {
			cfg := &chainConfig{noise: SGDNoise, lr: lr, sampling: s.Sampling, batch: b,
				chains: s.Chains, steps: s.Steps, checkEvery: s.CheckEvery, seed: s.Seed,
				streamBase: uint64(cell+1) << 40, init: theta,
				escaped: func(q sim.Problem, th []float64) bool { return !(q.Loss(th) <= threshold) }}
			if s.Progress != nil {
				c := cell
				total := len(lrs) * len(batches)
				cfg.progress = func(done int) {
					s.Progress.Record(fmt.Sprintf("law η = %g, B = %d: %d/%d chains", lr, b, done, s.Chains), (float64(c)+float64(done)/float64(s.Chains))/float64(total))
				}
			}
			cr, err := runChains(ctx, sp, cfg)
			if err != nil {
				return nil, err
			}
			r := summarize(cr, s.Steps, s.CheckEvery)
			var e float64
			for _, c := range cr {
				e += float64(c.step)
			}
			lc := LawCell{LR: lr, Batch: b, X: LawX(s.Delta, lr, b, he), Events: r.Escaped, Exposure: e,
				MeanEscapeStep: r.MeanEscapeStep, MedianEscapeStep: r.MedianEscapeStep, EscapedFraction: r.EscapedFraction}
			res.Cells = append(res.Cells, lc)
			x = append(x, lc.X)
			ev = append(ev, lc.Events)
			expo = append(expo, lr*e)
			cell++
		}
	}
	f := FitLaw(x, ev, expo)
	res.Slope, res.SlopeSE = jsonnum.Float(f.Slope), jsonnum.Float(f.SlopeSE)
	res.SlopeCILow, res.SlopeCIHigh = jsonnum.Float(f.SlopeCILow), jsonnum.Float(f.SlopeCIHigh)
	res.Intercept, res.InterceptSE = jsonnum.Float(f.Intercept), jsonnum.Float(f.InterceptSE)
	res.Status = f.Status
	res.Verdict = LawVerdict(f)
	out.Law = res
	return out, nil
}

// LawVerdict states what the slope's 95% interval says (MATH.md §12): "inconclusive" when
// there is no fit or the interval contains 0; otherwise whether log τ rises or falls with x.
// Xie et al. predict a positive slope (2 with ΔL the barrier and h_e the curvature along the
// escape path; with ΔL = δ the value differs, the sign does not).
func LawVerdict(f LawFit) string {
	switch {
	case f.Status != "ok":
		return f.Status
	case f.SlopeCILow > 0:
		return fmt.Sprintf("log τ rises with x = ΔL·B/(η h_e): slope %.3g, 95%% CI [%.3g, %.3g] (Xie et al.: positive)", f.Slope, f.SlopeCILow, f.SlopeCIHigh)
	case f.SlopeCIHigh < 0:
		return fmt.Sprintf("log τ falls with x: slope %.3g, 95%% CI [%.3g, %.3g], against Xie et al.'s positive slope", f.Slope, f.SlopeCILow, f.SlopeCIHigh)
	default:
		return fmt.Sprintf("inconclusive: slope %.3g, 95%% CI [%.3g, %.3g] contains 0", f.Slope, f.SlopeCILow, f.SlopeCIHigh)
	}
}

// rekey returns err as a *field.Error of key (the grid's flag) when it is a *field.Error of
// another key, and err itself otherwise.
func rekey(err error, key string) error {
	if fe := field.As(err); fe != nil {
		return field.Errorf(key, "%s", fe.Reason)
	}
	return err
}
