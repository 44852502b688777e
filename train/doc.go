// Package train finds the parameter vectors sgdprior studies: the exact full-batch minimum
// θ* of the objective L(θ) = (1/N) Σ ℓ_i(θ) + (λ/2)‖θ‖² (MATH.md §1), by L-BFGS followed by
// Newton–CG polishing to a gradient-norm tolerance, and SGD iterates for a given learning
// rate, batch size and sampling scheme.
//
// It refuses to return a minimiser where none exists: for a classifier without weight
// decay that classifies every training example correctly, scaling the output layer drives
// the loss to 0 without reaching it, so no finite minimum exists (MATH.md §1, "Existence of
// a minimum").
package train
