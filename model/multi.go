package model

import (
	"fmt"

	"github.com/sgdprior/sgdprior/internal/kernel"
)

// MultiGradSum computes the weighted gradient sums Σ_i w_{g,i} g_i(θ_g) of a linear model
// (linreg, logistic, softmax: a Network without hidden layer) at G points θ_1, …, θ_G at
// once, by matrix–matrix products over the shared data (docs/MATH.md §2.1): with the
// stacked weights W = [W_1; …; W_G] (G·K × p), the outputs of every point are
// Z = X Wᵀ + 1 bᵀ (n × G·K); the head gives Δ_g per point; with T = [diag(w_1) Δ_1, …,
// diag(w_G) Δ_G] the weight gradients are Tᵀ X (G·K × p) and the bias gradients Tᵀ 1.
// Two products of the data's size serve all G points, where G calls of GradSum make 2G
// matrix–vector products.
//
// Examples are taken in chunks of a fixed number of rows, summed in order, so results
// depend only on the inputs and G. A MultiGradSum holds scratch space and is not safe for
// concurrent use; it makes no allocation once its buffers have grown.
type MultiGradSum struct {
	net  *Network // own clone: its scratch holds a point's outputs and Δ for the head
	g    int      // G
	rows int      // row capacity of z and t

	wt   []float64 // G·K × p: the stacked weight matrices
	bias []float64 // G·K: the stacked biases
	z    []float64 // rows × G·K: the outputs of the chunk
	t    []float64 // rows × G·K: w_{g,i} Δ_{g,i}
	gw   []float64 // G·K × p: weight gradients
	gb   []float64 // G·K: bias gradients
	ctx  kernel.GemmCtx
}

// multiRows is the number of examples of a chunk of MultiGradSum.
const multiRows = 256

// NewMultiGradSum returns a MultiGradSum of m for G ≥ 1 points, and ok = false (and nil) if
// m is not a Network without hidden layer. It panics if G < 1.
func NewMultiGradSum(m Model, G int) (mg *MultiGradSum, ok bool) {
	if G < 1 {
		panic(fmt.Sprintf("model: NewMultiGradSum: %d points", G))
	}
	n, isNet := m.(*Network)
	if !isNet || len(n.layers) != 1 {
		return nil, false
	}
	ly := n.layers[0]
	gk := G * ly.Out
	return &MultiGradSum{
		net:  n.Clone().(*Network),
		g:    G,
		wt:   make([]float64, gk*ly.In),
		bias: make([]float64, gk),
		gw:   make([]float64, gk*ly.In),
		gb:   make([]float64, gk),
	}, true
}

// Points returns G.
func (mg *MultiGradSum) Points() int { return mg.g }

// GradSums writes Σ_i w[g][i] g_i(theta[g]) over the n examples of b into dst[g], for
// g = 0, …, G−1 (theta[g] and dst[g] of length d, w[g] of length n; no regulariser). Each
// dst[g] depends only on theta[g], w[g], b and G. It panics on wrong lengths, and on a
// target that is not a class index (logistic, softmax), as GradSum does.
func (mg *MultiGradSum) GradSums(dst, theta [][]float64, b Batch, w [][]float64) {
	n := mg.net
	G := mg.g
	if len(dst) != G || len(theta) != G || len(w) != G {
		panic(fmt.Sprintf("model: GradSums: %d, %d, %d destinations, points, weights for G = %d", len(dst), len(theta), len(w), G))
	}
	nb := b.Len()
	for g := range G {
		n.checkBatch("GradSums", theta[g], b)
		checkLen("GradSums", "dst", len(dst[g]), n.d)
		checkLen("GradSums", "w", len(w[g]), nb)
	}
	ly := n.layers[0]
	p, K := ly.In, ly.Out
	gk := G * K
	rows := min(nb, multiRows)
	if mg.rows < rows {
		mg.z = make([]float64, rows*gk)
		mg.t = make([]float64, rows*gk)
		mg.rows = rows
	}
	n.ensure(rows)
	for g := range G {
		copy(mg.wt[g*K*p:(g+1)*K*p], theta[g][ly.WeightOffset:ly.BiasOffset])
		copy(mg.bias[g*K:(g+1)*K], theta[g][ly.BiasOffset:ly.BiasOffset+K])
	}
	for i := range mg.gb {
		mg.gb[i] = 0
	}
	X := b.X.RawMatrix()
	for i0 := 0; i0 < nb; i0 += multiRows {
		nr := min(multiRows, nb-i0)
		x := X.Data[i0*X.Stride:]
		z := mg.z[:nr*gk]
		fillRows(z, nr, mg.bias)
		// Z = X Wᵀ + 1 bᵀ for all G points.
		mg.ctx.Gemm(false, true, nr, gk, p, 1, x, X.Stride, mg.wt, p, 1, z, gk)
		t := mg.t[:nr*gk]
		for g := range G {
			mg.headWeighted(t, z, b.Y[i0:i0+nr], w[g][i0:i0+nr], g, K, gk, nr, i0)
		}
		beta := 1.0
		if i0 == 0 {
			beta = 0
		}
		// Weight gradients Tᵀ X, bias gradients Tᵀ 1 (a column sum, in row order).
		mg.ctx.Gemm(true, false, gk, p, nr, 1, t, gk, x, X.Stride, beta, mg.gw, p)
		for i := range nr {
			ti := t[i*gk : (i+1)*gk]
			for j, v := range ti {
				mg.gb[j] += v
			}
		}
	}
	for g := range G {
		copy(dst[g][ly.WeightOffset:ly.BiasOffset], mg.gw[g*K*p:(g+1)*K*p])
		copy(dst[g][ly.BiasOffset:ly.BiasOffset+K], mg.gb[g*K:(g+1)*K])
	}
}

// headWeighted evaluates the head of point g on its columns of the chunk's outputs z and
// writes w_i Δ_{g,i} into the same columns of t.
func (mg *MultiGradSum) headWeighted(t, z, y, w []float64, g, K, gk, nr, row0 int) {
	n := mg.net
	s := n.s
	out := s.out[:nr*K]
	if K == 1 {
		for i := range nr {
			out[i] = z[i*gk+g]
		}
	} else {
		for i := range nr {
			copy(out[i*K:(i+1)*K], z[i*gk+g*K:i*gk+(g+1)*K])
		}
	}
	n.evalHead(y, nr, row0, headGrad)
	del := s.del[0]
	if K == 1 {
		for i := range nr {
			t[i*gk+g] = w[i] * del[i]
		}
		return
	}
	for i := range nr {
		kernel.ScaleTo(t[i*gk+g*K:i*gk+(g+1)*K], w[i], del[i*K:(i+1)*K])
	}
}
