package track

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/internal/jsonnum"
	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/noise"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/score"
	"github.com/sgdprior/sgdprior/sim"
	"github.com/sgdprior/sgdprior/stationary"
)

// Random streams of rand.NewPCG(Seed, stream): SGD's mini-batches are stream 0 (as chain 0
// of sim.Run); the covariance subset, and per row t the Hutchinson probes and Lanczos's
// start vector, have their own.
const (
	streamSubset  = 0x7261636b_00000001
	streamProbes  = 0x7261636b_10000000
	streamLanczos = 0x7261636b_20000000
)

// fdrWindow accumulates Yaida's sums over the SGD steps of a window (FDRRatio).
type fdrWindow struct {
	origin        []float64
	sumDot, sumSq float64
	steps         int
}

// reset starts a window at θ.
func (w *fdrWindow) reset(theta []float64) {
	w.origin = append(w.origin[:0], theta...)
	w.sumDot, w.sumSq, w.steps = 0, 0, 0
}

// add records step k: the iterate θ_k and its mini-batch gradient g_k.
func (w *fdrWindow) add(theta, g []float64) {
	var dot, sq float64
	for j, gj := range g {
		dot += (theta[j] - w.origin[j]) * gj
		sq += gj * gj
	}
	w.sumDot += dot
	w.sumSq += sq
	w.steps++
}

// ratio returns FDRRatio over the window and FDRIdentity at its end θ_{t1} = theta.
func (w *fdrWindow) ratio(theta []float64, eta float64) (r, identity float64) {
	if w.steps == 0 {
		return math.NaN(), math.NaN()
	}
	var d2 float64
	for j, v := range theta {
		d2 += (v - w.origin[j]) * (v - w.origin[j])
	}
	return FDRRatio(w.sumDot, w.sumSq, eta), FDRIdentity(d2, w.sumSq, eta)
}

// Run trains p's model by SGD from theta0 (copied; nil: model.InitSeeded with s.Seed) for
// s.Steps steps, θ ← θ − η∇L_B(θ) with ∇L_B the mini-batch gradient of the objective
// (weight decay included) and batches from noise.Sampler on stream 0 of s.Seed, recording a
// row of diagnostics at RecordSteps (docs/MATH.md §11). Invalid settings and a batch larger
// than the data are *field.Errors; a non-finite iterate is an error naming the step.
func Run(ctx context.Context, p *problem.Problem, theta0 []float64, s *Settings) (*Output, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := p.CheckBatch(s.Batch); err != nil {
		return nil, err
	}
	n, d := p.N(), p.D()
	if err := s.CheckMemory(d); err != nil {
		return nil, err
	}
	kappa, err := noise.Kappa(s.Sampling, n, s.Batch)
	if err != nil {
		return nil, err
	}
	theta := make([]float64, d)
	if theta0 == nil {
		model.InitSeeded(theta, p.Model, s.Seed)
	} else {
		if len(theta0) != d {
			panic(fmt.Sprintf("track: θ0 has length %d, the model %d", len(theta0), d))
		}
		copy(theta, theta0)
	}
	begin := time.Now()
	out := newOutput(p, s, kappa)
	dg := newDiag(p, s, kappa, theta)
	sp := sim.NewModelProblem(p.Model, p.Batch, p.Spec.WeightDecay)
	pcg := rand.NewPCG(s.Seed, 0)
	rng := rand.New(pcg)
	sampler := noise.NewSampler(s.Sampling, n, s.Batch)
	steps := RecordSteps(s.Steps, s.Every, s.LogRows)
	var win fdrWindow
	win.reset(theta)
	g := make([]float64, d)
	var diagTime time.Duration
	next, first := 0, 0
	var id identity
	if s.Checkpoint != "" || s.Resume != "" {
		id = identityOf(p, s, append([]float64(nil), theta...))
	}
	if s.Resume != "" {
		c, err := readCheckpoint(s.Resume, id)
		if err != nil {
			return nil, err
		}
		if pcg, err = c.restoreStream(); err != nil {
			return nil, err
		}
		rng = rand.New(pcg)
		if err := sampler.Restore(c.Perm, c.Pos); err != nil {
			return nil, fmt.Errorf("track: checkpoint %s: %w", s.Resume, err)
		}
		copy(theta, c.Theta)
		win.origin = append(win.origin[:0], c.Origin...)
		win.sumDot, win.sumSq, win.steps = c.SumDot, c.SumSq, c.WinSteps
		next, first, out.Rows = c.Next, c.Step, c.Rows
		for _, k := range c.Warned {
			dg.warned[k] = true
		}
		dg.warnings = c.Warnings
	}
	ckEvery := s.CheckpointEvery
	if ckEvery == 0 {
		ckEvery = max(1000, s.Steps/20)
	}
	for t := first; ; t++ {
		if t == steps[next] {
			t0 := time.Now()
			row, err := dg.row(theta, t)
			if err != nil {
				return nil, err
			}
			r, id := win.ratio(theta, s.LR)
			row.FDRRatio, row.FDRIdentity, row.FDRSteps = jsonnum.Float(r), jsonnum.Float(id), win.steps
			out.Rows = append(out.Rows, row)
			win.reset(theta)
			next++
			diagTime += time.Since(t0)
			if s.Progress != nil {
				s.Progress.Record(fmt.Sprintf("track step %d/%d", t, s.Steps), float64(t)/float64(s.Steps))
			}
		}
		if t == s.Steps {
			break
		}
		if s.Checkpoint != "" && t > first && t%ckEvery == 0 {
			if err := dg.checkpoint(s.Checkpoint, id, t, theta, &win, next, out.Rows, pcg, sampler); err != nil {
				return nil, err
			}
		}
		if t%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		sp.MiniBatchGrad(g, theta, sampler.Next(rng))
		win.add(theta, g)
		floats.AddScaled(theta, -s.LR, g)
		if !finite(theta) {
			return nil, fmt.Errorf("track: SGD diverged at step %d (a non-finite parameter): --lr %g may exceed the stability bound 2/λ_max", t+1, s.LR)
		}
	}
	out.Warnings = append(out.Warnings, dg.warnings...)
	out.Final = theta
	out.Seconds = time.Since(begin).Seconds()
	out.DiagnosticsSeconds = diagTime.Seconds()
	if out.Seconds > 0 {
		out.DiagnosticsShare = out.DiagnosticsSeconds / out.Seconds
	}
	return out, nil
}

// checkpoint writes the state before step t.
func (dg *diag) checkpoint(path string, id identity, t int, theta []float64, win *fdrWindow, next int, rows []Row, pcg *rand.PCG, sampler *noise.Sampler) error {
	b, err := pcg.MarshalBinary()
	if err != nil {
		return err
	}
	perm, pos := sampler.State()
	c := &checkpoint{ID: id, Step: t, Theta: theta, Origin: win.origin, SumDot: win.sumDot, SumSq: win.sumSq,
		WinSteps: win.steps, Next: next, Rows: rows, PCG: b, Perm: append([]int(nil), perm...), Pos: pos,
		Warnings: dg.warnings}
	for _, k := range []string{"lanczos", "nonoise", "rank"} {
		if dg.warned[k] {
			c.Warned = append(c.Warned, k)
		}
	}
	if err := writeCheckpoint(path, c); err != nil {
		return fmt.Errorf("track: checkpoint %s: %w", path, err)
	}
	return nil
}

func finite(x []float64) bool {
	for _, v := range x {
		if !(v-v == 0) {
			return false
		}
	}
	return true
}

// diag computes a row's diagnostics at θ.
type diag struct {
	p      *problem.Problem
	s      *Settings
	obj    model.Objective
	kappa  float64
	n, d   int
	start  []float64
	sub    model.Batch // the M covariance examples, in the order of a seeded permutation
	m      int
	g      *mat.Dense // M×d: g_i, then u_i = g_i − ḡ
	grad   []float64  // ∇L
	gbar   []float64  // ḡ
	regr   bool
	warned map[string]bool

	warnings []string
}

func newDiag(p *problem.Problem, s *Settings, kappa float64, start []float64) *diag {
	n, d := p.N(), p.D()
	m := s.CovExamples
	if m == 0 || m > n {
		m = n
	}
	perm := rand.New(rand.NewPCG(s.Seed, streamSubset)).Perm(n)[:m]
	_, cols := p.Batch.X.Dims()
	sub := model.Batch{X: mat.NewDense(m, cols, nil), Y: make([]float64, m)}
	for j, i := range perm {
		copy(sub.X.RawRowView(j), p.Batch.X.RawRowView(i))
		sub.Y[j] = p.Batch.Y[i]
	}
	return &diag{p: p, s: s, obj: p.Objective(), kappa: kappa, n: n, d: d,
		start: append([]float64(nil), start...), sub: sub, m: m, g: mat.NewDense(m, d, nil),
		grad: make([]float64, d), gbar: make([]float64, d), regr: p.Spec.Regression(),
		warned: map[string]bool{}}
}

// warn records a warning once per kind.
func (dg *diag) warn(kind, msg string) {
	if !dg.warned[kind] {
		dg.warned[kind] = true
		dg.warnings = append(dg.warnings, msg)
	}
}

func nan() jsonnum.Float { return jsonnum.Float(math.NaN()) }

// row computes the diagnostics at θ = theta, step t (FDR columns are the caller's).
func (dg *diag) row(theta []float64, t int) (Row, error) {
	p, s, d := dg.p, dg.s, dg.d
	lam := p.Spec.WeightDecay
	r := Row{Step: t, TestLoss: nan(), TrainAcc: nan(), TestAcc: nan(), PriorNorm: nan(), PriorCos: nan(),
		ImplicitNorm: nan(), ImplicitRatio: nan()}

	// Loss, ∇L = ḡ + λθ, accuracy.
	objective := dg.obj.Loss(dg.grad, theta, p.Batch)
	r.Objective = jsonnum.Float(objective)
	r.TrainLoss = jsonnum.Float(objective - dg.obj.Reg(theta))
	copy(dg.gbar, dg.grad)
	if lam != 0 {
		floats.AddScaled(dg.gbar, -lam, theta)
	}
	r.GradNorm = jsonnum.Float(floats.Norm(dg.grad, 2))
	if !dg.regr {
		r.TrainAcc = jsonnum.Float(model.Accuracy(p.Model, theta, p.Batch))
	}
	if p.HasTest() {
		r.TestLoss = jsonnum.Float(p.Model.Loss(nil, theta, p.TestBatch))
		if !dg.regr {
			r.TestAcc = jsonnum.Float(model.Accuracy(p.Model, theta, p.TestBatch))
		}
	}
	r.Distance = jsonnum.Float(floats.Distance(theta, dg.start, 2))

	// Centred per-example gradients u_i = g_i − ḡ of the covariance examples; tr C.
	p.Model.PerExampleGrads(dg.g, theta, dg.sub)
	sq := make([]float64, dg.m)
	for i := range dg.m {
		row := dg.g.RawRowView(i)
		floats.Sub(row, dg.gbar)
		sq[i] = floats.Dot(row, row)
	}
	trC, trCSE := MeanSE(sq, dg.n)
	r.TraceC, r.TraceCStderr = jsonnum.Float(trC), jsonnum.Float(trCSE)
	r.NoiseScale = jsonnum.Float(score.GradientNoiseScale(trC, floats.Dot(dg.gbar, dg.gbar)))

	// λ_max by Lanczos on Hessian–vector products.
	op := score.HessianOperator{Objective: dg.obj, Batch: p.Batch, Theta: theta}
	vals := make([]float64, 1)
	_, err := linalg.Lanczos(vals, nil, op, rand.NewPCG(s.Seed, streamLanczos+uint64(t)),
		&linalg.LanczosSettings{MaxIter: min(d, s.LanczosIter), Tol: s.LanczosTol})
	var nc *linalg.NotConvergedError
	switch {
	case errors.As(err, &nc):
		dg.warn("lanczos", fmt.Sprintf("λ_max's Lanczos did not reach its tolerance %g in %d iterations (first at step %d, relative residual %.3g): the Ritz value is kept (raise --lanczos-iter)", s.LanczosTol, nc.Iter, t, nc.Residual))
	case err != nil:
		return r, fmt.Errorf("track: λ_max at step %d: %w", t, err)
	}
	r.LambdaMax = jsonnum.Float(vals[0])

	// tr H and Tr(HC) = E_i (g_i − ḡ)ᵀH(g_i − ḡ).
	var hc []float64
	if d <= s.ExactTraceMaxDim {
		h := score.DenseHessian(op)
		var trH float64
		for j := range d {
			trH += h.At(j, j)
		}
		r.TraceH, r.TraceHStderr = jsonnum.Float(trH), 0
		hu := make([]float64, d)
		hc = make([]float64, dg.m)
		for i := range dg.m {
			u := dg.g.RawRowView(i)
			hu = symVec(hu, h, u)
			hc[i] = floats.Dot(u, hu)
		}
	} else {
		trH, se := hutchinson(p.Model, theta, p.Batch, lam, d, s.TraceProbes, rand.New(rand.NewPCG(s.Seed, streamProbes+uint64(t))))
		r.TraceH, r.TraceHStderr = jsonnum.Float(trH), jsonnum.Float(se)
		k := min(s.HCExamples, dg.m)
		us := make([][]float64, k)
		hus := make([][]float64, k)
		for i := range k {
			us[i] = dg.g.RawRowView(i)
			hus[i] = make([]float64, d)
		}
		model.HessVecs(p.Model, hus, theta, p.Batch, us)
		hc = make([]float64, k)
		for i := range k {
			if lam != 0 {
				floats.AddScaled(hus[i], lam, us[i])
			}
			hc[i] = floats.Dot(us[i], hus[i])
		}
	}
	trHC, hcSE := MeanSE(hc, dg.n)
	r.TraceHC, r.TraceHCStderr = jsonnum.Float(dg.kappa*trHC), jsonnum.Float(dg.kappa*hcSE)
	r.Alignment = jsonnum.Float(Alignment(d, trHC, float64(r.TraceH), trC))

	if !s.NoPrior {
		if err := dg.prior(&r, theta, t); err != nil {
			return r, err
		}
	}
	return r, nil
}

// symVec writes h·u into dst.
func symVec(dst []float64, h *mat.SymDense, u []float64) []float64 {
	mat.NewVecDense(len(dst), dst).MulVec(h, mat.NewVecDense(len(u), u))
	return dst
}

// hutchinson returns Hutchinson's estimate of tr H (docs/MATH.md §11), the mean of zᵀHz over
// P Rademacher probes z (H the Hessian of the objective, λI included), and its standard
// error sd/√P.
func hutchinson(m model.Model, theta []float64, b model.Batch, lam float64, d, probes int, rng *rand.Rand) (float64, float64) {
	zs := make([][]float64, probes)
	hz := make([][]float64, probes)
	for k := range zs {
		zs[k] = make([]float64, d)
		hz[k] = make([]float64, d)
		for j := range zs[k] {
			zs[k][j] = float64(2*int(rng.Uint64()&1) - 1)
		}
	}
	model.HessVecs(m, hz, theta, b, zs)
	q := make([]float64, probes)
	for k := range zs {
		q[k] = floats.Dot(zs[k], hz[k]) + lam*float64(d)
	}
	return MeanSE(q, 0)
}

// prior fills the prior-score columns at θ: s_st = −(2/η)(C_B + δI)⁻¹∇L with C_B = κ_B C
// from the covariance examples (C = (1/M) Σ u_iuᵢᵀ), s_lik = −N ḡ, s_prior = s_st − s_lik,
// and the implicit part s_prior + Nλθ (docs/MATH.md §4, §11).
func (dg *diag) prior(r *Row, theta []float64, t int) error {
	s, d := dg.s, dg.d
	if dg.kappa == 0 {
		dg.warn("nonoise", "no mini-batch noise (B = N without replacement): the prior score's columns are null")
		return nil
	}
	var inv linalg.Inverse
	var err error
	if d <= s.DenseMaxDim {
		cb := mat.NewSymDense(d, nil)
		cb.SymRankK(cb, dg.kappa/float64(dg.m), dg.g.T())
		inv, err = linalg.NewDenseInverse(cb, &s.Inverse)
	} else {
		u := mat.NewDense(d, dg.m, nil)
		u.Scale(1/math.Sqrt(float64(dg.m)), dg.g.T())
		inv, err = linalg.NewWoodburyInverse(linalg.NewDenseFactor(u), dg.kappa, &s.Inverse)
	}
	var rd *linalg.RankDeficientError
	if errors.As(err, &rd) {
		dg.warn("rank", fmt.Sprintf("C_B is rank-deficient (first at step %d: rank %d of %d at rcond %g): the prior score's columns are null there; pass --damping λ or --inverse range", t, rd.Rank, rd.Dim, rd.RCond))
		return nil
	}
	if err != nil {
		return fmt.Errorf("track: the inverse of C_B at step %d: %w", t, err)
	}
	st := make([]float64, d)
	if err := stationary.StationaryScore(st, inv, dg.grad, s.LR); err != nil {
		return fmt.Errorf("track: the stationary score at step %d: %w", t, err)
	}
	lik := make([]float64, d)
	score.LikelihoodScore(lik, dg.n, dg.gbar)
	pr := make([]float64, d)
	score.PriorScore(pr, st, lik)
	implicit := append([]float64(nil), pr...)
	if lam := dg.p.Spec.WeightDecay; lam != 0 {
		floats.AddScaled(implicit, float64(dg.n)*lam, theta)
	}
	pn := floats.Norm(pr, 2)
	r.PriorNorm = jsonnum.Float(pn)
	if gn := floats.Norm(dg.grad, 2); pn > 0 && gn > 0 {
		r.PriorCos = jsonnum.Float(-floats.Dot(pr, dg.grad) / (pn * gn))
	}
	r.ImplicitNorm = jsonnum.Float(floats.Norm(implicit, 2))
	if ln := floats.Norm(lik, 2); ln > 0 {
		r.ImplicitRatio = jsonnum.Float(float64(r.ImplicitNorm) / ln)
	}
	return nil
}
