package basins

import "math"

// LinearBarrier returns the loss barrier on the straight line between θ_a and θ_b (MATH.md
// §13; Garipov et al. 2018, Frankle et al. 2020):
//
//	B = max_{t ∈ {0, 1/(n−1), …, 1}} L((1−t)θ_a + tθ_b) − max(L(θ_a), L(θ_b)),
//
// over n evenly spaced points (endpoints included, so B ≥ 0), and the t at which the maximum
// is reached. loss is evaluated on a scratch vector it may not keep.
func LinearBarrier(loss func([]float64) float64, a, b []float64, n int) (barrier, tMax float64) {
	x := make([]float64, len(a))
	la, lb := loss(a), loss(b)
	best, tMax := math.Max(la, lb), 0.0
	if lb > la {
		tMax = 1
	}
	for j := 1; j < n-1; j++ {
		t := float64(j) / float64(n-1)
		for i := range x {
			x[i] = (1-t)*a[i] + t*b[i]
		}
		if l := loss(x); l > best || math.IsNaN(l) {
			best, tMax = l, t
		}
	}
	return best - math.Max(la, lb), tMax
}
