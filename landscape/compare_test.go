package landscape

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestCompareMasses(t *testing.T) {
	nan := Float(math.NaN())
	w := func(m, se Float, chains ...Float) WellOut {
		return WellOut{MassSGD: m, MassSGDStderr: se, MassSGDChains: chains}
	}
	for _, c := range []struct {
		name           string
		a, b           WellOut
		diff, se, crit float64
		df             int
		want           MassComparison
	}{
		// z-test on se₁ + se₂ at the two-sided 1% level: Φ⁻¹(0.995) = 2.5758293035489.
		{"first wins", w(0.98, 0.002), w(0.02, 0.002), 0.96, 0.004, 2.5758293035489, 0, FirstWins},
		{"second wins", w(0.3, 0.01), w(0.7, 0.01), -0.4, 0.02, 2.5758293035489, 0, SecondWins},
		{"not resolved", w(0.52, 0.01), w(0.48, 0.01), 0.04, 0.02, 2.5758293035489, 0, Unresolved},
		{"no standard error", w(0.51, nan), w(0.49, 0.01), 0.02, math.NaN(), 2.5758293035489, 0, Unresolved},
		{"mass absent", w(nan, 0.01), w(0.49, 0.01), math.NaN(), 0.02, 2.5758293035489, 0, Unresolved},
		// Paired t-test: differences 0.2, 0.1, 0.3: mean 0.2, sd 0.1, se 0.1/√3; t₂(0.995) =
		// 9.924843200918.
		{"paired", w(0.6, 0.05, 0.6, 0.55, 0.65), w(0.4, 0.05, 0.4, 0.45, 0.35), 0.2, 0.1 / math.Sqrt(3), 9.924843200918, 2, Unresolved},
		{"paired, no spread", w(0.6, 0, 0.6, 0.6), w(0.4, 0, 0.4, 0.4), 0.2, 0, 63.65674116287399, 1, FirstWins},
		{"paired, equal", w(0.5, 0, 0.5, 0.5), w(0.5, 0, 0.5, 0.5), 0, 0, 63.65674116287399, 1, Unresolved},
	} {
		mt := CompareMasses(c.a, c.b)
		near := func(x, y float64) bool {
			return math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(y)) || math.IsNaN(x) && math.IsNaN(y)
		}
		if !near(mt.Diff, c.diff) || !near(mt.SE, c.se) || !near(mt.Crit, c.crit) || mt.DF != c.df || mt.Result != c.want {
			t.Errorf("%s: CompareMasses = %+v; want diff %v, se %v, crit %v, df %d, %v", c.name, mt, c.diff, c.se, c.crit, c.df, c.want)
		}
	}
	// The rule is symmetric: swapping the wells swaps the winner.
	a, b := w(0.98, 0.002), w(0.02, 0.002)
	if r := CompareMasses(b, a).Result; r != SecondWins {
		t.Errorf("swapped: %v", r)
	}
}

// TestCompareMassesLevel: with equal true masses the paired t-test over K = 8 chains rejects
// at rate MassAlpha. Each chain's masses are (m, 1 − m) with m normal around ½ (the two wells
// hold all the mass), 20000 replicates with a fixed seed: the rate's standard error is
// √(0.01·0.99/20000) = 0.0007, the tolerance 4 of them. Against a true difference of 5
// standard errors of the difference it rejects at least 80% of the time (power of the
// t-test on 7 degrees of freedom at noncentrality 5: about 0.88).
func TestCompareMassesLevel(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 1))
	const K, reps, sd = 8, 20000, 0.03
	run := func(shift float64) float64 {
		rejected := 0
		for r := 0; r < reps; r++ {
			a, b := make([]Float, K), make([]Float, K)
			for k := range a {
				m := 0.5 + shift/2 + sd*rng.NormFloat64()
				a[k], b[k] = Float(m), Float(1-m)
			}
			mt := CompareMasses(WellOut{MassSGD: mean(a), MassSGDChains: a}, WellOut{MassSGD: mean(b), MassSGDChains: b})
			if mt.Result != Unresolved {
				rejected++
			}
		}
		return float64(rejected) / reps
	}
	// Measured: rate 0.01015, power 0.885. The standard deviation of a chain's difference
	// is 2·sd, of their mean 2·sd/√K.
	rate, power := run(0), run(5*2*sd/math.Sqrt(K))
	if math.Abs(rate-MassAlpha) > 4*math.Sqrt(MassAlpha*(1-MassAlpha)/reps) {
		t.Errorf("false-rejection rate %v at level %v", rate, MassAlpha)
	}
	if power < 0.8 {
		t.Errorf("power %v against a 5-standard-error difference", power)
	}
}

func mean(x []Float) Float {
	var m float64
	for _, v := range x {
		m += float64(v)
	}
	return Float(m / float64(len(x)))
}
