package stationary

import (
	"errors"
	"github.com/sgdprior/sgdprior/linalg"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func sym1(v float64) *mat.SymDense { return mat.NewSymDense(1, []float64{v}) }

// TestOneDimensionalClosedForms checks every Gaussian prediction against the hand formulas of
// MATH.md §6, §8, §9 in one dimension.
func TestOneDimensionalClosedForms(t *testing.T) {
	h, c, eta, n := 2.5, 0.8, 0.3, 50
	var s mat.SymDense
	if err := ContinuousLyapunov(&s, sym1(h), sym1(c), eta); err != nil {
		t.Fatal(err)
	}
	approx(t, "continuous", s.At(0, 0), eta*c/(2*h), 1e-15)
	s.Reset()
	if err := DiscreteLyapunov(&s, sym1(h), sym1(c), eta); err != nil {
		t.Fatal(err)
	}
	approx(t, "discrete", s.At(0, 0), eta*c/(h*(2-eta*h)), 1e-15)
	s.Reset()
	if err := SGLDDiscreteLyapunov(&s, sym1(h), sym1(c), eta, n); err != nil {
		t.Fatal(err)
	}
	// Σ = (1−ηh)²Σ + η²c + 2η/N  ⇒  Σ = (η²c + 2η/N)/(1 − (1−ηh)²).
	approx(t, "sgld", s.At(0, 0), (eta*eta*c+2*eta/float64(n))/(1-(1-eta*h)*(1-eta*h)), 1e-14)
	s.Reset()
	if err := LaplaceCovariance(&s, sym1(h), n); err != nil {
		t.Fatal(err)
	}
	approx(t, "laplace", s.At(0, 0), 1/(float64(n)*h), 1e-15)
	note, warn, err := NoteCovariance(sym1(h), sym1(c), eta, nil)
	if err != nil || len(warn) != 0 {
		t.Fatal(err, warn)
	}
	approx(t, "seed", note.Cov.At(0, 0), eta*c/(2*h), 1e-15)
	approx(t, "seed precision", note.Precision.At(0, 0), 2*h/(eta*c), 1e-15)
}

// TestDiagonalClosedForms: diagonal H with a full C: each entry follows its formula.
func TestDiagonalClosedForms(t *testing.T) {
	hv := []float64{3, 1, 0.5}
	h := mat.NewSymDense(3, []float64{3, 0, 0, 0, 1, 0, 0, 0, 0.5})
	c := mat.NewSymDense(3, []float64{2, 0.3, -0.1, 0.3, 1, 0.2, -0.1, 0.2, 0.7})
	eta := 0.2
	var cont, disc mat.SymDense
	if err := ContinuousLyapunov(&cont, h, c, eta); err != nil {
		t.Fatal(err)
	}
	if err := DiscreteLyapunov(&disc, h, c, eta); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			li, lj, cij := hv[i], hv[j], c.At(i, j)
			approx(t, "continuous", cont.At(i, j), eta*cij/(li+lj), 1e-14)
			approx(t, "discrete", disc.At(i, j), eta*cij/(li+lj-eta*li*lj), 1e-14)
		}
	}
	// Diagonal C too: the seed is exact, η c_k/(2 h_k) per direction.
	cd := mat.NewSymDense(3, []float64{2, 0, 0, 0, 1, 0, 0, 0, 0.7})
	note, warn, err := NoteCovariance(h, cd, eta, nil)
	if err != nil || len(warn) != 0 {
		t.Fatal(err, warn)
	}
	for i := 0; i < 3; i++ {
		approx(t, "seed", note.Cov.At(i, i), eta*cd.At(i, i)/(2*hv[i]), 1e-14)
	}
}

// TestCommutingCase: C ∝ H gives commutator 0 and note == continuous == (η/2)H⁻¹C.
func TestCommutingCase(t *testing.T) {
	rnd := newRand(30)
	h, _ := symWithSpectrum(rnd, []float64{4, 2, 1, 0.5, 0.25})
	c := mat.NewSymDense(5, nil)
	c.ScaleSym(0.6, h)
	eta := 0.1
	if cm := linalg.Commutator(c, h); cm > 1e-15 {
		t.Errorf("commutator of C ∝ H = %g", cm)
	}
	note, warn, err := NoteCovariance(h, c, eta, nil)
	if err != nil || len(warn) != 0 {
		t.Fatal(err, warn)
	}
	if note.Asymmetry > 1e-12 {
		t.Errorf("asymmetry %g for commuting matrices", note.Asymmetry)
	}
	var cont mat.SymDense
	if err := ContinuousLyapunov(&cont, h, c, eta); err != nil {
		t.Fatal(err)
	}
	if e := relErrMat(note.Cov, &cont); e > 1e-12 {
		t.Errorf("seed differs from continuous by %g", e)
	}
	var hinv, want mat.Dense
	if err := hinv.Inverse(h); err != nil {
		t.Fatal(err)
	}
	want.Mul(&hinv, c)
	want.Scale(eta/2, &want)
	if e := relErrMat(note.Cov, &want); e > 1e-12 {
		t.Errorf("seed differs from (η/2)H⁻¹C by %g", e)
	}
	// Here (η/2)H⁻¹C = 0.03 I exactly.
	if e := relErrMat(note.Cov, mat.NewDiagDense(5, []float64{0.03, 0.03, 0.03, 0.03, 0.03})); e > 1e-12 {
		t.Errorf("seed differs from 0.03 I by %g", e)
	}
}

// lyapResidual returns ‖HΣ + ΣH − ηC‖_F/‖ηC‖_F (continuous) or
// ‖(I−ηH)Σ(I−ηH) + η²C + extra − Σ‖_F/‖Σ‖_F (discrete), computed with dense products.
func contResidual(h, c, s mat.Matrix, eta float64) float64 {
	var a, b mat.Dense
	a.Mul(h, s)
	b.Mul(s, h)
	a.Add(&a, &b)
	b.Scale(eta, c)
	return relErrMat(&a, &b)
}

func discResidual(h, c, s mat.Matrix, eta float64, extra mat.Matrix) float64 {
	d, _ := h.Dims()
	var a mat.Dense
	a.Scale(-eta, h)
	for i := 0; i < d; i++ {
		a.Set(i, i, 1+a.At(i, i))
	}
	var r, noise mat.Dense
	r.Mul(&a, s)
	r.Mul(&r, &a)
	noise.Scale(eta*eta, c)
	r.Add(&r, &noise)
	if extra != nil {
		r.Add(&r, extra)
	}
	return relErrMat(s, &r)
}

// TestNonCommuting2x2: continuous and discrete solutions satisfy their equations (residual
// ~1e-12), and the note's differs from the continuous solution.
func TestNonCommuting2x2(t *testing.T) {
	h := mat.NewSymDense(2, []float64{2, 0.5, 0.5, 1})
	c := mat.NewSymDense(2, []float64{1, -0.4, -0.4, 3})
	eta := 0.25
	if cm := linalg.Commutator(c, h); cm < 0.05 {
		t.Fatalf("test matrices commute almost: %g", cm)
	}
	var cont, disc mat.SymDense
	if err := ContinuousLyapunov(&cont, h, c, eta); err != nil {
		t.Fatal(err)
	}
	if r := contResidual(h, c, &cont, eta); r > 1e-12 {
		t.Errorf("continuous residual %g", r)
	}
	if err := DiscreteLyapunov(&disc, h, c, eta); err != nil {
		t.Fatal(err)
	}
	if r := discResidual(h, c, &disc, eta, nil); r > 1e-12 {
		t.Errorf("discrete residual %g", r)
	}
	note, warn, err := NoteCovariance(h, c, eta, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(warn) != 1 || !contains(warn[0], "do not commute") {
		t.Errorf("warnings %q, want one about commuting", warn)
	}
	if note.Asymmetry < 0.01 {
		t.Errorf("asymmetry %g", note.Asymmetry)
	}
	if note.Cov == nil {
		t.Fatal("seed covariance nil")
	}
	if e := relErrMat(note.Cov, &cont); e < 0.01 {
		t.Errorf("seed and continuous agree to %g although C and H do not commute", e)
	}
	// The note's precision: symmetric part of (2/η)C⁻¹H, brute force.
	var cinv, p, pt mat.Dense
	if err := cinv.Inverse(c); err != nil {
		t.Fatal(err)
	}
	p.Mul(&cinv, h)
	p.Scale(2/eta, &p)
	pt.CloneFrom(p.T())
	var diff mat.Dense
	diff.Sub(&p, &pt)
	approx(t, "asymmetry", note.Asymmetry, mat.Norm(&diff, 2)/mat.Norm(&p, 2), 1e-12)
	p.Add(&p, &pt)
	p.Scale(0.5, &p)
	if e := relErrMat(note.Precision, &p); e > 1e-12 {
		t.Errorf("seed precision differs from brute force by %g", e)
	}
	var sinv mat.Dense
	if err := sinv.Inverse(&p); err != nil {
		t.Fatal(err)
	}
	if e := relErrMat(note.Cov, &sinv); e > 1e-12 {
		t.Errorf("seed covariance differs from inverse symmetric precision by %g", e)
	}
}

// TestRandomResiduals: on random d = 6 problems all three discrete/continuous solvers satisfy
// their equations.
func TestRandomResiduals(t *testing.T) {
	rnd := newRand(31)
	h, _ := symWithSpectrum(rnd, []float64{5, 3, 1, 0.4, 0.2, 0.05})
	c := outerLoop(randDense(rnd, 6, 8), 0.1)
	eta, n := 0.3, 100
	var s mat.SymDense
	if err := ContinuousLyapunov(&s, h, c, eta); err != nil {
		t.Fatal(err)
	}
	if r := contResidual(h, c, &s, eta); r > 1e-12 {
		t.Errorf("continuous residual %g", r)
	}
	s.Reset()
	if err := DiscreteLyapunov(&s, h, c, eta); err != nil {
		t.Fatal(err)
	}
	if r := discResidual(h, c, &s, eta, nil); r > 1e-12 {
		t.Errorf("discrete residual %g", r)
	}
	s.Reset()
	if err := SGLDDiscreteLyapunov(&s, h, c, eta, n); err != nil {
		t.Fatal(err)
	}
	extra := mat.NewDiagDense(6, []float64{1, 1, 1, 1, 1, 1})
	var ex mat.Dense
	ex.Scale(2*eta/float64(n), extra)
	if r := discResidual(h, c, &s, eta, &ex); r > 1e-12 {
		t.Errorf("SGLD residual %g", r)
	}
	// SGLD without mini-batch noise tends to the posterior (NH)⁻¹ as η → 0.
	s.Reset()
	if err := SGLDDiscreteLyapunov(&s, h, nil, 1e-7, n); err != nil {
		t.Fatal(err)
	}
	var post mat.SymDense
	if err := LaplaceCovariance(&post, h, n); err != nil {
		t.Fatal(err)
	}
	if e := relErrMat(&s, &post); e > 1e-6 {
		t.Errorf("SGLD at η→0 differs from the posterior by %g", e)
	}
	var hinv mat.Dense
	if err := hinv.Inverse(h); err != nil {
		t.Fatal(err)
	}
	hinv.Scale(1/float64(n), &hinv)
	if e := relErrMat(&post, &hinv); e > 1e-12 {
		t.Errorf("Laplace differs from (NH)⁻¹ by %g", e)
	}
}

func TestLyapunovErrors(t *testing.T) {
	h := mat.NewSymDense(2, []float64{4, 0, 0, 1})
	c := mat.NewSymDense(2, []float64{1, 0, 0, 1})
	var s mat.SymDense
	err := DiscreteLyapunov(&s, h, c, 0.5) // ηλ_max = 2
	var ue *UnstableError
	if !errors.As(err, &ue) || ue.Eigenvalue != 4 {
		t.Fatalf("got %v, want UnstableError at eigenvalue 4", err)
	}
	for _, want := range []string{"4", "2/λ_max = 0.5"} {
		if !contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if err := DiscreteLyapunov(&s, h, c, 0.49); err != nil {
		t.Errorf("stable η rejected: %v", err)
	}
	hneg := mat.NewSymDense(2, []float64{1, 0, 0, -0.5})
	var ce *CurvatureError
	for name, f := range map[string]func() error{
		"continuous": func() error { var s mat.SymDense; return ContinuousLyapunov(&s, hneg, c, 0.1) },
		"discrete":   func() error { var s mat.SymDense; return DiscreteLyapunov(&s, hneg, c, 0.1) },
		"sgld":       func() error { var s mat.SymDense; return SGLDDiscreteLyapunov(&s, hneg, c, 0.1, 10) },
		"laplace":    func() error { var s mat.SymDense; return LaplaceCovariance(&s, hneg, 10) },
	} {
		if err := f(); !errors.As(err, &ce) || ce.Eigenvalue != -0.5 {
			t.Errorf("%s: got %v, want CurvatureError at −0.5", name, err)
		}
	}
	nan := mat.NewSymDense(2, []float64{1, math.NaN(), math.NaN(), 1})
	if err := ContinuousLyapunov(&s, nan, c, 0.1); err == nil {
		t.Error("NaN input accepted")
	}
}

// TestNoteNotPositiveDefinite: C, H positive definite but sym((2/η)C⁻¹H) indefinite gives a
// nil covariance with a warning; a singular C is a linalg.RankDeficientError unless damped.
func TestNoteNotPositiveDefinite(t *testing.T) {
	c := mat.NewSymDense(2, []float64{1, 0, 0, 0.01})
	h := mat.NewSymDense(2, []float64{1, 0.9, 0.9, 1})
	// C⁻¹H = [[1, .9], [90, 100]]: symmetric part [[1, 45.45], [45.45, 100]], determinant < 0.
	note, warn, err := NoteCovariance(h, c, 0.1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if note.Cov != nil {
		t.Error("covariance returned for an indefinite precision")
	}
	if len(warn) != 2 || !contains(warn[1], "not positive definite") || !contains(warn[1], "null") {
		t.Errorf("warnings %q", warn)
	}
	cs := mat.NewSymDense(2, []float64{1, 1, 1, 1})
	_, _, err = NoteCovariance(h, cs, 0.1, nil)
	var rd *linalg.RankDeficientError
	if !errors.As(err, &rd) || rd.Rank != 1 {
		t.Errorf("got %v, want linalg.RankDeficientError rank 1", err)
	}
	if _, _, err = NoteCovariance(h, cs, 0.1, &linalg.InverseSettings{Damping: 1e-3}); err != nil {
		t.Errorf("damped seed: %v", err)
	}
}

// TestReduceNull builds H with curvatures (3, 1, 0, 0, 0, −0.5) in a random basis and C_B with
// zero noise along two of the zero-curvature directions and noise along the third.
func TestReduceNull(t *testing.T) {
	rnd := newRand(32)
	d := 6
	q := randOrth(rnd, d)
	col := func(i int) *mat.VecDense { return mat.NewVecDense(d, mat.Col(nil, i, q)) }
	h := mat.NewSymDense(d, nil)
	for i, v := range []float64{3, 1, 0, 0, 0, -0.5} {
		if v != 0 {
			h.SymRankOne(h, v, col(i))
		}
	}
	// Noise: arbitrary PSD on span{q0, q1, q4, q5} plus a bit along q4 (zero curvature).
	g := mat.NewDense(d, 3, nil)
	for j := 0; j < 3; j++ {
		v := mat.NewVecDense(d, nil)
		for _, i := range []int{0, 1, 4, 5} {
			v.AddScaledVec(v, rnd.NormFloat64(), col(i))
		}
		g.SetCol(j, v.RawVector().Data)
	}
	c := outerLoop(g, 1)
	red, warn, err := ReduceNull(h, c, 0)
	if err != nil {
		t.Fatal(err)
	}
	if red.Null != 2 || red.Flat != 1 || red.Negative != 1 {
		t.Errorf("null %d flat %d negative %d, want 2 1 1", red.Null, red.Flat, red.Negative)
	}
	if len(warn) != 2 {
		t.Errorf("warnings %q, want two", warn)
	}
	if r, c := red.Basis.Dims(); r != d || c != 2 {
		t.Fatalf("basis %d×%d", r, c)
	}
	approx(t, "h1", red.Curvatures[0], 3, 1e-12)
	approx(t, "h2", red.Curvatures[1], 1, 1e-12)
	// The basis spans {q0, q1}: compare projectors.
	var pb, pq mat.Dense
	pb.Mul(red.Basis, red.Basis.T())
	q01 := q.Slice(0, d, 0, 2)
	pq.Mul(q01, q01.T())
	if e := relErrMat(&pb, &pq); e > 1e-12 {
		t.Errorf("basis projector differs by %g", e)
	}
	var tmp, want mat.Dense
	tmp.Mul(c, red.Basis)
	want.Mul(red.Basis.T(), &tmp)
	if e := relErrMat(red.C, &want); e > 1e-12 {
		t.Errorf("reduced C differs by %g", e)
	}
	tmp.Mul(h, red.Basis)
	want.Mul(red.Basis.T(), &tmp)
	if e := relErrMat(red.H, &want); e > 1e-12 {
		t.Errorf("reduced H differs by %g", e)
	}
	// A clean minimum with one exact symmetry: no warnings.
	h2 := mat.NewSymDense(3, []float64{2, 0, 0, 0, 1, 0, 0, 0, 0})
	c2 := mat.NewSymDense(3, []float64{1, 0.2, 0, 0.2, 1, 0, 0, 0, 0})
	red, warn, err = ReduceNull(h2, c2, 0)
	if err != nil || len(warn) != 0 || red.Null != 1 || red.Flat != 0 || red.Negative != 0 {
		t.Errorf("clean case: %+v %q %v", red, warn, err)
	}
}
