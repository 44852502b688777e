package verify

import (
	"math"
	"math/rand/v2"
	"strings"
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
	if res[0].Verdict != VerdictHolds || !res[0].Consistent {
		t.Errorf("true covariance: verdict %s (%s)", res[0].Verdict, res[0].Reason)
	}
	if res[1].Verdict != VerdictFails || res[1].Consistent {
		t.Errorf("15%% wrong covariance: verdict %s (%s)", res[1].Verdict, res[1].Reason)
	}
	if math.Abs(res[1].Ratios[0]-1/1.15) > 4*res[1].RatioSE[0] {
		t.Errorf("ratio %.4f ± %.4f, want %.4f", res[1].Ratios[0], res[1].RatioSE[0], 1/1.15)
	}
	if !math.IsNaN(res[2].KL) || len(res[2].Warnings) == 0 || res[2].Consistent || res[2].Verdict != VerdictInconclusive {
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

// Item 7 of issue 12: a prediction with (numerically) no variance along a direction where SGD
// has a little used to be rejected by a t statistic of ~10¹⁵ although its Frobenius error is
// tiny. The test is made on the range of the prediction; the direction outside it holds
// 2.5·10⁻⁷ of the measured variance, far below NullFractionTol, so the prediction holds.
func TestCompareNoiseFreeDirection(t *testing.T) {
	vars := []float64{4, 1, 1e-6}
	samples := ar1Chains(32, 2000, vars, 0.5, 4)
	sum := sim.DescribeChains(samples, 3)
	res := Compare(sum, samples, []Prediction{{Name: "p", Cov: diagSym([]float64{4, 1, 1e-20})}}, CompareSettings{})
	if !res[0].Consistent {
		t.Errorf("a prediction exact on its range, with 2.5e-7 of the variance outside it, judged inconsistent (max|t| %.3g, relative Frobenius error %.3g)", res[0].MaxAbsZ, res[0].RelFrobenius)
	}
	if ct := res[0].CovTest; ct == nil || ct.Rank != 2 || !(ct.NullFraction < 1e-6) {
		t.Errorf("covariance test %+v, want rank 2 and a null fraction ≈ 2.5e-7", ct)
	}
	// With 5% of the variance outside the range the prediction fails on it.
	samples = ar1Chains(32, 2000, []float64{4, 1, 0.25}, 0.5, 5)
	sum = sim.DescribeChains(samples, 3)
	res = Compare(sum, samples, []Prediction{{Name: "p", Cov: diagSym([]float64{4, 1, 1e-20})}}, CompareSettings{})
	if res[0].Verdict != VerdictFails || !strings.Contains(res[0].Reason, "outside the range") {
		t.Errorf("5%% of the variance outside the range: verdict %s (%s)", res[0].Verdict, res[0].Reason)
	}
}

// Verdicts are inconclusive, never holds or fails, when the caller says so (not converged,
// round-off noise) and when the samples hold NaN or Inf (item 9 of issue 12).
func TestCompareInconclusive(t *testing.T) {
	vars := []float64{4, 1}
	samples := ar1Chains(16, 500, vars, 0.5, 6)
	sum := sim.DescribeChains(samples, 2)
	preds := []Prediction{{Name: "p", Cov: diagSym(vars)}}
	res := Compare(sum, samples, preds, CompareSettings{Inconclusive: "not converged: R̂"})
	if res[0].Verdict != VerdictInconclusive || res[0].Reason != "not converged: R̂" || res[0].CovTest == nil {
		t.Errorf("gated: verdict %s (%s), test %v", res[0].Verdict, res[0].Reason, res[0].CovTest)
	}
	samples[3][7] = math.Inf(1)
	sum = sim.DescribeChains(samples, 2)
	res = Compare(sum, samples, preds, CompareSettings{})
	if res[0].Consistent || res[0].Verdict != VerdictInconclusive || !strings.Contains(res[0].Reason, "NaN or Inf") {
		t.Errorf("Inf in the samples: verdict %s (%s)", res[0].Verdict, res[0].Reason)
	}
}
