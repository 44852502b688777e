package linalg

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// PivotedCholesky factorises the PSD n×n matrix a (its upper triangle; not modified) with
// complete pivoting, Pᵀ a P = RᵀR, stopped when the largest remaining diagonal entry of the
// Schur complement is ≤ tol (Higham 1990; tol ≤ 0: LAPACK's n·ε·max a_ii). It returns the
// rank r, the pivots (piv[k] is the original index of the k-th pivot) and the factor in
// work (n² floats, row-major with stride n; allocated when nil or short): rows 0…r−1 of its
// upper triangle are the r×n factor R in pivot order (MATH.md §4, "Pivoted range
// pseudo-inverse"). Cost n²r − 2r³/3 flops.
func PivotedCholesky(a *mat.SymDense, tol float64, work []float64) (rank int, piv []int, factor []float64) {
	n := a.SymmetricDim()
	if tol <= 0 {
		tol = -1 // LAPACK default
	}
	raw := a.RawSymmetric()
	data := work
	if len(data) < n*n {
		data = make([]float64, n*n)
	}
	data = data[:n*n]
	for i := 0; i < n; i++ {
		copy(data[i*n+i:(i+1)*n], raw.Data[i*raw.Stride+i:i*raw.Stride+n])
	}
	piv = make([]int, n)
	_, rank, _ = lapack64.Pstrf(blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: n, Data: data}, piv, tol, make([]float64, 2*n))
	return rank, piv, data
}

// PivotedRangeInverse is the range pseudo-inverse of C_B = κ U Uᵀ (U a d×M Factor) without
// an eigendecomposition (MATH.md §4, "Pivoted range pseudo-inverse"). The pivoted Cholesky
// factorisation of the Gram matrix G = UᵀU at tolerance rcond·λ_max(G) (PivotedCholesky) —
// a column-pivoted QR of U, U_Π = Q R₁₁ on the r pivot columns Π — picks r columns of U
// whose span S = span(U_Π) leaves every other column at squared distance ≤ rcond·λ_max(G).
// With P the orthogonal projector on S and Q = U_Π R₁₁⁻¹ a basis of S,
//
//	(κ P U Uᵀ P)⁺ = (1/κ) Q (Qᵀ U Uᵀ Q)⁻¹ Qᵀ = (1/κ) U_Π R₁₁⁻¹ (R Rᵀ)⁻¹ R₁₁⁻ᵀ U_Πᵀ,
//
// since QᵀU = R₁₁⁻ᵀ G_{Π,·} = R (the r×M factor in pivot order). RRᵀ = TᵀT is factorised
// through the thin QR Rᵀ = Q₂T, so its condition is that of R, not its square. On a C_B of
// exact rank r (a gap in the spectrum of G far above rcond·λ_max) this is C_B⁺; otherwise it
// inverts P C_B P, whose discarded part has ‖(I − P)U‖₂² ≤ (M − r)·rcond·λ_max(G). The
// setup costs O(M²r) for the factorisation and O(Mr²) for the QR (BLAS 3); each Solve one
// Uᵀ product, one U product and four triangular solves (O(r²)).
//
// A PivotedRangeInverse is safe for concurrent use when its Factor is.
type PivotedRangeInverse struct {
	u       Factor
	d, m, r int
	kappa   float64
	piv     []int             // the r pivot columns Π
	r11, t  blas64.Triangular // upper r×r: R₁₁ and T
}

// NewPivotedRangeInverse builds the pivoted range pseudo-inverse of C_B = kappa·U Uᵀ from the
// Gram matrix g = UᵀU (M×M, not modified; nil: computed by u.Gram), the relative threshold
// rcond in (0, 1) and λ_max(G) = lmax > 0 (from Lanczos, say). work (M² floats, or nil) is
// overwritten.
func NewPivotedRangeInverse(u Factor, g *mat.Dense, kappa, rcond, lmax float64, work []float64) (*PivotedRangeInverse, error) {
	d, m := u.Rows(), u.Cols()
	if d == 0 || m == 0 {
		panic("linalg: empty factor")
	}
	if !(kappa > 0) || math.IsInf(kappa, 0) {
		return nil, fmt.Errorf("linalg: noise scale κ = %g must be finite and > 0", kappa)
	}
	if !(rcond > 0 && rcond < 1) {
		return nil, fmt.Errorf("linalg: rcond %g must be in (0, 1)", rcond)
	}
	if !(lmax > 0) || math.IsInf(lmax, 0) {
		return nil, fmt.Errorf("linalg: λ_max(UᵀU) = %g must be finite and > 0", lmax)
	}
	if g == nil {
		g = new(mat.Dense)
		u.Gram(g)
	}
	if rr, cc := g.Dims(); rr != m || cc != m {
		panic("linalg: Gram matrix of the wrong shape")
	}
	raw := g.RawMatrix()
	var sym *mat.SymDense
	if raw.Stride == m {
		sym = mat.NewSymDense(m, raw.Data[:m*m]) // shared, read only
	} else {
		sym = mat.NewSymDense(m, denseData(raw))
	}
	r, piv, fac := PivotedCholesky(sym, rcond*lmax, work)
	if r == 0 {
		return nil, errors.New("linalg: the Gram matrix UᵀU is zero to the tolerance rcond·λ_max: C_B has no range to invert")
	}
	p := &PivotedRangeInverse{u: u, d: d, m: m, r: r, kappa: kappa, piv: append([]int(nil), piv[:r]...)}
	// R₁₁ (r×r upper) and Rᵀ (M×r, pivot order), from the rows 0…r−1 of the factor.
	r11 := make([]float64, r*r)
	rt := make([]float64, m*r)
	for i := 0; i < r; i++ {
		row := fac[i*m : (i+1)*m]
		copy(r11[i*r+i:(i+1)*r], row[i:r])
		for j := i; j < m; j++ {
			rt[j*r+i] = row[j]
		}
	}
	p.r11 = blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: r, Stride: r, Data: r11}
	a := blas64.General{Rows: m, Cols: r, Stride: r, Data: rt}
	tau := make([]float64, r)
	q := make([]float64, 1)
	lapack64.Geqrf(a, tau, q, -1)
	lapack64.Geqrf(a, tau, make([]float64, int(q[0])), int(q[0]))
	t := make([]float64, r*r)
	for i := 0; i < r; i++ {
		copy(t[i*r+i:(i+1)*r], rt[i*r+i:(i+1)*r])
		if t[i*r+i] == 0 {
			return nil, errors.New("linalg: the pivoted factor of UᵀU is singular")
		}
	}
	p.t = blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: r, Stride: r, Data: t}
	return p, nil
}

// Dim returns d.
func (p *PivotedRangeInverse) Dim() int { return p.d }

// Rank returns r, the pivoted-Cholesky rank of G at tolerance rcond·λ_max(G).
func (p *PivotedRangeInverse) Rank() int { return p.r }

// Pivots returns the r pivot columns Π (a copy).
func (p *PivotedRangeInverse) Pivots() []int { return append([]int(nil), p.piv...) }

// Solve writes (1/κ) U_Π R₁₁⁻¹ (TᵀT)⁻¹ R₁₁⁻ᵀ U_Πᵀ b into dst. It never fails; dst and b may be
// the same slice.
func (p *PivotedRangeInverse) Solve(dst, b []float64) error {
	if len(dst) != p.d || len(b) != p.d {
		panic("linalg: PivotedRangeInverse.Solve: length mismatch")
	}
	y := p.coords(b)
	vy := vec(y)
	blas64.Trsv(blas.Trans, p.t, vy)
	blas64.Trsv(blas.NoTrans, p.t, vy)
	floats.Scale(1/p.kappa, y)
	p.mulQ(dst, y)
	return nil
}

// RangeFraction returns ‖b − P b‖²/‖b‖², P = Q Qᵀ = U_Π G_ΠΠ⁻¹ U_Πᵀ the orthogonal projector
// on the span of the pivot columns. Accuracy: the span is known through G, so its weakest
// direction (squared length ≈ rcond·λ_max) is perturbed by about ε/rcond; the fraction
// carries an absolute error of that order.
func (p *PivotedRangeInverse) RangeFraction(b []float64) float64 {
	if len(b) != p.d {
		panic("linalg: PivotedRangeInverse.RangeFraction: length mismatch")
	}
	nb := floats.Dot(b, b)
	if nb == 0 {
		return 0
	}
	pb := make([]float64, p.d)
	p.mulQ(pb, p.coords(b))
	floats.SubTo(pb, b, pb)
	return min(floats.Dot(pb, pb)/nb, 1)
}

// coords returns Qᵀb = R₁₁⁻ᵀ U_Πᵀ b (length r).
func (p *PivotedRangeInverse) coords(b []float64) []float64 {
	ub := make([]float64, p.m)
	p.u.MulT(ub, b)
	y := make([]float64, p.r)
	for k, j := range p.piv {
		y[k] = ub[j]
	}
	blas64.Trsv(blas.Trans, p.r11, vec(y))
	return y
}

// mulQ writes Q y = U_Π R₁₁⁻¹ y into dst (y is overwritten).
func (p *PivotedRangeInverse) mulQ(dst, y []float64) {
	blas64.Trsv(blas.NoTrans, p.r11, vec(y))
	w := make([]float64, p.m)
	for k, j := range p.piv {
		w[j] = y[k]
	}
	p.u.Mul(dst, w)
}
