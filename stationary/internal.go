package stationary

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
)

func errEigen(what string) error {
	return fmt.Errorf("stationary: eigendecomposition of %s failed to converge", what)
}

// checkFinite is linalg.CheckFinite with stationary's prefix.
func checkFinite(what string, ms ...mat.Matrix) error {
	if err := linalg.CheckFinite(what, ms...); err != nil {
		return fmt.Errorf("stationary: %w", err)
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
