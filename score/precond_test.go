package score

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
)

// TestShiftedPrecondDense checks the shifted subset preconditioner against dense
// computations on a centred factor U (d = 40, m = 12, U1 = 0, column scales over two
// decades): its shift equals the smallest eigenvalue of κ_B UᵀU off the centring vector from a
// dense eigendecomposition, from above and to 1e-5 relative (Lanczos stops at a relative
// residual of 1e-3, and a Ritz value's error is of the order of its residual squared);
// its P⁻¹ equals (κ_B UUᵀ + μI)⁻¹ formed densely (1e-10 relative); its d_eff(λ) lies within
// 4 standard errors of tr G̃(G̃ + λI)⁻¹ from the eigenvalues, G̃ = κ_B UᵀU; and PCG with it
// solves A x = b to the dense solution (1e-9 relative, the tolerance 1e-12 times the
// condition of A).
func TestShiftedPrecondDense(t *testing.T) {
	rnd := newRand(77)
	const d, m = 40, 12
	const kappa, lam = 0.3, 1e-3
	u := mat.NewDense(d, m, nil)
	for j := 0; j < m; j++ {
		s := math.Pow(10, -2*float64(j)/float64(m-1))
		for i := 0; i < d; i++ {
			u.Set(i, j, s*rnd.NormFloat64())
		}
	}
	for i := 0; i < d; i++ { // centre each row: U 1 = 0
		row := u.RawRowView(i)
		var s float64
		for _, v := range row {
			s += v / m
		}
		for j := range row {
			row[j] -= s
		}
	}
	f := linalg.NewDenseFactor(u)
	var g mat.Dense
	f.Gram(&g)
	work := mat.DenseCopyOf(&g) // factorised in place: its lower triangle must survive
	p, err := newShiftedPrecond(f, work, kappa, lam, 3)
	if err != nil {
		t.Fatal(err)
	}
	if p.mu == lam {
		t.Fatal("no shift: the second factorisation (from the kept lower triangle) is not tested")
	}
	for i := 0; i < m; i++ {
		for j := 0; j < i; j++ {
			if work.At(i, j) != g.At(i, j) {
				t.Fatalf("the lower triangle of the Gram matrix changed at (%d, %d)", i, j)
			}
		}
	}
	gs := mat.NewSymDense(m, nil)
	for i := 0; i < m; i++ {
		for j := i; j < m; j++ {
			gs.SetSym(i, j, kappa*g.At(i, j))
		}
	}
	var es mat.EigenSym
	if !es.Factorize(gs, false) {
		t.Fatal("eigendecomposition failed")
	}
	vals := es.Values(nil) // ascending; vals[0] ≈ 0 is the centring direction
	if math.Abs(vals[0]) > 1e-12*vals[m-1] {
		t.Fatalf("the centred Gram matrix has smallest eigenvalue %g", vals[0])
	}
	checkScalar(t, "s_min", p.sMin, vals[1], 1e-5)
	checkScalar(t, "μ", p.mu, lam+vals[1], 1e-5)
	if p.sMin < vals[1]*(1-1e-12) {
		t.Errorf("s_min %g below the smallest eigenvalue %g: the Lanczos estimate is from above", p.sMin, vals[1])
	}

	a := mat.NewSymDense(d, nil)
	a.SymOuterK(kappa, u)
	pm := mat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			pm.SetSym(i, j, a.At(i, j))
		}
		pm.SetSym(i, i, pm.At(i, i)+p.mu)
		a.SetSym(i, i, a.At(i, i)+lam)
	}
	var want mat.Dense
	if err := want.Inverse(pm); err != nil {
		t.Fatal(err)
	}
	got := mat.NewDense(d, d, nil)
	e, col := make([]float64, d), make([]float64, d)
	for j := 0; j < d; j++ {
		e[j] = 1
		if err := p.Solve(col, e); err != nil {
			t.Fatal(err)
		}
		e[j] = 0
		got.SetCol(j, col)
	}
	checkMat(t, "P⁻¹", got, &want, 1e-10)

	var deff float64
	for _, s := range vals {
		if s > 0 {
			deff += s / (s + lam)
		}
	}
	if !(p.effDimSE > 0) || math.Abs(p.effDim-deff) > 4*p.effDimSE {
		t.Errorf("d_eff %g ± %g, exact %g", p.effDim, p.effDimSE, deff)
	}

	b := make([]float64, d)
	for i := range b {
		b[i] = rnd.NormFloat64()
	}
	x := make([]float64, d)
	_, err = linalg.PCG(x, b, func(dst, v []float64) { mat.NewVecDense(d, dst).MulVec(a, mat.NewVecDense(d, v)) }, 1e-12, 200,
		linalg.PCGOptions{Precond: p.Solve})
	if err != nil {
		t.Fatal(err)
	}
	checkVec(t, "PCG solution", x, bruteSolve(t, a, b), 1e-9)
}

// TestShiftedPrecondSmallShift: with λ over a thousand times the smallest eigenvalue (≈ 8) of κ_B C_S
// the shift is below shiftMinRel·λ, so P = κ_B C_S + λI with the first factor (no second
// factorisation) and the description says so; P⁻¹ is checked against the dense inverse.
func TestShiftedPrecondSmallShift(t *testing.T) {
	rnd := newRand(78)
	const d, m = 30, 10
	const kappa, lam = 0.5, 1e5
	u := mat.NewDense(d, m, nil)
	for i := 0; i < d; i++ {
		row := u.RawRowView(i)
		var s float64
		for j := range row {
			row[j] = rnd.NormFloat64()
			s += row[j] / m
		}
		for j := range row {
			row[j] -= s
		}
	}
	f := linalg.NewDenseFactor(u)
	var g mat.Dense
	f.Gram(&g)
	p, err := newShiftedPrecond(f, mat.DenseCopyOf(&g), kappa, lam, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !(p.sMin > 0) || p.sMin > shiftMinRel*lam {
		t.Fatalf("s_min = %g: the case does not test a positive shift below %g λ", p.sMin, shiftMinRel)
	}
	if p.mu != lam {
		t.Errorf("μ = %v, want λ = %v (no shift)", p.mu, lam)
	}
	if desc := p.describe(); !strings.Contains(desc, "not shifted") {
		t.Errorf("description %q does not say the preconditioner is not shifted", desc)
	}
	a := mat.NewSymDense(d, nil)
	a.SymOuterK(kappa, u)
	for i := 0; i < d; i++ {
		a.SetSym(i, i, a.At(i, i)+lam)
	}
	var want mat.Dense
	if err := want.Inverse(a); err != nil {
		t.Fatal(err)
	}
	e, col := make([]float64, d), make([]float64, d)
	for j := 0; j < d; j++ {
		clear(e)
		e[j] = 1
		if err := p.Solve(col, e); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < d; i++ {
			// A well-conditioned 30×30 inverse (cond ≈ 1.001): 1e-12 relative to its scale 1/λ.
			if math.Abs(col[i]-want.At(i, j)) > 1e-12/lam {
				t.Fatalf("P⁻¹[%d,%d] = %g, want %g", i, j, col[i], want.At(i, j))
			}
		}
	}
}
