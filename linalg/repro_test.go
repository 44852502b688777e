package linalg

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/floats"
)

// TestReproducibleAcrossGOMAXPROCS: Woodbury (whose Gram matrix uses gonum's parallel Gemm at
// this size) and Lanczos give bitwise identical results with
// GOMAXPROCS 1 and 2.
func TestReproducibleAcrossGOMAXPROCS(t *testing.T) {
	rnd := newRand(60)
	d, m := 1500, 256
	u := randDense(rnd, d, m)
	b := randVec(rnd, d)
	run := func(procs int) ([]float64, []float64) {
		old := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(old)
		inv, err := NewWoodburyInverse(NewDenseFactor(u), 0.1, &InverseSettings{Damping: 0.01})
		if err != nil {
			t.Fatal(err)
		}
		sol := make([]float64, d)
		inv.Solve(sol, b)
		vals := make([]float64, 5)
		if _, err := Lanczos(vals, nil, CovOperator{U: NewDenseFactor(u), Kappa: 0.1}, rand.NewPCG(1, 1), &LanczosSettings{MaxIter: 300}); err != nil {
			t.Fatal(err)
		}
		return sol, vals
	}
	s1, v1 := run(1)
	s2, v2 := run(2)
	if !floats.Equal(s1, s2) {
		t.Error("Woodbury solve depends on GOMAXPROCS")
	}
	if !floats.Equal(v1, v2) {
		t.Error("Lanczos depends on GOMAXPROCS")
	}
}
