package kernel

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkSparseGather compares the first layer's two products on a chunk of 256
// MNIST-shaped examples (784 features, density 0.19 as MNIST's) with 128 outputs: the
// forward X Wᵀ and the transposed Δᵀ X, dense GEMM against SparseGather on compressed rows
// and compressed columns (with AVX-512 where the machine has it, and with AVX2 only).
func BenchmarkSparseGather(b *testing.B) {
	const m, p, n = 256, 784, 128
	rng := rand.New(rand.NewPCG(3, 4))
	ptr, idx, val, x := sparseCase(rng, m, p, 0.19)
	// compressed columns of the same matrix
	cptr := make([]int32, p+1)
	var cidx []uint16
	var cval []float64
	for c := 0; c < p; c++ {
		for r := 0; r < m; r++ {
			if v := x[r*p+c]; v != 0 {
				cidx = append(cidx, uint16(r))
				cval = append(cval, v)
			}
		}
		cptr[c+1] = int32(len(cidx))
	}
	w := make([]float64, n*p)
	wt := make([]float64, p*n)
	for i := range w {
		w[i] = rng.NormFloat64()
	}
	del := make([]float64, m*n)
	for i := range del {
		del[i] = rng.NormFloat64()
	}
	z := make([]float64, m*n)
	g := make([]float64, n*p)
	var ctx GemmCtx
	b.Run("forward/dense", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			ctx.Gemm(false, true, m, n, p, 1, x, p, w, p, 1, z, n)
		}
	})
	b.Run("forward/sparse", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			SparseGather(n, 1, ptr, idx, val, wt, n, z, n)
		}
	})
	b.Run("forward/sparse-avx2", func(b *testing.B) {
		defer func(p bool) { usePair = p }(usePair)
		usePair = false
		for i := 0; i < b.N; i++ {
			SparseGather(n, 1, ptr, idx, val, wt, n, z, n)
		}
	})
	b.Run("transposed/dense", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			ctx.Gemm(true, false, n, p, m, 1, del, n, x, p, 1, g, p)
		}
	})
	b.Run("transposed/sparse", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			SparseGather(n, 1, cptr, cidx, cval, del, n, g, n)
		}
	})
	b.Run("transposed/sparse-avx2", func(b *testing.B) {
		defer func(p bool) { usePair = p }(usePair)
		usePair = false
		for i := 0; i < b.N; i++ {
			SparseGather(n, 1, cptr, cidx, cval, del, n, g, n)
		}
	})
}
