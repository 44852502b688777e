package basins

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/sim"
	"github.com/sgdprior/sgdprior/stationary"
	"github.com/sgdprior/sgdprior/train"
)

// cell is one arm of the grid: SGD at (η, B) or GD at η.
type cell struct {
	lr    float64
	batch int
	gd    bool
}

func (c cell) label() string {
	if c.gd {
		return fmt.Sprintf("gd lr=%g", c.lr)
	}
	return fmt.Sprintf("sgd lr=%g batch=%d", c.lr, c.batch)
}

// streamSeed derives the seed of the random streams of run (seed, cell) by SplitMix64
// finalisation of both, so every run has its own PCG streams, fixed by (seed, cell) alone.
func streamSeed(seed uint64, cell int) uint64 {
	mix := func(z uint64) uint64 {
		z += 0x9e3779b97f4a7c15
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		return z ^ (z >> 31)
	}
	return mix(mix(seed) ^ uint64(cell+1)*0xd1b54a32d192ed03)
}

// worker holds one goroutine's copies of the model and objectives.
type worker struct {
	p   *problem.Problem
	obj model.Objective
	sp  sim.Problem
}

func newWorker(p *problem.Problem) *worker {
	m := p.Model.Clone()
	wd := p.Spec.WeightDecay
	return &worker{p: p, obj: model.Objective{Model: m, WeightDecay: wd}, sp: sim.NewModelProblem(m, p.Batch, wd)}
}

// job is one run's measurements and its minimum.
type job struct {
	run     RunResult
	theta   []float64
	warning string
	err     error
}

// Run sweeps the grid of s on p (docs/MATH.md §13). Settings that fail Validate and a batch
// larger than the data are *field.Errors; a run whose training diverges, and a descent that
// finds no finite minimum (train.ErrNoMinimum), are errors.
func Run(ctx context.Context, p *problem.Problem, s *Settings) (*Output, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	for _, b := range s.Batches {
		if err := p.CheckBatch(b); err != nil {
			return nil, err
		}
	}
	var cells []cell
	for _, lr := range s.LRs {
		for _, b := range s.Batches {
			cells = append(cells, cell{lr: lr, batch: b})
		}
	}
	if s.GD {
		for _, lr := range s.LRs {
			cells = append(cells, cell{lr: lr, batch: p.N(), gd: true})
		}
	}
	ns := len(s.Seeds)
	nw := s.Workers
	if nw == 0 {
		nw = runtime.GOMAXPROCS(0)
	}
	total := len(cells) * ns
	nw = min(nw, total)

	// Runs, cell-major: job j is cell j/ns, seed j%ns. Each writes only its own slot.
	results := make([]job, total)
	var mu sync.Mutex
	done := 0
	parallel(ctx, nw, total, p, func(w *worker, j int) {
		c, seed := cells[j/ns], s.Seeds[j%ns]
		results[j] = w.runOne(ctx, c, j/ns, seed, s)
		if s.Progress != nil {
			mu.Lock()
			done++
			s.Progress.Record(fmt.Sprintf("basins: run %d/%d (%s seed %d)", done, total, c.label(), seed), float64(done)/float64(total+1))
			mu.Unlock()
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := &Output{
		Data: p.Data.Name, Model: p.Model.Name(), N: p.N(), D: p.D(), WeightDecay: p.Spec.WeightDecay,
		Sampling: s.Sampling.String(), Epochs: s.Epochs, GradTol: s.GradTol, TopK: min(s.TopK, p.D()),
		HasTest: p.HasTest(), BarrierPoints: s.BarrierPoints, Warnings: []string{},
	}
	if s.GD {
		o.GDSteps = s.GDSteps
	}
	if p.D() <= s.ExactDim {
		o.TraceMethod = "exact"
	} else {
		o.TraceMethod, o.Probes = "hutchinson", s.Probes
	}
	for _, r := range results {
		if r.err != nil {
			return nil, r.err
		}
		o.Runs = append(o.Runs, r.run)
		if r.warning != "" {
			o.Warnings = append(o.Warnings, r.warning)
		}
	}

	// Barriers between every pair of cells of each seed.
	type pair struct{ si, a, b int }
	var pairs []pair
	for si := range ns {
		for a := range cells {
			for b := a + 1; b < len(cells); b++ {
				pairs = append(pairs, pair{si, a, b})
			}
		}
	}
	o.Barriers = make([]Barrier, len(pairs))
	parallel(ctx, min(nw, max(1, len(pairs))), len(pairs), p, func(w *worker, j int) {
		q := pairs[j]
		ta, tb := results[q.a*ns+q.si].theta, results[q.b*ns+q.si].theta
		loss := func(x []float64) float64 { return w.obj.Loss(nil, x, p.Batch) }
		bar, t := LinearBarrier(loss, ta, tb, s.BarrierPoints)
		o.Barriers[j] = Barrier{Seed: s.Seeds[q.si], A: cells[q.a].label(), B: cells[q.b].label(), Barrier: Float(bar), TMax: Float(t)}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o.Summary = summarize(o, cells, s)
	o.Notes = notes(o, s)
	if s.Progress != nil {
		s.Progress.Record("basins: done", 1)
	}
	return o, nil
}

// parallel runs f(w, j) for j in [0, n) on nw goroutines, each with its own worker. Which
// goroutine runs j does not change any number: f writes only slot j.
func parallel(ctx context.Context, nw, n int, p *problem.Problem, f func(w *worker, j int)) {
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range nw {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWorker(p)
			for j := range jobs {
				f(w, j)
			}
		}()
	}
	for j := range n {
		if ctx.Err() != nil {
			break
		}
		jobs <- j
	}
	close(jobs)
	wg.Wait()
}

// runOne trains one run, descends to its basin's minimum and measures it there.
func (w *worker) runOne(ctx context.Context, c cell, ci int, seed uint64, s *Settings) job {
	p, obj := w.p, w.obj
	d := p.D()
	ss := streamSeed(seed, ci)
	theta := make([]float64, d)
	model.InitSeeded(theta, obj.Model, seed)
	theta0 := append([]float64(nil), theta...)
	r := RunResult{LR: Float(c.lr), Batch: c.batch, Seed: seed, GD: c.gd, Ratio: Float(c.lr / float64(c.batch)), TwoOverLR: Float(2 / c.lr)}
	if c.gd {
		r.Steps = s.GDSteps
		grad := make([]float64, d)
		for range s.GDSteps {
			obj.Loss(grad, theta, p.Batch)
			for i := range theta {
				theta[i] -= c.lr * grad[i]
			}
		}
	} else {
		var err error
		if r.Steps, err = train.EpochSteps(s.Epochs, p.N(), c.batch); err != nil {
			return job{err: err}
		}
		if err := train.SGD(ctx, w.sp, theta, train.SGDSettings{LR: c.lr, Batch: c.batch, Sampling: s.Sampling, Steps: r.Steps, Seed: ss}); err != nil {
			return job{err: err}
		}
	}
	pre := obj.Loss(nil, theta, p.Batch)
	if math.IsNaN(pre) || math.IsInf(pre, 0) {
		return job{err: fmt.Errorf("%s seed %d diverged: the objective is %v after %d steps; lower --lr", c.label(), seed, pre, r.Steps)}
	}
	r.PreDescentLoss = Float(pre)
	// Sharpness at the last iterate itself (what Keskar et al. and Cohen et al. measure),
	// before the descent moves to the basin's minimum.
	it, itNC, err := TopEigenvalues(&hessOp{obj: obj, theta: theta, b: p.Batch}, 1, rand.NewPCG(ss, 3))
	if err != nil {
		return job{err: fmt.Errorf("%s seed %d: Lanczos at the last iterate: %w", c.label(), seed, err)}
	}
	r.IterateLambdaMax, r.IterateLanczosConverged = Float(it[0]), !itNC
	r.IterateTrainLoss, r.IterateTestLoss, r.IterateTrainAcc, r.IterateTestAcc = evaluate(p, obj.Model, theta)
	thetaT := append([]float64(nil), theta...)

	var warning string
	if _, err := train.Minimize(ctx, obj, p.Batch, theta, train.Settings{GradTol: s.GradTol}); err != nil {
		if errors.Is(err, train.ErrNoMinimum) {
			return job{err: fmt.Errorf("%s seed %d: %w (add --weight-decay)", c.label(), seed, err)}
		}
		if ctx.Err() != nil {
			return job{err: ctx.Err()}
		}
		warning = fmt.Sprintf("%s seed %d: the descent stopped short of ‖∇L‖ ≤ %g: %v", c.label(), seed, s.GradTol, err)
	}
	grad := make([]float64, d)
	r.Objective = Float(obj.Loss(grad, theta, p.Batch))
	r.GradNorm = Float(norm(grad))
	r.Converged = float64(r.GradNorm) <= s.GradTol
	diff := make([]float64, d)
	for i := range diff {
		diff[i] = theta[i] - theta0[i]
	}
	r.Distance = Float(norm(diff))
	for i := range diff {
		diff[i] = theta[i] - thetaT[i]
	}
	r.DescentDistance = Float(norm(diff))

	h := &hessOp{obj: obj, theta: theta, b: p.Batch}
	vals, vecs, notConv, err := topEigen(h, s.TopK, rand.NewPCG(ss, 1), true)
	if err != nil {
		return job{err: fmt.Errorf("%s seed %d: Lanczos: %w", c.label(), seed, err)}
	}
	r.LanczosConverged = !notConv
	r.LambdaMax = Float(vals[0])
	for _, v := range vals {
		r.TopEigenvalues = append(r.TopEigenvalues, Float(v))
	}
	r.SumLogTop = Float(SumLogTop(vals))
	// The note's implied prior precision along each top eigendirection (seed variant, per
	// direction: precision 2h_k/(ηc_k), MATH.md §6), with the noise of SGD's own B (GD: none).
	kappa := 0.0
	if !c.gd {
		if kappa, err = noise.Kappa(s.Sampling, p.N(), c.batch); err != nil {
			return job{err: err}
		}
	}
	cs := NoiseAlong(obj.Model, theta, p.Batch, vecs, kappa)
	for k, ck := range cs {
		r.NoiseTop = append(r.NoiseTop, Float(ck))
		r.PriorPrecisionTop = append(r.PriorPrecisionTop, Float(SeedPrecisionAlong(vals[k], ck, c.lr, p.Spec.WeightDecay, p.N())))
	}
	if d <= s.ExactDim {
		r.TraceH, r.TraceHStderr = Float(ExactTrace(h)), Float(math.NaN())
	} else {
		m, se := HutchinsonTrace(h, s.Probes, rand.New(rand.NewPCG(ss, 2)))
		r.TraceH, r.TraceHStderr = Float(m), Float(se)
	}

	r.TrainLoss, r.TestLoss, r.TrainAcc, r.TestAcc = evaluate(p, obj.Model, theta)
	r.GenGap = r.TestLoss - r.TrainLoss
	r.ErrorGap = r.TrainAcc - r.TestAcc
	return job{run: r, theta: theta, warning: warning}
}

// evaluate returns the mean NLL (no weight decay) on p's training and test data and the
// accuracies at theta, computed with m (the worker's own copy of p's model: a model's
// scratch buffers are not shared between goroutines); the test numbers without a test
// set, and the accuracies of a regression, are NaN.
func evaluate(p *problem.Problem, m model.Model, theta []float64) (trainLoss, testLoss, trainAcc, testAcc Float) {
	pl := model.Objective{Model: m}
	nan := Float(math.NaN())
	trainLoss, testLoss, trainAcc, testAcc = Float(pl.Loss(nil, theta, p.Batch)), nan, nan, nan
	cls := model.IsClassifier(m)
	if cls {
		trainAcc = Float(model.Accuracy(m, theta, p.Batch))
	}
	if p.HasTest() {
		testLoss = Float(pl.Loss(nil, theta, p.TestBatch))
		if cls {
			testAcc = Float(model.Accuracy(m, theta, p.TestBatch))
		}
	}
	return
}

func norm(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s)
}

// SeedPrecisionAlong returns the note's implied prior precision along a Hessian
// eigendirection of curvature h and mini-batch noise variance c (seed variant, MATH.md §6 and
// §13): the stationary precision 2h/(ηc) minus the likelihood's N(h − λ)
// (stationary.ImpliedPriorPrecision). It is NaN when c = 0 (no noise: GD).
func SeedPrecisionAlong(h, c, lr, lambda float64, n int) float64 {
	if !(c > 0) {
		return math.NaN()
	}
	return stationary.ImpliedPriorPrecision(2*h/(lr*c), h, lambda, n)
}
