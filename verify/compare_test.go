package verify

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/sim"
)

// ar1Chains draws K chains of n samples of a k-dimensional AR(1) process with stationary
// covariance diag(vars), so that chains are autocorrelated as SGD's are.
func ar1Chains(K, n int, vars []float64, rho float64, seed uint64) [][]float64 {
	k := len(vars)
	out := make([][]float64, K)
	for c := range out {
		rng := rand.New(rand.NewPCG(seed, uint64(c)))
		x := make([]float64, k)
		for j := range x {
			x[j] = math.Sqrt(vars[j]) * rng.NormFloat64()
		}
		s := make([]float64, 0, n*k)
		for i := 0; i < n; i++ {
			for j := range x {
				x[j] = rho*x[j] + math.Sqrt((1-rho*rho)*vars[j])*rng.NormFloat64()
			}
			s = append(s, x...)
		}
		out[c] = s
	}
	return out
}

func diagSym(v []float64) *mat.SymDense {
	m := mat.NewSymDense(len(v), nil)
	for i, x := range v {
		m.SetSym(i, i, x)
	}
	return m
}

func TestCompareVerdicts(t *testing.T) {
	vars := []float64{4, 1, 0.25}
	samples := ar1Chains(64, 2000, vars, 0.5, 3)
	sum := sim.DescribeChains(samples, 3)
	wrong := []float64{4 * 1.15, 1, 0.25}
	res := Compare(sum, samples, []Prediction{
		{Name: "true", Cov: diagSym(vars)},
		{Name: "wrong", Cov: diagSym(wrong)},
		{Name: "none", Why: "not defined"},
		{Name: "reported", Why: "already warned", Reported: true},
	}, CompareSettings{})
	// The true covariance must pass at α = 0.01 (a fixed seed; the test's false-rejection
	// probability is 1%). A 15% error in the first variance is ≈ 10 standard errors
	// (per-chain variance SE ≈ 4·√(2·(1+ρ²)/(1−ρ²)/2000)/√64 ≈ 0.02) and must fail.
	if !res[0].Consistent {
		t.Errorf("true covariance judged inconsistent: max|t| = %.3g, critical %.3g", res[0].MaxAbsZ, res[0].Critical)
	}
	if res[1].Consistent {
		t.Errorf("15%% wrong covariance judged consistent: max|t| = %.3g", res[1].MaxAbsZ)
	}
	if math.Abs(res[1].Ratios[0]-1/1.15) > 4*res[1].RatioSE[0] {
		t.Errorf("ratio %.4f ± %.4f, want %.4f", res[1].Ratios[0], res[1].RatioSE[0], 1/1.15)
	}
	if !math.IsNaN(res[2].KL) || len(res[2].Warnings) == 0 || res[2].Consistent {
		t.Errorf("missing prediction: %+v", res[2])
	}
	// A reason already reported where the prediction was made is not warned about again.
	if !math.IsNaN(res[3].KL) || len(res[3].Warnings) != 0 || res[3].Consistent {
		t.Errorf("missing prediction with its reason reported: %+v", res[3])
	}
	// Relative Frobenius error and KL against hand formulas for diagonal matrices.
	var num, den, kl float64
	for j := range vars {
		v := sum.Cov.At(j, j)
		num += (v - wrong[j]) * (v - wrong[j])
		den += wrong[j] * wrong[j]
		kl += 0.5 * (v/wrong[j] + sum.Mean[j]*sum.Mean[j]/wrong[j] - 1 + math.Log(wrong[j]/v))
	}
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			if i != j {
				num += sum.Cov.At(i, j) * sum.Cov.At(i, j)
			}
		}
	}
	if got := res[1].RelFrobenius; math.Abs(got-math.Sqrt(num/den)) > 1e-12 {
		t.Errorf("relative Frobenius %.15g, want %.15g", got, math.Sqrt(num/den))
	}
	// KL with the off-diagonal entries of the measured covariance ignored in the hand
	// formula: they are O(1/√n) and contribute O(1/n) ≈ 1e-5 to KL.
	if got := res[1].KL; math.Abs(got-kl) > 1e-3 {
		t.Errorf("KL %.6g, want ≈ %.6g", got, kl)
	}
	// Score error: the Gaussian field of the measured covariance vs the true one; small but
	// not zero, and larger for the wrong prediction.
	if !(res[0].ScoreError < res[1].ScoreError) || !(res[0].ScoreError < 0.01) {
		t.Errorf("score errors %.3g (true) and %.3g (wrong)", res[0].ScoreError, res[1].ScoreError)
	}
}

func TestScoreErrorExact(t *testing.T) {
	// With pred == emp the score error is exactly 0; with pred = 2·emp it is exactly 1.
	xs := []float64{1, 2, -1, 0.5, 3, -2}
	f := func(dst, x []float64) { dst[0], dst[1] = -x[0], -2*x[1] }
	g := func(dst, x []float64) { dst[0], dst[1] = -2*x[0], -4*x[1] }
	if e := scoreError(xs, 2, f, f); e != 0 {
		t.Errorf("identical fields: %g", e)
	}
	if e := scoreError(xs, 2, f, g); math.Abs(e-0.25) > 1e-15 {
		t.Errorf("doubled field: %g, want 0.25", e)
	}
}
