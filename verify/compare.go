// Package verify judges predictions of SGD's stationary covariance against the measured
// one (MATH.md §7): relative Frobenius error, Gaussian KL divergence, per-direction
// variance ratios with error bars, the score error at the samples, and a verdict per
// prediction with its test and level.
//
// Everything is expressed in a comparison basis: coordinates x = Vᵀ(θ − θ*) for an
// orthonormal d×k basis V (the Hessian eigenbasis, or its top-k part for large d). Sample
// statistics come from sim.ChainSummary (between-chain standard errors: each chain is a
// replicate).
package verify

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/sim"
)

// Prediction is one theory's stationary law in the comparison basis.
type Prediction struct {
	Name string
	// Cov is the predicted covariance (k×k); nil when the theory gives none here (the
	// comparison then reports why in its warnings).
	Cov *mat.SymDense
	// Mean is the predicted mean (length k); nil means 0 (the minimum θ*).
	Mean []float64
	// Score, if non-nil, is the theory's exact score field at basis coordinates x, written
	// into dst (length k). When nil, the Gaussian field −Σ⁻¹(x − mean) of Cov is used.
	Score func(dst, x []float64)
	// Why explains a nil Cov.
	Why string
	// Reported means Why was already given as a warning where the prediction was made, so
	// that the comparison does not repeat it.
	Reported bool
}

// CompareSettings configures Compare. The zero value means the defaults.
type CompareSettings struct {
	// Alpha is the family-wise level of the verdict test. Default 0.01.
	Alpha float64
	// ScoreSamples bounds the samples used for the score error (spread evenly over every
	// chain). Default 2000.
	ScoreSamples int
	// Inconclusive, if set, is why no verdict can be given (the run has not converged, the
	// noise is round-off): every verdict is then inconclusive with this reason, while the
	// statistics are still computed as a description.
	Inconclusive string
}

func (s CompareSettings) withDefaults() CompareSettings {
	if s.Alpha == 0 {
		s.Alpha = 0.01
	}
	if s.ScoreSamples == 0 {
		s.ScoreSamples = 2000
	}
	return s
}

// Comparison is the verdict on one prediction.
type Comparison struct {
	Name string
	Cov  *mat.SymDense // the prediction (k×k), nil when unavailable
	// RelFrobenius is ‖Σ̂ − Σ_pred‖_F / ‖Σ_pred‖_F.
	RelFrobenius float64
	// KL is KL(N(m̂, Σ̂) ‖ N(mean_pred, Σ_pred)); NaN when Σ̂ or Σ_pred is singular.
	KL float64
	// ScoreError is E‖ŝ_emp − s_pred‖² / E‖s_pred‖² over the samples, ŝ_emp the score of
	// the Gaussian fit N(m̂, Σ̂).
	ScoreError float64
	// Ratios[j] = measured variance / predicted variance along basis direction j, with
	// standard error RatioSE[j]; Z[j] = (v̂_j − v_j)/se_j.
	Ratios, RatioSE, Z []float64
	// MaxAbsZ is max_j |Z[j]| (a description of the diagonal; the verdict comes from
	// CovTest).
	MaxAbsZ float64
	// CovTest is the covariance test (nil when it could not be made: see Reason).
	CovTest *CovTest
	// Verdict is VerdictHolds, VerdictFails or VerdictInconclusive, Reason why.
	Verdict, Reason string
	// Consistent reports Verdict == VerdictHolds; Test describes the test and Alpha its
	// level.
	Consistent bool
	Test       string
	Alpha      float64
	Warnings   []string
}

// The verdicts on a prediction (MATH.md §7.2).
const (
	VerdictHolds        = "holds"
	VerdictFails        = "fails"
	VerdictInconclusive = "inconclusive"
)

// Compare judges each prediction against the samples' summary sum (computed by
// sim.DescribeChains on basis coordinates) and the samples themselves (for the score error).
func Compare(sum *sim.ChainSummary, samples [][]float64, preds []Prediction, s CompareSettings) []Comparison {
	s = s.withDefaults()
	k := sum.Dim
	out := make([]Comparison, 0, len(preds))
	finite := true
	for _, c := range samples {
		for _, v := range c {
			if v-v != 0 {
				finite = false
				break
			}
		}
	}
	// The empirical Gaussian score's precision.
	var empPrec mat.SymDense
	empOK := invertSym(&empPrec, sum.Cov)
	xs := pickSamples(samples, k, s.ScoreSamples)
	for _, p := range preds {
		c := Comparison{Name: p.Name, Cov: p.Cov, Alpha: s.Alpha, Verdict: VerdictInconclusive}
		if p.Cov == nil {
			c.RelFrobenius, c.KL, c.ScoreError, c.MaxAbsZ = math.NaN(), math.NaN(), math.NaN(), math.NaN()
			why := p.Why
			if why == "" {
				why = "no prediction here"
			}
			if !p.Reported {
				c.Warnings = append(c.Warnings, fmt.Sprintf("%s: %s", p.Name, why))
			}
			c.Reason = "no prediction: " + why
			out = append(out, c)
			continue
		}
		if n := p.Cov.SymmetricDim(); n != k {
			panic(fmt.Sprintf("verify: prediction %s has dimension %d, samples %d", p.Name, n, k))
		}
		c.RelFrobenius = linalg.RelFrobError(sum.Cov, p.Cov)
		kl, err := linalg.GaussianKL(sum.Mean, sum.Cov, p.Mean, p.Cov)
		if err != nil {
			kl = math.NaN()
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: KL divergence undefined: %v", p.Name, err))
		}
		c.KL = kl
		c.Ratios = make([]float64, k)
		c.RatioSE = make([]float64, k)
		c.Z = make([]float64, k)
		for j := 0; j < k; j++ {
			v, se, pv := sum.Cov.At(j, j), sum.CovSE.At(j, j), p.Cov.At(j, j)
			c.Ratios[j] = v / pv
			c.RatioSE[j] = se / pv
			c.Z[j] = (v - pv) / se
			if a := math.Abs(c.Z[j]); a > c.MaxAbsZ || math.IsNaN(a) {
				c.MaxAbsZ = a
			}
		}
		c.judge(sum, p.Cov, finite, s)
		// Score error.
		score := p.Score
		if score == nil {
			var prec mat.SymDense
			if invertSym(&prec, p.Cov) {
				mean := p.Mean
				score = gaussianScore(&prec, mean)
			}
		}
		switch {
		case score == nil:
			c.ScoreError = math.NaN()
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: score error undefined: the predicted covariance is singular", p.Name))
		case !empOK:
			c.ScoreError = math.NaN()
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: score error undefined: the measured covariance is singular", p.Name))
		default:
			c.ScoreError = scoreError(xs, k, gaussianScore(&empPrec, sum.Mean), score)
		}
		out = append(out, c)
	}
	return out
}

// judge makes the covariance test of prediction cov and sets the verdict (MATH.md §7.2):
// inconclusive when s.Inconclusive is set, the samples are not finite, K < 3 or the test
// cannot be made; fails when the test rejects or the measured variance outside the range of
// cov exceeds NullFractionTol at its 1 − α lower bound; inconclusive when that bound
// straddles NullFractionTol; holds otherwise.
func (c *Comparison) judge(sum *sim.ChainSummary, cov *mat.SymDense, finite bool, s CompareSettings) {
	K := sum.Chains
	switch {
	case !finite:
		c.Reason = "the samples hold NaN or Inf (a chain diverged)"
		return
	case K < 3:
		c.Reason = fmt.Sprintf("the covariance test needs at least 3 chains, have %d", K)
		return
	}
	t, err := CovarianceTest(sum.ChainCov, sum.ChainMean, cov, s.Alpha)
	if err != nil {
		c.Reason = "no covariance test: " + err.Error()
		return
	}
	c.CovTest = t
	c.Test = fmt.Sprintf("whitened covariance test on the rank-%d range of the prediction (of %d directions): T = ‖mean_c W Σ̂_c Wᵀ − I‖²_F, null from the %d chain replicates, F(%.3g, %.3g); power %.2g at this sample size against a scale error Σ = (1+ε)Σ_p for ε ≥ %.3g",
		t.Rank, t.Dim, K, t.DF1, t.DF2, PowerTarget, t.Detectable)
	if !math.IsNaN(t.DetectableRotation) {
		c.Test += fmt.Sprintf(", and against a rotation in the plane of the two leading predicted axes for angles ≥ %.3g°", t.DetectableRotation*180/math.Pi)
	}
	if t.Rank < t.Dim {
		c.Test += fmt.Sprintf("; the %d direction(s) outside the range must hold < %g of the measured variance", t.Dim-t.Rank, NullFractionTol)
	}
	switch {
	case s.Inconclusive != "":
		c.Reason = s.Inconclusive
	case t.Reject:
		c.Verdict = VerdictFails
		c.Reason = fmt.Sprintf("the covariance test rejects at α = %g (F = %.4g > %.4g, p = %.2g): relative error %.3g [%.3g, %.3g]", s.Alpha, t.F, t.Critical, t.PValue, t.RelError, t.CILow, t.CIHigh)
	case t.NullLow > NullFractionTol:
		c.Verdict = VerdictFails
		c.Reason = fmt.Sprintf("%.3g ± %.2g of the measured variance lies outside the range of the prediction, which puts none there (limit %g)", t.NullFraction, t.NullFractionSE, NullFractionTol)
	case t.NullHigh > NullFractionTol:
		c.Reason = fmt.Sprintf("the measured variance outside the range of the prediction, %.3g ± %.2g, cannot be told from the limit %g", t.NullFraction, t.NullFractionSE, NullFractionTol)
	default:
		c.Verdict = VerdictHolds
		c.Reason = fmt.Sprintf("the covariance test does not reject at α = %g (F = %.4g ≤ %.4g, p = %.2g)", s.Alpha, t.F, t.Critical, t.PValue)
	}
	c.Consistent = c.Verdict == VerdictHolds
}

// gaussianScore returns x ↦ −P(x − m).
func gaussianScore(prec *mat.SymDense, m []float64) func(dst, x []float64) {
	k := prec.SymmetricDim()
	diff := make([]float64, k)
	return func(dst, x []float64) {
		for i := range diff {
			diff[i] = x[i]
			if m != nil {
				diff[i] -= m[i]
			}
		}
		d := mat.NewVecDense(k, dst)
		d.MulVec(prec, mat.NewVecDense(k, diff))
		for i := range dst {
			dst[i] = -dst[i]
		}
	}
}

// scoreError returns Σ‖emp(x) − pred(x)‖² / Σ‖pred(x)‖² over the points xs (n×k flat).
func scoreError(xs []float64, k int, emp, pred func(dst, x []float64)) float64 {
	a := make([]float64, k)
	b := make([]float64, k)
	var num, den float64
	for i := 0; i+k <= len(xs); i += k {
		x := xs[i : i+k]
		emp(a, x)
		pred(b, x)
		for j := range a {
			num += (a[j] - b[j]) * (a[j] - b[j])
			den += b[j] * b[j]
		}
	}
	return num / den
}

// pickSamples takes up to max samples spread evenly over the chains.
func pickSamples(samples [][]float64, k, max int) []float64 {
	total := 0
	for _, c := range samples {
		total += len(c) / k
	}
	stride := 1
	if total > max {
		stride = (total + max - 1) / max
	}
	var out []float64
	idx := 0
	for _, c := range samples {
		for i := 0; i+k <= len(c); i += k {
			if idx%stride == 0 {
				out = append(out, c[i:i+k]...)
			}
			idx++
		}
	}
	return out
}

// invertSym sets dst to a⁻¹ by Cholesky and reports whether a is positive definite.
func invertSym(dst *mat.SymDense, a mat.Symmetric) bool {
	var ch mat.Cholesky
	if !ch.Factorize(a) {
		return false
	}
	return ch.InverseTo(dst) == nil
}
