package blasimpl

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// psd returns B Bᵀ (n×n, row-major) for a random n×r B: positive semidefinite of rank r.
func psd(rng *rand.Rand, n, r int) []float64 {
	b := make([]float64, n*r)
	for i := range b {
		b[i] = rng.NormFloat64()
	}
	a := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			for k := 0; k < r; k++ {
				a[i*n+j] += b[i*r+k] * b[j*r+k]
			}
		}
	}
	return a
}

// TestCholesky checks lapack64's Potrf and Pstrf (OpenBLAS's LAPACK in the openblas build,
// gonum's otherwise) by reconstruction, Uᵀ U = A (Pᵀ A P for the pivoted one) to 1e-12
// relative, for both triangles and sizes across LAPACK's block size; the pivoted rank of
// a rank-r matrix must be r, as gonum's own Dpstrf finds.
func TestCholesky(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, n := range []int{1, 7, 90, 200} {
		for _, ul := range []blas.Uplo{blas.Upper, blas.Lower} {
			a := psd(rng, n, n+3)
			f := append([]float64(nil), a...)
			if _, ok := lapack64.Potrf(blas64.Symmetric{Uplo: ul, N: n, Stride: n, Data: f}); !ok {
				t.Fatalf("n = %d: Potrf failed on a positive definite matrix", n)
			}
			checkFactor(t, "Potrf", a, f, n, ul, nil, n)

			r := max(1, n/3)
			a = psd(rng, n, r)
			f = append([]float64(nil), a...)
			piv := make([]int, n)
			_, rank, ok := lapack64.Pstrf(blas64.Symmetric{Uplo: ul, N: n, Stride: n, Data: f}, piv, -1, make([]float64, 2*n))
			g := append([]float64(nil), a...)
			gpiv := make([]int, n)
			grank, _ := gonum.Implementation{}.Dpstrf(ul, n, g, n, gpiv, -1, make([]float64, 2*n))
			if rank != r || grank != r || ok != (r == n) {
				t.Fatalf("n = %d, %v: Pstrf rank %d (ok %v), gonum %d, want %d", n, ul, rank, ok, grank, r)
			}
			checkFactor(t, "Pstrf", a, f, n, ul, piv, rank)
		}
	}
	if n := 3; true {
		a := []float64{1, 2, 0, 2, 1, 0, 0, 0, 1} // indefinite
		if _, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: n, Data: a}); ok {
			t.Errorf("Potrf accepted an indefinite matrix")
		}
	}
}

// TestEigenSym checks lapack64.Syev (OpenBLAS's dsyevd in the openblas build) against the
// definition: A V = V diag(w) and VᵀV = I to 1e-12 relative, w ascending and equal to gonum's
// own Dsyev eigenvalues to 1e-12 relative, values-only and with vectors, both triangles,
// with a workspace query first as mat.EigenSym does.
func TestEigenSym(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	for _, n := range []int{1, 2, 9, 70} {
		for _, ul := range []blas.Uplo{blas.Upper, blas.Lower} {
			a := psd(rng, n, n)
			for i := range a {
				a[i] -= 0.5 // indefinite, still symmetric
			}
			ref := append([]float64(nil), a...)
			wref := make([]float64, n)
			wk := make([]float64, 1)
			gonum.Implementation{}.Dsyev(lapack.EVNone, ul, n, ref, n, wref, wk, -1)
			wk = make([]float64, int(wk[0]))
			gonum.Implementation{}.Dsyev(lapack.EVNone, ul, n, ref, n, wref, wk, len(wk))
			var scale float64
			for _, v := range wref {
				scale = math.Max(scale, math.Abs(v))
			}
			for _, job := range []lapack.EVJob{lapack.EVNone, lapack.EVCompute} {
				f := append([]float64(nil), a...)
				w := make([]float64, n)
				work := make([]float64, 1)
				sym := blas64.Symmetric{Uplo: ul, N: n, Stride: n, Data: f}
				lapack64.Syev(job, sym, w, work, -1)
				work = make([]float64, int(work[0]))
				if !lapack64.Syev(job, sym, w, work, len(work)) {
					t.Fatalf("n = %d: Syev failed", n)
				}
				for i := range w {
					if math.Abs(w[i]-wref[i]) > 1e-12*scale*float64(n) || (i > 0 && w[i] < w[i-1]) {
						t.Fatalf("n = %d %v %c: w[%d] = %v, gonum %v", n, ul, job, i, w[i], wref[i])
					}
				}
				if job == lapack.EVNone {
					continue
				}
				for i := 0; i < n; i++ {
					for j := 0; j < n; j++ {
						var av, vv float64
						for k := 0; k < n; k++ {
							av += a[i*n+k] * f[k*n+j]
							vv += f[k*n+i] * f[k*n+j]
						}
						if e := math.Abs(av - w[j]*f[i*n+j]); e > 1e-12*scale*float64(n) {
							t.Fatalf("n = %d %v: (AV − VΛ)[%d,%d] = %g", n, ul, i, j, e)
						}
						id := 0.0
						if i == j {
							id = 1
						}
						if e := math.Abs(vv - id); e > 1e-12*float64(n) {
							t.Fatalf("n = %d %v: (VᵀV − I)[%d,%d] = %g", n, ul, i, j, e)
						}
					}
				}
			}
		}
	}
}

// checkFactor reconstructs the factor in f (the triangle ul of a Cholesky factorisation of
// a, pivoted by piv when not nil, of the given rank) and compares.
func checkFactor(t *testing.T, what string, a, f []float64, n int, ul blas.Uplo, piv []int, rank int) {
	t.Helper()
	// U (upper) with Uᵀ U; for Lower, L = f's lower triangle and L Lᵀ = (Lᵀ)ᵀ Lᵀ.
	u := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			if ul == blas.Upper {
				u[i*n+j] = f[i*n+j]
			} else {
				u[i*n+j] = f[j*n+i]
			}
		}
	}
	var scale float64
	for _, v := range a {
		scale = math.Max(scale, math.Abs(v))
	}
	// Rows of U past the rank are not part of the factor (LAPACK leaves the negligible
	// trailing Schur complement there).
	for i := rank; i < n; i++ {
		for j := i; j < n; j++ {
			u[i*n+j] = 0
		}
	}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for k := 0; k <= min(i, j); k++ {
				s += u[k*n+i] * u[k*n+j]
			}
			ai, aj := i, j
			if piv != nil {
				ai, aj = piv[i], piv[j]
			}
			if e := math.Abs(s - a[ai*n+aj]); e > 1e-12*scale*float64(n) {
				t.Fatalf("%s n = %d %v: (UᵀU)[%d,%d] = %v, A = %v", what, n, ul, i, j, s, a[ai*n+aj])
			}
		}
	}
}
