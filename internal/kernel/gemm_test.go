package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(rng *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = rng.NormFloat64()
	}
	return s
}

// naiveGemm is the textbook triple loop: C = α op(A) op(B) + β C.
func naiveGemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float64
				if tA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if tB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

type gemmCase struct {
	tA, tB      bool
	m, n, k     int
	alpha, beta float64
}

func gemmOperands(rng *rand.Rand, tc gemmCase) (a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	// Leading dimensions larger than the logical width, to test strided access.
	ar, ac := tc.m, tc.k
	if tc.tA {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.tB {
		br, bc = tc.n, tc.k
	}
	lda, ldb, ldc = ac+3, bc+1, tc.n+2
	a = randSlice(rng, max(1, ar)*lda)
	b = randSlice(rng, max(1, br)*ldb)
	c = randSlice(rng, tc.m*ldc)
	return
}

// relErr returns ‖x − y‖₂ / ‖y‖₂ (or ‖x − y‖₂ when y = 0).
func relErr(x, y []float64) float64 {
	var num, den float64
	for i := range x {
		num += (x[i] - y[i]) * (x[i] - y[i])
		den += y[i] * y[i]
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}

func TestGemmNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var g GemmCtx
	sizes := [][3]int{{1, 1, 1}, {1, 7, 5}, {9, 1, 4}, {6, 8, 1}, {7, 9, 3}, {13, 17, 300}, {97, 33, 257},
		{5, 200, 20}, {130, 70, 40}, {12, 16, 0}, {200, 300, 64}}
	for _, sz := range sizes {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, ab := range [][2]float64{{1, 0}, {0.5, 1}, {-2, 0.25}, {0, 2}} {
					tc := gemmCase{tA, tB, sz[0], sz[1], sz[2], ab[0], ab[1]}
					a, lda, b, ldb, c, ldc := gemmOperands(rng, tc)
					want := append([]float64(nil), c...)
					naiveGemm(tA, tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want, ldc)
					g.Gemm(tA, tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
					// Rounding differs (FMA, blocking): the relative error is a few ulps
					// times √k at most.
					if e := relErr(c, want); e > 1e-14 {
						t.Errorf("%+v: relative error %g", tc, e)
					}
					// Padding columns of C (j ≥ n) must be untouched: compare with naive.
					for i := 0; i < tc.m; i++ {
						for j := tc.n; j < ldc; j++ {
							if c[i*ldc+j] != want[i*ldc+j] {
								t.Fatalf("%+v: padding of C modified", tc)
							}
						}
					}
				}
			}
		}
	}
}

func TestGemmBetaZeroIgnoresNaN(t *testing.T) {
	var g GemmCtx
	a := []float64{1, 2, 3, 4}
	c := []float64{math.NaN(), math.NaN(), math.NaN(), math.NaN()}
	g.Gemm(false, false, 2, 2, 2, 1, a, 2, a, 2, 0, c, 2)
	want := []float64{7, 10, 15, 22}
	for i := range c {
		if c[i] != want[i] {
			t.Fatalf("got %v, want %v", c, want)
		}
	}
}

// TestGemmBetaZeroBitwise checks that β = 0 (the kernel storing its first block, C never
// read: NaN here) gives bitwise the product accumulated into zeros with β = 1, over edge
// tiles, several k-blocks, every transpose case and products split between threads.
func TestGemmBetaZeroBitwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 1))
	for _, tc := range []gemmCase{
		{false, true, 13, 11, 7, 0.5, 0},
		{true, false, 31, 29, 600, -1.5, 0},
		{false, false, 301, 130, 300, 1, 0},
		{true, true, 97, 500, 100, 2, 0},
	} {
		a, lda, b, ldb, _, ldc := gemmOperands(rng, tc)
		zeros := make([]float64, tc.m*ldc)
		nans := make([]float64, tc.m*ldc)
		for i := range nans {
			nans[i] = math.NaN()
		}
		var g GemmCtx
		g.Gemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, 1, zeros, ldc)
		g.Gemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, 0, nans, ldc)
		for i := 0; i < tc.m; i++ {
			for j := 0; j < tc.n; j++ {
				if math.Float64bits(zeros[i*ldc+j]) != math.Float64bits(nans[i*ldc+j]) {
					t.Fatalf("%+v: C[%d,%d] = %v with β = 0, %v accumulated into zeros", tc, i, j, nans[i*ldc+j], zeros[i*ldc+j])
				}
			}
		}
	}
}

// TestGemmDirectBitwise compares small products read in place (gemmDirect) with the packed
// path: bitwise equal in every transpose case, with edge panels in both dimensions, leading
// dimensions larger than the rows, and β = 0 and 1.
func TestGemmDirectBitwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 1))
	for _, tc := range []gemmCase{
		{true, false, 32, 64, 32, 1, 0},
		{true, false, 10, 32, 32, 0.5, 1},
		{false, false, 32, 32, 10, 1, 0},
		{false, false, 13, 21, 7, -1, 1},
		{true, true, 17, 9, 30, 2, 0},
		{false, true, 32, 32, 64, 1, 1},
		{true, false, 6, 8, 1, 1, 0},
		{true, false, 61, 45, 90, 0.25, 1},
	} {
		if int64(tc.m)*int64(tc.n)*int64(tc.k) > directMaxWork {
			t.Fatalf("%+v is not a direct product", tc)
		}
		a, lda, b, ldb, c, ldc := gemmOperands(rng, tc)
		var g GemmCtx
		direct := append([]float64(nil), c...)
		g.Gemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, direct, ldc)
		noDirect = true
		packed := append([]float64(nil), c...)
		g.Gemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, packed, ldc)
		noDirect = false
		for i := range packed {
			if math.Float64bits(direct[i]) != math.Float64bits(packed[i]) {
				t.Fatalf("%+v: element %d: direct %v, packed %v", tc, i, direct[i], packed[i])
			}
		}
	}
}

func TestKernelGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 1))
	for _, kc := range []int{1, 5, 256} {
		a := randSlice(rng, gemmMR*kc)
		b := randSlice(rng, gemmNR*kc)
		c := randSlice(rng, gemmMR*10)
		want := append([]float64(nil), c...)
		for r := 0; r < gemmMR; r++ {
			for s := 0; s < gemmNR; s++ {
				var sum float64
				for p := 0; p < kc; p++ {
					sum += a[p*gemmMR+r] * b[p*gemmNR+s]
				}
				want[r*10+s] += 0.5 * sum
			}
		}
		got := append([]float64(nil), c...)
		kernelGo(kc, a, gemmMR, b, gemmNR, got, 10, 0.5, false)
		if e := relErr(got, want); e > 1e-14 {
			t.Errorf("kernelGo kc=%d: relative error %g", kc, e)
		}
		got = append([]float64(nil), c...)
		kernel(kc, a, gemmMR, b, gemmNR, got, 10, 0.5, false)
		if e := relErr(got, want); e > 1e-14 {
			t.Errorf("kernel kc=%d: relative error %g", kc, e)
		}
		// store: C = α·A·B, bitwise the accumulation into zeros, the old C (NaN here) unread.
		for _, f := range []func(c []float64, store bool){
			func(c []float64, store bool) { kernelGo(kc, a, gemmMR, b, gemmNR, c, 10, 0.5, store) },
			func(c []float64, store bool) { kernel(kc, a, gemmMR, b, gemmNR, c, 10, 0.5, store) },
		} {
			zeros, nans := make([]float64, len(c)), make([]float64, len(c))
			for i := range nans {
				nans[i] = math.NaN()
			}
			f(zeros, false)
			f(nans, true)
			for r := 0; r < gemmMR; r++ {
				for s := 0; s < gemmNR; s++ {
					if math.Float64bits(zeros[r*10+s]) != math.Float64bits(nans[r*10+s]) {
						t.Fatalf("kc=%d: stored %v, accumulated into zero %v", kc, nans[r*10+s], zeros[r*10+s])
					}
				}
			}
		}
	}
}

// TestGemmParallelBitwise checks that splitting a product between threads gives exactly
// the serial result, whatever the slab boundaries.
func TestGemmParallelBitwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	for _, tc := range []gemmCase{
		{false, true, 301, 130, 300, 1, 0},
		{true, false, 130, 307, 260, 0.5, 1},
		{true, true, 97, 500, 100, -1, 0.5},
		{true, false, 300, 260, 40, 1, 1}, // by rows with a transposed A (k·lda < m·lda)
		{false, true, 40, 300, 260, 1, 1},
	} {
		a, lda, b, ldb, c, ldc := gemmOperands(rng, tc)
		ser := append([]float64(nil), c...)
		var w GemmWork
		for i := 0; i < tc.m; i++ {
			for j := 0; j < tc.n; j++ {
				ser[i*ldc+j] *= tc.beta
			}
		}
		gemmSerial(&w, tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, ser, ldc, noDiag, false)
		par := append([]float64(nil), c...)
		var g GemmCtx
		for i := 0; i < tc.m; i++ {
			for j := 0; j < tc.n; j++ {
				par[i*ldc+j] *= tc.beta
			}
		}
		if !g.parallel(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, par, ldc, false) {
			t.Fatalf("%+v: not split", tc)
		}
		for i := range ser {
			if math.Float64bits(ser[i]) != math.Float64bits(par[i]) {
				t.Fatalf("%+v: element %d: parallel %v, serial %v", tc, i, par[i], ser[i])
			}
		}
	}
}

func BenchmarkGemm(b *testing.B) {
	for _, tc := range []gemmCase{
		{false, true, 256, 128, 784, 1, 0},
		{true, false, 128, 784, 256, 1, 1},
		{false, false, 256, 784, 128, 1, 0},
		{false, true, 256, 256, 784, 1, 0},
		{false, true, 256, 10, 128, 1, 0},
	} {
		b.Run(fmt.Sprintf("tA=%v,tB=%v,%dx%dx%d", tc.tA, tc.tB, tc.m, tc.n, tc.k), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			a, lda, bb, ldb, c, ldc := gemmOperands(rng, tc)
			var g GemmCtx
			b.ReportAllocs()
			for b.Loop() {
				g.Gemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, bb, ldb, tc.beta, c, ldc)
			}
			b.ReportMetric(2*float64(tc.m*tc.n*tc.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
	}
}

// TestSyrkLower checks that SyrkLower's lower triangle equals gemm(false, true) bitwise,
// serial and split between threads, and that β applies to the lower triangle only.
func TestSyrkLower(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 1))
	for _, sz := range [][2]int{{1, 3}, {7, 5}, {13, 300}, {100, 40}, {301, 150}, {600, 17}} {
		m, k := sz[0], sz[1]
		lda, ldc := k+2, m+3
		a := randSlice(rng, m*lda)
		c0 := randSlice(rng, m*ldc)
		for _, ab := range [][2]float64{{1, 0}, {0.5, -1}} {
			var g GemmCtx
			want := append([]float64(nil), c0...)
			g.Gemm(false, true, m, m, k, ab[0], a, lda, a, lda, ab[1], want, ldc)
			got := append([]float64(nil), c0...)
			g.SyrkLower(m, k, ab[0], a, lda, ab[1], got, ldc)
			for i := 0; i < m; i++ {
				for j := 0; j <= i; j++ {
					if math.Float64bits(got[i*ldc+j]) != math.Float64bits(want[i*ldc+j]) {
						t.Fatalf("m=%d k=%d: element (%d, %d) = %v, gemm %v", m, k, i, j, got[i*ldc+j], want[i*ldc+j])
					}
				}
			}
			// The parallel split, forced even for small sizes when it applies.
			par := append([]float64(nil), c0...)
			for i := 0; i < m; i++ {
				for j := 0; j <= i; j++ {
					par[i*ldc+j] *= ab[1]
				}
			}
			if g.parallelSyrk(m, k, ab[0], a, lda, par, ldc) {
				for i := 0; i < m; i++ {
					for j := 0; j <= i; j++ {
						if math.Float64bits(par[i*ldc+j]) != math.Float64bits(want[i*ldc+j]) {
							t.Fatalf("m=%d k=%d parallel: element (%d, %d) = %v, gemm %v", m, k, i, j, par[i*ldc+j], want[i*ldc+j])
						}
					}
				}
			}
		}
	}
}

// TestKernelStrided checks the strided micro-kernel (A(r, p) at a[p·sa + r·ra]): the
// dispatched one (assembly where the CPU has AVX2+FMA) and kernelGoS against a naive loop,
// and each bitwise against its packed counterpart (kernel, kernelGo) on the same values
// packed, for sa = 1 with row strides ra > kc and for the transposed layout, with and
// without store.
func TestKernelStrided(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 1))
	for _, kc := range []int{1, 2, 3, 10, 32, 64, 257} {
		for _, lay := range [][2]int{{1, kc}, {1, kc + 5}, {gemmMR + 3, 1}} {
			sa, ra := lay[0], lay[1]
			a := randSlice(rng, (kc-1)*sa+(gemmMR-1)*ra+1)
			packed := make([]float64, gemmMR*kc)
			for p := 0; p < kc; p++ {
				for r := 0; r < gemmMR; r++ {
					packed[p*gemmMR+r] = a[p*sa+r*ra]
				}
			}
			const sb = gemmNR + 2
			b := randSlice(rng, (kc-1)*sb+gemmNR)
			c := randSlice(rng, gemmMR*10)
			want := append([]float64(nil), c...)
			for r := 0; r < gemmMR; r++ {
				for s := 0; s < gemmNR; s++ {
					var sum float64
					for p := 0; p < kc; p++ {
						sum += a[p*sa+r*ra] * b[p*sb+s]
					}
					want[r*10+s] += -0.75 * sum
				}
			}
			for _, store := range []bool{false, true} {
				for _, k := range []struct {
					name     string
					strided  func(c []float64)
					packedFn func(c []float64)
				}{
					{"kernelS", func(c []float64) { kernelS(kc, a, sa, ra, b, sb, c, 10, -0.75, store) },
						func(c []float64) { kernel(kc, packed, gemmMR, b, sb, c, 10, -0.75, store) }},
					{"kernelGoS", func(c []float64) { kernelGoS(kc, a, sa, ra, b, sb, c, 10, -0.75, store) },
						func(c []float64) { kernelGo(kc, packed, gemmMR, b, sb, c, 10, -0.75, store) }},
				} {
					got := append([]float64(nil), c...)
					ref := append([]float64(nil), c...)
					if store {
						for i := range got {
							got[i], ref[i] = math.NaN(), math.NaN() // not read
						}
					}
					k.strided(got)
					k.packedFn(ref)
					for i := range got {
						if math.Float64bits(got[i]) != math.Float64bits(ref[i]) {
							t.Fatalf("%s kc=%d sa=%d ra=%d store=%v: element %d = %v, packed %v", k.name, kc, sa, ra, store, i, got[i], ref[i])
						}
					}
					if !store {
						if e := relErr(got, want); e > 1e-14 {
							t.Errorf("%s kc=%d sa=%d ra=%d: relative error %g against the naive loop", k.name, kc, sa, ra, e)
						}
					}
				}
			}
		}
	}
}

// TestPackPanelT checks the transposing panel pack (assembly where the CPU has AVX2) against
// its element-by-element definition, for depths around multiples of 4.
func TestPackPanelT(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 1))
	for _, kc := range []int{1, 3, 4, 5, 8, 10, 31, 64, 257} {
		ldb := kc + 3
		b := randSlice(rng, 7*ldb+kc)
		got := make([]float64, kc*gemmNR)
		packPanelT(got, b, ldb, kc)
		for p := 0; p < kc; p++ {
			for s := 0; s < gemmNR; s++ {
				if got[p*gemmNR+s] != b[s*ldb+p] {
					t.Fatalf("kc=%d: pan[%d·8+%d] = %v, want b[%d·ldb+%d] = %v", kc, p, s, got[p*gemmNR+s], s, p, b[s*ldb+p])
				}
			}
		}
	}
}

// TestPackPanelsN checks the row-by-row pack of full panels of a row-major B, and the
// interleaving pack of six rows of a row-major A (assembly where the CPU has AVX2; otherwise
// packPanelsN packs none), against their element-by-element definitions, for depths around
// multiples of 4 and panel counts from 1 to 5. The values of the packed buffer past the
// panels must stay untouched.
func TestPackPanelsN(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 2))
	for _, kc := range []int{1, 3, 4, 5, 8, 10, 31, 64, 257} {
		for _, np := range []int{1, 2, 5} {
			ldb := np*gemmNR + 3
			b := randSlice(rng, (kc-1)*ldb+np*gemmNR)
			got := make([]float64, np*gemmNR*kc+1)
			got[len(got)-1] = 42
			n := packPanelsN(got, b, ldb, kc, np)
			if n != 0 && n != np {
				t.Fatalf("kc=%d np=%d: packed %d panels", kc, np, n)
			}
			for q := 0; q < n; q++ {
				for p := 0; p < kc; p++ {
					for s := 0; s < gemmNR; s++ {
						if g, w := got[q*gemmNR*kc+p*gemmNR+s], b[p*ldb+q*gemmNR+s]; g != w {
							t.Fatalf("kc=%d np=%d: panel %d element (%d, %d) = %v, want %v", kc, np, q, p, s, g, w)
						}
					}
				}
			}
			if got[len(got)-1] != 42 {
				t.Fatalf("kc=%d np=%d: wrote past the panels", kc, np)
			}
		}
		lda := kc + 3
		a := randSlice(rng, 5*lda+kc)
		pan := make([]float64, kc*gemmMR+1)
		pan[len(pan)-1] = 42
		packPanelA(pan, a, lda, kc)
		for p := 0; p < kc; p++ {
			for r := 0; r < gemmMR; r++ {
				if g, w := pan[p*gemmMR+r], a[r*lda+p]; g != w {
					t.Fatalf("kc=%d: A panel element (%d, %d) = %v, want %v", kc, p, r, g, w)
				}
			}
		}
		if pan[len(pan)-1] != 42 {
			t.Fatalf("kc=%d: packPanelA wrote past the panel", kc)
		}
	}
}

// TestGemmSmallShapes runs small products (sizes 0 and 1, edge tiles, the shapes of an SGD
// step of mlp:32 on 64 features and 10 classes) in every transpose case with strided
// operands: against the naive triple loop, the direct path bitwise against the packed one,
// and the padding columns of C untouched.
func TestGemmSmallShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 1))
	dims := []int{0, 1, 2, 5, 6, 7, 8, 9, 10, 13, 32}
	for _, m := range dims {
		for _, n := range dims {
			for _, k := range []int{0, 1, 2, 10, 32, 64} {
				for ti := 0; ti < 4; ti++ {
					ab := [][2]float64{{1, 0}, {0.5, 1}, {-2, 0.25}}[(m+n+k+ti)%3]
					tc := gemmCase{ti&1 != 0, ti&2 != 0, m, n, k, ab[0], ab[1]}
					a, lda, b, ldb, c, ldc := gemmOperands(rng, tc)
					want := append([]float64(nil), c...)
					naiveGemm(tc.tA, tc.tB, m, n, k, tc.alpha, a, lda, b, ldb, tc.beta, want, ldc)
					var g GemmCtx
					direct := append([]float64(nil), c...)
					g.Gemm(tc.tA, tc.tB, m, n, k, tc.alpha, a, lda, b, ldb, tc.beta, direct, ldc)
					noDirect = true
					packed := append([]float64(nil), c...)
					g.Gemm(tc.tA, tc.tB, m, n, k, tc.alpha, a, lda, b, ldb, tc.beta, packed, ldc)
					noDirect = false
					if e := relErr(direct, want); e > 1e-14 {
						t.Errorf("%+v: relative error %g", tc, e)
					}
					for i := range packed {
						if math.Float64bits(direct[i]) != math.Float64bits(packed[i]) {
							t.Fatalf("%+v: element %d: direct %v, packed %v", tc, i, direct[i], packed[i])
						}
					}
					for i := 0; i < m; i++ {
						for j := n; j < ldc; j++ {
							if direct[i*ldc+j] != c[i*ldc+j] {
								t.Fatalf("%+v: padding of C modified", tc)
							}
						}
					}
				}
			}
		}
	}
}

// BenchmarkGemmSGDStep: the five products of an SGD step of mlp:32 on 64 features and 10
// classes with B = 32 (forward X W₁ᵀ and A₁ W₂ᵀ, backward Δ₂ W₂, sums Δ₁ᵀ X and Δ₂ᵀ A₁),
// one op being all five.
func BenchmarkGemmSGDStep(b *testing.B) {
	shapes := []gemmCase{
		{false, true, 32, 32, 64, 1, 1},
		{false, true, 32, 10, 32, 1, 1},
		{false, false, 32, 32, 10, 1, 0},
		{true, false, 32, 64, 32, 1.0 / 32, 0},
		{true, false, 10, 32, 32, 1.0 / 32, 0},
	}
	type ops struct {
		a, b, c       []float64
		lda, ldb, ldc int
	}
	rng := rand.New(rand.NewPCG(1, 1))
	var os []ops
	flops := 0.0
	for _, tc := range shapes {
		a, lda, bb, ldb, c, ldc := gemmOperands(rng, tc)
		os = append(os, ops{a, bb, c, lda, ldb, ldc})
		flops += 2 * float64(tc.m*tc.n*tc.k)
	}
	var g GemmCtx
	for b.Loop() {
		for i, tc := range shapes {
			o := os[i]
			g.Gemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, o.c, o.ldc)
		}
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
}

// TestGemmTanhDeriv checks GemmTanhDeriv bitwise against Gemm with β = 0 followed by the
// loop c *= 1 − t², over small shapes (full and edge tiles, 4- and 6-row tiles, sizes 0 and
// 1) in every transpose case and a product too large for the fused path, with C holding
// NaN beforehand (not read).
func TestGemmTanhDeriv(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 1))
	dims := []int{0, 1, 2, 6, 8, 9, 10, 13, 32}
	var shapes [][3]int
	for _, m := range dims {
		for _, n := range dims {
			for _, k := range []int{0, 1, 10, 32} {
				shapes = append(shapes, [3]int{m, n, k})
			}
		}
	}
	shapes = append(shapes, [3]int{70, 64, 100}, [3]int{32, 32, 300})
	for _, sz := range shapes {
		for ti := 0; ti < 4; ti++ {
			tc := gemmCase{ti&1 != 0, ti&2 != 0, sz[0], sz[1], sz[2], []float64{1, 0.5, -2}[ti%3], 0}
			a, lda, b, ldb, c, ldc := gemmOperands(rng, tc)
			tt := make([]float64, len(c))
			for i := range tt {
				tt[i] = math.Tanh(2 * rng.NormFloat64())
			}
			if len(tt) > 0 {
				tt[0] = 1 // a factor of exactly 0
			}
			var g GemmCtx
			want := append([]float64(nil), c...)
			g.Gemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, 0, want, ldc)
			for i := 0; i < tc.m; i++ {
				for j := 0; j < tc.n; j++ {
					want[i*ldc+j] *= 1 - tt[i*ldc+j]*tt[i*ldc+j]
				}
			}
			got := append([]float64(nil), c...)
			for i := 0; i < tc.m; i++ {
				for j := 0; j < tc.n; j++ {
					got[i*ldc+j] = math.NaN()
				}
			}
			g.GemmTanhDeriv(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, got, ldc, tt)
			for i := range got {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
					t.Fatalf("%+v: element %d = %v, Gemm then the loop %v", tc, i, got[i], want[i])
				}
			}
		}
	}
}

// TestKernelPair: with AVX-512, kernelPair on two adjacent tiles equals kernel on each, bit
// for bit (accumulating and storing, α = 1 and −0.3, kc = 1, 7, 256), and Gemm and
// SyrkLower with usePair equal them without it, bit for bit, over shapes with edge tiles,
// an odd number of tile columns, transposes and the triangle's diagonal tiles.
func TestKernelPair(t *testing.T) {
	if !usePair {
		t.Skip("no AVX-512 (or the purego build): kernelPair is not used")
	}
	rng := rand.New(rand.NewPCG(9, 2))
	const ldc = 19
	for _, kc := range []int{1, 7, 256} {
		a := randSlice(rng, gemmMR*kc)
		b := randSlice(rng, 2*gemmNR*kc)
		c := randSlice(rng, gemmMR*ldc)
		for _, alpha := range []float64{1, -0.3} {
			for _, store := range []bool{false, true} {
				want := append([]float64(nil), c...)
				kernel(kc, a, gemmMR, b[:gemmNR*kc], gemmNR, want, ldc, alpha, store)
				kernel(kc, a, gemmMR, b[gemmNR*kc:], gemmNR, want[gemmNR:], ldc, alpha, store)
				got := append([]float64(nil), c...)
				kernelPair(kc, a, b, got, ldc, alpha, store)
				for i := range got {
					if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
						t.Fatalf("kc=%d α=%v store=%v: element %d = %v, kernel %v", kc, alpha, store, i, got[i], want[i])
					}
				}
			}
		}
	}
	defer func(old bool) { usePair = old }(usePair)
	for _, tc := range []gemmCase{
		{false, false, 97, 131, 300, 1, 0},
		{true, false, 64, 40, 513, -0.5, 1},
		{false, true, 13, 24, 9, 1, 0.5},
		{true, true, 300, 257, 77, 2, 0},
	} {
		a, lda, b, ldb, c, ldc := gemmOperands(rng, tc)
		var g GemmCtx
		results := make([][]float64, 2)
		for i, on := range []bool{true, false} {
			usePair = on
			results[i] = append([]float64(nil), c...)
			g.Gemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, results[i], ldc)
		}
		for i := range results[0] {
			if math.Float64bits(results[0][i]) != math.Float64bits(results[1][i]) {
				t.Fatalf("%+v: element %d = %v with pairs, %v without", tc, i, results[0][i], results[1][i])
			}
		}
	}
	for _, m := range []int{40, 301} {
		k := 50
		a := randSlice(rng, m*k)
		var g GemmCtx
		results := make([][]float64, 2)
		for i, on := range []bool{true, false} {
			usePair = on
			results[i] = randSlice(rand.New(rand.NewPCG(1, 1)), m*m)
			g.SyrkLower(m, k, 1, a, k, 0.5, results[i], m)
		}
		for i := range results[0] {
			if math.Float64bits(results[0][i]) != math.Float64bits(results[1][i]) {
				t.Fatalf("SyrkLower m=%d: element %d = %v with pairs, %v without", m, i, results[0][i], results[1][i])
			}
		}
	}
}

// TestKernelSN: kernelSN on np = 1…5 tiles along a row (6 and 4 rows, strided A, B panels
// bstep apart, accumulating and storing) against the naive loop. The tolerance 1e-14 is the
// file's for naive comparisons; the measured worst is 1.8e-16 (the assembly's FMAs against
// the loop's separate roundings; 0 in the purego build), and a wrong row or panel offset
// fails by order 1.
func TestKernelSN(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 3))
	for _, rows := range []int{gemmMR, 4} {
		for _, kc := range []int{1, 7, 33} {
			for np := 1; np <= 5; np++ {
				sa, ra := 1, kc+3 // rows of a row-major A read in place
				const sb, ldc = gemmNR + 1, 5*gemmNR + 3
				bstep := kc*sb + 2
				a := randSlice(rng, (kc-1)*sa+(rows-1)*ra+1)
				b := randSlice(rng, (np-1)*bstep+(kc-1)*sb+gemmNR)
				c := randSlice(rng, rows*ldc)
				for _, store := range []bool{false, true} {
					want := append([]float64(nil), c...)
					for r := range rows {
						for s := range np * gemmNR {
							q, col := s/gemmNR, s%gemmNR
							var sum float64
							for p := range kc {
								sum += a[p*sa+r*ra] * b[q*bstep+p*sb+col]
							}
							if store {
								want[r*ldc+s] = 0
							}
							want[r*ldc+s] += 0.5 * sum
						}
					}
					got := append([]float64(nil), c...)
					kernelSN(rows, kc, a, sa, ra, b, sb, bstep, np, got, ldc, 0.5, store)
					if e := relErr(got, want); e > 1e-14 {
						t.Errorf("rows=%d kc=%d np=%d store=%v: relative error %g against the naive loop", rows, kc, np, store, e)
					}
				}
			}
		}
	}
}
