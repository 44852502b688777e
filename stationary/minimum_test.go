package stationary

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
)

// TestDenseAndTopK: on H with a null direction (zero curvature and zero noise), Dense removes
// it and keeps the rest in decreasing order, with C̃_B = VᵀC_BV; TopK with k = 2 finds the two
// sharpest directions and projects the noise on them.
func TestDenseAndTopK(t *testing.T) {
	rnd := newRand(3)
	h, q := symWithSpectrum(rnd, []float64{0, 0.5, 2, 5})
	// C_B with no noise along the null eigenvector q_0.
	u := randDense(rnd, 4, 3)
	var pu mat.Dense
	proj := mat.NewDense(4, 4, nil)
	for i := 0; i < 4; i++ {
		proj.Set(i, i, 1)
	}
	q0 := mat.Col(nil, 0, q)
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			proj.Set(i, j, proj.At(i, j)-q0[i]*q0[j])
		}
	}
	pu.Mul(proj, u)
	c := mat.NewSymDense(4, nil)
	c.SymOuterK(1, &pu)
	m, _, err := Dense(h, c)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Full || m.Null != 1 || m.Flat != 0 || m.Negative != 0 || len(m.Curvatures) != 3 {
		t.Fatalf("full %v, null %d flat %d negative %d, %d directions", m.Full, m.Null, m.Flat, m.Negative, len(m.Curvatures))
	}
	for j, want := range []float64{5, 2, 0.5} {
		approx(t, "curvature", m.Curvatures[j], want, 1e-12)
	}
	approx(t, "CB", relErrMat(m.CB, Project(c, m.Basis)), 0, 1e-12)

	top, _, err := TopK(linalg.DenseOperator{A: h}, 2, rand.NewPCG(1, 2), func(dst *mat.SymDense, v *mat.Dense) {
		dst.CopySym(Project(c, v))
	})
	if err != nil {
		t.Fatal(err)
	}
	if top.Full || len(top.Curvatures) != 2 {
		t.Fatalf("top-k: full %v, %d directions", top.Full, len(top.Curvatures))
	}
	approx(t, "top curvature", top.Curvatures[0], 5, 1e-9)
	approx(t, "second curvature", top.Curvatures[1], 2, 1e-9)
	approx(t, "top CB", relErrMat(top.CB, Project(c, top.Basis)), 0, 1e-12)
	// V S Vᵀ and back.
	back := Project(Unproject(top.CB, top.Basis), top.Basis)
	approx(t, "unproject", relErrMat(back, top.CB), 0, 1e-12)
}

func TestScores(t *testing.T) {
	approx(t, "prior precision", ImpliedPriorPrecision(10, 0.3, 0.1, 20), 10-20*(0.3-0.1), 1e-15)
	// s_st = −(2/η)C⁻¹g for C = diag(2, 4).
	c := mat.NewSymDense(2, []float64{2, 0, 0, 4})
	g := []float64{1, 2}
	dst := make([]float64, 2)
	if err := StationaryScoreAt(dst, g, c, 0.5, &linalg.InverseSettings{}); err != nil {
		t.Fatal(err)
	}
	if !floats.EqualApprox(dst, []float64{-4 * 0.5, -4 * 0.5}, 1e-14) {
		t.Errorf("stationary score %v", dst)
	}
	if err := StationaryScoreAt(dst, g, mat.NewSymDense(2, []float64{1, 0, 0, 0}), 0.5, &linalg.InverseSettings{}); err == nil {
		t.Error("a singular C_B should be an error")
	}
	PosteriorScore(dst, g, 10)
	if !floats.Equal(dst, []float64{-10, -20}) {
		t.Errorf("posterior score %v", dst)
	}
}

func TestLinregDesign(t *testing.T) {
	x := mat.NewDense(2, 2, []float64{1, 2, 3, 4})
	xt, yt := LinregDesign(x, []float64{2, 4}, 2)
	if !mat.Equal(xt, mat.NewDense(2, 3, []float64{0.5, 1, 0.5, 1.5, 2, 0.5})) || !floats.Equal(yt, []float64{1, 2}) {
		t.Errorf("design %v, targets %v", mat.Formatted(xt), yt)
	}
	if _, y := LinregDesign(x, nil, 1); y != nil {
		t.Error("nil targets should stay nil")
	}
	ls := NewLeastSquares(x, []float64{2, 4}, 2, 0.1, []float64{0, 0, 0})
	if ls.Lambda != 0.1 || ls.C.SymmetricDim() != 3 || math.IsNaN(ls.C.At(0, 0)) {
		t.Error("least squares description")
	}
}
