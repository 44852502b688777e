// Package score computes the technical note's quantities at one parameter vector θ of a real
// model — gradient noise, the stationary, likelihood and implicit-prior scores — and the
// measurements that check the note's assumptions: the general stationary score with its
// divergence term, the asymmetry of the score field's Jacobian, the commutator of the noise
// covariance with the Hessian, the Gaussianity of mini-batch noise, and, near a minimum, the
// Gaussian stationary covariances and the implicit prior precisions they imply
// (docs/MATH.md §2, §4, §5, §6, §10).
//
// Conventions (MATH.md §1–§2). The training objective is the mean loss
// L(θ) = (1/N) Σ_i ℓ_i(θ) + r(θ) with ℓ_i the per-example negative log-likelihood and
// r(θ) = (λ/2)‖θ‖² the explicit weight-decay prior (part of the objective, never of the
// likelihood). η is the learning rate of SGD on L and B its batch size. g_i = ∇ℓ_i,
// ḡ = (1/N) Σ g_i, ∇L = ḡ + λθ. The per-example (population) gradient covariance is
// C = (1/N) Σ_i (g_i − ḡ)(g_i − ḡ)ᵀ; from a seeded random subset of M examples (drawn
// without replacement) it is estimated without bias by Ĉ = (N−1)/N · S, S the sample
// covariance with divisor M − 1. The mini-batch covariance is C_B = κ_B C with κ_B = 1/B
// (sampling with replacement) or κ_B = (N − B)/(B(N − 1)) (without; reshuffled epochs are
// treated as without). The SDE has drift μ = −η∇L and diffusion D = η² C_B.
//
// Scales. Every quantity is computed by one of three strategies, chosen by the size of the
// problem (Settings.Solver): dense (d×d matrices, eigendecompositions) for small d;
// Woodbury for large d and a moderate number M of covariance examples (a matrix-free factor
// U with C = UUᵀ built from the model's GradDot, GradSum and Gram, and the M×M Gram matrix
// UᵀU); conjugate gradients and Lanczos on matrix-free covariance products otherwise (no
// Gram matrix; preconditioned from a subset, with its iterations and condition estimate
// reported). Report.SolverChoice states the choice with its memory and flop counts. For large d no d×d matrix is ever formed; near a minimum the Gaussian
// predictions are then made in the top-k eigenspace of the Hessian (Lanczos on exact
// Hessian–vector products).
//
// Randomness (the subset, probes, start vectors, sampled mini-batches) comes from
// math/rand/v2 PCG streams derived from Settings.Seed, one stream per use, so results are
// bitwise reproducible for a given seed whatever GOMAXPROCS is.
//
// Errors: wrong shapes and other programmer misuse panic with a "score: " prefix;
// numerical failures (a rank-deficient C_B to be inverted without damping or the range
// pseudo-inverse, an unstable learning rate, non-convergence) are returned as errors that
// wrap the linalg error types (*linalg.RankDeficientError, *stationary.UnstableError, …), so a
// caller can name its own options. Warnings are returned in Report.Warnings, never
// printed.
package score
