//go:build openblas

package linalg

// In the openblas build, blas64 — and with it gonum's mat and lapack, on which this
// package's dense algebra rests — runs on OpenBLAS, one thread per call (see
// internal/blasimpl). Results stay reproducible for a given seed whatever GOMAXPROCS is.
import _ "github.com/sgdprior/sgdprior/internal/blasimpl"
