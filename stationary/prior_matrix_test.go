package stationary

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestPriorPrecisionMatrix: for a positive definite Σ, P = Σ⁻¹ − N(h − λI) against an LU
// inverse; for a singular Σ the restriction to its range, whose quadratic form agrees with
// Σ⁺ − N(h − λI) on range vectors; SeedPriorPrecision against its formula entry by entry.
func TestPriorPrecisionMatrix(t *testing.T) {
	rnd := newRand(7)
	const k, n, lam = 4, 50, 0.1
	sigma, _ := symWithSpectrum(rnd, []float64{0.3, 0.1, 0.05, 0.01})
	h, _ := symWithSpectrum(rnd, []float64{2, 1, 0.5, 0.2})
	p, r, err := PriorPrecisionMatrix(sigma, h, lam, n)
	if err != nil {
		t.Fatal(err)
	}
	var inv mat.Dense
	if err := inv.Inverse(sigma); err != nil {
		t.Fatal(err)
	}
	want := mat.NewDense(k, k, nil)
	for i := 0; i < k; i++ {
		for j := 0; j < k; j++ {
			v := inv.At(i, j) - n*h.At(i, j)
			if i == j {
				v += n * lam
			}
			want.Set(i, j, v)
		}
	}
	var full mat.Dense // R P Rᵀ
	var tmp mat.Dense
	tmp.Mul(r, p)
	full.Mul(&tmp, r.T())
	if e := relErrMat(&full, want); e > 1e-10 {
		t.Errorf("full-rank Σ: P differs by %.3g", e)
	}
	// Singular Σ: rank 2.
	q := randOrth(rnd, k)
	s2 := mat.NewSymDense(k, nil)
	for _, c := range []struct {
		col int
		v   float64
	}{{0, 0.2}, {1, 0.05}} {
		u := mat.Col(nil, c.col, q)
		s2.SymRankOne(s2, c.v, mat.NewVecDense(k, u))
	}
	p2, r2, err := PriorPrecisionMatrix(s2, h, lam, n)
	if err != nil {
		t.Fatal(err)
	}
	if _, nr := r2.Dims(); nr != 2 {
		t.Fatalf("range of dimension %d, want 2", nr)
	}
	for _, c := range []struct {
		col int
		v   float64
	}{{0, 0.2}, {1, 0.05}} {
		u := mat.NewVecDense(k, mat.Col(nil, c.col, q))
		var w mat.VecDense
		w.MulVec(r2.T(), u)
		got := mat.Inner(&w, p2, &w)
		want := 1/c.v - n*(mat.Inner(u, h, u)-lam)
		if math.Abs(got-want) > 1e-9*math.Abs(want) {
			t.Errorf("uᵀPu along range vector %d: %g, want %g", c.col, got, want)
		}
	}
	sp := SeedPriorPrecision(sigma, h, lam, n)
	for i := 0; i < k; i++ {
		for j := 0; j < k; j++ {
			w := sigma.At(i, j) - n*h.At(i, j)
			if i == j {
				w += n * lam
			}
			if sp.At(i, j) != w {
				t.Errorf("SeedPriorPrecision(%d, %d) = %g, want %g", i, j, sp.At(i, j), w)
			}
		}
	}
}
