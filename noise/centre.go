package noise

import (
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// CentreColumns subtracts from each column of g (N×k, one row per example) its mean,
// g_ij ← g_ij − (1/N) Σ_l g_lj: for rows the per-example gradients g_i (or their projections
// g_iᵀV) it leaves g_i − ḡ (docs/MATH.md §2). The mean is accumulated in row order.
func CentreColumns(g *mat.Dense) {
	n, d := g.Dims()
	for j := 0; j < d; j++ {
		var mean float64
		for i := 0; i < n; i++ {
			mean += g.At(i, j)
		}
		mean /= float64(n)
		for i := 0; i < n; i++ {
			g.Set(i, j, g.At(i, j)-mean)
		}
	}
}

// SubtractMean subtracts the mean gradient ḡ from every row of a (one per-example gradient
// g_i a row): a_i ← g_i − ḡ, the centred gradients of C = (1/N) Σ_i (g_i − ḡ)(g_i − ḡ)ᵀ
// (docs/MATH.md §2). Use it when ḡ is known (e.g. from the model's mean gradient) and a holds
// a chunk of the examples. It panics if len(mean) is not a's number of columns.
func SubtractMean(a *mat.Dense, mean []float64) {
	r, c := a.Dims()
	if len(mean) != c {
		panic("noise: SubtractMean: length mismatch")
	}
	for i := 0; i < r; i++ {
		floats.Sub(a.RawRowView(i), mean)
	}
}

// ProjectedCovariance writes into dst the mini-batch covariance projected on the columns
// v_1, …, v_k of a basis V,
//
//	VᵀC_BV = (κ_B/N) (GV − 1 ḡᵀV)ᵀ (GV − 1 ḡᵀV)
//
// (docs/MATH.md §2), from gv = GV, the N×k projections g_iᵀv_j of the per-example gradients,
// which it centres in place (CentreColumns). dst is resized to k×k if empty.
func ProjectedCovariance(dst *mat.SymDense, gv *mat.Dense, kappa float64) {
	n, _ := gv.Dims()
	CentreColumns(gv)
	dst.SymOuterK(kappa/float64(n), gv.T())
}
