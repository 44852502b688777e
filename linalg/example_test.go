package linalg_test

import (
	"errors"
	"fmt"

	"github.com/sgdprior/sgdprior/linalg"
	"gonum.org/v1/gonum/mat"
)

// A rank-deficient noise covariance C_B = κUUᵀ (d = 3, M = 1) cannot be inverted exactly;
// damping or the range pseudo-inverse are explicit choices.
func ExampleNewWoodburyInverse() {
	u := linalg.NewDenseFactor(mat.NewDense(3, 1, []float64{1, 1, 0}))
	_, err := linalg.NewWoodburyInverse(u, 0.5, nil)
	var rd *linalg.RankDeficientError
	fmt.Println(errors.As(err, &rd), rd.Rank, rd.Dim)

	inv, _ := linalg.NewWoodburyInverse(u, 0.5, &linalg.Settings{Range: true})
	b := []float64{1, 0, 1}
	x := make([]float64, 3)
	inv.Solve(x, b)
	fmt.Printf("x = %.3f, outside the range: %.2f\n", x, inv.RangeFraction(b))
	// Output:
	// true 1 3
	// x = [0.500 0.500 0.000], outside the range: 0.75
}

// Stationary variances of SGD on a 1-D quadratic L = ½hθ² with gradient-noise variance c.
func ExampleDiscreteLyapunov() {
	h, c := mat.NewSymDense(1, []float64{2}), mat.NewSymDense(1, []float64{1})
	eta := 0.5
	var cont, disc mat.SymDense
	linalg.ContinuousLyapunov(&cont, h, c, eta)
	linalg.DiscreteLyapunov(&disc, h, c, eta)
	fmt.Printf("continuous ηc/(2h) = %.4f, discrete ηc/(h(2−ηh)) = %.4f\n", cont.At(0, 0), disc.At(0, 0))
	err := linalg.DiscreteLyapunov(&disc, h, c, 1.2)
	fmt.Println(err)
	// Output:
	// continuous ηc/(2h) = 0.1250, discrete ηc/(h(2−ηh)) = 0.2500
	// linalg: discrete Lyapunov: SGD is unstable: eigenvalue λ = 2 of H gives ηλ = 2.4 ≥ 2 (stable only for η < 2/λ_max = 1)
}
