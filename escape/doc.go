// Package escape measures how SGD and three Gaussian stand-ins for its noise leave a sharp
// minimum θ* of a problem (docs/MATH.md §12; Zhu et al. 2019): K chains of each of
//
//   - sgd: SGD itself, θ ← θ − η∇L_b(θ) with mini-batches from noise.Sampler;
//   - gauss: θ ← θ − η(∇L(θ) + ξ), ξ ~ N(0, C_B(θ)), SGD's own state-dependent covariance
//     (drawn as sim's Gaussian-noise SGD draws it, through the per-example gradients);
//   - isotropic: θ ← θ − η∇L(θ) + η√(tr C_B(θ*)/d)·z, z ~ N(0, I_d): the same total variance
//     η² tr C_B(θ*) spread evenly over all directions;
//   - top_hessian: θ ← θ − η∇L(θ) + η√(tr C_B(θ*)/k)·V_k z, z ~ N(0, I_k), V_k the top-k
//     Hessian eigenvectors at θ*: the same total variance on the sharpest directions;
//
// all with the same η and the same drift −η∇L. A chain escapes when its full-batch loss,
// checked every CheckEvery steps, exceeds L(θ*) + δ; escapes are summarised by the
// Kaplan–Meier survival curve, its median, the censored-exponential mean and the escaped
// fraction, and escaped chains are descended to the minimum of the basin they reached
// (where they land: its λ_max and test error).
//
// Every chain draws from its own stream rand.NewPCG(Seed, stream) with a stream fixed by
// the noise and the chain's index, and chains share nothing, so results are bitwise
// identical whatever GOMAXPROCS is.
package escape
