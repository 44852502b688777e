// Package eigen is sgdprior's pure-Go symmetric eigensolver: the dense matrix reduced to
// tridiagonal form (gonum's blocked Dsytrd), the tridiagonal eigenproblem solved by Cuppen's
// divide and conquer with deflation and Gu–Eisenstat's recomputation of the rank-one
// update vector (Tridiag), and the eigenvectors carried back by the blocked application of
// the Householder reflectors (gonum's Dormqr, products by blas64.Dgemm). docs/MATH.md §14
// states the method.
//
// Its cost is a few matrix products of size n plus O(n²) work: at n in the thousands many
// times faster than gonum's Dsyev, whose QR iteration applies O(n²) Givens rotations of
// length n one at a time. Package internal/blasimpl routes lapack64's Dsyev to Dsyev here in
// the default build, so every mat.EigenSym of the process uses it.
//
// The two halves of each split run in separate goroutines where they are large, and the
// products are internal/kernel's parallel GEMM; every operation's result depends only on its
// arguments, never on the number of threads, so the eigenpairs are bitwise the same
// whatever GOMAXPROCS is.
package eigen

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/gonum"
)

// Lapack is gonum's LAPACK with Dsyev computed by this package: the eigenvectors (jobz =
// lapack.EVCompute) by divide and conquer (Dsyev), the values only (lapack.EVNone) by
// gonum's blocked reduction and Dsterf whatever the caller's workspace (Values); every other
// routine stays gonum's.
type Lapack struct {
	gonum.Implementation
}

// Dsyev computes the eigenvalues (ascending, into w) and, with jobz = lapack.EVCompute, the
// orthonormal eigenvectors (the columns of a) of the symmetric n×n a given by its triangle
// uplo, as gonum's Dsyev. lwork = −1 is a workspace query (gonum's length); the divide and
// conquer allocates its own O(n²) workspace. It reports false if the eigensolver of a small
// subproblem (gonum's Dsteqr) does not converge or a holds a NaN or an infinity.
func (impl Lapack) Dsyev(jobz lapack.EVJob, uplo blas.Uplo, n int, a []float64, lda int, w, work []float64, lwork int) bool {
	switch {
	case jobz != lapack.EVCompute && jobz != lapack.EVNone:
		panic("eigen: Dsyev: bad jobz")
	case uplo != blas.Upper && uplo != blas.Lower:
		panic("eigen: Dsyev: bad uplo")
	case n < 0:
		panic("eigen: Dsyev: negative dimension")
	case lda < max(1, n):
		panic("eigen: Dsyev: bad leading dimension")
	case lwork < max(1, 3*n-1) && lwork != -1:
		panic("eigen: Dsyev: short work")
	case len(work) < max(1, lwork):
		panic("eigen: Dsyev: short work slice")
	}
	if lwork == -1 {
		return impl.Implementation.Dsyev(jobz, uplo, n, a, lda, w, work, lwork)
	}
	if n == 0 {
		return true
	}
	if len(a) < lda*(n-1)+n || len(w) < n {
		panic("eigen: Dsyev: short slice")
	}
	if jobz == lapack.EVNone {
		return Values(uplo, n, a, lda, w)
	}
	return Dsyev(uplo, n, a, lda, w)
}

// Values computes the eigenvalues of the symmetric n×n a (its triangle uplo; overwritten)
// into w[:n], ascending: the reduction of Dsyev with its optimal (blocked) workspace, then
// gonum's root-free QR iteration on T (Dsterf, O(n²)). It reports false if Dsterf does not
// converge or a holds a NaN or an infinity. Unlike gonum's Dsyev it does not fall back to
// the unblocked reduction when the caller's workspace is short.
func Values(uplo blas.Uplo, n int, a []float64, lda int, w []float64) bool {
	if n == 0 {
		return true
	}
	var impl gonum.Implementation
	scale := scaleSafe(uplo, n, a, lda)
	if math.IsNaN(scale) {
		return false
	}
	d := w[:n]
	e := make([]float64, max(n-1, 1))
	tau := make([]float64, max(n-1, 1))
	wk := make([]float64, 1)
	impl.Dsytrd(uplo, n, a, lda, d, e, tau, wk, -1)
	wk = make([]float64, max(1, int(wk[0])))
	impl.Dsytrd(uplo, n, a, lda, d, e, tau, wk, len(wk))
	// T scaled by a power of two (exactly) to max-norm in [1/2, 1): Dsterf then never
	// rescales itself (gonum's Dsterf panics in that rescaling for tiny T).
	_, ex := math.Frexp(impl.Dlanst(lapack.MaxAbs, n, d, e))
	for i := range d {
		d[i] = math.Ldexp(d[i], -ex)
	}
	for i := range e[:n-1] {
		e[i] = math.Ldexp(e[i], -ex)
	}
	if !impl.Dsterf(n, d, e) {
		return false
	}
	for i := range d {
		d[i] = math.Ldexp(d[i], ex)
	}
	if scale != 1 {
		for i := range d {
			d[i] /= scale
		}
	}
	return true
}

// scaleSafe scales a (its triangle uplo) into the range where the reduction neither
// overflows nor underflows, as gonum's Dsyev does, and returns the factor (1: unscaled; NaN
// when a holds a NaN or an infinity, and then a is not scaled).
func scaleSafe(uplo blas.Uplo, n int, a []float64, lda int) float64 {
	var impl gonum.Implementation
	smlnum := dlamchS / dlamchP
	bignum := 1 / smlnum
	rmin, rmax := math.Sqrt(smlnum), math.Sqrt(bignum)
	anrm := impl.Dlansy(lapack.MaxAbs, uplo, n, a, lda, nil)
	if math.IsNaN(anrm) || math.IsInf(anrm, 0) {
		return math.NaN()
	}
	scale := 1.0
	if anrm > 0 && anrm < rmin {
		scale = rmin / anrm
	} else if anrm > rmax {
		scale = rmax / anrm
	}
	if scale != 1 {
		kind := lapack.LowerTri
		if uplo == blas.Upper {
			kind = lapack.UpperTri
		}
		impl.Dlascl(kind, 0, 0, 1, scale, n, n, a, lda)
	}
	return scale
}

// Dsyev overwrites the symmetric n×n a (its triangle uplo) with its orthonormal eigenvectors
// (columns) and w[:n] with its eigenvalues, ascending: A = Q T Qᵀ by Dsytrd (on the lower triangle), T = Z Λ Zᵀ by
// Tridiag, eigenvectors Q Z by Dormqr (docs/MATH.md §14). It reports false if a
// subproblem's QR iteration does not converge or a holds a NaN or an infinity.
func Dsyev(uplo blas.Uplo, n int, a []float64, lda int, w []float64) bool {
	if n == 0 {
		return true
	}
	var impl gonum.Implementation
	if n == 1 {
		w[0] = a[0]
		a[0] = 1
		return !math.IsNaN(w[0]) && !math.IsInf(w[0], 0)
	}
	scale := scaleSafe(uplo, n, a, lda)
	if math.IsNaN(scale) {
		return false
	}
	// The reduction runs on the lower triangle (the reflectors then act on rows 1…n−1 as
	// a QR factor's, which Dormqr applies blocked); an upper triangle is mirrored first.
	if uplo == blas.Upper {
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				a[j*lda+i] = a[i*lda+j]
			}
		}
	}
	d := w[:n]
	e := make([]float64, n-1)
	tau := make([]float64, n-1)
	wk := make([]float64, 1)
	impl.Dsytrd(blas.Lower, n, a, lda, d, e, tau, wk, -1)
	lw := int(wk[0])
	z := make([]float64, n*n)
	impl.Dormqr(blas.Left, blas.NoTrans, n-1, n, n-1, a[lda:], lda, tau, z[n:], n, wk, -1)
	lw = max(lw, int(wk[0]))
	wk = make([]float64, lw)
	impl.Dsytrd(blas.Lower, n, a, lda, d, e, tau, wk, lw)
	if !Tridiag(n, d, e, z, n) {
		return false
	}
	// The eigenvectors of A are Q Z, Q = diag(1, H₀ H₁ ⋯ H_{n−2}) from the reflectors below
	// the subdiagonal.
	impl.Dormqr(blas.Left, blas.NoTrans, n-1, n, n-1, a[lda:], lda, tau, z[n:], n, wk, lw)
	for i := 0; i < n; i++ {
		copy(a[i*lda:i*lda+n], z[i*n:i*n+n])
	}
	if scale != 1 {
		for i := range d {
			d[i] /= scale
		}
	}
	return true
}

// dlamchS and dlamchP are LAPACK's safe minimum and precision (ε·base).
const (
	dlamchE = 1.0 / (1 << 53)
	dlamchP = 2 * dlamchE
	dlamchS = 0x1p-1022
)
