package linalg

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// WoodburyInverse inverts C_B = κ U Uᵀ (U a d×M Factor) through the M×M Gram matrix
// UᵀU = V S Vᵀ (MATH.md §2, §4). The nonzero eigenvalues of C_B are κ s_i, so its numerical
// rank is the number of s_i > rcond·s_max. With damping λ > 0 it applies the Woodbury identity
//
//	(λI + κUUᵀ)⁻¹ = (1/λ) [I − U (λ/κ I_M + UᵀU)⁻¹ Uᵀ],
//	(λ/κ I_M + UᵀU)⁻¹ = V diag(1/(λ/κ + s_i)) Vᵀ;
//
// in range mode (and when C_B has full rank, which needs M ≥ d) the pseudo-inverse
//
//	(κUUᵀ)⁺ = (1/κ) U V_K S_K⁻² V_Kᵀ Uᵀ
//
// on the kept eigenvalues K, whose range has the orthogonal projector U V_K S_K⁻¹ V_Kᵀ Uᵀ.
// Each Solve costs one Uᵀ product, one U product and O(M²).
//
// Accuracy: the damped formula subtracts two terms of size ‖b‖/λ, so the component of the
// solution inside the range of C_B carries an absolute error of order ε‖b‖/λ (relative
// error ε·κ s/λ along an eigenvalue κ s); choose λ well above ε·λ_max.
//
// A WoodburyInverse is safe for concurrent use when its Factor is.
type WoodburyInverse struct {
	u       Factor
	d, m    int
	kappa   float64
	damping float64
	v       blas64.General // Gram eigenvectors (M×M), columns
	coef    []float64      // per Gram eigenvector coefficient in Solve
	proj    []float64      // per Gram eigenvector coefficient of the range projector
	rank    int
	crank   int
	damped  bool
	rng     bool
}

// NewWoodburyInverse computes the Gram matrix of u and its eigendecomposition for
// C_B = kappa·U Uᵀ (kappa > 0) with the given settings (nil means defaults). It returns a
// *RankDeficientError when C_B is numerically rank-deficient (always the case when M < d)
// and neither Damping nor Range is set.
func NewWoodburyInverse(u Factor, kappa float64, s *InverseSettings) (*WoodburyInverse, error) {
	d, m := u.Rows(), u.Cols()
	if d == 0 || m == 0 {
		panic("linalg: empty factor")
	}
	if !(kappa > 0) || math.IsInf(kappa, 0) {
		return nil, fmt.Errorf("linalg: noise scale κ = %g must be finite and > 0", kappa)
	}
	set, err := s.withDefaults(d)
	if err != nil {
		return nil, err
	}
	var g mat.Dense
	u.Gram(&g)
	if r, c := g.Dims(); r != m || c != m {
		panic("linalg: Factor.Gram returned a matrix of the wrong shape")
	}
	var es mat.EigenSym
	if !es.Factorize(symView(&g), true) {
		return nil, errEigen("the Gram matrix UᵀU")
	}
	vals := es.Values(nil)
	_, keep, crank, err := classify(vals, set.RCond, "the Gram matrix UᵀU")
	if err != nil {
		return nil, err
	}
	var v mat.Dense
	es.VectorsTo(&v)
	w := &WoodburyInverse{u: u, d: d, m: m, kappa: kappa, damping: set.Damping, v: v.RawMatrix(),
		coef: make([]float64, m), proj: make([]float64, m), crank: crank}
	for i, s := range vals {
		if keep[i] {
			w.proj[i] = 1 / s
		}
	}
	switch {
	case set.Damping > 0:
		w.damped = true
		w.rank = d
		lk := set.Damping / kappa
		for i, s := range vals {
			w.coef[i] = -1 / (set.Damping * (lk + max(s, 0)))
		}
	case crank == d || set.Range:
		w.rng = crank < d
		w.rank = crank
		for i, s := range vals {
			if keep[i] {
				w.coef[i] = 1 / (kappa * s * s)
			}
		}
	default:
		return nil, &RankDeficientError{Rank: crank, Dim: d, RCond: set.RCond}
	}
	return w, nil
}

// Dim returns d.
func (w *WoodburyInverse) Dim() int { return w.d }

// Rank returns the rank of the matrix inverted (d when damped).
func (w *WoodburyInverse) Rank() int { return w.rank }

// CovRank returns the numerical rank of C_B itself by the rcond rule.
func (w *WoodburyInverse) CovRank() int { return w.crank }

// Solve writes the solution into dst (see Inverse). It never fails.
func (w *WoodburyInverse) Solve(dst, b []float64) error {
	if len(dst) != w.d || len(b) != w.d {
		panic("linalg: WoodburyInverse.Solve: length mismatch")
	}
	if w.damped && sameSlice(dst, b) {
		b = append([]float64(nil), b...)
	}
	z := w.gramApply(b, w.coef)
	w.u.Mul(dst, z)
	if w.damped {
		floats.AddScaled(dst, 1/w.damping, b)
	}
	return nil
}

// RangeFraction returns ‖b − P b‖²/‖b‖² with P = U V_K S_K⁻¹ V_Kᵀ Uᵀ the projector on the
// kept range (0 when damped or full rank).
func (w *WoodburyInverse) RangeFraction(b []float64) float64 {
	if len(b) != w.d {
		panic("linalg: WoodburyInverse.RangeFraction: length mismatch")
	}
	if !w.rng {
		return 0
	}
	nb := floats.Dot(b, b)
	if nb == 0 {
		return 0
	}
	pb := make([]float64, w.d)
	w.u.Mul(pb, w.gramApply(b, w.proj))
	floats.SubTo(pb, b, pb)
	return min(floats.Dot(pb, pb)/nb, 1)
}

// gramApply returns V diag(c) Vᵀ Uᵀ b (length M).
func (w *WoodburyInverse) gramApply(b, c []float64) []float64 {
	ub := make([]float64, w.m)
	w.u.MulT(ub, b)
	t := make([]float64, w.m)
	blas64.Gemv(blas.Trans, 1, w.v, vec(ub), 0, vec(t))
	for i := range t {
		t[i] *= c[i]
	}
	blas64.Gemv(blas.NoTrans, 1, w.v, vec(t), 0, vec(ub))
	return ub
}

// symView returns the symmetric matrix whose upper triangle is that of the square g.
func symView(g *mat.Dense) *mat.SymDense {
	r := g.RawMatrix()
	return mat.NewSymDense(r.Rows, append([]float64(nil), denseData(r)...))
}

func denseData(r blas64.General) []float64 {
	if r.Stride == r.Cols {
		return r.Data[:r.Rows*r.Cols]
	}
	out := make([]float64, 0, r.Rows*r.Cols)
	for i := 0; i < r.Rows; i++ {
		out = append(out, r.Data[i*r.Stride:i*r.Stride+r.Cols]...)
	}
	return out
}
