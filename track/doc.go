// Package track runs SGD on a problem and records, along the trajectory, the quantities of
// docs/MATH.md §11: train and test loss and accuracy, ‖∇L‖, tr C and the noise scale, λ_max
// of the Hessian beside 2/η, tr H with its standard error, Tr(H C_B) and the alignment of
// Zhu et al. (2019), the note's prior score (its norm, its cosine with −∇L, its implicit part
// and that part's size relative to the likelihood score), Yaida's (2019)
// fluctuation–dissipation ratio over each window between rows, and the distance from the
// start. It is the library behind `sgdprior track`.
//
// Randomness comes from seeded PCG streams (mini-batches on stream 0, as chain 0 of package
// sim; the covariance subset, the probes and Lanczos's start vectors on their own streams),
// so rows are bitwise reproducible for a given seed whatever GOMAXPROCS is.
package track
