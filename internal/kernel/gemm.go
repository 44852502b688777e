package kernel

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// This file holds the matrix–matrix product every batched derivative of package model
// rests on: a packed, cache-blocked GEMM (Goto & van de Geijn 2008, "Anatomy of
// high-performance matrix multiplication"; the loop order of BLIS) around a 6×8
// register-blocked micro-kernel (AVX2+FMA assembly on amd64, portable Go elsewhere), and
// for small products (gemmDirect) strided 6×8 and 4×8 variants that read the operands in
// place where their layout allows.
//
// Why not gonum's Dgemm: on the machines sgdprior targets it runs at ~7 GFLOPS per core
// (SSE2 axpy/dot kernels, no packing; a transposed A operand is slower still), it allocates
// on every call that goes parallel, and it starts goroutines per call. This GEMM handles
// the four transpose cases at the same speed (transposition happens in packing), makes no
// allocations in steady state and uses a fixed pool of helper goroutines.
//
// Reproducibility: every element of C receives exactly the same sequence of floating-point
// operations (C ← βC, then for each block of gemmKC terms along k, in order,
// C ← fma(α, Σ_block, C), the block sum accumulated in order p = 0, 1, …) whatever the
// number of threads, the slab a thread is given and whether the element lies in an edge
// tile. So results are bitwise identical for any GOMAXPROCS.

const (
	gemmMR = 6    // rows of the micro-kernel tile
	gemmNR = 8    // columns of the micro-kernel tile
	gemmKC = 256  // depth of a packed panel (B micro-panel kc×nr stays in L1)
	gemmMC = 96   // rows of a packed A block (mc×kc stays in L2)
	gemmNC = 4096 // columns of a packed B block

	// parMinWork is the number of multiply–adds m·n·k from which a product is split
	// between threads; parMinSlab the smallest slab (rows or columns) a thread gets.
	parMinWork = 1 << 21
	parMinSlab = 96
	parMaxTask = 8
)

// serialOnly disables the helper pool (tests compare both paths).
var serialOnly bool

// SetSerialOnly switches the helper pool off (on = true) or back on, and returns the
// previous setting: while it is off, every product and every Task runs on its caller.
// Results are bitwise the same either way; tests use it to check that. Not to be called
// while products run.
func SetSerialOnly(on bool) (old bool) {
	old, serialOnly = serialOnly, on
	return old
}

// GemmWork is the packing space of one thread.
type GemmWork struct {
	apack, bpack []float64
	//lint:ignore U1000 used by BLAS.Dsyrk (ownblas.go), which the openblas build leaves out
	syrk []float64 // BLAS.Dsyrk's diagonal block
}

// GrowBuf returns s resliced to length n, or a new slice (contents lost) when its capacity
// is short.
func GrowBuf(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// GemmCtx is what a caller needs to run products: its own packing space and a
// preallocated descriptor for handing slabs to the helper pool. The zero value is ready for
// use; a GemmCtx must not be used by two goroutines at once.
type GemmCtx struct {
	w   GemmWork
	job parJob
}

// Gemm computes C = α op(A) op(B) + β C for row-major matrices: op(A) is m×k (A is m×k
// with leading dimension lda, or k×m when tA), op(B) is k×n (B is k×n, or n×k when tB),
// C is m×n with leading dimension ldc. β = 0 ignores the previous content of C (NaN
// included), as in BLAS.
func (g *GemmCtx) Gemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	// With β = 0 the packed kernel writes its first block instead of adding it to zeros
	// (the same bits: fma(α, Σ, +0) rounds α·Σ exactly as the product does), saving the
	// clearing pass; the other routes clear C first.
	store := beta == 0 && k > 0 && alpha != 0 && n > 1 && m > 1 && !(useBLAS && blasRoute(m, n, k))
	if !store {
		scaleRows(c, ldc, m, beta, func(int) (int, int) { return 0, n })
	}
	if k == 0 || alpha == 0 {
		return
	}
	// Matrix–vector shapes: the packed kernel would waste 7/8 of its lanes.
	if matVec(tA, tB, m, n, k, alpha, a, lda, b, ldb, c, ldc) {
		return
	}
	if int64(m)*int64(n)*int64(k) >= parMinWork && !serialOnly && Pool.Size() > 0 {
		if g.parallel(tA, tB, m, n, k, alpha, a, lda, b, ldb, c, ldc, store) {
			return
		}
	}
	gemmSerial(&g.w, tA, tB, m, n, k, alpha, a, lda, b, ldb, c, ldc, noDiag, store)
}

// scaleRows sets C ← βC on columns [lo, hi) = cols(i) of each row i < m (β = 0 ignores the
// old values, NaN included, as in BLAS; β = 1 does nothing).
func scaleRows(c []float64, ldc, m int, beta float64, cols func(i int) (lo, hi int)) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		lo, hi := cols(i)
		row := c[i*ldc+lo : i*ldc+hi]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// matVec computes C += α op(A) op(B) by one dgemv when op(B) has one column (n = 1) or
// op(A) one row (m = 1), and reports whether it did.
func matVec(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) bool {
	impl := blas64.Implementation()
	switch {
	case n == 1:
		// c[i] += α op(A)_i · op(B)_{:,0}
		incB := ldb
		if tB {
			incB = 1
		}
		if tA {
			impl.Dgemv(blas.Trans, k, m, alpha, a, lda, b, incB, 1, c, ldc)
		} else {
			impl.Dgemv(blas.NoTrans, m, k, alpha, a, lda, b, incB, 1, c, ldc)
		}
	case m == 1:
		// c_j += α Σ_p op(A)_{0,p} op(B)_{p,j}
		incA := 1
		if tA {
			incA = lda
		}
		if tB {
			impl.Dgemv(blas.NoTrans, n, k, alpha, b, ldb, a, incA, 1, c, 1)
		} else {
			impl.Dgemv(blas.Trans, k, n, alpha, b, ldb, a, incA, 1, c, 1)
		}
	default:
		return false
	}
	return true
}

// noDiag is the diag argument of gemmSerial that computes every tile.
const noDiag = math.MaxInt / 4

// gemmSerial computes C += α op(A) op(B) on the calling goroutine (k > 0), or C = α op(A)
// op(B) when store (C not read). Tiles lying entirely above the line j = i + diag (local
// coordinates) are skipped: diag = noDiag computes everything, diag = 0 the lower triangle
// (and the tiles straddling it).
func gemmSerial(w *GemmWork, tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, diag int, store bool) {
	if useBLAS && blasRoute(m, n, k) { // openblas build only (gemm_openblas.go)
		blasSerial(tA, tB, m, n, k, alpha, a, lda, b, ldb, c, ldc, diag == 0)
		return
	}
	if diag == noDiag && k <= gemmKC && n <= gemmNC && int64(m)*int64(n)*int64(k) <= directMaxWork && !noDirect {
		gemmDirect(w, tA, tB, m, n, k, alpha, a, lda, b, ldb, c, ldc, store, nil)
		return
	}
	for jc := 0; jc < n; jc += gemmNC {
		nc := min(gemmNC, n-jc)
		for pc := 0; pc < k; pc += gemmKC {
			kc := min(gemmKC, k-pc)
			bp := w.packB(tB, b, ldb, pc, jc, kc, nc)
			for ic := 0; ic < m; ic += gemmMC {
				mc := min(gemmMC, m-ic)
				if jc > ic+mc-1+diag {
					continue
				}
				ap := w.packA(tA, a, lda, ic, pc, mc, kc)
				macroKernel(mc, nc, kc, alpha, ap, bp, c[ic*ldc+jc:], ldc, diag+ic-jc, store && pc == 0)
			}
		}
	}
}

// directMaxWork is the largest product (multiply–adds) whose operands gemmDirect reads in
// place where their layout allows. For such small products (those of an SGD step of a small
// MLP) packing costs about as much as the multiply, and everything stays in cache.
const directMaxWork = 1 << 18

// noDirect makes every product pack its operands (tests compare both paths).
var noDirect bool

// gemmDirect is gemmSerial for a small product with k ≤ gemmKC and n ≤ gemmNC: a full panel
// of op(A) (6 rows: 6 columns of A when tA, 6 rows of A read with stride lda by the strided
// micro-kernel otherwise) and of op(B) = B (8 columns of B) is read in place, its rows being
// rows of the matrix (stride lda or ldb instead of 6 or 8); op(B) = Bᵀ and the partial panels
// at the edges are packed. The kernel does the same arithmetic on the same values either
// way, so results are bitwise those of the packed path.
func gemmDirect(w *GemmWork, tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, store bool, t []float64) {
	mFull, nFull := m/gemmMR*gemmMR, n/gemmNR*gemmNR
	// The rows of the full-width tiles read in place: [0, m6) in tiles of 6 rows, then
	// [m6, mIn) in tiles of 4 (a remainder of 4 rows, or of 2 rows with the last 6 before
	// it: 8 = 4 + 4). The rows [mIn, m) left (mIn = mFull then) go through the packed edge
	// panel aEdge of rows [mFull, m), as do the last rows of the edge columns.
	m6, m4 := mFull, 0
	switch m - mFull {
	case 4:
		m4 = 4
	case 2:
		if mFull > 0 {
			m6, m4 = mFull-gemmMR, 8
		}
	}
	mIn := m6 + m4
	var bp, aEdge []float64
	if mFull < m && (mIn < m || nFull < n) {
		aEdge = w.packA(tA, a, lda, mFull, 0, m-mFull, k)
	}
	if tB {
		bp = w.packB(true, b, ldb, 0, 0, k, n)
	}
	// The full-width tiles, a row of them per call: B panel q at b[8q:] (stride ldb) in
	// place or at bp[8qk:] (stride 8) packed.
	if nFull > 0 {
		bpan, sb, bstep := b, ldb, gemmNR
		if tB {
			bpan, sb, bstep = bp, gemmNR, gemmNR*k
		}
		for ir := 0; ir < mIn; {
			rows := gemmMR
			if ir >= m6 {
				rows = 4
			}
			var apan []float64
			sa, ra := 1, lda
			if tA {
				apan, sa, ra = a[ir:], lda, 1
			} else {
				apan = a[ir*lda:]
			}
			if t != nil {
				kernelSND(rows, k, apan, sa, ra, bpan, sb, bstep, nFull/gemmNR, c[ir*ldc:], ldc, alpha, t[ir*ldc:])
			} else {
				kernelSN(rows, k, apan, sa, ra, bpan, sb, bstep, nFull/gemmNR, c[ir*ldc:], ldc, alpha, store)
			}
			ir += rows
		}
	}
	// The edge tiles: rows [mIn, m) of the full-width columns, and every row of the last,
	// partial column panel (packed), in tiles of 6 rows and the packed edge panel.
	var tile [gemmMR * gemmNR]float64
	for jr := 0; jr < n; jr += gemmNR {
		cols := min(gemmNR, n-jr)
		ir0 := 0
		if cols == gemmNR {
			if mIn == m {
				continue
			}
			ir0 = mIn
		}
		bpan, sb := b[jr:], ldb
		switch {
		case tB:
			bpan, sb = bp[jr*k:], gemmNR
		case cols < gemmNR:
			bpan, sb = w.packB(false, b, ldb, 0, jr, k, cols), gemmNR
		}
		for ir := ir0; ir < m; ir += gemmMR {
			rows := min(gemmMR, m-ir)
			var apan []float64
			var sa, ra int
			switch {
			case rows < gemmMR:
				apan, sa, ra = aEdge, gemmMR, 1
			case tA:
				apan, sa, ra = a[ir:], lda, 1
			default:
				apan, sa, ra = a[ir*lda:], 1, lda
			}
			tileKernel(k, apan, sa, ra, bpan, sb, c[ir*ldc+jr:], ldc, rows, cols, alpha, store, &tile)
			if t != nil {
				mulTanhDeriv(c[ir*ldc+jr:], t[ir*ldc+jr:], ldc, rows, cols)
			}
		}
	}
}

// GemmTanhDeriv computes C = (α op(A) op(B)) ∘ (1 − T∘T) (β = 0: C is not read), T being
// m×n with C's leading dimension: bitwise Gemm(…, 0, c, ldc) followed by
// c[i·ldc+j] *= 1 − t[i·ldc+j]², the back-propagation through a tanh layer (t = tanh z).
// Products that gemmDirect runs apply the factor as each full tile is stored (the same
// operations: the stored α·Σ times 1 − t·t, each rounded, no fused multiply–add).
func (g *GemmCtx) GemmTanhDeriv(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, t []float64) {
	if m > 1 && n > 1 && k > 0 && alpha != 0 && !(useBLAS && blasRoute(m, n, k)) && k <= gemmKC && n <= gemmNC &&
		int64(m)*int64(n)*int64(k) <= directMaxWork && !noDirect {
		_ = t[(m-1)*ldc+n-1]
		gemmDirect(&g.w, tA, tB, m, n, k, alpha, a, lda, b, ldb, c, ldc, true, t)
		return
	}
	g.Gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, 0, c, ldc)
	mulTanhDeriv(c, t, ldc, m, n)
}

// mulTanhDeriv sets c[r·ld+s] *= 1 − t[r·ld+s]² for r < rows, s < cols, each operation
// rounded (the conversion keeps the compiler from fusing 1 − t·t, as the assembly does not).
func mulTanhDeriv(c, t []float64, ld, rows, cols int) {
	for r := 0; r < rows; r++ {
		cr := c[r*ld : r*ld+cols]
		tr := t[r*ld : r*ld+cols]
		for s, v := range tr {
			cr[s] *= 1 - float64(v*v)
		}
	}
}

// packA copies the mc×kc block of op(A) at (ic, pc) into row panels of gemmMR rows: element
// (r, p) of panel q is at q·gemmMR·kc + p·gemmMR + r. Rows past mc are zero.
func (w *GemmWork) packA(tA bool, a []float64, lda, ic, pc, mc, kc int) []float64 {
	np := (mc + gemmMR - 1) / gemmMR
	w.apack = GrowBuf(w.apack, np*gemmMR*kc)
	dst := w.apack
	for q := 0; q < np; q++ {
		pan := dst[q*gemmMR*kc : (q+1)*gemmMR*kc]
		i0 := ic + q*gemmMR
		rows := min(gemmMR, mc-q*gemmMR)
		if rows < gemmMR {
			clear(pan)
		}
		if tA {
			// op(A)[i, p] = a[p*lda + i]
			if rows == gemmMR {
				// Element-wise: a copy call per 6 elements costs more than the copy.
				for p := 0; p < kc; p++ {
					src := a[(pc+p)*lda+i0 : (pc+p)*lda+i0+gemmMR : (pc+p)*lda+i0+gemmMR]
					d := pan[p*gemmMR : p*gemmMR+gemmMR : p*gemmMR+gemmMR]
					d[0], d[1], d[2], d[3], d[4], d[5] = src[0], src[1], src[2], src[3], src[4], src[5]
				}
			} else {
				for p := 0; p < kc; p++ {
					src := a[(pc+p)*lda+i0 : (pc+p)*lda+i0+rows]
					d := pan[p*gemmMR : p*gemmMR+rows]
					//lint:ignore S1001 an edge row of at most 8 elements, copied in the loop rather than by a call
					for r, v := range src {
						d[r] = v
					}
				}
			}
		} else if rows == gemmMR {
			packPanelA(pan, a[i0*lda+pc:], lda, kc)
		} else {
			for r := 0; r < rows; r++ {
				src := a[(i0+r)*lda+pc : (i0+r)*lda+pc+kc]
				for p, v := range src {
					pan[p*gemmMR+r] = v
				}
			}
		}
	}
	return dst
}

// packB copies the kc×nc block of op(B) at (pc, jc) into column panels of gemmNR columns:
// element (p, s) of panel q is at q·gemmNR·kc + p·gemmNR + s. Columns past nc are zero.
func (w *GemmWork) packB(tB bool, b []float64, ldb, pc, jc, kc, nc int) []float64 {
	np := (nc + gemmNR - 1) / gemmNR
	w.bpack = GrowBuf(w.bpack, np*gemmNR*kc)
	dst := w.bpack
	q0 := 0
	if !tB {
		// Row by row: each row of B is read once, in order.
		q0 = packPanelsN(dst, b[pc*ldb+jc:], ldb, kc, nc/gemmNR)
	}
	for q := q0; q < np; q++ {
		pan := dst[q*gemmNR*kc : (q+1)*gemmNR*kc]
		j0 := jc + q*gemmNR
		cols := min(gemmNR, nc-q*gemmNR)
		if cols < gemmNR {
			clear(pan)
		}
		if tB && cols == gemmNR {
			// op(B)[p, j] = b[j*ldb + p]
			packPanelT(pan, b[j0*ldb+pc:], ldb, kc)
		} else if tB {
			for s := 0; s < cols; s++ {
				src := b[(j0+s)*ldb+pc : (j0+s)*ldb+pc+kc]
				for p, v := range src {
					pan[p*gemmNR+s] = v
				}
			}
		} else if cols == gemmNR {
			packPanelNGo(pan, b[pc*ldb+j0:], ldb, 0, kc)
		} else {
			for p := 0; p < kc; p++ {
				src := b[(pc+p)*ldb+j0 : (pc+p)*ldb+j0+cols]
				d := pan[p*gemmNR : p*gemmNR+cols]
				//lint:ignore S1001 an edge row of at most 8 elements, copied in the loop rather than by a call
				for s, v := range src {
					d[s] = v
				}
			}
		}
	}
	return dst
}

// packPanelTGo sets pan[p·8 + s] = b[s·ldb + p] for s < 8 and p0 ≤ p < kc (the portable
// packPanelT, and the columns past the assembly's multiple of 4).
func packPanelTGo(pan, b []float64, ldb, p0, kc int) {
	r0 := b[:kc]
	r1 := b[ldb : ldb+kc]
	r2 := b[2*ldb : 2*ldb+kc]
	r3 := b[3*ldb : 3*ldb+kc]
	r4 := b[4*ldb : 4*ldb+kc]
	r5 := b[5*ldb : 5*ldb+kc]
	r6 := b[6*ldb : 6*ldb+kc]
	r7 := b[7*ldb : 7*ldb+kc]
	for p := p0; p < kc; p++ {
		d := pan[p*gemmNR : p*gemmNR+gemmNR : p*gemmNR+gemmNR]
		d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p], r6[p], r7[p]
	}
}

// packPanelNGo sets pan[p·8 + s] = b[p·ldb + s] for s < 8 and p0 ≤ p < kc: a panel of eight
// columns of a row-major B (without the assembly's packPanelsN). Element-wise: a copy call
// per 8 elements costs more than the copy.
func packPanelNGo(pan, b []float64, ldb, p0, kc int) {
	for p := p0; p < kc; p++ {
		src := b[p*ldb : p*ldb+gemmNR : p*ldb+gemmNR]
		d := pan[p*gemmNR : p*gemmNR+gemmNR : p*gemmNR+gemmNR]
		d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = src[0], src[1], src[2], src[3], src[4], src[5], src[6], src[7]
	}
}

// packPanelAGo sets pan[p·6 + r] = a[r·lda + p] for r < 6 and p0 ≤ p < kc (the portable
// packPanelA, and the columns past the assembly's multiple of 4).
func packPanelAGo(pan, a []float64, lda, p0, kc int) {
	r0 := a[:kc]
	r1 := a[lda : lda+kc]
	r2 := a[2*lda : 2*lda+kc]
	r3 := a[3*lda : 3*lda+kc]
	r4 := a[4*lda : 4*lda+kc]
	r5 := a[5*lda : 5*lda+kc]
	for p := p0; p < kc; p++ {
		d := pan[p*gemmMR : p*gemmMR+gemmMR : p*gemmMR+gemmMR]
		d[0], d[1], d[2], d[3], d[4], d[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
	}
}

// macroKernel adds α·(packed A block)·(packed B block) to the mc×nc block of C at c (writes
// it, when store), skipping tiles entirely above the line j = i + diag. With usePair, two
// adjacent full tiles that are both computed go in one call of kernelPair (the same bits).
func macroKernel(mc, nc, kc int, alpha float64, ap, bp []float64, c []float64, ldc int, diag int, store bool) {
	var tile [gemmMR * gemmNR]float64
	step := gemmNR
	if usePair {
		step = 2 * gemmNR
	}
	for jr := 0; jr < nc; jr += step {
		for ir := 0; ir < mc; ir += gemmMR {
			rows := min(gemmMR, mc-ir)
			apan := ap[ir*kc : (ir+gemmMR)*kc]
			// Both tiles full and both computed (the second's first column on or below the line).
			if usePair && rows == gemmMR && jr+2*gemmNR <= nc && jr+gemmNR <= ir+rows-1+diag {
				kernelPair(kc, apan, bp[jr*kc:(jr+2*gemmNR)*kc], c[ir*ldc+jr:], ldc, alpha, store)
				continue
			}
			for j := jr; j < min(jr+step, nc); j += gemmNR {
				if j > ir+rows-1+diag {
					continue
				}
				bpan := bp[j*kc : (j+gemmNR)*kc]
				tileKernel(kc, apan, gemmMR, 1, bpan, gemmNR, c[ir*ldc+j:], ldc, rows, min(gemmNR, nc-j), alpha, store, &tile)
			}
		}
	}
}

// tileKernel runs the micro-kernel on the rows×cols tile of C at c: in place when the tile
// is full, otherwise on a copy in tile, so that an element's result does not depend on
// where tile boundaries fall. Element (r, p) of the A panel is at apan[p·sa + r·ra].
func tileKernel(kc int, apan []float64, sa, ra int, bpan []float64, sb int, c []float64, ldc, rows, cols int, alpha float64, store bool, tile *[gemmMR * gemmNR]float64) {
	if rows == gemmMR && cols == gemmNR {
		if ra == 1 {
			kernel(kc, apan, sa, bpan, sb, c, ldc, alpha, store)
		} else {
			kernelS(kc, apan, sa, ra, bpan, sb, c, ldc, alpha, store)
		}
		return
	}
	// Element by element: a copy call per row costs more than the copy.
	if !store {
		for r := 0; r < rows; r++ {
			src := c[r*ldc : r*ldc+cols]
			dst := tile[r*gemmNR : r*gemmNR+cols]
			//lint:ignore S1001 an edge row of at most 8 elements, copied in the loop rather than by a call
			for s, v := range src {
				dst[s] = v
			}
		}
	}
	if ra == 1 {
		kernel(kc, apan, sa, bpan, sb, tile[:], gemmNR, alpha, store)
	} else {
		kernelS(kc, apan, sa, ra, bpan, sb, tile[:], gemmNR, alpha, store)
	}
	for r := 0; r < rows; r++ {
		src := tile[r*gemmNR : r*gemmNR+cols]
		dst := c[r*ldc : r*ldc+cols]
		//lint:ignore S1001 an edge row of at most 8 elements, copied in the loop rather than by a call
		for s, v := range src {
			dst[s] = v
		}
	}
}

// kernelGo is the portable micro-kernel: C[0:6, 0:8] += α·A·B (C = α·A·B when store) for a
// 6×kc panel A and kc×8 panel B (row p of A at a[p·sa:], of B at b[p·sb:]; sa = 6 and sb = 8
// for packed panels), the block sum accumulated in order of p. (The
// compiler fuses the multiply–adds into FMAs where the architecture always has them, e.g.
// arm64.)
func kernelGo(kc int, a []float64, sa int, b []float64, sb int, c []float64, ldc int, alpha float64, store bool) {
	kernelGoRows(gemmMR, kc, a, sa, 1, b, sb, c, ldc, alpha, store)
}

// kernelGoS is kernelGo with element (r, p) of A at a[p·sa + r·ra] (kernelGo's layout is
// ra = 1; sa = 1, ra = lda reads six rows of a row-major A in place), with kernelGo's
// arithmetic in kernelGo's order.
func kernelGoS(kc int, a []float64, sa, ra int, b []float64, sb int, c []float64, ldc int, alpha float64, store bool) {
	kernelGoRows(gemmMR, kc, a, sa, ra, b, sb, c, ldc, alpha, store)
}

// kernelGoRows is kernelGoS on the first rows ≤ 6 rows of the tile (rows past them are
// neither read from A nor written to C).
func kernelGoRows(rows, kc int, a []float64, sa, ra int, b []float64, sb int, c []float64, ldc int, alpha float64, store bool) {
	var acc [gemmMR * gemmNR]float64
	for p := 0; p < kc; p++ {
		bp := b[p*sb : p*sb+gemmNR]
		for r := 0; r < rows; r++ {
			av := a[p*sa+r*ra]
			row := acc[r*gemmNR : r*gemmNR+gemmNR]
			for s, bv := range bp {
				row[s] += av * bv
			}
		}
	}
	for r := 0; r < rows; r++ {
		crow := c[r*ldc : r*ldc+gemmNR]
		for s := range crow {
			if store {
				crow[s] = alpha * acc[r*gemmNR+s]
			} else {
				crow[s] += alpha * acc[r*gemmNR+s]
			}
		}
	}
}

// kernelGoSN is kernelGoRows on np full-width tiles of rows rows along a row of C: tile q
// with the B panel at b[q·bstep:] and C at c[8q:].
func kernelGoSN(rows, kc int, a []float64, sa, ra int, b []float64, sb, bstep, np int, c []float64, ldc int, alpha float64, store bool) {
	for q := 0; q < np; q++ {
		kernelGoRows(rows, kc, a, sa, ra, b[q*bstep:], sb, c[q*gemmNR:], ldc, alpha, store)
	}
}

// SyrkLower computes C = α A Aᵀ + β C on and below the diagonal, for A m×k (row-major with
// leading dimension lda) and C m×m. Elements above the diagonal are unspecified. Each
// computed element equals the corresponding element of Gemm(false, true, …) bitwise.
func (g *GemmCtx) SyrkLower(m, k int, alpha float64, a []float64, lda int, beta float64, c []float64, ldc int) {
	if m == 0 {
		return
	}
	scaleRows(c, ldc, m, beta, func(i int) (int, int) { return 0, i + 1 })
	if k == 0 || alpha == 0 {
		return
	}
	if int64(m)*int64(m)/2*int64(k) >= parMinWork && !serialOnly && Pool.Size() > 0 {
		if g.parallelSyrk(m, k, alpha, a, lda, c, ldc) {
			return
		}
	}
	gemmSerial(&g.w, false, true, m, m, k, alpha, a, lda, a, lda, c, ldc, 0, false)
}

// --- parallel products -------------------------------------------------------------------

// parJob describes one product split into slabs of C: rows [bound[t], bound[t+1]) when
// byRows, else columns. It lives in the caller's GemmCtx, so handing it to helpers
// allocates nothing.
type parJob struct {
	tA, tB   bool
	m, n, k  int
	alpha    float64
	a, b, c  []float64
	lda, ldb int
	ldc      int
	byRows   bool
	lower    bool // SyrkLower: slab t needs only columns < bound[t+1]
	store    bool // C = α op(A) op(B), C not read
	bound    [parMaxTask + 1]int
	ntask    int
	next     atomic.Int64
	helpers  sync.WaitGroup
}

// taskCount returns the number of slabs for a dimension of length dim: a power of two (so
// that slabs divide evenly between 2 or 4 threads; each slab repacks the whole of the other
// operand, so fewer, larger slabs waste less), or 1 when dim is too short to split.
func taskCount(dim int) int {
	t := 1
	for t*2 <= min(parMaxTask, dim/parMinSlab) {
		t *= 2
	}
	return t
}

// parallel splits the product into slabs along the longer of m and n. The split is a
// function of the shape only. It reports false (nothing done) when the shape is too narrow.
func (g *GemmCtx) parallel(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, store bool) bool {
	if useBLAS && blasRoute(m, n, k) { // openblas build only (gemm_openblas.go)
		return g.blasParallel(tA, tB, m, n, k, alpha, a, lda, b, ldb, c, ldc, false)
	}
	j := &g.job
	byRows := m >= n
	dim, unit := n, gemmNR
	if byRows {
		dim, unit = m, gemmMR
	}
	ntask := taskCount(dim)
	if ntask < 2 {
		return false
	}
	slab := (dim + ntask - 1) / ntask
	slab = (slab + unit - 1) / unit * unit
	nt := 0
	for lo := 0; lo < dim; lo += slab {
		j.bound[nt] = lo
		nt++
	}
	j.bound[nt] = dim
	j.byRows, j.lower, j.store = byRows, false, store
	g.run(nt, tA, tB, m, n, k, alpha, a, lda, b, ldb, c, ldc)
	return true
}

// parallelSyrk splits SyrkLower into row slabs of about equal triangle area.
func (g *GemmCtx) parallelSyrk(m, k int, alpha float64, a []float64, lda int, c []float64, ldc int) bool {
	if useBLAS && blasRoute(m, m, k) { // openblas build only (gemm_openblas.go)
		return g.blasParallel(false, true, m, m, k, alpha, a, lda, a, lda, c, ldc, true)
	}
	j := &g.job
	ntask := taskCount(m)
	if ntask < 2 {
		return false
	}
	// Slab t ends near m·√((t+1)/T), on a multiple of gemmMR.
	nt := 0
	lo := 0
	for t := 1; t <= ntask && lo < m; t++ {
		hi := int(math.Ceil(float64(m)*math.Sqrt(float64(t)/float64(ntask))/gemmMR)) * gemmMR
		if t == ntask || hi > m {
			hi = m
		}
		if hi <= lo {
			continue
		}
		j.bound[nt] = lo
		nt++
		lo = hi
	}
	j.bound[nt] = m
	j.byRows, j.lower, j.store = true, true, false
	g.run(nt, false, true, m, m, k, alpha, a, lda, a, lda, c, ldc)
	return true
}

// run executes the ntask slabs described in g.job, with idle helpers.
func (g *GemmCtx) run(ntask int, tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	j := &g.job
	j.tA, j.tB, j.m, j.n, j.k, j.alpha = tA, tB, m, n, k, alpha
	j.a, j.b, j.c, j.lda, j.ldb, j.ldc = a, b, c, lda, ldb, ldc
	j.ntask = ntask
	j.next.Store(0)
	Pool.offer(j, ntask-1)
	j.Work(&g.w)
	j.helpers.Wait()
	// Drop references to the caller's matrices.
	j.a, j.b, j.c = nil, nil, nil
}

// Work runs slabs until none is left.
func (j *parJob) Work(w *GemmWork) {
	if useBLAS && blasRoute(j.m, j.n, j.k) { // openblas build only (gemm_openblas.go)
		j.blasWork()
		return
	}
	for {
		t := int(j.next.Add(1)) - 1
		if t >= j.ntask {
			return
		}
		lo, hi := j.bound[t], j.bound[t+1]
		switch {
		case j.lower:
			gemmSerial(w, false, true, hi-lo, hi, j.k, j.alpha, j.a[lo*j.lda:], j.lda, j.b, j.ldb, j.c[lo*j.ldc:], j.ldc, lo, false)
		case j.byRows:
			var a []float64
			if j.tA {
				a = j.a[lo:] // op(A) rows are columns of A
			} else {
				a = j.a[lo*j.lda:]
			}
			gemmSerial(w, j.tA, j.tB, hi-lo, j.n, j.k, j.alpha, a, j.lda, j.b, j.ldb, j.c[lo*j.ldc:], j.ldc, noDiag, j.store)
		default:
			var b []float64
			if j.tB {
				b = j.b[lo*j.ldb:] // op(B) columns are rows of B
			} else {
				b = j.b[lo:]
			}
			gemmSerial(w, j.tA, j.tB, j.m, hi-lo, j.k, j.alpha, j.a, j.lda, b, j.ldb, j.c[lo:], j.ldc, noDiag, j.store)
		}
	}
}

// HelperPool is a fixed set of GOMAXPROCS−1 goroutines (counted when first used) that help
// whichever caller offers work while they are idle. A caller never waits for a busy helper:
// it offers its job only to helpers blocked in receive and does the rest itself.
type HelperPool struct {
	once sync.Once
	n    int
	jobs chan Task
}

// Task is work a helper can take: a GEMM's slabs (parJob) or a caller's own (package
// model's second lane of chunks, the tiles of a Gram matrix). A helper calls Work with its
// own packing space, then Done.
type Task interface {
	Work(w *GemmWork)
	Done()
}

// Done tells run that a helper has finished with the job.
func (j *parJob) Done() { j.helpers.Done() }

// Pool is the process's helper pool, shared by every product and Task.
var Pool HelperPool

// Size returns the number of helpers, GOMAXPROCS − 1 as counted at the first call, which
// starts them.
func (p *HelperPool) Size() int {
	p.once.Do(func() {
		p.n = runtime.GOMAXPROCS(0) - 1
		p.jobs = make(chan Task)
		for i := 0; i < p.n; i++ {
			go helperLoop(p.jobs)
		}
	})
	return p.n
}

func helperLoop(jobs chan Task) {
	var w GemmWork
	for j := range jobs {
		j.Work(&w)
		j.Done()
	}
}

// TryGive hands t to an idle helper, reporting whether one took it.
func (p *HelperPool) TryGive(t Task) bool {
	if serialOnly || p.Size() == 0 {
		return false
	}
	select {
	case p.jobs <- t:
		return true
	default:
		return false
	}
}

// offer hands j to at most max idle helpers.
func (p *HelperPool) offer(j *parJob, max int) {
	for i := 0; i < max && i < p.n; i++ {
		j.helpers.Add(1)
		select {
		case p.jobs <- j:
		default:
			j.helpers.Done()
			return
		}
	}
}
