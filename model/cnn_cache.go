package model

import (
	"gonum.org/v1/gonum/mat"
)

// ConvGradCache holds a ConvNet's per-example gradients in factored form at a fixed θ over
// a fixed batch: the conv-parameter blocks of every g_i (n × toff, formed by one product
// per example from Δ_Z and the unfolded input, convRows), the flattened features and the
// dense tail's hidden A_l and Δ_l (the tail's blocks of g_i are their outer products, never
// formed), and the mean gradient. GradDot, GradSum and GradDotSum then skip the forward
// and backward pass and the unfolding: for LeNet-5 a covariance product costs two passes
// over 3390 floats per example (toff = 2572, F = 400, tail factors 418) against a forward
// and backward pass of ≈ 2.5 MFLOP per example.
//
// Results are bitwise identical to ConvNet.GradDot, GradDots, GradSum, GradDotSum, the
// gradient of ConvNet.Loss and ConvNet.Gram at the same θ and batch (the same chunks, the
// same factors and the same products in the same order).
//
// A ConvGradCache takes CacheFloats(n) floats. It uses its ConvNet's scratch space: like
// the ConvNet, it is not safe for concurrent use, and the ConvNet may be used between
// calls. The batch's features must not change while the cache is in use.
type ConvGradCache struct {
	m    *ConvNet
	b    Batch
	nb   int
	st   cnnStore  // conv-parameter blocks, features (n×F, nil without stages), tail A_l, Δ_l
	mean []float64 // the mean gradient, as Loss writes it
}

// CacheFloats returns the number of float64s a ConvGradCache over nb examples holds: per
// example the toff conv-parameter blocks of g_i and the F features (with stages), the
// tail's factors as Network.CacheFloats counts them, and the d floats of the mean gradient.
func (m *ConvNet) CacheFloats(nb int) int {
	t := m.toff
	if len(m.stages) > 0 {
		t += m.tail.layers[0].In
	}
	return nb*t + m.tail.CacheFloats(nb) + m.d
}

// NewGradCache runs the forward and backward pass at θ over the batch b and keeps the
// factors of the per-example gradients. theta is not retained.
func (m *ConvNet) NewGradCache(theta []float64, b Batch) *ConvGradCache {
	nb := m.checkBatch("NewGradCache", theta, b)
	c := &ConvGradCache{m: m, b: b, nb: nb, mean: make([]float64, m.d)}
	c.st.size(m, nb)
	m.call(cnnArgs{op: cnnOpCacheBuild, nb: nb, theta: theta, b: b, alpha: 1 / float64(nb), store: &c.st}, c.mean)
	return c
}

// NewProductCache is NewGradCache as a ProductCache.
func (m *ConvNet) NewProductCache(theta []float64, b Batch) ProductCache {
	return m.NewGradCache(theta, b)
}

// view returns the factors of the chunk of nr rows at i0 (slices into the cache; the
// lane network ln's scratch holds the lists).
func (c *ConvGradCache) view(ln *ConvNet, i0, nr int) *cnnView {
	s := ln.cs
	t := ln.tail
	for l, ly := range t.layers {
		if l < len(t.layers)-1 {
			s.cact[l] = c.st.act[l][i0*ly.Out:]
		}
		s.cdel[l] = c.st.del[l][i0*ly.Out:]
	}
	X := c.b.X.RawMatrix()
	feat, ldf := X.Data[i0*X.Stride:], X.Stride
	if c.st.feat != nil {
		F := t.layers[0].In
		feat, ldf = c.st.feat[i0*F:], F
	}
	s.view = cnnView{nr: nr, rows: c.st.all[i0*ln.toff:], del: s.cdel, act: s.cact, feat: feat, ldf: ldf}
	return &s.view
}

// Len returns the number of examples n.
func (c *ConvGradCache) Len() int { return c.nb }

// GradDot writes (g_i·u)_i into dst (length n), as ConvNet.GradDot at the cached θ.
func (c *ConvGradCache) GradDot(dst, u []float64) {
	m := c.m
	checkLen("ConvGradCache.GradDot", "dst", len(dst), c.nb)
	checkLen("ConvGradCache.GradDot", "u", len(u), m.d)
	m.out1[0], m.vec1[0] = dst, u
	m.call(cnnArgs{op: cnnOpCacheGradDots, nb: c.nb, b: c.b, vecs: m.vec1[:], outs: m.out1[:], cache: c}, nil)
	m.out1[0], m.vec1[0] = nil, nil
}

// GradDots writes (g_i·u_k)_i into dst[k] for each direction u[k], as ConvNet.GradDots at
// the cached θ.
func (c *ConvGradCache) GradDots(dst, u [][]float64) {
	m := c.m
	checkLen("ConvGradCache.GradDots", "dst", len(dst), len(u))
	for k := range u {
		checkLen("ConvGradCache.GradDots", "dst[k]", len(dst[k]), c.nb)
		checkLen("ConvGradCache.GradDots", "u[k]", len(u[k]), m.d)
	}
	if len(u) == 0 {
		return
	}
	m.call(cnnArgs{op: cnnOpCacheGradDots, nb: c.nb, b: c.b, vecs: u, outs: dst, cache: c}, nil)
}

// GradSum writes Σ_i w_i g_i into dst (length d), as ConvNet.GradSum at the cached θ.
func (c *ConvGradCache) GradSum(dst, w []float64) {
	m := c.m
	checkLen("ConvGradCache.GradSum", "dst", len(dst), m.d)
	checkLen("ConvGradCache.GradSum", "w", len(w), c.nb)
	m.call(cnnArgs{op: cnnOpCacheGradDotSum, nb: c.nb, b: c.b, w: w, cache: c}, dst)
}

// GradDotSum writes the weights w_i = β (α (g_i·u − μ)) into w (length n) and Σ_i w_i g_i
// into dst (length d), as ConvNet.GradDotSum at the cached θ (the covariance product C u
// with α = 1/n, β = 1, μ = ḡ·u; MATH.md §2).
func (c *ConvGradCache) GradDotSum(dst, w, u []float64, mu, alpha, beta float64) {
	m := c.m
	checkLen("ConvGradCache.GradDotSum", "dst", len(dst), m.d)
	checkLen("ConvGradCache.GradDotSum", "w", len(w), c.nb)
	checkLen("ConvGradCache.GradDotSum", "u", len(u), m.d)
	m.call(cnnArgs{op: cnnOpCacheGradDotSum, nb: c.nb, b: c.b, u: u, w: w, mu: mu, alpha: alpha, beta: beta, cache: c}, dst)
}

// MeanGrad writes the mean gradient (1/n) Σ_i g_i into dst (length d), bitwise as the
// gradient of ConvNet.Loss at the cached θ (computed with the cache, as Loss does).
func (c *ConvGradCache) MeanGrad(dst []float64) {
	checkLen("ConvGradCache.MeanGrad", "dst", len(dst), c.m.d)
	copy(dst, c.mean)
}

// Gram writes the n×n matrix G_ij = g_i·g_j into dst (an empty dst is sized), bitwise as
// ConvNet.Gram at the cached θ, without its forward and backward pass.
func (c *ConvGradCache) Gram(dst *mat.Dense) {
	m := c.m
	D := prepDense("ConvGradCache.Gram", "dst", dst, c.nb, c.nb)
	m.ensure(min(c.nb, cnnChunk))
	X := c.b.X.RawMatrix()
	m.gramFrom(D, &c.st, X.Data, X.Stride)
}
