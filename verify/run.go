package verify

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

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
	wd, sigma := p.Spec.WeightDecay, p.Spec.Sigma
	obj := model.Objective{Model: p.Model, WeightDecay: wd}
	kappa, err := noise.Kappa(s.Sampling, n, s.Batch)
	if err != nil {
		return nil, err
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
		if _, err := train.Minimize(obj, p.Batch, theta, train.Settings{}); err != nil {
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
	at, w, err := minimumAt(obj, p.Batch, theta, kappa, d <= stationary.SmallDim, s.TopK, s.Seed)
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

	// Simulate.
	V := at.Basis
	k := out.BasisDim
	vt := mat.DenseCopyOf(V.T()) // k×d, rows contiguous
	project := func(dst, th []float64) {
		for j := 0; j < k; j++ {
			row := vt.RawRowView(j)
			var sum float64
			for i, x := range row {
				sum += x * (th[i] - theta[i])
			}
			dst[j] = sum
		}
	}
	cfg := sim.Config{
		Method: s.Method, Sampling: s.Sampling, LR: s.LR, Batch: s.Batch, DT: s.DT,
		Chains: s.Chains, Steps: s.Steps, Burnin: s.Burnin, Thin: s.Thin, Seed: s.Seed,
		Init: theta, LambdaMax: at.Curvatures[0], Project: project, ProjectDim: k,
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
	out.RHatMax, out.ESSMin = jsonFloat(maxOf(sum.RHat)), jsonFloat(minOf(sum.ESS))
	if r := float64(out.RHatMax); r > 1.01 {
		out.Warnings = append(out.Warnings, fmt.Sprintf("max split-R̂ = %.3f > 1.01: the chains may not have reached stationarity; increase --burnin or --steps", r))
	}
	cmp := Compare(sum, res.Samples, preds, CompareSettings{Alpha: s.Alpha})
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
	out.CovStderr = emit("cov_stderr", sum.CovSE)
	out.Predictions = map[string]PredResult{}
	for _, c := range cmp {
		pj := PredResult{RelFrobenius: jsonFloat(c.RelFrobenius), KL: jsonFloat(c.KL), ScoreError: jsonFloat(c.ScoreError),
			MaxAbsT: jsonFloat(c.MaxAbsZ), Critical: jsonFloat(c.Critical), Test: c.Test, Alpha: c.Alpha}
		if c.Cov != nil {
			cons := c.Consistent
			pj.Consistent = &cons
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
			Ratio: map[string]jsonFloat{}, RatioSE: map[string]jsonFloat{}, RHat: jsonFloat(sum.RHat[j]), ESS: jsonFloat(sum.ESS[j])}
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

// minimumAt builds the set-up at θ*: with full, from the dense Hessian and C_B = κ_B C
// (stationary.Dense, with a warning naming removed null directions); otherwise in the top-k
// Hessian subspace (stationary.TopK), with VᵀC_BV from the projected per-example gradients
// G V (n×k, by g_i·v products: noise.ProjectedCovariance).
func minimumAt(obj model.Objective, b model.Batch, theta []float64, kappa float64, full bool, k int, seed uint64) (*stationary.Minimum, []string, error) {
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
	return stationary.TopK(hop, k, rand.NewPCG(seed, lanczosStream), func(dst *mat.SymDense, basis *mat.Dense) {
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
	})
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

func maxOf(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		if x > m || math.IsNaN(x) {
			m = x
		}
	}
	return m
}

func minOf(v []float64) float64 {
	m := math.Inf(1)
	for _, x := range v {
		if x < m || math.IsNaN(x) {
			m = x
		}
	}
	return m
}
