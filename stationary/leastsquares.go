package stationary

import "gonum.org/v1/gonum/mat"

// LeastSquares describes a linear least-squares problem (linreg) for the exact predictions
// of MATH.md §6: X includes the constant column of the bias, both X and the targets already
// divided by σ (see LinregDesign); Lambda is the weight decay; C is C(θ*) in the parameter
// basis.
type LeastSquares struct {
	X      *mat.Dense
	Lambda float64
	C      *mat.SymDense
}

// LinregDesign returns the design X̃ = [X, 1]/σ and targets ỹ = y/σ of linear regression
// with noise scale σ (ℓ_i = ½((x_iᵀθ − y_i)/σ)² = ½(x̃_iᵀθ − ỹ_i)², so that the σ = 1
// formulas of MATH.md §6 apply; the last parameter is the bias). y may be nil (then ỹ is nil).
func LinregDesign(x *mat.Dense, y []float64, sigma float64) (*mat.Dense, []float64) {
	n, p := x.Dims()
	xt := mat.NewDense(n, p+1, nil)
	for i := 0; i < n; i++ {
		row := xt.RawRowView(i)
		for j, v := range x.RawRowView(i) {
			row[j] = v / sigma
		}
		row[p] = 1 / sigma
	}
	var yt []float64
	if y != nil {
		yt = make([]float64, n)
		for i, v := range y {
			yt[i] = v / sigma
		}
	}
	return xt, yt
}

// NewLeastSquares describes linreg at θ for the exact least-squares predictions: the design
// and targets of LinregDesign, weight decay lambda, and C(θ) computed from those by
// LeastSquaresNoise (MATH.md §6).
func NewLeastSquares(x *mat.Dense, y []float64, sigma, lambda float64, theta []float64) *LeastSquares {
	xt, yt := LinregDesign(x, y, sigma)
	_, p := xt.Dims()
	c := mat.NewSymDense(p, nil)
	LeastSquaresNoise(c, xt, yt, theta)
	return &LeastSquares{X: xt, Lambda: lambda, C: c}
}
