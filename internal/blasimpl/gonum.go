//go:build !openblas

package blasimpl

// OpenBLAS reports whether blas64 is routed to OpenBLAS (true in the openblas build).
const OpenBLAS = false

// Name describes the BLAS behind blas64.
func Name() string { return "gonum (pure Go)" }

// Threads returns the number of threads a BLAS call may use: 0 in the default build, where
// gonum's pure-Go Dgemm splits large products across GOMAXPROCS goroutines of its own.
func Threads() int { return 0 }
