package noise

import "math"

// RoundoffFloor returns the round-off floor of a gradient-like quantity at θ (docs/MATH.md
// §2, "Round-off floor"):
//
//	F = ε·√d·(|tr H|·‖θ‖₂ + (1/N) Σ_i ‖g_i‖₂),
//
// with ε = 2⁻⁵² the machine epsilon of float64, d the number of parameters, H the Hessian of
// the mean loss at θ, ‖θ‖₂ the norm of θ and (1/N)Σ‖g_i‖₂ the mean norm of the per-example
// gradients. The first term bounds the change of ∇L when θ moves by its own rounding (each
// coordinate by ε|θ_j|; tr H ≥ ‖H‖₂ for H ⪰ 0 and bounds the per-example curvatures' mean), the
// second the rounding of the per-example gradients and of their mean; √d turns per-coordinate
// errors into a norm. A computed ‖∇L‖ ≤ F means θ is a critical point to round-off: a vector
// obtained from ∇L there (the implicit part of the note's prior score) is round-off amplified.
// A noise whose per-example spread √tr C is at most F is round-off too (an interpolating
// minimum: every g_i vanishes in exact arithmetic).
func RoundoffFloor(d int, traceH, thetaNorm, meanGradNorm float64) float64 {
	const eps = 0x1p-52
	return eps * math.Sqrt(float64(d)) * (math.Abs(traceH)*thetaNorm + meanGradNorm)
}
