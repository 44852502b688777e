// Package landscape gives the exact answers to the note's flat-versus-sharp claim in one and
// two dimensions (docs/MATH.md §8) and measures what SGD actually does there.
//
// Conventions (MATH.md §1–§3): the objective is the mean loss L(θ) = (1/N) Σ_i ℓ_i(θ) (no
// regulariser); η is the learning rate of SGD on L, B the batch size;
// C(θ) = (1/N) Σ_i (g_i − ḡ)(g_i − ḡ)ᵀ is the population covariance of the per-example
// gradients and C_B = κ_B C the mini-batch one, κ_B = noise.Kappa(sampling, N, B) (1/B with
// replacement, (N − B)/(B(N − 1)) without). SGD is modelled by the SDE dθ = μ dt + σ dW with
// drift μ = −η∇L and diffusion D = σσᵀ = η²κ_B C; time is counted in SGD steps, so every
// escape time is in steps.
//
// Presets (ou, multiplicative, wells, ou2d, wells2d) are finite example sets built so that
// their population moments are exactly the requested ones (normal quantiles, centred and
// rescaled; uncorrelated sets by Gram–Schmidt or ± pairing), so sim's SGD on them is real
// mini-batch SGD; each also gives L, ∇L, ∇²L and C(θ) exactly (Preset). Three laws are
// compared throughout:
//   - exact: the SDE's stationary density. In 1-D p ∝ (1/D) exp(∫2μ/D), by adaptive
//     Gauss–Kronrod quadrature in log space (Exact1D); in 2-D the stationary solution of the
//     Fokker–Planck equation by finite volumes (Stationary2DFP), with its probability current.
//   - seed: the note's density p ∝ exp(∫2μ/D), i.e. the exact one without the 1/D factor
//     (in 2-D the line integral of the note's score 2D⁻¹μ along rays from the lowest
//     minimum, which is the note's density exactly when that score is a gradient).
//   - simulated: SGD, Gaussian-noise SGD and the Euler–Maruyama SDE, run by sim.Run
//     (Simulate), with between-chain standard errors.
//
// For landscapes with several wells the mass of each well is split at the saddles, and the
// mean first-passage time from each minimum to a neighbouring one is computed exactly (1-D
// quadrature, 2-D backward equation), by Kramers' formula (1-D), and measured. Run runs
// everything for one preset and returns a Result ready for JSON (non-finite numbers become
// null); Sweep repeats the well shares over a grid of η and B.
//
// Results go into fresh values; inputs are never modified. Misuse (wrong lengths, a 2-D
// preset where 1-D is needed) panics with a "landscape: " prefix; numerical failures (D not
// positive, a singular solve) are returned as errors; warnings are returned as values.
package landscape
