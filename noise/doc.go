// Package noise is sgdprior's model of mini-batch gradient noise (docs/MATH.md §1–§2): the
// three sampling schemes (Sampling) and a Sampler that draws their mini-batch indices from an
// injected random stream, the factor κ_B of C_B = κ_B C (Kappa), the one rule for η and B
// (CheckLRBatch), and the centring and projection of per-example gradients from which C and
// VᵀC_BV are formed (CentreColumns, SubtractMean, ProjectedCovariance).
//
// Conventions (docs/MATH.md §1–§2): C(θ) = (1/N) Σ_i (g_i − ḡ)(g_i − ḡ)ᵀ is the population
// per-example gradient covariance and C_B = κ_B C that of a mini-batch mean gradient.
package noise
