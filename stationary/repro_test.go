package stationary

import (
	"runtime"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestReproducibleAcrossGOMAXPROCS: the exact least-squares solver gives bitwise identical
// results with GOMAXPROCS 1 and 2.
func TestReproducibleAcrossGOMAXPROCS(t *testing.T) {
	rnd := newRand(60)
	x, y := lsData(rnd, 60, 6, 0.5)
	th := lsMinimum(t, x, y, 0.1)
	c := mat.NewSymDense(6, nil)
	LeastSquaresNoise(c, x, y, th)
	run := func(procs int) *mat.SymDense {
		old := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(old)
		var s mat.SymDense
		if err := ExactLeastSquares(&s, x, 0.1, 0.05, 0.2, c, &ExactSettings{Method: ExactIterative}); err != nil {
			t.Fatal(err)
		}
		return &s
	}
	e1 := run(1)
	e2 := run(2)
	if !mat.Equal(e1, e2) {
		t.Error("exact least squares depends on GOMAXPROCS")
	}
}
