package eigen

import "math"

// solveSecular finds the K roots of the secular equation f(λ) = 1 + ρ Σᵢ zᵢ²/(dᵢ − λ) = 0
// (ρ > 0, d ascending and distinct, z without zero components): λ_j in (d_j, d_{j+1}) for
// j < K−1 and in (d_{K−1}, d_{K−1} + ρ zᵀz] for the last (docs/MATH.md
// §14). Each root is stored as the pole nearer to it, org[j], and the offset
// mu[j] = λ_j − d[org[j]], so that dᵢ − λ_j = (dᵢ − d[org[j]]) − mu[j] is computed without
// cancellation; lam[j] = d[org[j]] + mu[j]. The roots are independent and found in two fixed
// halves in parallel for large K.
func solveSecular(d, z []float64, rho float64, lam []float64, org []int, mu []float64) {
	K := len(d)
	parFor(K, K >= 128, func(j0, j1 int) {
		for j := j0; j < j1; j++ {
			org[j], mu[j] = secularRoot(d, z, rho, j)
			lam[j] = d[org[j]] + mu[j]
		}
	})
}

// secularRoot returns the j-th root of f (see solveSecular) as a pole index and the offset
// from it: the origin is moved to the pole nearer to the root (decided by the sign of f at
// the middle of the interval), and the root of f(σ + μ) is found in its bracket by Newton's
// method safeguarded by bisection, to a relative width of a few ε in μ.
func secularRoot(d, z []float64, rho float64, j int) (int, float64) {
	K := len(d)
	// f at σ + μ: 1 + ρ Σ zᵢ²/((dᵢ − σ) − μ), with its derivative.
	f := func(s int, x float64) (float64, float64) {
		sum, der := 0.0, 0.0
		ds := d[s]
		for i := 0; i < K; i++ {
			t := z[i] / ((d[i] - ds) - x)
			sum += z[i] * t
			der += t * t
		}
		return 1 + rho*sum, rho * der
	}
	var s int
	var lo, hi float64
	if j == K-1 {
		var zz float64
		for _, v := range z {
			zz += v * v
		}
		s, lo, hi = j, 0, rho*zz
	} else {
		gap := d[j+1] - d[j]
		if fm, _ := f(j, gap/2); fm >= 0 {
			s, lo, hi = j, 0, gap/2
		} else {
			s, lo, hi = j+1, -(gap - gap/2), 0
		}
	}
	x := lo + (hi-lo)/2
	for it := 0; it < 200; it++ {
		fx, dx := f(s, x)
		if fx == 0 || math.IsNaN(fx) {
			break
		}
		if fx < 0 {
			lo = x
		} else {
			hi = x
		}
		nx := x - fx/dx
		if !(nx > lo && nx < hi) {
			nx = lo + (hi-lo)/2
		}
		if math.Abs(nx-x) <= 2*dlamchP*math.Abs(nx) || hi-lo <= 2*dlamchP*math.Max(math.Abs(lo), math.Abs(hi)) {
			x = nx
			break
		}
		x = nx
	}
	return s, x
}
