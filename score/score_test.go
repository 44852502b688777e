package score

import (
	"errors"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/noise"
)

// TestVectorsAgainstBruteForce: on logistic regression (analytic per-example gradients
// written here) every noise figure and vector agrees with a dense brute-force computation
// to 1e-8 relative, for both sampling schemes, with and without weight decay.
func TestVectorsAgainstBruteForce(t *testing.T) {
	rnd := newRand(1)
	n, p := 60, 3
	b := logisticData(rnd, n, p)
	m := mustModel(t, "logistic", p, 2, model.Options{})
	theta := randTheta(rnd, p+1, 0.5)
	for _, tc := range []struct {
		wd   float64
		samp noise.Sampling
	}{{0, noise.Without}, {0.1, noise.With}} {
		eta, batch := 0.05, 8
		rep, err := ComputeModel(ModelProblem{Model: m, Batch: b, WeightDecay: tc.wd}, theta,
			&Settings{LR: eta, Batch: batch, Sampling: tc.samp})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Solver != SolverDense {
			t.Fatalf("solver %v, want dense", rep.Solver)
		}
		g, _ := logisticGrads(b, theta)
		gbar := bruteMean(g, nil)
		grad := append([]float64(nil), gbar...)
		floats.AddScaled(grad, tc.wd, theta)
		c := bruteCov(g, nil, 1/float64(n))
		kappa := 1 / float64(batch)
		if tc.samp == noise.Without {
			kappa = float64(n-batch) / (float64(batch) * float64(n-1))
		}
		checkScalar(t, "kappa", rep.Kappa, kappa, 1e-15)
		cb := mat.NewSymDense(p+1, nil)
		cb.ScaleSym(kappa, c)
		sst := bruteSolve(t, cb, grad)
		floats.Scale(-2/eta, sst)
		slik := make([]float64, p+1)
		floats.ScaleTo(slik, -float64(n), gbar)
		prior := make([]float64, p+1)
		floats.SubTo(prior, sst, slik)
		const tol = 1e-8
		checkVec(t, "grad", rep.Vectors.Grad, grad, tol)
		checkVec(t, "stationary", rep.Vectors.Stationary, sst, tol)
		checkVec(t, "likelihood", rep.Vectors.Likelihood, slik, tol)
		checkVec(t, "prior", rep.Vectors.Prior, prior, tol)
		if tc.wd > 0 {
			expl := make([]float64, p+1)
			floats.ScaleTo(expl, -float64(n)*tc.wd, theta)
			impl := make([]float64, p+1)
			floats.SubTo(impl, prior, expl)
			checkVec(t, "explicit prior", rep.Vectors.ExplicitPrior, expl, tol)
			checkVec(t, "implicit prior", rep.Vectors.ImplicitPrior, impl, tol)
		} else if rep.Vectors.ExplicitPrior != nil {
			t.Error("explicit prior score without weight decay")
		}
		checkScalar(t, "trace", rep.Noise.Trace, mat.Trace(c), tol)
		checkScalar(t, "trace_batch", rep.Noise.TraceBatch, kappa*mat.Trace(c), tol)
		var es mat.EigenSym
		es.Factorize(c, false)
		vals := es.Values(nil)
		if rep.Noise.Rank != p+1 || rep.Noise.RankEstimated {
			t.Errorf("rank %d (estimated %v), want %d exact", rep.Noise.Rank, rep.Noise.RankEstimated, p+1)
		}
		for k, v := range rep.Noise.TopEigenvalues {
			checkScalar(t, "top eigenvalue", v, vals[p-k], tol)
		}
		checkScalar(t, "noise scale", rep.Noise.NoiseScale, mat.Trace(c)/floats.Dot(gbar, gbar), tol)
		gn := floats.Norm(grad, 2)
		checkScalar(t, "grad norm", rep.GradNorm, gn, tol)
		checkScalar(t, "optimal lr", rep.OptimalLR, 2*float64(p+1)/(float64(n)*kappa*mat.Trace(c)), tol)
		checkScalar(t, "implicit regularizer", rep.ImplicitRegularizer, eta/4*(gn*gn+kappa*mat.Trace(c)), tol)
		nll := m.Loss(nil, theta, b)
		checkScalar(t, "loss", rep.Loss, nll+tc.wd/2*floats.Dot(theta, theta), 1e-12)
		if !math.IsNaN(rep.Diagnostics.RangeFraction) {
			t.Errorf("range fraction %g with an exact inverse, want NaN (not computed)", rep.Diagnostics.RangeFraction)
		}
	}
}

// TestNoteConvention: the note runs SGD on L_full = Σ ℓ_i with step η_full = η/N and
// D_full = η_full² Cov[∇L_full,b]; its prior score (I − 2η_full D_full⁻¹)∇L_full equals
// s_st − s_lik of the mean convention (MATH.md §4).
func TestNoteConvention(t *testing.T) {
	rnd := newRand(2)
	n, p := 50, 3
	b := logisticData(rnd, n, p)
	m := mustModel(t, "logistic", p, 2, model.Options{})
	theta := randTheta(rnd, p+1, 0.5)
	eta, batch := 0.1, 5
	rep, err := ComputeModel(ModelProblem{Model: m, Batch: b}, theta, &Settings{LR: eta, Batch: batch})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := logisticGrads(b, theta)
	// ∇L_full,b = N ∇L_b, so Cov[∇L_full,b] = N² C_B.
	kappa := float64(n-batch) / (float64(batch) * float64(n-1))
	etaFull := eta / float64(n)
	dFull := mat.NewSymDense(p+1, nil)
	dFull.ScaleSym(etaFull*etaFull*float64(n*n)*kappa, bruteCov(g, nil, 1/float64(n)))
	gradFull := bruteMean(g, nil)
	floats.Scale(float64(n), gradFull)
	x := bruteSolve(t, dFull, gradFull)
	note := make([]float64, p+1)
	for i := range note {
		note[i] = gradFull[i] - 2*etaFull*x[i]
	}
	checkVec(t, "note's prior score", rep.Vectors.Prior, note, 1e-8)
}

// TestSubsetEstimate: with --subset M the covariance is (N−1)/N · S on the reported seeded
// subset (brute force on those rows); the gradient uses all N examples; the subset is
// reproducible and depends on the seed.
func TestSubsetEstimate(t *testing.T) {
	rnd := newRand(3)
	n, p, msub := 80, 3, 25
	b := logisticData(rnd, n, p)
	m := mustModel(t, "logistic", p, 2, model.Options{})
	theta := randTheta(rnd, p+1, 0.5)
	set := &Settings{LR: 0.05, Batch: 10, Subset: msub, Seed: 7}
	rep, err := ComputeModel(ModelProblem{Model: m, Batch: b}, theta, set)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Subset) != msub || rep.CovExamples != msub {
		t.Fatalf("subset of %d (M = %d), want %d", len(rep.Subset), rep.CovExamples, msub)
	}
	for i := 1; i < msub; i++ {
		if rep.Subset[i] <= rep.Subset[i-1] {
			t.Fatalf("subset not sorted and distinct: %v", rep.Subset)
		}
	}
	g, _ := logisticGrads(b, theta)
	c := bruteCov(g, rep.Subset, float64(n-1)/float64(n)/float64(msub-1))
	kappa := rep.Kappa
	cb := mat.NewSymDense(p+1, nil)
	cb.ScaleSym(kappa, c)
	grad := bruteMean(g, nil)
	sst := bruteSolve(t, cb, grad)
	floats.Scale(-2/set.LR, sst)
	checkVec(t, "stationary (subset)", rep.Vectors.Stationary, sst, 1e-8)
	checkScalar(t, "trace (subset)", rep.Noise.Trace, mat.Trace(c), 1e-10)
	rep2, _ := ComputeModel(ModelProblem{Model: m, Batch: b}, theta, set)
	if !slicesEqual(rep.Subset, rep2.Subset) {
		t.Error("the subset is not reproducible")
	}
	set.Seed = 8
	rep3, _ := ComputeModel(ModelProblem{Model: m, Batch: b}, theta, set)
	if slicesEqual(rep.Subset, rep3.Subset) {
		t.Error("the subset does not depend on the seed")
	}
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestMatrixFreeAgreesWithDense: on an MLP (d = 47, N = 40 < d: C_B is rank-deficient) the
// Woodbury and CG solvers give the dense solver's vectors (the general score included),
// trace and spectrum, damped and (Woodbury) with the range pseudo-inverse, and the Woodbury
// path the dense path's Jacobian asymmetries; the dense damped vectors agree with a
// brute-force solve of (C_B + λI).
func TestMatrixFreeAgreesWithDense(t *testing.T) {
	rnd := newRand(4)
	n, p := 40, 4
	b := classData(rnd, n, p, 3)
	m := mustModel(t, "mlp:5", p, 3, model.Options{})
	d := m.NumParams()
	theta := randTheta(rnd, d, 0.6)
	base := Settings{LR: 0.1, Batch: 8, Inverse: linalg.InverseSettings{Damping: 1e-3, CGTol: 1e-13}, TopK: 6,
		Divergence: true, AsymmetryDenseMaxDim: 100}
	run := func(s Settings) *Report {
		t.Helper()
		rep, err := ComputeModel(ModelProblem{Model: m, Batch: b, WeightDecay: 0.01}, theta, &s)
		if err != nil {
			t.Fatalf("%v: %v", s.Solver, err)
		}
		return rep
	}
	s := base
	s.Solver = SolverDense
	dense := run(s)
	// Brute force of the damped vector.
	var g mat.Dense
	m.PerExampleGrads(&g, theta, b)
	cb := bruteCov(&g, nil, dense.Kappa/float64(n))
	for i := 0; i < d; i++ {
		cb.SetSym(i, i, cb.At(i, i)+base.Inverse.Damping)
	}
	sst := bruteSolve(t, cb, dense.Vectors.Grad)
	floats.Scale(-2/base.LR, sst)
	checkVec(t, "dense damped stationary", dense.Vectors.Stationary, sst, 1e-8)
	var es mat.EigenSym
	es.Factorize(cb, false)
	bruteRank := 0
	for _, v := range es.Values(nil) {
		if v-base.Inverse.Damping > 1e-10*(floats.Max(es.Values(nil))-base.Inverse.Damping) {
			bruteRank++
		}
	}
	if dense.Noise.Rank != bruteRank || bruteRank > n-1 {
		t.Errorf("dense rank %d, brute force %d (≤ N−1 = %d)", dense.Noise.Rank, bruteRank, n-1)
	}
	for _, solver := range []Solver{SolverWoodbury, SolverCG, -1} {
		s := base
		s.Solver = solver
		name := solver.String()
		if solver == -1 {
			// CG preconditioned from a subset of 10 of the 40 examples.
			s.Solver, s.PreconditionerExamples, name = SolverCG, 10, "preconditioned cg"
		}
		rep := run(s)
		checkVec(t, name+" stationary", rep.Vectors.Stationary, dense.Vectors.Stationary, 1e-8)
		checkVec(t, name+" prior", rep.Vectors.Prior, dense.Vectors.Prior, 1e-8)
		checkVec(t, name+" implicit prior", rep.Vectors.ImplicitPrior, dense.Vectors.ImplicitPrior, 1e-8)
		checkVec(t, name+" general stationary", rep.Vectors.StationaryGeneral, dense.Vectors.StationaryGeneral, 1e-8)
		if solver == SolverWoodbury || s.Solver == SolverCG {
			// The dense Jacobian: the Woodbury and CG paths by the product rule (one solve
			// with A(θ) per column), the dense path by central differences of refactorised
			// fields.
			checkScalar(t, name+" asymmetry seed", *rep.Diagnostics.AsymmetryNote, *dense.Diagnostics.AsymmetryNote, 1e-6)
			checkScalar(t, name+" asymmetry general", *rep.Diagnostics.AsymmetryGeneral, *dense.Diagnostics.AsymmetryGeneral, 1e-6)
		}
		checkScalar(t, name+" trace", rep.Noise.Trace, dense.Noise.Trace, 1e-10)
		checkVec(t, name+" top eigenvalues", rep.Noise.TopEigenvalues, dense.Noise.TopEigenvalues, 1e-8)
		if solver == SolverWoodbury && rep.Noise.Rank != dense.Noise.Rank {
			t.Errorf("woodbury rank %d, dense %d", rep.Noise.Rank, dense.Noise.Rank)
		}
		if s.Solver == SolverCG && (!rep.Noise.RankEstimated || rep.Noise.Rank != min(d, n-1)) {
			t.Errorf("cg rank %d (estimated %v), want the bound %d", rep.Noise.Rank, rep.Noise.RankEstimated, n-1)
		}
		// Top eigenvectors agree up to sign.
		for k := 0; k < 3; k++ {
			u := mat.Col(nil, k, rep.Noise.TopVectors)
			v := mat.Col(nil, k, dense.Noise.TopVectors)
			if c := math.Abs(floats.Dot(u, v)); math.Abs(c-1) > 1e-8 {
				t.Errorf("%s eigenvector %d: |cos| = %.12g", name, k, c)
			}
		}
	}
	// Plain (unpreconditioned) CG.
	s = base
	s.Solver, s.PlainCG = SolverCG, true
	checkVec(t, "plain cg stationary", run(s).Vectors.Stationary, dense.Vectors.Stationary, 1e-8)

	// Range pseudo-inverse: Woodbury agrees with dense, and both with the brute-force
	// pseudo-inverse; the fraction outside the range matches the brute-force projector.
	s = base
	s.Inverse = linalg.InverseSettings{Range: true, RCond: 1e-9}
	s.Solver = SolverDense
	dr := run(s)
	s.Solver = SolverWoodbury
	wr := run(s)
	cbr := bruteCov(&g, nil, dr.Kappa/float64(n))
	pinv, proj := brutePinv(cbr, 1e-9)
	var x mat.VecDense
	x.MulVec(pinv, mat.NewVecDense(d, dr.Vectors.Grad))
	want := x.RawVector().Data
	floats.Scale(-2/s.LR, want)
	checkVec(t, "dense range stationary", dr.Vectors.Stationary, want, 1e-8)
	checkVec(t, "woodbury range stationary", wr.Vectors.Stationary, want, 1e-8)
	var pg mat.VecDense
	pg.MulVec(proj, mat.NewVecDense(d, dr.Vectors.Grad))
	out := make([]float64, d)
	floats.SubTo(out, dr.Vectors.Grad, pg.RawVector().Data)
	frac := floats.Dot(out, out) / floats.Dot(dr.Vectors.Grad, dr.Vectors.Grad)
	checkScalar(t, "dense range fraction", dr.Diagnostics.RangeFraction, frac, 1e-8)
	checkScalar(t, "woodbury range fraction", wr.Diagnostics.RangeFraction, frac, 1e-8)
	if !(frac > 1e-6) {
		t.Errorf("range fraction %g: the test wants a gradient with a clear component outside the range", frac)
	}
}

// TestRankDeficientRefused: an MLP with a softmax output has exact null directions (shifting
// all logits' weights for a hidden unit leaves every ℓ_i unchanged), so C_B is singular even
// with N ≫ d. Without damping or the range option every solver returns a
// *linalg.RankDeficientError; with either it works.
func TestRankDeficientRefused(t *testing.T) {
	rnd := newRand(5)
	n, p := 120, 3
	b := classData(rnd, n, p, 3)
	m := mustModel(t, "mlp:3", p, 3, model.Options{})
	d := m.NumParams()
	theta := randTheta(rnd, d, 0.7)
	prob := ModelProblem{Model: m, Batch: b}
	for _, solver := range []Solver{SolverDense, SolverWoodbury, SolverCG} {
		_, err := ComputeModel(prob, theta, &Settings{LR: 0.1, Batch: 10, Solver: solver})
		var rd *linalg.RankDeficientError
		if !errors.As(err, &rd) {
			t.Errorf("%v: error %v, want *linalg.RankDeficientError", solver, err)
		}
	}
	rep, err := ComputeModel(prob, theta, &Settings{LR: 0.1, Batch: 10})
	if err == nil {
		t.Fatal("no error")
	}
	_ = rep
	dr, err := ComputeModel(prob, theta, &Settings{LR: 0.1, Batch: 10, Inverse: linalg.InverseSettings{Range: true}})
	if err != nil {
		t.Fatal(err)
	}
	// The null directions: the last layer's weights and bias shifted equally across the
	// K = 3 outputs for each of the 3 hidden units and the bias: 4 directions.
	if want := d - 4; dr.Noise.Rank != want {
		t.Errorf("rank %d, want %d", dr.Noise.Rank, want)
	}
	if _, err := ComputeModel(prob, theta, &Settings{LR: 0.1, Batch: 10, Inverse: linalg.InverseSettings{Damping: 1e-6}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ComputeModel(prob, theta, &Settings{LR: 0.1, Batch: 10, Inverse: linalg.InverseSettings{Damping: 1e-6, Range: true}}); err == nil {
		t.Error("damping and range together accepted")
	}
}

// TestGradsPathMatchesModel: the gradients path (G = per-example gradients, H = dense
// Hessian of the objective) gives the model path's vectors, noise figures, commutator and
// Gaussian matrices, with weight decay.
func TestGradsPathMatchesModel(t *testing.T) {
	rnd := newRand(6)
	n, p := 70, 3
	b := logisticData(rnd, n, p)
	m := mustModel(t, "logistic", p, 2, model.Options{})
	d := p + 1
	theta := randTheta(rnd, d, 0.3)
	const wd = 0.05
	set := Settings{LR: 0.2, Batch: 7, ForceGaussian: true, NoiseBatches: 500}
	mrep, err := ComputeModel(ModelProblem{Model: m, Batch: b, WeightDecay: wd}, theta, &set)
	if err != nil {
		t.Fatal(err)
	}
	var g mat.Dense
	m.PerExampleGrads(&g, theta, b)
	h := mat.NewDense(d, d, nil)
	e := make([]float64, d)
	col := make([]float64, d)
	for j := 0; j < d; j++ {
		e[j] = 1
		model.Objective{Model: m, WeightDecay: wd}.HessVec(col, theta, b, e)
		h.SetCol(j, col)
		e[j] = 0
	}
	grep, err := ComputeGrads(Grads{G: &g, Hessian: h, WeightDecay: wd, Theta: theta}, &set)
	if err != nil {
		t.Fatal(err)
	}
	const tol = 1e-10
	checkVec(t, "grad", grep.Vectors.Grad, mrep.Vectors.Grad, tol)
	checkVec(t, "stationary", grep.Vectors.Stationary, mrep.Vectors.Stationary, tol)
	checkVec(t, "likelihood", grep.Vectors.Likelihood, mrep.Vectors.Likelihood, tol)
	checkVec(t, "prior", grep.Vectors.Prior, mrep.Vectors.Prior, tol)
	checkVec(t, "implicit prior", grep.Vectors.ImplicitPrior, mrep.Vectors.ImplicitPrior, tol)
	checkScalar(t, "trace", grep.Noise.Trace, mrep.Noise.Trace, tol)
	checkVec(t, "top eigenvalues", grep.Noise.TopEigenvalues, mrep.Noise.TopEigenvalues, tol)
	checkScalar(t, "commutator", *grep.Diagnostics.Commutator, *mrep.Diagnostics.Commutator, 1e-8)
	checkVec(t, "noise kurtosis", grep.Diagnostics.NoiseKurtosis, mrep.Diagnostics.NoiseKurtosis, 1e-8)
	if !math.IsNaN(grep.Loss) {
		t.Errorf("loss %g from gradients, want NaN (unknown)", grep.Loss)
	}
	gm, gg := mrep.Gaussian, grep.Gaussian
	if gm == nil || gg == nil {
		t.Fatal("no Gaussian section")
	}
	for _, pair := range []struct {
		name string
		a, b *mat.SymDense
	}{{"seed", gg.CovNote, gm.CovNote}, {"continuous", gg.CovContinuous, gm.CovContinuous},
		{"discrete", gg.CovDiscrete, gm.CovDiscrete}, {"posterior", gg.CovPosterior, gm.CovPosterior}} {
		var pa, pb mat.SymDense
		gg.ToParams(&pa, pair.a)
		gm.ToParams(&pb, pair.b)
		checkMat(t, pair.name, &pa, &pb, 1e-8)
	}
}

// TestErrors: data errors are returned, misuse panics.
func TestErrors(t *testing.T) {
	rnd := newRand(7)
	b := logisticData(rnd, 20, 2)
	m := mustModel(t, "logistic", 2, 2, model.Options{})
	theta := randTheta(rnd, 3, 0.3)
	prob := ModelProblem{Model: m, Batch: b}
	for name, s := range map[string]Settings{
		"no lr":          {Batch: 5},
		"batch > N":      {LR: 0.1, Batch: 21},
		"B = N without":  {LR: 0.1, Batch: 20},
		"damping+range":  {LR: 0.1, Batch: 5, Inverse: linalg.InverseSettings{Damping: 1, Range: true}},
		"negative damp":  {LR: 0.1, Batch: 5, Inverse: linalg.InverseSettings{Damping: -1}},
		"subset of one":  {LR: 0.1, Batch: 5, Subset: 1},
		"one probe pair": {LR: 0.1, Batch: 5, AsymmetryProbes: 1},
	} {
		if _, err := ComputeModel(prob, theta, &s); err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: multi-line error %q", name, err)
		}
	}
	if _, err := ComputeModel(prob, theta, &Settings{LR: 0.1, Batch: 20, Sampling: noise.With}); err != nil {
		t.Errorf("B = N with replacement: %v", err)
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.HasPrefix(r.(string), "score: ") {
				t.Errorf("wrong θ length: recovered %v", r)
			}
		}()
		ComputeModel(prob, theta[:2], &Settings{LR: 0.1, Batch: 5})
	}()
	g := mat.NewDense(5, 3, nil)
	for i := 0; i < 5; i++ {
		g.Set(i, i%3, float64(i))
	}
	for name, gr := range map[string]Grads{
		"N < M":            {G: g, N: 4},
		"wd without θ":     {G: g, WeightDecay: 0.1},
		"θ wrong length":   {G: g, Theta: []float64{1}},
		"hessian wrong":    {G: g, Hessian: mat.NewDense(2, 2, nil)},
		"non-finite grads": {G: mat.NewDense(2, 2, []float64{1, math.NaN(), 0, 1})},
		"no noise":         {G: mat.NewDense(3, 2, []float64{1, 2, 1, 2, 1, 2})},
	} {
		if _, err := ComputeGrads(gr, &Settings{LR: 0.1, Batch: 2, Inverse: linalg.InverseSettings{Damping: 1}}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := ComputeGrads(Grads{G: g}, &Settings{LR: 0.1, Batch: 2, Divergence: true, Inverse: linalg.InverseSettings{Damping: 1}}); err == nil {
		t.Error("divergence from gradients accepted")
	}
}

// TestExactWoodburyAsymmetry: without damping, with more examples than parameters (C_B of
// full rank), the Woodbury solver's Jacobian asymmetries (product rule, one solve at θ) agree
// with the dense solver's (the exact inverse refactorised at every θ ± h e_j) to 1e-6, the
// accuracy of central differences with step ε^(1/3).
func TestExactWoodburyAsymmetry(t *testing.T) {
	rnd := newRand(21)
	n, p := 120, 3
	b := classData(rnd, n, p, 3) // the labels 0, 1, 2 as regression targets
	// A regression head: a softmax layer's gradients sum to zero over its outputs, which
	// would leave C rank-deficient.
	m := mustModel(t, "mlp:4", p, 0, model.Options{Task: "regress"})
	d := m.NumParams()
	if n-1 < d {
		t.Fatalf("need more examples than parameters: n = %d, d = %d", n, d)
	}
	theta := randTheta(rnd, d, 0.6)
	run := func(solver Solver) *Report {
		t.Helper()
		s := Settings{LR: 0.1, Batch: 10, Solver: solver, Divergence: true, AsymmetryDenseMaxDim: 100}
		rep, err := ComputeModel(ModelProblem{Model: m, Batch: b, WeightDecay: 0.01}, theta, &s)
		if err != nil {
			t.Fatalf("%v: %v", solver, err)
		}
		return rep
	}
	dense, wood := run(SolverDense), run(SolverWoodbury)
	if wood.Inverse != "exact" || wood.Solver != SolverWoodbury {
		t.Fatalf("solver %v, inverse %q, want the exact Woodbury inverse", wood.Solver, wood.Inverse)
	}
	if a := *dense.Diagnostics.AsymmetryNote; !(a > 1e-3) {
		t.Fatalf("asymmetry %g: too small for the comparison to mean anything", a)
	}
	checkScalar(t, "exact woodbury asymmetry seed", *wood.Diagnostics.AsymmetryNote, *dense.Diagnostics.AsymmetryNote, 1e-6)
	checkScalar(t, "exact woodbury asymmetry general", *wood.Diagnostics.AsymmetryGeneral, *dense.Diagnostics.AsymmetryGeneral, 1e-6)
}
