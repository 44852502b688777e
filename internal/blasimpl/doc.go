// Package blasimpl selects the BLAS implementation behind gonum's blas64, which every
// gonum matrix operation (mat, lapack) and sgdprior's own dense linear algebra call.
//
// This package is the one place that decides the process's BLAS: it calls blas64.Use and
// lapack64.Use at init, and no other package does. The packages
// whose speed rests on blas64 (linalg, model) import it for effect, so that the BLAS in use
// is the same whatever else a program imports.
//
// Default build: the binary needs no cgo; blas64 is gonum's pure-Go implementation with
// Dgemm and Dsyrk on internal/kernel's packed GEMM (kernel.BLAS) where the CPU has AVX2 and
// FMA (and the purego build tag is not set), plain gonum elsewhere (kernel.BLAS also takes
// Dsyr2k and Dsymv, the products of the tridiagonal reduction); lapack64 is gonum's LAPACK
// with the symmetric eigendecomposition (Dsyev with vectors) by internal/eigen's divide and
// conquer (lapack64.Use at init).
//
// With the build tag openblas (cgo and Debian's libopenblas-dev required), importing this
// package routes blas64's Level 3 routines (Dgemm, Dsymm, Dsyrk, Dsyr2k, Dtrmm, Dtrsm, on
// which gonum's LAPACK blocks its factorisations) to OpenBLAS through gonum.org/v1/netlib
// (blas64.Use at init), keeps gonum's Level 1–2 routines (memory-bound; a cgo call costs
// more than they do on short vectors), routes lapack64's Cholesky factorisations and
// symmetric eigendecomposition to OpenBLAS's LAPACK (dpotrf, dpstrf, dsyevd; lapack64.Use at
// init; see Lapack), and sets OpenBLAS to one thread
// (openblas_set_num_threads(1)). sgdprior parallelises across
// goroutines itself (simulation chains, slabs of large products), so each goroutine runs
// its own single-threaded BLAS call: no oversubscription of the cores, and a BLAS call's
// result depends only on its arguments, never on how many threads OpenBLAS would have
// chosen, which keeps results reproducible for a given seed whatever GOMAXPROCS is. The
// openblas build is not bitwise equal to the default one (different kernels round
// differently); each build is reproducible on its own.
//
// In the openblas build internal/kernel's own GEMM sends its large products to blas64 (so to
// OpenBLAS) where its assembly micro-kernel does not run (internal/kernel/gemm_openblas.go).
// internal/kernel does not import this package (this package imports it in the default
// build); its importers do.
package blasimpl
