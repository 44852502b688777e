//go:build openblas && cgo

package blasimpl

/*
#include <stddef.h>
#include <stdlib.h>
// LAPACK's Fortran interface as OpenBLAS exports it (gfortran calling convention: every
// argument by reference, a hidden length after the character arguments).
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t luplo);
void dpstrf_(const char *uplo, const int *n, double *a, const int *lda, int *piv, int *rank,
	const double *tol, double *work, int *info, size_t luplo);
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
	double *work, const int *lwork, int *iwork, const int *liwork, int *info, size_t ljobz, size_t luplo);
*/
import "C"

import (
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/lapack/lapack64"
)

func init() {
	lapack64.Use(Lapack{})
}

// Lapack is the LAPACK of the openblas build: the Cholesky factorisations, without and with
// complete pivoting (Dpotrf, Dpstrf; the O(n³) steps behind the damped Woodbury inverse and
// the numerical rank of a Gram matrix), and the symmetric eigendecomposition (Dsyev, by
// LAPACK's divide-and-conquer dsyevd: behind mat.EigenSym, the range pseudo-inverse and the
// dense solver) call OpenBLAS's LAPACK, several times faster at n in the thousands than
// gonum's routines on OpenBLAS's Level 3; everything else is gonum's.
//
// Row-major storage is column-major storage of the transpose, so for a symmetric matrix
// the upper triangle in gonum's convention is the lower triangle in LAPACK's: the calls
// below flip uplo, and the factor lands where gonum expects it.
type Lapack struct {
	gonum.Implementation
}

func flip(ul blas.Uplo) *C.char {
	switch ul {
	case blas.Upper:
		return C.CString("L")
	case blas.Lower:
		return C.CString("U")
	}
	panic("blasimpl: bad uplo")
}

// Dpotrf computes the Cholesky factorisation of the symmetric positive definite a (the
// triangle ul), in place, as gonum's Dpotrf; it reports false when a is not positive
// definite.
func (Lapack) Dpotrf(ul blas.Uplo, n int, a []float64, lda int) bool {
	if n < 0 || lda < max(1, n) || (n > 0 && len(a) < lda*(n-1)+n) {
		panic("blasimpl: Dpotrf: bad dimensions")
	}
	if n == 0 {
		return true
	}
	u := flip(ul)
	defer C.free(unsafe.Pointer(u))
	cn, clda := C.int(n), C.int(lda)
	var info C.int
	C.dpotrf_(u, &cn, (*C.double)(&a[0]), &clda, &info, 1)
	if info < 0 {
		panic("blasimpl: Dpotrf: bad argument")
	}
	return info == 0
}

// Dpstrf computes the Cholesky factorisation with complete pivoting of the positive
// semidefinite a, as gonum's Dpstrf: piv (0-based) holds P with P[piv[k], k] = 1, and it
// returns the computed rank and whether it is full.
func (Lapack) Dpstrf(ul blas.Uplo, n int, a []float64, lda int, piv []int, tol float64, work []float64) (rank int, ok bool) {
	if n < 0 || lda < max(1, n) || len(piv) != n || len(work) < 2*n || (n > 0 && len(a) < lda*(n-1)+n) {
		panic("blasimpl: Dpstrf: bad dimensions")
	}
	if n == 0 {
		return 0, true
	}
	u := flip(ul)
	defer C.free(unsafe.Pointer(u))
	cn, clda := C.int(n), C.int(lda)
	ctol := C.double(tol)
	cpiv := make([]C.int, n)
	var crank, info C.int
	C.dpstrf_(u, &cn, (*C.double)(&a[0]), &clda, &cpiv[0], &crank, &ctol, (*C.double)(&work[0]), &info, 1)
	if info < 0 {
		panic("blasimpl: Dpstrf: bad argument")
	}
	for k, p := range cpiv {
		piv[k] = int(p) - 1
	}
	return int(crank), info == 0
}

// Dsyev computes the eigenvalues (ascending, into w) and, with jobz = lapack.EVCompute, the
// orthonormal eigenvectors (the columns of a) of the symmetric a, as gonum's Dsyev, by
// LAPACK's dsyevd. lwork = −1 is a workspace query; the length returned is gonum's minimum,
// and dsyevd's larger workspace is allocated for the call when work is shorter.
func (Lapack) Dsyev(jobz lapack.EVJob, ul blas.Uplo, n int, a []float64, lda int, w, work []float64, lwork int) bool {
	if n < 0 || lda < max(1, n) || (jobz != lapack.EVNone && jobz != lapack.EVCompute) {
		panic("blasimpl: Dsyev: bad arguments")
	}
	if lwork == -1 {
		work[0] = float64(max(1, 3*n-1))
		return true
	}
	if len(w) < n || (n > 0 && len(a) < lda*(n-1)+n) || len(work) < max(1, lwork) {
		panic("blasimpl: Dsyev: short slices")
	}
	if n == 0 {
		return true
	}
	// dsyevd wants its own (larger) workspace and an integer one.
	lw, liw := syevdWork(jobz, n), syevdIWork(jobz, n)
	wk := work
	if len(wk) < lw {
		wk = make([]float64, lw)
	}
	iw := make([]C.int, liw)
	u := flip(ul)
	defer C.free(unsafe.Pointer(u))
	jz := C.CString(string(rune(jobz)))
	defer C.free(unsafe.Pointer(jz))
	cn, clda, clw, cliw := C.int(n), C.int(lda), C.int(lw), C.int(liw)
	var info C.int
	C.dsyevd_(jz, u, &cn, (*C.double)(&a[0]), &clda, (*C.double)(&w[0]), (*C.double)(&wk[0]), &clw, &iw[0], &cliw, &info, 1, 1)
	if info < 0 {
		panic("blasimpl: Dsyev: bad argument")
	}
	if info > 0 {
		return false
	}
	if jobz == lapack.EVCompute {
		// LAPACK's eigenvector columns are rows in row-major order: transpose the n×n block.
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				a[i*lda+j], a[j*lda+i] = a[j*lda+i], a[i*lda+j]
			}
		}
	}
	return true
}

// syevdWork and syevdIWork are dsyevd's minimal workspace lengths (LAPACK's documentation).
func syevdWork(jobz lapack.EVJob, n int) int {
	if n <= 1 {
		return 1
	}
	if jobz == lapack.EVCompute {
		return 1 + 6*n + 2*n*n
	}
	return 2*n + 1
}

func syevdIWork(jobz lapack.EVJob, n int) int {
	if jobz == lapack.EVCompute && n > 1 {
		return 3 + 5*n
	}
	return 1
}
