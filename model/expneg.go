package model

import "math"

// expNonPos returns eˣ for x ≤ 0 (and NaN for NaN), within 1 ulp of math.Exp: the fdlibm
// algorithm of Go's portable math.Exp (x = k·ln2 + r with ln2 split in a high and a low
// part, a degree-5 rational approximation of eʳ on |r| ≤ ln2/2), inlined and with the
// scaling by 2ᵏ done by a multiplication instead of math.Ldexp. Results that would be
// subnormal are left to math.Exp. It is the exponential of the softmax head, whose
// arguments z_j − max_j z_j are never positive; the call overhead and special-case tests of
// math.Exp were a tenth of an SGD step of a small MLP.
func expNonPos(x float64) float64 {
	const (
		ln2Hi = 6.93147180369123816490e-01
		ln2Lo = 1.90821492927058770002e-10
		log2e = 1.44269504088896338700e+00
		// minNormal: below this, e^x is close to the subnormal range; use math.Exp.
		minNormal = -708.0
		nearZero  = 1.0 / (1 << 28)

		p1 = 1.66666666666666657415e-01
		p2 = -2.77777777770155933842e-03
		p3 = 6.61375632143793436117e-05
		p4 = -1.65339022054652515390e-06
		p5 = 4.13813679705723846039e-08
	)
	if !(x >= minNormal && x <= 0) { // NaN, −Inf, positive or very negative
		return math.Exp(x)
	}
	if x > -nearZero {
		return 1 + x
	}
	k := int(log2e*x - 0.5) // x < 0: rounds to nearest
	hi := x - float64(k)*ln2Hi
	lo := float64(k) * ln2Lo
	r := hi - lo
	t := r * r
	c := r - t*(p1+t*(p2+t*(p3+t*(p4+t*p5))))
	y := 1 - ((lo - (r*c)/(2-c)) - hi)
	// k ≥ −1022 here, so 2ᵏ is a normal number and y·2ᵏ is exact.
	return y * math.Float64frombits(uint64(k+1023)<<52)
}
