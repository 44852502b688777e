package model

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// TestPerExampleGradNorms checks the factorised norms ‖g_i‖ against the norms of the
// rows of PerExampleGrads (the same forward and backward pass, materialised: only the
// summation order differs, so 1e-13 relative) and of the one-example Loss gradients
// (1e-12, as TestPerExampleAgainstNaive: a small residual of a regression head amplifies the
// rounding of the batched forward pass), for every model kind and for a batch of 600 rows
// (three chunks, the last one partial).
func TestPerExampleGradNorms(t *testing.T) {
	const tol, tolNaive = 1e-13, 1e-12
	for ci, tc := range allCases {
		for _, n := range []int{tc.n, 600} {
			tc.n = n
			net, b, theta := tc.setup(t, uint64(ci))
			G := naivePerExampleGrads(net, theta, b)
			var P mat.Dense
			net.PerExampleGrads(&P, theta, b)
			got := make([]float64, n)
			net.PerExampleGradNorms(got, theta, b)
			for i := 0; i < n; i++ {
				want := floats.Norm(P.RawRowView(i), 2)
				if math.Abs(got[i]-want) > tol*want {
					t.Fatalf("%s, n = %d, example %d: %v, PerExampleGrads %v", tc.name, n, i, got[i], want)
				}
				want = floats.Norm(G.RawRowView(i), 2)
				if math.Abs(got[i]-want) > tolNaive*want {
					t.Fatalf("%s, n = %d, example %d: %v, one-example Loss %v", tc.name, n, i, got[i], want)
				}
			}
		}
	}
	// A wrong length is a programmer error.
	net, b, theta := allCases[3].setup(t, 1)
	defer func() {
		if recover() == nil {
			t.Error("a short dst did not panic")
		}
	}()
	net.PerExampleGradNorms(make([]float64, b.Len()-1), theta, b)
}
