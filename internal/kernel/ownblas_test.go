//go:build !openblas

package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
	"gonum.org/v1/gonum/mat"
)

// TestOwnBLAS checks that blas64 routes Dgemm here (where the kernel runs) and compares it
// with gonum's Dgemm, an independent implementation: every transpose case, leading
// dimensions larger than the rows, β ∈ {0 (C holding NaN), 1, −0.5}, α = 0, k = 0 and empty
// products, shapes large enough to be split between threads (relative error ≤ 1e-13 of
// Σ|a||b|, the bound for two correctly rounded dot products of these lengths).
func TestOwnBLAS(t *testing.T) {
	if !useAsm {
		t.Skip("no AVX2+FMA: blas64 stays gonum's")
	}
	if _, ok := blas64.Implementation().(BLAS); !ok {
		t.Fatalf("blas64 is %T, want BLAS", blas64.Implementation())
	}
	rng := rand.New(rand.NewPCG(12, 1))
	var own BLAS
	var ref gonum.Implementation
	for _, sz := range [][3]int{{0, 3, 2}, {3, 0, 2}, {4, 5, 0}, {1, 7, 5}, {7, 1, 5}, {13, 11, 9}, {130, 97, 301}, {300, 260, 40}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for _, ab := range [][2]float64{{0.7, 0}, {1, 1}, {-1.3, -0.5}, {0, 2}} {
					alpha, beta := ab[0], ab[1]
					ar, ac := m, k
					if tA == blas.Trans {
						ar, ac = k, m
					}
					br, bc := k, n
					if tB == blas.Trans {
						br, bc = n, k
					}
					lda, ldb, ldc := max(1, ac)+2, max(1, bc)+1, max(1, n)+3
					a, b := randSlice(rng, max(1, ar*lda)), randSlice(rng, max(1, br*ldb))
					c := randSlice(rng, max(1, m*ldc))
					if beta == 0 {
						for i := range c {
							c[i] = math.NaN()
						}
					}
					got, want := append([]float64(nil), c...), append([]float64(nil), c...)
					if beta == 0 {
						for i := range want {
							want[i] = 0
						}
					}
					own.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, got, ldc)
					ref.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc)
					name := fmt.Sprintf("%v%v %d×%d×%d α=%v β=%v", tA, tB, m, n, k, alpha, beta)
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							var scale float64
							for p := 0; p < k; p++ {
								var av, bv float64
								if tA == blas.Trans {
									av = a[p*lda+i]
								} else {
									av = a[i*lda+p]
								}
								if tB == blas.Trans {
									bv = b[j*ldb+p]
								} else {
									bv = b[p*ldb+j]
								}
								scale += math.Abs(alpha * av * bv)
							}
							if beta != 0 {
								scale += math.Abs(beta * c[i*ldc+j])
							}
							if e := math.Abs(got[i*ldc+j] - want[i*ldc+j]); !(e <= 1e-13*(scale+1e-300)) {
								t.Fatalf("%s: C[%d,%d] = %v, gonum %v", name, i, j, got[i*ldc+j], want[i*ldc+j])
							}
						}
						// Padding past n is not touched.
						for j := n; j < ldc && i*ldc+j < len(got); j++ {
							if !(math.Float64bits(got[i*ldc+j]) == math.Float64bits(c[i*ldc+j])) {
								t.Fatalf("%s: C[%d,%d] past n was written", name, i, j)
							}
						}
					}
				}
			}
		}
	}
	// Through gonum's mat: a product and a Cholesky factorisation (blocked, so Dgemm runs).
	x := mat.NewDense(300, 200, randSlice(rng, 300*200))
	var s mat.SymDense
	s.SymOuterK(1, x.T())
	var p mat.Dense
	p.Mul(x.T(), x)
	if !mat.EqualApprox(&p, &s, 1e-10) {
		t.Fatal("mat.Dense.Mul disagrees with SymOuterK")
	}
	var ch mat.Cholesky
	if !ch.Factorize(&s) {
		t.Fatal("Cholesky failed")
	}
	var r mat.Dense
	ch.ToSym(new(mat.SymDense))
	var u mat.TriDense
	ch.UTo(&u)
	r.Mul(u.T(), &u)
	if !mat.EqualApprox(&r, &s, 1e-8) {
		t.Fatal("UᵀU ≠ A after the Cholesky factorisation")
	}
}

// TestOwnDsyrk compares BLAS.Dsyrk with gonum's Dsyrk (an independent implementation):
// both triangles and transposes, n across several blocks, β ∈ {0 (the triangle holding NaN),
// 1, −0.5}, α = 0 and k = 0, leading dimensions larger than the rows; the other triangle must
// be left as it was (relative error ≤ 1e-13 of Σ|a||a| + |βc|).
func TestOwnDsyrk(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 1))
	var own BLAS
	var ref gonum.Implementation
	for _, nk := range [][2]int{{1, 3}, {5, 0}, {7, 4}, {syrkBlock + 5, 30}, {2*syrkBlock + 11, 150}} {
		n, k := nk[0], nk[1]
		for _, ul := range []blas.Uplo{blas.Upper, blas.Lower} {
			for _, tr := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for _, ab := range [][2]float64{{0.7, 0}, {1, 1}, {-1.3, -0.5}, {0, 2}} {
					alpha, beta := ab[0], ab[1]
					ar, ac := n, k
					if tr == blas.Trans {
						ar, ac = k, n
					}
					lda, ldc := max(1, ac)+2, n+3
					a := randSlice(rng, max(1, ar*lda))
					c := randSlice(rng, n*ldc)
					inTri := func(i, j int) bool { return (ul == blas.Upper) == (j >= i) || i == j }
					if beta == 0 {
						for i := 0; i < n; i++ {
							for j := 0; j < n; j++ {
								if inTri(i, j) {
									c[i*ldc+j] = math.NaN()
								}
							}
						}
					}
					got, want := append([]float64(nil), c...), append([]float64(nil), c...)
					if beta == 0 { // gonum's Dsyrk reads C even then: give it zeros
						for i := range want {
							if math.IsNaN(want[i]) {
								want[i] = 0
							}
						}
					}
					own.Dsyrk(ul, tr, n, k, alpha, a, lda, beta, got, ldc)
					ref.Dsyrk(ul, tr, n, k, alpha, a, lda, beta, want, ldc)
					for i := 0; i < n; i++ {
						for j := 0; j < ldc && i*ldc+j < len(got); j++ {
							if j >= n || !inTri(i, j) {
								if math.Float64bits(got[i*ldc+j]) != math.Float64bits(c[i*ldc+j]) {
									t.Fatalf("%v %v n=%d k=%d: C[%d,%d] outside the triangle was written", ul, tr, n, k, i, j)
								}
								continue
							}
							var scale float64
							for p := 0; p < k; p++ {
								var x, y float64
								if tr == blas.Trans {
									x, y = a[p*lda+i], a[p*lda+j]
								} else {
									x, y = a[i*lda+p], a[j*lda+p]
								}
								scale += math.Abs(alpha * x * y)
							}
							if beta != 0 {
								scale += math.Abs(beta * c[i*ldc+j])
							}
							if e := math.Abs(got[i*ldc+j] - want[i*ldc+j]); !(e <= 1e-13*scale) && e != 0 {
								t.Fatalf("%v %v n=%d k=%d α=%v β=%v: C[%d,%d] = %v, gonum %v", ul, tr, n, k, alpha, beta, i, j, got[i*ldc+j], want[i*ldc+j])
							}
						}
					}
				}
			}
		}
	}
}

// TestOwnDsyr2k compares BLAS.Dsyr2k with gonum's Dsyr2k (an independent implementation)
// as TestOwnDsyrk does: both triangles and transposes, n across several blocks, β ∈ {0 (the
// triangle holding NaN), 1, −0.5}, α = 0 and k = 0, leading dimensions larger than the rows
// and different for A and B; the other triangle must be left as it was (relative error ≤
// 1e-13 of Σ(|a||b| + |b||a|) + |βc|).
func TestOwnDsyr2k(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 2))
	var own BLAS
	var ref gonum.Implementation
	for _, nk := range [][2]int{{1, 3}, {5, 0}, {7, 4}, {syrkBlock + 5, 30}, {2*syrkBlock + 11, 150}} {
		n, k := nk[0], nk[1]
		for _, ul := range []blas.Uplo{blas.Upper, blas.Lower} {
			for _, tr := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for _, ab := range [][2]float64{{0.7, 0}, {1, 1}, {-1.3, -0.5}, {0, 2}} {
					alpha, beta := ab[0], ab[1]
					ar, ac := n, k
					if tr == blas.Trans {
						ar, ac = k, n
					}
					lda, ldb, ldc := max(1, ac)+2, max(1, ac)+1, n+3
					a := randSlice(rng, max(1, ar*lda))
					b := randSlice(rng, max(1, ar*ldb))
					c := randSlice(rng, n*ldc)
					inTri := func(i, j int) bool { return (ul == blas.Upper) == (j >= i) || i == j }
					if beta == 0 {
						for i := 0; i < n; i++ {
							for j := 0; j < n; j++ {
								if inTri(i, j) {
									c[i*ldc+j] = math.NaN()
								}
							}
						}
					}
					got, want := append([]float64(nil), c...), append([]float64(nil), c...)
					if beta == 0 {
						for i := range want {
							if math.IsNaN(want[i]) {
								want[i] = 0
							}
						}
					}
					own.Dsyr2k(ul, tr, n, k, alpha, a, lda, b, ldb, beta, got, ldc)
					ref.Dsyr2k(ul, tr, n, k, alpha, a, lda, b, ldb, beta, want, ldc)
					for i := 0; i < n; i++ {
						for j := 0; j < ldc && i*ldc+j < len(got); j++ {
							if j >= n || !inTri(i, j) {
								if math.Float64bits(got[i*ldc+j]) != math.Float64bits(c[i*ldc+j]) {
									t.Fatalf("%v %v n=%d k=%d: C[%d,%d] outside the triangle was written", ul, tr, n, k, i, j)
								}
								continue
							}
							var scale float64
							for p := 0; p < k; p++ {
								var ai, aj, bi, bj float64
								if tr == blas.Trans {
									ai, aj, bi, bj = a[p*lda+i], a[p*lda+j], b[p*ldb+i], b[p*ldb+j]
								} else {
									ai, aj, bi, bj = a[i*lda+p], a[j*lda+p], b[i*ldb+p], b[j*ldb+p]
								}
								scale += math.Abs(alpha*ai*bj) + math.Abs(alpha*bi*aj)
							}
							if beta != 0 {
								scale += math.Abs(beta * c[i*ldc+j])
							}
							if e := math.Abs(got[i*ldc+j] - want[i*ldc+j]); !(e <= 1e-13*scale) && e != 0 {
								t.Fatalf("%v %v n=%d k=%d α=%v β=%v: C[%d,%d] = %v, gonum %v", ul, tr, n, k, alpha, beta, i, j, got[i*ldc+j], want[i*ldc+j])
							}
						}
					}
				}
			}
		}
	}
}

// TestOwnDsymv compares BLAS.Dsymv with gonum's Dsymv (an independent implementation): both
// triangles, unit, strided and negative increments, β ∈ {0, 1, −0.5}, α ∈ {0, 1.3}, n across
// the vector kernels' widths (relative error ≤ 1e-13 of Σ|a||x| + |βy|).
func TestOwnDsymv(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 3))
	var own BLAS
	var ref gonum.Implementation
	for _, n := range []int{1, 2, 5, 17, 64, 203, 300} {
		for _, ul := range []blas.Uplo{blas.Upper, blas.Lower} {
			for _, inc := range [][2]int{{1, 1}, {3, 1}, {1, 2}, {n + 4, 5}, {-2, 1}} {
				for _, ab := range [][2]float64{{1.3, 0}, {1.3, 1}, {1.3, -0.5}, {0, -0.5}} {
					incX, incY := inc[0], inc[1]
					alpha, beta := ab[0], ab[1]
					lda := n + 2
					a := randSlice(rng, n*lda)
					x := randSlice(rng, (n-1)*abs(incX)+1)
					y := randSlice(rng, (n-1)*abs(incY)+1)
					got, want := append([]float64(nil), y...), append([]float64(nil), y...)
					own.Dsymv(ul, n, alpha, a, lda, x, incX, beta, got, incY)
					ref.Dsymv(ul, n, alpha, a, lda, x, incX, beta, want, incY)
					var amax, xmax float64
					for _, v := range a {
						amax = math.Max(amax, math.Abs(v))
					}
					for _, v := range x {
						xmax = math.Max(xmax, math.Abs(v))
					}
					for i := range got {
						scale := float64(n)*amax*xmax*math.Abs(alpha) + math.Abs(beta*y[i])
						if e := math.Abs(got[i] - want[i]); !(e <= 1e-13*scale) && e != 0 {
							t.Fatalf("%v n=%d inc=%v α=%v β=%v: y[%d] = %v, gonum %v", ul, n, inc, alpha, beta, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}
