package kernel

import "math"

// expScalar returns eˣ for x in [−708, 0] (and the positive x of tanhScalar) with exactly the
// operations of expAVX and of the exponential inside tanhAVX (x = k ln2 + r, k rounded to
// nearest even, e^r = 1 + 2r/(2 − c), the scaling by 2ᵏ an integer addition to the
// exponent, valid since k ≥ −1021 here), so that an element gets the same bits on either
// path. Within 1 ulp of eˣ (TestExpNonPos).
func expScalar(x float64) float64 {
	k := math.RoundToEven(x * expLog2e)
	hi := x - k*expLn2Hi
	lo := k * expLn2Lo
	r := hi - lo
	t := r * r
	c := r - t*((((expP5*t+expP4)*t+expP3)*t+expP2)*t+expP1)
	e := 1 - ((lo - (r*c)/(2-c)) - hi)
	return math.Float64frombits(math.Float64bits(e) + uint64(int64(k))<<52)
}

// ExpNonPosInPlace replaces each x[i] by e^x[i], for x[i] ≤ 0 (or NaN): four lanes at a
// time where AVX2 is available (expAVX), expScalar for the rest, so the bits of an element
// do not depend on its position. A slice holding an argument below −708 (subnormal or zero
// results), −Inf or NaN goes element by element, with math.Exp for those.
func ExpNonPosInPlace(x []float64) {
	for _, v := range x {
		if !(v >= -708) {
			for i, v := range x {
				if v >= -708 {
					x[i] = expScalar(v)
				} else {
					x[i] = math.Exp(v)
				}
			}
			return
		}
	}
	m := 0
	if useAsm {
		m = len(x) &^ 3
		if m > 0 {
			expAVX(m, &x[0])
		}
	}
	for i := m; i < len(x); i++ {
		x[i] = expScalar(x[i])
	}
}
