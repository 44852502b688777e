package noise_test

import (
	"fmt"

	"github.com/sgdprior/sgdprior/noise"
)

func ExampleKappa() {
	// N = 100 examples, batches of B = 10.
	with, _ := noise.Kappa(noise.With, 100, 10)
	without, _ := noise.Kappa(noise.Without, 100, 10)
	fmt.Printf("with:    %.4f\n", with)
	fmt.Printf("without: %.4f\n", without)
	// Output:
	// with:    0.1000
	// without: 0.0909
}
