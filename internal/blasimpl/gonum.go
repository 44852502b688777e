//go:build !openblas

package blasimpl

import (
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"

	"github.com/sgdprior/sgdprior/internal/eigen"
	"github.com/sgdprior/sgdprior/internal/kernel"
)

// OpenBLAS reports whether blas64 is routed to OpenBLAS (true in the openblas build).
const OpenBLAS = false

// In the default build, blas64's Dgemm and Dsyrk go to internal/kernel's packed GEMM
// (kernel.BLAS) where its AVX2+FMA micro-kernel runs, four to eight times faster than
// gonum's pure-Go routines; the other routines, and all of them elsewhere, stay gonum's.
// lapack64's symmetric eigendecomposition with vectors (Dsyev, behind every mat.EigenSym)
// is internal/eigen's divide and conquer, many times faster at n in the thousands than
// gonum's QR iteration; the rest of lapack64 stays gonum's.
func init() {
	if kernel.HasAsm() {
		blas64.Use(kernel.BLAS{})
	}
	lapack64.Use(eigen.Lapack{})
}

// Name describes the BLAS behind blas64: gonum's, possibly with Dgemm and Dsyrk taken over
// by internal/kernel's GEMM (see init).
func Name() string {
	if _, ok := blas64.Implementation().(kernel.BLAS); ok {
		return "gonum (pure Go), Dgemm and Dsyrk by sgdprior's AVX2 GEMM"
	}
	return "gonum (pure Go)"
}

// Threads returns the number of threads a BLAS call may use: 0 in the default build, where
// the products split themselves across GOMAXPROCS goroutines.
func Threads() int { return 0 }
