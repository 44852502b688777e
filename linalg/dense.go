package linalg

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// DenseInverse inverts a dense d×d noise covariance C_B through its eigendecomposition
// C_B = Q Λ Qᵀ (MATH.md §4):
//
//	damped:   (C_B + λI)⁻¹ = Q diag(1/(λ_i + λ)) Qᵀ
//	range:    C_B⁺         = Q diag(1/λ_i if λ_i > rcond·λ_max, else 0) Qᵀ
//	exact:    C_B⁻¹        = Q diag(1/λ_i) Qᵀ (only when every λ_i > rcond·λ_max)
//
// Eigenvalues within rounding of zero (≥ −max(rcond, d·ε)·λ_max) are treated as zero; a
// clearly negative eigenvalue is a *NotPSDError. A DenseInverse is safe for concurrent use.
type DenseInverse struct {
	d      int
	q      blas64.General // eigenvectors, columns
	scale  []float64      // multiplier of each eigen-coordinate in Solve
	keep   []bool         // eigen-coordinates in the range used
	rank   int            // rank used
	crank  int            // numerical rank of C_B
	lmax   float64
	damped bool
	rng    bool
}

// NewDenseInverse factorizes the symmetric positive semidefinite matrix c (= C_B) with the
// given settings (nil means defaults). It returns a *RankDeficientError when c is
// numerically rank-deficient and neither Damping nor Range is set.
func NewDenseInverse(c mat.Symmetric, s *InverseSettings) (*DenseInverse, error) {
	d := c.SymmetricDim()
	if d == 0 {
		panic("linalg: empty covariance matrix")
	}
	set, err := s.withDefaults(d)
	if err != nil {
		return nil, err
	}
	if err := checkFinite("dense inverse", c); err != nil {
		return nil, err
	}
	var es mat.EigenSym
	if !es.Factorize(c, true) {
		return nil, errEigen("C_B")
	}
	vals := es.Values(nil)
	lmax, keep, crank, err := classify(vals, set.RCond, "C_B")
	if err != nil {
		return nil, err
	}
	var q mat.Dense
	es.VectorsTo(&q)
	inv := &DenseInverse{d: d, q: q.RawMatrix(), scale: make([]float64, d), keep: keep, crank: crank, lmax: lmax}
	switch {
	case set.Damping > 0:
		inv.damped = true
		inv.rank = d
		for i, v := range vals {
			inv.scale[i] = 1 / (max(v, 0) + set.Damping)
			inv.keep[i] = true
		}
	case crank == d || set.Range:
		inv.rng = crank < d
		inv.rank = crank
		for i, v := range vals {
			if keep[i] {
				inv.scale[i] = 1 / v
			}
		}
	default:
		return nil, &RankDeficientError{Rank: crank, Dim: d, RCond: set.RCond}
	}
	return inv, nil
}

// Dim returns d.
func (inv *DenseInverse) Dim() int { return inv.d }

// Rank returns the rank of the matrix inverted (d when damped).
func (inv *DenseInverse) Rank() int { return inv.rank }

// CovRank returns the numerical rank of C_B itself by the rcond rule.
func (inv *DenseInverse) CovRank() int { return inv.crank }

// Solve writes the solution into dst (see Inverse). It never fails.
func (inv *DenseInverse) Solve(dst, b []float64) error {
	if len(dst) != inv.d || len(b) != inv.d {
		panic("linalg: DenseInverse.Solve: length mismatch")
	}
	t := make([]float64, inv.d)
	inv.coords(t, b)
	for i := range t {
		t[i] *= inv.scale[i]
	}
	blas64.Gemv(blas.NoTrans, 1, inv.q, vec(t), 0, vec(dst))
	return nil
}

// RangeFraction returns the fraction of ‖b‖² outside the range used, Σ_{dropped i} (q_iᵀb)²/‖b‖².
func (inv *DenseInverse) RangeFraction(b []float64) float64 {
	if len(b) != inv.d {
		panic("linalg: DenseInverse.RangeFraction: length mismatch")
	}
	if !inv.rng {
		return 0
	}
	nb := floats.Dot(b, b)
	if nb == 0 {
		return 0
	}
	t := make([]float64, inv.d)
	inv.coords(t, b)
	var out float64
	for i, v := range t {
		if !inv.keep[i] {
			out += v * v
		}
	}
	return min(out/nb, 1)
}

// coords writes Qᵀb into t.
func (inv *DenseInverse) coords(t, b []float64) {
	blas64.Gemv(blas.Trans, 1, inv.q, vec(b), 0, vec(t))
}

func vec(x []float64) blas64.Vector { return blas64.Vector{N: len(x), Inc: 1, Data: x} }
