package sim

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/model"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/noise"
)

// tinyLogistic returns model "logistic" on n random examples with p features.
func tinyLogistic(t testing.TB, n, p int, seed uint64) (model.Model, model.Batch) {
	t.Helper()
	m, err := model.New("logistic", p, 2, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	x := mat.NewDense(n, p, nil)
	y := make([]float64, n)
	for i := range n {
		var z float64
		for j := range p {
			v := rng.NormFloat64()
			x.Set(i, j, v)
			z += v
		}
		if rng.Float64() < 1/(1+math.Exp(-z)) {
			y[i] = 1
		}
	}
	return m, model.Batch{X: x, Y: y}
}

// TestModelProblem checks the adapter against independent computations: the mini-batch
// gradient (with repeated indices) against central finite differences of the mean
// per-example loss over the same indices plus (λ/2)‖θ‖²; WeightedGrad against Σ w_i g_i from
// PerExampleGrads; Loss against PerExampleLoss; and that MiniBatchGrad does not allocate.
func TestModelProblem(t *testing.T) {
	const n, p, wd = 40, 3, 0.1
	m, b := tinyLogistic(t, n, p, 1)
	prob := NewModelProblem(m, b, wd)
	d := prob.Dim()
	if d != p+1 || prob.NumExamples() != n {
		t.Fatalf("Dim %d, N %d", d, prob.NumExamples())
	}
	theta := []float64{0.3, -0.2, 0.5, 0.1}
	perLoss := make([]float64, n)
	lossOn := func(th []float64, idx []int) float64 {
		m.PerExampleLoss(perLoss, th, b)
		var s, r float64
		for _, i := range idx {
			s += perLoss[i]
		}
		for _, v := range th {
			r += v * v
		}
		return s/float64(len(idx)) + wd/2*r
	}
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	if got, want := prob.Loss(theta), lossOn(theta, all); math.Abs(got-want) > 1e-12 {
		t.Errorf("Loss %v, want %v", got, want)
	}
	for _, idx := range [][]int{{3, 7, 7, 0, 39}, {5}, all} {
		g := make([]float64, d)
		prob.MiniBatchGrad(g, theta, idx)
		for j := range d {
			const eps = 1e-5
			tp := append([]float64(nil), theta...)
			tm := append([]float64(nil), theta...)
			tp[j] += eps
			tm[j] -= eps
			fd := (lossOn(tp, idx) - lossOn(tm, idx)) / (2 * eps)
			if math.Abs(fd-g[j]) > 1e-7 {
				t.Errorf("batch %v: ∂L_b/∂θ_%d = %v, finite differences %v", idx, j, g[j], fd)
			}
		}
	}
	G := mat.NewDense(n, d, nil)
	m.PerExampleGrads(G, theta, b)
	rng := rand.New(rand.NewPCG(2, 2))
	w := make([]float64, n)
	for i := range w {
		w[i] = rng.NormFloat64()
	}
	got := make([]float64, d)
	prob.WeightedGrad(got, theta, w)
	for j := range d {
		var want float64
		for i := range n {
			want += w[i] * G.At(i, j)
		}
		if math.Abs(got[j]-want) > 1e-12*(1+math.Abs(want)) {
			t.Errorf("WeightedGrad[%d] = %v, want %v", j, got[j], want)
		}
	}
	reg := make([]float64, d)
	prob.RegGrad(reg, theta)
	for j := range d {
		if reg[j] != wd*theta[j] {
			t.Errorf("RegGrad[%d] = %v, want %v", j, reg[j], wd*theta[j])
		}
	}
	c := prob.Clone()
	g1, g2 := make([]float64, d), make([]float64, d)
	prob.MiniBatchGrad(g1, theta, []int{1, 2, 3})
	c.MiniBatchGrad(g2, theta, []int{1, 2, 3})
	if !bitsEqual(g1, g2) {
		t.Error("Clone gives a different gradient")
	}
	idx := []int{4, 9, 13, 2, 2}
	if a := testing.AllocsPerRun(20, func() { prob.MiniBatchGrad(g1, theta, idx) }); a != 0 {
		t.Errorf("MiniBatchGrad: %v allocations per call", a)
	}
}

// TestModelProblemOneStep runs one step of SGD and of Gaussian-noise SGD through the adapter
// from a fixed θ₀ over 3000 chains and compares the law of θ₁ with mean θ₀ − η∇L(θ₀) and
// covariance η²κ_B C(θ₀), C from PerExampleGrads (4.5 standard errors per entry).
func TestModelProblemOneStep(t *testing.T) {
	const n, p, wd, lr, batch = 40, 3, 0.1, 0.5, 6
	m, b := tinyLogistic(t, n, p, 3)
	prob := NewModelProblem(m, b, wd)
	d := prob.Dim()
	theta0 := []float64{0.3, -0.2, 0.5, 0.1}
	G := mat.NewDense(n, d, nil)
	m.PerExampleGrads(G, theta0, b)
	mean := make([]float64, d)
	for i := range n {
		for j := range d {
			mean[j] += G.At(i, j) / n
		}
	}
	c := mat.NewSymDense(d, nil)
	for i := range n {
		for a := range d {
			for bb := a; bb < d; bb++ {
				c.SetSym(a, bb, c.At(a, bb)+(G.At(i, a)-mean[a])*(G.At(i, bb)-mean[bb])/n)
			}
		}
	}
	for _, meth := range []Method{SGD, Gauss} {
		const chains = 3000
		r, err := Run(context.Background(), prob, Config{Method: meth, LR: lr, Batch: batch, Chains: chains, Steps: 1, Seed: 4, Init: theta0})
		if err != nil {
			t.Fatal(err)
		}
		wantMean := make([]float64, d)
		for j := range d {
			wantMean[j] = theta0[j] - lr*(mean[j]+wd*theta0[j])
		}
		wantCov := mat.NewSymDense(d, nil)
		wantCov.ScaleSym(lr*lr*mustKappa(t, noise.Without, n, batch), c)
		y := make([][]float64, chains)
		for k := range y {
			y[k] = r.Sample(k, 0)
		}
		momentCheck(t, "model/"+meth.String(), y, wantMean, wantCov, 4.5)
	}
}

// plainProblem hides every optional interface of the Problem it wraps.
type plainProblem struct{ Problem }

func (p plainProblem) Clone() Problem { return plainProblem{p.Problem.Clone()} }

// TestFusedSGDStep checks that SGD through the fused update (MiniBatchNLLGrad, weight decay
// and the NaN/Inf check in one pass) gives bitwise the chains of MiniBatchGrad followed by
// the separate update, on an MLP (softmax head) and logistic regression, and that a
// diverging chain is reported the same way.
func TestFusedSGDStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	x := mat.NewDense(60, 5, nil)
	y := make([]float64, 60)
	for i := range 60 {
		for j := range 5 {
			x.Set(i, j, rng.NormFloat64())
		}
		y[i] = float64(i % 3)
	}
	mlp, err := model.New("mlp:7", 5, 3, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	lm, lb := tinyLogistic(t, 50, 4, 6)
	for _, tc := range []struct {
		name string
		m    model.Model
		b    model.Batch
	}{{"mlp", mlp, model.Batch{X: x, Y: y}}, {"logistic", lm, lb}} {
		prob := NewModelProblem(tc.m, tc.b, 0.03)
		if _, ok := prob.(decayProblem); !ok {
			t.Fatalf("%s: the model problem does not offer the fused step", tc.name)
		}
		init := make([]float64, prob.Dim())
		for j := range init {
			init[j] = 0.3 * rng.NormFloat64()
		}
		cfg := Config{Method: SGD, Sampling: noise.With, LR: 0.2, Batch: 8, Chains: 3, Steps: 40, Seed: 9, Init: init}
		a, err := Run(context.Background(), prob, cfg)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Run(context.Background(), plainProblem{prob}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for k := range cfg.Chains {
			for s := range a.Kept {
				sa, sb := a.Sample(k, s), b.Sample(k, s)
				for j := range sa {
					if math.Float64bits(sa[j]) != math.Float64bits(sb[j]) {
						t.Fatalf("%s: chain %d sample %d coordinate %d: fused %v, separate %v", tc.name, k, s, j, sa[j], sb[j])
					}
				}
			}
		}
		cfg.LR = 1e300
		_, errF := Run(context.Background(), prob, cfg)
		_, errS := Run(context.Background(), plainProblem{prob}, cfg)
		if errF == nil || errS == nil || errF.Error() != errS.Error() {
			t.Fatalf("%s: divergence: fused %v, separate %v", tc.name, errF, errS)
		}
	}
}

// TestDivergenceReportDeterministic: when every chain diverges, the error names chain 0 at
// the same step on every run, whatever the scheduling of the workers.
func TestDivergenceReportDeterministic(t *testing.T) {
	m, b := tinyLogistic(t, 50, 4, 7)
	prob := NewModelProblem(m, b, 0.01)
	init := []float64{0.1, -0.2, 0.3, 0.1, 0}
	cfg := Config{Method: SGD, Sampling: noise.With, LR: 1e300, Batch: 8, Chains: 16, Steps: 50, Seed: 3, Init: init}
	var first string
	for range 20 {
		_, err := Run(context.Background(), prob, cfg)
		if err == nil {
			t.Fatal("no divergence")
		}
		if first == "" {
			first = err.Error()
			if !strings.Contains(first, "chain 0 ") {
				t.Fatalf("the error names another chain than 0: %v", err)
			}
		} else if err.Error() != first {
			t.Fatalf("errors differ between runs: %q and %q", first, err.Error())
		}
	}
}
