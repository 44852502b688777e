// Package blasimpl selects the BLAS implementation behind gonum's blas64, which every
// gonum matrix operation (mat, lapack) and sgdprior's own dense linear algebra call.
//
// Default build: this package changes nothing and the binary needs no cgo; blas64 keeps
// gonum's pure-Go implementation, except that internal/kernel (imported by package model),
// where the CPU has AVX2 and FMA, routes Dgemm and Dsyrk to its own packed GEMM
// (internal/kernel/ownblas.go).
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
// Packages whose speed rests on blas64 (model, linalg) import this package from a file
// that only the openblas build compiles, so a binary built with -tags openblas uses
// OpenBLAS throughout.
package blasimpl
