package blasimpl

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/lapack/lapack64"

	"github.com/sgdprior/sgdprior/internal/eigen"
	"github.com/sgdprior/sgdprior/internal/kernel"
)

// TestSelected checks that blas64 is routed where the build says: by default gonum's
// implementation, with Dgemm, Dsyrk, Dsyr2k and Dsymv on internal/kernel's routines
// (kernel.BLAS) where its assembly runs, and lapack64's Dsyev internal/eigen's divide and
// conquer; OpenBLAS (through netlib, one thread) with -tags openblas.
func TestSelected(t *testing.T) {
	impl := fmt.Sprintf("%T", blas64.Implementation())
	if OpenBLAS {
		if !strings.Contains(impl, "blasimpl.Implementation") {
			t.Errorf("openblas build: blas64 is %s", impl)
		}
		if Threads() != 1 {
			t.Errorf("openblas build: OpenBLAS uses %d threads, want 1", Threads())
		}
		if !strings.HasPrefix(Name(), "OpenBLAS") {
			t.Errorf("Name() = %q", Name())
		}
	} else if kernel.HasAsm() {
		if impl != "kernel.BLAS" {
			t.Errorf("default build with AVX2+FMA: blas64 is %s, want kernel.BLAS", impl)
		}
		if !strings.Contains(Name(), "AVX2 GEMM") {
			t.Errorf("Name() = %q", Name())
		}
	} else if !strings.Contains(impl, "gonum") {
		t.Errorf("default build: blas64 is %s", impl)
	}
	if !OpenBLAS {
		// lapack64 has no getter: its Dsyev with vectors must give internal/eigen's bits, and
		// not gonum's (QR iteration, different rounding).
		rng := rand.New(rand.NewPCG(3, 3))
		n := 90
		a := psd(rng, n, n)
		run := func(f func(q, w []float64) bool) ([]float64, []float64) {
			q, w := append([]float64(nil), a...), make([]float64, n)
			if !f(q, w) {
				t.Fatal("Dsyev failed")
			}
			return q, w
		}
		work := make([]float64, 3*n)
		q1, w1 := run(func(q, w []float64) bool {
			return lapack64.Syev(lapack.EVCompute, blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: n, Data: q}, w, work, len(work))
		})
		q2, w2 := run(func(q, w []float64) bool { return eigen.Dsyev(blas.Upper, n, q, n, w) })
		q3, _ := run(func(q, w []float64) bool {
			return gonum.Implementation{}.Dsyev(lapack.EVCompute, blas.Upper, n, q, n, w, work, len(work))
		})
		same := func(x, y []float64) bool {
			for i := range x {
				if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
					return false
				}
			}
			return true
		}
		if !same(q1, q2) || !same(w1, w2) {
			t.Errorf("default build: lapack64.Syev is not internal/eigen's Dsyev")
		}
		if same(q1, q3) {
			t.Errorf("default build: lapack64.Syev gives gonum's QR-iteration bits")
		}
	}
}

// TestDgemmDgemv checks the selected BLAS against naive loops, every transpose case, with
// leading dimensions larger than the rows (tolerance: k·1e-15 relative to Σ|a||b|).
func TestDgemmDgemv(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	randSlice := func(n int) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = rng.NormFloat64()
		}
		return s
	}
	impl := blas64.Implementation()
	for _, sz := range [][3]int{{1, 1, 1}, {7, 5, 3}, {130, 97, 301}, {300, 260, 40}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				ar, ac := m, k
				if tA {
					ar, ac = k, m
				}
				br, bc := k, n
				if tB {
					br, bc = n, k
				}
				lda, ldb, ldc := ac+3, bc+1, n+2
				a, b, c := randSlice(ar*lda), randSlice(br*ldb), randSlice(m*ldc)
				opA := func(i, p int) float64 {
					if tA {
						return a[p*lda+i]
					}
					return a[i*lda+p]
				}
				opB := func(p, j int) float64 {
					if tB {
						return b[j*ldb+p]
					}
					return b[p*ldb+j]
				}
				const alpha, beta = 0.7, -0.4
				got := append([]float64(nil), c...)
				ta, tb := blas.NoTrans, blas.NoTrans
				if tA {
					ta = blas.Trans
				}
				if tB {
					tb = blas.Trans
				}
				impl.Dgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, got, ldc)
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						var s, mag float64
						for p := 0; p < k; p++ {
							s += opA(i, p) * opB(p, j)
							mag += math.Abs(opA(i, p) * opB(p, j))
						}
						want := alpha*s + beta*c[i*ldc+j]
						if d := math.Abs(got[i*ldc+j] - want); d > float64(k)*1e-15*(mag+math.Abs(c[i*ldc+j])) {
							t.Fatalf("Dgemm %v×%v×%v tA=%v tB=%v: C[%d,%d] = %v, naive %v", m, n, k, tA, tB, i, j, got[i*ldc+j], want)
						}
					}
				}
			}
		}
		// Dgemv: y = α A x + β y with A m×k (lda k+3), x with stride 2.
		lda := k + 3
		a, x, y := randSlice(m*lda), randSlice(2*k), randSlice(m)
		got := append([]float64(nil), y...)
		impl.Dgemv(blas.NoTrans, m, k, 1.5, a, lda, x, 2, 0.5, got, 1)
		for i := 0; i < m; i++ {
			var s, mag float64
			for p := 0; p < k; p++ {
				s += a[i*lda+p] * x[2*p]
				mag += math.Abs(a[i*lda+p] * x[2*p])
			}
			want := 1.5*s + 0.5*y[i]
			if d := math.Abs(got[i] - want); d > float64(k)*1e-15*(mag+math.Abs(y[i])) {
				t.Fatalf("Dgemv %d×%d: y[%d] = %v, naive %v", m, k, i, got[i], want)
			}
		}
	}
}
