package landscape

import (
	"context"
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/sgdprior/sgdprior/sim"
	"gonum.org/v1/gonum/mat"
)

// TestSimulateOU: SGD recovers the discrete-time variance ηκ_Bv/(h(2 − ηh)) and the SDE (small
// DT) the continuous one ηκ_Bv/(2h), each within 3 between-chain standard errors. At ηh = ½
// the two differ by a third, so each measurement also rules out the other formula.
func TestSimulateOU(t *testing.T) {
	o, _ := NewOU(OUSettings{N: 100})
	lr, b := o.Defaults() // η = 0.5, B = 1
	sgd, err := Simulate(context.Background(), o, SimSettings{LR: lr, Batch: b, Time: 100000, Chains: 8, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	v := o.Variances(lr, sgd.Kappa)
	if d := math.Abs(sgd.Cov[0] - v.Discrete[0]); d > 3*sgd.CovErr[0] {
		t.Errorf("SGD variance %v ± %v, discrete closed form %v", sgd.Cov[0], sgd.CovErr[0], v.Discrete[0])
	}
	if d := math.Abs(sgd.Cov[0] - v.SDE[0]); d < 10*sgd.CovErr[0] {
		t.Errorf("SGD variance %v ± %v does not exclude the SDE's %v", sgd.Cov[0], sgd.CovErr[0], v.SDE[0])
	}
	// SDE with DT = 0.02: Euler–Maruyama's own bias is the factor 2/(2 − DT·ηh) ≈ 1.005,
	// half a standard error here.
	o4, _ := NewOU(OUSettings{N: 4})
	sde, err := Simulate(context.Background(), o4, SimSettings{Method: sim.SDE, DT: 0.02, LR: lr, Batch: b, Time: 10000, Chains: 8, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	v4 := o4.Variances(lr, sde.Kappa)
	if d := math.Abs(sde.Cov[0] - v4.SDE[0]); d > 3*sde.CovErr[0] {
		t.Errorf("SDE variance %v ± %v, closed form %v", sde.Cov[0], sde.CovErr[0], v4.SDE[0])
	}
	if d := math.Abs(sde.Cov[0] - v4.Discrete[0]); d < 5*sde.CovErr[0] {
		t.Errorf("SDE variance %v ± %v does not exclude the discrete formula %v", sde.Cov[0], sde.CovErr[0], v4.Discrete[0])
	}
	t.Logf("SGD %v ± %v (discrete %v), SDE %v ± %v (continuous %v)", sgd.Cov[0], sgd.CovErr[0], v.Discrete[0], sde.Cov[0], sde.CovErr[0], v4.SDE[0])
}

// TestSimulateMultiplicative: the SDE's histogram sides with the exact density
// (v0 + v1θ²)^−(1+α), not the note's (v0 + v1θ²)^−α; SGD's variance matches its discrete
// closed form.
func TestSimulateMultiplicative(t *testing.T) {
	m, _ := NewMultiplicative(MultiplicativeSettings{N: 4})
	lr := 0.4 // κ_B = 1 (B = 1 without replacement), α = h/(ηκ_Bv1) = 2.5
	ex, err := Exact1D(m, lr, 1, &Exact1DSettings{Bins: 20, BinLo: -2, BinHi: 2})
	if err != nil {
		t.Fatal(err)
	}
	g := Grid{Lo: []float64{-2}, Hi: []float64{2}, N: []int{20}}
	sde, err := Simulate(context.Background(), m, SimSettings{Method: sim.SDE, DT: 0.05, LR: lr, Batch: 1, Time: 20000, Chains: 16, Seed: 3, Grid: &g})
	if err != nil {
		t.Fatal(err)
	}
	// Mean squared z-score of the bins against each density, z = (histogram − law)/SE: about
	// 1 for the law that generated the data (the between-chain SEs of 16 chains, and
	// Euler's O(DT) bias, allow up to 3), and huge for the other (the densities differ by
	// ~30% at the centre, ~20 standard errors).
	chi := func(bins []float64) float64 {
		var s float64
		for i, pb := range bins {
			z := (sde.Density[i] - pb/0.2) / sde.DensityErr[i]
			s += z * z
		}
		return s / float64(len(bins))
	}
	ce, cs := chi(ex.BinExact), chi(ex.BinNote)
	t.Logf("mean z²: exact %.3g, seed %.3g", ce, cs)
	if ce > 3 {
		t.Errorf("SDE histogram vs exact density: mean z² = %v", ce)
	}
	if cs < 30 {
		t.Errorf("SDE histogram vs the note's density: mean z² = %v, want a clear misfit", cs)
	}
	// SGD at η = 0.2 (α = 5): discrete variance ηκv0/(h(2 − ηh) − ηκv1) = 1/8, against the
	// SDE's 1/9, within 3 standard errors.
	m1000, _ := NewMultiplicative(MultiplicativeSettings{})
	sgd, err := Simulate(context.Background(), m1000, SimSettings{LR: 0.2, Batch: 1, Time: 200000, Chains: 8, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	v := m1000.Variances(0.2, sgd.Kappa)
	if d := math.Abs(sgd.Cov[0] - v.Discrete[0]); d > 3*sgd.CovErr[0] {
		t.Errorf("SGD variance %v ± %v, discrete closed form %v", sgd.Cov[0], sgd.CovErr[0], v.Discrete[0])
	}
	if d := math.Abs(sgd.Cov[0] - v.SDE[0]); d < 5*sgd.CovErr[0] {
		t.Errorf("SGD variance %v ± %v does not exclude the SDE's %v", sgd.Cov[0], sgd.CovErr[0], v.SDE[0])
	}
	t.Logf("SGD variance %v ± %v, discrete %v, SDE %v", sgd.Cov[0], sgd.CovErr[0], v.Discrete[0], v.SDE[0])
}

// TestSimulateEscapeSDE: the mean first-passage times from quadrature agree with the SDE's
// measured escape times (DT = 0.05, about 700 escapes per well) within 3 standard errors;
// the O(√DT) bias of monitoring once per step is below one standard error here.
func TestSimulateEscapeSDE(t *testing.T) {
	w, err := NewWells(WellsSettings{Wells: "-1:0.3:0.3,1:0.3:0.6", Balance: true, N: 8, Var0: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	lr := 0.3
	r, err := Simulate(context.Background(), w, SimSettings{Method: sim.SDE, DT: 0.05, LR: lr, Batch: 1, Time: 50000, Chains: 8, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := Exact1D(w, lr, r.Kappa, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k := range ex.Escape {
		if r.Escapes[k] < 300 || math.Abs(r.Escape[k]-ex.Escape[k]) > 3*r.EscapeErr[k] {
			t.Errorf("well %d: SDE escape %v ± %v (%d escapes), quadrature %v", k, r.Escape[k], r.EscapeErr[k], r.Escapes[k], ex.Escape[k])
		}
		// The well masses too (between-chain SE).
		if math.Abs(r.Mass[k]-ex.MassExact[k]) > 3*r.MassErr[k] {
			t.Errorf("well %d: SDE mass %v ± %v, exact %v", k, r.Mass[k], r.MassErr[k], ex.MassExact[k])
		}
		t.Logf("well %d: escape %v ± %v (exact %v), mass %v ± %v (exact %v)", k, r.Escape[k], r.EscapeErr[k], ex.Escape[k], r.Mass[k], r.MassErr[k], ex.MassExact[k])
	}
}

// TestSimulateMomentsNaive checks Simulate's on-the-fly moments (per-chain Welford, pooled by
// Chan's formula) against sim.ChainMoments on the stored samples of the same chains.
func TestSimulateMomentsNaive(t *testing.T) {
	o, _ := NewOU2D(OU2DSettings{N: 30})
	s := SimSettings{LR: 0.1, Batch: 3, Time: 3000, Burnin: 500, Chains: 3, Seed: 9, Init: []float64{0.3, -0.2}}
	r, err := Simulate(context.Background(), o, s)
	if err != nil {
		t.Fatal(err)
	}
	sr, err := sim.Run(context.Background(), o, sim.Config{LR: 0.1, Batch: 3, Chains: 3, Steps: 3000, Burnin: 500, Seed: 9, Init: s.Init})
	if err != nil {
		t.Fatal(err)
	}
	mean, meanSE := make([]float64, 2), make([]float64, 2)
	cov, covSE := mat.NewSymDense(2, nil), mat.NewSymDense(2, nil)
	sim.ChainMoments(mean, meanSE, cov, covSE, sr.Samples, 2)
	for a := range 2 {
		if math.Abs(r.Mean[a]-mean[a]) > 1e-12 || math.Abs(r.MeanErr[a]-meanSE[a]) > 1e-12 {
			t.Errorf("mean[%d]: %v ± %v, sim %v ± %v", a, r.Mean[a], r.MeanErr[a], mean[a], meanSE[a])
		}
		for b := range 2 {
			if math.Abs(r.Cov[a*2+b]-cov.At(a, b)) > 1e-12 || math.Abs(r.CovErr[a*2+b]-covSE.At(a, b)) > 1e-12 {
				t.Errorf("cov[%d,%d]: %v ± %v, sim %v ± %v", a, b, r.Cov[a*2+b], r.CovErr[a*2+b], cov.At(a, b), covSE.At(a, b))
			}
		}
	}
	if r.Kept != 2500 {
		t.Errorf("kept %d iterates per chain, want 2500", r.Kept)
	}
}

func TestPassageTracker(t *testing.T) {
	p := newPassageTracker([]float64{0, 1, 2}, 0)
	for i, x := range []float64{0.5, 1.2, 0.8, -0.1, 2.5, 2.0} {
		p.observe(float64(i+1), x)
	}
	want := [][]float64{{2, 1}, {2, 1}, nil}
	for k := range want {
		if !slices.Equal(p.passages[k], want[k]) {
			t.Errorf("passages out of minimum %d: %v, want %v", k, p.passages[k], want[k])
		}
	}
	// Not started at a minimum: the clock starts at the first minimum reached.
	q := newPassageTracker([]float64{0, 1}, 0.5)
	for i, x := range []float64{0.7, 1.1, 0.4, -0.2} {
		q.observe(float64(i+1), x)
	}
	if len(q.passages[0]) != 0 || !slices.Equal(q.passages[1], []float64{2}) {
		t.Errorf("passages %v, want [] and [2]", q.passages)
	}
}

// TestSimulateReproducible: results are bitwise identical whatever GOMAXPROCS is.
func TestSimulateReproducible(t *testing.T) {
	w, _ := NewWells(WellsSettings{N: 20})
	g := Grid{Lo: []float64{-2}, Hi: []float64{3}, N: []int{25}}
	run := func(procs int) *SimResult {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		r, err := Simulate(context.Background(), w, SimSettings{Time: 20000, Chains: 5, Seed: 7, Grid: &g})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := run(1), run(3)
	same := func(x, y []float64) bool {
		return slices.EqualFunc(x, y, func(u, v float64) bool { return math.Float64bits(u) == math.Float64bits(v) })
	}
	if !same(a.Density, b.Density) || !same(a.Cov, b.Cov) || !same(a.Mass, b.Mass) || !same(a.Escape, b.Escape) || !same(a.EscapeErr, b.EscapeErr) {
		t.Error("results differ between GOMAXPROCS 1 and 3")
	}
}

func TestGridIndex(t *testing.T) {
	g := Grid{Lo: []float64{0, -1}, Hi: []float64{1, 1}, N: []int{4, 2}}
	cases := []struct {
		x    []float64
		want int
	}{{[]float64{0, -1}, 0}, {[]float64{0.3, 0.5}, 3}, {[]float64{0.99, -0.1}, 6}, {[]float64{1, 0}, -1}, {[]float64{0.5, math.NaN()}, -1}}
	for _, c := range cases {
		if got := g.index(c.x); got != c.want {
			t.Errorf("index(%v) = %d, want %d", c.x, got, c.want)
		}
	}
	if g.cells(2) != 8 || math.Abs(g.cellVolume()-0.25) > 1e-15 {
		t.Errorf("cells %d, volume %v", g.cells(2), g.cellVolume())
	}
}
