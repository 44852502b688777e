//go:build !openblas

package kernel

import (
	"math"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// BLAS is gonum's BLAS with Dgemm, Dsyrk and Dsyr2k computed by GemmCtx.Gemm: four to eight times
// faster than gonum's pure-Go routines where the AVX2+FMA micro-kernel runs (HasAsm), for
// the matrix products under gonum's mat and LAPACK (the Cholesky factorisations of linalg
// and score, the Gram matrices of gradients given as a matrix, the rank-2k updates of the
// blocked tridiagonal reduction Dsytrd behind the eigensolver); the other routines stay
// gonum's. Like every product of this package, its results do not depend on the number of
// threads. Package internal/blasimpl decides whether blas64 uses it (in the default build,
// where HasAsm); this package never registers it. The openblas build has no BLAS type.
type BLAS struct {
	gonum.Implementation
}

// gemmCtxs holds the GEMM contexts (packing space) of concurrent Dgemm calls.
var gemmCtxs = sync.Pool{New: func() any { return new(GemmCtx) }}

// Dgemm computes C = α op(A) op(B) + β C for row-major matrices, as BLAS dgemm.
func (BLAS) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	ta, tb := tA != blas.NoTrans, tB != blas.NoTrans
	// Argument checks as gonum's Dgemm makes them (a panic names the mistake).
	switch {
	case tA != blas.NoTrans && tA != blas.Trans && tA != blas.ConjTrans:
		panic("kernel: Dgemm: bad transpose")
	case tB != blas.NoTrans && tB != blas.Trans && tB != blas.ConjTrans:
		panic("kernel: Dgemm: bad transpose")
	case m < 0 || n < 0 || k < 0:
		panic("kernel: Dgemm: negative dimension")
	}
	ar, ac := m, k
	if ta {
		ar, ac = k, m
	}
	br, bc := k, n
	if tb {
		br, bc = n, k
	}
	switch {
	case lda < max(1, ac) || ldb < max(1, bc) || ldc < max(1, n):
		panic("kernel: Dgemm: bad leading dimension")
	case m == 0 || n == 0:
		return
	case ar > 0 && len(a) < lda*(ar-1)+ac, br > 0 && len(b) < ldb*(br-1)+bc, len(c) < ldc*(m-1)+n:
		panic("kernel: Dgemm: short slice")
	}
	if k == 0 || alpha == 0 {
		// gemm scales C by β and returns; only C is read.
		a, b = nil, nil
	}
	g := gemmCtxs.Get().(*GemmCtx)
	g.Gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	gemmCtxs.Put(g)
}

// syrkBlock is the number of rows of C per block of Dsyrk: the blocks off the diagonal are
// products written straight into C, the diagonal block goes through a buffer.
const syrkBlock = 96

// Dsyrk computes the triangle ul of C = α op(A) op(A)ᵀ + β C, op(A) = A (n×k) or Aᵀ (A k×n),
// as BLAS dsyrk: row blocks of C, the part off the diagonal block by gemm into C, the
// diagonal block by gemm into a buffer and added to the triangle. The other triangle is not
// touched.
func (BLAS) Dsyrk(ul blas.Uplo, t blas.Transpose, n, k int, alpha float64, a []float64, lda int, beta float64, c []float64, ldc int) {
	tr, ar, ac := syrkShape("Dsyrk", ul, t, n, k)
	switch {
	case lda < max(1, ac) || ldc < max(1, n):
		panic("kernel: Dsyrk: bad leading dimension")
	case n == 0:
		return
	case ar > 0 && len(a) < lda*(ar-1)+ac, len(c) < ldc*(n-1)+n:
		panic("kernel: Dsyrk: short slice")
	}
	// rows returns op(A)'s rows [i, …) as the A or B operand of gemm.
	rows := func(i int) []float64 {
		if tr {
			return a[i:]
		}
		return a[i*lda:]
	}
	g := gemmCtxs.Get().(*GemmCtx)
	defer gemmCtxs.Put(g)
	if k == 0 || alpha == 0 {
		scaleTriangle(ul, n, beta, c, ldc)
		return
	}
	buf := GrowBuf(g.w.syrk, syrkBlock*syrkBlock)
	g.w.syrk = buf
	for i0 := 0; i0 < n; i0 += syrkBlock {
		i1 := min(i0+syrkBlock, n)
		bs := i1 - i0
		// Off the diagonal block: columns [i1, n) (upper) or [0, i0) (lower).
		if ul == blas.Upper && i1 < n {
			g.Gemm(tr, !tr, bs, n-i1, k, alpha, rows(i0), lda, rows(i1), lda, beta, c[i0*ldc+i1:], ldc)
		}
		if ul == blas.Lower && i0 > 0 {
			g.Gemm(tr, !tr, bs, i0, k, alpha, rows(i0), lda, rows(0), lda, beta, c[i0*ldc:], ldc)
		}
		// The diagonal block: α op(A)_blk op(A)_blkᵀ into the buffer, then its triangle.
		g.Gemm(tr, !tr, bs, bs, k, alpha, rows(i0), lda, rows(i0), lda, 0, buf, bs)
		addTriangle(ul, bs, buf, beta, c[i0*ldc+i0:], ldc)
	}
}

// Dsyr2k computes the triangle ul of C = α op(A) op(B)ᵀ + α op(B) op(A)ᵀ + β C, op(X) = X
// (n×k) or Xᵀ (X k×n), as BLAS dsyr2k: row blocks of C as in Dsyrk, the part off the
// diagonal block by two gemm calls into C, the diagonal block by two gemm calls into a
// buffer and added to the triangle. The other triangle is not touched.
func (BLAS) Dsyr2k(ul blas.Uplo, t blas.Transpose, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	tr, ar, ac := syrkShape("Dsyr2k", ul, t, n, k)
	switch {
	case lda < max(1, ac) || ldb < max(1, ac) || ldc < max(1, n):
		panic("kernel: Dsyr2k: bad leading dimension")
	case n == 0:
		return
	case ar > 0 && (len(a) < lda*(ar-1)+ac || len(b) < ldb*(ar-1)+ac), len(c) < ldc*(n-1)+n:
		panic("kernel: Dsyr2k: short slice")
	}
	// rows returns op(X)'s rows [i, …) as the A or B operand of gemm.
	rows := func(x []float64, ldx, i int) []float64 {
		if tr {
			return x[i:]
		}
		return x[i*ldx:]
	}
	if k == 0 || alpha == 0 {
		scaleTriangle(ul, n, beta, c, ldc)
		return
	}
	g := gemmCtxs.Get().(*GemmCtx)
	defer gemmCtxs.Put(g)
	buf := GrowBuf(g.w.syrk, syrkBlock*syrkBlock)
	g.w.syrk = buf
	for i0 := 0; i0 < n; i0 += syrkBlock {
		i1 := min(i0+syrkBlock, n)
		bs := i1 - i0
		if ul == blas.Upper && i1 < n {
			g.Gemm(tr, !tr, bs, n-i1, k, alpha, rows(a, lda, i0), lda, rows(b, ldb, i1), ldb, beta, c[i0*ldc+i1:], ldc)
			g.Gemm(tr, !tr, bs, n-i1, k, alpha, rows(b, ldb, i0), ldb, rows(a, lda, i1), lda, 1, c[i0*ldc+i1:], ldc)
		}
		if ul == blas.Lower && i0 > 0 {
			g.Gemm(tr, !tr, bs, i0, k, alpha, rows(a, lda, i0), lda, rows(b, ldb, 0), ldb, beta, c[i0*ldc:], ldc)
			g.Gemm(tr, !tr, bs, i0, k, alpha, rows(b, ldb, i0), ldb, rows(a, lda, 0), lda, 1, c[i0*ldc:], ldc)
		}
		g.Gemm(tr, !tr, bs, bs, k, alpha, rows(a, lda, i0), lda, rows(b, ldb, i0), ldb, 0, buf, bs)
		g.Gemm(tr, !tr, bs, bs, k, alpha, rows(b, ldb, i0), ldb, rows(a, lda, i0), lda, 1, buf, bs)
		addTriangle(ul, bs, buf, beta, c[i0*ldc+i0:], ldc)
	}
}

// syrkShape checks the arguments Dsyrk and Dsyr2k share (named by routine) and returns
// whether op is the transpose and the shape ar×ac of the stored A (and B).
func syrkShape(routine string, ul blas.Uplo, t blas.Transpose, n, k int) (tr bool, ar, ac int) {
	switch {
	case ul != blas.Upper && ul != blas.Lower:
		panic("kernel: " + routine + ": bad uplo")
	case t != blas.NoTrans && t != blas.Trans && t != blas.ConjTrans:
		panic("kernel: " + routine + ": bad transpose")
	case n < 0 || k < 0:
		panic("kernel: " + routine + ": negative dimension")
	}
	tr = t != blas.NoTrans
	if tr {
		return tr, k, n
	}
	return tr, n, k
}

// scaleTriangle scales the triangle ul of the n×n C by β (the other triangle untouched).
func scaleTriangle(ul blas.Uplo, n int, beta float64, c []float64, ldc int) {
	scaleRows(c, ldc, n, beta, func(i int) (int, int) {
		if ul == blas.Lower {
			return 0, i + 1
		}
		return i, n
	})
}

// addTriangle writes the triangle ul of the bs×bs block buf (row-major, stride bs) plus β
// times the block into the diagonal block of C starting at c (stride ldc); β = 0 ignores
// what C held.
func addTriangle(ul blas.Uplo, bs int, buf []float64, beta float64, c []float64, ldc int) {
	for i := 0; i < bs; i++ {
		lo, hi := i, bs
		if ul == blas.Lower {
			lo, hi = 0, i+1
		}
		crow := c[i*ldc:]
		for j := lo; j < hi; j++ {
			if beta == 0 {
				crow[j] = buf[i*bs+j]
			} else {
				crow[j] = buf[i*bs+j] + beta*crow[j]
			}
		}
	}
}

// vecBufs holds the contiguous copies of strided vectors of concurrent Dsymv calls.
var vecBufs = sync.Pool{New: func() any { return new([]float64) }}

// Dsymv computes y = α A x + β y for the symmetric n×n A (its triangle ul), as BLAS dsymv:
// one pass over the triangle by rows, each row's dot product with x and its update of y by
// the vectorised Dot and AxpbyTo. Strided x and y (the columns of a row-major matrix that
// gonum's Dsytrd passes) are copied to contiguous buffers first; negative increments go to
// gonum's Dsymv.
func (impl BLAS) Dsymv(ul blas.Uplo, n int, alpha float64, a []float64, lda int, x []float64, incX int, beta float64, y []float64, incY int) {
	switch {
	case ul != blas.Upper && ul != blas.Lower:
		panic("kernel: Dsymv: bad uplo")
	case n < 0:
		panic("kernel: Dsymv: negative dimension")
	case lda < max(1, n):
		panic("kernel: Dsymv: bad leading dimension")
	case incX == 0 || incY == 0:
		panic("kernel: Dsymv: zero increment")
	}
	if n == 0 {
		return
	}
	if incX < 0 || incY < 0 {
		impl.Implementation.Dsymv(ul, n, alpha, a, lda, x, incX, beta, y, incY)
		return
	}
	if len(a) < lda*(n-1)+n || len(x) < (n-1)*incX+1 || len(y) < (n-1)*incY+1 {
		panic("kernel: Dsymv: short slice")
	}
	bp := vecBufs.Get().(*[]float64)
	defer vecBufs.Put(bp)
	buf := GrowBuf(*bp, 4*n)
	*bp = buf
	xv, yv := x[:n], y[:n]
	if incX != 1 {
		xv = buf[:n]
		for i := range xv {
			xv[i] = x[i*incX]
		}
	}
	if incY != 1 {
		yv = buf[n : 2*n]
		for i := range yv {
			yv[i] = y[i*incY]
		}
	}
	switch beta {
	case 0:
		clear(yv)
	case 1:
	default:
		ScaleTo(yv, beta, yv)
	}
	if alpha != 0 {
		// Two fixed row ranges of equal triangle area, each accumulated into its own buffer
		// (in parallel when large), then added in order: the same bits whatever GOMAXPROCS.
		r := int(float64(n) * (1 - 1/math.Sqrt2))
		if ul == blas.Lower {
			r = int(float64(n) / math.Sqrt2)
		}
		acc0, acc1 := buf[2*n:3*n], buf[3*n:4*n]
		clear(buf[2*n : 4*n])
		if n >= symvParMin {
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				symvRows(ul, n, a, lda, xv, acc1, r, n)
			}()
			symvRows(ul, n, a, lda, xv, acc0, 0, r)
			wg.Wait()
		} else {
			symvRows(ul, n, a, lda, xv, acc0, 0, r)
			symvRows(ul, n, a, lda, xv, acc1, r, n)
		}
		AxpbyTo(yv, alpha, acc0, 1, yv)
		AxpbyTo(yv, alpha, acc1, 1, yv)
	}
	if incY != 1 {
		for i, v := range yv {
			y[i*incY] = v
		}
	}
}

// symvParMin is the order from which Dsymv splits its rows between two goroutines.
const symvParMin = 192

// symvRows adds to acc the contribution of rows [lo, hi) of the triangle ul of the
// symmetric n×n A to A x: each row's dot product with x, and (the mirrored part) the row
// times its x component.
func symvRows(ul blas.Uplo, n int, a []float64, lda int, x, acc []float64, lo, hi int) {
	for i := lo; i < hi; i++ {
		xi := x[i]
		if ul == blas.Upper {
			row := a[i*lda+i+1 : i*lda+n]
			acc[i] += xi*a[i*lda+i] + Dot(row, x[i+1:])
			AxpbyTo(acc[i+1:], xi, row, 1, acc[i+1:])
		} else {
			row := a[i*lda : i*lda+i]
			acc[i] += Dot(row, x[:i]) + xi*a[i*lda+i]
			AxpbyTo(acc[:i], xi, row, 1, acc[:i])
		}
	}
}
