// Package linalg is the linear algebra behind sgdprior's noise-covariance inverses, spectra,
// Lanczos, conjugate gradients and operators (docs/MATH.md §2, §4). SGD's
// stationary theory built on it (Lyapunov covariances, the note's, Laplace, exact least squares,
// null-direction removal) is package stationary.
//
// Conventions (MATH.md §1–§2): the training objective is the mean loss
// L(θ) = (1/N) Σ_i ℓ_i(θ) + r(θ); η is the learning rate of SGD on L; B is the batch size;
// C = (1/N) Σ_i (g_i − ḡ)(g_i − ḡ)ᵀ is the per-example (population) gradient covariance and
// C_B = κ_B C the mini-batch covariance, with κ_B = 1/B (sampling with replacement) or
// κ_B = (N − B)/(B(N − 1)) (without replacement). Large models never form C: they keep a
// centred factor U (d×M) with C = U Uᵀ, so C_B = κ U Uᵀ with κ = κ_B, and expose only the
// products U w, Uᵀ u and the Gram matrix UᵀU (Factor). H is the Hessian of L.
//
// Numerical rank follows the rcond rule of MATH.md §2: eigenvalues at or below
// rcond·λ_max (default rcond 1e-10) count as zero.
//
// The package does not import the model, data or simulation packages; it works on gonum
// matrices and on the small operator interfaces SymOperator and Factor.
//
// API style (gonum): results go into a destination the caller passes; inputs are never
// modified. Wrong shapes and other programmer misuse panic with a "linalg: " prefix;
// numerical failures (rank deficiency, instability, non-convergence, a matrix that is not
// positive definite) are returned as errors; warnings are returned as []string values.
// Every routine is deterministic: randomness (Lanczos start vectors, trace probes) comes from
// a caller-supplied math/rand/v2 source.
package linalg
