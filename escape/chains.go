package escape

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/floats"

	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/sim"
)

// Noise is one of the four dynamics whose escapes are compared (package doc).
type Noise int

// The noises, in the order of the output.
const (
	SGDNoise Noise = iota
	GaussNoise
	IsotropicNoise
	TopHessianNoise
)

// Noises lists every noise in output order.
var Noises = []Noise{SGDNoise, GaussNoise, IsotropicNoise, TopHessianNoise}

var noiseNames = [...]string{"sgd", "gauss", "isotropic", "top_hessian"}

// String returns the noise's JSON key.
func (n Noise) String() string {
	if n < 0 || int(n) >= len(noiseNames) {
		return fmt.Sprintf("Noise(%d)", int(n))
	}
	return noiseNames[n]
}

// chainConfig describes K chains of one noise from one start.
type chainConfig struct {
	noise    Noise
	lr       float64
	sampling noise.Sampling
	batch    int
	kappa    float64
	// isoScale is √(tr C_B(θ*)/d) (isotropic); topScale √(tr C_B(θ*)/k) and basis the k
	// orthonormal top Hessian eigenvectors, basis[j] of length d (top_hessian).
	isoScale, topScale float64
	basis              [][]float64
	chains, steps      int
	checkEvery         int
	seed               uint64
	// streamBase: chain k draws from rand.NewPCG(seed, streamBase + k).
	streamBase uint64
	init       []float64
	// escaped reports whether θ has escaped; p is the calling goroutine's own Problem.
	escaped func(p sim.Problem, theta []float64) bool
	// progress, if non-nil, is called with the number of chains done so far (from any
	// goroutine, serialised).
	progress func(done int)
}

// streamBase returns the first PCG stream of the chains of noise n: chain k of noise n
// draws from stream (n+1)·2³² + k, so no two chains of a run share a stream.
func streamBase(n Noise) uint64 { return uint64(n+1) << 32 }

// chainResult is one chain's outcome.
type chainResult struct {
	// step is the check step at which the chain was first seen escaped, or the horizon
	// when it was not (censored).
	step    int
	escaped bool
	final   []float64
}

// worker is one goroutine's scratch space and Problem clone.
type worker struct {
	p    sim.Problem
	grad []float64
	w    []float64 // per-example weights
}

// runChains runs cfg.chains chains of cfg.noise on p until each has escaped or reached the
// horizon. Chains run in parallel, each on its own stream, so the results do not depend on
// the scheduling.
func runChains(ctx context.Context, p sim.Problem, cfg *chainConfig) ([]chainResult, error) {
	d, n := p.Dim(), p.NumExamples()
	res := make([]chainResult, cfg.chains)
	next := make(chan int, cfg.chains)
	for k := range cfg.chains {
		next <- k
	}
	close(next)
	nw := min(runtime.GOMAXPROCS(0), cfg.chains)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range nw {
		w := &worker{p: p.Clone(), grad: make([]float64, d), w: make([]float64, n)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				if ctx.Err() != nil {
					continue
				}
				res[k] = w.run(ctx, cfg, k)
				if cfg.progress != nil {
					mu.Lock()
					done++
					cfg.progress(done)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return res, nil
}

// run runs chain k.
func (w *worker) run(ctx context.Context, cfg *chainConfig, k int) chainResult {
	theta := append([]float64(nil), cfg.init...)
	pcg := rand.NewPCG(cfg.seed, cfg.streamBase+uint64(k))
	rng := rand.New(pcg)
	var batches *noise.Sampler
	if cfg.noise == SGDNoise {
		batches = noise.NewSampler(cfg.sampling, w.p.NumExamples(), cfg.batch)
	}
	for step := 1; step <= cfg.steps; step++ {
		if step%1024 == 0 && ctx.Err() != nil {
			return chainResult{}
		}
		w.step(cfg, theta, pcg, rng, batches)
		if step%cfg.checkEvery == 0 || step == cfg.steps {
			if !finite(theta) || cfg.escaped(w.p, theta) {
				return chainResult{step: step, escaped: true, final: theta}
			}
		}
	}
	return chainResult{step: cfg.steps, final: theta}
}

func finite(x []float64) bool {
	for _, v := range x {
		if !(v-v == 0) {
			return false
		}
	}
	return true
}

// step makes one step of cfg.noise from theta (MATH.md §12).
func (w *worker) step(cfg *chainConfig, theta []float64, pcg *rand.PCG, rng *rand.Rand, batches *noise.Sampler) {
	switch cfg.noise {
	case SGDNoise:
		w.p.MiniBatchGrad(w.grad, theta, batches.Next(rng))
		floats.AddScaled(theta, -cfg.lr, w.grad)
	case GaussNoise:
		w.gaussGrad(cfg, theta, pcg)
		floats.AddScaled(theta, -cfg.lr, w.grad)
	default:
		w.fullGrad(theta)
		floats.AddScaled(theta, -cfg.lr, w.grad)
		w.inject(cfg, theta, rng)
	}
}

// gaussGrad writes ∇L(θ) + ξ into w.grad, ξ ~ N(0, κ_B C(θ)), exactly as sim's Gaussian-noise
// SGD draws it (the same stream consumption, sim.FillNormals): Σ_i w_i g_i with w_i = 1/N + √(κ_B/N)(z_i − z̄),
// z ~ N(0, I_N), whose noise part has covariance κ_B·C(θ) (MATH.md §2), plus ∇r(θ).
func (w *worker) gaussGrad(cfg *chainConfig, theta []float64, pcg *rand.PCG) {
	n := len(w.w)
	sim.FillNormals(w.w, pcg) // sim's generator on the chain's stream (MATH.md §3.1)
	var sum float64
	for _, z := range w.w {
		sum += z
	}
	mean := sum / float64(n)
	inv := 1 / float64(n)
	scale := math.Sqrt(cfg.kappa / float64(n))
	for i, z := range w.w {
		w.w[i] = inv + scale*(z-mean)
	}
	w.p.WeightedGrad(w.grad, theta, w.w)
	w.p.RegGrad(w.grad, theta)
}

// fullGrad writes the full-batch gradient ∇L(θ) into w.grad.
func (w *worker) fullGrad(theta []float64) {
	inv := 1 / float64(len(w.w))
	for i := range w.w {
		w.w[i] = inv
	}
	w.p.WeightedGrad(w.grad, theta, w.w)
	w.p.RegGrad(w.grad, theta)
}

// inject adds the isotropic or top-Hessian noise to theta (MATH.md §12):
// η√(tr C_B(θ*)/d)·z with z ~ N(0, I_d), of covariance η²(tr C_B(θ*)/d)·I, or
// η√(tr C_B(θ*)/k)·V_k z with z ~ N(0, I_k), of covariance η²(tr C_B(θ*)/k)·V_kV_kᵀ; both of
// trace η² tr C_B(θ*).
func (w *worker) inject(cfg *chainConfig, theta []float64, rng *rand.Rand) {
	switch cfg.noise {
	case IsotropicNoise:
		a := cfg.lr * cfg.isoScale
		for j := range theta {
			theta[j] += a * rng.NormFloat64()
		}
	case TopHessianNoise:
		a := cfg.lr * cfg.topScale
		for _, v := range cfg.basis {
			floats.AddScaled(theta, a*rng.NormFloat64(), v)
		}
	default:
		panic(fmt.Sprintf("escape: inject: noise %v", cfg.noise))
	}
}
