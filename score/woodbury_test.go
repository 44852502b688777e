package score

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
)

// SolveMany against Solve one vector at a time (the naive loop) and against the dense
// (κUUᵀ + λI)⁻¹ b, on rank-deficient U (d = 30, M = 12; and d = 400, M = 300, where the
// triangular solves are blocked, M > kernel's block of 128): the blocked triangular solves
// only reorder the rounding, so the agreement is to 1e-10 relative (κ(λ/κ I + UᵀU) ≈ 1e4 to
// 1e5 here).
func TestCholWoodburySolveMany(t *testing.T) {
	for _, sz := range [][3]int{{30, 12, 7}, {400, 300, 5}} {
		cholWoodburySolveMany(t, sz[0], sz[1], sz[2])
	}
}

func cholWoodburySolveMany(t *testing.T, d, m, n int) {
	rng := rand.New(rand.NewPCG(3, 9))
	u := mat.NewDense(d, m, nil)
	for i := 0; i < d; i++ {
		for j := 0; j < m; j++ {
			u.Set(i, j, rng.NormFloat64())
		}
	}
	kappa, damping := 0.3, 1e-3
	var g mat.Dense
	g.Mul(u.T(), u)
	w, err := newCholWoodbury(linalg.NewDenseFactor(u), &g, kappa, damping, nil)
	if err != nil {
		t.Fatal(err)
	}
	var a mat.SymDense
	a.SymOuterK(kappa, u)
	for i := 0; i < d; i++ {
		a.SetSym(i, i, a.At(i, i)+damping)
	}
	var ch mat.Cholesky
	if !ch.Factorize(&a) {
		t.Fatal("dense factorisation failed")
	}
	bs := make([][]float64, n)
	many := make([][]float64, n)
	for j := range bs {
		bs[j] = make([]float64, d)
		for i := range bs[j] {
			bs[j][i] = rng.NormFloat64()
		}
		many[j] = make([]float64, d)
	}
	if err := w.SolveMany(many, bs); err != nil {
		t.Fatal(err)
	}
	for j := range bs {
		one := make([]float64, d)
		if err := w.Solve(one, bs[j]); err != nil {
			t.Fatal(err)
		}
		var dense mat.VecDense
		if err := ch.SolveVecTo(&dense, mat.NewVecDense(d, bs[j])); err != nil {
			t.Fatal(err)
		}
		for _, ref := range [][]float64{one, dense.RawVector().Data} {
			diff := make([]float64, d)
			floats.SubTo(diff, many[j], ref)
			if e := floats.Norm(diff, 2) / floats.Norm(ref, 2); !(e < 1e-10) || math.IsNaN(e) {
				t.Errorf("d = %d, M = %d, right-hand side %d: relative difference %.3g", d, m, j, e)
			}
		}
	}
}
