//go:build openblas

package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// forceBLAS sets the route and returns a function restoring the previous one.
func forceBLAS(on bool) func() {
	old := useBLAS
	useBLAS = on
	return func() { useBLAS = old }
}

// TestBLASTiles checks that the tiles of a product cover C exactly once, and that the lower
// tiles cover every element on or below the diagonal exactly once (and no tile lies
// entirely above it).
func TestBLASTiles(t *testing.T) {
	for _, sz := range [][3]int{{1, 1, 1}, {300, 300, 200}, {1000, 1000, 30}, {301, 130, 300}, {130, 307, 260},
		{97, 500, 100}, {256, 784, 128}, {2000, 7, 500}, {4096, 4096, 784}, {200, 300, 64}} {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				m, n, k := sz[0], sz[1], sz[2]
				for _, lower := range []bool{false, true} {
					if lower && (tA || !tB || m != n) {
						continue
					}
					count := make([]int, m*n)
					for tl := range blasTiles(tA, tB, m, n, k, lower) {
						i0, i1, j0, j1 := blasTile(tA, tB, m, n, k, lower, tl)
						if i0 >= i1 || j0 >= j1 {
							t.Fatalf("%v %v %v lower=%v: empty tile %d: [%d,%d)×[%d,%d)", tA, tB, sz, lower, tl, i0, i1, j0, j1)
						}
						if lower && j0 > i1-1 {
							t.Fatalf("%v lower: tile %d [%d,%d)×[%d,%d) lies above the diagonal", sz, tl, i0, i1, j0, j1)
						}
						for i := i0; i < i1; i++ {
							for j := j0; j < j1; j++ {
								count[i*n+j]++
							}
						}
					}
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							if (!lower || j <= i) && count[i*n+j] != 1 {
								t.Fatalf("%v %v %v lower=%v: element (%d, %d) in %d tiles", tA, tB, sz, lower, i, j, count[i*n+j])
							}
						}
					}
				}
			}
		}
	}
}

// TestBLASRoute checks products that go to OpenBLAS against the naive triple loop, and that
// the serial and threaded paths (and SyrkLower against gemm) agree bitwise.
func TestBLASRoute(t *testing.T) {
	defer forceBLAS(true)()
	rng := rand.New(rand.NewPCG(9, 1))
	for _, tc := range []gemmCase{
		{false, true, 300, 300, 200, 1, 0},
		{false, true, 301, 130, 300, 0.5, 1},
		{true, false, 130, 307, 260, -1, 0.5},
		{true, true, 97, 500, 100, 2, 0},
		{false, false, 500, 97, 100, 1, 1},
		{false, true, 700, 700, 40, 1, 0},
	} {
		if !blasRoute(tc.m, tc.n, tc.k) {
			t.Fatalf("%+v: not routed to OpenBLAS", tc)
		}
		a, lda, b, ldb, c, ldc := gemmOperands(rng, tc)
		want := append([]float64(nil), c...)
		naiveGemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want, ldc)
		var g GemmCtx
		par := append([]float64(nil), c...)
		g.Gemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, par, ldc)
		if e := relErr(par, want); e > 1e-14 {
			t.Errorf("%+v: relative error %g against the naive loop", tc, e)
		}
		serialOnly = true
		ser := append([]float64(nil), c...)
		g.Gemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, ser, ldc)
		serialOnly = false
		for i := range ser {
			if math.Float64bits(ser[i]) != math.Float64bits(par[i]) {
				t.Fatalf("%+v: element %d: threaded %v, serial %v", tc, i, par[i], ser[i])
			}
		}
		if tc.tA || !tc.tB || tc.m != tc.n {
			continue
		}
		// SyrkLower with A as both operands: the lower triangle equals gemm's bitwise.
		gm := append([]float64(nil), c...)
		g.Gemm(false, true, tc.m, tc.m, tc.k, tc.alpha, a, lda, a, lda, tc.beta, gm, ldc)
		for _, so := range []bool{false, true} {
			serialOnly = so
			sy := append([]float64(nil), c...)
			g.SyrkLower(tc.m, tc.k, tc.alpha, a, lda, tc.beta, sy, ldc)
			serialOnly = false
			for i := 0; i < tc.m; i++ {
				for j := 0; j <= i; j++ {
					if math.Float64bits(sy[i*ldc+j]) != math.Float64bits(gm[i*ldc+j]) {
						t.Fatalf("%+v serialOnly=%v: SyrkLower (%d, %d) = %v, gemm %v", tc, so, i, j, sy[i*ldc+j], gm[i*ldc+j])
					}
				}
			}
		}
	}
}

// BenchmarkBLASRoute compares the two routes of the openblas build on a product of mlp:128
// on 256 MNIST-shaped examples and on a large square one: products to OpenBLAS ("openblas")
// or to the package's own GEMM ("own"). Package model's BenchmarkBLASRoute compares them on
// the model's methods.
func BenchmarkBLASRoute(b *testing.B) {
	for _, sz := range [][3]int{{256, 128, 784}, {2048, 2048, 2048}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, route := range []bool{true, false} {
			name := map[bool]string{true: "openblas", false: "own"}[route]
			b.Run(fmt.Sprintf("GemmNT%dx%dx%d/%s", m, n, k, name), func(b *testing.B) {
				defer forceBLAS(route)()
				rng := rand.New(rand.NewPCG(1, 1))
				a, bb, c := randSlice(rng, m*k), randSlice(rng, n*k), make([]float64, m*n)
				var g GemmCtx
				for b.Loop() {
					g.Gemm(false, true, m, n, k, 1, a, k, bb, k, 0, c, n)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
			})
		}
	}
}
