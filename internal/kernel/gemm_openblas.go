//go:build openblas

package kernel

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// In the openblas build (go build -tags openblas) products of at least blasMinWork
// multiply–adds can go to OpenBLAS's dgemm, through blas64, which internal/blasimpl routes
// to OpenBLAS with one thread per call (this package's users, model and the package's
// tests, import blasimpl; this package does not); smaller products always stay on the
// package's own GEMM, whose call overhead is lower. The hooks are at the top of
// gemmSerial, parallel, parallelSyrk and parJob.Work in gemm.go; the default build compiles
// them away (gemm_noblas.go).
//
// Where the AVX2+FMA micro-kernel runs (useAsm), the package's GEMM is as fast per core as
// OpenBLAS 0.3.21 (measured on a Zen 4 core: 2048³ NT 0.53 s against 0.58 s, and the
// mlp:128 products of BenchmarkBLASRoute within noise; OpenBLAS's AVX-512 kernels gain
// nothing on a core that splits 512-bit operations in two), so the route is off there and
// the model's results are bitwise those of the default build. It is on where the package
// would fall back to its portable Go kernel (the purego tag, CPUs without AVX2/FMA, other
// architectures), several times slower than OpenBLAS. BenchmarkBLASRoute compares both.
//
// Reproducibility. OpenBLAS's result for an element of C depends on the shape of the call
// and on where the element lies in it (its edge kernels and small-matrix paths round
// differently), so a product is always cut into the same tiles — a grid that depends only
// on (tA, tB, m, n, k) — and each tile is one dgemm call, whether the tiles run on the
// caller alone (GOMAXPROCS = 1, serialOnly) or are shared with the helper pool. With one
// OpenBLAS thread a call's result depends only on its arguments, so results are bitwise
// identical for any GOMAXPROCS. SyrkLower computes the tiles of the same grid that touch the
// lower triangle (square NT products use a square grid), so its lower triangle equals
// Gemm(false, true, …) bitwise, as in the default build.

// useBLAS routes large products to OpenBLAS: off where the AVX2+FMA kernel runs (see
// above). A variable, so that tests and benchmarks can compare both routes.
var useBLAS = !useAsm

// SetBLASRoute turns the route to OpenBLAS on or off and returns the previous setting
// (openblas build only), for tests and benchmarks that compare both routes. Not to be
// called while products run.
func SetBLASRoute(on bool) (old bool) {
	old, useBLAS = useBLAS, on
	return old
}

// blasMinWork is the number of multiply–adds m·n·k from which a product goes to OpenBLAS.
// Below it the call overhead (cgo, OpenBLAS's interface and buffer set-up, ~1 µs) is a
// noticeable fraction of the work, and the package's kernel is as fast per core.
const blasMinWork = parMinWork

// blasRoute reports whether the product m×n×k goes to OpenBLAS.
func blasRoute(m, n, k int) bool {
	return int64(m)*int64(n)*int64(k) >= blasMinWork
}

// blasGrid returns the tile grid of a product: rows cut into rt slabs, columns into ct.
// Products below parMinWork are one tile; square NT products (C = A Bᵀ with m = n, the
// shape SyrkLower shares) a square grid; others are cut along their longer side.
func blasGrid(tA, tB bool, m, n, k int) (rt, ct int) {
	switch {
	case int64(m)*int64(n)*int64(k) < parMinWork:
		return 1, 1
	case !tA && tB && m == n:
		t := taskCount(m)
		return t, t
	case m >= n:
		return taskCount(m), 1
	default:
		return 1, taskCount(n)
	}
}

// blasCut returns the start of slab s of t slabs along a side of length dim (s = t gives
// dim): slabs of equal length rounded up to a multiple of 8, the last one shorter.
func blasCut(dim, t, s int) int {
	if s >= t {
		return dim
	}
	slab := ((dim+t-1)/t + 7) / 8 * 8
	return min(dim, s*slab)
}

// blasTiles returns the number of tiles of a product: all of the grid, or with lower those
// on or below the diagonal of a square grid.
func blasTiles(tA, tB bool, m, n, k int, lower bool) int {
	rt, ct := blasGrid(tA, tB, m, n, k)
	if lower {
		return rt * (rt + 1) / 2
	}
	return rt * ct
}

// blasTile returns the rows [i0, i1) and columns [j0, j1) of tile t; lower tiles are
// numbered row by row along the lower triangle of the grid.
func blasTile(tA, tB bool, m, n, k int, lower bool, t int) (i0, i1, j0, j1 int) {
	rt, ct := blasGrid(tA, tB, m, n, k)
	var r, s int
	if lower {
		for r = 0; t > r; r++ {
			t -= r + 1
		}
		s = t
	} else {
		r, s = t/ct, t%ct
	}
	return blasCut(m, rt, r), blasCut(m, rt, r+1), blasCut(n, ct, s), blasCut(n, ct, s+1)
}

// blasTileProduct adds α op(A) op(B) to tile t of C.
func blasTileProduct(tA, tB bool, m, n, k int, lower bool, t int, alpha float64, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	i0, i1, j0, j1 := blasTile(tA, tB, m, n, k, lower, t)
	if tA {
		a = a[i0:]
	} else {
		a = a[i0*lda:]
	}
	if tB {
		b = b[j0*ldb:]
	} else {
		b = b[j0:]
	}
	blasProduct(tA, tB, i1-i0, j1-j0, k, alpha, a, lda, b, ldb, c[i0*ldc+j0:], ldc)
}

// blasProduct computes C += α op(A) op(B) in one BLAS call: dgemv for one row or column,
// exactly as gemm does for such shapes, dgemm otherwise.
func blasProduct(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	if matVec(tA, tB, m, n, k, alpha, a, lda, b, ldb, c, ldc) {
		return
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if tA {
		ta = blas.Trans
	}
	if tB {
		tb = blas.Trans
	}
	blas64.Implementation().Dgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, 1, c, ldc)
}

// blasSerial computes C += α op(A) op(B) (with lower, only the tiles touching the lower
// triangle of the square C) tile by tile on the calling goroutine.
func blasSerial(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, lower bool) {
	for t := range blasTiles(tA, tB, m, n, k, lower) {
		blasTileProduct(tA, tB, m, n, k, lower, t, alpha, a, lda, b, ldb, c, ldc)
	}
}

// blasParallel shares the tiles of C += α op(A) op(B) with idle helpers. It reports false
// (nothing done) for a product of one tile.
func (g *GemmCtx) blasParallel(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, lower bool) bool {
	nt := blasTiles(tA, tB, m, n, k, lower)
	if nt < 2 {
		return false
	}
	g.job.lower = lower
	g.run(nt, tA, tB, m, n, k, alpha, a, lda, b, ldb, c, ldc)
	return true
}

// blasWork runs tiles of the job until none is left.
func (j *parJob) blasWork() {
	for {
		t := int(j.next.Add(1)) - 1
		if t >= j.ntask {
			return
		}
		blasTileProduct(j.tA, j.tB, j.m, j.n, j.k, j.lower, t, j.alpha, j.a, j.lda, j.b, j.ldb, j.c, j.ldc)
	}
}
