package stationary

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// lsData returns an N×d design (d−1 Gaussian features and a constant 1 column for the bias)
// and targets y = Xβ + noise.
func lsData(rnd *rand.Rand, n, d int, noise float64) (*mat.Dense, []float64) {
	x := mat.NewDense(n, d, nil)
	y := make([]float64, n)
	beta := randVec(rnd, d)
	for i := 0; i < n; i++ {
		for j := 0; j < d-1; j++ {
			x.Set(i, j, rnd.NormFloat64())
		}
		x.Set(i, d-1, 1)
		y[i] = floats.Dot(x.RawRowView(i), beta) + noise*rnd.NormFloat64()
	}
	return x, y
}

// lsMinimum solves (XᵀX/N + λI) θ = Xᵀy/N by Cholesky.
func lsMinimum(t *testing.T, x *mat.Dense, y []float64, lambda float64) []float64 {
	n, d := x.Dims()
	a := mat.NewSymDense(d, nil)
	a.SymOuterK(1/float64(n), x.T())
	for i := 0; i < d; i++ {
		a.SetSym(i, i, a.At(i, i)+lambda)
	}
	var b mat.VecDense
	b.MulVec(x.T(), mat.NewVecDense(n, y))
	b.ScaleVec(1/float64(n), &b)
	var ch mat.Cholesky
	if !ch.Factorize(a) {
		t.Fatal("normal equations not positive definite")
	}
	var th mat.VecDense
	if err := ch.SolveVecTo(&th, &b); err != nil {
		t.Fatal(err)
	}
	return th.RawVector().Data
}

// naiveLSOperator returns HΣ + ΣH − ηHΣH − ηκ(M₄(Σ) − H_dΣH_d) with H_d and M₄ by explicit
// loops over the examples.
func naiveLSOperator(x *mat.Dense, lambda, eta, kappa float64, s mat.Matrix) *mat.Dense {
	n, d := x.Dims()
	hd := mat.NewDense(d, d, nil)
	m4 := mat.NewDense(d, d, nil)
	for i := 0; i < n; i++ {
		xi := x.RawRowView(i)
		q := mat.Inner(mat.NewVecDense(d, xi), s, mat.NewVecDense(d, xi))
		for a := 0; a < d; a++ {
			for b := 0; b < d; b++ {
				hd.Set(a, b, hd.At(a, b)+xi[a]*xi[b]/float64(n))
				m4.Set(a, b, m4.At(a, b)+q*xi[a]*xi[b]/float64(n))
			}
		}
	}
	h := mat.DenseCopyOf(hd)
	for a := 0; a < d; a++ {
		h.Set(a, a, h.At(a, a)+lambda)
	}
	var out, t1, t2 mat.Dense
	out.Mul(h, s)
	t1.Mul(s, h)
	out.Add(&out, &t1)
	t1.Mul(h, s)
	t1.Mul(&t1, h)
	t1.Scale(eta, &t1)
	out.Sub(&out, &t1)
	t2.Mul(hd, s)
	t2.Mul(&t2, hd)
	t2.Sub(m4, &t2)
	t2.Scale(eta*kappa, &t2)
	out.Sub(&out, &t2)
	return &out
}

// TestLeastSquaresNoise: C(θ) against the per-example covariance of g_i = x_i ρ_i by a loop,
// and the MATH.md §6 form (1/N)Σρ²xxᵀ − λ²θ*θ*ᵀ at the minimum.
func TestLeastSquaresNoise(t *testing.T) {
	rnd := newRand(50)
	n, d, lambda := 25, 4, 0.3
	x, y := lsData(rnd, n, d, 0.5)
	th := lsMinimum(t, x, y, lambda)
	var c mat.SymDense
	LeastSquaresNoise(&c, x, y, th)
	g := mat.NewDense(n, d, nil)
	mean := make([]float64, d)
	for i := 0; i < n; i++ {
		rho := floats.Dot(x.RawRowView(i), th) - y[i]
		for j := 0; j < d; j++ {
			g.Set(i, j, x.At(i, j)*rho)
			mean[j] += x.At(i, j) * rho / float64(n)
		}
	}
	want := mat.NewDense(d, d, nil)
	form := mat.NewDense(d, d, nil)
	for i := 0; i < n; i++ {
		rho := floats.Dot(x.RawRowView(i), th) - y[i]
		for a := 0; a < d; a++ {
			for b := 0; b < d; b++ {
				want.Set(a, b, want.At(a, b)+(g.At(i, a)-mean[a])*(g.At(i, b)-mean[b])/float64(n))
				form.Set(a, b, form.At(a, b)+rho*rho*x.At(i, a)*x.At(i, b)/float64(n))
			}
		}
	}
	for a := 0; a < d; a++ {
		for b := 0; b < d; b++ {
			form.Set(a, b, form.At(a, b)-lambda*lambda*th[a]*th[b])
		}
	}
	if e := relErrMat(&c, want); e > 1e-12 {
		t.Errorf("C differs from the per-example covariance by %g", e)
	}
	if e := relErrMat(&c, form); e > 1e-10 {
		t.Errorf("C differs from (1/N)Σρ²xxᵀ − λ²θθᵀ by %g", e)
	}
}

type lsProblem struct {
	x                 *mat.Dense
	y, theta          []float64
	lambda, eta, kapp float64
	c                 *mat.SymDense
}

func newLSProblem(t *testing.T, seed uint64, n, d int, lambda, etaFrac, kappa float64) lsProblem {
	rnd := newRand(seed)
	x, y := lsData(rnd, n, d, 0.7)
	th := lsMinimum(t, x, y, lambda)
	c := mat.NewSymDense(d, nil)
	LeastSquaresNoise(c, x, y, th)
	h := mat.NewSymDense(d, nil)
	h.SymOuterK(1/float64(n), x.T())
	var es mat.EigenSym
	es.Factorize(h, false)
	lmax := es.Values(nil)[d-1] + lambda
	return lsProblem{x: x, y: y, theta: th, lambda: lambda, eta: etaFrac / lmax, kapp: kappa, c: c}
}

// TestExactKroneckerVsIterative: both solvers agree, and both satisfy the equation (residual
// by the naive operator), for SGD and SGLD, at d = 5 (and the iterative one alone at d = 45,
// where ExactAuto chooses it).
func TestExactKroneckerVsIterative(t *testing.T) {
	for _, sgld := range []bool{false, true} {
		p := newLSProblem(t, 51, 40, 5, 0.05, 0.6, 0.5)
		var kron, iter mat.SymDense
		f := ExactLeastSquares
		if sgld {
			f = ExactLeastSquaresSGLD
		}
		if err := f(&kron, p.x, p.lambda, p.eta, p.kapp, p.c, &ExactSettings{Method: ExactKronecker}); err != nil {
			t.Fatal(err)
		}
		if err := f(&iter, p.x, p.lambda, p.eta, p.kapp, p.c, &ExactSettings{Method: ExactIterative}); err != nil {
			t.Fatal(err)
		}
		if e := relErrMat(&iter, &kron); e > 1e-10 {
			t.Errorf("sgld=%v: iterative differs from Kronecker by %g", sgld, e)
		}
		rhs := mat.NewDense(5, 5, nil)
		rhs.Scale(p.eta*p.kapp, p.c)
		if sgld {
			for i := 0; i < 5; i++ {
				rhs.Set(i, i, rhs.At(i, i)+2/40.0)
			}
		}
		for name, s := range map[string]*mat.SymDense{"kronecker": &kron, "iterative": &iter} {
			if e := relErrMat(naiveLSOperator(p.x, p.lambda, p.eta, p.kapp, s), rhs); e > 1e-11 {
				t.Errorf("sgld=%v %s: residual %g", sgld, name, e)
			}
		}
	}
	p := newLSProblem(t, 52, 120, 45, 0.1, 0.5, 0.02)
	var s mat.SymDense
	if err := ExactLeastSquares(&s, p.x, p.lambda, p.eta, p.kapp, p.c, nil); err != nil {
		t.Fatal(err)
	}
	rhs := mat.NewDense(45, 45, nil)
	rhs.Scale(p.eta*p.kapp, p.c)
	if e := relErrMat(naiveLSOperator(p.x, p.lambda, p.eta, p.kapp, &s), rhs); e > 1e-10 {
		t.Errorf("d = 45: residual %g", e)
	}
}

// TestExactReducesToDiscrete: without the M₄ − H_dΣH_d term the equation is the discrete
// Lyapunov equation with C_B = κC; with data x_i = ±v (so every x_i x_iᵀ is the same and
// M₄(Σ) = H_dΣH_d exactly) the full equation reduces to it too.
func TestExactReducesToDiscrete(t *testing.T) {
	p := newLSProblem(t, 53, 30, 4, 0.2, 0.9, 1.0/3)
	var cb mat.SymDense
	cb.ScaleSym(p.kapp, p.c)
	var disc, drop mat.SymDense
	h := mat.NewSymDense(4, nil)
	h.SymOuterK(1/30.0, p.x.T())
	for i := 0; i < 4; i++ {
		h.SetSym(i, i, h.At(i, i)+p.lambda)
	}
	if err := DiscreteLyapunov(&disc, h, &cb, p.eta); err != nil {
		t.Fatal(err)
	}
	for _, m := range []ExactMethod{ExactKronecker, ExactIterative} {
		drop.Reset()
		if err := exactLS(&drop, p.x, p.lambda, p.eta, p.kapp, p.c, false, &ExactSettings{Method: m}, true); err != nil {
			t.Fatal(err)
		}
		if e := relErrMat(&drop, &disc); e > 1e-12 {
			t.Errorf("method %d without M₄: differs from discrete Lyapunov by %g", m, e)
		}
	}
	var full mat.SymDense
	if err := ExactLeastSquares(&full, p.x, p.lambda, p.eta, p.kapp, p.c, nil); err != nil {
		t.Fatal(err)
	}
	if e := relErrMat(&full, &disc); e < 1e-3 {
		t.Errorf("the M₄ term changed nothing (%g): test data too weak", e)
	}

	// x_i = ±v.
	rnd := newRand(54)
	v := randVec(rnd, 3)
	n := 10
	x := mat.NewDense(n, 3, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		s := float64(2*(i%2) - 1)
		for j := range v {
			x.Set(i, j, s*v[j])
		}
		y[i] = rnd.NormFloat64()
	}
	lambda := 0.5
	th := lsMinimum(t, x, y, lambda)
	c := mat.NewSymDense(3, nil)
	LeastSquaresNoise(c, x, y, th)
	h = mat.NewSymDense(3, nil)
	h.SymOuterK(1/float64(n), x.T())
	for i := 0; i < 3; i++ {
		h.SetSym(i, i, h.At(i, i)+lambda)
	}
	eta, kappa := 0.5/(floats.Dot(v, v)+lambda), 1.0
	var want mat.SymDense
	cb.Reset()
	cb.ScaleSym(kappa, c)
	if err := DiscreteLyapunov(&want, h, &cb, eta); err != nil {
		t.Fatal(err)
	}
	for _, m := range []ExactMethod{ExactKronecker, ExactIterative} {
		var got mat.SymDense
		if err := ExactLeastSquares(&got, x, lambda, eta, kappa, c, &ExactSettings{Method: m}); err != nil {
			t.Fatal(err)
		}
		if e := relErrMat(&got, &want); e > 1e-10 {
			t.Errorf("x = ±v, method %d: exact differs from discrete by %g", m, e)
		}
	}
}

// TestExactUnstable: in 1-D with x ∈ {0, 0, 0, 3} (H = 9/4, M₄ = 81/4 Σ, λ = 0, κ = 1) the
// discrete Lyapunov equation is stable for η < 2/H = 0.889 but the second moment of SGD
// diverges for η ≥ 2H/m₄ = 2/9. At η = 0.5 both solvers must report instability; at 0.2 they
// must give the closed form ηc/(2h − ηm₄).
func TestExactUnstable(t *testing.T) {
	x := mat.NewDense(4, 1, []float64{0, 0, 0, 3})
	c := sym1(1.3)
	for _, m := range []ExactMethod{ExactKronecker, ExactIterative} {
		var s mat.SymDense
		err := ExactLeastSquares(&s, x, 0, 0.5, 1, c, &ExactSettings{Method: m})
		var ue *UnstableError
		if !errors.As(err, &ue) || !contains(err.Error(), "second moment") {
			t.Errorf("method %d: got %v, want UnstableError about the second moment", m, err)
		}
		s.Reset()
		if err := ExactLeastSquares(&s, x, 0, 0.2, 1, c, &ExactSettings{Method: m}); err != nil {
			t.Fatal(err)
		}
		approx(t, "1-D exact", s.At(0, 0), 0.2*1.3/(2*2.25-0.2*81.0/4), 1e-13)
	}
	var s mat.SymDense
	err := ExactLeastSquares(&s, x, 0, 1, 1, c, nil) // ηλ = 2.25 ≥ 2
	var ue *UnstableError
	if !errors.As(err, &ue) || ue.Eigenvalue != 2.25 {
		t.Errorf("got %v, want UnstableError at λ = 2.25", err)
	}
	// Rank-deficient design without weight decay: the null direction (1, −1)/√2 is removed
	// when it carries no noise (here no noise at all: Σ = 0, TestExactLeastSquaresNullDirection
	// checks the general case); with noise along it there is no stationary covariance.
	xr := mat.NewDense(3, 2, []float64{1, 1, 2, 2, -1, -1})
	if err := ExactLeastSquares(&s, xr, 0, 0.1, 1, mat.NewSymDense(2, nil), nil); err != nil || mat.Norm(&s, 2) != 0 {
		t.Errorf("rank-deficient design without noise: Σ = %v, %v; want 0", mat.Formatted(&s), err)
	}
	err = ExactLeastSquares(&s, xr, 0, 0.1, 1, mat.NewSymDense(2, []float64{1, 0, 0, 1}), nil)
	var ce *CurvatureError
	if !errors.As(err, &ce) {
		t.Errorf("got %v, want CurvatureError", err)
	}
}

// simulateLS runs SGD (or SGLD) on the least-squares problem from θ* for burn+nb·blk steps and
// returns the batch means (nb batches of blk steps) of (θ−θ*)(θ−θ*)ᵀ, each a d×d row-major
// slice. The stationary mean is θ* exactly, so these are unbiased for Σ.
func simulateLS(p lsProblem, b int, replace, sgld bool, seed uint64, burn, nb, blk int) [][]float64 {
	n, d := p.x.Dims()
	rnd := rand.New(rand.NewPCG(seed, 99))
	th := append([]float64(nil), p.theta...)
	g := make([]float64, d)
	idx := make([]int, b)
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	noise := math.Sqrt(2 * p.eta / float64(n))
	step := func() {
		if replace {
			for k := range idx {
				idx[k] = rnd.IntN(n)
			}
		} else {
			for k := 0; k < b; k++ { // partial Fisher–Yates: b distinct indices
				j := k + rnd.IntN(n-k)
				perm[k], perm[j] = perm[j], perm[k]
				idx[k] = perm[k]
			}
		}
		for j := range g {
			g[j] = p.lambda * th[j]
		}
		for _, i := range idx {
			xi := p.x.RawRowView(i)
			rho := floats.Dot(xi, th) - p.y[i]
			floats.AddScaled(g, rho/float64(b), xi)
		}
		floats.AddScaled(th, -p.eta, g)
		if sgld {
			for j := range th {
				th[j] += noise * rnd.NormFloat64()
			}
		}
	}
	for k := 0; k < burn; k++ {
		step()
	}
	out := make([][]float64, nb)
	for bi := range out {
		acc := make([]float64, d*d)
		for k := 0; k < blk; k++ {
			step()
			for a := 0; a < d; a++ {
				for c := 0; c < d; c++ {
					acc[a*d+c] += (th[a] - p.theta[a]) * (th[c] - p.theta[c])
				}
			}
		}
		floats.Scale(1/float64(blk), acc)
		out[bi] = acc
	}
	return out
}

// TestExactAgainstSimulation simulates SGD on a tiny least-squares problem (N = 12, d = 2: a
// feature and a bias, weight decay 0.1) for 300 000 steps after burn-in, with replacement
// (B = 1, κ = 1), without replacement (B = 3, κ = (N−B)/(B(N−1))) and SGLD (B = 1), and
// compares every entry of the empirical covariance with the exact prediction. Standard
// errors come from 100 batch means of 3 000 steps each (the autocorrelation time is below
// 10 steps, so batches are effectively independent); the tolerance is 4 standard errors per
// entry. For power, the discrete Lyapunov prediction must be off by more than 8 standard
// errors in some entry (it ignores the M₄ term).
func TestExactAgainstSimulation(t *testing.T) {
	const n, d = 12, 2
	cases := []struct {
		name    string
		b       int
		replace bool
		sgld    bool
	}{
		{"with replacement B=1", 1, true, false},
		{"without replacement B=3", 3, false, false},
		{"SGLD B=1", 1, true, true},
	}
	for ci, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kappa := 1 / float64(tc.b)
			if !tc.replace {
				kappa = float64(n-tc.b) / (float64(tc.b) * float64(n-1))
			}
			p := newLSProblem(t, 55, n, d, 0.1, 0.5, kappa)
			var pred, disc mat.SymDense
			var err error
			if tc.sgld {
				err = ExactLeastSquaresSGLD(&pred, p.x, p.lambda, p.eta, kappa, p.c, nil)
			} else {
				err = ExactLeastSquares(&pred, p.x, p.lambda, p.eta, kappa, p.c, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			h := mat.NewSymDense(d, nil)
			h.SymOuterK(1/float64(n), p.x.T())
			for i := 0; i < d; i++ {
				h.SetSym(i, i, h.At(i, i)+p.lambda)
			}
			var cb mat.SymDense
			cb.ScaleSym(kappa, p.c)
			if tc.sgld {
				err = SGLDDiscreteLyapunov(&disc, h, &cb, p.eta, n)
			} else {
				err = DiscreteLyapunov(&disc, h, &cb, p.eta)
			}
			if err != nil {
				t.Fatal(err)
			}
			batches := simulateLS(p, tc.b, tc.replace, tc.sgld, uint64(100+ci), 2000, 100, 3000)
			power := 0.0
			for a := 0; a < d; a++ {
				for c := a; c < d; c++ {
					vals := make([]float64, len(batches))
					for k, bm := range batches {
						vals[k] = bm[a*d+c]
					}
					mean := floats.Sum(vals) / float64(len(vals))
					var ss float64
					for _, v := range vals {
						ss += (v - mean) * (v - mean)
					}
					se := math.Sqrt(ss / float64(len(vals)-1) / float64(len(vals)))
					if z := math.Abs(mean-pred.At(a, c)) / se; z > 4 {
						t.Errorf("Σ[%d,%d]: simulated %.6g ± %.2g, exact %.6g (%.1f s.e.)", a, c, mean, se, pred.At(a, c), z)
					}
					power = max(power, math.Abs(mean-disc.At(a, c))/se)
					t.Logf("Σ[%d,%d]: simulated %.6g ± %.2g, exact %.6g, discrete %.6g", a, c, mean, se, pred.At(a, c), disc.At(a, c))
				}
			}
			if power < 8 {
				t.Errorf("discrete Lyapunov is within %.1f s.e. of the simulation: the test has no power", power)
			}
		})
	}
}
