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
	for r := 0; r < n; r++ { // W transposed, as the first layer's products use it
		for j := 0; j < p; j++ {
			wt[j*n+r] = w[r*p+j]
		}
	}
	del := make([]float64, m*n)
	for i := range del {
		del[i] = rng.NormFloat64()
	}
	z := make([]float64, m*n)
	g := make([]float64, n*p)
	var ctx GemmCtx
	forward := func() { SparseGather(n, 1, ptr, idx, val, wt, n, z, n) }
	transposed := func() { SparseGather(n, 1, cptr, cidx, cval, del, n, g, n) }
	pair := usePair
	defer func() { usePair = pair }()
	for _, c := range []struct {
		name   string
		avx512 bool // the AVX-512 kernel where the machine has it, else AVX2 alone
		f      func()
	}{
		{"forward/dense", pair, func() { ctx.Gemm(false, true, m, n, p, 1, x, p, w, p, 1, z, n) }},
		{"forward/sparse", pair, forward},
		{"forward/sparse-avx2", false, forward},
		{"transposed/dense", pair, func() { ctx.Gemm(true, false, n, p, m, 1, del, n, x, p, 1, g, p) }},
		{"transposed/sparse", pair, transposed},
		{"transposed/sparse-avx2", false, transposed},
	} {
		b.Run(c.name, func(b *testing.B) {
			usePair = c.avx512
			for i := 0; i < b.N; i++ {
				c.f()
			}
		})
	}
}
