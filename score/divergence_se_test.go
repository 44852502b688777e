package score

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/floats"

	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/model"
)

// TestDivergenceStderr checks the jackknife standard error of the divergence norm
// ‖C_B⁻¹κ_B∇·C‖ (diagnostics.divergence_norm_stderr) against the spread of the estimate over
// S = 40 seeds (new probes and, in the subset case, a new example subset each), on a small
// MLP whose exact ∇·C (exact traces on all N examples, d ≤ ExactTraceMaxDim) is known:
//   - the mean of the estimated ∇·C over the seeds is the exact one, each component within
//     4.5 of its standard errors (Hutchinson and the subset are unbiased);
//   - √(mean SE²) matches the standard deviation of the norm over the seeds: the log ratio
//     must be within 3 of its standard errors, √(1/(2(S−1))) for the standard deviation
//     (Gaussian spread) and sd(SE²)/(2·mean(SE²)·√S) for the mean SE² (delta method);
//   - the exact path reports a standard error of 0.
//
// Cases: probes only (the divergence on all N examples) and probes with a subset of N/2
// examples (both sources).
func TestDivergenceStderr(t *testing.T) {
	rnd := newRand(51)
	n, p := 80, 4
	b := classData(rnd, n, p, 3)
	m := mustModel(t, "mlp:3", p, 3, model.Options{})
	d := m.NumParams()
	theta := randTheta(rnd, d, 0.8)
	prob := ModelProblem{Model: m, Batch: b, WeightDecay: 0.01}
	base := Settings{LR: 0.1, Batch: 8, Solver: SolverDense, Inverse: linalg.InverseSettings{Damping: 1e-3},
		Divergence: true, SkipAsymmetry: true, TraceProbes: 10, ExactTraceMaxDim: d, DivergenceExamples: n}
	exact, err := ComputeModel(prob, theta, &base)
	if err != nil {
		t.Fatal(err)
	}
	if se := exact.Diagnostics.DivergenceNormSE; se == nil || *se != 0 {
		t.Errorf("exact divergence: standard error %v, want 0", se)
	}
	for _, tc := range []struct {
		name string
		sub  int
	}{{"probes", n}, {"probes and subset", n / 2}} {
		t.Run(tc.name, func(t *testing.T) {
			const seeds = 40
			s := base
			s.ExactTraceMaxDim, s.DivergenceExamples = 1, tc.sub
			var norms, se2 []float64
			sum := make([]float64, d)
			sumSq := make([]float64, d)
			for seed := uint64(1); seed <= seeds; seed++ {
				s.Seed = seed
				rep, err := ComputeModel(prob, theta, &s)
				if err != nil {
					t.Fatal(err)
				}
				norms = append(norms, *rep.Diagnostics.DivergenceNorm)
				se2 = append(se2, *rep.Diagnostics.DivergenceNormSE**rep.Diagnostics.DivergenceNormSE)
				for l, v := range rep.Vectors.DivergenceC {
					sum[l] += v
					sumSq[l] += v * v
				}
			}
			for l := range sum {
				mean := sum[l] / seeds
				sd := math.Sqrt((sumSq[l]/seeds - mean*mean) * seeds / (seeds - 1))
				if dev := math.Abs(mean - exact.Vectors.DivergenceC[l]); dev > 4.5*sd/math.Sqrt(seeds) {
					t.Errorf("∇·C component %d: mean over seeds %.4g, exact %.4g (SE %.3g)", l, mean, exact.Vectors.DivergenceC[l], sd/math.Sqrt(seeds))
				}
			}
			sdNorm := stdDev(norms)
			ms := floats.Sum(se2) / seeds
			logRatio := 0.5*math.Log(ms) - math.Log(sdNorm)
			tol := 3 * math.Sqrt(1/(2.0*(seeds-1))+math.Pow(stdDev(se2)/(2*ms*math.Sqrt(seeds)), 2))
			t.Logf("norm: sd over seeds %.4g, rms jackknife SE %.4g (log ratio %.3f, tolerance %.3f)", sdNorm, math.Sqrt(ms), logRatio, tol)
			if math.Abs(logRatio) > tol {
				t.Errorf("jackknife SE %.4g against the spread over seeds %.4g: log ratio %.3f beyond %.3f", math.Sqrt(ms), sdNorm, logRatio, tol)
			}
		})
	}
}

// stdDev returns the sample standard deviation (divisor n − 1).
func stdDev(x []float64) float64 {
	mean := floats.Sum(x) / float64(len(x))
	var s float64
	for _, v := range x {
		s += (v - mean) * (v - mean)
	}
	return math.Sqrt(s / float64(len(x)-1))
}
