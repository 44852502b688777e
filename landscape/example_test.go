package landscape_test

import (
	"fmt"

	"github.com/sgdprior/sgdprior/landscape"
)

// The multiplicative-noise quadratic: the SDE's exact density and the note's differ by one
// power of (v0 + v1θ²), and so do their variances.
func ExampleExact1D() {
	m, err := landscape.NewMultiplicative(landscape.MultiplicativeSettings{}) // h = v0 = v1 = 1
	if err != nil {
		panic(err)
	}
	lr, kappa := 0.2, 1.0 // α = h/(ηκ_Bv1) = 5
	r, err := landscape.Exact1D(m, lr, kappa, nil)
	if err != nil {
		panic(err)
	}
	exact, note := m.Exponents(lr, kappa)
	fmt.Printf("exponents: exact %.0f, seed %.0f\n", exact, note)
	fmt.Printf("variance: exact %.6f (closed form 1/9), seed %.6f (1/7)\n", r.VarExact, r.VarNote)
	// Output:
	// exponents: exact -6, seed -5
	// variance: exact 0.111111 (closed form 1/9), seed 0.142857 (1/7)
}
