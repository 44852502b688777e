package sim

// Problem is what every simulator needs of an optimisation problem with a finite set of N
// examples: mini-batch gradients of the objective L = (1/N) Σ ℓ_i + r, and weighted sums of
// per-example gradients (from which Gaussian noise of covariance C(θ) is drawn:
// Σ_i w_i g_i with w_i = (z_i − z̄)/√N, z ~ N(0, I), has covariance C(θ), MATH.md §2).
//
// A Problem may cache scratch space and is not safe for concurrent use: Clone gives each
// goroutine its own.
type Problem interface {
	// Dim returns d.
	Dim() int
	// NumExamples returns N.
	NumExamples() int
	// MiniBatchGrad writes ∇L_b(θ) = (1/len(idx)) Σ_{i∈idx} g_i(θ) + ∇r(θ) into dst.
	// idx may repeat indices (sampling with replacement).
	MiniBatchGrad(dst, theta []float64, idx []int)
	// WeightedGrad writes Σ_i w_i g_i(θ) over all N examples into dst (no regulariser).
	WeightedGrad(dst, theta []float64, w []float64)
	// RegGrad adds ∇r(θ) into dst (a no-op without a regulariser).
	RegGrad(dst, theta []float64)
	// Loss returns the objective L(θ) (mean NLL plus r).
	Loss(theta []float64) float64
	// Clone returns an independent copy with its own scratch space.
	Clone() Problem
}
