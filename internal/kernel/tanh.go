package kernel

import "math"

// Constants of tanhScalar: the rational approximation on |x| < 0.625 and the exp reduction
// are those of Go's math.Tanh and math.Exp (Cephes and FreeBSD msun).
const (
	tanhP0 = -9.64399179425052238628e-1
	tanhP1 = -9.92877231001918586564e1
	tanhP2 = -1.61468768441708447952e3
	tanhQ0 = 1.12811678491632931402e2
	tanhQ1 = 2.23548839060100448583e3
	tanhQ2 = 4.84406305325125486048e3

	expLog2e = 1.44269504088896338700e+00
	expLn2Hi = 6.93147180369123816490e-01
	expLn2Lo = 1.90821492927058770002e-10
	expP1    = 1.66666666666666657415e-01
	expP2    = -2.77777777770155933842e-03
	expP3    = 6.61375632143793436117e-05
	expP4    = -1.65339022054652515390e-06
	expP5    = 4.13813679705723846039e-08
)

// tanhScalar returns tanh(x) within 2 ulp (TestTanh): for |x| < 0.625,
// x + x·s·P(s)/Q(s) with s = x²; otherwise 1 − 2/(e^{2|x|} + 1) with the sign of x, e^y
// from y = k ln2 + r and exp(r) = 1 + 2r/(2 − c), c = r − r²·P(r²), as in math.Exp;
// |x| is clamped at 22, beyond which the result rounds to ±1; the sign bit of x is set on
// the result (so tanh(−0) = −0). tanhAVX performs exactly
// these operations four lanes at a time, so both give bitwise the same results.
func tanhScalar(x float64) float64 {
	a := math.Abs(x)
	if a < 0.625 {
		s := x * x
		p := (tanhP0*s+tanhP1)*s + tanhP2
		q := ((s+tanhQ0)*s+tanhQ1)*s + tanhQ2
		return orSign(x+x*s*p/q, x)
	}
	y := math.Min(22, a)
	y += y
	e := expScalar(y) // y ∈ [1.25, 44]: k ≥ 1
	return orSign(1-2/(e+1), x)
}

// orSign sets the sign bit of z when x is negative (tanh keeps the sign of x, −0 included).
func orSign(z, x float64) float64 {
	return math.Float64frombits(math.Float64bits(z) | math.Float64bits(x)&(1<<63))
}

// TanhInPlace replaces every element of x by its tanh.
func TanhInPlace(x []float64) {
	m := 0
	if useAsm {
		m = len(x) &^ 3
		if m > 0 {
			tanhAVX(m, &x[0])
		}
	}
	for i := m; i < len(x); i++ {
		x[i] = tanhScalar(x[i])
	}
}
