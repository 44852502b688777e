//go:build !openblas

package kernel

import (
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// BLAS is gonum's BLAS with Dgemm and Dsyrk computed by GemmCtx.Gemm: four to eight times
// faster than gonum's pure-Go routines where the AVX2+FMA micro-kernel runs (HasAsm), for
// the matrix products under gonum's mat and LAPACK (the Cholesky factorisations of linalg
// and score, the Gram matrices of gradients given as a matrix); the other routines stay
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
	switch {
	case ul != blas.Upper && ul != blas.Lower:
		panic("kernel: Dsyrk: bad uplo")
	case t != blas.NoTrans && t != blas.Trans && t != blas.ConjTrans:
		panic("kernel: Dsyrk: bad transpose")
	case n < 0 || k < 0:
		panic("kernel: Dsyrk: negative dimension")
	}
	tr := t != blas.NoTrans
	ar, ac := n, k
	if tr {
		ar, ac = k, n
	}
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
		// Only the triangle is scaled by β.
		scaleRows(c, ldc, n, beta, func(i int) (int, int) {
			if ul == blas.Lower {
				return 0, i + 1
			}
			return i, n
		})
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
		for i := 0; i < bs; i++ {
			lo, hi := i, bs
			if ul == blas.Lower {
				lo, hi = 0, i+1
			}
			crow := c[(i0+i)*ldc+i0:]
			for j := lo; j < hi; j++ {
				if beta == 0 {
					crow[j] = buf[i*bs+j]
				} else {
					crow[j] = buf[i*bs+j] + beta*crow[j]
				}
			}
		}
	}
}
