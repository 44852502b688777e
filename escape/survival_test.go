package escape

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestKaplanMeierHand compares the Kaplan–Meier curve with a hand computation with
// censoring: times 2, 3, 3+, 5, 5+, 7, 8+ (+ censored). At risk and escapes: t = 2: 7, 1;
// t = 3: 6, 1 (the chain censored at 3 is still at risk); t = 5: 4, 1; t = 7: 2, 1. So
// Ŝ = 6/7, 6/7·5/6 = 5/7, 5/7·3/4 = 15/28, 15/28·1/2 = 15/56.
func TestKaplanMeierHand(t *testing.T) {
	times := []int{5, 3, 7, 2, 8, 3, 5}
	esc := []bool{true, false, true, true, false, true, false}
	grid := []int{1, 2, 3, 4, 5, 6, 7, 8, 9}
	want := []float64{1, 6. / 7, 5. / 7, 5. / 7, 15. / 28, 15. / 28, 15. / 56, 15. / 56, 15. / 56}
	got := KaplanMeier(times, esc, grid)
	for i, p := range got {
		if p.Step != grid[i] || math.Abs(p.Fraction-want[i]) > 1e-15 {
			t.Errorf("Ŝ(%d) = %v, want %v", p.Step, p.Fraction, want[i])
		}
	}
	// Ŝ first ≤ ½ at t = 7 (15/28 > ½ at 5 and 6).
	if m := MedianSurvival(got); m != 7 {
		t.Errorf("median %v, want 7", m)
	}
	// Restricted mean: 1·2 + (6/7)·1 + (5/7)·2 + (15/28)·2 + (15/56)·2 (grid 1..9).
	area := 1*2 + 6./7 + 5./7*2 + 15./28*2 + 15./56*2
	if r := RestrictedMean(got); math.Abs(r-area) > 1e-13 {
		t.Errorf("restricted mean %v, want %v", r, area)
	}
	// Never below ½: null.
	if m := MedianSurvival(KaplanMeier([]int{9, 9, 3}, []bool{false, false, true}, grid)); !math.IsNaN(m) {
		t.Errorf("median %v, want NaN", m)
	}
	// Without censoring Kaplan–Meier is the empirical survival fraction (brute force).
	rng := rand.New(rand.NewPCG(3, 4))
	n := 50
	tt, ee := make([]int, n), make([]bool, n)
	for i := range tt {
		tt[i], ee[i] = 1+rng.IntN(20), true
	}
	for _, p := range KaplanMeier(tt, ee, grid) {
		alive := 0
		for _, x := range tt {
			if x > p.Step {
				alive++
			}
		}
		if math.Abs(p.Fraction-float64(alive)/float64(n)) > 1e-12 {
			t.Errorf("uncensored Ŝ(%d) = %v, empirical %v", p.Step, p.Fraction, float64(alive)/float64(n))
		}
	}
}

// TestExponentialMean: the censored-exponential mean of exponential escape times (mean 500,
// rounded up to integer steps: mean 1/(1 − e^{−1/500}) = 500.50) censored at 800 (about 20%
// censored) lies within 3 of its standard errors of the true mean, for each of 5 seeds;
// without censoring it is the sample mean exactly.
func TestExponentialMean(t *testing.T) {
	mu := 500.0
	exact := 1 / (1 - math.Exp(-1/mu))
	for seed := uint64(1); seed <= 5; seed++ {
		rng := rand.New(rand.NewPCG(seed, 9))
		k := 2000
		times, esc := make([]int, k), make([]bool, k)
		censored := 0
		for i := range times {
			x := int(math.Ceil(rng.ExpFloat64() * mu))
			if x > 800 {
				times[i], censored = 800, censored+1
			} else {
				times[i], esc[i] = x, true
			}
		}
		m, se := ExponentialMean(times, esc)
		if math.Abs(m-exact) > 3*se {
			t.Errorf("seed %d: mean %v ± %v, exact %v", seed, m, se, exact)
		}
		t.Logf("seed %d: %d censored, mean %.1f ± %.1f (exact %.2f)", seed, censored, m, se, exact)
	}
	times := []int{3, 5, 10}
	m, se := ExponentialMean(times, []bool{true, true, true})
	if m != 6 || math.Abs(se-18/math.Pow(3, 1.5)) > 1e-14 {
		t.Errorf("uncensored mean %v ± %v, want 6 ± %v", m, se, 18/math.Pow(3, 1.5))
	}
	if m, se := ExponentialMean(times, []bool{false, false, false}); !math.IsNaN(m) || !math.IsNaN(se) {
		t.Errorf("no events: %v ± %v, want NaN", m, se)
	}
	p, pse := EscapedFraction([]bool{true, false, false, true, true})
	if p != 0.6 || math.Abs(pse-math.Sqrt(0.6*0.4/5)) > 1e-15 {
		t.Errorf("fraction %v ± %v", p, pse)
	}
}
