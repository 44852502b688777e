package model

// The products of gonum's mat and LAPACK that this package makes (through blas64) run on
// the BLAS that internal/blasimpl selects for the whole process: in the default build,
// gonum's with Dgemm and Dsyrk on internal/kernel's GEMM where the CPU has AVX2 and FMA; in
// the openblas build, OpenBLAS with one thread per call, which internal/kernel's large
// products also use where its assembly micro-kernel does not run. The import is here so
// that the BLAS in use does not depend on which other packages a program imports.
import _ "github.com/sgdprior/sgdprior/internal/blasimpl"
