package eigen_test

import (
	"github.com/sgdprior/sgdprior/internal/eigen"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/gonum"

	_ "github.com/sgdprior/sgdprior/internal/blasimpl"
)

// The tolerances of the tests, as multiples of n·ε (‖·‖ the max-abs norm of A): eigenvalues
// against gonum's Dsyev (QR iteration, an independent method) or a closed form within
// cVal·n·ε·‖A‖, ‖QᵀQ − I‖_max ≤ cOrth·n·ε, ‖AQ − QΛ‖_max ≤ cRes·n·ε·‖A‖. Backward stable
// eigensolvers meet them with c of order 1; 10 leaves room for the constants of the
// tridiagonal reduction.
const (
	cVal  = 10
	cOrth = 10
	cRes  = 10
)

const eps = 0x1p-52

// symFull returns the n×n symmetric matrix as a full row-major slice.
func randSym(rng *rand.Rand, n int) []float64 {
	a := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			v := rng.NormFloat64()
			a[i*n+j], a[j*n+i] = v, v
		}
	}
	return a
}

// gram returns Uᵀ U/r for a random r×n U: positive semidefinite of rank min(r, n).
func gram(rng *rand.Rand, n, r int) []float64 {
	u := make([]float64, r*n)
	for i := range u {
		u[i] = rng.NormFloat64()
	}
	a := make([]float64, n*n)
	blas64.Implementation().Dgemm(blas.Trans, blas.NoTrans, n, n, r, 1/float64(r), u, n, u, n, 0, a, n)
	for i := 0; i < n; i++ { // exact symmetry
		for j := 0; j < i; j++ {
			a[i*n+j] = a[j*n+i]
		}
	}
	return a
}

// conj returns Q diag(lam) Qᵀ for a random orthogonal Q (from the QR factorisation of a
// Gaussian matrix).
func conj(rng *rand.Rand, lam []float64) []float64 {
	n := len(lam)
	g := make([]float64, n*n)
	for i := range g {
		g[i] = rng.NormFloat64()
	}
	var impl gonum.Implementation
	tau := make([]float64, n)
	work := make([]float64, 64*n)
	impl.Dgeqrf(n, n, g, n, tau, work, len(work))
	impl.Dorgqr(n, n, n, g, n, tau, work, len(work))
	ql := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			ql[i*n+j] = g[i*n+j] * lam[j]
		}
	}
	a := make([]float64, n*n)
	blas64.Implementation().Dgemm(blas.NoTrans, blas.Trans, n, n, n, 1, ql, n, g, n, 0, a, n)
	for i := 0; i < n; i++ {
		for j := 0; j < i; j++ {
			a[i*n+j] = a[j*n+i]
		}
	}
	return a
}

func maxAbs(a []float64) float64 {
	var m float64
	for _, v := range a {
		m = math.Max(m, math.Abs(v))
	}
	return m
}

// check runs Dsyev (both triangles, the other one holding garbage) on the full symmetric a
// and checks the residual, orthogonality, ascending order, and the eigenvalues against want
// (nil: gonum's Dsyev values).
func check(t *testing.T, name string, n int, a, want []float64) {
	t.Helper()
	norm := maxAbs(a)
	if want == nil && n > 0 {
		ref := append([]float64(nil), a...)
		want = make([]float64, n)
		work := make([]float64, 1)
		var impl gonum.Implementation
		impl.Dsyev(lapack.EVNone, blas.Upper, n, ref, n, want, work, -1)
		work = make([]float64, max(1, int(work[0])))
		impl.Dsyev(lapack.EVNone, blas.Upper, n, ref, n, want, work, len(work))
	}
	for _, ul := range []blas.Uplo{blas.Upper, blas.Lower} {
		q := append([]float64(nil), a...)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				if (ul == blas.Upper && j < i) || (ul == blas.Lower && j > i) {
					q[i*n+j] = 1e300
				}
			}
		}
		w := make([]float64, n)
		work := make([]float64, 1)
		var impl eigen.Lapack
		impl.Dsyev(lapack.EVCompute, ul, n, q, max(1, n), w, work, -1)
		work = make([]float64, max(1, int(work[0])))
		if !impl.Dsyev(lapack.EVCompute, ul, n, q, max(1, n), w, work, len(work)) {
			t.Fatalf("%s n=%d: Dsyev failed", name, n)
		}
		nf := float64(max(n, 1))
		// Values only, with the minimal workspace 3n − 1 (gonum's own Dsyev would then run the
		// unblocked reduction).
		wv := make([]float64, n)
		av := append([]float64(nil), a...)
		if !impl.Dsyev(lapack.EVNone, ul, n, av, max(1, n), wv, make([]float64, max(1, 3*n-1)), max(1, 3*n-1)) {
			t.Fatalf("%s n=%d: Dsyev (values) failed", name, n)
		}
		for i := 0; i < n; i++ {
			if e := math.Abs(wv[i] - want[i]); !(e <= cVal*nf*eps*norm) {
				t.Fatalf("%s n=%d %v: values only: λ[%d] = %v, want %v", name, n, ul, i, wv[i], want[i])
			}
		}
		for i := 0; i < n; i++ {
			if i > 0 && w[i] < w[i-1] {
				t.Fatalf("%s n=%d: eigenvalues not ascending at %d", name, n, i)
			}
			if e := math.Abs(w[i] - want[i]); !(e <= cVal*nf*eps*norm) {
				t.Fatalf("%s n=%d %v: λ[%d] = %v, want %v (error %.3g·nε‖A‖)", name, n, ul, i, w[i], want[i], e/(nf*eps*norm))
			}
		}
		if n == 0 {
			continue
		}
		qtq := make([]float64, n*n)
		blas64.Implementation().Dgemm(blas.Trans, blas.NoTrans, n, n, n, 1, q, n, q, n, 0, qtq, n)
		for i := 0; i < n; i++ {
			qtq[i*n+i] -= 1
		}
		if e := maxAbs(qtq); !(e <= cOrth*nf*eps) {
			t.Fatalf("%s n=%d %v: ‖QᵀQ − I‖ = %.3g·nε", name, n, ul, e/(nf*eps))
		}
		aq := make([]float64, n*n)
		blas64.Implementation().Dgemm(blas.NoTrans, blas.NoTrans, n, n, n, 1, a, n, q, n, 0, aq, n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				aq[i*n+j] -= q[i*n+j] * w[j]
			}
		}
		if e := maxAbs(aq); !(e <= cRes*nf*eps*math.Max(norm, math.SmallestNonzeroFloat64)) {
			t.Fatalf("%s n=%d %v: ‖AQ − QΛ‖ = %.3g·nε‖A‖", name, n, ul, e/(nf*eps*norm))
		}
	}
}

func TestDsyevRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{0, 1, 2, 3, 10, 33, 64, 65, 100, 257, 600} {
		check(t, "random", n, randSym(rng, n), nil)
	}
}

// TestDsyevGram: positive semidefinite Gram matrices of rank r < n, the case of score (many
// eigenvalues at ~0: heavy deflation).
func TestDsyevGram(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, nr := range [][2]int{{50, 10}, {300, 40}, {700, 350}, {1000, 900}} {
		check(t, "gram", nr[0], gram(rng, nr[0], nr[1]), nil)
	}
}

// TestDsyevClusters: exact repeated eigenvalues and tight clusters, Q diag(λ) Qᵀ, against
// the closed form λ.
func TestDsyevClusters(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 3))
	for _, n := range []int{40, 200, 513} {
		lam := make([]float64, n)
		for i := range lam {
			lam[i] = float64(1 + 3*i/n) // three values, each repeated
		}
		check(t, "repeated", n, conj(rng, lam), lam)
		for i := range lam {
			lam[i] = float64(i%4) + 1e-10*float64(i) // four clusters of width ~1e-8
		}
		slicesSort(lam)
		check(t, "clusters", n, conj(rng, lam), lam)
	}
}

func slicesSort(x []float64) {
	for i := 1; i < len(x); i++ {
		for j := i; j > 0 && x[j] < x[j-1]; j-- {
			x[j], x[j-1] = x[j-1], x[j]
		}
	}
}

// TestDsyevClosedForms: the (−1, 2, −1) tridiagonal matrix, eigenvalues 2 − 2cos(kπ/(n+1));
// Wilkinson's W⁺ (diagonal |i − m|, off-diagonal 1; against gonum); a graded diagonal
// matrix with off-diagonal coupling (against gonum); a diagonal matrix (its sorted diagonal);
// the zero matrix; random matrices scaled by 1e±160 (against gonum).
func TestDsyevClosedForms(t *testing.T) {
	for _, n := range []int{5, 100, 401} {
		a := make([]float64, n*n)
		want := make([]float64, n)
		for i := 0; i < n; i++ {
			a[i*n+i] = 2
			if i+1 < n {
				a[i*n+i+1], a[(i+1)*n+i] = -1, -1
			}
			want[i] = 2 - 2*math.Cos(float64(i+1)*math.Pi/float64(n+1))
		}
		check(t, "laplacian", n, a, want)
	}
	for _, n := range []int{21, 201} {
		a := make([]float64, n*n)
		for i := 0; i < n; i++ {
			a[i*n+i] = math.Abs(float64(i - n/2))
			if i+1 < n {
				a[i*n+i+1], a[(i+1)*n+i] = 1, 1
			}
		}
		check(t, "wilkinson", n, a, nil)
	}
	rng := rand.New(rand.NewPCG(1, 4))
	for _, n := range []int{80, 300} {
		a := make([]float64, n*n)
		for i := 0; i < n; i++ {
			for j := 0; j <= i; j++ {
				v := rng.NormFloat64() * math.Pow(0.9, float64(i+j))
				a[i*n+j], a[j*n+i] = v, v
			}
		}
		check(t, "graded", n, a, nil)
		want := make([]float64, n)
		d := make([]float64, n*n)
		for i := 0; i < n; i++ {
			d[i*n+i] = rng.NormFloat64()
			want[i] = d[i*n+i]
		}
		slicesSort(want)
		check(t, "diagonal", n, d, want)
	}
	check(t, "zero", 70, make([]float64, 70*70), make([]float64, 70))
	for _, f := range []float64{1e-160, 1e160} { // scaled into the safe range and back
		// Reference: gonum's eigenvalues of the unscaled matrix, times f (gonum's own Dsyev
		// panics at 1e-160, in Dsterf's rescaling).
		a := randSym(rng, 90)
		want := make([]float64, 90)
		ref := append([]float64(nil), a...)
		work := make([]float64, 64*90)
		gonum.Implementation{}.Dsyev(lapack.EVNone, blas.Upper, 90, ref, 90, want, work, len(work))
		for i := range a {
			a[i] *= f
		}
		for i := range want {
			want[i] *= f
		}
		check(t, "scaled", 90, a, want)
	}
	check(t, "2×2", 2, []float64{1, 2, 2, 1}, []float64{-1, 3})
	check(t, "1×1", 1, []float64{-7}, []float64{-7})
}

// TestDsyevThreads: bitwise identical eigenpairs with GOMAXPROCS 1 and 4.
func TestDsyevThreads(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 5))
	n := 700
	a := gram(rng, n, 500)
	run := func(p int) ([]float64, []float64) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(p))
		q := append([]float64(nil), a...)
		w := make([]float64, n)
		if !eigen.Dsyev(blas.Upper, n, q, n, w) {
			t.Fatal("Dsyev failed")
		}
		return q, w
	}
	q1, w1 := run(1)
	q4, w4 := run(4)
	for i := range q1 {
		if math.Float64bits(q1[i]) != math.Float64bits(q4[i]) {
			t.Fatalf("GOMAXPROCS 1 and 4 differ at Q[%d]", i)
		}
	}
	for i := range w1 {
		if math.Float64bits(w1[i]) != math.Float64bits(w4[i]) {
			t.Fatalf("GOMAXPROCS 1 and 4 differ at λ[%d]", i)
		}
	}
}

// TestDsyevNonFinite: a NaN or an infinity in the triangle read makes Dsyev and Values report
// false (and return), with and without vectors.
func TestDsyevNonFinite(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 6))
	for _, n := range []int{1, 50, 300} {
		for _, bad := range []float64{math.NaN(), math.Inf(1)} {
			for _, job := range []lapack.EVJob{lapack.EVNone, lapack.EVCompute} {
				a := randSym(rng, n)
				a[(n/2)*n+n-1] = bad // upper triangle (the diagonal when n = 1)
				w := make([]float64, n)
				work := make([]float64, 3*n)
				if (eigen.Lapack{}).Dsyev(job, blas.Upper, n, a, n, w, work, len(work)) {
					t.Errorf("n=%d %v %c: Dsyev reported success", n, bad, job)
				}
			}
		}
	}
}
