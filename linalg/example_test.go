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

	inv, _ := linalg.NewWoodburyInverse(u, 0.5, &linalg.InverseSettings{Range: true})
	b := []float64{1, 0, 1}
	x := make([]float64, 3)
	inv.Solve(x, b)
	fmt.Printf("x = %.3f, outside the range: %.2f\n", x, inv.RangeFraction(b))
	// Output:
	// true 1 3
	// x = [0.500 0.500 0.000], outside the range: 0.75
}
