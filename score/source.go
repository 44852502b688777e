package score

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/noise"
)

// source supplies the per-example gradients every quantity is built from: a model on its
// examples (θ may vary, for finite differences), or a fixed matrix of gradients.
type source interface {
	// dim returns d.
	dim() int
	// numExamples returns N.
	numExamples() int
	// covExamples returns M, the number of examples C is computed from.
	covExamples() int
	// weightDecay returns λ of r(θ) = (λ/2)‖θ‖².
	weightDecay() float64
	// meanGrad writes ḡ(θ), the mean NLL gradient over all N examples, into dst and returns
	// the mean NLL (NaN when unknown).
	meanGrad(dst, theta []float64) float64
	// factor returns U(θ) (d×M) with C(θ) = U Uᵀ on the covariance examples.
	factor(theta []float64) linalg.Factor
	// factorOnce is factor for one or two products at θ: it keeps no forward and backward
	// pass (bitwise the same products, without the cache's memory).
	factorOnce(theta []float64) linalg.Factor
	// denseCov writes C(θ) into dst (d×d, or empty).
	denseCov(dst *mat.SymDense, theta []float64)
	// covTrace returns tr C(θ) without forming a d×d matrix.
	covTrace(theta []float64) float64
	// hasHessian reports whether hessVec is available.
	hasHessian() bool
	// hessVec writes H v into dst, H the Hessian of the objective (mean NLL over the
	// covariance examples plus λI).
	hessVec(dst, theta, v []float64)
	// hessVecs writes H v[k] into dst[k] for each direction (as hessVec, in one pass where
	// the model allows).
	hessVecs(dst [][]float64, theta []float64, v [][]float64)
	// popSize is the number of examples sampled mini-batches are drawn from.
	popSize() int
	// project writes g_i·v[k] for the popSize examples into dst[k], for each direction.
	project(dst [][]float64, theta []float64, v [][]float64)
	// hasCovTangents reports whether covTangents is available (otherwise the product rule
	// takes central differences of C x).
	hasCovTangents() bool
	// covTangents writes ∂_{u_k}(C x_j), the exact derivative along u[k] of the covariance
	// product at θ (the model's R-operator: model.CovTangenter), into dst[k·J+j] (J =
	// len(x)).
	covTangents(dst [][]float64, theta []float64, u, x [][]float64)
	// subsetFactor returns the factor U_S(θ) of the covariance estimated from a seeded
	// random subset of m of the covariance examples (all of them when m ≥ M).
	subsetFactor(theta []float64, m int, seed uint64) linalg.Factor
}

// chunkFloats bounds the size (in float64s) of the per-example scratch matrices.
const chunkFloats = 1 << 22

// chunkRows returns a chunk length for matrices with d columns.
func chunkRowsFor(d int) int { return max(1, min(4096, chunkFloats/max(d, 1))) }

// modelSource is a model on N examples with weight decay; C comes from the examples of sub
// (all N, or a seeded subset of M).
type modelSource struct {
	m     model.Model
	all   model.Batch // the N examples
	sub   model.Batch // the M covariance examples (== all without a subset)
	idx   []int       // indices of sub in all; nil without a subset
	wd    float64
	scale float64 // c²: C = c² Σ_{i∈sub} (g_i − ḡ_sub)(g_i − ḡ_sub)ᵀ
}

// compressFeatures makes newModelSource compress sparse features (model.CompressFor); a
// variable so that tests can compare with the dense path.
var compressFeatures = true

// newModelSource draws the covariance subset (subset ≥ N or 0: all examples).
func newModelSource(m model.Model, b model.Batch, wd float64, subset int, seed uint64) *modelSource {
	n := b.Len()
	if compressFeatures {
		b = model.CompressFor(m, b)
	}
	s := &modelSource{m: m.Clone(), all: b, sub: b, wd: wd, scale: 1 / float64(n)}
	if subset > 0 && subset < n {
		s.idx = drawSubset(rand.New(rand.NewPCG(seed, streamSubset)), n, subset)
		s.sub = gather(b, s.idx)
		s.scale = subsetScale(n, subset)
	}
	return s
}

// subsetScale returns (N−1)/(N(M−1)), the factor making (N−1)/N · S, S the sample covariance
// of M examples with divisor M − 1, an unbiased estimate of the population C (MATH.md §2).
// It is 1/N when M = N.
func subsetScale(n, m int) float64 {
	if m >= n {
		return 1 / float64(n)
	}
	return float64(n-1) / (float64(n) * float64(m-1))
}

// drawSubset returns m distinct indices in [0, n), sorted.
func drawSubset(rnd *rand.Rand, n, m int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for j := 0; j < m; j++ {
		i := j + rnd.IntN(n-j)
		p[j], p[i] = p[i], p[j]
	}
	idx := append([]int(nil), p[:m]...)
	slices.Sort(idx)
	return idx
}

// gather copies the examples idx of b into a new batch, with compressed features when b has
// them (model.Compress).
func gather(b model.Batch, idx []int) model.Batch {
	_, p := b.X.Dims()
	x := mat.NewDense(len(idx), p, nil)
	y := make([]float64, len(idx))
	for k, i := range idx {
		copy(x.RawRowView(k), b.X.RawRowView(i))
		y[k] = b.Y[i]
	}
	out := model.Batch{X: x, Y: y}
	if b.Sparse != nil {
		out = model.Compress(out)
	}
	return out
}

// rows returns the batch of rows [i0, i1) of b (a view, not a copy).
func rows(b model.Batch, i0, i1 int) model.Batch {
	_, p := b.X.Dims()
	return model.Batch{X: b.X.Slice(i0, i1, 0, p).(*mat.Dense), Y: b.Y[i0:i1]}
}

func (s *modelSource) dim() int             { return s.m.NumParams() }
func (s *modelSource) numExamples() int     { return s.all.Len() }
func (s *modelSource) covExamples() int     { return s.sub.Len() }
func (s *modelSource) weightDecay() float64 { return s.wd }
func (s *modelSource) hasHessian() bool     { return true }
func (s *modelSource) popSize() int         { return s.all.Len() }

func (s *modelSource) meanGrad(dst, theta []float64) float64 {
	return s.m.Loss(dst, theta, s.all)
}

// covTangents: with C = c² Σ_i (g_i − ḡ)(g_i − ḡ)ᵀ over the covariance examples,
//
//	∂_u(C x) = c² [Σ_i (g_i·x − ḡ·x) H_i u + Σ_i s_i g_i − (Σ_i s_i) ḡ],  s_i = uᵀ H_i x,
//
// (the centring's other terms vanish: Σ_i (g_i − ḡ) = 0; MATH.md §5), the sums from one
// pass of model.CovTangenter over the examples for all directions and vectors.
func (s *modelSource) covTangents(dst [][]float64, theta []float64, u, x [][]float64) {
	m := s.m.(model.CovTangenter)
	mean := make([]float64, s.dim())
	s.m.Loss(mean, theta, s.sub)
	mu := make([]float64, len(x))
	for j := range x {
		mu[j] = floats.Dot(mean, x[j])
	}
	sv := make([][]float64, len(dst))
	for q := range sv {
		sv[q] = make([]float64, s.sub.Len())
	}
	m.CovTangents(dst, sv, theta, s.sub, u, x, mu)
	for q := range dst {
		floats.AddScaled(dst[q], -floats.Sum(sv[q]), mean)
		floats.Scale(s.scale, dst[q])
	}
}

func (s *modelSource) hasCovTangents() bool {
	_, ok := s.m.(model.CovTangenter)
	return ok
}

func (s *modelSource) factor(theta []float64) linalg.Factor {
	return newModelFactor(s.m, s.sub, theta, s.scale)
}

func (s *modelSource) factorOnce(theta []float64) linalg.Factor {
	return newModelFactorCache(s.m, s.sub, theta, s.scale, false)
}

// centredChunks calls f with consecutive chunks of the centred per-example gradients
// a_i = g_i − ḡ_b of the examples of b (rows of a, which f may modify).
func centredChunks(m model.Model, b model.Batch, theta []float64, f func(i0 int, a *mat.Dense)) {
	d := m.NumParams()
	mean := make([]float64, d)
	m.Loss(mean, theta, b)
	n := b.Len()
	cr := min(chunkRowsFor(d), n)
	buf := mat.NewDense(cr, d, nil)
	for i0 := 0; i0 < n; i0 += cr {
		i1 := min(n, i0+cr)
		a := buf.Slice(0, i1-i0, 0, d).(*mat.Dense)
		m.PerExampleGrads(a, theta, rows(b, i0, i1))
		noise.SubtractMean(a, mean)
		f(i0, a)
	}
}

func (s *modelSource) denseCov(dst *mat.SymDense, theta []float64) {
	d := s.dim()
	if dst.IsEmpty() {
		dst.ReuseAsSym(d)
	}
	dst.Zero()
	centredChunks(s.m, s.sub, theta, func(_ int, a *mat.Dense) {
		dst.SymRankK(dst, s.scale, a.T())
	})
}

// traceCancelDigits bounds the digits covTrace's identity Σ‖g_i − ḡ‖² = Σ‖g_i‖² − M‖ḡ‖² may
// lose to cancellation (log₁₀ of Σ‖g_i‖² over the centred sum) before the centred
// gradients are summed instead.
const traceCancelDigits = 4

// covTrace returns tr C = c² Σ_{i∈sub} ‖g_i − ḡ‖² (MATH.md §2). For a model with factorised
// per-example gradient norms (model.Network.PerExampleGradNorms) it takes the identity
// Σ_i ‖g_i − ḡ‖² = Σ_i ‖g_i‖² − M‖ḡ‖², two passes without the M×d gradients (whose
// materialisation took 6.5 s of the full-data MNIST score on mlp:128); should the
// identity lose more than traceCancelDigits digits to cancellation (nearly equal
// gradients, and C = 0, whose trace must be exactly 0), or not be finite, the centred
// gradients are summed as for other models.
func (s *modelSource) covTrace(theta []float64) float64 {
	if fm, ok := s.m.(interface {
		PerExampleGradNorms(dst, theta []float64, b model.Batch)
	}); ok {
		m := s.sub.Len()
		norms := make([]float64, m)
		fm.PerExampleGradNorms(norms, theta, s.sub)
		var sq float64
		for _, v := range norms {
			sq += v * v
		}
		mean := make([]float64, s.dim())
		s.m.Loss(mean, theta, s.sub)
		t := sq - float64(m)*floats.Dot(mean, mean)
		if t > math.Pow(10, -traceCancelDigits)*sq && t <= math.MaxFloat64 {
			return s.scale * t
		}
	}
	var t float64
	centredChunks(s.m, s.sub, theta, func(_ int, a *mat.Dense) {
		r, _ := a.Dims()
		for i := 0; i < r; i++ {
			row := a.RawRowView(i)
			t += floats.Dot(row, row)
		}
	})
	return s.scale * t
}

func (s *modelSource) hessVec(dst, theta, v []float64) {
	s.hessVecsOn(s.sub, [][]float64{dst}, theta, [][]float64{v})
}

func (s *modelSource) hessVecs(dst [][]float64, theta []float64, v [][]float64) {
	s.hessVecsOn(s.sub, dst, theta, v)
}

// fullHessVecs writes H v[k] into dst[k], for the Hessian H of the objective L on all N
// examples (weight decay included), in one pass over the examples.
func (s *modelSource) fullHessVecs(dst [][]float64, theta []float64, v [][]float64) {
	s.hessVecsOn(s.all, dst, theta, v)
}

// hessVecsOn writes H v[k] into dst[k] for the Hessian of the mean NLL over the examples b
// plus λI, the directions sharing one pass over b.
func (s *modelSource) hessVecsOn(b model.Batch, dst [][]float64, theta []float64, v [][]float64) {
	model.HessVecs(s.m, dst, theta, b, v)
	if s.wd != 0 {
		for k := range v {
			floats.AddScaled(dst[k], s.wd, v[k])
		}
	}
}

func (s *modelSource) project(dst [][]float64, theta []float64, v [][]float64) {
	model.GradDots(s.m, dst, theta, s.all, v)
}

func (s *modelSource) subsetFactor(theta []float64, m int, seed uint64) linalg.Factor {
	if m >= s.covExamples() {
		return s.factor(theta)
	}
	idx := drawSubset(rand.New(rand.NewPCG(seed, streamPrecond)), s.covExamples(), m)
	return newModelFactor(s.m, gather(s.sub, idx), theta, subsetScale(s.numExamples(), m))
}

// modelFactor is the matrix-free factor U = c [g_i − ḡ_S]_{i∈S} (d×M) of C = U Uᵀ over the
// examples S of a batch (MATH.md §2), from the model's batched products: U w =
// c (Σ_i w_i g_i − (Σ_i w_i) ḡ_S) by GradSum, Uᵀ u = c (g_i·u − ḡ_S·u)_i by GradDot, and
// UᵀU by the Gram matrix g_i·g_j with double centring. The Gram matrix is computed once
// and cached. When the model can keep its forward and backward pass (model.Cacher: a
// Network's model.GradCache or a ConvNet's model.ConvGradCache, at
// most cacheMaxFloats floats), it is kept from the first product on, halving the cost of
// every later one. A modelFactor is not safe for concurrent use.
type modelFactor struct {
	m     model.Model
	b     model.Batch
	theta []float64
	c     float64
	mean  []float64 // ḡ_S
	gram  *mat.Dense
	cache model.ProductCache // nil: products through the model
}

// cacheMaxFloats bounds the memory of a factor's cached forward and backward pass (256 MiB).
const cacheMaxFloats = 32 << 20

// cachesPass reports whether a factor of model m over n examples keeps its forward and
// backward pass (then a covariance product costs ≈ 4Md flops instead of 6Md).
func cachesPass(m model.Model, n int) bool {
	c, ok := m.(model.Cacher)
	return ok && c.CacheFloats(n) <= cacheMaxFloats
}

func newModelFactor(m model.Model, b model.Batch, theta []float64, scale float64) *modelFactor {
	return newModelFactorCache(m, b, theta, scale, true)
}

// newModelFactorCache is newModelFactor, keeping the pass only when cache is true (and the
// model can).
func newModelFactorCache(m model.Model, b model.Batch, theta []float64, scale float64, cache bool) *modelFactor {
	f := &modelFactor{m: m, b: b, theta: append([]float64(nil), theta...), c: math.Sqrt(scale)}
	f.mean = make([]float64, m.NumParams())
	if cache && cachesPass(m, b.Len()) {
		f.cache = m.(model.Cacher).NewProductCache(f.theta, b)
		f.cache.MeanGrad(f.mean)
		return f
	}
	m.Loss(f.mean, f.theta, b)
	return f
}

func (f *modelFactor) Rows() int { return f.m.NumParams() }
func (f *modelFactor) Cols() int { return f.b.Len() }

func (f *modelFactor) Mul(dst, w []float64) {
	if len(dst) != f.Rows() || len(w) != f.Cols() {
		panic(fmt.Sprintf("score: modelFactor.Mul: lengths %d, %d, want %d, %d", len(dst), len(w), f.Rows(), f.Cols()))
	}
	if f.cache != nil {
		f.cache.GradSum(dst, w)
	} else {
		f.m.GradSum(dst, f.theta, f.b, w)
	}
	sw := floats.Sum(w)
	for j := range dst {
		dst[j] = f.c * (dst[j] - sw*f.mean[j])
	}
}

func (f *modelFactor) MulT(dst, u []float64) {
	if len(dst) != f.Cols() || len(u) != f.Rows() {
		panic(fmt.Sprintf("score: modelFactor.MulT: lengths %d, %d, want %d, %d", len(dst), len(u), f.Cols(), f.Rows()))
	}
	if f.cache != nil {
		f.cache.GradDot(dst, u)
	} else {
		f.m.GradDot(dst, f.theta, f.b, u)
	}
	mu := floats.Dot(f.mean, u)
	for i := range dst {
		dst[i] = f.c * (dst[i] - mu)
	}
}

// MulMulT writes w = s Uᵀx and dst = U w (linalg.FusedFactor), bitwise as MulT, the
// scaling and Mul. Without a cache, U w = c (Σ_i w_i g_i − (Σ_i w_i) ḡ_S) with
// w_i = s c (g_i·x − ḡ_S·x) takes one forward and backward pass (model.GradDotSum: three
// products of the first layer's size where MulT and Mul make four); with one, the two
// cached products chunk by chunk (model.GradCache.GradDotSum).
func (f *modelFactor) MulMulT(dst, w, x []float64, s float64) {
	if len(dst) != f.Rows() || len(w) != f.Cols() || len(x) != f.Rows() {
		panic(fmt.Sprintf("score: modelFactor.MulMulT: lengths %d, %d, %d, want %d, %d, %d", len(dst), len(w), len(x), f.Rows(), f.Cols(), f.Rows()))
	}
	if f.cache != nil {
		f.cache.GradDotSum(dst, w, x, floats.Dot(f.mean, x), f.c, s)
	} else {
		model.GradDotSum(f.m, dst, w, f.theta, f.b, x, floats.Dot(f.mean, x), f.c, s)
	}
	sw := floats.Sum(w)
	for j := range dst {
		dst[j] = f.c * (dst[j] - sw*f.mean[j])
	}
}

// Gram writes UᵀU = c² (K − r1ᵀ − 1rᵀ + s) into dst, K_ij = g_i·g_j, r_i the row means of K
// and s their mean: the Gram matrix of the centred gradients, exactly symmetric.
func (f *modelFactor) Gram(dst *mat.Dense) {
	if dst.IsEmpty() {
		dst.ReuseAs(f.Cols(), f.Cols())
	}
	if f.gram != nil {
		dst.Copy(f.gram)
		return
	}
	// Not cached: the caller factorises its copy (the preconditioner's Cholesky), and a
	// cached second M×M matrix (512 MiB at M = 8192) would live as long as the factor.
	f.gramInto(dst)
}

// gramMatrix returns the cached centred Gram matrix UᵀU (computed on first use), not a
// copy: it must not be modified.
func (f *modelFactor) gramMatrix() *mat.Dense {
	if f.gram == nil {
		m := f.Cols()
		k := mat.NewDense(m, m, nil)
		f.gramInto(k)
		f.gram = k
	}
	return f.gram
}

// gramInto writes the centred Gram matrix c²(g_i − ḡ_S)·(g_j − ḡ_S) into k (M×M).
func (f *modelFactor) gramInto(k *mat.Dense) {
	m := f.Cols()
	if f.cache != nil {
		f.cache.Gram(k)
	} else {
		f.m.Gram(k, f.theta, f.b)
	}
	r := make([]float64, m)
	for i := 0; i < m; i++ {
		r[i] = floats.Sum(k.RawRowView(i)) / float64(m)
	}
	s := floats.Sum(r) / float64(m)
	c2 := f.c * f.c
	for i := 0; i < m; i++ {
		row := k.RawRowView(i)
		for j := 0; j <= i; j++ {
			v := c2 * (row[j] - r[i] - r[j] + s)
			row[j] = v
			k.Set(j, i, v)
		}
	}
}

// gradsSource is a fixed M×d matrix G of per-example NLL gradients (rows), the population
// of N examples when M = N, a random sample otherwise (C estimated by (N−1)/N · S), with an
// optional Hessian H of the mean objective. θ is only needed for weight decay (∇r = λθ).
type gradsSource struct {
	g     *mat.Dense // M×d
	n     int
	h     *mat.SymDense
	wd    float64
	mean  []float64
	u     *mat.Dense // d×M, c·(g_i − ḡ)
	scale float64
}

func newGradsSource(g *mat.Dense, n int, h *mat.SymDense, wd float64) *gradsSource {
	m, d := g.Dims()
	s := &gradsSource{g: g, n: n, h: h, wd: wd, scale: subsetScale(n, m)}
	s.mean = make([]float64, d)
	for i := 0; i < m; i++ {
		floats.Add(s.mean, g.RawRowView(i))
	}
	floats.Scale(1/float64(m), s.mean)
	c := math.Sqrt(s.scale)
	s.u = mat.NewDense(d, m, nil)
	for i := 0; i < m; i++ {
		row := g.RawRowView(i)
		for j := 0; j < d; j++ {
			s.u.Set(j, i, c*(row[j]-s.mean[j]))
		}
	}
	return s
}

func (s *gradsSource) dim() int             { _, d := s.g.Dims(); return d }
func (s *gradsSource) numExamples() int     { return s.n }
func (s *gradsSource) covExamples() int     { m, _ := s.g.Dims(); return m }
func (s *gradsSource) weightDecay() float64 { return s.wd }
func (s *gradsSource) hasHessian() bool     { return s.h != nil }
func (s *gradsSource) popSize() int         { return s.covExamples() }

func (s *gradsSource) meanGrad(dst, _ []float64) float64 {
	copy(dst, s.mean)
	return math.NaN()
}

func (s *gradsSource) factor(_ []float64) linalg.Factor { return linalg.NewDenseFactor(s.u) }

func (s *gradsSource) factorOnce(theta []float64) linalg.Factor { return s.factor(theta) }

// hasCovTangents: fixed gradients have no exact tangent here (their C does not depend on
// θ, and the central differences of the product rule give 0).
func (s *gradsSource) hasCovTangents() bool { return false }

func (s *gradsSource) covTangents(_ [][]float64, _ []float64, _, _ [][]float64) {
	panic("score: gradsSource has no covariance tangent")
}

func (s *gradsSource) denseCov(dst *mat.SymDense, _ []float64) {
	d := s.dim()
	if dst.IsEmpty() {
		dst.ReuseAsSym(d)
	}
	dst.SymOuterK(1, s.u)
}

func (s *gradsSource) covTrace(_ []float64) float64 {
	t := 0.0
	r, _ := s.u.Dims()
	for j := 0; j < r; j++ {
		row := s.u.RawRowView(j)
		t += floats.Dot(row, row)
	}
	return t
}

func (s *gradsSource) hessVec(dst, _, v []float64) {
	if s.h == nil {
		panic("score: no Hessian")
	}
	mat.NewVecDense(len(dst), dst).MulVec(s.h, mat.NewVecDense(len(v), v))
}

func (s *gradsSource) subsetFactor(theta []float64, m int, seed uint64) linalg.Factor {
	if m >= s.covExamples() {
		return s.factor(theta)
	}
	idx := drawSubset(rand.New(rand.NewPCG(seed, streamPrecond)), s.covExamples(), m)
	_, d := s.g.Dims()
	sub := mat.NewDense(m, d, nil)
	for k, i := range idx {
		copy(sub.RawRowView(k), s.g.RawRowView(i))
	}
	return newGradsSource(sub, s.n, nil, 0).factor(theta)
}

func (s *gradsSource) project(dst [][]float64, _ []float64, v [][]float64) {
	for k := range v {
		mat.NewVecDense(len(dst[k]), dst[k]).MulVec(s.g, mat.NewVecDense(len(v[k]), v[k]))
	}
}

func (s *gradsSource) hessVecs(dst [][]float64, theta []float64, v [][]float64) {
	for k := range v {
		s.hessVec(dst[k], theta, v[k])
	}
}
