package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// TestTrsmLeft compares TrsmLeft with gonum's Dtrsm (an independent implementation) on
// the left side, where it is blocked: both triangles, both transposes, unit and non-unit
// diagonals, m below, at and across several blocks of trsmBlock, leading dimensions larger
// than the rows, α ∈ {1, −0.7, 0}. The triangles have diagonals in [1, 2] and off-diagonal
// entries of size 1/√m, so the solutions are O(1). The two results differ by at most 2e-15
// of the largest entry (measured, both builds: the reordered rounding); the tolerance,
// 1e-12, is 500 times that, and a wrong block update still fails it by far (scaling the
// update by 0.999999 gives ≈ 1e-6). The residual op(A)X − αB is checked as well, by a naive
// loop. Results do not depend on GOMAXPROCS.
func TestTrsmLeft(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 3))
	var ref gonum.Implementation
	for _, sz := range [][2]int{{0, 3}, {5, 2}, {trsmBlock, 3}, {trsmBlock + 1, 1}, {300, 16}, {2*trsmBlock + 37, 5}} {
		m, n := sz[0], sz[1]
		lda, ldb := m+3, n+2
		a := make([]float64, max(lda*m, 1))
		for i := 0; i < m; i++ {
			for j := 0; j < m; j++ {
				a[i*lda+j] = rng.NormFloat64() / math.Sqrt(float64(m))
			}
			a[i*lda+i] = 1 + rng.Float64()
		}
		b0 := make([]float64, max(ldb*m, 1))
		for i := range b0 {
			b0[i] = rng.NormFloat64()
		}
		for _, ul := range []blas.Uplo{blas.Upper, blas.Lower} {
			for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for _, dg := range []blas.Diag{blas.NonUnit, blas.Unit} {
					for _, alpha := range []float64{1, -0.7, 0} {
						name := fmt.Sprintf("m=%d n=%d %c %c %c α=%g", m, n, ul, tA, dg, alpha)
						got := append([]float64(nil), b0...)
						want := append([]float64(nil), b0...)
						TrsmLeft(ul, tA, dg, m, n, alpha, a, lda, got, ldb)
						ref.Dtrsm(blas.Left, ul, tA, dg, m, n, alpha, a, lda, want, ldb)
						one := append([]float64(nil), b0...)
						prev := runtime.GOMAXPROCS(1)
						TrsmLeft(ul, tA, dg, m, n, alpha, a, lda, one, ldb)
						runtime.GOMAXPROCS(prev)
						for i := range one {
							if math.Float64bits(one[i]) != math.Float64bits(got[i]) {
								t.Fatalf("%s: GOMAXPROCS 1 differs at %d: %v, %v", name, i, one[i], got[i])
							}
						}
						var worst, scale float64
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								worst = max(worst, math.Abs(got[i*ldb+j]-want[i*ldb+j]))
								scale = max(scale, math.Abs(want[i*ldb+j]))
							}
						}
						if worst > 1e-12*max(scale, 1) {
							t.Errorf("%s: differs from gonum's by %.3g (scale %.3g)", name, worst, scale)
						}
						// The padding of B is untouched.
						for i := 0; i < m; i++ {
							for j := n; j < ldb; j++ {
								if got[i*ldb+j] != b0[i*ldb+j] {
									t.Fatalf("%s: wrote B[%d][%d] outside the matrix", name, i, j)
								}
							}
						}
						// Residual op(A) X − α B by a naive loop.
						opA := func(i, j int) float64 {
							if tA != blas.NoTrans {
								i, j = j, i
							}
							if (ul == blas.Upper && j < i) || (ul == blas.Lower && j > i) {
								return 0
							}
							if i == j && dg == blas.Unit {
								return 1
							}
							return a[i*lda+j]
						}
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								s := -alpha * b0[i*ldb+j]
								for k := 0; k < m; k++ {
									s += opA(i, k) * got[k*ldb+j]
								}
								if math.Abs(s) > 1e-12*float64(m) {
									t.Fatalf("%s: residual %.3g at (%d, %d)", name, s, i, j)
								}
							}
						}
					}
				}
			}
		}
	}
}

// BenchmarkTrsmLeft: the forward and backward solves with an upper 4096×4096 factor
// (RᵀR x = b) for 16 right-hand sides, by TrsmLeft on all at once and by gonum's Dtrsv one
// at a time (how score's preconditioner applies it to one vector).
func BenchmarkTrsmLeft(b *testing.B) {
	const m, n = 4096, 16
	rng := rand.New(rand.NewPCG(1, 1))
	a := make([]float64, m*m)
	for i := 0; i < m; i++ {
		for j := i; j < m; j++ {
			a[i*m+j] = rng.NormFloat64() / m
		}
		a[i*m+i] = 1
	}
	x := make([]float64, m*n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	b.Run("TrsmLeft", func(b *testing.B) {
		for range b.N {
			TrsmLeft(blas.Upper, blas.Trans, blas.NonUnit, m, n, 1, a, m, x, n)
			TrsmLeft(blas.Upper, blas.NoTrans, blas.NonUnit, m, n, 1, a, m, x, n)
		}
	})
	b.Run("Dtrsv", func(b *testing.B) {
		var impl gonum.Implementation
		col := make([]float64, m)
		for range b.N {
			for j := 0; j < n; j++ {
				impl.Dtrsv(blas.Upper, blas.Trans, blas.NonUnit, m, a, m, col, 1)
				impl.Dtrsv(blas.Upper, blas.NoTrans, blas.NonUnit, m, a, m, col, 1)
			}
		}
	})
}
