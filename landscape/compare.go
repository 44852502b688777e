package landscape

import (
	"math"

	"github.com/sgdprior/sgdprior/sim"
	"gonum.org/v1/gonum/stat/distuv"
)

// MassComparison is the outcome of CompareMasses.
type MassComparison int

const (
	// Unresolved: the test does not reject equal masses (or a mass or its error is absent).
	Unresolved MassComparison = 0
	// FirstWins: the first well's mass is larger, at the test's level.
	FirstWins MassComparison = 1
	// SecondWins: the second well's mass is larger, at the test's level.
	SecondWins MassComparison = -1
)

// MassAlpha is the two-sided level of CompareMasses' test of equal masses.
const MassAlpha = 0.01

// MassTest is CompareMasses' test of the difference of two wells' masses measured on SGD.
type MassTest struct {
	// Diff is m₁ − m₂ and SE its standard error; Stat = Diff/SE.
	Diff, SE, Stat float64
	// DF is the degrees of freedom of the paired t-test (chains − 1), or 0 for the z-test.
	DF int
	// Crit is the critical value: |Stat| > Crit rejects equal masses at level MassAlpha.
	Crit   float64
	Result MassComparison
}

// CompareMasses tests whether SGD puts more mass in one of two wells (MATH.md §8), at the
// two-sided level MassAlpha:
//
//   - with the per-chain masses of both wells (MassSGDChains, K ≥ 2 chains each), the paired
//     t-test: d_k = m₁ₖ − m₂ₖ, Diff = mean d, SE = sd(d)/√K, Stat = Diff/SE, Crit the
//     1 − α/2 quantile of Student's t with K − 1 degrees of freedom (the chains are
//     independent, so this holds whatever the correlation of the two masses within a chain);
//   - otherwise the z-test on the bound SE = se₁ + se₂ of the standard error of Diff
//     (sd(m₁ − m₂) ≤ se₁ + se₂ for any correlation, with equality when the two wells hold
//     all the mass), Crit = Φ⁻¹(1 − α/2) = 2.576; it is conservative, and its level is
//     approximate because se₁, se₂ are themselves estimated from few chains.
//
// The first well wins when Stat > Crit, the second when Stat < −Crit; otherwise, or when a
// mass or a standard error is absent (NaN), the comparison is Unresolved.
func CompareMasses(first, second WellOut) MassTest {
	t := MassTest{Diff: float64(first.MassSGD) - float64(second.MassSGD), SE: math.NaN()}
	a, b := first.MassSGDChains, second.MassSGDChains
	if len(a) >= 2 && len(a) == len(b) {
		d := make([]float64, len(a))
		var mean float64
		for k := range a {
			d[k] = float64(a[k]) - float64(b[k])
			mean += d[k] / float64(len(d))
		}
		t.Diff, t.SE, t.DF = mean, sim.BetweenChainSE(d), len(d)-1
		t.Crit = distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(t.DF)}.Quantile(1 - MassAlpha/2)
	} else {
		t.SE = float64(first.MassSGDStderr) + float64(second.MassSGDStderr)
		t.Crit = distuv.UnitNormal.Quantile(1 - MassAlpha/2)
	}
	t.Stat = t.Diff / t.SE
	if t.SE == 0 && t.Diff == 0 {
		t.Stat = 0
	}
	switch {
	case math.IsNaN(t.Stat):
		t.Result = Unresolved
	case t.Stat > t.Crit:
		t.Result = FirstWins
	case t.Stat < -t.Crit:
		t.Result = SecondWins
	}
	return t
}
