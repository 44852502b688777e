package escape

import (
	"math"
	"sort"
)

// SurvivalPoint is one point of a Kaplan–Meier curve: the estimated probability that a chain
// has not escaped by Step.
type SurvivalPoint struct {
	Step     int     `json:"step"`
	Fraction float64 `json:"fraction"`
}

// KaplanMeier returns the Kaplan–Meier estimate of the survival function at each of the
// increasing times grid (MATH.md §12): with the distinct event times t_j ≤ t, n_j the number
// of chains still at risk just before t_j (neither escaped nor censored before t_j) and e_j
// the number escaping at t_j,
//
//	Ŝ(t) = Π_{t_j ≤ t} (1 − e_j/n_j).
//
// times[i] is chain i's escape time when escaped[i], else its censoring time; a chain
// censored at t_j counts as at risk at t_j (censoring after the check).
func KaplanMeier(times []int, escaped []bool, grid []int) []SurvivalPoint {
	type obs struct {
		t int
		e bool
	}
	o := make([]obs, len(times))
	for i := range times {
		o[i] = obs{times[i], escaped[i]}
	}
	sort.SliceStable(o, func(a, b int) bool { return o[a].t < o[b].t })
	out := make([]SurvivalPoint, len(grid))
	s := 1.0
	i := 0
	atRisk := len(o)
	for g, t := range grid {
		for i < len(o) && o[i].t <= t {
			tj := o[i].t
			events, leaving := 0, 0
			for i < len(o) && o[i].t == tj {
				if o[i].e {
					events++
				}
				leaving++
				i++
			}
			if events > 0 {
				s *= 1 - float64(events)/float64(atRisk)
			}
			atRisk -= leaving
		}
		out[g] = SurvivalPoint{Step: t, Fraction: s}
	}
	return out
}

// MedianSurvival returns the Kaplan–Meier median: the first grid time at which Ŝ ≤ ½, or NaN
// when survival never falls to ½ (MATH.md §12).
func MedianSurvival(curve []SurvivalPoint) float64 {
	for _, p := range curve {
		if p.Fraction <= 0.5 {
			return float64(p.Step)
		}
	}
	return math.NaN()
}

// ExponentialMean returns the censored-exponential estimate of the mean escape time
// (MATH.md §12): with E escapes and total exposure T = Σ_i times[i] (escape times of the
// escaped chains, censoring times of the others), the rate is λ̂ = E/T, the maximum-likelihood
// rate of exponential escape times under censoring, the mean 1/λ̂ = T/E, and its standard
// error (delta method on the Fisher information E/λ²) T/E^{3/2}. Both are NaN when E = 0.
func ExponentialMean(times []int, escaped []bool) (mean, se float64) {
	var exposure float64
	events := 0
	for i, t := range times {
		exposure += float64(t)
		if escaped[i] {
			events++
		}
	}
	if events == 0 {
		return math.NaN(), math.NaN()
	}
	e := float64(events)
	return exposure / e, exposure / (e * math.Sqrt(e))
}

// EscapedFraction returns the fraction p̂ = E/K of chains that escaped and its binomial
// standard error √(p̂(1 − p̂)/K) (MATH.md §12).
func EscapedFraction(escaped []bool) (p, se float64) {
	e := 0
	for _, x := range escaped {
		if x {
			e++
		}
	}
	k := float64(len(escaped))
	p = float64(e) / k
	return p, math.Sqrt(p * (1 - p) / k)
}

// RestrictedMean returns the area under the Kaplan–Meier step function from 0 to the last
// grid time, Σ_j Ŝ(t_{j−1})(t_j − t_{j−1}) with t_0 = 0 and Ŝ(0) = 1 (MATH.md §12): the
// restricted mean escape time E[min(T, horizon)] when escapes are only seen at the grid
// times, and the mean itself when survival at the horizon is negligible. With a check at
// every step it is exactly Σ_{t≥0} P(T > t) = E[T] for integer T ≤ horizon.
func RestrictedMean(curve []SurvivalPoint) float64 {
	var area float64
	prevT, prevS := 0, 1.0
	for _, p := range curve {
		area += prevS * float64(p.Step-prevT)
		prevT, prevS = p.Step, p.Fraction
	}
	return area
}
