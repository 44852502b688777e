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
	"gonum.org/v1/gonum/stat/distuv"

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
	// MaxAbsZ is max_j |Z[j]| and Critical the threshold it is compared with.
	MaxAbsZ, Critical float64
	// Consistent reports MaxAbsZ < Critical; Test describes the test and Alpha its level.
	Consistent bool
	Test       string
	Alpha      float64
	Warnings   []string
}

// Compare judges each prediction against the samples' summary sum (computed by
// sim.DescribeChains on basis coordinates) and the samples themselves (for the score error).
func Compare(sum *sim.ChainSummary, samples [][]float64, preds []Prediction, s CompareSettings) []Comparison {
	s = s.withDefaults()
	k := sum.Dim
	K := sum.Chains
	out := make([]Comparison, 0, len(preds))
	tq := math.NaN()
	if K >= 2 {
		// Two-sided Student-t test with K−1 degrees of freedom (the between-chain standard
		// error has K−1), Bonferroni-corrected over the k directions.
		tq = distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(K - 1)}.Quantile(1 - s.Alpha/(2*float64(k)))
	}
	// The empirical Gaussian score's precision.
	var empPrec mat.SymDense
	empOK := invertSym(&empPrec, sum.Cov)
	xs := pickSamples(samples, k, s.ScoreSamples)
	for _, p := range preds {
		c := Comparison{Name: p.Name, Cov: p.Cov, Alpha: s.Alpha, Critical: tq,
			Test: fmt.Sprintf("two-sided t-tests (K−1 = %d df, between-chain standard errors) of each of the %d basis-direction variances against the prediction, Bonferroni-corrected; consistent when every |t| < %.3g", K-1, k, tq)}
		if p.Cov == nil {
			c.RelFrobenius, c.KL, c.ScoreError, c.MaxAbsZ = math.NaN(), math.NaN(), math.NaN(), math.NaN()
			why := p.Why
			if why == "" {
				why = "no prediction here"
			}
			if !p.Reported {
				c.Warnings = append(c.Warnings, fmt.Sprintf("%s: %s", p.Name, why))
			}
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
		c.Consistent = c.MaxAbsZ < tq
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
