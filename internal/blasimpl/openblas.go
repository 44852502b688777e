//go:build openblas && cgo

package blasimpl

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
	"gonum.org/v1/netlib/blas/netlib"
)

// OpenBLAS reports whether blas64 is routed to OpenBLAS (true in the openblas build).
const OpenBLAS = true

func init() {
	C.openblas_set_num_threads(1)
	blas64.Use(Implementation{})
	spareThreads(2*runtime.GOMAXPROCS(0) + 4)
}

// spareThreads makes the Go runtime create n OS threads now and keep them idle.
//
// A cgo call longer than a few tens of µs (any sizeable dgemm) lets the runtime hand the
// caller's P to another thread; when no idle thread exists it creates one, and creating a
// thread makes a handful of heap allocations. Without spare threads, steady-state loops
// that are allocation-free in the default build would allocate now and then in this one.
// Each goroutine below locks itself to a thread and blocks, which makes the runtime start
// a new thread for the P it leaves; once they unlock and return, the threads stay idle in
// the runtime's pool (Go never destroys an idle thread).
func spareThreads(n int) {
	var started sync.WaitGroup
	release := make(chan struct{})
	var done sync.WaitGroup
	for range n {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			runtime.LockOSThread()
			started.Done()
			<-release
			runtime.UnlockOSThread()
		}()
	}
	started.Wait()
	close(release)
	done.Wait()
}

// Implementation is the BLAS of the openblas build: the Level 3 routines (matrix–matrix:
// Dgemm, Dsymm, Dsyrk, Dsyr2k, Dtrmm, Dtrsm), where OpenBLAS is several times faster, call
// OpenBLAS through gonum.org/v1/netlib; Level 1 and 2 (vector and matrix–vector, bound by
// memory bandwidth, where a cgo call costs more than gonum's assembly on short vectors)
// stay gonum's pure-Go routines, which also keeps their rounding that of the default build.
type Implementation struct {
	gonum.Implementation
}

var ob netlib.Implementation

// Dgemm computes C = α op(A) op(B) + β C with OpenBLAS.
func (Implementation) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	ob.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dsymm computes C = α A B + β C (or α B A + β C) for symmetric A with OpenBLAS.
func (Implementation) Dsymm(s blas.Side, ul blas.Uplo, m, n int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	ob.Dsymm(s, ul, m, n, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dsyrk computes C = α A Aᵀ + β C (or α Aᵀ A + β C) with OpenBLAS.
func (Implementation) Dsyrk(ul blas.Uplo, t blas.Transpose, n, k int, alpha float64, a []float64, lda int, beta float64, c []float64, ldc int) {
	ob.Dsyrk(ul, t, n, k, alpha, a, lda, beta, c, ldc)
}

// Dsyr2k computes C = α A Bᵀ + α B Aᵀ + β C (or the transposed form) with OpenBLAS.
func (Implementation) Dsyr2k(ul blas.Uplo, t blas.Transpose, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	ob.Dsyr2k(ul, t, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dtrmm computes B = α op(A) B (or α B op(A)) for triangular A with OpenBLAS.
func (Implementation) Dtrmm(s blas.Side, ul blas.Uplo, tA blas.Transpose, d blas.Diag, m, n int, alpha float64, a []float64, lda int, b []float64, ldb int) {
	ob.Dtrmm(s, ul, tA, d, m, n, alpha, a, lda, b, ldb)
}

// Dtrsm solves op(A) X = α B (or X op(A) = α B) for triangular A with OpenBLAS.
func (Implementation) Dtrsm(s blas.Side, ul blas.Uplo, tA blas.Transpose, d blas.Diag, m, n int, alpha float64, a []float64, lda int, b []float64, ldb int) {
	ob.Dtrsm(s, ul, tA, d, m, n, alpha, a, lda, b, ldb)
}

// Name describes the BLAS behind blas64, e.g. "OpenBLAS 0.3.21 (Cooperlake kernels, 1
// thread) for Level 3, gonum for Level 1–2".
func Name() string {
	return fmt.Sprintf("%s (%s kernels, %d thread) for Level 3, gonum for Level 1–2", version(), C.GoString(C.openblas_get_corename()), Threads())
}

// Threads returns the number of threads OpenBLAS uses for one call (1 unless changed by
// another caller of openblas_set_num_threads).
func Threads() int { return int(C.openblas_get_num_threads()) }

// version returns the first words of openblas_get_config, "OpenBLAS 0.3.21".
func version() string {
	cfg := C.GoString(C.openblas_get_config())
	n, spaces := 0, 0
	for n < len(cfg) {
		if cfg[n] == ' ' {
			spaces++
			if spaces == 2 {
				break
			}
		}
		n++
	}
	return cfg[:n]
}
