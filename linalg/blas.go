package linalg

// blas64 — and with it gonum's mat and lapack, on which this package's dense algebra rests —
// runs on the BLAS that internal/blasimpl selects for the whole process: in the default
// build gonum's, with Dgemm and Dsyrk on internal/kernel's GEMM where the CPU has AVX2 and
// FMA; in the openblas build OpenBLAS, one thread per call. The import is here so that the
// speed of this package's factorisations does not depend on which other packages a program
// imports. Results stay reproducible for a given seed whatever GOMAXPROCS is.
import _ "github.com/sgdprior/sgdprior/internal/blasimpl"
