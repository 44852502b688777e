package linalg

import (
	"math"
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
