package landscape

import (
	"fmt"
	"math"
)

// normalQuantiles writes into dst (length n ≥ 2) the standardised normal quantiles
// q_i = Φ⁻¹((i − ½)/n), i = 1..n, then centred and rescaled so that their population mean is
// exactly 0 and their population variance (1/n) Σ q_i² exactly 1 (to rounding).
func normalQuantiles(n int) []float64 {
	if n < 2 {
		panic(fmt.Sprintf("landscape: %d quantile points, need at least 2", n))
	}
	q := make([]float64, n)
	for i := range q {
		p := (float64(i) + 0.5) / float64(n)
		q[i] = math.Sqrt2 * math.Erfinv(2*p-1)
	}
	standardize(q)
	return q
}

// standardize centres x and scales it to population variance 1, in place. Two passes, so the
// moments are exact to rounding.
func standardize(x []float64) {
	n := float64(len(x))
	var m float64
	for _, v := range x {
		m += v
	}
	m /= n
	var ss float64
	for i := range x {
		x[i] -= m
		ss += x[i] * x[i]
	}
	s := math.Sqrt(ss / n)
	if !(s > 0) {
		panic("landscape: cannot standardise a constant point set")
	}
	for i := range x {
		x[i] /= s
	}
}

// whitenedPair returns two point sets x, y of n ≥ 3 points each whose population moments are
// exactly (to rounding) mean 0, variance 1 and covariance 0, i.e. the 2-D points (x_i, y_i)
// have identity population covariance. x holds the standardised normal quantiles; y holds
// the same quantiles in the stride order i ↦ (k·i) mod n (k coprime to n, near 0.618·n),
// orthogonalised against x by Gram–Schmidt and restandardised.
func whitenedPair(n int) (x, y []float64) {
	if n < 3 {
		panic(fmt.Sprintf("landscape: %d points cannot carry two uncorrelated sets, need at least 3", n))
	}
	x = normalQuantiles(n)
	k := strideFor(n)
	y = make([]float64, n)
	for i := range y {
		y[i] = x[(k*i)%n]
	}
	// Two Gram–Schmidt passes against x (and the constant, via standardize) for exactness.
	for range 2 {
		var xy, xx, m float64
		for i := range y {
			m += y[i]
		}
		m /= float64(n)
		for i := range y {
			y[i] -= m
			xy += x[i] * y[i]
			xx += x[i] * x[i]
		}
		c := xy / xx
		for i := range y {
			y[i] -= c * x[i]
		}
	}
	standardize(y)
	return x, y
}

// strideFor returns the integer k coprime to n closest to 0.618·n (at least 2 when n > 2).
func strideFor(n int) int {
	gcd := func(a, b int) int {
		for b != 0 {
			a, b = b, a%b
		}
		return a
	}
	base := int(math.Round(0.6180339887498949 * float64(n)))
	for off := 0; off < n; off++ {
		for _, k := range []int{base + off, base - off} {
			if k >= 2 && k < n && gcd(k, n) == 1 {
				return k
			}
		}
	}
	return 1
}
