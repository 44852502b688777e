// Package model holds the per-example negative log-likelihoods sgdprior studies and their
// exact derivatives.
//
// Conventions (docs/MATH.md §1): ℓ_i(θ) = −log p(y_i | x_i, θ) is the per-example
// loss; every "mean" quantity is (1/n) Σ_i over the rows of the batch passed in; g_i = ∇ℓ_i;
// H_i = ∇²ℓ_i. Weight decay r(θ) = (λ/2)‖θ‖² is never part of a Model: it belongs to the
// objective L = mean ℓ + r (see Objective).
//
// Parameter layout (fixed, PyTorch nn.Linear compatible): layer by layer, the weight matrix
// (out × in, row-major) then the bias vector (out).
//
// The package knows nothing of the learning rate η, the batch size B or the noise factor κ_B
// of MATH.md §2: a batch is whatever rows the caller passes, and only Loss and HessVec
// average over them (Loss's gradient is ḡ over the batch; GradSum and Gram are plain sums
// and products of per-example quantities).
//
// New builds the models (linreg, logistic, softmax, mlp:H1,H2,…) as one dense Network type,
// and convolutional networks (cnn:…, on image data) as ConvNet;
// InitParams draws PyTorch's default initialisation; Network.Layers and Network.ParamName
// describe the layout.
//
// Models cache scratch buffers, so a Model value is not safe for concurrent use: call Clone
// for each goroutine. Results go into destinations the caller passes; inputs are never
// modified. Wrong shapes are programmer errors and panic with a "model: " prefix. Steady-state
// calls make no allocations.
//
// Performance and reproducibility: the batched derivatives rest on the packed GEMM of
// internal/kernel, with an AVX2+FMA micro-kernel (portable Go elsewhere, or with the purego
// build tag). Large products are split between a fixed pool of GOMAXPROCS−1 helper
// goroutines along a partition that depends only on the shapes, and every element of a
// product gets the same sequence of operations whichever thread computes it, so results are
// bitwise identical for any GOMAXPROCS (on a given machine and build).
package model

import "gonum.org/v1/gonum/mat"

// Batch is a set of examples: X is n×p (one example per row) and Y holds n targets. For
// categorical and Bernoulli outputs Y[i] is a class index 0..K−1 stored as a float64; for
// Gaussian outputs it is the numeric target. Sparse, when set (by Compress), holds X in
// compressed form for dense Networks' first-layer products; it must describe this X.
type Batch struct {
	X      *mat.Dense
	Y      []float64
	Sparse *SparseFeatures
}

// Len returns the number of examples in the batch.
func (b Batch) Len() int {
	if b.X == nil {
		return 0
	}
	r, _ := b.X.Dims()
	return r
}

// Model is a per-example negative log-likelihood with exact, batched derivatives.
type Model interface {
	// Name is the model's spelling on the command line, e.g. "logistic" or "mlp:32".
	Name() string
	// NumParams returns d, the length of θ.
	NumParams() int
	// NumInputs returns p, the number of features each example has.
	NumInputs() int
	// Loss returns the mean NLL (1/n) Σ ℓ_i over the batch. If grad is non-nil (length d)
	// it receives the mean gradient (1/n) Σ g_i.
	Loss(grad, theta []float64, b Batch) float64
	// PerExampleLoss writes ℓ_i into dst (length n).
	PerExampleLoss(dst, theta []float64, b Batch)
	// PerExampleGrads writes g_i into row i of dst (n×d).
	PerExampleGrads(dst *mat.Dense, theta []float64, b Batch)
	// GradDot writes (g_i·u)_i into dst (length n) without materialising the g_i.
	GradDot(dst, theta []float64, b Batch, u []float64)
	// GradSum writes Σ_i w_i g_i into dst (length d) without materialising the g_i.
	GradSum(dst, theta []float64, b Batch, w []float64)
	// Gram writes the n×n matrix g_i·g_j into dst without materialising the g_i.
	Gram(dst *mat.Dense, theta []float64, b Batch)
	// HessVec writes (1/n) Σ_i H_i v into dst (exact, R-operator).
	HessVec(dst, theta []float64, b Batch, v []float64)
	// PerExampleHessVec writes H_i V_i (V_i the i-th row of V, n×d) into row i of dst (n×d).
	PerExampleHessVec(dst *mat.Dense, theta []float64, b Batch, V *mat.Dense)
	// Clone returns an independent copy with its own scratch space.
	Clone() Model
}

// HessVecs writes H v_k into dst[k] for each direction v[k] (H the mean Hessian over the
// batch, as Model.HessVec): in one pass when m has a HessVecs method (as *Network does),
// one HessVec per direction otherwise.
func HessVecs(m Model, dst [][]float64, theta []float64, b Batch, v [][]float64) {
	if mm, ok := m.(interface {
		HessVecs(dst [][]float64, theta []float64, b Batch, v [][]float64)
	}); ok {
		mm.HessVecs(dst, theta, b, v)
		return
	}
	for k := range v {
		m.HessVec(dst[k], theta, b, v[k])
	}
}

// GradDots writes (g_i·u_k)_i into dst[k] for each direction u[k] (as Model.GradDot): in
// one pass when m has a GradDots method (as *Network does), one GradDot per direction
// otherwise.
func GradDots(m Model, dst [][]float64, theta []float64, b Batch, u [][]float64) {
	if mm, ok := m.(interface {
		GradDots(dst [][]float64, theta []float64, b Batch, u [][]float64)
	}); ok {
		mm.GradDots(dst, theta, b, u)
		return
	}
	for k := range u {
		m.GradDot(dst[k], theta, b, u[k])
	}
}

// GradDotSum writes w_i = β (α (g_i·u − μ)) into w (length n) and Σ_i w_i g_i into dst
// (length d): in one forward and backward pass when m has a GradDotSum method (as *Network
// does, bitwise the same), by GradDot, the weights and GradSum otherwise. With α = 1/n,
// β = 1 and μ = ḡ·u it is the covariance product C u (see Network.GradDotSum).
func GradDotSum(m Model, dst, w, theta []float64, b Batch, u []float64, mu, alpha, beta float64) {
	if mm, ok := m.(interface {
		GradDotSum(dst, w, theta []float64, b Batch, u []float64, mu, alpha, beta float64)
	}); ok {
		mm.GradDotSum(dst, w, theta, b, u, mu, alpha, beta)
		return
	}
	m.GradDot(w, theta, b, u)
	covWeights(w, mu, alpha, beta)
	m.GradSum(dst, theta, b, w)
}
