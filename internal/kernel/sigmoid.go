package kernel

import "math"

// SigmoidDeltaWeighted sets t[i·G+j] = w[i·G+j]·(σ(z[i·G+j]) − y[i]) for the len(y) rows i
// and G columns j of row-major len(y)×G matrices t, z and w: the weighted output errors
// ∂ℓ/∂z = σ(z) − y of a Bernoulli head (ℓ = softplus(z) − y z, docs/MATH.md §1) of G points,
// one row per example. σ(z) = s/(1 + e) with e = exp(−|z|) and s = e where the sign bit of z
// is set, else 1 (stable for any z, no branch on the sign). e is ExpNonPosInPlace's
// exponential of −|z| (expScalar, math.Exp below −708 and for NaN), so every element gets
// the bits of that exponential followed by the division, subtraction and multiplication in
// this order, on either path: four lanes at a time where AVX2 is available and G is a
// multiple of 4 (sigmoidDeltaAVX), sigmoidDeltaScalar otherwise and for a row holding a z
// with |z| > 708 or NaN. len(t), len(z), len(w) ≥ len(y)·G.
func SigmoidDeltaWeighted(t, z, w, y []float64, G int) {
	n := len(y) * G
	t, z, w = t[:n], z[:n], w[:n]
	i := 0
	if useAsm && G > 0 && G%4 == 0 {
		for i < len(y) {
			i += sigmoidDeltaAVX(len(y)-i, G, &z[i*G], &w[i*G], &y[i], &t[i*G])
			if i < len(y) { // row i holds an argument sigmoidDeltaAVX leaves to the scalar path
				sigmoidDeltaScalar(t[i*G:(i+1)*G], z[i*G:(i+1)*G], w[i*G:(i+1)*G], y[i])
				i++
			}
		}
		return
	}
	for ; i < len(y); i++ {
		sigmoidDeltaScalar(t[i*G:(i+1)*G], z[i*G:(i+1)*G], w[i*G:(i+1)*G], y[i])
	}
}

// sigmoidDeltaScalar sets t[j] = w[j]·(σ(z[j]) − y) for one row (len(t), len(w) ≥ len(z)),
// σ as in SigmoidDeltaWeighted.
func sigmoidDeltaScalar(t, z, w []float64, y float64) {
	t = t[:len(z)]
	w = w[:len(z)]
	const one = 0x3ff0000000000000 // the bits of 1.0
	for j, v := range z {
		a := -math.Abs(v)
		var e float64
		if a >= -708 {
			e = expScalar(a)
		} else {
			e = math.Exp(a)
		}
		neg := -(math.Float64bits(v) >> 63) // all ones when the sign bit of z is set
		s := math.Float64frombits(one&^neg | math.Float64bits(e)&neg)
		t[j] = w[j] * (s/(1+e) - y)
	}
}

// GaussDeltaWeighted sets t[i·G+j] = w[i·G+j]·((z[i·G+j] − y[i])·invVar) for the len(y) rows
// i and G columns j of row-major len(y)×G matrices t, z and w: the weighted output errors
// ∂ℓ/∂z = (z − y)/σ² of a Gaussian head (ℓ = (z − y)²/(2σ²), docs/MATH.md §1, invVar = 1/σ²)
// of G points, one row per example. Every element gets the subtraction and the two
// multiplications in this order on either path: four lanes at a time where AVX2 is
// available and G is a multiple of 4 (gaussDeltaAVX), gaussDeltaScalar otherwise.
// len(t), len(z), len(w) ≥ len(y)·G.
func GaussDeltaWeighted(t, z, w, y []float64, G int, invVar float64) {
	n := len(y) * G
	t, z, w = t[:n], z[:n], w[:n]
	if useAsm && G > 0 && G%4 == 0 {
		if len(y) > 0 {
			gaussDeltaAVX(len(y), G, &z[0], &w[0], &y[0], &t[0], invVar)
		}
		return
	}
	for i, yi := range y {
		gaussDeltaScalar(t[i*G:(i+1)*G], z[i*G:(i+1)*G], w[i*G:(i+1)*G], yi, invVar)
	}
}

// gaussDeltaScalar sets t[j] = w[j]·((z[j] − y)·invVar) for one row (len(t), len(w) ≥ len(z)).
func gaussDeltaScalar(t, z, w []float64, y, invVar float64) {
	t = t[:len(z)]
	w = w[:len(z)]
	for j, v := range z {
		t[j] = w[j] * ((v - y) * invVar)
	}
}
