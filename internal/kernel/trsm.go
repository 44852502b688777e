package kernel

import (
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// trsmCtxs holds the GEMM contexts of concurrent TrsmLeft calls.
var trsmCtxs = sync.Pool{New: func() any { return new(GemmCtx) }}

// trsmBlock is the order of Dtrsm's diagonal blocks.
const trsmBlock = 128

// TrsmLeft solves op(A) X = α B for X, overwriting B (m×n, row-major, leading dimension
// ldb), A the m×m triangle ul (leading dimension lda; unit diagonal when d is blas.Unit),
// as BLAS dtrsm with side Left, in both builds (blas64's Dtrsm is not replaced: the
// factorisations and solves of gonum's LAPACK keep their bits). It is blocked: B is
// scaled by α, then each diagonal block of op(A) in the order of the substitution
// (forward for a lower op(A), backward for an upper one) is solved by gonum's Dtrsm, and
// the rows of B not yet solved are updated by one GemmCtx.Gemm with the block column of
// op(A) below (or above) it: B_j ← B_j − op(A)_jk X_k. A is read once, in products that run
// on both cores, where gonum's Dtrsm makes one axpy pass over B per row of A (and Dtrsv, one
// right-hand side at a time, reads all of A per column: for the 8192² factor of score's
// preconditioner, 0.27 GB from memory per column). Orders up to trsmBlock are gonum's Dtrsm.
func TrsmLeft(ul blas.Uplo, tA blas.Transpose, d blas.Diag, m, n int, alpha float64, a []float64, lda int, b []float64, ldb int) {
	var impl gonum.Implementation
	if m <= trsmBlock || n == 0 {
		impl.Dtrsm(blas.Left, ul, tA, d, m, n, alpha, a, lda, b, ldb)
		return
	}
	switch {
	case ul != blas.Upper && ul != blas.Lower:
		panic("kernel: Dtrsm: bad uplo")
	case tA != blas.NoTrans && tA != blas.Trans && tA != blas.ConjTrans:
		panic("kernel: Dtrsm: bad transpose")
	case d != blas.Unit && d != blas.NonUnit:
		panic("kernel: Dtrsm: bad diag")
	case n < 0:
		panic("kernel: Dtrsm: negative dimension")
	case lda < max(1, m) || ldb < max(1, n):
		panic("kernel: Dtrsm: bad leading dimension")
	case len(a) < lda*(m-1)+m || len(b) < ldb*(m-1)+n:
		panic("kernel: Dtrsm: short slice")
	}
	if alpha != 1 {
		scaleRows(b, ldb, m, alpha, func(int) (int, int) { return 0, n })
		if alpha == 0 {
			return
		}
	}
	tr := tA != blas.NoTrans
	// op(A) is lower triangular for (Lower, NoTrans) and (Upper, Trans): forward substitution.
	forward := (ul == blas.Lower) != tr
	nb := (m + trsmBlock - 1) / trsmBlock
	g := trsmCtxs.Get().(*GemmCtx)
	defer trsmCtxs.Put(g)
	for step := 0; step < nb; step++ {
		k := step
		if !forward {
			k = nb - 1 - step
		}
		k0, k1 := k*trsmBlock, min((k+1)*trsmBlock, m)
		kb := k1 - k0
		impl.Dtrsm(blas.Left, ul, tA, d, kb, n, 1, a[k0*lda+k0:], lda, b[k0*ldb:], ldb)
		// The rows still to solve: below the block (forward) or above it (backward).
		r0, r1 := k1, m
		if !forward {
			r0, r1 = 0, k0
		}
		if r0 == r1 {
			continue
		}
		// op(A)[r0:r1, k0:k1] is A[r0:r1, k0:k1], or A[k0:k1, r0:r1]ᵀ when transposed.
		off := r0*lda + k0
		if tr {
			off = k0*lda + r0
		}
		g.Gemm(tr, false, r1-r0, n, kb, -1, a[off:], lda, b[k0*ldb:], ldb, 1, b[r0*ldb:], ldb)
	}
}
