package verify

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/sim"
)

// arSamples returns K chains of n draws of k independent AR(1) coordinates with coefficient
// phi and unit stationary variance; chain c starts at start(c) in every coordinate (stationary
// draws when start is nil).
func arSamples(seed uint64, K, n, k int, phi float64, start func(c int) float64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 5))
	out := make([][]float64, K)
	x := make([]float64, k)
	for c := range out {
		for j := range x {
			if start == nil {
				x[j] = rng.NormFloat64()
			} else {
				x[j] = start(c)
			}
		}
		out[c] = make([]float64, 0, n*k)
		for range n {
			for j := range x {
				x[j] = phi*x[j] + math.Sqrt(1-phi*phi)*rng.NormFloat64()
			}
			out[c] = append(out[c], x...)
		}
	}
	return out
}

// A stationary AR(1) run with k = 50 directions and K = 32 chains meets the criterion (for
// each of 3 seeds: a stationary run fails it with probability about 0.01 by construction);
// chains started far apart (±10 standard deviations) and not burned in fail it, on R̂, with
// a --burnin suggestion.
func TestCheckConvergence(t *testing.T) {
	const K, n, k, phi = 32, 1000, 50, 0.9
	rate := phi // the AR(1) contraction per step
	for seed := range uint64(3) {
		sum := sim.DescribeChains(arSamples(seed, K, n, k, phi, nil), k)
		c := CheckConvergence(sum, rate, n, 0, 1)
		if !c.Converged {
			t.Errorf("seed %d: stationary AR(1) judged not converged: %s (R̂ limit %.4g)", seed, c.Reason, c.RHatLimit)
		}
		if c.RHatLimit < RHatFloor || c.RHatLimit > 1.1 {
			t.Errorf("seed %d: R̂ limit %v", seed, c.RHatLimit)
		}
	}
	far := func(c int) float64 { return 10 * (2*float64(c)/float64(K-1) - 1) }
	// φ = 0.99: the start is forgotten in about ln(200)/0.01 ≈ 530 steps, half the run.
	sum := sim.DescribeChains(arSamples(9, K, n, k, 0.99, far), k)
	c := CheckConvergence(sum, 0.99, n, 0, 1)
	if c.Converged || !strings.Contains(c.Reason, "R̂") || !strings.Contains(c.Suggestion, "--burnin ≥ 528") {
		t.Errorf("far-apart starts without burn-in: converged %v, reason %q, suggestion %q", c.Converged, c.Reason, c.Suggestion)
	}
}

// RHatLimit against the χ² quantile computed independently: for M = 64 split chains, k = 50
// and ESS 400 per direction, q = χ²_63 quantile at 1 − 10⁻⁴ ≈ 108.6 (Wilson–Hilferty), so
// τ = √(1 + q/(63·6.25)) ≈ 1.13; with a huge ESS the floor 1.01 applies.
func TestRHatLimit(t *testing.T) {
	nu := 63.0
	z := 3.719016485455709 // Φ⁻¹(1 − 10⁻⁴)
	q := nu * math.Pow(1-2/(9*nu)+z*math.Sqrt(2/(9*nu)), 3)
	want := math.Sqrt(1 + q/(nu*400/64))
	if got := RHatLimit(50, 32, 400); math.Abs(got-want) > 2e-3 {
		t.Errorf("RHatLimit(50, 32, 400) = %v, want ≈ %v", got, want)
	}
	if got := RHatLimit(50, 32, 1e9); got != RHatFloor {
		t.Errorf("RHatLimit with ESS 1e9 = %v, want the floor %v", got, RHatFloor)
	}
}
