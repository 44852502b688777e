package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// sparseCase draws an m×p matrix with about density·m·p nonzeros (some rows empty), in
// compressed rows and dense.
func sparseCase(rng *rand.Rand, m, p int, density float64) (ptr []int32, idx []uint16, val, dense []float64) {
	dense = make([]float64, m*p)
	ptr = []int32{0}
	for r := 0; r < m; r++ {
		if r%7 != 3 { // every seventh row empty
			for c := 0; c < p; c++ {
				if rng.Float64() < density {
					v := rng.NormFloat64()
					dense[r*p+c] = v
					idx = append(idx, uint16(c))
					val = append(val, v)
				}
			}
		}
		ptr = append(ptr, int32(len(idx)))
	}
	return
}

// TestSparseGather compares SparseGather with the naive triple loop over the dense matrix,
// for widths that exercise the 64-column (AVX-512), 32- and 4-column blocks and the scalar
// tail, α ≠ 1 and strided operands, with and without the AVX-512 kernel. The error is
// bounded by 1e-14·(|dst| + Σ_k |val_k·src_k|): the measured worst is 3.8e-16 (the
// kernels' FMAs against the loop's separate roundings), a wrong row, column or scale fails by
// order 1, and the columns beyond the width must not change at all.
func TestSparseGather(t *testing.T) {
	pair := usePair
	defer func() { usePair = pair }()
	rng := rand.New(rand.NewPCG(1, 2))
	worst := 0.0
	for _, avx512 := range []bool{pair, false} {
		usePair = avx512
		for _, n := range []int{1, 3, 4, 7, 32, 36, 64, 67, 100, 128} {
			const m, p = 23, 41
			ptr, idx, val, dense := sparseCase(rng, m, p, 0.3)
			lds, ldd := n+3, n+5
			src := randSlice(rng, p*lds)
			dst := randSlice(rng, m*ldd)
			want := append([]float64(nil), dst...)
			scale := make([]float64, len(dst)) // |dst| + |α|·Σ_k |val_k·src_k|
			const alpha = -0.75
			for r := 0; r < m; r++ {
				for c := 0; c < n; c++ {
					var s, a float64
					for j := 0; j < p; j++ {
						s += dense[r*p+j] * src[j*lds+c]
						a += math.Abs(dense[r*p+j] * src[j*lds+c])
					}
					scale[r*ldd+c] = math.Abs(want[r*ldd+c]) + math.Abs(alpha)*a
					want[r*ldd+c] += alpha * s
				}
			}
			SparseGather(n, alpha, ptr, idx, val, src, lds, dst, ldd)
			for r := 0; r < m; r++ {
				for c := 0; c < ldd; c++ {
					got, w := dst[r*ldd+c], want[r*ldd+c]
					if c >= n {
						if got != w {
							t.Fatalf("n=%d: dst[%d,%d] beyond the width changed: %v → %v", n, r, c, w, got)
						}
						continue
					}
					e := math.Abs(got-w) / scale[r*ldd+c]
					if e > 1e-14 {
						t.Errorf("avx512=%v n=%d: dst[%d,%d] = %v, want %v", avx512, n, r, c, got, w)
					}
					worst = max(worst, e)
				}
			}
		}
	}
	t.Logf("worst error %.2g of |dst| + Σ|terms|", worst)
}

// TestSparseGatherBadIndex checks that an index beyond src panics (the assembly checks each
// index before it reads) for a width each kernel handles.
func TestSparseGatherBadIndex(t *testing.T) {
	for _, n := range []int{2, 8, 64} {
		src := make([]float64, 5*n)
		dst := make([]float64, n)
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("n=%d: index 5 of a 5-row src was accepted", n)
				}
			}()
			SparseGather(n, 1, []int32{0, 2}, []uint16{1, 5}, []float64{1, 1}, src, n, dst, n)
		}()
	}
}
