package basins

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/testproblem"
	"github.com/sgdprior/sgdprior/landscape"
	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/score"
	"github.com/sgdprior/sgdprior/train"
	"gonum.org/v1/gonum/mat"
)

// smallSettings is a quick grid on iris mlp:4 (d = 35) with equal η/B in two cells
// (0.1/8 = 0.4/32).
func smallSettings() Settings {
	s := DefaultSettings()
	s.LRs, s.Batches = landscape.LRList{0.1, 0.4}, landscape.BatchList{8, 32}
	s.Epochs, s.GDSteps, s.Bootstrap = 5, 100, 500
	return s
}

// TestSpectrumAgainstDense compares λ_max and the top-k eigenvalues from Lanczos, the exact
// trace and Hutchinson's estimate with the eigenvalues of a dense Hessian built by central
// finite differences of the gradient (independent of the HVP code), at a minimum of iris mlp:4.
func TestSpectrumAgainstDense(t *testing.T) {
	p := testproblem.Load(t, "iris", "mlp:4", 1e-2)
	obj := p.Objective()
	d := p.D()
	theta := make([]float64, d)
	model.InitSeeded(theta, p.Model, 3)
	if _, err := train.Minimize(context.Background(), obj, p.Batch, theta, train.Settings{GradTol: 1e-8}); err != nil {
		t.Fatal(err)
	}
	const h = 1e-5
	dense := mat.NewSymDense(d, nil)
	cols := make([][]float64, d)
	gp, gm, x := make([]float64, d), make([]float64, d), make([]float64, d)
	for j := range d {
		copy(x, theta)
		x[j] += h
		obj.Loss(gp, x, p.Batch)
		x[j] -= 2 * h
		obj.Loss(gm, x, p.Batch)
		cols[j] = make([]float64, d)
		for i := range d {
			cols[j][i] = (gp[i] - gm[i]) / (2 * h)
		}
	}
	for i := range d {
		for j := i; j < d; j++ {
			dense.SetSym(i, j, (cols[j][i]+cols[i][j])/2)
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(dense, false) {
		t.Fatal("EigenSym failed")
	}
	ev := eig.Values(nil) // ascending
	trDense := 0.0
	for _, v := range ev {
		trDense += v
	}
	op := &hessOp{obj: obj, theta: theta, b: p.Batch}
	vals, nc, err := TopEigenvalues(op, 5, rand.NewPCG(1, 1))
	if err != nil || nc {
		t.Fatalf("Lanczos: %v (not converged %v)", err, nc)
	}
	// Finite differences of an exact gradient: error O(h²·L''''), far below 1e-6 relative.
	tol := 1e-6 * ev[d-1]
	for k, v := range vals {
		if want := ev[d-1-k]; math.Abs(v-want) > tol {
			t.Errorf("eigenvalue %d: Lanczos %.10g, dense %.10g", k, v, want)
		}
	}
	if tr := ExactTrace(op); math.Abs(tr-trDense) > 1e-6*math.Abs(trDense) {
		t.Errorf("exact trace %.10g, dense %.10g", tr, trDense)
	}
	// Hutchinson: within 3 standard errors (a 0.3% two-sided miss rate for a fixed stream),
	// and the SE must be meaningful (positive, below the estimate).
	m, se := HutchinsonTrace(op, 400, rand.New(rand.NewPCG(7, 2)))
	if !(se > 0 && se < math.Abs(m)) || math.Abs(m-trDense) > 3*se {
		t.Errorf("Hutchinson %.6g ± %.3g, dense trace %.6g", m, se, trDense)
	}
	t.Logf("λ_max %.6g, tr H %.6g, Hutchinson %.6g ± %.3g", vals[0], trDense, m, se)

	// The noise along the top eigenvectors against the dense covariance C (score's), and the
	// implied prior precision against its formula.
	_, vecs, _, err := topEigen(op, 3, rand.NewPCG(1, 1), true)
	if err != nil {
		t.Fatal(err)
	}
	const kappa = 0.125
	c := NoiseAlong(p.Model, theta, p.Batch, vecs, kappa)
	cov := score.GradCovariance(p.Model, p.Batch, theta)
	// Round-off: relative 1e-10 of the largest (a direction may carry no noise, c ≈ 1e-17).
	scale := kappa * mat.Trace(cov)
	for k := range c {
		v := mat.Col(nil, k, vecs)
		want := kappa * mat.Inner(mat.NewVecDense(d, v), cov, mat.NewVecDense(d, v))
		if math.Abs(c[k]-want) > 1e-10*scale {
			t.Errorf("c_%d = %.12g, dense vᵀC_Bv = %.12g", k, c[k], want)
		}
	}
	if got, want := SeedPrecisionAlong(2, 0.5, 0.1, 0.01, 100), 2*2/(0.1*0.5)-100*(2-0.01); math.Abs(got-want) > 1e-12 {
		t.Errorf("prior precision %g, want %g", got, want)
	}
	if !math.IsNaN(SeedPrecisionAlong(2, 0, 0.1, 0.01, 100)) {
		t.Error("prior precision without noise should be NaN")
	}
}

// TestRunDescentAndDeterminism runs a small sweep: every descent reaches ‖∇L‖ ≤ 1e-8, the
// output is bitwise the same with GOMAXPROCS 1 and 2 (and 1 or 2 workers), and it reads
// back what it writes.
func TestRunDescentAndDeterminism(t *testing.T) {
	p := testproblem.Load(t, "iris", "mlp:4", 1e-2)
	run := func(procs, workers int) []byte {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		s := smallSettings()
		s.ExactDim = 0 // Hutchinson, so its probe streams are covered too
		s.Workers = workers
		o, err := Run(context.Background(), p, &s)
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Runs) != 6*5 {
			t.Fatalf("%d runs, want 30", len(o.Runs))
		}
		for _, r := range o.Runs {
			if !(float64(r.GradNorm) <= 1e-8) || !r.Converged {
				t.Errorf("lr %v batch %d seed %d gd %v: ‖∇L‖ = %g > 1e-8", r.LR, r.Batch, r.Seed, r.GD, float64(r.GradNorm))
			}
		}
		if procs == 1 {
			path := filepath.Join(t.TempDir(), "b.json")
			if err := o.Write(path); err != nil {
				t.Fatal(err)
			}
			back, err := ReadOutput(path)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := json.Marshal(o)
			b, _ := json.Marshal(back)
			if !bytes.Equal(a, b) {
				t.Error("the output does not read back as written")
			}
			if len(o.Summary.EqualRatio) != 2 || len(o.Summary.SGDvsGD) != 8 || len(o.Summary.ByRatio) != 3 {
				t.Errorf("summary: %d equal-ratio, %d SGD-vs-GD, %d ratios; want 2, 8, 3",
					len(o.Summary.EqualRatio), len(o.Summary.SGDvsGD), len(o.Summary.ByRatio))
			}
		}
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := run(1, 1)
	if b := run(2, 2); !bytes.Equal(a, b) {
		t.Error("GOMAXPROCS 1 (1 worker) and 2 (2 workers) differ")
	}
	if b := run(2, 1); !bytes.Equal(a, b) {
		t.Error("GOMAXPROCS 1 and 2 with 1 worker differ")
	}
}

// TestLinearBarrier: 0 between a point and itself; 0 on a convex quadratic (the maximum of
// a convex function on a segment is at an end); exactly 1 at t = ½ on the double well
// L(x) = (x₁² − 1)² + x₂² between its minima (±1, 0), where L(0, 0) = 1.
func TestLinearBarrier(t *testing.T) {
	well := func(x []float64) float64 { return (x[0]*x[0]-1)*(x[0]*x[0]-1) + x[1]*x[1] }
	a, b := []float64{-1, 0}, []float64{1, 0}
	if bar, _ := LinearBarrier(well, a, a, 11); bar != 0 {
		t.Errorf("barrier to itself %g, want 0", bar)
	}
	if bar, tm := LinearBarrier(well, a, b, 11); bar != 1 || tm != 0.5 {
		t.Errorf("double well: barrier %g at t = %g, want 1 at 0.5", bar, tm)
	}
	quad := func(x []float64) float64 { return 2*x[0]*x[0] + x[0]*x[1] + x[1]*x[1] }
	if bar, _ := LinearBarrier(quad, []float64{1, -2}, []float64{-0.5, 3}, 21); bar != 0 {
		t.Errorf("convex quadratic: barrier %g, want 0", bar)
	}
}

// TestSpearmanTies checks ρ against a hand computation with ties: x = (1, 2, 2, 3) ranks
// (1, 2.5, 2.5, 4), y = (1, 3, 2, 4); Σdxdy = 4.5, Σdx² = 4.5, Σdy² = 5, ρ = 4.5/√22.5.
func TestSpearmanTies(t *testing.T) {
	got := Spearman([]float64{1, 2, 2, 3}, []float64{10, 30, 20, 40})
	if want := 4.5 / math.Sqrt(22.5); math.Abs(got-want) > 1e-15 {
		t.Errorf("ρ = %.17g, want %.17g", got, want)
	}
	if r := Ranks([]float64{5, 1, 5, 5, 0}); !slices.Equal(r, []float64{4, 2, 4, 4, 1}) {
		t.Errorf("ranks %v", r)
	}
	if !math.IsNaN(Spearman([]float64{1, 1, 1}, []float64{1, 2, 3})) {
		t.Error("ρ with a constant variable should be NaN")
	}
}

// TestClusterBootstrap: deterministic for a given stream, and covering: over 200 samples of
// 60 clusters of 3 bivariate normal pairs (correlation r, independent clusters) the 95%
// interval covers the population Spearman ρ_s = (6/π) arcsin(r/2) in at least 88% of them
// (binomial SE of the coverage ≈ 1.5%; the percentile bootstrap slightly undercovers).
func TestClusterBootstrap(t *testing.T) {
	const r, nc, per = 0.6, 60, 3
	want := 6 / math.Pi * math.Asin(r/2)
	sample := func(rng *rand.Rand) (x, y []float64, cl []int) {
		for c := range nc {
			for range per {
				z1, z2 := rng.NormFloat64(), rng.NormFloat64()
				x = append(x, z1)
				y = append(y, r*z1+math.Sqrt(1-r*r)*z2)
				cl = append(cl, c)
			}
		}
		return
	}
	x, y, cl := sample(rand.New(rand.NewPCG(1, 1)))
	r1, l1, h1, _ := ClusterBootstrapSpearman(x, y, cl, nc, 500, rand.New(rand.NewPCG(5, 5)))
	r2, l2, h2, _ := ClusterBootstrapSpearman(x, y, cl, nc, 500, rand.New(rand.NewPCG(5, 5)))
	if r1 != r2 || l1 != l2 || h1 != h2 || !(l1 <= r1 && r1 <= h1) {
		t.Fatalf("not deterministic or not around ρ: %v [%v, %v] vs %v [%v, %v]", r1, l1, h1, r2, l2, h2)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	cover := 0
	const reps = 200
	for range reps {
		x, y, cl := sample(rng)
		_, lo, hi, _ := ClusterBootstrapSpearman(x, y, cl, nc, 400, rng)
		if lo <= want && want <= hi {
			cover++
		}
	}
	if f := float64(cover) / reps; f < 0.88 {
		t.Errorf("coverage %.3f of the 95%% interval, want ≥ 0.88", f)
	}
}

// TestPairedT against a hand computation: differences (1, 2, 3) have mean 2, SE 1/√3 and the
// 95% interval 2 ± t_{0.975,2}/√3 with t_{0.975,2} = 4.302652729911275.
func TestPairedT(t *testing.T) {
	d := PairedT([]float64{2, 4, 6}, []float64{1, 2, 3})
	half := 4.302652729911275 / math.Sqrt(3)
	if d.N != 3 || math.Abs(d.Mean-2) > 1e-15 || math.Abs(d.Stderr-1/math.Sqrt(3)) > 1e-15 ||
		math.Abs(d.Low-(2-half)) > 1e-9 || math.Abs(d.High-(2+half)) > 1e-9 {
		t.Errorf("%+v", d)
	}
	c := compare("a", "b", "q", []float64{1, 2, 3}, []float64{1.5, 1.5, 3}, "same", "above", "below")
	if c.Verdict != "same" {
		t.Errorf("an interval containing 0 gave %q", c.Verdict)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		key string
		mod func(*Settings)
	}{
		{"seeds", func(s *Settings) { s.Seeds = SeedList{1, 2, 3, 4} }},
		{"seeds", func(s *Settings) { s.Seeds = SeedList{1, 2, 3, 4, 4} }},
		{"lr", func(s *Settings) { s.LRs = nil }},
		{"epochs", func(s *Settings) { s.Epochs = 0 }},
		{"gd-steps", func(s *Settings) { s.GDSteps = 0 }},
		{"grad-tol", func(s *Settings) { s.GradTol = 0 }},
		{"probes", func(s *Settings) { s.Probes = 1 }},
		{"barrier-points", func(s *Settings) { s.BarrierPoints = 2 }},
	} {
		s := DefaultSettings()
		tc.mod(&s)
		fe := field.As(s.Validate())
		if fe == nil || fe.Key != tc.key {
			t.Errorf("want a %q error, got %v", tc.key, s.Validate())
		}
	}
	s := DefaultSettings()
	if err := s.Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	var l SeedList
	if err := l.Set("1, 2,3"); err != nil || !(len(l) == 3 && l[2] == 3) || l.String() != "1,2,3" {
		t.Errorf("SeedList: %v %v", l, err)
	}
	if err := l.Set("-1"); err == nil {
		t.Error("SeedList accepted -1")
	}
}

// TestTestSetUsed: with a test set (here the training set itself, so every test number must
// equal its training counterpart) the runs report test loss and accuracy and the rank
// correlation is against the test error.
func TestTestSetUsed(t *testing.T) {
	p := *testproblem.Load(t, "iris", "mlp:4", 1e-2)
	p.Test, p.TestBatch = p.Data, p.Batch
	if !p.HasTest() {
		t.Skip("HasTest does not see a test set set by hand")
	}
	s := smallSettings()
	s.GD = false
	o, err := Run(context.Background(), &p, &s)
	if err != nil {
		t.Fatal(err)
	}
	var x, y []float64
	moved := false
	for _, r := range o.Runs {
		if r.TestLoss != r.TrainLoss || r.TestAcc != r.TrainAcc || r.GenGap != 0 || !r.TestAcc.OK() {
			t.Fatalf("test %v/%v, train %v/%v, gap %v", r.TestLoss, r.TestAcc, r.TrainLoss, r.TrainAcc, r.GenGap)
		}
		if r.IterateTestLoss != r.IterateTrainLoss || r.IterateTestAcc != r.IterateTrainAcc || !r.IterateTestAcc.OK() {
			t.Fatalf("iterate test %v/%v, train %v/%v", r.IterateTestLoss, r.IterateTestAcc, r.IterateTrainLoss, r.IterateTrainAcc)
		}
		// The pre-descent objective is the iterate's training NLL plus (λ/2)‖θ_T‖² ≥ 0.
		if float64(r.IterateTrainLoss) > float64(r.PreDescentLoss)+1e-12 {
			t.Fatalf("iterate NLL %v above the objective there %v", r.IterateTrainLoss, r.PreDescentLoss)
		}
		moved = moved || r.IterateTrainLoss != r.TrainLoss
		x, y = append(x, float64(r.IterateLambdaMax)), append(y, 1-float64(r.IterateTestAcc))
	}
	if !moved {
		t.Error("the iterate's numbers equal the minimum's in every run: not measured at θ_T")
	}
	if got := o.Summary.SharpnessTestErrorRankCorr.Target; got != "test_error" {
		t.Errorf("rank target %q, want test_error", got)
	}
	if got, want := float64(o.Summary.IterateSharpnessTestErrorRankCorr.Rho), Spearman(x, y); got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
		t.Errorf("iterate rank correlation %v, want Spearman of the runs' iterate columns %v", got, want)
	}
}
