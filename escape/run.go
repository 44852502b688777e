package escape

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/sim"
	"github.com/sgdprior/sgdprior/train"
)

// PCG streams (with Settings.Seed) of the Lanczos runs; the chains use streamBase.
const (
	lanczosStream        = 1
	landingLanczosStream = 2
)

// hessOp is the Hessian of the objective at θ as a linalg.SymOperator (Hessian–vector
// products, model.Objective.HessVec).
type hessOp struct {
	obj   model.Objective
	b     model.Batch
	theta []float64
}

func (h hessOp) Dim() int               { return len(h.theta) }
func (h hessOp) Apply(dst, v []float64) { h.obj.HessVec(dst, h.theta, h.b, v) }

// TopHessian returns the k largest eigenvalues of ∇²L(θ) (decreasing) and their orthonormal
// eigenvectors, by Lanczos on exact Hessian–vector products started from rand.NewPCG(seed,
// stream); a non-converged Lanczos is returned as a warning.
func TopHessian(obj model.Objective, b model.Batch, theta []float64, k int, seed, stream uint64) (vals []float64, vecs [][]float64, warn string, err error) {
	d := len(theta)
	k = min(k, d)
	vals = make([]float64, k)
	v := mat.NewDense(d, k, nil)
	_, err = linalg.Lanczos(vals, v, hessOp{obj, b, theta}, rand.NewPCG(seed, stream), nil)
	var nc *linalg.NotConvergedError
	if errors.As(err, &nc) {
		warn, err = fmt.Sprintf("Lanczos for the top-%d Hessian eigenpairs stopped before converging (relative residual %.2g)", k, nc.Residual), nil
	}
	if err != nil {
		return nil, nil, "", err
	}
	vecs = make([][]float64, k)
	for j := range vecs {
		vecs[j] = mat.Col(nil, j, v)
	}
	return vals, vecs, warn, nil
}

// TraceC returns tr C(θ) = (1/N) Σ_i ‖g_i − ḡ‖² (MATH.md §2), from the per-example gradients
// in blocks of 256 examples.
func TraceC(m model.Model, b model.Batch, theta []float64) float64 {
	n, d := b.Len(), len(theta)
	_, p := b.X.Dims()
	const block = 256
	mean := make([]float64, d)
	var sq float64
	g := mat.NewDense(min(block, n), d, nil)
	for lo := 0; lo < n; lo += block {
		hi := min(n, lo+block)
		sub := model.Batch{X: b.X.Slice(lo, hi, 0, p).(*mat.Dense), Y: b.Y[lo:hi]}
		gs := g
		if hi-lo != g.RawMatrix().Rows {
			gs = mat.NewDense(hi-lo, d, nil)
		}
		m.PerExampleGrads(gs, theta, sub)
		for i := 0; i < hi-lo; i++ {
			row := gs.RawRowView(i)
			sq += floats.Dot(row, row)
			floats.Add(mean, row)
		}
	}
	floats.Scale(1/float64(n), mean)
	return math.Max(0, sq/float64(n)-floats.Dot(mean, mean))
}

// Run starts Settings.Chains chains of each noise at θ* (theta, not modified; nil means a
// full-batch minimisation, train.Minimize, from model.InitSeeded(Seed)) and records their
// escapes (MATH.md §12). It refuses, with a *field.Error of key "lr", a learning rate with
// η·λ_max(θ*) ≥ 2: there the chains would leave θ* by linear instability, not by noise.
func Run(ctx context.Context, p *problem.Problem, theta []float64, s *Settings) (*Output, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := p.CheckBatch(s.Batch); err != nil {
		return nil, err
	}
	n, d := p.N(), p.D()
	if err := s.CheckMemory(d); err != nil {
		return nil, err
	}
	kappa, err := noise.Kappa(s.Sampling, n, s.Batch)
	if err != nil {
		return nil, err
	}
	if kappa == 0 {
		return nil, field.Errorf("batch", "%d equals N: sampling without replacement has no mini-batch noise (κ_B = 0)", n)
	}
	obj := p.Objective()
	out := &Output{Settings: OutSettings{LR: s.LR, Batch: s.Batch, Sampling: s.Sampling.String(), Kappa: kappa,
		Chains: s.Chains, Steps: s.Steps, CheckEvery: s.CheckEvery, Delta: s.Delta, TopK: min(s.TopK, d), Landing: s.Landing, Seed: s.Seed},
		N: n, D: d, Warnings: []string{}}
	if theta == nil {
		theta = make([]float64, d)
		model.InitSeeded(theta, p.Model, s.Seed)
		if _, err := train.Minimize(ctx, obj, p.Batch, theta, train.Settings{}); err != nil {
			return nil, err
		}
		out.Settings.Minimum = "train.Minimize (L-BFGS + Newton–CG) from model.InitSeeded(seed)"
	} else {
		if len(theta) != d {
			panic(fmt.Sprintf("escape: Run: θ* has length %d, want d = %d", len(theta), d))
		}
		theta = append([]float64(nil), theta...)
		out.Settings.Minimum = "params"
	}
	grad := make([]float64, d)
	lstar := obj.Loss(grad, theta, p.Batch)
	out.Loss, out.GradNorm = jsonnum.Float(lstar), jsonnum.Float(floats.Norm(grad, 2))
	vals, vecs, warn, err := TopHessian(obj, p.Batch, theta, s.TopK, s.Seed, lanczosStream)
	if err != nil {
		return nil, err
	}
	if warn != "" {
		out.Warnings = append(out.Warnings, warn)
	}
	lmax := vals[0]
	out.LambdaMax, out.TopEigenvalues = jsonnum.Float(lmax), floatsOf(vals)
	out.Stability = jsonnum.Float(s.LR * lmax)
	if err := CheckStable(s.LR, lmax); err != nil {
		return nil, err
	}
	trC := TraceC(p.Model, p.Batch, theta)
	trCB := kappa * trC
	out.TraceC, out.TraceCB = jsonnum.Float(trC), jsonnum.Float(trCB)
	excess := StationaryExcess(s.LR, trCB)
	out.StationaryExcess = jsonnum.Float(excess)
	if s.Delta < 3*excess {
		out.Warnings = append(out.Warnings, fmt.Sprintf("δ = %g is below 3× the stationary loss excess (η/4)·tr C_B(θ*) = %.4g of SGD near θ*: escapes may be fluctuations within the basin; raise --delta", s.Delta, excess))
	}
	threshold := lstar + s.Delta
	out.Threshold = jsonnum.Float(threshold)

	sp := sim.NewModelProblem(p.Model, p.Batch, p.Spec.WeightDecay)
	k := len(vecs)
	for i, nz := range Noises {
		cfg := &chainConfig{noise: nz, lr: s.LR, sampling: s.Sampling, batch: s.Batch, kappa: kappa,
			isoScale: math.Sqrt(trCB / float64(d)), topScale: math.Sqrt(trCB / float64(k)), basis: vecs,
			chains: s.Chains, steps: s.Steps, checkEvery: s.CheckEvery, seed: s.Seed, streamBase: streamBase(nz),
			init: theta, escaped: func(q sim.Problem, x []float64) bool { return !(q.Loss(x) <= threshold) }}
		if s.Progress != nil {
			cfg.progress = func(done int) {
				s.Progress.Record(fmt.Sprintf("%s: %d/%d chains", nz, done, s.Chains), (float64(i)+float64(done)/float64(s.Chains))/float64(len(Noises)))
			}
		}
		res, err := runChains(ctx, sp, cfg)
		if err != nil {
			return nil, err
		}
		r := summarize(res, s.Steps, s.CheckEvery)
		r.Description = describe(nz, k)
		r.Landing, warn = land(ctx, p, res, s)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if warn != "" {
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s: %s", nz, warn))
		}
		out.Noises.set(nz, r)
	}
	return out, nil
}

// CheckStable refuses η·λ_max ≥ 2 (a *field.Error of key "lr"): gradient descent on the
// quadratic model of θ* is then unstable along the top eigenvector, so chains would leave
// by linear instability, not by noise (MATH.md §12).
func CheckStable(lr, lmax float64) error {
	if lr*lmax >= 2 {
		return field.Errorf("lr", "%g gives η·λ_max(θ*) = %.6g ≥ 2 (λ_max = %.6g): the chains would leave θ* by linear instability, not by noise; use η < 2/λ_max = %.6g", lr, lr*lmax, lmax, 2/lmax)
	}
	return nil
}

// StationaryExcess returns (η/4)·tr C_B, the mean excess loss E[L − L(θ*)] = ½tr(HΣ) of the
// SDE's stationary Gaussian at a quadratic minimum, from the trace of the continuous
// Lyapunov equation HΣ + ΣH = ηC_B (MATH.md §6, §12): the loss a chain fluctuates to without
// leaving the basin, to be compared with δ.
func StationaryExcess(lr, trCB float64) float64 { return lr * trCB / 4 }

func describe(nz Noise, k int) string {
	switch nz {
	case SGDNoise:
		return "SGD: θ ← θ − η∇L_b(θ)"
	case GaussNoise:
		return "Gaussian-noise SGD: θ ← θ − η(∇L(θ) + ξ), ξ ~ N(0, C_B(θ))"
	case IsotropicNoise:
		return "isotropic: θ ← θ − η∇L(θ) + η√(tr C_B(θ*)/d)·z, z ~ N(0, I_d)"
	default:
		return fmt.Sprintf("top-Hessian: θ ← θ − η∇L(θ) + η√(tr C_B(θ*)/k)·V_k z, z ~ N(0, I_k), k = %d", k)
	}
}

// summarize turns the chains' outcomes into a NoiseResult (without landing).
func summarize(res []chainResult, steps, every int) *NoiseResult {
	times := make([]int, len(res))
	esc := make([]bool, len(res))
	r := &NoiseResult{EscapeSteps: make([]*int, len(res))}
	for i, c := range res {
		times[i], esc[i] = c.step, c.escaped
		if c.escaped {
			r.Escaped++
			st := c.step
			r.EscapeSteps[i] = &st
		}
	}
	var grid []int
	for t := every; t <= steps; t += every {
		grid = append(grid, t)
	}
	if len(grid) == 0 || grid[len(grid)-1] != steps {
		grid = append(grid, steps)
	}
	r.Survival = KaplanMeier(times, esc, grid)
	r.MedianEscapeStep = jsonnum.Float(MedianSurvival(r.Survival))
	r.RestrictedMean = jsonnum.Float(RestrictedMean(r.Survival))
	mean, se := ExponentialMean(times, esc)
	r.MeanEscapeStep, r.MeanEscapeStepStderr = jsonnum.Float(mean), jsonnum.Float(se)
	f, fse := EscapedFraction(esc)
	r.EscapedFraction, r.EscapedFractionStderr = jsonnum.Float(f), jsonnum.Float(fse)
	return r
}

// land descends (train.Minimize, full batch) from the final state of up to s.Landing escaped
// chains and returns the means, with between-chain standard errors, of λ_max and of the test
// error (1 − accuracy on p's test set; null without a test set or for a regression). A
// cancelled ctx stops it (the caller returns ctx's error).
func land(ctx context.Context, p *problem.Problem, res []chainResult, s *Settings) (Landing, string) {
	nan := jsonnum.Float(math.NaN())
	l := Landing{LambdaMax: nan, LambdaMaxStderr: nan, TestError: nan, TestErrorStderr: nan}
	obj := p.Objective()
	classify := model.IsClassifier(p.Model) && p.HasTest()
	var lam, terr []float64
	failed := 0
	var firstErr error
	for _, c := range res {
		if !c.escaped || len(lam)+failed >= s.Landing || ctx.Err() != nil {
			continue
		}
		if !finite(c.final) {
			failed++
			continue
		}
		theta := append([]float64(nil), c.final...)
		if _, err := train.Minimize(ctx, obj, p.Batch, theta, train.Settings{}); err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		vals, _, _, err := TopHessian(obj, p.Batch, theta, 1, s.Seed, landingLanczosStream)
		if err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		lam = append(lam, vals[0])
		if classify {
			terr = append(terr, 1-model.Accuracy(p.Model, theta, p.TestBatch))
		}
	}
	l.Chains = len(lam)
	if len(lam) > 0 {
		m, se := meanSE(lam)
		l.LambdaMax, l.LambdaMaxStderr = jsonnum.Float(m), jsonnum.Float(se)
	}
	if len(terr) > 0 {
		m, se := meanSE(terr)
		l.TestError, l.TestErrorStderr = jsonnum.Float(m), jsonnum.Float(se)
	}
	warn := ""
	if failed > 0 {
		warn = fmt.Sprintf("%d escaped chain(s) could not be descended to a minimum", failed)
		if firstErr != nil {
			warn += fmt.Sprintf(" (first: %v)", firstErr)
		}
	}
	return l, warn
}

// meanSE returns the mean and its standard error sd/√n (NaN for n = 1).
func meanSE(x []float64) (float64, float64) {
	n := float64(len(x))
	m := floats.Sum(x) / n
	if len(x) < 2 {
		return m, math.NaN()
	}
	var ss float64
	for _, v := range x {
		ss += (v - m) * (v - m)
	}
	return m, math.Sqrt(ss / (n - 1) / n)
}

func floatsOf(x []float64) []jsonnum.Float {
	out := make([]jsonnum.Float, len(x))
	for i, v := range x {
		out[i] = jsonnum.Float(v)
	}
	return out
}
