package sim

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/field"
	"github.com/sgdprior/sgdprior/internal/memlimit"
	"github.com/sgdprior/sgdprior/noise"
)

func TestParse(t *testing.T) {
	for _, m := range []Method{SGD, Gauss, SDE, SGLD} {
		got, err := ParseMethod(strings.ToUpper(m.String()))
		if err != nil || got != m {
			t.Errorf("ParseMethod(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := ParseMethod("adam"); err == nil {
		t.Error("ParseMethod(adam): no error")
	}
	var zero Config
	if zero.Sampling != noise.Without || zero.Method != SGD {
		t.Error("zero Config is not SGD without replacement")
	}
}

// momentCheck compares the mean and covariance of the rows of y (n×d) with want, allowing
// k standard errors per entry. The standard errors come from the data: sd(y_j)/√n for a
// mean, sd((y_a − ȳ_a)(y_b − ȳ_b))/√n for a covariance entry.
func momentCheck(t *testing.T, name string, y [][]float64, wantMean []float64, wantCov mat.Symmetric, k float64) {
	t.Helper()
	n, d := len(y), len(wantMean)
	mean := make([]float64, d)
	for _, r := range y {
		for j := range d {
			mean[j] += r[j] / float64(n)
		}
	}
	for j := range d {
		var ss float64
		for _, r := range y {
			ss += (r[j] - mean[j]) * (r[j] - mean[j])
		}
		se := math.Sqrt(ss/float64(n-1)) / math.Sqrt(float64(n))
		if math.Abs(mean[j]-wantMean[j]) > k*se {
			t.Errorf("%s: mean[%d] = %.6g, want %.6g ± %.2g (%g SE)", name, j, mean[j], wantMean[j], k*se, k)
		}
	}
	for a := range d {
		for b := a; b < d; b++ {
			prod := make([]float64, n)
			var m float64
			for i, r := range y {
				prod[i] = (r[a] - mean[a]) * (r[b] - mean[b])
				m += prod[i] / float64(n)
			}
			var ss float64
			for _, p := range prod {
				ss += (p - m) * (p - m)
			}
			se := math.Sqrt(ss/float64(n-1)) / math.Sqrt(float64(n))
			got := m * float64(n) / float64(n-1)
			if want := wantCov.At(a, b); math.Abs(got-want) > k*se {
				t.Errorf("%s: cov[%d,%d] = %.6g, want %.6g ± %.2g (%g SE)", name, a, b, got, want, k*se, k)
			}
		}
	}
}

// TestOneStepDistribution checks the exact law of a single step from a fixed θ₀ on a problem
// with θ-dependent noise (least squares): mean θ₀ − hη∇L(θ₀) and covariance
// hη²κ_B C(θ₀) (plus (2ηT/N)I for SGLD), for every method and sampling scheme, over 4000
// chains. Tolerance: 4.5 standard errors per entry.
func TestOneStepDistribution(t *testing.T) {
	p := newLinreg(30, 3, 11)
	theta0 := []float64{0.4, -0.3, 0.8}
	grad, c := p.gradCov(theta0)
	const lr, batch, chains = 0.2, 5, 4000
	n := float64(p.NumExamples())
	cases := []struct {
		m      Method
		s      noise.Sampling
		dt, tp float64
	}{
		{SGD, noise.With, 1, 1}, {SGD, noise.Without, 1, 1}, {SGD, noise.Reshuffle, 1, 1},
		{Gauss, noise.With, 1, 1}, {Gauss, noise.Without, 1, 1},
		{SDE, noise.Without, 0.25, 1}, {SDE, noise.With, 1, 1},
		{SGLD, noise.With, 1, 2}, {SGLD, noise.Without, 1, 1},
	}
	for _, tc := range cases {
		cfg := Config{Method: tc.m, Sampling: tc.s, LR: lr, Batch: batch, DT: tc.dt, Chains: chains,
			Steps: 1, Seed: 5, Init: theta0, Temperature: tc.tp}
		r, err := Run(context.Background(), p, cfg)
		if err != nil {
			t.Fatal(err)
		}
		h := tc.dt
		if tc.m != SDE {
			h = 1
		}
		kappa := mustKappa(t, tc.s, p.NumExamples(), batch)
		wantMean := make([]float64, 3)
		for j := range wantMean {
			wantMean[j] = theta0[j] - h*lr*grad[j]
		}
		wantCov := mat.NewSymDense(3, nil)
		wantCov.ScaleSym(h*lr*lr*kappa, c)
		if tc.m == SGLD {
			for j := range 3 {
				wantCov.SetSym(j, j, wantCov.At(j, j)+2*lr*tc.tp/n)
			}
		}
		y := make([][]float64, chains)
		for k := range y {
			y[k] = r.Sample(k, 0)
		}
		momentCheck(t, tc.m.String()+"/"+tc.s.String(), y, wantMean, wantCov, 4.5)
	}
}

// TestSamplingSchemes checks the index sets each scheme draws.
func TestSamplingSchemes(t *testing.T) {
	const n, b = 11, 3
	q := newQuadratic1D(1, 1, n, 1)
	var batches [][]int
	q.hook = func(idx []int) { batches = append(batches, slices.Clone(idx)) }
	run := func(s noise.Sampling, steps int) {
		batches = nil
		_, err := Run(context.Background(), q, Config{Sampling: s, LR: 0.1, Batch: b, Chains: 1, Steps: steps, Seed: 3, Init: []float64{0}})
		if err != nil {
			t.Fatal(err)
		}
		if len(batches) != steps {
			t.Fatalf("%v: %d gradient calls for %d steps", s, len(batches), steps)
		}
	}

	// Reshuffle: epochs of ⌊N/B⌋ = 3 consecutive slices of one permutation, all distinct;
	// the last 2 indices of each permutation are dropped; permutations differ.
	run(noise.Reshuffle, 300)
	var firsts [][]int
	for e := 0; e < 100; e++ {
		seen := map[int]bool{}
		var epoch []int
		for _, bt := range batches[3*e : 3*e+3] {
			for _, i := range bt {
				if seen[i] || i < 0 || i >= n {
					t.Fatalf("reshuffle epoch %d: index %d repeated or out of range", e, i)
				}
				seen[i] = true
				epoch = append(epoch, i)
			}
		}
		firsts = append(firsts, epoch)
	}
	if slices.Equal(firsts[0], firsts[1]) && slices.Equal(firsts[1], firsts[2]) {
		t.Error("reshuffle: the permutation is not redrawn each epoch")
	}

	// Without: distinct indices in each batch, every index equally often: each index is in
	// a batch with probability B/N, so its count over S steps is Binomial(S, B/N); 5 SD.
	const steps = 30000
	for _, s := range []noise.Sampling{noise.Without, noise.With} {
		run(s, steps)
		counts := make([]float64, n)
		distinctFail := 0
		for _, bt := range batches {
			for x, i := range bt {
				counts[i]++
				for _, j := range bt[:x] {
					if i == j {
						distinctFail++
					}
				}
			}
		}
		if s == noise.Without && distinctFail > 0 {
			t.Errorf("without: %d repeated indices within batches", distinctFail)
		}
		// With: repeats must occur (P(no repeat in a batch) = (10/11)(9/11) ≈ 0.74).
		if s == noise.With && distinctFail == 0 {
			t.Error("with: no batch ever repeated an index")
		}
		pr := float64(b) / n
		sd := math.Sqrt(steps * pr * (1 - pr))
		if s == noise.With {
			// Each of the B draws hits index i with probability 1/N: Binomial(S·B, 1/N).
			sd = math.Sqrt(steps * b * (1.0 / n) * (1 - 1.0/n))
		}
		for i, cnt := range counts {
			if math.Abs(cnt-steps*pr) > 5*sd {
				t.Errorf("%v: index %d drawn %v times, want %v ± %.0f (5 SD)", s, i, cnt, steps*pr, 5*sd)
			}
		}
	}
}

// runQ runs a 1-D quadratic to stationarity and returns the pooled variance with its
// between-chain standard error.
func stationaryVar(t *testing.T, p Problem, cfg Config) (v, se float64) {
	t.Helper()
	r, err := Run(context.Background(), p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := DescribeChains(r.Samples, r.Dim)
	return s.Cov.At(0, 0), s.CovSE.At(0, 0)
}

// TestStationaryVariance1D compares the stationary variance on ℓ_i = ½hθ² + a_iθ (mean of
// a_i 0, population variance v) with its closed forms (MATH.md §8, §9):
//   - SGD and Gaussian-noise SGD: ηκ_Bv/(h(2 − ηh)) (the discrete Lyapunov solution);
//   - Euler–Maruyama at step Δt: ηκ_Bv/(h(2 − Δt·ηh)), which tends to the SDE's ηκ_Bv/(2h);
//   - SGLD: (η²κ_Bv + 2ηT/N)/(ηh(2 − ηh)).
//
// Tolerance: 4 between-chain standard errors (16 chains).
func TestStationaryVariance1D(t *testing.T) {
	const h, v, n, b, lr = 1.0, 1.0, 20, 5, 0.5
	q := newQuadratic1D(h, v, n, 2)
	base := Config{LR: lr, Batch: b, Chains: 16, Steps: 20000, Burnin: 200, Seed: 17, Init: []float64{0}}
	for _, s := range []noise.Sampling{noise.Without, noise.With, noise.Reshuffle} {
		kappa := mustKappa(t, s, n, b)
		disc := lr * kappa * v / (h * (2 - lr*h))
		for _, m := range []Method{SGD, Gauss} {
			if m == Gauss && s == noise.Reshuffle {
				continue
			}
			cfg := base
			cfg.Method, cfg.Sampling = m, s
			got, se := stationaryVar(t, q, cfg)
			if s == noise.Reshuffle {
				continue // see TestStationaryVarianceReshuffle
			}
			if math.Abs(got-disc) > 4*se {
				t.Errorf("%v/%v: variance %.5g ± %.2g, want %.5g (4 SE)", m, s, got, se, disc)
			}
		}
		if s == noise.Reshuffle {
			continue
		}
		cfg := base
		cfg.Method, cfg.Sampling, cfg.Temperature = SGLD, s, 0.5
		sgld := (lr*lr*kappa*v + 2*lr*0.5/n) / (lr * h * (2 - lr*h))
		if got, se := stationaryVar(t, q, cfg); math.Abs(got-sgld) > 4*se {
			t.Errorf("sgld/%v: variance %.5g ± %.2g, want %.5g (4 SE)", s, got, se, sgld)
		}
	}

	// SDE: Euler–Maruyama with Δt = 0.05. The autocorrelation time grows as 1/Δt, so run
	// 120000 steps of size Δt (6000 SGD-step time units) per chain.
	const dt = 0.05
	kappa := mustKappa(t, noise.Without, n, b)
	cfg := base
	cfg.Method, cfg.DT, cfg.Steps, cfg.Burnin, cfg.Thin = SDE, dt, 120000, 2000, 10
	got, se := stationaryVar(t, q, cfg)
	em := lr * kappa * v / (h * (2 - dt*lr*h))
	cont := lr * kappa * v / (2 * h)
	t.Logf("sde Δt=%v: variance %.5g ± %.2g; Euler–Maruyama %.5g, continuous %.5g", dt, got, se, em, cont)
	if math.Abs(got-em) > 4*se {
		t.Errorf("sde Δt=%v: variance %.5g ± %.2g, want %.5g (4 SE)", dt, got, se, em)
	}
	// The continuous-time value differs from the Δt = 0.05 one by the factor 2/(2 − Δtηh),
	// 1.3% here: the measurement must approach it within that bias plus 4 SE.
	if math.Abs(got-cont) > (em-cont)+4*se {
		t.Errorf("sde Δt=%v: variance %.5g ± %.2g, continuous-time value %.5g", dt, got, se, cont)
	}
}

// TestStationaryVarianceReshuffle checks SGD with reshuffling on ℓ_i = ½hθ² + a_iθ against
// its exact stationary variance. Within an epoch of E = ⌊N/B⌋ batches the batch means ξ_j of
// one random permutation have Var ξ_j = κ_B v (κ_B of sampling without replacement) and
// Cov(ξ_j, ξ_k) = −v/(N − 1) for j ≠ k, independent across epochs. noise.With A = 1 − ηh, the
// variance at the start of an epoch is V₀ = η² Var(Σ_j A^{E−1−j} ξ_j)/(1 − A^{2E}), p steps
// into an epoch it is A^{2p}V₀ + η² Var(Σ_{j<p} A^{p−1−j} ξ_j), and the kept samples cover
// the E phases equally. N = 22, B = 5 also exercises the dropped partial batch.
// Tolerance: 4 between-chain standard errors (16 chains).
func TestStationaryVarianceReshuffle(t *testing.T) {
	const h, v, n, b, lr = 1.0, 1.0, 22, 5, 0.5
	const E = n / b
	q := newQuadratic1D(h, v, n, 3)
	kappa := mustKappa(t, noise.Without, n, b)
	A := 1 - lr*h
	// varSum returns Var(Σ_j c_j ξ_j).
	varSum := func(c []float64) float64 {
		var s float64
		for j := range c {
			for k := range c {
				if j == k {
					s += c[j] * c[k] * kappa * v
				} else {
					s -= c[j] * c[k] * v / (n - 1)
				}
			}
		}
		return s
	}
	coef := func(p int) []float64 {
		c := make([]float64, p)
		for j := range c {
			c[j] = math.Pow(A, float64(p-1-j))
		}
		return c
	}
	v0 := lr * lr * varSum(coef(E)) / (1 - math.Pow(A, 2*E))
	var want float64
	for p := range E {
		want += (math.Pow(A, float64(2*p))*v0 + lr*lr*varSum(coef(p))) / E
	}
	cfg := Config{Sampling: noise.Reshuffle, LR: lr, Batch: b, Chains: 16, Steps: 20000, Burnin: 200, Seed: 19, Init: []float64{0}}
	if (cfg.Steps-cfg.Burnin)%E != 0 {
		t.Fatal("test set-up: kept samples do not cover the phases equally")
	}
	got, se := stationaryVar(t, q, cfg)
	t.Logf("sgd/reshuffle: variance %.5g ± %.2g, exact %.5g", got, se, want)
	if math.Abs(got-want) > 4*se {
		t.Errorf("sgd/reshuffle: variance %.5g ± %.2g, want %.5g (4 SE)", got, se, want)
	}
	if without := lr * kappa * v / (h * (2 - lr*h)); math.Abs(without-want) < 0.2*want {
		t.Errorf("test set-up: reshuffle prediction %.4g too close to the without-replacement one %.4g", want, without)
	}
}

// TestStationaryCovariance2D checks SGD (without replacement) and Gaussian-noise SGD on a 2-D
// quadratic whose H and C do not commute against the discrete Lyapunov equation
// Σ = (I − ηH)Σ(I − ηH) + η²κ_B C (MATH.md §6; exact for a quadratic with constant noise),
// solved by its Kronecker form, and the mean −H⁻¹ā. Tolerance: 4 between-chain SE.
func TestStationaryCovariance2D(t *testing.T) {
	const n, b, lr = 16, 4, 0.4
	rng := rand.New(rand.NewPCG(4, 4))
	a := make([][]float64, n)
	for i := range a {
		z1, z2 := rng.NormFloat64(), rng.NormFloat64()
		a[i] = []float64{1 + z1, -0.5 + 0.8*z1 + 0.4*z2}
	}
	q := &quadratic{h: mat.NewSymDense(2, []float64{2, 0.6, 0.6, 0.5}), a: a}
	c := q.noiseCov()
	var ch mat.Dense
	ch.Mul(c, q.h)
	var hc mat.Dense
	hc.Mul(q.h, c)
	if mat.EqualApprox(&ch, &hc, 1e-3) {
		t.Fatal("test set-up: C and H commute")
	}
	kappa := mustKappa(t, noise.Without, n, b)
	// (I − A⊗A) vec Σ = η²κ vec C with A = I − ηH.
	A := mat.NewDense(2, 2, nil)
	for i := range 2 {
		for j := range 2 {
			v := -lr * q.h.At(i, j)
			if i == j {
				v++
			}
			A.Set(i, j, v)
		}
	}
	var kron mat.Dense
	kron.Kronecker(A, A)
	M := mat.NewDense(4, 4, nil)
	for i := range 4 {
		for j := range 4 {
			v := -kron.At(i, j)
			if i == j {
				v++
			}
			M.Set(i, j, v)
		}
	}
	rhs := mat.NewVecDense(4, []float64{c.At(0, 0), c.At(0, 1), c.At(1, 0), c.At(1, 1)})
	rhs.ScaleVec(lr*lr*kappa, rhs)
	var vs mat.VecDense
	if err := vs.SolveVec(M, rhs); err != nil {
		t.Fatal(err)
	}
	want := mat.NewSymDense(2, []float64{vs.AtVec(0), vs.AtVec(1), vs.AtVec(2), vs.AtVec(3)})
	var abar [2]float64
	for _, ai := range a {
		abar[0] += ai[0] / n
		abar[1] += ai[1] / n
	}
	var hinv mat.Dense
	if err := hinv.Inverse(q.h); err != nil {
		t.Fatal(err)
	}
	wantMean := []float64{
		-(hinv.At(0, 0)*abar[0] + hinv.At(0, 1)*abar[1]),
		-(hinv.At(1, 0)*abar[0] + hinv.At(1, 1)*abar[1]),
	}
	for _, m := range []Method{SGD, Gauss} {
		r, err := Run(context.Background(), q, Config{Method: m, LR: lr, Batch: b, Chains: 16, Steps: 20000,
			Burnin: 200, Seed: 8, Init: wantMean})
		if err != nil {
			t.Fatal(err)
		}
		s := DescribeChains(r.Samples, 2)
		for i := range 2 {
			if math.Abs(s.Mean[i]-wantMean[i]) > 4*s.MeanSE[i] {
				t.Errorf("%v: mean[%d] = %.5g ± %.2g, want %.5g", m, i, s.Mean[i], s.MeanSE[i], wantMean[i])
			}
			for j := i; j < 2; j++ {
				if got := s.Cov.At(i, j); math.Abs(got-want.At(i, j)) > 4*s.CovSE.At(i, j) {
					t.Errorf("%v: Σ[%d,%d] = %.5g ± %.2g, want %.5g (4 SE)", m, i, j, got, s.CovSE.At(i, j), want.At(i, j))
				}
			}
		}
	}
}

func allConfigs(init []float64) []Config {
	var out []Config
	for _, m := range []Method{SGD, Gauss, SDE, SGLD} {
		for _, s := range []noise.Sampling{noise.Without, noise.With, noise.Reshuffle} {
			out = append(out, Config{Method: m, Sampling: s, LR: 0.1, Batch: 7, DT: 0.5, Chains: 5,
				Steps: 400, Burnin: 50, Thin: 3, Seed: 42, Init: init})
		}
	}
	return out
}

func sameResult(t *testing.T, name string, a, b *Result) {
	t.Helper()
	if a.Chains != b.Chains || a.Dim != b.Dim || a.Kept != b.Kept {
		t.Fatalf("%s: shapes differ", name)
	}
	for k := range a.Samples {
		if !bitsEqual(a.Samples[k], b.Samples[k]) || !bitsEqual(a.Final[k], b.Final[k]) {
			t.Fatalf("%s: chain %d differs", name, k)
		}
	}
}

func bitsEqual(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// TestDeterminism checks that results are bitwise identical for GOMAXPROCS 1 and 2, and
// that chain k's trajectory does not depend on how many chains run.
func TestDeterminism(t *testing.T) {
	p := newLinreg(40, 3, 2)
	init := []float64{0.5, 0.5, -0.5}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	var one []*Result
	for _, cfg := range allConfigs(init) {
		r, err := Run(context.Background(), p, cfg)
		if err != nil {
			t.Fatal(err)
		}
		one = append(one, r)
	}
	runtime.GOMAXPROCS(2)
	for i, cfg := range allConfigs(init) {
		name := cfg.Method.String() + "/" + cfg.Sampling.String()
		r, err := Run(context.Background(), p, cfg)
		if err != nil {
			t.Fatal(err)
		}
		sameResult(t, name, one[i], r)
		if r.Kept != (400-50)/3 || len(r.Samples[0]) != r.Kept*3 {
			t.Errorf("%s: kept %d", name, r.Kept)
		}
		cfg.Chains = 2
		r2, err := Run(context.Background(), p, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for k := range 2 {
			if !bitsEqual(r2.Samples[k], r.Samples[k]) {
				t.Errorf("%s: chain %d depends on the number of chains", name, k)
			}
		}
	}
}

// TestKeepProjectObserve checks burn-in, thinning, projection and the observer against an
// unthinned run.
func TestKeepProjectObserve(t *testing.T) {
	p := newLinreg(25, 3, 3)
	init := []float64{0.1, 0.2, 0.3}
	full, err := Run(context.Background(), p, Config{LR: 0.05, Batch: 4, Chains: 3, Steps: 100, Seed: 1, Init: init})
	if err != nil {
		t.Fatal(err)
	}
	observed := make([][]float64, 3) // per chain, written only by that chain's goroutine
	steps := make([][]int, 3)
	cfg := Config{LR: 0.05, Batch: 4, Chains: 3, Steps: 100, Burnin: 10, Thin: 7, Seed: 1, Init: init,
		ProjectDim: 2,
		Project: func(dst, theta []float64) {
			dst[0] = theta[0] + theta[1]
			dst[1] = theta[2] * theta[2]
		},
		Observe: func(chain, step int, theta []float64) {
			observed[chain] = append(observed[chain], theta...)
			steps[chain] = append(steps[chain], step)
		},
	}
	r, err := Run(context.Background(), p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.Kept != 12 || r.Dim != 2 {
		t.Fatalf("kept %d of dim %d, want 12 of dim 2", r.Kept, r.Dim)
	}
	for k := range 3 {
		if !bitsEqual(observed[k], full.Samples[k]) {
			t.Errorf("chain %d: observed iterates differ from the kept ones of an unthinned run", k)
		}
		if len(steps[k]) != 100 || steps[k][0] != 1 || steps[k][99] != 100 {
			t.Errorf("chain %d: observer saw steps %v…", k, steps[k][:3])
		}
		for i := range r.Kept {
			th := full.Sample(k, 10+7*(i+1)-1) // the iterate after step 10 + 7(i+1)
			want := []float64{th[0] + th[1], th[2] * th[2]}
			if !bitsEqual(r.Sample(k, i), want) {
				t.Errorf("chain %d sample %d = %v, want %v", k, i, r.Sample(k, i), want)
			}
		}
		if !bitsEqual(r.Final[k], full.Sample(k, 99)) {
			t.Errorf("chain %d: Final is not the last iterate", k)
		}
	}
}

// nanProblem returns a NaN gradient after a given number of calls.
type nanProblem struct {
	*quadratic
	after, calls int
}

func (p *nanProblem) MiniBatchGrad(dst, theta []float64, idx []int) {
	p.quadratic.MiniBatchGrad(dst, theta, idx)
	p.calls++
	if p.calls > p.after {
		dst[0] = math.NaN()
	}
}
func (p *nanProblem) Clone() Problem { c := *p; return &c }

func TestDivergence(t *testing.T) {
	q := newQuadratic1D(1, 1, 10, 1)
	// η = 2.5 > 2/h: |θ| grows by 1.5 per step, from 1 past the default bound
	// 1e6·(1 + L(1)) = 1.5e6 (L = θ²/2 > 1.5e6 once |θ| > 1733, i.e. step 19); the loss is
	// checked every 5 steps, so the error comes at step 20.
	_, err := Run(context.Background(), q, Config{LR: 2.5, Batch: 2, Chains: 3, Steps: 1000, Init: []float64{1},
		LambdaMax: 1, CheckLossEvery: 5})
	if err == nil {
		t.Fatal("no error")
	}
	for _, s := range []string{"chain 0", "step 20", "exceeds the bound", "learning rate 2.5", "2/λ_max = 2"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
	_, err = Run(context.Background(), &nanProblem{quadratic: q, after: 30}, Config{LR: 0.1, Batch: 2, Chains: 1, Steps: 100, Init: []float64{1}})
	if err == nil || !strings.Contains(err.Error(), "step 31") || !strings.Contains(err.Error(), "NaN") || !strings.Contains(err.Error(), "2/λ_max") {
		t.Errorf("NaN: error %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	q := newQuadratic1D(1, 1, 10, 1)
	ok := Config{LR: 0.1, Batch: 2, Chains: 1, Steps: 10, Init: []float64{0}}
	bad := map[string]func(*Config){
		"learning rate": func(c *Config) { c.LR = 0 },
		"batch size":    func(c *Config) { c.Batch = 11 },
		"dt":            func(c *Config) { c.DT = 1.5 },
		"chains":        func(c *Config) { c.Chains = 0 },
		"steps":         func(c *Config) { c.Steps = 0 },
		"burn-in":       func(c *Config) { c.Burnin = 10 },
		"thin":          func(c *Config) { c.Thin = -1 },
		"temperature":   func(c *Config) { c.Temperature = -1 },
		"init":          func(c *Config) { c.Init = []float64{math.NaN()} },
	}
	for want, f := range bad {
		cfg := ok
		f(&cfg)
		if _, err := Run(context.Background(), q, cfg); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v", want, err)
		}
	}
	if _, err := Run(context.Background(), q, ok); err != nil {
		t.Error(err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("wrong Init length: no panic")
			}
		}()
		cfg := ok
		cfg.Init = []float64{0, 0}
		Run(context.Background(), q, cfg)
	}()
}

func TestCancelWithoutCheckpoint(t *testing.T) {
	q := newQuadratic1D(1, 1, 10, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cfg := Config{LR: 0.1, Batch: 2, Chains: 2, Steps: 1000000, Init: []float64{0},
		Observe: func(chain, step int, _ []float64) {
			if step == 100 {
				cancel()
			}
		}}
	r, err := Run(ctx, q, cfg)
	if err != context.Canceled || r != nil {
		t.Errorf("got %v, %v; want nil, context.Canceled", r, err)
	}
}

func mustKappa(t testing.TB, s noise.Sampling, n, b int) float64 {
	t.Helper()
	k, err := noise.Kappa(s, n, b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Chain k starts at Inits[k]: chain k of a run with Inits equals, bit for bit, chain k of a
// run whose Init is Inits[k] (both draw from the stream rand.NewPCG(Seed, k)).
func TestRunPerChainStarts(t *testing.T) {
	p := newLinreg(31, 3, 8)
	inits := [][]float64{{0.3, 0, -0.1}, {-0.2, 0.4, 0}, {0, 0, 0.5}}
	cfg := Config{LR: 0.05, Batch: 4, Chains: 3, Steps: 30, Seed: 7, Init: []float64{0, 0, 0}, Inits: inits}
	r, err := Run(context.Background(), p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for k := range inits {
		one := cfg
		one.Inits, one.Init = nil, inits[k]
		s, err := Run(context.Background(), p, one)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range r.Samples[k] {
			if v != s.Samples[k][i] {
				t.Fatalf("chain %d sample value %d: %v with Inits, %v with Init = Inits[%d]", k, i, v, s.Samples[k][i], k)
			}
		}
	}
}

// TestConfigSizes: steps or chains whose buffers would overflow (a makeslice panic) or
// exceed the memory available are *field.Errors keyed by the flag, before any allocation.
func TestConfigSizes(t *testing.T) {
	t.Setenv(memlimit.Env, "1G")
	q := newQuadratic1D(1, 1, 10, 1)
	for _, c := range []struct {
		chains, steps int
		key, want     string
	}{
		{1, 1 << 62, "steps", "--steps 4.6e+18 steps × 1 chains × 1 numbers kept would need more than 18 EB; 1 GB is available"},
		{1 << 62, 10, "chains", "--chains 4.6e+18 chains × 1 parameters would need more than 18 EB; 1 GB is available"},
	} {
		cfg := Config{LR: 0.1, Batch: 2, Chains: c.chains, Steps: c.steps, Init: []float64{0}}
		_, err := Run(context.Background(), q, cfg)
		if fe := field.As(err); fe == nil || fe.Key != c.key || fe.Flag() != c.want {
			t.Errorf("chains %d steps %d: %v, want %q", c.chains, c.steps, err, c.want)
		}
	}
}
