package eigen

import (
	"math"
	"slices"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/gonum"
)

// leafSize is the largest subproblem solved directly by gonum's QR iteration (Dsteqr).
const leafSize = 32

// parMin is the smallest subproblem whose two halves are solved in separate goroutines.
const parMin = 256

// Tridiag computes the eigenvalues (ascending, into d[:n]) and the orthonormal eigenvectors
// (the columns of the n×n z, row stride ldz) of the symmetric tridiagonal matrix with
// diagonal d[:n] and off-diagonal e[:n-1], by Cuppen's divide and conquer (docs/MATH.md
// §14). e is overwritten. It reports false if the QR iteration of a
// leaf does not converge.
func Tridiag(n int, d, e, z []float64, ldz int) bool {
	switch {
	case n < 0:
		panic("eigen: Tridiag: negative dimension")
	case ldz < max(1, n):
		panic("eigen: Tridiag: bad leading dimension")
	case len(d) < n || len(e) < n-1 || (n > 0 && len(z) < ldz*(n-1)+n):
		panic("eigen: Tridiag: short slice")
	}
	if n == 0 {
		return true
	}
	// Scale T to max-norm 1 (the deflation tolerances are relative to it).
	var impl gonum.Implementation
	orgnrm := impl.Dlanst(lapack.MaxAbs, n, d, e)
	for i := 0; i < n; i++ {
		clear(z[i*ldz : i*ldz+n])
	}
	if orgnrm == 0 {
		for i := 0; i < n; i++ {
			z[i*ldz+i] = 1
		}
		return true
	}
	for i := range d[:n] {
		d[i] /= orgnrm
	}
	for i := range e[:n-1] {
		e[i] /= orgnrm
	}
	ok := divide(n, d, e, z, ldz)
	for i := range d[:n] {
		d[i] *= orgnrm
	}
	return ok
}

// divide solves the tridiagonal problem (d, e) of size n into z (zeroed on entry): a leaf by
// Dsteqr, else the tearing T = diag(T₁, T₂) + β v vᵀ, β = |e_{m−1}|, v = e_{m−1} +
// sign(e_{m−1}) e_m, the two halves recursively, and their merge.
func divide(n int, d, e, z []float64, ldz int) bool {
	if n <= leafSize {
		var impl gonum.Implementation
		return impl.Dsteqr(lapack.EVTridiag, n, d, e, z, ldz, make([]float64, max(1, 2*n-2)))
	}
	m := n / 2
	rho := e[m-1]
	beta := math.Abs(rho)
	d[m-1] -= beta
	d[m] -= beta
	var ok1, ok2 bool
	if n >= parMin {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok2 = divide(n-m, d[m:], e[m:], z[m*ldz+m:], ldz)
		}()
		ok1 = divide(m, d[:m], e[:m-1], z, ldz)
		wg.Wait()
	} else {
		ok1 = divide(m, d[:m], e[:m-1], z, ldz)
		ok2 = divide(n-m, d[m:], e[m:], z[m*ldz+m:], ldz)
	}
	if !ok1 || !ok2 {
		return false
	}
	merge(n, m, d, z, ldz, beta, math.Copysign(1, rho))
	return true
}

// merge computes the eigendecomposition of diag(Λ₁, Λ₂) + β u uᵀ with u = Qᵀv, Q =
// diag(Q₁, Q₂) the eigenvectors in z (columns; Q₁ m×m, Q₂ (n−m)×(n−m)) and d their
// eigenvalues, and overwrites d and z with those of T, ascending
// (docs/MATH.md §14: deflation, secular equation, Löwner's vector,
// eigenvector product).
func merge(n, m int, d, z []float64, ldz int, beta, sgn float64) {
	// u = (last row of Q₁, sgn · first row of Q₂)/√2, ρ = 2β: ‖u‖ = 1.
	u := make([]float64, n)
	for j := 0; j < m; j++ {
		u[j] = z[(m-1)*ldz+j] / math.Sqrt2
	}
	for j := m; j < n; j++ {
		u[j] = sgn * z[m*ldz+j] / math.Sqrt2
	}
	rho := 2 * beta

	// Sort the poles: perm[k] is the column of the k-th smallest eigenvalue.
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	slices.SortStableFunc(perm, func(i, j int) int {
		switch {
		case d[i] < d[j]:
			return -1
		case d[i] > d[j]:
			return 1
		}
		return 0
	})
	dp := make([]float64, n)
	zp := make([]float64, n)
	for k, c := range perm {
		dp[k], zp[k] = d[c], u[c]
	}

	// Deflation (docs/MATH.md): a small component of u, or two poles closer than the
	// tolerance, rotated together so one component vanishes.
	var dmax, zmax float64
	for k := range dp {
		dmax = math.Max(dmax, math.Abs(dp[k]))
		zmax = math.Max(zmax, math.Abs(zp[k]))
	}
	tol := 8 * dlamchE * math.Max(dmax, zmax)
	deflated := make([]bool, n)
	kept := make([]int, 0, n) // positions k of the undeflated poles, ascending
	prev := -1
	for k := 0; k < n; k++ {
		if rho*math.Abs(zp[k]) <= tol {
			deflated[k] = true
			continue
		}
		if prev < 0 {
			prev = k
			continue
		}
		s, c := zp[prev], zp[k]
		tau := math.Hypot(c, s)
		t := dp[k] - dp[prev]
		c /= tau
		s = -s / tau
		if math.Abs(t*c*s) <= tol {
			// Rotate columns perm[prev], perm[k] of z: the component of u at prev vanishes.
			zp[k] = tau
			zp[prev] = 0
			rotCols(n, z, ldz, perm[prev], perm[k], c, s)
			t = dp[prev]*c*c + dp[k]*s*s
			dp[k] = dp[prev]*s*s + dp[k]*c*c
			dp[prev] = t
			deflated[prev] = true
			prev = k
			continue
		}
		kept = append(kept, prev)
		prev = k
	}
	if prev >= 0 {
		kept = append(kept, prev)
	}
	K := len(kept)

	// The undeflated problem: poles dk (ascending, distinct beyond tol), vector zk.
	dk := make([]float64, K)
	zk := make([]float64, K)
	for t, k := range kept {
		dk[t], zk[t] = dp[k], zp[k]
	}
	lam := make([]float64, K) // eigenvalues λ_j
	org := make([]int, K)     // λ_j = dk[org[j]] + mu[j]
	mu := make([]float64, K)  // offsets from the nearer pole
	solveSecular(dk, zk, rho, lam, org, mu)

	// Löwner (Gu–Eisenstat): the vector ẑ for which the computed λ are exact eigenvalues.
	delta := func(i, j int) float64 { return (dk[i] - dk[org[j]]) - mu[j] } // d_i − λ_j
	zh := make([]float64, K)
	for i := 0; i < K; i++ {
		p := delta(i, i)
		for j := 0; j < K; j++ {
			if j != i {
				p *= delta(i, j) / (dk[i] - dk[j])
			}
		}
		zh[i] = math.Copysign(math.Sqrt(math.Abs(p)), zk[i])
	}
	// The eigenvectors of the undeflated problem: U[i,j] = ẑ_i/(d_i − λ_j), columns unit.
	uk := make([]float64, K*K)
	parFor(K, K >= 128, func(j0, j1 int) {
		for j := j0; j < j1; j++ {
			var s float64
			for i := 0; i < K; i++ {
				v := zh[i] / delta(i, j)
				uk[i*K+j] = v
				s += v * v
			}
			s = 1 / math.Sqrt(s)
			for i := 0; i < K; i++ {
				uk[i*K+j] *= s
			}
		}
	})

	// The new eigenvectors: the undeflated columns of Q times U, the deflated ones as they
	// are, all in ascending order of their eigenvalues.
	qc := make([]float64, n*max(K, 1))
	for r := 0; r < n; r++ {
		row := z[r*ldz:]
		for t, k := range kept {
			qc[r*K+t] = row[perm[k]]
		}
	}
	wq := make([]float64, n*max(K, 1))
	if K > 0 {
		blas64.Implementation().Dgemm(blas.NoTrans, blas.NoTrans, n, K, K, 1, qc, K, uk, K, 0, wq, K)
	}
	type col struct {
		val float64
		src int // ≥ 0: column of wq; < 0: −1 − column of z
	}
	cols := make([]col, 0, n)
	for j := 0; j < K; j++ {
		cols = append(cols, col{lam[j], j})
	}
	for k := 0; k < n; k++ {
		if deflated[k] {
			cols = append(cols, col{dp[k], -1 - perm[k]})
		}
	}
	slices.SortStableFunc(cols, func(a, b col) int {
		switch {
		case a.val < b.val:
			return -1
		case a.val > b.val:
			return 1
		}
		return 0
	})
	out := make([]float64, n*n)
	for r := 0; r < n; r++ {
		zr := z[r*ldz:]
		for c, cl := range cols {
			if cl.src >= 0 {
				out[r*n+c] = wq[r*K+cl.src]
			} else {
				out[r*n+c] = zr[-1-cl.src]
			}
		}
	}
	for r := 0; r < n; r++ {
		copy(z[r*ldz:r*ldz+n], out[r*n:r*n+n])
	}
	for c, cl := range cols {
		d[c] = cl.val
	}
}

// rotCols applies the plane rotation (c, s) to columns i and j of the n-row z: (zᵢ, zⱼ) ←
// (c zᵢ + s zⱼ, c zⱼ − s zᵢ), the rotation that maps the pair (u_i, u_j) of the deflation to
// (0, τ).
func rotCols(n int, z []float64, ldz, i, j int, c, s float64) {
	for r := 0; r < n; r++ {
		x, y := z[r*ldz+i], z[r*ldz+j]
		z[r*ldz+i] = c*x + s*y
		z[r*ldz+j] = c*y - s*x
	}
}

// parFor runs f over [0, n) in two fixed halves, in two goroutines if par: the split does
// not depend on GOMAXPROCS, and each index is computed by the same code either way.
func parFor(n int, par bool, f func(lo, hi int)) {
	if !par {
		f(0, n)
		return
	}
	h := n / 2
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		f(h, n)
	}()
	f(0, h)
	wg.Wait()
}
