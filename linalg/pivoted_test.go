package linalg

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/internal/testmat"
)

// lowRankFactor returns U = O_d[:, :r] diag(s) O_M[:, :r]ᵀ (d×M) of exact rank r = len(s),
// O_d and O_M random orthogonal matrices.
func lowRankFactor(rnd *rand.Rand, d, m int, s []float64) *mat.Dense {
	r := len(s)
	od := testmat.Orth(rnd, d).Slice(0, d, 0, r)
	om := testmat.Orth(rnd, m).Slice(0, m, 0, r)
	var a, u mat.Dense
	a.Mul(od, mat.NewDiagDense(r, s))
	u.Mul(&a, om.T())
	return &u
}

// gramLmax returns UᵀU and its largest eigenvalue (dense eigendecomposition).
func gramLmax(t *testing.T, u *mat.Dense) (*mat.Dense, float64) {
	var g mat.Dense
	NewDenseFactor(u).Gram(&g)
	var es mat.EigenSym
	if !es.Factorize(symView(&g), false) {
		t.Fatal("eigendecomposition of the Gram matrix failed")
	}
	v := es.Values(nil)
	return &g, v[len(v)-1]
}

// TestPivotedRangeInverseAgainstPinv checks the pivoted range pseudo-inverse against the
// pseudo-inverse of the dense C_B = κUUᵀ from an SVD (brutePinv, independent of the Gram
// matrix and of Cholesky), to 1e-8 relative, on exactly rank-deficient C_B (rank below both
// d and M, d > M and d < M, and full column rank M < d), with singular values of U spread
// over two decades (condition of C_B on its range 10⁴: the expected error is of order
// ε·10⁴ ≈ 10⁻¹², so 1e-8 leaves a wide margin but would catch any wrong term). It checks
// the rank, the fraction of b outside the range against the SVD projector (b with a known
// component orthogonal to the range, and inside it: fraction 0), the agreement with
// WoodburyInverse in range mode, and aliasing of dst and b.
func TestPivotedRangeInverseAgainstPinv(t *testing.T) {
	cases := []struct {
		name  string
		d, m  int
		s     []float64
		kappa float64
	}{
		{"d>M, rank<M", 30, 12, []float64{3, 2, 1.5, 1, 0.4, 0.1, 0.03}, 1.7},
		{"d<M, rank<d", 10, 25, []float64{1, 0.8, 0.5, 0.2, 0.05, 0.01}, 0.3},
		{"full column rank", 20, 8, []float64{2, 1.9, 1, 0.7, 0.3, 0.1, 0.05, 0.02}, 0.9},
		{"rank 1", 6, 9, []float64{0.5}, 2},
	}
	rnd := newRand(11)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := lowRankFactor(rnd, tc.d, tc.m, tc.s)
			c := outerLoop(u, tc.kappa)
			ref, proj, wantRank := brutePinv(t, c, DefaultRCond)
			if wantRank != len(tc.s) {
				t.Fatalf("reference rank %d, constructed %d", wantRank, len(tc.s))
			}
			g, lmax := gramLmax(t, u)
			f := NewDenseFactor(u)
			p, err := NewPivotedRangeInverse(f, g, tc.kappa, DefaultRCond, lmax, nil)
			if err != nil {
				t.Fatal(err)
			}
			if p.Rank() != wantRank {
				t.Errorf("Rank() = %d, want %d", p.Rank(), wantRank)
			}
			wood, err := NewWoodburyInverse(f, tc.kappa, &InverseSettings{Range: true})
			if err != nil {
				t.Fatal(err)
			}
			for trial := 0; trial < 3; trial++ {
				b := randVec(rnd, tc.d)
				if trial == 2 {
					b = matVec(proj, b) // inside the range
				}
				x := make([]float64, tc.d)
				if err := p.Solve(x, b); err != nil {
					t.Fatal(err)
				}
				if e := relErr(x, matVec(ref, b)); e > 1e-8 {
					t.Errorf("trial %d: relative error %g against the SVD pseudo-inverse", trial, e)
				}
				xw := make([]float64, tc.d)
				_ = wood.Solve(xw, b)
				if e := relErr(x, xw); e > 1e-8 {
					t.Errorf("trial %d: differs from WoodburyInverse (range) by %g", trial, e)
				}
				pb := matVec(proj, b)
				floats.SubTo(pb, b, pb)
				want := floats.Dot(pb, pb) / floats.Dot(b, b)
				if trial == 2 {
					want = 0
				}
				if got := p.RangeFraction(b); math.Abs(got-want) > 1e-10 {
					t.Errorf("trial %d: RangeFraction = %g, want %g", trial, got, want)
				}
				alias := append([]float64(nil), b...)
				_ = p.Solve(alias, alias)
				if e := relErr(alias, x); e > 1e-14 {
					t.Errorf("aliased Solve differs by %g", e)
				}
			}
		})
	}
}

// TestPivotedRangeInverseThreshold checks, on a U whose singular values decay
// geometrically through the threshold (no gap: the pivoted rank need not equal the
// eigenvalue count), what MATH.md §4 states the inverse is: (i) the discarded part obeys
// ‖(I − P)U‖₂² ≤ (M − r)·rcond·λ_max(G), P the projector on the span of the pivot columns,
// computed here by an SVD of those columns; (ii) hence r ≥ #{eigenvalues of G above
// (M − r)·rcond·λ_max}; (iii) Solve is the SVD pseudo-inverse of κ P U Uᵀ P (to 1e-6
// relative: κPUUᵀP has condition up to ~1/rcond' = 10⁸ on its range, so rounding errors of
// order ε·10⁸ ≈ 10⁻⁸ are expected; its exactly-zero eigenvalues sit far below the
// threshold), and RangeFraction the fraction outside P (to 1e-7 absolute: P is known
// through G, whose weakest kept direction, of squared length ≈ rcond·λ_max, is perturbed by
// about ε/rcond ≈ 2·10⁻⁸).
func TestPivotedRangeInverseThreshold(t *testing.T) {
	const d, m, rcond = 40, 30, 1e-8
	rnd := newRand(12)
	s := make([]float64, 25)
	for i := range s {
		s[i] = math.Pow(10, -0.25*float64(i)) // s_i² from 1 down to 10⁻¹²
	}
	u := lowRankFactor(rnd, d, m, s)
	g, lmax := gramLmax(t, u)
	p, err := NewPivotedRangeInverse(NewDenseFactor(u), g, 1, rcond, lmax, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := p.Rank()
	tol := rcond * lmax
	// The projector on the span of the pivot columns, by an SVD of U_Π.
	up := mat.NewDense(d, r, nil)
	for k, j := range p.Pivots() {
		up.SetCol(k, mat.Col(nil, j, u))
	}
	var svd mat.SVD
	if !svd.Factorize(up, mat.SVDThin) {
		t.Fatal("SVD of the pivot columns failed")
	}
	var qd mat.Dense
	svd.UTo(&qd)
	var pm mat.Dense
	pm.Mul(&qd, qd.T())
	var res mat.Dense
	res.Mul(&pm, u)
	res.Sub(u, &res)
	if n2 := mat.Norm(&res, 2); n2*n2 > float64(m-r)*tol {
		t.Errorf("‖(I−P)U‖² = %g above (M−r)·tol = %g", n2*n2, float64(m-r)*tol)
	}
	above := 0
	for _, si := range s {
		if si*si > float64(m-r)*tol {
			above++
		}
	}
	if r < above {
		t.Errorf("pivoted rank %d below the %d eigenvalues above (M−r)·tol", r, above)
	}
	t.Logf("pivoted rank %d; eigenvalues above tol: %d, above (M−r)·tol: %d", r, numAbove(s, tol), above)
	// The SVD pseudo-inverse of κ P U Uᵀ P.
	var pu mat.Dense
	pu.Mul(&pm, u)
	ref, proj, rk := brutePinv(t, outerLoop(&pu, 1), 1e-10)
	if rk != r {
		t.Fatalf("rank of PUUᵀP = %d, want %d", rk, r)
	}
	for trial := 0; trial < 3; trial++ {
		b := randVec(rnd, d)
		x := make([]float64, d)
		_ = p.Solve(x, b)
		if e := relErr(x, matVec(ref, b)); e > 1e-6 {
			t.Errorf("relative error %g against the pseudo-inverse of PUUᵀP", e)
		}
		pb := matVec(proj, b)
		floats.SubTo(pb, b, pb)
		if got, want := p.RangeFraction(b), floats.Dot(pb, pb)/floats.Dot(b, b); math.Abs(got-want) > 1e-7 {
			t.Errorf("RangeFraction = %g, want %g", got, want)
		}
	}
}

func numAbove(s []float64, tol float64) int {
	n := 0
	for _, si := range s {
		if si*si > tol {
			n++
		}
	}
	return n
}

// TestPivotedCholeskyReconstructs checks PivotedCholesky against the matrix it factorises:
// on a PSD matrix of exact rank 4, the rank is 4 and RᵀR reproduces Pᵀ A P (to 1e-12
// relative to ‖A‖).
func TestPivotedCholeskyReconstructs(t *testing.T) {
	rnd := newRand(13)
	u := lowRankFactor(rnd, 9, 9, []float64{2, 1, 0.5, 0.3})
	a := outerLoop(u, 1)
	rank, piv, fac := PivotedCholesky(a, 1e-12*mat.Norm(a, 2), nil)
	if rank != 4 {
		t.Fatalf("rank %d, want 4", rank)
	}
	n := 9
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			var v float64
			for k := 0; k < rank; k++ {
				var rki, rkj float64
				if i >= k {
					rki = fac[k*n+i]
				}
				if j >= k {
					rkj = fac[k*n+j]
				}
				v += rki * rkj
			}
			if e := math.Abs(v - a.At(piv[i], piv[j])); e > 1e-12*mat.Norm(a, 2) {
				t.Fatalf("(RᵀR)[%d,%d] = %g, A[piv] = %g", i, j, v, a.At(piv[i], piv[j]))
			}
		}
	}
}

// TestPivotedRangeInverseErrors checks the refusals: zero Gram matrix, bad rcond and λ_max.
func TestPivotedRangeInverseErrors(t *testing.T) {
	f := NewDenseFactor(mat.NewDense(3, 2, nil))
	if _, err := NewPivotedRangeInverse(f, nil, 1, 1e-10, 1, nil); err == nil {
		t.Error("zero factor: no error")
	}
	u := NewDenseFactor(randDense(newRand(1), 3, 2))
	for _, bad := range []struct{ kappa, rcond, lmax float64 }{{0, 1e-10, 1}, {1, 0, 1}, {1, 1, 1}, {1, 1e-10, 0}, {1, 1e-10, math.NaN()}} {
		if _, err := NewPivotedRangeInverse(u, nil, bad.kappa, bad.rcond, bad.lmax, nil); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}
