package sim

import (
	"context"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/sgdprior/sgdprior/model"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/noise"
)

// logistic is a synthetic logistic-regression-shaped test Problem: features x_i ∈ R^p plus
// a bias (d = p + 1), labels y_i ∈ {0, 1}, ℓ_i = softplus(z_i) − y_i z_i with z_i = wᵀx_i + b,
// g_i = (σ(z_i) − y_i)(x_i, 1), r = (λ/2)‖θ‖². Nothing allocates.
type logistic struct {
	x      [][]float64
	y      []float64
	lambda float64
}

func newLogistic(n, p int, seed uint64) *logistic {
	rng := rand.New(rand.NewPCG(seed, 3))
	l := &logistic{x: make([][]float64, n), y: make([]float64, n), lambda: 0.01}
	for i := range n {
		l.x[i] = make([]float64, p)
		var z float64
		for j := range p {
			l.x[i][j] = rng.NormFloat64()
			z += l.x[i][j] * 0.3
		}
		if rng.Float64() < 1/(1+math.Exp(-z)) {
			l.y[i] = 1
		}
	}
	return l
}

func (l *logistic) Dim() int         { return len(l.x[0]) + 1 }
func (l *logistic) NumExamples() int { return len(l.x) }

func (l *logistic) logit(i int, theta []float64) float64 {
	p := len(l.x[i])
	z := theta[p]
	for j, v := range l.x[i] {
		z += v * theta[j]
	}
	return z
}

func (l *logistic) addGrad(dst []float64, i int, theta []float64, scale float64) {
	r := scale * (1/(1+math.Exp(-l.logit(i, theta))) - l.y[i])
	p := len(l.x[i])
	for j, v := range l.x[i] {
		dst[j] += r * v
	}
	dst[p] += r
}

func (l *logistic) MiniBatchGrad(dst, theta []float64, idx []int) {
	for j := range dst {
		dst[j] = 0
	}
	inv := 1 / float64(len(idx))
	for _, i := range idx {
		l.addGrad(dst, i, theta, inv)
	}
	l.RegGrad(dst, theta)
}

func (l *logistic) WeightedGrad(dst, theta []float64, w []float64) {
	for j := range dst {
		dst[j] = 0
	}
	for i, wi := range w {
		l.addGrad(dst, i, theta, wi)
	}
}

func (l *logistic) RegGrad(dst, theta []float64) {
	for j, t := range theta {
		dst[j] += l.lambda * t
	}
}

func (l *logistic) Loss(theta []float64) float64 {
	var s float64
	for i := range l.x {
		z := l.logit(i, theta)
		s += math.Max(z, 0) + math.Log1p(math.Exp(-math.Abs(z))) - l.y[i]*z
	}
	var r float64
	for _, t := range theta {
		r += t * t
	}
	return s/float64(len(l.x)) + l.lambda/2*r
}

func (l *logistic) Clone() Problem { return l }

// TestHotLoopAllocs requires the per-step loop (batch drawing, gradient, update, divergence
// checks, keeping a sample, projection, observer) to make no allocation, for every method
// and sampling scheme, on a group of 3 chains, for a Problem without a batched path and for
// the model adapter (batched Gauss and SDE passes).
func TestHotLoopAllocs(t *testing.T) {
	mp, _ := modelBench(t, "logistic", 100, 5, 2)
	for _, p := range []Problem{newLogistic(100, 5, 1), mp} {
		init := make([]float64, p.Dim())
		for _, m := range []Method{SGD, Gauss, SDE, SGLD} {
			for _, smp := range []noise.Sampling{noise.Without, noise.With, noise.Reshuffle} {
				for _, project := range []bool{false, true} {
					cfg := Config{Method: m, Sampling: smp, LR: 0.1, Batch: 8, DT: 0.5, Chains: 3, Steps: 2000,
						Init: init, CheckLossEvery: 3, Observe: func(int, int, []float64) {}}
					if project {
						cfg.Project = func(dst, theta []float64) { dst[0] = theta[0] }
						cfg.ProjectDim = 1
					}
					s, _, err := validate(p, cfg)
					if err != nil {
						t.Fatal(err)
					}
					s.LossBound = 1e9
					cs := []*chain{newChain(s, 0), newChain(s, 1), newChain(s, 2)}
					errs := make([]error, 3)
					w := newWorker(p.Clone(), s)
					target := 0
					var stop atomic.Int64
					stop.Store(math.MaxInt64)
					allocs := testing.AllocsPerRun(50, func() {
						target += 20
						w.advance(context.Background(), 0, cs, errs, s, target, &stop)
						for _, err := range errs {
							if err != nil {
								t.Fatal(err)
							}
						}
					})
					if allocs != 0 {
						t.Errorf("%T %v/%v project=%v: %v allocations per 20 steps", p, m, smp, project, allocs)
					}
					if cs[2].step != target {
						t.Errorf("%v: chain 2 at step %d, want %d", m, cs[2].step, target)
					}
				}
			}
		}
	}
}

// BenchmarkSGD measures SGD (without replacement) on a logistic-regression-shaped problem
// with N = 569, d = 31 (breast-cancer's shape), B = 32, 64 chains; one op is one step of
// every chain.
func BenchmarkSGD(b *testing.B) {
	benchRun(b, newLogistic(569, 30, 1), SGD, 32)
}

// BenchmarkGauss is BenchmarkSGD for Gaussian-noise SGD (each step touches all N examples).
func BenchmarkGauss(b *testing.B) {
	benchRun(b, newLogistic(569, 30, 1), Gauss, 32)
}

func benchRun(b *testing.B, p Problem, m Method, batch int) {
	benchRunFrom(b, p, make([]float64, p.Dim()), m, batch)
}

// benchRunFrom runs 64 chains for b.N steps from init, keeping only the last iterate.
func benchRunFrom(b *testing.B, p Problem, init []float64, m Method, batch int) {
	const chains = 64
	steps := max(1, b.N)
	cfg := Config{Method: m, LR: 0.05, Batch: batch, Chains: chains, Steps: steps, Burnin: steps - 1,
		Init: init, CheckLossEvery: 1000}
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := Run(context.Background(), p, cfg); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(chains)*float64(steps)/b.Elapsed().Seconds(), "chain-steps/s")
}

// modelBench returns the adapter on model spec over n random examples with p standard
// normal features and labels uniform on k classes (standard normal targets for k = 0),
// and a PyTorch-style initial θ.
func modelBench(b testing.TB, spec string, n, p, k int) (Problem, []float64) {
	m, err := model.New(spec, p, k, model.Options{})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	x := mat.NewDense(n, p, nil)
	y := make([]float64, n)
	for i := range n {
		for j := range p {
			x.Set(i, j, rng.NormFloat64())
		}
		if k == 0 { // numeric target (linreg)
			y[i] = rng.NormFloat64()
		} else {
			y[i] = float64(rng.IntN(k))
		}
	}
	init := make([]float64, m.NumParams())
	model.InitParams(init, m, rng)
	return NewModelProblem(m, model.Batch{X: x, Y: y}, 1e-3), init
}

// BenchmarkModelLogisticSGD: SGD through the model adapter, model logistic on random
// 569×30 data (d = 31), B = 32, 64 chains; one op is one step of every chain.
func BenchmarkModelLogisticSGD(b *testing.B) {
	p, init := modelBench(b, "logistic", 569, 30, 2)
	benchRunFrom(b, p, init, SGD, 32)
}

// BenchmarkModelMLPSGD: model mlp:32 on random 1797×64 data with 10 classes (d = 2410),
// B = 32, 64 chains.
func BenchmarkModelMLPSGD(b *testing.B) {
	p, init := modelBench(b, "mlp:32", 1797, 64, 10)
	benchRunFrom(b, p, init, SGD, 32)
}

// BenchmarkModelLogisticGauss: Gaussian-noise SGD through the adapter (GradSum over all
// 569 examples each step), model logistic as above.
func BenchmarkModelLogisticGauss(b *testing.B) {
	p, init := modelBench(b, "logistic", 569, 30, 2)
	benchRunFrom(b, p, init, Gauss, 32)
}
