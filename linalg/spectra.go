package linalg

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// NumericalRank returns the number of eigenvalues with |λ| > rcond·max|λ| (MATH.md §2,
// rcond rule); rcond ≤ 0 means DefaultRCond (1e-10). It is 0 for an all-zero spectrum.
func NumericalRank(vals []float64, rcond float64) int {
	if rcond <= 0 {
		rcond = DefaultRCond
	}
	lmax := maxAbs(vals)
	if lmax == 0 {
		return 0
	}
	r := 0
	for _, v := range vals {
		if math.Abs(v) > rcond*lmax {
			r++
		}
	}
	return r
}

// SymRank returns the numerical rank of the symmetric matrix a by the rcond rule (see
// NumericalRank), from its eigenvalues.
func SymRank(a mat.Symmetric, rcond float64) (int, error) {
	var es mat.EigenSym
	if !es.Factorize(a, false) {
		return 0, errEigen("the matrix")
	}
	return NumericalRank(es.Values(nil), rcond), nil
}

// Trace returns tr A = Σ_i e_iᵀ A e_i exactly, with d operator products.
func Trace(a SymOperator) float64 {
	d := a.Dim()
	e := make([]float64, d)
	ae := make([]float64, d)
	var t float64
	for i := 0; i < d; i++ {
		e[i] = 1
		a.Apply(ae, e)
		t += ae[i]
		e[i] = 0
	}
	return t
}

// HutchinsonTrace estimates tr A by the Hutchinson estimator (1/n) Σ_k z_kᵀ A z_k with n
// Rademacher probes z_k drawn from src, and returns the estimate with its standard error
// (sample standard deviation of z_kᵀ A z_k over √n; 0 when n = 1). For a symmetric A its
// variance per probe is 2 Σ_{i≠j} A_ij².
func HutchinsonTrace(a SymOperator, n int, src rand.Source) (est, stderr float64) {
	if n <= 0 {
		panic("linalg: HutchinsonTrace: need at least one probe")
	}
	if src == nil {
		panic("linalg: HutchinsonTrace: nil random source")
	}
	rnd := rand.New(src)
	d := a.Dim()
	z := make([]float64, d)
	az := make([]float64, d)
	var mean, m2 float64
	for k := 1; k <= n; k++ {
		for i := range z {
			if rnd.Uint64()&1 == 0 {
				z[i] = 1
			} else {
				z[i] = -1
			}
		}
		a.Apply(az, z)
		x := floats.Dot(z, az)
		delta := x - mean
		mean += delta / float64(k)
		m2 += delta * (x - mean)
	}
	if n > 1 {
		stderr = math.Sqrt(m2 / float64(n-1) / float64(n))
	}
	return mean, stderr
}

// FactorTrace returns tr(κ U Uᵀ) = κ Σ_j ‖U e_j‖² with M products U e_j.
func FactorTrace(u Factor, kappa float64) float64 {
	m := u.Cols()
	e := make([]float64, m)
	col := make([]float64, u.Rows())
	var t float64
	for j := 0; j < m; j++ {
		e[j] = 1
		u.Mul(col, e)
		t += floats.Dot(col, col)
		e[j] = 0
	}
	return kappa * t
}
