//go:build !openblas

package blasimpl

import (
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
)

// OpenBLAS reports whether blas64 is routed to OpenBLAS (true in the openblas build).
const OpenBLAS = false

// Name describes the BLAS behind blas64: gonum's, possibly with Dgemm and Dsyrk taken over
// by internal/kernel's GEMM (internal/kernel/ownblas.go), which registers a type of its own.
func Name() string {
	if _, ok := blas64.Implementation().(gonum.Implementation); ok {
		return "gonum (pure Go)"
	}
	return "gonum (pure Go), Dgemm and Dsyrk by sgdprior's AVX2 GEMM"
}

// Threads returns the number of threads a BLAS call may use: 0 in the default build, where
// the products split themselves across GOMAXPROCS goroutines.
func Threads() int { return 0 }
