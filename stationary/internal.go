package stationary

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

func errEigen(what string) error {
	return fmt.Errorf("stationary: eigendecomposition of %s failed to converge", what)
}

// checkFinite returns an error naming what when a matrix holds a NaN or an infinity.
// Nil matrices are skipped.
func checkFinite(what string, ms ...mat.Matrix) error {
	for _, m := range ms {
		if m == nil {
			continue
		}
		r, c := m.Dims()
		for i := 0; i < r; i++ {
			for j := 0; j < c; j++ {
				if v := m.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
					return fmt.Errorf("stationary: %s: input matrix has a non-finite entry %g at (%d, %d)", what, v, i, j)
				}
			}
		}
	}
	return nil
}

// reuseSym makes dst n×n, panicking if it is non-empty with another dimension.
func reuseSym(dst *mat.SymDense, n int) {
	if dst.IsEmpty() {
		dst.ReuseAsSym(n)
		return
	}
	if dst.SymmetricDim() != n {
		panic("stationary: destination has wrong shape")
	}
}

func maxAbs(x []float64) float64 {
	var m float64
	for _, v := range x {
		m = max(m, math.Abs(v))
	}
	return m
}
