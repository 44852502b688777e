package score

import (
	"fmt"
	"math"
)

// DivergenceShiftAtMinimum measures, at a minimum θ*, how far the divergence term that the
// note drops moves the stationary density, in units of that density's width (MATH.md §5).
// At θ* the note's stationary score s_st = 2D⁻¹μ vanishes, so divergence_ratio
// ‖s_gen − s_st‖/‖s_st‖ is 0/0; instead
//
//	shift = ‖s_gen − s_st‖,  scale = √(Σ_k 1/σ_k²),  ratio = shift/scale,
//
// where general and stationary are s_gen and s_st at θ* and variances are the stationary
// variances σ_k² of the continuous-Lyapunov Gaussian along the directions it was computed on
// (score's var_continuous). scale = √(tr Σ⁻¹) restricted to those directions is the RMS of
// that Gaussian's score −Σ⁻¹(θ − θ*), the typical size of a stationary score near θ*. Only
// the variances that are positive and finite count: n is their number, and when n is 0
// scale and ratio are NaN. It panics if general and stationary differ in length.
func DivergenceShiftAtMinimum(general, stationary, variances []float64) (shift, scale, ratio float64, n int) {
	if len(general) != len(stationary) {
		panic(fmt.Sprintf("score: DivergenceShiftAtMinimum: %d general and %d stationary scores", len(general), len(stationary)))
	}
	var ss float64
	for i, g := range general {
		d := g - stationary[i]
		ss += d * d
	}
	shift = math.Sqrt(ss)
	var trInv float64
	for _, v := range variances {
		if v > 0 && !math.IsInf(v, 0) {
			trInv += 1 / v
			n++
		}
	}
	if n == 0 {
		return shift, math.NaN(), math.NaN(), 0
	}
	scale = math.Sqrt(trInv)
	return shift, scale, shift / scale, n
}
