package escape

import (
	"context"
	"math"
	"testing"

	"github.com/sgdprior/sgdprior/landscape"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/sim"
)

// wellsCase is the 1-D double well of landscape (MATH.md §8) at η = 0.02, var0 = 10, N = 8,
// B = 1 with replacement (κ_B = 1): ηL”(a) = 0.046, so SGD and Gaussian-noise SGD are close
// to the SDE, and the exact mean first-passage time from the left minimum to the right one
// is ≈ 2139 steps.
func wellsCase(t *testing.T) (*landscape.Wells, float64, float64) {
	t.Helper()
	w, err := landscape.NewWells(landscape.WellsSettings{Wells: "-1:0.3:0.3,1:0.3:0.6", Balance: true, N: 8, Var0: 10})
	if err != nil {
		t.Fatal(err)
	}
	lr := 0.02
	ex, err := landscape.Exact1D(w, lr, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w, lr, ex.Escape[0]
}

// TestWellsEscapeExact runs 2000 chains each of SGD and Gaussian-noise SGD from the left
// minimum of the double well, with landscape's escape criterion (reaching the other minimum,
// checked every step) and a horizon of 14 exact mean escape times (censoring probability
// ~e^{−14} per chain for an exponential escape time). The censored-exponential mean and the
// Kaplan–Meier restricted mean must be within 3 standard errors (the exponential estimator's
// T/E^{3/2}) of the exact mean first-passage time of landscape.Exact1D.
func TestWellsEscapeExact(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	w, lr, exact := wellsCase(t)
	right := w.Minima()[1][0]
	for _, nz := range []Noise{SGDNoise, GaussNoise} {
		cfg := &chainConfig{noise: nz, lr: lr, sampling: noise.With, batch: 1, kappa: 1, chains: 2000,
			steps: 30000, checkEvery: 1, seed: 7, streamBase: streamBase(nz), init: w.Minima()[0],
			escaped: func(_ sim.Problem, x []float64) bool { return x[0] >= right }}
		res, err := runChains(context.Background(), w, cfg)
		if err != nil {
			t.Fatal(err)
		}
		r := summarize(res, cfg.steps, 1)
		m, se, rm := float64(r.MeanEscapeStep), float64(r.MeanEscapeStepStderr), float64(r.RestrictedMean)
		t.Logf("%v: %d/2000 escaped, mean %.1f ± %.1f, KM restricted mean %.1f, median %v; exact %.1f",
			nz, r.Escaped, m, se, rm, float64(r.MedianEscapeStep), exact)
		if r.Escaped < 1990 {
			t.Errorf("%v: only %d of 2000 escaped: censoring is not rare", nz, r.Escaped)
		}
		if math.Abs(m-exact) > 3*se {
			t.Errorf("%v: censored-exponential mean %v ± %v, exact %v", nz, m, se, exact)
		}
		if math.Abs(rm-exact) > 3*se {
			t.Errorf("%v: Kaplan–Meier restricted mean %v (SE %v), exact %v", nz, rm, se, exact)
		}
	}
}

// TestGaussMatchesSim: the gauss chains are sim's Gaussian-noise SGD, bitwise (same stream,
// same draws, same arithmetic), when nothing escapes.
func TestGaussMatchesSim(t *testing.T) {
	w, lr, _ := wellsCase(t)
	init := w.Minima()[0]
	cfg := &chainConfig{noise: GaussNoise, lr: lr, sampling: noise.With, batch: 1, kappa: 1, chains: 3,
		steps: 500, checkEvery: 100, seed: 11, init: init,
		escaped: func(sim.Problem, []float64) bool { return false }}
	res, err := runChains(context.Background(), w, cfg)
	if err != nil {
		t.Fatal(err)
	}
	sr, err := sim.Run(context.Background(), w, sim.Config{Method: sim.Gauss, Sampling: noise.With, LR: lr, Batch: 1,
		Chains: 3, Steps: 500, Seed: 11, Init: init, Thin: 500, Burnin: 0})
	if err != nil {
		t.Fatal(err)
	}
	for k := range res {
		if res[k].final[0] != sr.Final[k][0] {
			t.Errorf("chain %d: escape's gauss %v, sim's %v", k, res[k].final[0], sr.Final[k][0])
		}
	}
	// And SGD (wells has no fused weight-decay path in sim).
	cfg.noise = SGDNoise
	res, _ = runChains(context.Background(), w, cfg)
	sr, err = sim.Run(context.Background(), w, sim.Config{Method: sim.SGD, Sampling: noise.With, LR: lr, Batch: 1,
		Chains: 3, Steps: 500, Seed: 11, Init: init, Thin: 500, Burnin: 0})
	if err != nil {
		t.Fatal(err)
	}
	for k := range res {
		if res[k].final[0] != sr.Final[k][0] {
			t.Errorf("chain %d: escape's sgd %v, sim's %v", k, res[k].final[0], sr.Final[k][0])
		}
	}
}

// TestStationaryExcess: (η/4)·tr C_B equals ½h·Var of the SDE's stationary law on the ou
// preset L = ½hθ² (landscape's closed form ηκ_Bv/(2h)), and the loss excess of 64 Gaussian-
// noise SGD chains there (discrete variance ηκ_Bv/(h(2 − ηh)), ηh = 0.02) within 4 SE.
func TestStationaryExcess(t *testing.T) {
	h, v, lr := 2.0, 3.0, 0.01
	o, err := landscape.NewOU(landscape.OUSettings{H: h, V: v, N: 10})
	if err != nil {
		t.Fatal(err)
	}
	kappa := 1.0
	va := o.Variances(lr, kappa)
	if got, want := StationaryExcess(lr, kappa*v), 0.5*h*va.SDE[0]; math.Abs(got-want) > 1e-15 {
		t.Errorf("StationaryExcess %v, ½h·Var_SDE %v", got, want)
	}
	cfg := &chainConfig{noise: GaussNoise, lr: lr, sampling: noise.With, batch: 1, kappa: kappa, chains: 64,
		steps: 20000, checkEvery: 20000, seed: 3, init: []float64{0},
		escaped: func(sim.Problem, []float64) bool { return false }}
	res, err := runChains(context.Background(), o, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ex := make([]float64, len(res))
	for k, c := range res {
		ex[k] = o.Loss(c.final)
	}
	m, se := meanSE(ex)
	want := 0.5 * h * va.Discrete[0]
	if math.Abs(m-want) > 4*se {
		t.Errorf("loss excess %v ± %v, discrete %v (SDE %v)", m, se, want, StationaryExcess(lr, kappa*v))
	}
	t.Logf("loss excess %.5f ± %.5f, discrete %.5f, (η/4)tr C_B %.5f", m, se, want, StationaryExcess(lr, kappa*v))
}
