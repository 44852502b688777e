package model

import (
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// GradCache holds a Network's forward and backward pass at a fixed θ over a fixed batch:
// the hidden activations A_l and the output derivatives Δ_l = ∂ℓ_i/∂z_l of every example.
// With them, the per-example gradient g_i = (Δ_{l,i} ⊗ [A_{l−1,i}; 1])_l is known in
// factored form, and GradDot and GradSum cost one product per layer instead of a forward
// and backward pass plus that product: about half the work of Network.GradDot and
// Network.GradSum for a wide first layer. This is what repeated covariance products at one
// θ (Lanczos, Woodbury solves, CG) need; the cache is the BackPACK-style factorisation
// kept between calls.
//
// Results are bitwise identical to Network.GradDot, Network.GradSum, the gradient of
// Network.Loss and Network.Gram at the same θ and batch (the same chunks and the same
// products in the same order).
//
// A GradCache takes n·Σ_l Out_l·(2 for hidden layers, 1 for the last) floats (CacheFloats).
// It uses its Network's scratch space: like the Network, it is not safe for concurrent use,
// and the Network may be used between calls. The batch's features must not change while
// the cache is in use.
type GradCache struct {
	n   *Network
	b   Batch
	x   blas64.General
	nb  int
	act [][]float64 // act[l]: A_l of hidden layer l, nb×Out_l
	del [][]float64 // del[l]: Δ_l, nb×Out_l
}

// CacheFloats returns the number of float64s a GradCache over nb examples holds.
func (n *Network) CacheFloats(nb int) int {
	t := 0
	for l, ly := range n.layers {
		t += nb * ly.Out
		if l < len(n.layers)-1 {
			t += nb * ly.Out
		}
	}
	return t
}

// NewGradCache runs the forward and backward pass at θ over the batch b and keeps it.
// theta is not retained.
func (n *Network) NewGradCache(theta []float64, b Batch) *GradCache {
	nb := n.checkBatch("NewGradCache", theta, b)
	X := b.X.RawMatrix()
	L := len(n.layers)
	c := &GradCache{n: n, b: b, x: X, nb: nb, act: make([][]float64, L-1), del: make([][]float64, L)}
	for l, ly := range n.layers {
		if l < L-1 {
			c.act[l] = make([]float64, nb*ly.Out)
		}
		c.del[l] = make([]float64, nb*ly.Out)
	}
	n.call(laneArgs{op: opCacheBuild, nb: nb, theta: theta, b: b, cache: c}, nil)
	return c
}

// store copies the A_l and Δ_l of the chunk of nr rows at row i0 from s into the cache.
func (c *GradCache) store(i0, nr int, s *scratch) {
	L := len(c.n.layers)
	for l, ly := range c.n.layers {
		if l < L-1 {
			copy(c.act[l][i0*ly.Out:], s.act[l][:nr*ly.Out])
		}
		copy(c.del[l][i0*ly.Out:], s.del[l][:nr*ly.Out])
	}
}

// Len returns the number of examples n.
func (c *GradCache) Len() int { return c.nb }

// chunk returns the cached Δ_l and A_l of rows i0… (slices into the cache) and the chunk's
// features.
func (c *GradCache) chunk(i0 int, del, acts [][]float64) []float64 {
	for l, ly := range c.n.layers {
		if l < len(acts) {
			acts[l] = c.act[l][i0*ly.Out:]
		}
		del[l] = c.del[l][i0*ly.Out:]
	}
	return c.x.Data[i0*c.x.Stride:]
}

// GradDot writes (g_i·u)_i into dst (length n), as Network.GradDot at the cached θ.
func (c *GradCache) GradDot(dst, u []float64) {
	n := c.n
	checkLen("GradCache.GradDot", "dst", len(dst), c.nb)
	checkLen("GradCache.GradDot", "u", len(u), n.d)
	n.call(laneArgs{op: opCacheGradDot, nb: c.nb, b: c.b, vecs: one(&n.vec1, u), outs: one(&n.out1, dst), cache: c}, nil)
}

// GradSum writes Σ_i w_i g_i into dst (length d), as Network.GradSum at the cached θ.
func (c *GradCache) GradSum(dst, w []float64) {
	n := c.n
	checkLen("GradCache.GradSum", "dst", len(dst), n.d)
	checkLen("GradCache.GradSum", "w", len(w), c.nb)
	n.call(laneArgs{op: opCacheGradSum, nb: c.nb, b: c.b, w: w, cache: c}, dst)
}

// GradDotSum writes the weights w_i = β (α (g_i·u − μ)) into w (length n) and Σ_i w_i g_i
// into dst (length d), as Network.GradDotSum at the cached θ, chunk by chunk: bitwise
// GradDot(w, u), the weights, then GradSum(dst, w), with each chunk's features read once
// for both products (the covariance product C u with α = 1/n, β = 1, μ = ḡ·u; MATH.md §2).
// On all 60000 MNIST images the features (376 MB) do not fit in any cache, and the two
// separate calls stream them from memory twice.
func (c *GradCache) GradDotSum(dst, w, u []float64, mu, alpha, beta float64) {
	n := c.n
	checkLen("GradCache.GradDotSum", "dst", len(dst), n.d)
	checkLen("GradCache.GradDotSum", "w", len(w), c.nb)
	checkLen("GradCache.GradDotSum", "u", len(u), n.d)
	n.call(laneArgs{op: opCacheGradDotSum, nb: c.nb, b: c.b, vecs: one(&n.vec1, u), out: w, mu: mu, alpha: alpha, beta: beta, cache: c}, dst)
}

// MeanGrad writes the mean gradient (1/n) Σ_i g_i into dst (length d), bitwise as the
// gradient of Network.Loss at the cached θ.
func (c *GradCache) MeanGrad(dst []float64) {
	n := c.n
	checkLen("GradCache.MeanGrad", "dst", len(dst), n.d)
	n.call(laneArgs{op: opCacheMeanGrad, nb: c.nb, b: c.b, alpha: 1 / float64(c.nb), cache: c}, dst)
}

// Gram writes the n×n matrix G_ij = g_i·g_j into dst (an empty dst is sized), bitwise as
// Network.Gram at the cached θ, without its forward and backward pass.
func (c *GradCache) Gram(dst *mat.Dense) {
	D := prepDense("GradCache.Gram", "dst", dst, c.nb, c.nb)
	c.n.gram(D, c.x.Data, c.x.Stride, c.del, c.act)
}

// ProductCache is a model's forward and backward pass kept at a fixed θ over a fixed batch
// (*GradCache of a Network, *ConvGradCache of a ConvNet): the per-example gradients in
// factored form, for repeated covariance products at one θ. Each method is bitwise the
// model's product at the cached θ and batch (see GradCache and ConvGradCache).
type ProductCache interface {
	// Len returns the number of examples n.
	Len() int
	// GradDot writes (g_i·u)_i into dst (length n).
	GradDot(dst, u []float64)
	// GradSum writes Σ_i w_i g_i into dst (length d).
	GradSum(dst, w []float64)
	// GradDotSum writes w_i = β (α (g_i·u − μ)) into w and Σ_i w_i g_i into dst.
	GradDotSum(dst, w, u []float64, mu, alpha, beta float64)
	// MeanGrad writes (1/n) Σ_i g_i into dst.
	MeanGrad(dst []float64)
	// Gram writes G_ij = g_i·g_j into dst (an empty dst is sized).
	Gram(dst *mat.Dense)
}

// Cacher is a model that can keep its forward and backward pass (*Network, *ConvNet).
type Cacher interface {
	Model
	// CacheFloats returns the number of float64s a cache over nb examples holds.
	CacheFloats(nb int) int
	// NewProductCache runs the forward and backward pass at θ over b and keeps it; theta
	// is not retained.
	NewProductCache(theta []float64, b Batch) ProductCache
}

// NewProductCache is NewGradCache as a ProductCache.
func (n *Network) NewProductCache(theta []float64, b Batch) ProductCache {
	return n.NewGradCache(theta, b)
}

var (
	_ Cacher = (*Network)(nil)
	_ Cacher = (*ConvNet)(nil)
)
