package verify

import (
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/score"
	"github.com/sgdprior/sgdprior/stationary"
)

// ExactFieldMaxDim bounds d for evaluating the exact score fields at the samples (each
// evaluation of the note's field forms and inverts C_B(θ)).
const ExactFieldMaxDim = 100

// ExactFields gives the note's ("seed") and posterior predictions their exact score fields (MATH.md §7:
// "s_pred the exact field, not its linearization") in basis coordinates x = Vᵀ(θ − θ*),
// evaluated at θ = θ* + Vx:
//   - seed: the note's stationary score (stationary.StationaryScoreAt)
//     −(2/η) C_B(θ)⁻¹ ∇L(θ), with C_B(θ) = κ_B C(θ) recomputed at θ and inverted with the
//     settings inv (a point where it cannot be inverted gives NaN, which makes the score
//     error NaN);
//   - posterior: the score of exp(−N L), −N ∇L(θ) (stationary.PosteriorScore).
//
// The other predictions are Gaussian, so their Gaussian fields are exact.
func ExactFields(preds []Prediction, obj model.Objective, b model.Batch, theta []float64, v *mat.Dense, lr, kappa float64, inv linalg.InverseSettings) {
	d, k := v.Dims()
	th := make([]float64, d)
	grad := make([]float64, d)
	f := make([]float64, d)
	// toTheta sets th = θ* + Vx; fromTheta writes Vᵀf into dst.
	toTheta := func(x []float64) {
		copy(th, theta)
		for i := 0; i < d; i++ {
			for j := 0; j < k; j++ {
				th[i] += v.At(i, j) * x[j]
			}
		}
	}
	fromTheta := func(dst []float64) {
		for j := 0; j < k; j++ {
			var sum float64
			for i := 0; i < d; i++ {
				sum += v.At(i, j) * f[i]
			}
			dst[j] = sum
		}
	}
	for i := range preds {
		switch preds[i].Name {
		case stationary.PredNote:
			preds[i].Score = func(dst, x []float64) {
				toTheta(x)
				obj.Loss(grad, th, b)
				c := score.GradCovariance(obj.Model, b, th)
				c.ScaleSym(kappa, c)
				if err := stationary.StationaryScoreAt(f, grad, c, lr, &inv); err != nil {
					for j := range dst {
						dst[j] = math.NaN()
					}
					return
				}
				fromTheta(dst)
			}
		case stationary.PredPosterior:
			preds[i].Score = func(dst, x []float64) {
				toTheta(x)
				obj.Loss(grad, th, b)
				stationary.PosteriorScore(f, grad, b.Len())
				fromTheta(dst)
			}
		}
	}
}
