package track

import (
	"math"
	"sort"
)

// FDRRatio returns Yaida's (2019) fluctuation–dissipation ratio over a window of SGD steps
// k = t0, …, t1−1 (docs/MATH.md §11):
//
//	R = Σ_k (θ_k − θ_{t0})·g_k / ((η/2) Σ_k ‖g_k‖²),
//
// from sumDot = Σ_k (θ_k − θ_{t0})·g_k and sumSq = Σ_k ‖g_k‖², g_k = ∇L_B(θ_k) the gradient
// of step k's own mini-batch, weight decay included. For plain SGD at stationarity E R = 1
// (Yaida's relation ⟨θ·∇L_B⟩ = (η/2)⟨‖∇L_B‖²⟩ with the origin at the window's start); R ≪ 1
// during descent. It is NaN for an empty window or sumSq = 0.
func FDRRatio(sumDot, sumSq, eta float64) float64 {
	if !(sumSq > 0) {
		return math.NaN()
	}
	return sumDot / (eta / 2 * sumSq)
}

// FDRIdentity returns 1 − ‖θ_{t1} − θ_{t0}‖²/(η² Σ_k ‖g_k‖²), which equals FDRRatio exactly
// for the iterates θ_{k+1} = θ_k − η g_k (docs/MATH.md §11: sum ‖Δ_{k+1}‖² = ‖Δ_k‖² −
// 2η Δ_k·g_k + η²‖g_k‖² over the window). dist2 is ‖θ_{t1} − θ_{t0}‖², sumSq is Σ_k ‖g_k‖².
func FDRIdentity(dist2, sumSq, eta float64) float64 {
	if !(sumSq > 0) {
		return math.NaN()
	}
	return 1 - dist2/(eta*eta*sumSq)
}

// Alignment returns Zhu et al.'s (2019) alignment of the gradient noise with the curvature,
// d·Tr(HC)/(tr H · tr C) (docs/MATH.md §11): 1 for isotropic noise C ∝ I, larger when the
// noise lies along the high-curvature directions. NaN when tr H · tr C = 0.
func Alignment(d int, trHC, trH, trC float64) float64 {
	den := trH * trC
	if den == 0 {
		return math.NaN()
	}
	return float64(d) * trHC / den
}

// MeanSE returns the sample mean of x and its standard error sd/√n with the sample standard
// deviation (divisor n − 1), times the finite-population correction √(1 − n/pop) when x is a
// subset drawn without replacement from a population of pop (pop ≤ 0: an infinite
// population, as for Hutchinson's probes). n = pop gives SE 0 (the exact value); n < 2 NaN.
func MeanSE(x []float64, pop int) (mean, se float64) {
	n := len(x)
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	for _, v := range x {
		mean += v
	}
	mean /= float64(n)
	if pop > 0 && n >= pop {
		return mean, 0
	}
	if n < 2 {
		return mean, math.NaN()
	}
	var ss float64
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	se = math.Sqrt(ss / float64(n-1) / float64(n))
	if pop > 0 {
		se *= math.Sqrt(1 - float64(n)/float64(pop))
	}
	return mean, se
}

// RecordSteps returns the sorted steps of a run of T steps at which a row is recorded: 0,
// every multiple of every, T, and (logRows > 0) the rounded log-spaced steps
// round(T^(j/logRows)), j = 0 … logRows.
func RecordSteps(T, every, logRows int) []int {
	set := map[int]bool{0: true, T: true}
	for t := every; t < T; t += every {
		set[t] = true
	}
	for j := 0; j <= logRows && logRows > 0; j++ {
		t := int(math.Round(math.Pow(float64(T), float64(j)/float64(logRows))))
		set[min(max(t, 1), T)] = true
	}
	out := make([]int, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Ints(out)
	return out
}
