package model

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/internal/kernel"
)

// MultiGradSum computes the weighted gradient sums Σ_i w_{g,i} g_i(θ_g) of a linear model
// (linreg, logistic, softmax: a Network without hidden layer) at G points θ_1, …, θ_G at
// once, by matrix–matrix products over the shared data (docs/MATH.md §2.1): with the
// stacked weights W = [W_1; …; W_G] (G·K × p) and biases b, the outputs of every point are
// Z = X Wᵀ + 1 bᵀ (n × G·K); the head gives Δ_g (n × K) per point; with
// T = [diag(w_1) Δ_1, …, diag(w_G) Δ_G] (n × G·K) the weight gradients are (Xᵀ T)ᵀ
// (G·K × p) and the bias gradients Tᵀ 1.
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
	gw   []float64 // p × G·K: weight gradients, transposed
	gb   []float64 // G·K: bias gradients
	wi   []float64 // n × G: GradSums' weights, example by example (GradSumsInterleaved's layout)
	ctx  kernel.GemmCtx

	// The batch of SetBatch: its feature matrix and their transpose (p × n).
	xtOf *mat.Dense
	xt   []float64
}

// multiDirectWork bounds the chunk products Z = X Wᵀ (rows × G·K × p multiply–adds) that
// read SetBatch's transposed features: products this small take the GEMM's direct path
// (kernel.GemmCtx reads a transposed A in place, packs an untransposed one, with the same
// arithmetic on the same values) in both builds (the OpenBLAS route starts far above).
const multiDirectWork = 1 << 18

// multiMaxCopy is the largest feature matrix (numbers) of which SetBatch keeps a copy.
const multiMaxCopy = 1 << 21

// SetBatch keeps a transposed copy of b's features, with which GradSums and
// GradSumsInterleaved, given a batch with the same feature matrix b.X, form the outputs
// Z = X Wᵀ of a chunk without packing X at every call (where the chunk's product is at most
// multiDirectWork multiply–adds and has at least two rows and two columns, so that it stays
// a matrix product): the results are bitwise those without SetBatch (TestMultiGradSumSetBatch).
// It keeps nothing when no full chunk's product is that small or the features hold more than
// multiMaxCopy numbers. b.X must not change while it is set; SetBatch(Batch{}) forgets it.
func (mg *MultiGradSum) SetBatch(b Batch) {
	mg.xtOf, mg.xt = nil, nil
	if b.X == nil {
		return
	}
	n, p := b.X.Dims()
	gk := len(mg.bias)
	if min(n, multiRows)*gk*p > multiDirectWork || n*p > multiMaxCopy {
		return
	}
	mg.xtOf = b.X
	mg.xt = make([]float64, p*n)
	for i := range n {
		for j, v := range b.X.RawRowView(i) {
			mg.xt[j*n+i] = v
		}
	}
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
// target that is not a class index (logistic, softmax), as GradSum does. It copies the
// weights into GradSumsInterleaved's layout and gives its results.
func (mg *MultiGradSum) GradSums(dst, theta [][]float64, b Batch, w [][]float64) {
	G := mg.g
	if len(w) != G {
		panic(fmt.Sprintf("model: GradSums: %d weight vectors for G = %d", len(w), G))
	}
	nb := b.Len()
	for g := range G {
		checkLen("GradSums", "w", len(w[g]), nb)
	}
	if cap(mg.wi) < nb*G {
		mg.wi = make([]float64, nb*G)
	}
	wi := mg.wi[:nb*G]
	for g, wg := range w {
		for i, v := range wg {
			wi[i*G+g] = v
		}
	}
	mg.GradSumsInterleaved(dst, theta, b, wi)
}

// GradSumsInterleaved is GradSums with the weights example by example: w (length n·G) holds
// w[i·G+g], example i's weight for point g, the layout of the chunks' outputs, so that the
// heads read the weights of a chunk as one contiguous block. Each dst[g] depends only on
// theta[g], the weights w[i·G+g] (i < n), b and G.
func (mg *MultiGradSum) GradSumsInterleaved(dst, theta [][]float64, b Batch, w []float64) {
	n := mg.net
	G := mg.g
	if len(dst) != G || len(theta) != G {
		panic(fmt.Sprintf("model: GradSums: %d, %d destinations, points for G = %d", len(dst), len(theta), G))
	}
	nb := b.Len()
	for g := range G {
		n.checkBatch("GradSums", theta[g], b)
		checkLen("GradSums", "dst", len(dst[g]), n.d)
	}
	checkLen("GradSums", "w", len(w), nb*G)
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
	transposed := mg.xtOf != nil && mg.xtOf == b.X && len(mg.xt) == nb*p
	for i0 := 0; i0 < nb; i0 += multiRows {
		nr := min(multiRows, nb-i0)
		x := X.Data[i0*X.Stride:]
		// Z = X Wᵀ + 1 bᵀ (nr × G·K) for all G points: columns g·K, …, g·K + K − 1 are
		// point g's outputs.
		z := mg.z[:nr*gk]
		// Each row ← the biases: the first by copy, then the filled rows doubled (a few long
		// copies instead of one short loop per row).
		copy(z[:gk], mg.bias)
		for filled := gk; filled < len(z); filled *= 2 {
			copy(z[filled:], z[:filled])
		}
		if transposed && nr >= 2 && gk >= 2 && nr*gk*p <= multiDirectWork {
			// Z += (Xᵀ)ᵀ Wᵀ: the chunk's rows are columns i0, …, i0 + nr − 1 of Xᵀ.
			mg.ctx.Gemm(true, true, nr, gk, p, 1, mg.xt[i0:], nb, mg.wt, p, 1, z, gk)
		} else {
			mg.ctx.Gemm(false, true, nr, gk, p, 1, x, X.Stride, mg.wt, p, 1, z, gk)
		}
		t := mg.t[:nr*gk]
		y := b.Y[i0 : i0+nr]
		wc := w[i0*G : (i0+nr)*G] // the chunk's weights, nr × G
		switch {
		case n.head == Bernoulli:
			bernoulliWeightedDelta(t, z, y, wc, G, i0, nr)
		case n.head == Gaussian && K == 1:
			gaussianWeightedDelta(t, z, y, wc, G, nr, 1/(n.sigma*n.sigma))
		default:
			for g := range G {
				mg.headWeighted(t, z, y, wc, g, K, gk, nr, i0)
			}
		}
		beta := 1.0
		if i0 == 0 {
			beta = 0
		}
		// Weight gradients (T X)ᵀ = Xᵀ T (p × G·K), T = [diag(w_g) Δ_g]_g (nr × G·K); bias
		// gradients Tᵀ 1, summed row by row (colSums).
		mg.ctx.Gemm(true, false, p, gk, nr, 1, x, X.Stride, t, gk, beta, mg.gw, gk)
		colSums(mg.gb, t, nr)
	}
	for g := range G {
		gw := dst[g][ly.WeightOffset:ly.BiasOffset]
		for k := range K {
			for j := range p {
				gw[k*p+j] = mg.gw[j*gk+g*K+k]
			}
		}
		copy(dst[g][ly.BiasOffset:ly.BiasOffset+K], mg.gb[g*K:(g+1)*K])
	}
}

// colSums adds the columns of the row-major nr × len(gb) matrix t to gb, each column's
// elements in row order (gb[r] + t[0][r] + t[1][r] + …, the order of a row-by-row loop), four
// columns at a time in registers.
func colSums(gb, t []float64, nr int) {
	gk := len(gb)
	t = t[:nr*gk]
	r := 0
	for ; r+4 <= gk; r += 4 {
		s0, s1, s2, s3 := gb[r], gb[r+1], gb[r+2], gb[r+3]
		for i := r; i < len(t); i += gk {
			ti := t[i : i+4]
			s0 += ti[0]
			s1 += ti[1]
			s2 += ti[2]
			s3 += ti[3]
		}
		gb[r], gb[r+1], gb[r+2], gb[r+3] = s0, s1, s2, s3
	}
	for ; r < gk; r++ {
		s0 := gb[r]
		for i := r; i < len(t); i += gk {
			s0 += t[i]
		}
		gb[r] = s0
	}
}

// bernoulliWeightedDelta writes t_{ig} = w_{ig} (σ(z_{ig}) − y_i), the weighted output errors
// of the Bernoulli head (ℓ = softplus(z) − y z, ∂ℓ/∂z = σ(z) − y, MATH.md §1) of G points on
// a chunk of nr examples (t, z, w: nr × G) with kernel.SigmoidDeltaWeighted (σ(z) =
// s/(1 + e), e = exp(−|z|), s = 1 for z ≥ 0 and e otherwise: stable for any z). row0 is the
// chunk's first example, for the error on a target outside {0, 1}.
func bernoulliWeightedDelta(t, z, y, w []float64, G, row0, nr int) {
	y = y[:nr]
	for i, yi := range y {
		if yi != 0 && yi != 1 {
			badLabel(yi, row0+i, 2)
		}
	}
	kernel.SigmoidDeltaWeighted(t, z, w, y, G)
}

// gaussianWeightedDelta writes t_{ig} = w_{ig} (z_{ig} − y_i)/σ² (invVar = 1/σ²), the weighted
// output errors of the Gaussian head ℓ = (z − y)²/(2σ²) (MATH.md §1) of G points on a chunk
// of nr examples (t, z, w: nr × G), with kernel.GaussDeltaWeighted.
func gaussianWeightedDelta(t, z, y, w []float64, G, nr int, invVar float64) {
	kernel.GaussDeltaWeighted(t, z, w, y[:nr], G, invVar)
}

// headWeighted evaluates the head of point g (evalHead: the categorical head) on its
// columns g·K, …, g·K + K − 1 of the chunk's outputs z and writes w_{ig} Δ_{g,i} into the
// same columns of t (both nr × G·K; w: nr × G).
func (mg *MultiGradSum) headWeighted(t, z, y, w []float64, g, K, gk, nr, row0 int) {
	n := mg.net
	s := n.s
	out := s.out[:nr*K]
	for i := range nr {
		copy(out[i*K:(i+1)*K], z[i*gk+g*K:i*gk+(g+1)*K])
	}
	n.evalHead(y, nr, row0, headGrad)
	del := s.del[0]
	for i := range nr {
		kernel.ScaleTo(t[i*gk+g*K:i*gk+(g+1)*K], w[i*mg.g+g], del[i*K:(i+1)*K])
	}
}
