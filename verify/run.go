package verify

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/progress"
	"github.com/sgdprior/sgdprior/score"
	"github.com/sgdprior/sgdprior/sim"
	"github.com/sgdprior/sgdprior/stationary"
	"github.com/sgdprior/sgdprior/train"
)

// lanczosStream is the PCG stream (with the seed) of Lanczos for the top-k Hessian subspace.
const lanczosStream = 0x1a4c20

// cloudMost bounds the samples of the cloud.
const cloudMost = 2000

// Run runs many SGD chains (or the simulator s.Method) at the minimum θ* of p and judges every
// prediction of the stationary covariance (MATH.md §6, §7). theta is θ* (length d, not
// modified); nil means a full-batch minimisation (train.Minimize) from model.InitParams on the
// PCG stream (s.Seed, model.InitStream). For d ≤ stationary.SmallDim the comparison basis is
// every positive-curvature eigenvector of the dense Hessian (stationary.Dense), otherwise the
// top-s.TopK Hessian subspace (stationary.TopK); C_B = κ_B C comes from the same examples as
// H. The Report's Provenance is left for the caller to set. s must be valid (Validate); an
// invalid batch for p is a *field.Error.
func Run(ctx context.Context, p *problem.Problem, theta []float64, s *Settings) (*Report, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := p.CheckBatch(s.Batch); err != nil {
		return nil, err
	}
	n, d := p.Data.Len(), p.Model.NumParams()
	if err := s.CheckMemory(d); err != nil {
		return nil, err
	}
	wd, sigma := p.Spec.WeightDecay, p.Spec.Sigma
	obj := model.Objective{Model: p.Model, WeightDecay: wd}
	kappa, err := noise.Kappa(s.Sampling, n, s.Batch)
	if err != nil {
		return nil, err
	}
	if kappa == 0 && s.Method != sim.SGLD {
		// The rule of score: B = N without replacement leaves no mini-batch noise.
		return nil, field.Errorf("batch", "%d equals N: sampling without replacement has no mini-batch noise (κ_B = 0)", n)
	}
	out := &Report{Chains: s.Chains, Steps: s.Steps, Burnin: s.Burnin, Thin: s.Thin, Simulator: s.Method.String(),
		Sampling: s.Sampling.String(), LR: s.LR, Batch: s.Batch, Kappa: kappa, N: n, D: d, Warnings: []string{}}
	if s.Method == sim.SDE {
		out.DT = s.DT
	}
	if s.Sampling == noise.Reshuffle {
		out.Warnings = append(out.Warnings, "sampling reshuffle is predicted with κ_B of sampling without replacement")
	}

	// θ*.
	if theta == nil {
		theta = make([]float64, d)
		model.InitSeeded(theta, p.Model, s.Seed)
		if _, err := train.Minimize(ctx, obj, p.Batch, theta, train.Settings{}); err != nil {
			return nil, err
		}
	} else {
		if len(theta) != d {
			panic(fmt.Sprintf("verify: Run: θ* has length %d, want d = %d", len(theta), d))
		}
		theta = append([]float64(nil), theta...)
	}
	grad := make([]float64, d)
	obj.Loss(grad, theta, p.Batch)
	if gn := floats.Norm(grad, 2); gn > 1e-6 {
		out.Warnings = append(out.Warnings, fmt.Sprintf("‖∇L(θ*)‖ = %.3g: θ* is not a minimum to 1e-6, so the Gaussian predictions are approximate", gn))
	}

	// The comparison basis and the predictions.
	at, w, err := minimumAt(obj, p.Batch, theta, kappa, d <= stationary.SmallDim, s.TopK, s.Seed, s.LanczosTol)
	out.Warnings = append(out.Warnings, w...)
	if err != nil {
		return nil, err
	}
	setup := &Setup{Minimum: at, LR: s.LR, Kappa: kappa, N: n}
	out.BasisDim = len(at.Curvatures)
	out.Removed = map[string]int{"null": at.Null, "flat": at.Flat, "negative": at.Negative}
	if at.Full {
		out.Basis = "full"
	} else {
		out.Basis = "hessian-top-k"
		out.Warnings = append(out.Warnings, fmt.Sprintf("d = %d > %d: the comparison is made in the top-%d Hessian subspace V, with the predictions computed from VᵀHV and VᵀC_B V (the seed's C_B⁻¹ is that of the projected noise)", d, stationary.SmallDim, out.BasisDim))
	}
	ps := PredictSettings{Inverse: s.Inverse, SGLD: s.Method == sim.SGLD}
	if p.Model.Name() == "linreg" {
		ps.LS = stationary.NewLeastSquares(p.Data.X, p.Data.Y, sigma, wd, theta)
	}
	preds, w, err := Predictions(setup, ps)
	out.Warnings = append(out.Warnings, w...)
	if err != nil {
		return nil, err
	}
	if at.Full && d <= ExactFieldMaxDim {
		ExactFields(preds, obj, p.Batch, theta, at.Basis, s.LR, kappa, s.Inverse)
	} else {
		out.Warnings = append(out.Warnings, fmt.Sprintf("score errors use each prediction's Gaussian field −Σ⁻¹(θ − θ*): the exact fields of the note's and the posterior's scores are evaluated only in the full basis with d ≤ %d", ExactFieldMaxDim))
	}

	// Is the noise round-off (an interpolating minimum)? tr H: exact in the full basis, else
	// bounded above by the top-k curvatures and (d − k)·h_k for the rest.
	var traceH float64
	for _, h := range at.Curvatures {
		traceH += h
	}
	if !at.Full {
		traceH += float64(d-len(at.Curvatures)) * at.Curvatures[len(at.Curvatures)-1]
	}
	var inconclusive string
	if spread, floor := roundoffNoise(p.Model, p.Batch, theta, grad, at, traceH); spread <= floor {
		inconclusive = fmt.Sprintf("the mini-batch noise is round-off: √tr C = %.3g ≤ the round-off floor %.3g after one Newton step from θ* (an interpolating minimum, MATH.md §2, §7.1)", spread, floor)
		out.Warnings = append(out.Warnings, inconclusive+": every verdict is inconclusive")
	}

	// Simulate.
	V := at.Basis
	k := out.BasisDim
	vt := mat.DenseCopyOf(V.T()) // k×d, rows contiguous
	// Each kept sample's coordinates Vᵀ(θ − θ*), one matrix–vector product (the scalar loop
	// it replaces took a fifth of mlp-digits' verify). Project runs on several goroutines:
	// each call takes its own θ − θ* buffer from the pool (no allocation once warm).
	vtb := vt.RawMatrix()
	diffs := sync.Pool{New: func() any { b := make([]float64, d); return &b }}
	project := func(dst, th []float64) {
		bp := diffs.Get().(*[]float64)
		diff := *bp
		for i := range diff {
			diff[i] = th[i] - theta[i]
		}
		blas64.Gemv(blas.NoTrans, 1, blas64.General{Rows: k, Cols: d, Stride: vtb.Stride, Data: vtb.Data},
			blas64.Vector{N: d, Inc: 1, Data: diff}, 0, blas64.Vector{N: k, Inc: 1, Data: dst})
		diffs.Put(bp)
	}
	inits, ref := overdispersedStarts(theta, V, preds, s.Method == sim.SGLD, s.Chains, s.Seed)
	if ref == "" {
		out.Starts = "theta*"
		out.Warnings = append(out.Warnings, "no Gaussian prediction exists to overdisperse the starts: every chain starts at θ*, so R̂ cannot see a chain that has not forgotten its start")
	} else {
		out.Starts = "overdispersed from " + ref
	}
	cfg := sim.Config{
		Method: s.Method, Sampling: s.Sampling, LR: s.LR, Batch: s.Batch, DT: s.DT,
		Chains: s.Chains, Steps: s.Steps, Burnin: s.Burnin, Thin: s.Thin, Seed: s.Seed,
		Init: theta, LambdaMax: at.Curvatures[0], Project: project, ProjectDim: k,
		Inits:      inits,
		Checkpoint: s.Checkpoint, CheckpointEvery: s.CheckpointEvery, Resume: s.Resume,
		ConfigTag: fmt.Sprintf("%s|%s|wd=%g|sigma=%g|theta=%x", p.Data.SHA256, p.Model.Name(), wd, sigma, floats.Sum(theta)),
		Observe: func(chain, step int, _ []float64) {
			if chain == 0 && step%1000 == 0 {
				progress.Record(s.Progress, fmt.Sprintf("chain 0: step %d/%d", step, s.Steps), float64(step)/float64(s.Steps))
			}
		},
	}
	res, err := sim.Run(ctx, sim.NewModelProblem(p.Model, p.Batch, wd), cfg)
	if err != nil {
		if errors.Is(err, context.Canceled) && s.Checkpoint != "" {
			return nil, fmt.Errorf("interrupted; resume with --resume %s", s.Checkpoint)
		}
		return nil, err
	}
	out.Warnings = append(out.Warnings, res.Warnings...)
	out.Samples = res.Chains * res.Kept
	sum := sim.DescribeChains(res.Samples, k)
	out.Warnings = append(out.Warnings, sum.Warnings...)
	eta := s.LR
	if s.Method == sim.SDE {
		eta *= s.DT
	}
	conv := CheckConvergence(sum, contraction(at.Curvatures, eta), s.Steps, s.Burnin, s.Thin)
	out.Convergence, out.Converged = conv, conv.Converged
	out.RHatMax, out.ESSMin = jsonFloat(conv.RHatMax), jsonFloat(conv.ESSMin)
	if !conv.Converged {
		w := conv.Reason + ": every verdict is inconclusive"
		if conv.Suggestion != "" {
			w += "; try " + conv.Suggestion
		}
		out.Warnings = append(out.Warnings, w)
		if inconclusive == "" {
			inconclusive = conv.Reason
		}
	}
	cmp := Compare(sum, res.Samples, preds, CompareSettings{Alpha: s.Alpha, Inconclusive: inconclusive})
	// Matrices in the parameter basis when the basis is full, else in the comparison basis.
	emit := func(name string, m *mat.SymDense) *jsonMatrix {
		if m == nil {
			return nil
		}
		if at.Full {
			m = stationary.Unproject(m, V)
		}
		return out.matrix(name, m)
	}
	if at.Full {
		mean := make([]float64, d)
		mat.NewVecDense(d, mean).MulVec(V, mat.NewVecDense(k, sum.Mean))
		floats.Add(mean, theta)
		out.Mean = floatsOf(mean)
	} else {
		out.Mean = floatsOf(sum.Mean)
	}
	out.Cov = emit("cov", sum.Cov)
	if at.Full {
		out.CovStderr = out.matrix("cov_stderr", chainCovSE(sum.ChainCov, V))
	} else {
		out.CovStderr = out.matrix("cov_stderr", chainCovSE(sum.ChainCov, nil))
	}
	out.Predictions = map[string]PredResult{}
	for _, c := range cmp {
		pj := newPredResult(c)
		if c.Cov != nil {
			pj.Cov = emit("pred-"+c.Name, c.Cov)
		}
		for _, p := range preds {
			if p.Name == c.Name {
				pj.Why = p.Why
			}
		}
		out.Warnings = append(out.Warnings, c.Warnings...)
		out.Predictions[c.Name] = pj
	}
	for j := 0; j < k; j++ {
		dir := Direction{H: jsonFloat(at.Curvatures[j]), Var: jsonFloat(sum.Cov.At(j, j)), VarSE: jsonFloat(sum.CovSE.At(j, j)),
			Ratio: map[string]jsonFloat{}, RatioSE: map[string]jsonFloat{}, RHat: jsonFloat(sum.RHat[j]), ESS: jsonFloat(sum.ESS[j]), ESSSq: jsonFloat(sum.ESSSq[j])}
		for _, c := range cmp {
			if c.Ratios != nil {
				dir.Ratio[c.Name] = jsonFloat(c.Ratios[j])
				dir.RatioSE[c.Name] = jsonFloat(c.RatioSE[j])
			}
		}
		out.Directions = append(out.Directions, dir)
	}
	if k >= 2 {
		out.Cloud = newCloud(res.Samples, k, sum, cmp)
	}
	out.Comparisons = cmp
	return out, nil
}

// newPredResult is the JSON form of a comparison (without its covariance matrix).
func newPredResult(c Comparison) PredResult {
	nan := jsonFloat(math.NaN())
	pj := PredResult{RelFrobenius: jsonFloat(c.RelFrobenius), KL: jsonFloat(c.KL), ScoreError: jsonFloat(c.ScoreError),
		MaxAbsT: jsonFloat(c.MaxAbsZ), Verdict: c.Verdict, Reason: c.Reason, Test: c.Test, Alpha: c.Alpha,
		Effect: Effect{nan, nan, nan}, DetectableRelError: nan, DetectableRotationDeg: nan,
		F: nan, Critical: nan, PValue: nan, NullFraction: nan, NullFractionSE: nan}
	if t := c.CovTest; t != nil {
		pj.Effect = Effect{jsonFloat(t.RelError), jsonFloat(t.CILow), jsonFloat(t.CIHigh)}
		pj.DetectableRelError = jsonFloat(t.Detectable)
		pj.DetectableRotationDeg = jsonFloat(t.DetectableRotation * 180 / math.Pi)
		pj.Rank, pj.F, pj.Critical, pj.PValue = t.Rank, jsonFloat(t.F), jsonFloat(t.Critical), jsonFloat(t.PValue)
		pj.NullFraction, pj.NullFractionSE = jsonFloat(t.NullFraction), jsonFloat(t.NullFractionSE)
	}
	if c.Verdict != VerdictInconclusive {
		cons := c.Verdict == VerdictHolds
		pj.Consistent = &cons
	}
	return pj
}

// startStream is the PCG stream (with the seed) of the chains' overdispersed starts.
const startStream = 0x57a275

// overdispersedStarts returns the chains' starts θ* + V x_c with x_c ~ N(0, 4Σ_ref) in basis
// coordinates (MATH.md §7.1), drawn in chain order from the PCG stream (seed, startStream), and
// the name of the prediction used as Σ_ref: the discrete Lyapunov covariance (for SGLD the
// SGLD one first), else the continuous, else the posterior. With none it returns nil, "".
func overdispersedStarts(theta []float64, v *mat.Dense, preds []Prediction, sgld bool, chains int, seed uint64) ([][]float64, string) {
	order := []string{stationary.PredDiscrete, stationary.PredContinuous, stationary.PredPosterior}
	if sgld {
		order = append([]string{stationary.PredSGLDDiscrete}, order...)
	}
	var ref *mat.SymDense
	var name string
	for _, want := range order {
		for _, p := range preds {
			if p.Name == want && p.Cov != nil && ref == nil {
				ref, name = p.Cov, p.Name
			}
		}
	}
	if ref == nil {
		return nil, ""
	}
	k := ref.SymmetricDim()
	var eig mat.EigenSym
	if !eig.Factorize(ref, true) {
		return nil, ""
	}
	vals := eig.Values(nil)
	var q mat.Dense
	eig.VectorsTo(&q)
	for i, l := range vals { // 2Σ_ref^{1/2} = Q·2Λ^{1/2}
		f := 2 * math.Sqrt(math.Max(l, 0))
		for r := 0; r < k; r++ {
			q.Set(r, i, f*q.At(r, i))
		}
	}
	rng := rand.New(rand.NewPCG(seed, startStream))
	z := mat.NewVecDense(k, nil)
	x := mat.NewVecDense(k, nil)
	d := len(theta)
	out := make([][]float64, chains)
	for c := range out {
		for i := 0; i < k; i++ {
			z.SetVec(i, rng.NormFloat64())
		}
		x.MulVec(&q, z)
		out[c] = make([]float64, d)
		th := mat.NewVecDense(d, out[c])
		th.MulVec(v, x)
		floats.Add(out[c], theta)
	}
	return out, name
}

// chainCovSE returns the between-chain standard error of every entry of the covariance: the
// standard deviation over chains (divisor K − 1) of the per-chain covariances, divided by √K
// (sim.BetweenChainSE), in the parameter basis V Σ̂_c Vᵀ when v is non-nil, else in the basis.
func chainCovSE(chainCov []*mat.SymDense, v *mat.Dense) *mat.SymDense {
	K := len(chainCov)
	var n int
	mats := make([]*mat.SymDense, K)
	for c, m := range chainCov {
		if v != nil {
			m = stationary.Unproject(m, v)
		}
		mats[c] = m
		n = m.SymmetricDim()
	}
	out := mat.NewSymDense(n, nil)
	col := make([]float64, K)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			for c := range mats {
				col[c] = mats[c].At(i, j)
			}
			out.SetSym(i, j, sim.BetweenChainSE(col))
		}
	}
	return out
}

// roundoffNoise returns the spread √tr C of the per-example gradients and the round-off floor
// F (noise.RoundoffFloor) at θ_N = θ* − V(VᵀHV)⁻¹Vᵀ∇L(θ*), one Newton step from θ* within the
// comparison basis, or at θ* itself when its spread is smaller (MATH.md §7.1). At an
// interpolating minimum the noise left at θ* is set by the minimiser's tolerance (every g_i
// is of the size of ∇L there); the Newton step takes it to round-off, so spread ≤ F says that
// the noise is round-off. grad is ∇L(θ*) (weight decay included), traceH tr H or a bound.
func roundoffNoise(m model.Model, b model.Batch, theta, grad []float64, at *stationary.Minimum, traceH float64) (spread, floor float64) {
	k := len(at.Curvatures)
	v := at.Basis
	vg := mat.NewVecDense(k, nil)
	vg.MulVec(v.T(), mat.NewVecDense(len(grad), grad))
	var step mat.VecDense
	if err := step.SolveVec(at.H, vg); err != nil {
		step.CloneFromVec(vg)
		step.ScaleVec(0, &step)
	}
	newton := append([]float64(nil), theta...)
	dv := mat.NewVecDense(len(theta), nil)
	dv.MulVec(v, &step)
	floats.Sub(newton, dv.RawVector().Data)
	tc, meanNorm := gradientSpread(m, b, newton)
	t0, mean0 := gradientSpread(m, b, theta)
	if t0 < tc {
		tc, meanNorm, newton = t0, mean0, theta
	}
	return math.Sqrt(tc), noise.RoundoffFloor(len(theta), traceH, floats.Norm(newton, 2), meanNorm)
}

// gradientSpread returns tr C = (1/N) Σ_i ‖g_i − ḡ‖² and the mean norm (1/N) Σ_i ‖g_i‖ of the
// per-example NLL gradients at θ (MATH.md §2), computed in chunks of examples (two passes:
// ḡ, then the deviations).
func gradientSpread(m model.Model, b model.Batch, theta []float64) (traceC, meanNorm float64) {
	n, d := b.Len(), len(theta)
	const chunk = 256
	_, cols := b.X.Dims()
	g := mat.NewDense(min(chunk, n), d, nil)
	mean := make([]float64, d)
	each := func(f func(row []float64)) {
		for lo := 0; lo < n; lo += chunk {
			hi := min(n, lo+chunk)
			sub := model.Batch{X: b.X.Slice(lo, hi, 0, cols).(*mat.Dense)}
			if b.Y != nil {
				sub.Y = b.Y[lo:hi]
			}
			gs := g.Slice(0, hi-lo, 0, d).(*mat.Dense)
			m.PerExampleGrads(gs, theta, sub)
			for i := 0; i < hi-lo; i++ {
				f(gs.RawRowView(i))
			}
		}
	}
	each(func(row []float64) {
		floats.Add(mean, row)
		meanNorm += floats.Norm(row, 2)
	})
	floats.Scale(1/float64(n), mean)
	each(func(row []float64) {
		for j, v := range row {
			traceC += (v - mean[j]) * (v - mean[j])
		}
	})
	return traceC / float64(n), meanNorm / float64(n)
}

// minimumAt builds the set-up at θ*: with full, from the dense Hessian and C_B = κ_B C
// (stationary.Dense, with a warning naming removed null directions); otherwise in the top-k
// Hessian subspace (stationary.TopK), with VᵀC_BV from the projected per-example gradients
// G V (n×k, by g_i·v products: noise.ProjectedCovariance).
func minimumAt(obj model.Objective, b model.Batch, theta []float64, kappa float64, full bool, k int, seed uint64, tol float64) (*stationary.Minimum, []string, error) {
	hop := score.HessianOperator{Objective: obj, Batch: b, Theta: theta}
	if full {
		h := score.DenseHessian(hop)
		c := score.GradCovariance(obj.Model, b, theta)
		c.ScaleSym(kappa, c)
		m, w, err := stationary.Dense(h, c)
		if err != nil {
			return nil, w, err
		}
		if m.Null > 0 {
			w = append(w, fmt.Sprintf("%d null direction(s) (no curvature, no noise: exact symmetries) removed", m.Null))
		}
		return m, w, nil
	}
	n, d := b.Len(), len(theta)
	return stationary.TopKWith(hop, k, rand.NewPCG(seed, lanczosStream), func(dst *mat.SymDense, basis *mat.Dense) {
		_, kk := basis.Dims()
		gv := mat.NewDense(n, kk, nil)
		col := make([]float64, n)
		v := make([]float64, d)
		for j := 0; j < kk; j++ {
			mat.Col(v, j, basis)
			obj.Model.GradDot(col, theta, b, v)
			gv.SetCol(j, col)
		}
		noise.ProjectedCovariance(dst, gv, kappa)
	}, &linalg.LanczosSettings{Tol: tol})
}

// newCloud builds the cloud from kept samples in basis coordinates (k ≥ 2).
func newCloud(samples [][]float64, k int, sum *sim.ChainSummary, cmp []Comparison) *Cloud {
	total := 0
	for _, c := range samples {
		total += len(c) / k
	}
	stride := (total + cloudMost - 1) / cloudMost
	c := &Cloud{Mean: floatsOf(sum.Mean[:2]), Cov: block2(sum.Cov), Predictions: map[string][][]jsonFloat{}}
	i := 0
	for _, ch := range samples {
		for off := 0; off+k <= len(ch); off += k {
			if i%stride == 0 {
				c.X = append(c.X, jsonFloat(ch[off]))
				c.Y = append(c.Y, jsonFloat(ch[off+1]))
			}
			i++
		}
	}
	for _, p := range cmp {
		if p.Cov != nil {
			c.Predictions[p.Name] = block2(p.Cov)
		}
	}
	return c
}

func block2(m mat.Symmetric) [][]jsonFloat {
	return [][]jsonFloat{{jsonFloat(m.At(0, 0)), jsonFloat(m.At(0, 1))}, {jsonFloat(m.At(1, 0)), jsonFloat(m.At(1, 1))}}
}

func floatsOf(v []float64) []jsonFloat {
	out := make([]jsonFloat, len(v))
	for i, x := range v {
		out[i] = jsonFloat(x)
	}
	return out
}
