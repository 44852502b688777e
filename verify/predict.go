package verify

import (
	"errors"
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/stationary"
)

// Setup is what the Gaussian predictions need at a minimum θ*: the set-up in the comparison
// basis (stationary.Dense for small d, stationary.TopK for large d), η, κ_B and N.
type Setup struct {
	*stationary.Minimum
	// LR is η, Kappa κ_B, N the number of examples.
	LR, Kappa float64
	N         int
}

// PredictSettings selects which predictions to make.
type PredictSettings struct {
	// Inverse configures the inverse of C_B in the note's precision (damping or range).
	Inverse linalg.InverseSettings
	// SGLD adds the SGLD predictions (sgld_discrete, sgld_exact with LS).
	SGLD bool
	// LS, if non-nil, adds the exact least-squares prediction (linear_exact, and sgld_exact
	// with SGLD).
	LS *stationary.LeastSquares
}

// Predictions returns the predicted stationary covariances in the basis of s (MATH.md §6,
// §9): seed (the note's), continuous, discrete, posterior, plus linear_exact, sgld_discrete and
// sgld_exact where they apply. A prediction that does not exist here has a nil Cov and a
// reason; an unstable learning rate (ηλ ≥ 2 along some direction) is an error.
func Predictions(s *Setup, ps PredictSettings) ([]Prediction, []string, error) {
	var warn []string
	var preds []Prediction
	note, w, err := stationary.NoteCovariance(s.H, s.CB, s.LR, &ps.Inverse)
	warn = append(warn, w...)
	switch {
	case err != nil:
		var rd *linalg.RankDeficientError
		if errors.As(err, &rd) {
			return nil, warn, fmt.Errorf("the seed prediction needs C_B⁻¹: %w", err)
		}
		preds = append(preds, Prediction{Name: stationary.PredNote, Why: err.Error()})
	case note.Cov == nil:
		// stationary.NoteCovariance has warned, with the smallest eigenvalue.
		preds = append(preds, Prediction{Name: stationary.PredNote, Why: "the symmetric part of the seed precision (2/η)C_B⁻¹H is not positive definite", Reported: true})
	default:
		preds = append(preds, Prediction{Name: stationary.PredNote, Cov: note.Cov})
	}
	var cont mat.SymDense
	if err := stationary.ContinuousLyapunov(&cont, s.H, s.CB, s.LR); err != nil {
		preds = append(preds, Prediction{Name: stationary.PredContinuous, Why: err.Error()})
	} else {
		preds = append(preds, Prediction{Name: stationary.PredContinuous, Cov: &cont})
	}
	var disc mat.SymDense
	if err := stationary.DiscreteLyapunov(&disc, s.H, s.CB, s.LR); err != nil {
		var ue *stationary.UnstableError
		if errors.As(err, &ue) {
			return nil, warn, err
		}
		preds = append(preds, Prediction{Name: stationary.PredDiscrete, Why: err.Error()})
	} else {
		preds = append(preds, Prediction{Name: stationary.PredDiscrete, Cov: &disc})
	}
	var post mat.SymDense
	if err := stationary.LaplaceCovariance(&post, s.H, s.N); err != nil {
		preds = append(preds, Prediction{Name: stationary.PredPosterior, Why: err.Error()})
	} else {
		preds = append(preds, Prediction{Name: stationary.PredPosterior, Cov: &post})
	}
	if ps.SGLD {
		var sg mat.SymDense
		if err := stationary.SGLDDiscreteLyapunov(&sg, s.H, s.CB, s.LR, s.N); err != nil {
			preds = append(preds, Prediction{Name: stationary.PredSGLDDiscrete, Why: err.Error()})
		} else {
			preds = append(preds, Prediction{Name: stationary.PredSGLDDiscrete, Cov: &sg})
		}
	}
	if ps.LS != nil {
		exact := func(name string, f func(*mat.SymDense, mat.Matrix, float64, float64, float64, mat.Symmetric, *stationary.ExactSettings) error) {
			var full mat.SymDense
			if err := f(&full, ps.LS.X, ps.LS.Lambda, s.LR, s.Kappa, ps.LS.C, nil); err != nil {
				preds = append(preds, Prediction{Name: name, Why: err.Error()})
				return
			}
			preds = append(preds, Prediction{Name: name, Cov: stationary.Project(&full, s.Basis)})
		}
		exact(stationary.PredLinearExact, stationary.ExactLeastSquares)
		if ps.SGLD {
			exact(stationary.PredSGLDExact, stationary.ExactLeastSquaresSGLD)
		}
	}
	return preds, warn, nil
}
