package sim

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"gonum.org/v1/gonum/floats"

	"github.com/sgdprior/sgdprior/internal/kernel"
	"github.com/sgdprior/sgdprior/internal/memlimit"
	"github.com/sgdprior/sgdprior/noise"
)

// chain is the complete state of one chain: everything a checkpoint must hold.
type chain struct {
	theta []float64
	pcg   *rand.PCG
	rng   *rand.Rand
	// batches draws the mini-batches of SGD and SGLD (nil for Gauss and SDE); its state
	// (permutation buffer, epoch position) is part of the chain's.
	batches *noise.Sampler
	// step is the number of steps completed.
	step int
	// samples holds the kept samples (capacity nKept·dim, length kept·dim).
	samples []float64
	kept    int
}

// groupSize is the number of chains a worker advances in lock-step when Gauss and SDE
// compute the full-data passes of a group's chains together, which they do when the Problem
// has a batched path (batchProblem): chains groupSize·g, …, groupSize·g + groupSize − 1
// form group g (the last group may be smaller). Otherwise every chain is its own group, so
// that a few chains still spread over the workers. The grouping depends on the method, the
// Problem and the chain index, never on GOMAXPROCS, so results do not either.
const groupSize = 8

// batchProblem is a Problem that computes the weighted gradient sums of several points in
// one pass over its data (for the model adapter: model.MultiGradSum's matrix–matrix
// products, docs/MATH.md §2.1).
type batchProblem interface {
	Problem
	// BatchedGrad returns the batched weighted gradient for G points, with its own
	// scratch space, or nil when the problem has no batched path.
	BatchedGrad(G int) BatchedGrad
}

// BatchedGrad computes Σ_i w[i·G+g] g_i(theta[g]) over all N examples into dst[g] for each
// of its G points (no regulariser): w (length N·G) holds the weights example by example;
// dst[g] depends only on theta[g], the weights w[i·G+g] (i < N) and G.
type BatchedGrad interface {
	WeightedGrads(dst, theta [][]float64, w []float64)
}

// worker holds one goroutine's scratch space and its own clone of the Problem. Workers hold
// no chain state, so which worker runs which group of chains does not affect results.
type worker struct {
	p    Problem
	grad []float64
	w    []float64    // Gauss, SDE: the weights of WeightedGrad
	dp   decayProblem // p, when SGD can fuse its weight decay into the update (else nil)
	z    []float64    // SGLD: the normals of one step (length d)

	// Groups: the batched gradient (created on first use; nil without a batched path), the
	// weights of the group's chains example by example (N × groupSize: ws[i·groupSize+j] is
	// example i's weight for chain j; a padding or inactive slot keeps its previous, finite
	// weights), and per chain its gradient, iterate and state of the current step.
	bp      batchProblem
	bg      BatchedGrad // for groupSize points; a smaller group is padded
	bgTried bool
	pad     []float64 // the point of the padding slots (a copy of Init)
	ws      []float64
	grads   [groupSize][]float64
	thetas  [groupSize][]float64
	active  [groupSize]bool
	checked [groupSize]bool
	finite  [groupSize]bool
}

// decayProblem is a Problem whose regulariser is r(θ) = (λ/2)‖θ‖² and which can give the
// mini-batch NLL gradient without it: an SGD step then adds λθ, steps and checks θ for
// NaN and ±Inf in one pass (kernel.SGDUpdate), with the same result as MiniBatchGrad
// followed by the update.
type decayProblem interface {
	Problem
	// MiniBatchNLLGrad writes (1/len(idx)) Σ_{i∈idx} g_i(θ) into dst (no regulariser).
	MiniBatchNLLGrad(dst, theta []float64, idx []int)
	// WeightDecay returns λ.
	WeightDecay() float64
}

// settings is a validated Config with defaults filled in.
type settings struct {
	Config
	n, d       int
	dim        int // stored sample length
	nKept      int // samples kept per chain by the end
	kappa      float64
	noiseScale float64 // Gauss/SDE: w_i = 1/N + noiseScale·(z_i − z̄); SGLD: √(2ηT/N)
	stepScale  float64 // θ ← θ − stepScale·grad (η, or hη for SDE)
	group      int     // chains per lock-step group: groupSize (batched Gauss, SDE) or 1
}

// checkMemory checks, before anything is allocated, that the chains' buffers fit in the
// memory available (internal/memlimit): per chain the kept samples (nKept × dim) and two
// vectors of length d (the iterate and the final point). The error is a *field.Error keyed
// "chains" (the commands' flag) when the vectors alone do not fit, else "steps".
func (s *settings) checkMemory() error {
	vecs, _ := memlimit.MulInt(2, s.d)
	if b, _ := memlimit.Mul(8, uint64(s.Chains), vecs); memlimit.Need("chains", b, "") != nil {
		return memlimit.Need("chains", b, fmt.Sprintf("%s chains × %d parameters", memlimit.Count(s.Chains), s.d))
	}
	kept, _ := memlimit.MulInt(s.nKept, s.dim)
	b, _ := memlimit.Mul(8, uint64(s.Chains), memlimit.Add(kept, vecs))
	return memlimit.Need("steps", b, fmt.Sprintf("%s steps × %s chains × %d numbers kept", memlimit.Count(s.Steps), memlimit.Count(s.Chains), s.dim))
}

// keptAt returns how many samples have been kept after step steps.
func (s *settings) keptAt(step int) int {
	if step <= s.Burnin {
		return 0
	}
	return (step - s.Burnin) / s.Thin
}

func validate(p Problem, cfg Config) (*settings, []string, error) {
	d, n := p.Dim(), p.NumExamples()
	if len(cfg.Init) != d {
		panic(fmt.Sprintf("sim: len(Init) = %d, want Dim() = %d", len(cfg.Init), d))
	}
	if cfg.Inits != nil {
		if len(cfg.Inits) != cfg.Chains {
			panic(fmt.Sprintf("sim: len(Inits) = %d, want Chains = %d", len(cfg.Inits), cfg.Chains))
		}
		for k, x := range cfg.Inits {
			if len(x) != d {
				panic(fmt.Sprintf("sim: len(Inits[%d]) = %d, want Dim() = %d", k, len(x), d))
			}
		}
	}
	if cfg.Project != nil && cfg.ProjectDim <= 0 {
		panic(fmt.Sprintf("sim: Project set with ProjectDim = %d", cfg.ProjectDim))
	}
	s := &settings{Config: cfg, n: n, d: d}
	var warn []string
	switch {
	case cfg.Method < SGD || cfg.Method > SGLD:
		return nil, nil, fmt.Errorf("sim: unknown method %d", int(cfg.Method))
	case cfg.Sampling < noise.Without || cfg.Sampling > noise.Reshuffle:
		return nil, nil, fmt.Errorf("sim: unknown sampling %d", int(cfg.Sampling))
	case !(cfg.LR > 0) || math.IsInf(cfg.LR, 1):
		return nil, nil, fmt.Errorf("sim: learning rate %v must be positive and finite", cfg.LR)
	case n < 1:
		return nil, nil, fmt.Errorf("sim: the problem has no examples")
	case cfg.Batch < 1 || cfg.Batch > n:
		return nil, nil, fmt.Errorf("sim: batch size %d outside [1, N = %d]", cfg.Batch, n)
	case cfg.Sampling != noise.With && n < 2:
		return nil, nil, fmt.Errorf("sim: sampling %v needs N ≥ 2 examples, have %d", cfg.Sampling, n)
	case cfg.DT < 0 || cfg.DT > 1 || math.IsNaN(cfg.DT):
		return nil, nil, fmt.Errorf("sim: dt %v outside (0, 1]", cfg.DT)
	case cfg.Chains < 1:
		return nil, nil, fmt.Errorf("sim: chains %d must be at least 1", cfg.Chains)
	case cfg.Steps < 1:
		return nil, nil, fmt.Errorf("sim: steps %d must be at least 1", cfg.Steps)
	case cfg.Burnin < 0 || cfg.Burnin >= cfg.Steps:
		return nil, nil, fmt.Errorf("sim: burn-in %d outside [0, steps = %d)", cfg.Burnin, cfg.Steps)
	case cfg.Thin < 0:
		return nil, nil, fmt.Errorf("sim: thin %d must be positive", cfg.Thin)
	case cfg.Temperature < 0 || math.IsNaN(cfg.Temperature) || math.IsInf(cfg.Temperature, 1):
		return nil, nil, fmt.Errorf("sim: temperature %v must be non-negative and finite", cfg.Temperature)
	case cfg.LossBound < 0 || math.IsNaN(cfg.LossBound):
		return nil, nil, fmt.Errorf("sim: loss bound %v must be positive", cfg.LossBound)
	case cfg.CheckLossEvery < 0:
		return nil, nil, fmt.Errorf("sim: check-loss interval %d must be positive", cfg.CheckLossEvery)
	case cfg.CheckpointEvery < 0:
		return nil, nil, fmt.Errorf("sim: checkpoint interval %d must be positive", cfg.CheckpointEvery)
	}
	for i, v := range cfg.Init {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, nil, fmt.Errorf("sim: init[%d] = %v is not finite", i, v)
		}
	}
	for k, x := range cfg.Inits {
		for i, v := range x {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, fmt.Errorf("sim: inits[%d][%d] = %v is not finite", k, i, v)
			}
		}
	}
	if s.DT == 0 {
		s.DT = 1
	}
	if s.DT != 1 && s.Method != SDE {
		warn = append(warn, fmt.Sprintf("dt = %v is ignored by method %v (only sde uses it)", s.DT, s.Method))
	}
	if s.Thin == 0 {
		s.Thin = 1
	}
	if s.Temperature == 0 {
		s.Temperature = 1
	}
	if s.CheckLossEvery == 0 {
		s.CheckLossEvery = 100
		if s.Method == SGD || s.Method == SGLD {
			// A loss evaluation costs a pass over all N examples (Config.CheckLossEvery).
			s.CheckLossEvery = max(1000, (n+s.Batch-1)/s.Batch)
		}
	}
	if s.Checkpoint != "" && s.CheckpointEvery == 0 {
		s.CheckpointEvery = max(1000, s.Steps/20)
	}
	s.dim = d
	if s.Project != nil {
		s.dim = s.ProjectDim
	}
	s.nKept = s.keptAt(s.Steps)
	if s.nKept == 0 {
		warn = append(warn, fmt.Sprintf("no samples are kept: steps %d − burn-in %d < thin %d", s.Steps, s.Burnin, s.Thin))
	}
	if err := s.checkMemory(); err != nil {
		return nil, nil, err
	}
	kappa, err := noise.Kappa(s.Sampling, n, s.Batch)
	if err != nil {
		return nil, nil, fmt.Errorf("sim: %w", err)
	}
	s.kappa = kappa
	if (s.Method == Gauss || s.Method == SDE) && s.Sampling == noise.Reshuffle {
		warn = append(warn, fmt.Sprintf("method %v draws Gaussian noise: sampling reshuffle only sets κ_B, as without", s.Method))
	}
	s.group = 1
	if s.Method == Gauss || s.Method == SDE {
		if bp, ok := p.(batchProblem); ok && bp.BatchedGrad(groupSize) != nil {
			s.group = groupSize
		}
	}
	s.stepScale = s.LR
	switch s.Method {
	case Gauss:
		s.noiseScale = math.Sqrt(s.kappa / float64(n))
	case SDE:
		s.stepScale = s.DT * s.LR
		s.noiseScale = math.Sqrt(s.kappa / (float64(n) * s.DT))
	case SGLD:
		s.noiseScale = math.Sqrt(2 * s.LR * s.Temperature / float64(n))
	}
	return s, warn, nil
}

func run(ctx context.Context, p Problem, cfg Config) (*Result, error) {
	s, warn, err := validate(p, cfg)
	if err != nil {
		return nil, err
	}
	l0 := p.Loss(s.Init)
	if math.IsNaN(l0) || math.IsInf(l0, 0) {
		return nil, fmt.Errorf("sim: the loss at the initial point is %v", l0)
	}
	if s.LossBound == 0 {
		s.LossBound = 1e6 * (1 + math.Abs(l0))
	}
	for k, x := range s.Inits {
		if l := p.Loss(x); math.IsNaN(l) || math.IsInf(l, 0) {
			return nil, fmt.Errorf("sim: the loss at chain %d's initial point is %v", k, l)
		}
	}

	var chains []*chain
	resumed := 0
	if s.Resume != "" {
		chains, err = loadCheckpoint(s.Resume, s)
		if err != nil {
			return nil, err
		}
		resumed = s.Steps
		for _, c := range chains {
			resumed = min(resumed, c.step)
		}
	} else {
		chains = make([]*chain, s.Chains)
		for k := range chains {
			chains[k] = newChain(s, uint64(k))
		}
	}

	nw := min(runtime.GOMAXPROCS(0), s.Chains)
	workers := make([]*worker, nw)
	for i := range workers {
		workers[i] = newWorker(p.Clone(), s)
	}

	inner, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, s.Chains)
	lastWrite := time.Now()
	target := s.Steps
	if s.Checkpoint != "" {
		target = min(s.Steps, (resumed/s.CheckpointEvery+1)*s.CheckpointEvery)
	}
	for {
		runSegment(inner, workers, chains, s, target, errs)
		for _, e := range errs {
			if e != nil {
				return nil, e
			}
		}
		interrupted := false
		for _, c := range chains {
			if c.step < target {
				interrupted = true
			}
		}
		if interrupted {
			if ctx.Err() == nil {
				// Cannot happen: chains stop early only on cancellation or divergence.
				panic("sim: internal error: a chain stopped early without a reason")
			}
			if s.Checkpoint != "" {
				if err := writeCheckpoint(s.Checkpoint, s, chains); err != nil {
					return nil, fmt.Errorf("%w (while stopping: %v)", err, ctx.Err())
				}
			}
			return nil, ctx.Err()
		}
		if s.Checkpoint != "" && (target == s.Steps || time.Since(lastWrite) >= s.CheckpointMinInterval) {
			if err := writeCheckpoint(s.Checkpoint, s, chains); err != nil {
				return nil, err
			}
			lastWrite = time.Now()
		}
		if target == s.Steps {
			break
		}
		target = min(s.Steps, target+s.CheckpointEvery)
	}

	r := &Result{
		Method:    s.Method,
		Sampling:  s.Sampling,
		Kappa:     s.kappa,
		Chains:    s.Chains,
		Dim:       s.dim,
		Kept:      s.nKept,
		Samples:   make([][]float64, s.Chains),
		Final:     make([][]float64, s.Chains),
		Steps:     s.Steps,
		Time:      float64(s.Steps),
		LossBound: s.LossBound,
		Resumed:   resumed,
		Warnings:  warn,
	}
	if s.Method == SDE {
		r.Time = float64(s.Steps) * s.DT
	}
	for k, c := range chains {
		r.Samples[k] = c.samples
		r.Final[k] = c.theta
	}
	return r, nil
}

func newChain(s *settings, k uint64) *chain {
	start := s.Init
	if s.Inits != nil {
		start = s.Inits[k]
	}
	c := &chain{
		theta:   append([]float64(nil), start...),
		pcg:     rand.NewPCG(s.Seed, k),
		samples: make([]float64, 0, s.nKept*s.dim),
	}
	c.rng = rand.New(c.pcg)
	if s.Method == SGD || s.Method == SGLD {
		c.batches = noise.NewSampler(s.Sampling, s.n, s.Batch)
	}
	return c
}

func newWorker(p Problem, s *settings) *worker {
	w := &worker{p: p, grad: make([]float64, s.d)}
	w.dp, _ = p.(decayProblem)
	switch s.Method {
	case Gauss, SDE:
		w.w = make([]float64, s.n)
		w.bp, _ = p.(batchProblem)
	case SGLD:
		w.z = make([]float64, s.d)
	}
	return w
}

// batched returns the batched gradient for groupSize points, or nil (per-chain passes). It
// is always called with groupSize points, a smaller (last) group padded with slots at Init
// whose results are dropped, so that a chain's bits do not depend on how many chains run.
func (w *worker) batched(s *settings) BatchedGrad {
	if w.bp == nil {
		return nil
	}
	if !w.bgTried {
		w.bgTried = true
		w.bg = w.bp.BatchedGrad(groupSize)
		if w.bg != nil {
			w.ws = make([]float64, s.n*groupSize)
			for j := range groupSize {
				w.grads[j] = make([]float64, s.d)
			}
			w.pad = append([]float64(nil), s.Init...)
		}
	}
	return w.bg
}

// runSegment advances every chain to step target on the workers, group by group (s.group
// chains in lock-step). A chain stops early when ctx is cancelled, or when a chain of lower
// index has diverged; a diverging chain records its error in errs. Every chain below the
// lowest diverging one runs as far as it would alone, so the error Run reports (the
// lowest-indexed) does not depend on the scheduling.
func runSegment(ctx context.Context, workers []*worker, chains []*chain, s *settings, target int, errs []error) {
	var stop atomic.Int64 // the lowest index of a diverged chain
	stop.Store(math.MaxInt64)
	ng := (len(chains) + s.group - 1) / s.group
	next := make(chan int, ng)
	for g := range ng {
		next <- g
	}
	close(next)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for g := range next {
				k0 := g * s.group
				k1 := min(len(chains), k0+s.group)
				w.advance(ctx, k0, chains[k0:k1], errs[k0:k1], s, target, &stop)
			}
		}()
	}
	wg.Wait()
}

// advance runs the group of chains cs (indices k0, k0+1, …) in lock-step until each has
// completed target steps, ctx is done, or has diverged (its error goes to errs[j]), or a
// chain of lower index has diverged (stop). A chain of the group that stops does not stop
// the chains of lower index.
func (w *worker) advance(ctx context.Context, k0 int, cs []*chain, errs []error, s *settings, target int, stop *atomic.Int64) {
	done := ctx.Done()
	for {
		select {
		case <-done:
			return
		default:
		}
		lim := stop.Load()
		live := false
		for j, c := range cs {
			w.active[j] = c.step < target && int64(k0+j) <= lim && errs[j] == nil
			live = live || w.active[j]
		}
		if !live {
			return
		}
		w.stepGroup(cs, s)
		for j, c := range cs {
			if !w.active[j] {
				continue
			}
			if err := w.finish(k0+j, c, s, w.checked[j], w.finite[j]); err != nil {
				errs[j] = err
				k := int64(k0 + j)
				for cur := stop.Load(); k < cur && !stop.CompareAndSwap(cur, k); cur = stop.Load() {
				}
			}
		}
	}
}

// finish completes a step of chain c (index k): the step count, the NaN/Inf check (unless
// checked, then finite is its result), the loss check, keeping a sample, the observer.
func (w *worker) finish(k int, c *chain, s *settings, checked, finite bool) error {
	c.step++
	if !checked {
		// v − v is 0 for every finite v and NaN for ±Inf and NaN: one comparison per
		// coordinate instead of two classifications.
		for _, v := range c.theta {
			if !(v-v == 0) {
				finite = false
				break
			}
		}
	}
	if !finite {
		return divergence(s, k, c.step, "θ holds "+nonFinite(c.theta))
	}
	if c.step%s.CheckLossEvery == 0 {
		if l := w.p.Loss(c.theta); !(l <= s.LossBound) {
			return divergence(s, k, c.step, fmt.Sprintf("loss %.6g exceeds the bound %.6g", l, s.LossBound))
		}
	}
	if c.step > s.Burnin && (c.step-s.Burnin)%s.Thin == 0 {
		n := len(c.samples)
		c.samples = c.samples[:n+s.dim]
		if s.Project != nil {
			s.Project(c.samples[n:], c.theta)
		} else {
			copy(c.samples[n:], c.theta)
		}
		c.kept++
	}
	if s.Observe != nil {
		s.Observe(k, c.step, c.theta)
	}
	return nil
}

// stepGroup makes one step of every active chain of the group cs, recording per chain
// whether the step checked θ for NaN/Inf and its result. Gauss and SDE with a batched
// gradient draw every active chain's weights from its own stream and make one batched
// full-data pass for the whole group (inactive chains ride along and are not updated).
func (w *worker) stepGroup(cs []*chain, s *settings) {
	if s.group > 1 {
		if bg := w.batched(s); bg != nil {
			for j := range w.thetas {
				w.thetas[j] = w.pad // padding: finite weights (any), results dropped
			}
			all := len(cs) == groupSize
			for j, c := range cs {
				w.thetas[j] = c.theta
				all = all && w.active[j]
			}
			if useZig8 && all {
				w.gaussWeights8(cs, s)
			} else {
				for j, c := range cs {
					if w.active[j] {
						gaussWeights(w.ws[j:], groupSize, w.w, c.pcg, s)
					}
				}
			}
			bg.WeightedGrads(w.grads[:], w.thetas[:], w.ws)
			for j, c := range cs {
				w.checked[j], w.finite[j] = false, true
				if w.active[j] {
					w.p.RegGrad(w.grads[j], c.theta)
					axpy(-s.stepScale, w.grads[j], c.theta)
				}
			}
			for j := range w.thetas {
				w.thetas[j] = nil
			}
			return
		}
	}
	for j, c := range cs {
		if w.active[j] {
			w.checked[j], w.finite[j] = w.step(c, s)
		}
	}
}

func divergence(s *settings, k, step int, what string) error {
	if s.LambdaMax > 0 {
		return fmt.Errorf("sim: chain %d diverged at step %d (%s): learning rate %g, stability bound 2/λ_max = %g",
			k, step, what, s.LR, 2/s.LambdaMax)
	}
	return fmt.Errorf("sim: chain %d diverged at step %d (%s): learning rate %g may exceed the stability bound 2/λ_max",
		k, step, what, s.LR)
}

// step performs one step of s.Method on chain c.
// nonFinite returns the first value of θ that is NaN or ±Inf, as text.
func nonFinite(theta []float64) string {
	for _, v := range theta {
		if !(v-v == 0) {
			return fmt.Sprint(v)
		}
	}
	return "no non-finite value"
}

// step makes one step of chain c. checked reports whether the step already checked θ for
// NaN and ±Inf, and then finite the result; otherwise finite is true and the caller checks.
func (w *worker) step(c *chain, s *settings) (checked, finite bool) {
	switch s.Method {
	case SGD:
		if w.dp != nil {
			w.dp.MiniBatchNLLGrad(w.grad, c.theta, c.batches.Next(c.rng))
			return true, kernel.SGDUpdate(c.theta, w.grad, -s.stepScale, w.dp.WeightDecay())
		}
		w.p.MiniBatchGrad(w.grad, c.theta, c.batches.Next(c.rng))
		axpy(-s.stepScale, w.grad, c.theta)
	case SGLD:
		w.p.MiniBatchGrad(w.grad, c.theta, c.batches.Next(c.rng))
		FillNormals(w.z, c.pcg)
		for j, g := range w.grad {
			c.theta[j] += -s.stepScale*g + s.noiseScale*w.z[j]
		}
	case Gauss, SDE:
		w.gaussGrad(c, s)
		axpy(-s.stepScale, w.grad, c.theta)
	}
	return false, true
}

// gaussGrad writes ∇L(θ) + ξ/√h into w.grad with ξ ~ N(0, C_B(θ)) (h = 1 for Gauss), in one
// pass over the examples: Σ_i w_i g_i with the weights of gaussWeights, plus ∇r(θ).
func (w *worker) gaussGrad(c *chain, s *settings) {
	gaussWeights(w.w, 1, w.w, c.pcg, s)
	w.p.WeightedGrad(w.grad, c.theta, w.w)
	w.p.RegGrad(w.grad, c.theta)
}

// gaussWeights writes w_i = 1/N + √(κ_B/(N h))·(z_i − z̄), z ~ N(0, I_N) drawn from src
// (FillNormals, which also sums z in order) into z (length N) and then w_i into
// w[i·stride] (z may be w itself when stride = 1): Σ_i w_i g_i is ∇L_NLL(θ) plus noise of
// covariance (κ_B/h)·C(θ) (MATH.md §2).
func gaussWeights(w []float64, stride int, z []float64, src *rand.PCG, s *settings) {
	sum := fillNormalsSum(z, src)
	mean := sum / float64(s.n)
	inv := 1 / float64(s.n)
	ns := s.noiseScale // a local: the stores below could alias *s for all the compiler knows
	if stride == 1 {
		w = w[:len(z)]
		for i, v := range z {
			w[i] = gaussWeight(inv, ns, v, mean)
		}
		return
	}
	_ = w[(len(z)-1)*stride]
	for i, v := range z {
		w[i*stride] = gaussWeight(inv, ns, v, mean)
	}
}

// gaussWeights8 is gaussWeights for the groupSize = 8 chains of a full group, all active,
// into w.ws (N × 8): their normals drawn together by fillNormals8 into ws itself and turned
// into weights by gaussRows8, each chain's weights and stream bitwise those of gaussWeights
// on it alone.
func (w *worker) gaussWeights8(cs []*chain, s *settings) {
	var srcs [groupSize]*rand.PCG
	for j, c := range cs {
		srcs[j] = c.pcg
	}
	var sums [groupSize]float64
	fillNormals8(w.ws, s.n, &srcs, &sums)
	var means [groupSize]float64
	for j, sum := range sums {
		means[j] = sum / float64(s.n)
	}
	// gaussWeight on every row, vectorised (the same roundings).
	gaussRows8(&w.ws[0], s.n, &means, 1/float64(s.n), s.noiseScale)
}

// gaussWeight is w_i = inv + ns·(z_i − z̄) of gaussWeights, inv = 1/N, ns = √(κ_B/(N h)).
func gaussWeight(inv, ns, z, mean float64) float64 { return inv + ns*(z-mean) }

// axpy computes y += a·x.
func axpy(a float64, x, y []float64) {
	floats.AddScaled(y, a, x) // y[i] += a·x[i], vectorised
}
