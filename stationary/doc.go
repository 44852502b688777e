// Package stationary is SGD's stationary theory at a minimum (docs/MATH.md §4, §6, §7, §9,
// §10): the set-up at a minimum θ* (a positive-curvature basis V with H̃ = VᵀHV and
// C̃_B = VᵀC_BV, null directions removed with the one tolerance NullTol: Dense for small d,
// TopK in a Lanczos subspace for large d), the Gaussian stationary covariances (continuous and
// discrete Lyapunov, the note's, SGLD, the Laplace posterior, exact least squares), the
// implied prior precision, the note's exact stationary score field and the posterior score,
// and the other lenses (Mandt et al.'s learning rate, Smith et al.'s implicit regulariser).
//
// Conventions are those of package linalg (mean loss L, C_B = κ_B C, H the Hessian of L).
// Wrong shapes and other misuse panic with a "stationary: " prefix; numerical failures
// (instability, curvature that is not positive, rank deficiency of C_B) are returned as errors
// (*UnstableError, *CurvatureError, *linalg.RankDeficientError); warnings as []string values.
package stationary
