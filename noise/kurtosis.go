package noise

import "math"

// BatchMeanKurtosis returns the exact excess kurtosis of the mini-batch mean
// z̄_b = (1/B) Σ_{i∈b} z_i of B draws from the population z_1 … z_N (docs/MATH.md §2,
// "Kurtosis of the mini-batch noise"), from the population's central moments
// m2 = (1/N) Σ (z_i − z̄)² and m4 = (1/N) Σ (z_i − z̄)⁴:
//
//   - with replacement (B independent draws): (m4/m2² − 3)/B;
//   - without replacement (a uniform B-subset), with π_k = B(B−1)…(B−k+1) / (N(N−1)…(N−k+1))
//     the probability that k given distinct examples are all in the batch,
//     E S² = N m2 (π₁ − π₂),
//     E S⁴ = N m4 (π₁ − 7π₂ + 12π₃ − 6π₄) + N² m2² (3π₂ − 6π₃ + 3π₄),
//     for S = Σ_{i∈b}(z_i − z̄), and the excess kurtosis E S⁴/(E S²)² − 3.
//
// It returns NaN when m2 = 0 or when there is no noise (B = N without replacement), and
// panics on B < 1, B > N without replacement, or N < 1.
func BatchMeanKurtosis(m2, m4 float64, n, b int, with bool) float64 {
	if n < 1 || b < 1 || (!with && b > n) {
		panic("noise: BatchMeanKurtosis: need 1 ≤ B (≤ N without replacement)")
	}
	if m2 == 0 {
		return math.NaN()
	}
	if with {
		return (m4/(m2*m2) - 3) / float64(b)
	}
	// π_k, 0 when k > B (or k > N).
	pi := func(k int) float64 {
		p := 1.0
		for j := 0; j < k; j++ {
			if b-j <= 0 || n-j <= 0 {
				return 0
			}
			p *= float64(b-j) / float64(n-j)
		}
		return p
	}
	p1, p2, p3, p4 := pi(1), pi(2), pi(3), pi(4)
	nn := float64(n)
	s2 := nn * m2 * (p1 - p2)
	if !(s2 > 0) {
		return math.NaN()
	}
	s4 := nn*m4*(p1-7*p2+12*p3-6*p4) + nn*nn*m2*m2*(3*p2-6*p3+3*p4)
	return s4/(s2*s2) - 3
}

// CentralMoments returns the population central moments m2 = (1/N) Σ (z_i − z̄)² and
// m4 = (1/N) Σ (z_i − z̄)⁴ of z (MATH.md §2).
func CentralMoments(z []float64) (m2, m4 float64) {
	n := float64(len(z))
	var mean float64
	for _, v := range z {
		mean += v
	}
	mean /= n
	for _, v := range z {
		d := (v - mean) * (v - mean)
		m2 += d
		m4 += d * d
	}
	return m2 / n, m4 / n
}
