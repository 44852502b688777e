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
	"github.com/sgdprior/sgdprior/stationary"
)

// kronSolve solves the linear matrix equation op(Σ) = rhs for symmetric Σ by assembling the
// d²×d² matrix of op column by column (op applied to the unit matrices E_ab) — a brute
// force independent of the eigenbasis formulas.
func kronSolve(t *testing.T, d int, op func(s *mat.Dense) *mat.Dense, rhs mat.Matrix) *mat.SymDense {
	t.Helper()
	big := mat.NewDense(d*d, d*d, nil)
	for a := 0; a < d; a++ {
		for b := 0; b < d; b++ {
			e := mat.NewDense(d, d, nil)
			e.Set(a, b, 1)
			out := op(e)
			for i := 0; i < d; i++ {
				for j := 0; j < d; j++ {
					big.Set(i*d+j, a*d+b, out.At(i, j))
				}
			}
		}
	}
	r := make([]float64, d*d)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			r[i*d+j] = rhs.At(i, j)
		}
	}
	x := bruteSolve(t, big, r)
	return symFrom(d, func(i, j int) float64 { return 0.5 * (x[i*d+j] + x[j*d+i]) })
}

func mul(a, b mat.Matrix) *mat.Dense {
	var out mat.Dense
	out.Mul(a, b)
	return &out
}

// bruteGaussian returns the continuous and discrete Lyapunov solutions, the posterior and the
// seed covariance for H and C_B (dense, all d directions positive), by Kronecker systems and
// dense inverses.
func bruteGaussian(t *testing.T, h, cb *mat.SymDense, eta float64, n int) (cont, disc, post, seed *mat.SymDense) {
	d := h.SymmetricDim()
	etaC := mat.NewDense(d, d, nil)
	etaC.Scale(eta, cb)
	cont = kronSolve(t, d, func(s *mat.Dense) *mat.Dense {
		var o mat.Dense
		o.Add(mul(h, s), mul(s, h))
		return &o
	}, etaC)
	a := mat.NewDense(d, d, nil)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			v := -eta * h.At(i, j)
			if i == j {
				v++
			}
			a.Set(i, j, v)
		}
	}
	eta2C := mat.NewDense(d, d, nil)
	eta2C.Scale(eta*eta, cb)
	disc = kronSolve(t, d, func(s *mat.Dense) *mat.Dense {
		var o mat.Dense
		o.Sub(s, mul(mul(a, s), a.T()))
		return &o
	}, eta2C)
	var hinv mat.Dense
	if err := hinv.Inverse(h); err != nil {
		t.Fatal(err)
	}
	post = symFrom(d, func(i, j int) float64 { return 0.5 * (hinv.At(i, j) + hinv.At(j, i)) / float64(n) })
	var cinv mat.Dense
	if err := cinv.Inverse(cb); err != nil {
		t.Fatal(err)
	}
	p := mul(&cinv, h)
	p.Scale(2/eta, p)
	ps := symFrom(d, func(i, j int) float64 { return 0.5 * (p.At(i, j) + p.At(j, i)) })
	var sinv mat.Dense
	if err := sinv.Inverse(ps); err != nil {
		t.Fatal(err)
	}
	seed = symFrom(d, func(i, j int) float64 { return 0.5 * (sinv.At(i, j) + sinv.At(j, i)) })
	return
}

// logisticMinimum returns θ* of the logistic objective with weight decay by Newton's method
// (analytic gradients and Hessians) and the objective's Hessian there.
func logisticMinimum(t *testing.T, b model.Batch, wd float64) ([]float64, *mat.SymDense) {
	_, p := b.X.Dims()
	d := p + 1
	theta := make([]float64, d)
	n := b.Len()
	var h *mat.SymDense
	for it := 0; it < 40; it++ {
		g, hs := logisticGrads(b, theta)
		grad := bruteMean(g, nil)
		floats.AddScaled(grad, wd, theta)
		h = mat.NewSymDense(d, nil)
		for _, hi := range hs {
			h.AddSym(h, hi)
		}
		h.ScaleSym(1/float64(n), h)
		for i := 0; i < d; i++ {
			h.SetSym(i, i, h.At(i, i)+wd)
		}
		step := bruteSolve(t, h, grad)
		floats.Sub(theta, step)
	}
	return theta, h
}

// TestGaussianAgainstBruteForce: at the minimum of a weight-decayed logistic regression the
// seed, continuous, discrete and posterior covariances and the per-direction table agree with
// Kronecker-system brute force to 1e-8.
func TestGaussianAgainstBruteForce(t *testing.T) {
	rnd := newRand(11)
	n, p := 80, 3
	b := logisticData(rnd, n, p)
	const wd = 0.05
	theta, h := logisticMinimum(t, b, wd)
	m := mustModel(t, "logistic", p, 2, model.Options{})
	eta, batch := 0.5, 10
	rep, err := ComputeModel(ModelProblem{Model: m, Batch: b, WeightDecay: wd}, theta, &Settings{LR: eta, Batch: batch})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.AtMinimum || rep.Gaussian == nil {
		t.Fatalf("θ* not recognised as a minimum (‖∇L‖ = %g)", rep.GradNorm)
	}
	g, _ := logisticGrads(b, theta)
	cb := bruteCov(g, nil, rep.Kappa/float64(n))
	cont, disc, post, seed := bruteGaussian(t, h, cb, eta, n)
	gs := rep.Gaussian
	if gs.Subspace || gs.Removed != 0 || len(gs.Directions) != p+1 {
		t.Fatalf("subspace %v, removed %d, %d directions", gs.Subspace, gs.Removed, len(gs.Directions))
	}
	for _, c := range []struct {
		name string
		got  *mat.SymDense
		want *mat.SymDense
	}{{"continuous", gs.CovContinuous, cont}, {"discrete", gs.CovDiscrete, disc}, {"posterior", gs.CovPosterior, post}, {"seed", gs.CovNote, seed}} {
		var pc mat.SymDense
		gs.ToParams(&pc, c.got)
		checkMat(t, c.name, &pc, c.want, 1e-8)
	}
	// The table: Hessian eigenpairs (brute), v_kᵀΣv_k and v_kᵀΣ⁻¹v_k − N(h_k − λ).
	var es mat.EigenSym
	es.Factorize(h, true)
	vals := es.Values(nil)
	var q mat.Dense
	es.VectorsTo(&q)
	quad := func(s mat.Matrix, v []float64) float64 {
		var sv mat.VecDense
		sv.MulVec(s, mat.NewVecDense(len(v), v))
		return floats.Dot(v, sv.RawVector().Data)
	}
	inv := func(s *mat.SymDense) *mat.Dense {
		var o mat.Dense
		if err := o.Inverse(s); err != nil {
			t.Fatal(err)
		}
		return &o
	}
	for k, dir := range gs.Directions {
		i := p - k // descending
		v := mat.Col(nil, i, &q)
		nll := float64(n) * (vals[i] - wd)
		checkScalar(t, "h", dir.H, vals[i], 1e-10)
		checkScalar(t, "c", dir.C, quad(cb, v), 1e-8)
		checkScalar(t, "var continuous", dir.VarContinuous, quad(cont, v), 1e-8)
		checkScalar(t, "var discrete", dir.VarDiscrete, quad(disc, v), 1e-8)
		checkScalar(t, "var posterior", dir.VarPosterior, quad(post, v), 1e-8)
		checkScalar(t, "var seed", dir.VarNote, quad(seed, v), 1e-8)
		checkScalar(t, "prior continuous", dir.Prior.Continuous, quad(inv(cont), v)-nll, 1e-7)
		checkScalar(t, "prior discrete", dir.Prior.Discrete, quad(inv(disc), v)-nll, 1e-7)
		checkScalar(t, "prior seed", dir.Prior.Note, quad(inv(seed), v)-nll, 1e-7)
		if !math.IsNaN(dir.VarLinearExact) {
			t.Error("linear exact variance for a logistic model")
		}
	}
	checkScalar(t, "explicit prior precision", gs.ExplicitPriorPrecision, float64(n)*wd, 1e-15)
	var cbh mat.Dense
	cbh.Mul(cb, h)
	var hcb mat.Dense
	hcb.Mul(h, cb)
	cbh.Sub(&cbh, &hcb)
	checkScalar(t, "commutator", *rep.Diagnostics.Commutator, mat.Norm(&cbh, 2)/(mat.Norm(cb, 2)*mat.Norm(h, 2)), 1e-8)
}

// TestLinearExactAgainstBruteForce: for linreg with σ = 2 (MATH.md §6 states the equation for
// σ = 1: the design is scaled by 1/σ) and weight decay, the exact least-squares covariance
// solves HΣ + ΣH − ηHΣH − ηκ_B(M₄(Σ) − H_dΣH_d) = ηκ_B C(θ*), assembled here as a Kronecker
// system with M₄ from the examples.
func TestLinearExactAgainstBruteForce(t *testing.T) {
	rnd := newRand(12)
	n, p := 60, 3
	b := regData(rnd, n, p)
	const sigma, wd = 2.0, 0.1
	d := p + 1
	m := mustModel(t, "linreg", p, 0, model.Options{Sigma: sigma})
	// θ* = (X̃ᵀX̃/N + λI)⁻¹ X̃ᵀỹ/N with x̃ = (x, 1)/σ, ỹ = y/σ.
	xt := mat.NewDense(n, d, nil)
	yt := make([]float64, n)
	for i := 0; i < n; i++ {
		for j := 0; j < p; j++ {
			xt.Set(i, j, b.X.At(i, j)/sigma)
		}
		xt.Set(i, p, 1/sigma)
		yt[i] = b.Y[i] / sigma
	}
	hd := mat.NewSymDense(d, nil)
	hd.SymOuterK(1/float64(n), xt.T())
	h := mat.NewSymDense(d, nil)
	h.CopySym(hd)
	for i := 0; i < d; i++ {
		h.SetSym(i, i, h.At(i, i)+wd)
	}
	var xty mat.VecDense
	xty.MulVec(xt.T(), mat.NewVecDense(n, yt))
	xty.ScaleVec(1/float64(n), &xty)
	theta := bruteSolve(t, h, xty.RawVector().Data)
	eta, batch := 0.3, 6
	rep, err := ComputeModel(ModelProblem{Model: m, Batch: b, WeightDecay: wd}, theta, &Settings{LR: eta, Batch: batch, Sampling: noise.With})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Gaussian == nil || rep.Gaussian.CovLinearExact == nil {
		t.Fatalf("no exact covariance (‖∇L‖ = %g)", rep.GradNorm)
	}
	g, _ := linregGrads(b, theta, sigma)
	c := bruteCov(g, nil, 1/float64(n))
	kappa := 1 / float64(batch)
	rhs := mat.NewDense(d, d, nil)
	rhs.Scale(eta*kappa, c)
	want := kronSolve(t, d, func(s *mat.Dense) *mat.Dense {
		var o mat.Dense
		o.Add(mul(h, s), mul(s, h))
		hsh := mul(mul(h, s), h)
		hsh.Scale(eta, hsh)
		o.Sub(&o, hsh)
		m4 := mat.NewDense(d, d, nil)
		for i := 0; i < n; i++ {
			xi := mat.NewVecDense(d, xt.RawRowView(i))
			var sx mat.VecDense
			sx.MulVec(s, xi)
			q := mat.Dot(xi, &sx)
			var outer mat.Dense
			outer.Outer(q/float64(n), xi, xi)
			m4.Add(m4, &outer)
		}
		m4.Sub(m4, mul(mul(hd, s), hd))
		m4.Scale(eta*kappa, m4)
		o.Sub(&o, m4)
		return &o
	}, rhs)
	var got mat.SymDense
	rep.Gaussian.ToParams(&got, rep.Gaussian.CovLinearExact)
	checkMat(t, "linear exact", &got, want, 1e-8)
	for _, dir := range rep.Gaussian.Directions {
		if math.IsNaN(dir.VarLinearExact) || math.IsNaN(dir.Prior.LinearExact) {
			t.Error("linear exact missing from the table")
		}
	}
}

// TestQuadraticClosedForms: for ℓ_i = ½(θ − s_i)ᵀA(θ − s_i), H = A and C = A S A exactly.
// With S = αA⁻¹ (C ∝ H) the commutator vanishes, the seed covariance equals the continuous
// Lyapunov one, η/2 · H⁻¹C_B, and the Jacobian of F_seed is symmetric; with a general S the
// continuous solution is Σ̃_ij = ηC̃_ij/(λ_i + λ_j) in A's eigenbasis and the asymmetry is
// ‖C⁻¹A − AC⁻¹‖_F/‖C⁻¹A‖_F. ∇·C = 0, so s_gen = s_st.
func TestQuadraticClosedForms(t *testing.T) {
	rnd := newRand(13)
	d, n := 4, 40
	a := randSPD(rnd, []float64{3, 1.5, 0.7, 0.2})
	mean := []float64{0.3, -0.2, 0.5, 0.1}
	eta, batch := 0.2, 5
	// C ∝ H.
	const alpha = 0.8
	var ainv mat.SymDense
	{
		var ch mat.Cholesky
		ch.Factorize(a)
		ch.InverseTo(&ainv)
	}
	s := mat.NewSymDense(d, nil)
	s.ScaleSym(alpha, &ainv)
	prob := quadProblem(a, s, n, mean)
	rep, err := ComputeModel(prob, mean, &Settings{LR: eta, Batch: batch})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Gaussian == nil {
		t.Fatal("no Gaussian section at the minimum")
	}
	if c := *rep.Diagnostics.Commutator; c > 1e-13 {
		t.Errorf("commutator %g for C ∝ H", c)
	}
	checkMat(t, "seed = continuous", rep.Gaussian.CovNote, rep.Gaussian.CovContinuous, 1e-10)
	// Σ = (η/2) H⁻¹ C_B = (η/2) κ α I.
	var sp mat.SymDense
	rep.Gaussian.ToParams(&sp, rep.Gaussian.CovContinuous)
	want := mat.NewDiagDense(d, []float64{1, 1, 1, 1})
	var wd mat.Dense
	wd.Scale(eta/2*rep.Kappa*alpha, want)
	checkMat(t, "continuous = (η/2)H⁻¹C_B", &sp, &wd, 1e-10)
	if v := *rep.Diagnostics.AsymmetryNote; v > 1e-6 {
		t.Errorf("asymmetry %g for C ∝ H", v)
	}

	// General S.
	s = randSPD(rnd, []float64{1, 0.5, 0.3, 0.1})
	prob = quadProblem(a, s, n, mean)
	theta := append([]float64(nil), mean...)
	theta[0] += 0.4 // away from the minimum, for the scores and the divergence
	rep, err = ComputeModel(prob, theta, &Settings{LR: eta, Batch: batch, Divergence: true, ForceGaussian: true})
	if err != nil {
		t.Fatal(err)
	}
	c := mat.NewDense(d, d, nil)
	c.Mul(mul(a, s), a)
	kappa := rep.Kappa
	// Continuous Lyapunov in A's eigenbasis.
	var es mat.EigenSym
	es.Factorize(a, true)
	lam := es.Values(nil)
	var q mat.Dense
	es.VectorsTo(&q)
	ct := mul(mul(q.T(), c), &q)
	st := mat.NewDense(d, d, nil)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			st.Set(i, j, eta*kappa*ct.At(i, j)/(lam[i]+lam[j]))
		}
	}
	rep.Gaussian.ToParams(&sp, rep.Gaussian.CovContinuous)
	checkMat(t, "continuous closed form", &sp, mul(mul(&q, st), q.T()), 1e-10)
	// Asymmetry of J = −(2/η)C_B⁻¹A.
	var cinv mat.Dense
	cinv.Inverse(c)
	j := mul(&cinv, a)
	var diff mat.Dense
	diff.Sub(j, j.T())
	asym := mat.Norm(&diff, 2) / mat.Norm(j, 2)
	checkScalar(t, "asymmetry seed (dense)", *rep.Diagnostics.AsymmetryNote, asym, 1e-6)
	checkScalar(t, "asymmetry general (dense)", *rep.Diagnostics.AsymmetryGeneral, asym, 1e-6)
	if r := *rep.Diagnostics.DivergenceRatio; r > 1e-12 {
		t.Errorf("divergence ratio %g for constant C", r)
	}
	checkVec(t, "s_gen = s_st", rep.Vectors.StationaryGeneral, rep.Vectors.Stationary, 1e-12)
	// Commutator closed form.
	var ch mat.Dense
	ch.Sub(mul(c, a), mul(a, c))
	checkScalar(t, "commutator", *rep.Diagnostics.Commutator, mat.Norm(&ch, 2)/(mat.Norm(c, 2)*mat.Norm(a, 2)), 1e-10)
	if rep.Gaussian.NoteAsymmetry < 1e-3 {
		t.Errorf("seed precision asymmetry %g for non-commuting C and H", rep.Gaussian.NoteAsymmetry)
	}
}

// TestSubspaceAgreesWithDense: the Lanczos-subspace Gaussian predictions (Woodbury solver)
// equal the dense ones when the subspace is the whole space, and along the top-k directions
// otherwise (the continuous and discrete Lyapunov and the posterior are diagonal in H's
// eigenbasis up to the coupling C̃_ij, so their top-k block is exact).
func TestSubspaceAgreesWithDense(t *testing.T) {
	rnd := newRand(14)
	n, p := 90, 5
	b := logisticData(rnd, n, p)
	const wd = 0.03
	theta, _ := logisticMinimum(t, b, wd)
	m := mustModel(t, "logistic", p, 2, model.Options{})
	prob := ModelProblem{Model: m, Batch: b, WeightDecay: wd}
	base := Settings{LR: 0.5, Batch: 9, TopK: p + 1}
	dense, err := ComputeModel(prob, theta, &base)
	if err != nil {
		t.Fatal(err)
	}
	s := base
	s.Solver = SolverWoodbury
	full, err := ComputeModel(prob, theta, &s)
	if err != nil {
		t.Fatal(err)
	}
	if !full.Gaussian.Subspace {
		t.Fatal("woodbury solver did not use the subspace")
	}
	gd, gf := dense.Gaussian, full.Gaussian
	for _, c := range []struct {
		name string
		a, b *mat.SymDense
	}{{"seed", gf.CovNote, gd.CovNote}, {"continuous", gf.CovContinuous, gd.CovContinuous},
		{"discrete", gf.CovDiscrete, gd.CovDiscrete}, {"posterior", gf.CovPosterior, gd.CovPosterior}} {
		var pa, pb mat.SymDense
		gf.ToParams(&pa, c.a)
		gd.ToParams(&pb, c.b)
		checkMat(t, c.name+" (full subspace)", &pa, &pb, 1e-8)
	}
	checkVec(t, "stationary (woodbury exact)", full.Vectors.Stationary, dense.Vectors.Stationary, 1e-8)
	s.TopK = 3
	part, err := ComputeModel(prob, theta, &s)
	if err != nil {
		t.Fatal(err)
	}
	if len(part.Gaussian.Directions) != 3 {
		t.Fatalf("%d directions, want 3", len(part.Gaussian.Directions))
	}
	for k, dir := range part.Gaussian.Directions {
		want := gd.Directions[k]
		checkScalar(t, "h", dir.H, want.H, 1e-8)
		checkScalar(t, "c", dir.C, want.C, 1e-8)
		checkScalar(t, "var continuous", dir.VarContinuous, want.VarContinuous, 1e-8)
		checkScalar(t, "var discrete", dir.VarDiscrete, want.VarDiscrete, 1e-8)
		checkScalar(t, "var posterior", dir.VarPosterior, want.VarPosterior, 1e-8)
	}
}

// TestUnstableLearningRate: η ≥ 2/λ_max is an error naming 2/λ_max, not a number.
func TestUnstableLearningRate(t *testing.T) {
	rnd := newRand(15)
	d, n := 3, 20
	a := randSPD(rnd, []float64{4, 1, 0.5})
	prob := quadProblem(a, randSPD(rnd, []float64{1, 0.5, 0.2}), n, make([]float64, d))
	_, err := ComputeModel(prob, make([]float64, d), &Settings{LR: 0.6, Batch: 4})
	var ue *stationary.UnstableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "2/λ_max") {
		t.Fatalf("error %v, want an *stationary.UnstableError naming 2/λ_max", err)
	}
	if _, err := ComputeModel(prob, make([]float64, d), &Settings{LR: 0.45, Batch: 4}); err != nil {
		t.Fatalf("stable η: %v", err)
	}
}

// TestNullNegativeAndPriorWarnings: a null direction (no curvature, no noise) is removed and
// counted; a negative curvature is dropped with a warning; a stationary variance wider than
// the posterior gives a negative prior precision, flagged in words.
func TestNullNegativeAndPriorWarnings(t *testing.T) {
	d, n := 3, 30
	a := symFrom(d, func(i, j int) float64 {
		if i == j {
			return []float64{2, 0.5, 0}[i]
		}
		return 0
	})
	s := symFrom(d, func(i, j int) float64 {
		if i == j {
			return []float64{1, 1, 1}[i]
		}
		return 0
	})
	prob := quadProblem(a, s, n, make([]float64, d))
	// C = ASA is zero along e_3: the exact inverse is refused, the range pseudo-inverse works.
	set := &Settings{LR: 0.5, Batch: 3, Inverse: linalg.InverseSettings{Range: true}}
	rep, err := ComputeModel(prob, make([]float64, d), set)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Gaussian.Removed != 1 || len(rep.Gaussian.Directions) != 2 {
		t.Fatalf("removed %d, %d directions; want 1 and 2", rep.Gaussian.Removed, len(rep.Gaussian.Directions))
	}
	// Along h = 2, c = κh² (S = I): the continuous variance ηc/(2h) = ηκh/2 ≈ 0.155 exceeds
	// the posterior's 1/(Nh) ≈ 0.017, so P = 1/0.155 − 60 < 0; along h = 0.5 it does not
	// (1/0.039 − 15 > 0).
	if !containsWarning(rep.Warnings, "negative prior precision along 1 of 2") {
		t.Errorf("no negative-precision warning in %q", rep.Warnings)
	}
	if p0, p1 := rep.Gaussian.Directions[0].Prior.Continuous, rep.Gaussian.Directions[1].Prior.Continuous; !(p0 < 0 && p1 > 0) {
		t.Errorf("prior precisions %g, %g; want < 0, > 0", p0, p1)
	}
	// Negative curvature.
	a.SetSym(2, 2, -0.3)
	prob = quadProblem(a, s, n, make([]float64, d))
	rep, err = ComputeModel(prob, make([]float64, d), &Settings{LR: 0.1, Batch: 3})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Gaussian.Negative != 1 || !containsWarning(rep.Warnings, "negative curvature") {
		t.Errorf("negative %d, warnings %q", rep.Gaussian.Negative, rep.Warnings)
	}
}

func containsWarning(ws []string, s string) bool {
	for _, w := range ws {
		if strings.Contains(w, s) {
			return true
		}
	}
	return false
}

// TestInvDiag: the prior-precision diagonal is (Σ⁺)_kk on the range of a singular Σ and +Inf
// for directions with a component in its null space.
func TestInvDiag(t *testing.T) {
	s := symFrom(3, func(i, j int) float64 {
		if i == j {
			return []float64{2, 0, 0.5}[i]
		}
		return 0
	})
	got, inf := invDiag(s)
	if inf != 1 || got[0] != 0.5 || !math.IsInf(got[1], 1) || got[2] != 2 {
		t.Errorf("diag(2, 0, 0.5): %v (%d infinite)", got, inf)
	}
	// Rotating the null direction into e_1, e_2 makes both infinite; e_3 keeps 1/0.5.
	c, sn := math.Cos(0.3), math.Sin(0.3)
	q := mat.NewDense(3, 3, []float64{c, -sn, 0, sn, c, 0, 0, 0, 1})
	r := mul(mul(q, s), q.T())
	got, inf = invDiag(symFrom(3, func(i, j int) float64 { return r.At(i, j) }))
	if inf != 2 || !math.IsInf(got[0], 1) || !math.IsInf(got[1], 1) || math.Abs(got[2]-2) > 1e-12 {
		t.Errorf("rotated: %v (%d infinite)", got, inf)
	}
}
