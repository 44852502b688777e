package stationary_test

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/stationary"
)

// Stationary variances of SGD on a 1-D quadratic L = ½hθ² with gradient-noise variance c.
func ExampleDiscreteLyapunov() {
	h, c := mat.NewSymDense(1, []float64{2}), mat.NewSymDense(1, []float64{1})
	eta := 0.5
	var cont, disc mat.SymDense
	stationary.ContinuousLyapunov(&cont, h, c, eta)
	stationary.DiscreteLyapunov(&disc, h, c, eta)
	fmt.Printf("continuous ηc/(2h) = %.4f, discrete ηc/(h(2−ηh)) = %.4f\n", cont.At(0, 0), disc.At(0, 0))
	err := stationary.DiscreteLyapunov(&disc, h, c, 1.2)
	fmt.Println(err)
	// Output:
	// continuous ηc/(2h) = 0.1250, discrete ηc/(h(2−ηh)) = 0.2500
	// stationary: discrete Lyapunov: SGD is unstable: eigenvalue λ = 2 of H gives ηλ = 2.4 ≥ 2 (stable only for η < 2/λ_max = 1)
}
