// Package basins asks which minima SGD reaches on a real network (docs/MATH.md §13): a sweep
// over learning rates η, batch sizes B and seeds, plus a full-batch gradient-descent arm at the
// same η, every cell of a seed starting from the same initialisation (a paired design). Each
// run trains, then descends from its last iterate to the minimum of its basin (full batch,
// ‖∇L‖ ≤ a stated tolerance), where it measures the sharpness λ_max (Lanczos on Hessian–vector
// products), tr H (exact for small d, Hutchinson with its standard error otherwise), the top-k
// spectrum and Σ log h_k, train and test loss and accuracy. Across runs it reports the loss
// barrier along the straight line between minima of the same seed, sharpness against η/B with
// standard errors over seeds, paired tests of equal η/B and of SGD against GD, and the Spearman
// rank correlation between sharpness and test error with a bootstrap CI over seeds.
//
// Every random stream is a PCG stream derived from (seed, cell), and runs write into their own
// slots, so the output is bitwise the same whatever GOMAXPROCS is.
package basins
