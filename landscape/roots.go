package landscape

import (
	"errors"
	"fmt"
	"math"
)

// brent returns a root of f in [a, b], where f(a) and f(b) have opposite signs (or one is
// 0), to an absolute tolerance tol in x (Brent 1973, "Algorithms for minimization without
// derivatives", ch. 4: bisection safeguarding secant and inverse quadratic steps).
func brent(f func(float64) float64, a, b, tol float64) (float64, error) {
	fa, fb := f(a), f(b)
	if fa == 0 {
		return a, nil
	}
	if fb == 0 {
		return b, nil
	}
	if math.IsNaN(fa) || math.IsNaN(fb) || (fa > 0) == (fb > 0) {
		return math.NaN(), errors.New("root not bracketed")
	}
	c, fc := a, fa
	d := b - a
	e := d
	for range 200 {
		if (fb > 0) == (fc > 0) {
			c, fc = a, fa
			d = b - a
			e = d
		}
		if math.Abs(fc) < math.Abs(fb) {
			a, b, c = b, c, b
			fa, fb, fc = fb, fc, fb
		}
		tol1 := 2*2.220446049250313e-16*math.Abs(b) + tol/2
		xm := (c - b) / 2
		if math.Abs(xm) <= tol1 || fb == 0 {
			return b, nil
		}
		if math.Abs(e) >= tol1 && math.Abs(fa) > math.Abs(fb) {
			var p, q float64
			s := fb / fa
			if a == c {
				p = 2 * xm * s
				q = 1 - s
			} else {
				qq := fa / fc
				r := fb / fc
				p = s * (2*xm*qq*(qq-r) - (b-a)*(r-1))
				q = (qq - 1) * (r - 1) * (s - 1)
			}
			if p > 0 {
				q = -q
			}
			p = math.Abs(p)
			if 2*p < math.Min(3*xm*q-math.Abs(tol1*q), math.Abs(e*q)) {
				e = d
				d = p / q
			} else {
				d = xm
				e = d
			}
		} else {
			d = xm
			e = d
		}
		a, fa = b, fb
		if math.Abs(d) > tol1 {
			b += d
		} else {
			b += math.Copysign(tol1, xm)
		}
		fb = f(b)
	}
	return b, errors.New("no convergence in 200 iterations")
}

// criticalPoints1D scans g = L' on n+1 equally spaced points of [lo, hi] and refines each
// sign change with brent: minima are where g goes from − to +, maxima from + to −.
func criticalPoints1D(g func(float64) float64, lo, hi float64, n int) (minima, maxima []float64) {
	h := (hi - lo) / float64(n)
	x0, g0 := lo, g(lo)
	for i := 1; i <= n; i++ {
		x1 := lo + float64(i)*h
		g1 := g(x1)
		if g0 < 0 && g1 >= 0 || g0 > 0 && g1 <= 0 {
			r, err := brent(g, x0, x1, 1e-14*(1+math.Abs(x0)))
			if err == nil {
				if g0 < 0 {
					minima = append(minima, r)
				} else {
					maxima = append(maxima, r)
				}
			}
		}
		x0, g0 = x1, g1
	}
	return minima, maxima
}

// balanceDepths rescales the depths of wells 1…K−1 so that every gap(k, ·) vanishes, where
// gap(k, d) sets well k's depth to d and returns L(min_k) − L(min_0) (NaN when a minimum is
// lost); a deeper well lowers its minimum, so gap decreases with d. One bracketed Brent root
// find per well, in Gauss–Seidel sweeps until every gap is below 1e-12. depth(k) reads well
// k's current depth; name prefixes errors.
func balanceDepths(name string, nwells int, depth func(k int) float64, gap func(k int, d float64) float64) error {
	for range 50 {
		worst := 0.0
		for k := 1; k < nwells; k++ {
			d0 := depth(k)
			g := func(d float64) float64 { return gap(k, d) }
			g0 := g(d0)
			if math.IsNaN(g0) {
				return fmt.Errorf("landscape: %s: balancing lost a minimum", name)
			}
			worst = math.Max(worst, math.Abs(g0))
			if math.Abs(g0) < 1e-13 {
				continue
			}
			a, b := d0, d0
			for i := 0; ; i++ {
				if i == 60 {
					return fmt.Errorf("landscape: %s: cannot balance the depth of well %d", name, k)
				}
				if g0 > 0 {
					b *= 1.5
					if g(b) < 0 {
						break
					}
					a = b
				} else {
					a /= 1.5
					if g(a) > 0 {
						break
					}
					b = a
				}
			}
			d, err := brent(g, a, b, 1e-15*d0)
			if err != nil {
				return fmt.Errorf("landscape: %s: balancing well %d: %v", name, k, err)
			}
			g(d)
		}
		if worst < 1e-12 {
			return nil
		}
	}
	return fmt.Errorf("landscape: %s: balancing the depths did not converge", name)
}
