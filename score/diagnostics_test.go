package score

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/noise"
)

// bruteLogisticCov returns C(θ) of the logistic NLL from the analytic gradients.
func bruteLogisticCov(b model.Batch, theta []float64) *mat.SymDense {
	g, _ := logisticGrads(b, theta)
	return bruteCov(g, nil, 1/float64(b.Len()))
}

// TestDivergenceAgainstBruteForce: ∇·C from the per-example formula (1/N)Σ[H_i a_i + a_i
// tr H_i] with analytic H_i, and from central differences of the dense C(θ) (Σ_k ∂_k C_jk),
// both computed here, agree with the exact-trace divergence; s_gen = s_st − C_B⁻¹κ_B∇·C.
func TestDivergenceAgainstBruteForce(t *testing.T) {
	rnd := newRand(21)
	n, p := 50, 3
	d := p + 1
	b := logisticData(rnd, n, p)
	m := mustModel(t, "logistic", p, 2, model.Options{})
	theta := randTheta(rnd, d, 0.5)
	eta := 0.1
	rep, err := ComputeModel(ModelProblem{Model: m, Batch: b}, theta, &Settings{LR: eta, Batch: 5, Divergence: true})
	if err != nil {
		t.Fatal(err)
	}
	g, hs := logisticGrads(b, theta)
	mean := bruteMean(g, nil)
	div := make([]float64, d)
	for i := 0; i < n; i++ {
		a := mat.Row(nil, i, g)
		floats.Sub(a, mean)
		var ha mat.VecDense
		ha.MulVec(hs[i], mat.NewVecDense(d, a))
		floats.AddScaled(div, 1/float64(n), ha.RawVector().Data)
		floats.AddScaled(div, mat.Trace(hs[i])/float64(n), a)
	}
	checkVec(t, "∇·C (formula)", rep.Vectors.DivergenceC, div, 1e-10)
	fd := make([]float64, d)
	const h = 1e-5
	for k := 0; k < d; k++ {
		tp := append([]float64(nil), theta...)
		tm := append([]float64(nil), theta...)
		tp[k] += h
		tm[k] -= h
		cp, cm := bruteLogisticCov(b, tp), bruteLogisticCov(b, tm)
		for j := 0; j < d; j++ {
			fd[j] += (cp.At(j, k) - cm.At(j, k)) / (2 * h)
		}
	}
	checkVec(t, "∇·C (finite differences)", rep.Vectors.DivergenceC, fd, 1e-6)
	cb := bruteCov(g, nil, rep.Kappa/float64(n))
	x := make([]float64, d)
	floats.ScaleTo(x, rep.Kappa, div)
	x = bruteSolve(t, cb, x)
	sgen := make([]float64, d)
	floats.SubTo(sgen, rep.Vectors.Stationary, x)
	checkVec(t, "s_gen", rep.Vectors.StationaryGeneral, sgen, 1e-8)
	checkScalar(t, "divergence ratio", *rep.Diagnostics.DivergenceRatio, floats.Norm(x, 2)/floats.Norm(rep.Vectors.Stationary, 2), 1e-8)

	// Dense Jacobian asymmetry of F_seed and F_gen against a brute-force central-difference
	// Jacobian of the fields computed here from the analytic gradients and Hessians.
	field := func(th []float64) (note, gen []float64) {
		g, hs := logisticGrads(b, th)
		mean := bruteMean(g, nil)
		cb := bruteCov(g, nil, rep.Kappa/float64(n))
		rhs := make([]float64, d)
		floats.ScaleTo(rhs, -2/eta, mean)
		note = bruteSolve(t, cb, rhs)
		for i := 0; i < n; i++ {
			a := mat.Row(nil, i, g)
			floats.Sub(a, mean)
			var ha mat.VecDense
			ha.MulVec(hs[i], mat.NewVecDense(d, a))
			floats.AddScaled(rhs, -rep.Kappa/float64(n), ha.RawVector().Data)
			floats.AddScaled(rhs, -rep.Kappa*mat.Trace(hs[i])/float64(n), a)
		}
		gen = bruteSolve(t, cb, rhs)
		return
	}
	js, jg := mat.NewDense(d, d, nil), mat.NewDense(d, d, nil)
	for k := 0; k < d; k++ {
		tp := append([]float64(nil), theta...)
		tm := append([]float64(nil), theta...)
		tp[k] += h
		tm[k] -= h
		sp, gp := field(tp)
		sm, gm := field(tm)
		for j := 0; j < d; j++ {
			js.Set(j, k, (sp[j]-sm[j])/(2*h))
			jg.Set(j, k, (gp[j]-gm[j])/(2*h))
		}
	}
	checkScalar(t, "asymmetry seed", *rep.Diagnostics.AsymmetryNote, denseAsymmetry(js), 1e-5)
	checkScalar(t, "asymmetry general", *rep.Diagnostics.AsymmetryGeneral, denseAsymmetry(jg), 1e-5)
}

// TestHutchinsonDivergence: with tr(H_i) estimated by P Rademacher probes (shared by all
// examples), each component l of the estimated ∇·C deviates from the exact one by
// (1/N)Σ_i a_il (t̂_i − t_i) = (1/P)Σ_p [z_pᵀM_l z_p − tr M_l] with M_l = (1/N)Σ_i a_il H_i,
// whose standard error is √(2 Σ_{j≠k} (M_l)_jk² / P). Each component must lie within 4 SE.
func TestHutchinsonDivergence(t *testing.T) {
	rnd := newRand(22)
	n, p := 40, 4
	d := p + 1
	b := logisticData(rnd, n, p)
	m := mustModel(t, "logistic", p, 2, model.Options{})
	theta := randTheta(rnd, d, 0.5)
	const probes = 200
	set := &Settings{LR: 0.1, Batch: 5, Divergence: true, ExactTraceMaxDim: 1, TraceProbes: probes, SkipAsymmetry: true}
	rep, err := ComputeModel(ModelProblem{Model: m, Batch: b}, theta, set)
	if err != nil {
		t.Fatal(err)
	}
	set.ExactTraceMaxDim = d
	exact, err := ComputeModel(ModelProblem{Model: m, Batch: b}, theta, set)
	if err != nil {
		t.Fatal(err)
	}
	g, hs := logisticGrads(b, theta)
	mean := bruteMean(g, nil)
	for l := 0; l < d; l++ {
		ml := mat.NewSymDense(d, nil)
		for i := 0; i < n; i++ {
			var s mat.SymDense
			s.ScaleSym((g.At(i, l)-mean[l])/float64(n), hs[i])
			ml.AddSym(ml, &s)
		}
		var off float64
		for j := 0; j < d; j++ {
			for k := 0; k < d; k++ {
				if j != k {
					off += ml.At(j, k) * ml.At(j, k)
				}
			}
		}
		se := math.Sqrt(2 * off / probes)
		if dev := math.Abs(rep.Vectors.DivergenceC[l] - exact.Vectors.DivergenceC[l]); dev > 4*se {
			t.Errorf("component %d: Hutchinson deviates by %.3g > 4 SE = %.3g", l, dev, 4*se)
		}
	}
}

// TestProbeEstimates: the probe estimates of the commutator (large-d path, forced by the
// Woodbury solver) and of the Jacobian asymmetry agree with the dense values; the spread
// over 8 seeds gives the standard error, and the mean must be within 4 SE.
func TestProbeEstimates(t *testing.T) {
	rnd := newRand(23)
	d, n := 5, 30
	a := randSPD(rnd, []float64{3, 2, 1, 0.5, 0.2})
	prob := quadProblem(a, randSPD(rnd, []float64{1, 0.6, 0.4, 0.2, 0.1}), n, make([]float64, d))
	theta := randTheta(rnd, d, 0.3)
	base := Settings{LR: 0.1, Batch: 5, SkipNoise: true}
	dense, err := ComputeModel(prob, theta, &base)
	if err != nil {
		t.Fatal(err)
	}
	const seeds = 8
	var comm, asym []float64
	for s := uint64(1); s <= seeds; s++ {
		set := base
		set.Seed = s
		set.Solver = SolverWoodbury
		set.CommutatorProbes = 50
		set.AsymmetryDenseMaxDim = 1
		set.AsymmetryProbes = 10
		rep, err := ComputeModel(prob, theta, &set)
		if err != nil {
			t.Fatal(err)
		}
		comm = append(comm, *rep.Diagnostics.Commutator)
		asym = append(asym, *rep.Diagnostics.AsymmetryNote)
	}
	for _, c := range []struct {
		name string
		vals []float64
		want float64
	}{{"commutator", comm, *dense.Diagnostics.Commutator}, {"asymmetry", asym, *dense.Diagnostics.AsymmetryNote}} {
		mean := floats.Sum(c.vals) / seeds
		var v float64
		for _, x := range c.vals {
			v += (x - mean) * (x - mean)
		}
		se := math.Sqrt(v / (seeds - 1) / seeds)
		if math.Abs(mean-c.want) > 4*se {
			t.Errorf("%s: mean of the estimates %.4g, dense %.4g, SE %.3g", c.name, mean, c.want, se)
		}
		// The estimate must be informative: its SE well below the value.
		if se > 0.25*c.want {
			t.Errorf("%s: SE %.3g of the estimates is not small against %.4g (all %v)", c.name, se, c.want, c.vals)
		}
	}
}

// TestGaussianityStatistics: the excess kurtosis is 0 and the tail index 2 for Gaussian
// samples and the tail index 1 for Cauchy samples: over 40 replicates of 4000 values, the
// mean lies within 4 standard errors (from the replicates' spread) of the true value.
func TestGaussianityStatistics(t *testing.T) {
	rnd := rand.New(rand.NewPCG(24, 1))
	const reps, n = 40, 4000
	var kg, tg, tc []float64
	x := make([]float64, n)
	for r := 0; r < reps; r++ {
		for i := range x {
			x[i] = rnd.NormFloat64()
		}
		kg = append(kg, ExcessKurtosis(x))
		tg = append(tg, TailIndex(x))
		for i := range x {
			x[i] = math.Tan(math.Pi * (rnd.Float64() - 0.5))
		}
		tc = append(tc, TailIndex(x))
	}
	for _, c := range []struct {
		name string
		v    []float64
		want float64
	}{{"gaussian kurtosis", kg, 0}, {"gaussian tail index", tg, 2}, {"cauchy tail index", tc, 1}} {
		mean := floats.Sum(c.v) / reps
		var v float64
		for _, x := range c.v {
			v += (x - mean) * (x - mean)
		}
		se := math.Sqrt(v / (reps - 1) / reps)
		if math.Abs(mean-c.want) > 4*se {
			t.Errorf("%s: mean %.4g, want %g (SE %.3g)", c.name, mean, c.want, se)
		}
	}
	if !math.IsNaN(ExcessKurtosis([]float64{1, 1, 1})) || !math.IsNaN(TailIndex([]float64{1, 2})) {
		t.Error("degenerate samples should give NaN")
	}
}

// TestMiniBatchNoiseGaussianity: the pipeline's mini-batch noise projections, sampled with
// and without replacement, have the variance κ_B λ_k along the k-th noise direction (within
// 4 SE for n batches: the sample variance's SE is ≈ λκ√(2/n)), and for a quadratic with
// normally distributed shifts and B = 20 an excess kurtosis within 5 SE of 0.
func TestMiniBatchNoiseGaussianity(t *testing.T) {
	rnd := newRand(25)
	d, n := 3, 400
	a := randSPD(rnd, []float64{2, 1, 0.5})
	x := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			x.Set(i, j, rnd.NormFloat64()*float64(j+1))
		}
	}
	prob := ModelProblem{Model: &quadModel{a: a}, Batch: model.Batch{X: x, Y: make([]float64, n)}}
	rep, err := ComputeModel(prob, make([]float64, d), &Settings{LR: 0.1, Batch: 20, NoiseBatches: 4000, NoiseDirections: 2})
	if err != nil {
		t.Fatal(err)
	}
	dg := rep.Diagnostics
	if len(dg.NoiseKurtosis) != 2 {
		t.Fatalf("%d directions, want 2", len(dg.NoiseKurtosis))
	}
	for k, v := range dg.NoiseKurtosis {
		// The sampled estimate agrees with the exact value within 5 bootstrap SE.
		if e, se := dg.NoiseKurtosisExact[k], dg.NoiseKurtosisSE[k]; math.Abs(v-e) > 5*se || !(se > 0) {
			t.Errorf("direction %d: sampled excess kurtosis %.3g, exact %.3g, SE %.3g", k, v, e, se)
		}
	}
	// The sampled projections' variance is κ_B λ_k, with and without replacement; the SE of
	// a sample variance is σ²√((κ + 2)/n), κ the excess kurtosis.
	for _, samp := range []noise.Sampling{noise.With, noise.Without} {
		rep, err := ComputeModel(prob, make([]float64, d), &Settings{LR: 0.1, Batch: 20, Sampling: samp, NoiseBatches: 4000, NoiseDirections: 2})
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range rep.Diagnostics.NoiseVariance {
			want := rep.Kappa * rep.Noise.TopEigenvalues[k]
			se := want * math.Sqrt((rep.Diagnostics.NoiseKurtosis[k]+2)/4000)
			if math.Abs(v-want) > 4*se {
				t.Errorf("%v, direction %d: variance %.4g, want κλ = %.4g (SE %.2g)", samp, k, v, want, se)
			}
		}
	}
}

// TestReproducibleAcrossGOMAXPROCS: the report (Woodbury path with probes, Gaussianity,
// divergence) is bitwise identical with GOMAXPROCS 1 and 2.
func TestReproducibleAcrossGOMAXPROCS(t *testing.T) {
	rnd := newRand(26)
	n, p := 300, 6
	b := classData(rnd, n, p, 3)
	m := mustModel(t, "mlp:8", p, 3, model.Options{})
	theta := randTheta(rnd, m.NumParams(), 0.5)
	set := &Settings{LR: 0.1, Batch: 16, Solver: SolverWoodbury, Subset: 100, Divergence: true, TraceProbes: 3,
		DivergenceExamples: 40, Inverse: linalg.InverseSettings{Damping: 1e-4}, Seed: 9, TopK: 4, ForceGaussian: true}
	var reps [2]*Report
	for k, procs := range []int{1, 2} {
		old := runtime.GOMAXPROCS(procs)
		rep, err := ComputeModel(ModelProblem{Model: m, Batch: b, WeightDecay: 1e-3}, theta, set)
		runtime.GOMAXPROCS(old)
		if err != nil {
			t.Fatal(err)
		}
		reps[k] = rep
	}
	a, c := reps[0], reps[1]
	same := func(name string, x, y []float64) {
		for i := range x {
			if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
				t.Errorf("%s differs at %d: %v vs %v", name, i, x[i], y[i])
				return
			}
		}
	}
	same("stationary", a.Vectors.Stationary, c.Vectors.Stationary)
	same("general", a.Vectors.StationaryGeneral, c.Vectors.StationaryGeneral)
	same("top eigenvalues", a.Noise.TopEigenvalues, c.Noise.TopEigenvalues)
	same("kurtosis", a.Diagnostics.NoiseKurtosis, c.Diagnostics.NoiseKurtosis)
	same("diagnostics", []float64{*a.Diagnostics.Commutator, *a.Diagnostics.AsymmetryNote, *a.Diagnostics.AsymmetryGeneral},
		[]float64{*c.Diagnostics.Commutator, *c.Diagnostics.AsymmetryNote, *c.Diagnostics.AsymmetryGeneral})
	same("continuous", a.Gaussian.CovContinuous.RawSymmetric().Data, c.Gaussian.CovContinuous.RawSymmetric().Data)

	// The CG path (Lanczos on covariance products, CG solves).
	set = &Settings{LR: 0.1, Batch: 16, Solver: SolverCG, Inverse: linalg.InverseSettings{Damping: 1e-3}, Seed: 9, TopK: 3}
	var vecs [2][]float64
	for k, procs := range []int{1, 2} {
		old := runtime.GOMAXPROCS(procs)
		rep, err := ComputeModel(ModelProblem{Model: m, Batch: b}, theta, set)
		runtime.GOMAXPROCS(old)
		if err != nil {
			t.Fatal(err)
		}
		vecs[k] = append(rep.Vectors.Stationary, rep.Noise.TopEigenvalues...)
	}
	same("cg", vecs[0], vecs[1])
}

// TestPivotedRank: the pivoted-Cholesky rank estimate of a PSD matrix of known rank equals
// the eigenvalue count above the threshold.
func TestPivotedRank(t *testing.T) {
	rnd := newRand(27)
	for _, r := range []int{1, 7, 20, 30} {
		u := mat.NewDense(30, r, nil)
		for i := 0; i < 30; i++ {
			for j := 0; j < r; j++ {
				u.Set(i, j, rnd.NormFloat64())
			}
		}
		a := mat.NewSymDense(30, nil)
		a.SymOuterK(1, u)
		var es mat.EigenSym
		es.Factorize(a, false)
		lmax := floats.Max(es.Values(nil))
		want := linalg.NumericalRank(es.Values(nil), 1e-10)
		if got := pivotedRank(a, 1e-10*lmax, nil); got != want || want != r {
			t.Errorf("rank %d: pivoted %d, eigenvalues %d", r, got, want)
		}
	}
}
