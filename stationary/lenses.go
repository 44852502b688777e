package stationary

import "math"

// MandtLearningRate returns the constant learning rate that makes the stationary covariance
// of SGD closest to the posterior in Mandt, Hoffman & Blei (2017, Thm 1), in sgdprior's
// conventions (mean loss, MATH.md §6, §10):
//
//	η* = 2d / (N tr C_B).
//
// It returns +Inf when tr C_B = 0 (no gradient noise).
func MandtLearningRate(d, n int, trCB float64) float64 {
	if d <= 0 || n <= 0 || trCB < 0 {
		panic("stationary: MandtLearningRate: need d > 0, N > 0 and tr C_B ≥ 0")
	}
	if trCB == 0 {
		return math.Inf(1)
	}
	return 2 * float64(d) / (float64(n) * trCB)
}

// SmithRegularizer returns the value of the implicit regulariser of SGD of Smith, Dherin,
// Barrett & De (2021) (MATH.md §10):
//
//	(η/4) E_b‖∇L_b‖² = (η/4)(‖∇L‖² + tr C_B),
//
// from gradNormSq = ‖∇L‖² and trCB = tr C_B.
func SmithRegularizer(eta, gradNormSq, trCB float64) float64 {
	return eta / 4 * (gradNormSq + trCB)
}
