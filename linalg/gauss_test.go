package linalg

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestGaussianKL(t *testing.T) {
	// 1-D closed form: ln(s0/s1) + (s1² + (m1 − m0)²)/(2 s0²) − ½.
	m1, s1, m0, s0 := 0.3, 1.5, -0.2, 0.7
	kl, err := GaussianKL([]float64{m1}, sym1(s1*s1), []float64{m0}, sym1(s0*s0))
	if err != nil {
		t.Fatal(err)
	}
	approx(t, "1-D KL", kl, math.Log(s0/s1)+(s1*s1+(m1-m0)*(m1-m0))/(2*s0*s0)-0.5, 1e-14)

	// Independent dimensions add up.
	a := mat.NewSymDense(2, []float64{2, 0, 0, 0.5})
	b := mat.NewSymDense(2, []float64{1, 0, 0, 3})
	kl, err = GaussianKL([]float64{1, 2}, a, []float64{0, -1}, b)
	if err != nil {
		t.Fatal(err)
	}
	one := func(m1, v1, m0, v0 float64) float64 {
		return 0.5*math.Log(v0/v1) + (v1+(m1-m0)*(m1-m0))/(2*v0) - 0.5
	}
	approx(t, "diagonal KL", kl, one(1, 2, 0, 1)+one(2, 0.5, -1, 3), 1e-14)

	// Full matrices against the formula with dense inverse and determinants.
	rnd := newRand(40)
	S1, _ := symWithSpectrum(rnd, []float64{3, 1, 0.5, 0.2})
	S0, _ := symWithSpectrum(rnd, []float64{2, 2, 0.4, 0.1})
	mu1, mu0 := randVec(rnd, 4), randVec(rnd, 4)
	kl, err = GaussianKL(mu1, S1, mu0, S0)
	if err != nil {
		t.Fatal(err)
	}
	var inv, prod mat.Dense
	if err := inv.Inverse(S0); err != nil {
		t.Fatal(err)
	}
	prod.Mul(&inv, S1)
	dm := make([]float64, 4)
	for i := range dm {
		dm[i] = mu0[i] - mu1[i]
	}
	quad := mat.Inner(mat.NewVecDense(4, dm), &inv, mat.NewVecDense(4, dm))
	want := 0.5 * (mat.Trace(&prod) + quad - 4 + math.Log(mat.Det(S0)) - math.Log(mat.Det(S1)))
	approx(t, "full KL", kl, want, 1e-12)

	// KL(P‖P) = 0, nil means are zero.
	kl, err = GaussianKL(nil, S1, nil, S1)
	if err != nil || math.Abs(kl) > 1e-14 {
		t.Errorf("KL(P‖P) = %g, %v", kl, err)
	}
	// Not positive definite: an error.
	if _, err := GaussianKL(nil, S1, nil, mat.NewSymDense(4, nil)); err == nil {
		t.Error("singular S0 accepted")
	}
}

func TestCommutator(t *testing.T) {
	// C = [[1,0],[0,2]], H = [[0,1],[1,0]]: CH − HC = [[0,−1],[1,0]], ‖·‖_F = √2;
	// ‖C‖_F = √5, ‖H‖_F = √2.
	c := mat.NewSymDense(2, []float64{1, 0, 0, 2})
	h := mat.NewSymDense(2, []float64{0, 1, 1, 0})
	approx(t, "commutator", Commutator(c, h), math.Sqrt2/(math.Sqrt(5)*math.Sqrt2), 1e-15)
	approx(t, "zero", Commutator(c, mat.NewSymDense(2, nil)), 0, 0)
	approx(t, "diag", Commutator(c, mat.NewSymDense(2, []float64{3, 0, 0, -1})), 0, 0)
}

func TestRelFrobError(t *testing.T) {
	ref := mat.NewDense(2, 2, []float64{3, 0, 0, 4})
	est := mat.NewDense(2, 2, []float64{3, 1, 0, 4})
	approx(t, "rel", RelFrobError(est, ref), 0.2, 1e-15)
	z := mat.NewDense(2, 2, nil)
	if RelFrobError(z, z) != 0 || !math.IsInf(RelFrobError(est, z), 1) {
		t.Error("zero reference")
	}
}
