package verify

import (
	"errors"
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/stationary"
)

// Setup is what the Gaussian predictions need at a minimum θ*, in the comparison basis:
// H's eigenvectors with positive curvature (all of them for small d, after removing null
// directions; the top k for large d).
type Setup struct {
	// Basis is the d×k orthonormal comparison basis V.
	Basis *mat.Dense
	// Curvatures are H's eigenvalues along Basis (decreasing); H = diag(Curvatures).
	Curvatures []float64
	// H and CB are VᵀHV and VᵀC_B V (k×k).
	H, CB *mat.SymDense
	// LR is η, Kappa κ_B, N the number of examples.
	LR, Kappa float64
	N         int
	// Full reports whether Basis spans every direction with positive curvature (dense H);
	// false for a top-k subspace.
	Full bool
	// Null, Flat, Negative count removed directions (see stationary.Reduction).
	Null, Flat, Negative int
}

// LeastSquares describes a linear least-squares problem (linreg) for the exact predictions
// of MATH.md §6: X includes the constant column of the bias, Y the targets, both already
// divided by σ; Lambda is the weight decay; C is C(θ*) in the parameter basis.
type LeastSquares struct {
	X      *mat.Dense
	Lambda float64
	C      *mat.SymDense
}

// PredictSettings selects which predictions to make.
type PredictSettings struct {
	// Inverse configures the inverse of C_B in the seed precision (damping or range).
	Inverse linalg.Settings
	// SGLD adds the SGLD predictions (sgld_discrete, sgld_exact with LS).
	SGLD bool
	// LS, if non-nil, adds the exact least-squares prediction (linear_exact, and sgld_exact
	// with SGLD).
	LS *LeastSquares
}

// Predictions returns the predicted stationary covariances in the basis of s (MATH.md §6,
// §9): seed, continuous, discrete, posterior, plus linear_exact, sgld_discrete and
// sgld_exact where they apply. A prediction that does not exist here has a nil Cov and a
// reason; an unstable learning rate (ηλ ≥ 2 along some direction) is an error.
func Predictions(s *Setup, ps PredictSettings) ([]Prediction, []string, error) {
	var warn []string
	var preds []Prediction
	seed, w, err := stationary.SeedCovariance(s.H, s.CB, s.LR, &ps.Inverse)
	warn = append(warn, w...)
	switch {
	case err != nil:
		var rd *linalg.RankDeficientError
		if errors.As(err, &rd) {
			return nil, warn, fmt.Errorf("the seed prediction needs C_B⁻¹: %w", err)
		}
		preds = append(preds, Prediction{Name: "seed", Why: err.Error()})
	case seed.Cov == nil:
		// stationary.SeedCovariance has warned, with the smallest eigenvalue.
		preds = append(preds, Prediction{Name: "seed", Why: "the symmetric part of the seed precision (2/η)C_B⁻¹H is not positive definite", Reported: true})
	default:
		preds = append(preds, Prediction{Name: "seed", Cov: seed.Cov})
	}
	var cont mat.SymDense
	if err := stationary.ContinuousLyapunov(&cont, s.H, s.CB, s.LR); err != nil {
		preds = append(preds, Prediction{Name: "continuous", Why: err.Error()})
	} else {
		preds = append(preds, Prediction{Name: "continuous", Cov: &cont})
	}
	var disc mat.SymDense
	if err := stationary.DiscreteLyapunov(&disc, s.H, s.CB, s.LR); err != nil {
		var ue *stationary.UnstableError
		if errors.As(err, &ue) {
			return nil, warn, err
		}
		preds = append(preds, Prediction{Name: "discrete", Why: err.Error()})
	} else {
		preds = append(preds, Prediction{Name: "discrete", Cov: &disc})
	}
	var post mat.SymDense
	if err := stationary.LaplaceCovariance(&post, s.H, s.N); err != nil {
		preds = append(preds, Prediction{Name: "posterior", Why: err.Error()})
	} else {
		preds = append(preds, Prediction{Name: "posterior", Cov: &post})
	}
	if ps.SGLD {
		var sg mat.SymDense
		if err := stationary.SGLDDiscreteLyapunov(&sg, s.H, s.CB, s.LR, s.N); err != nil {
			preds = append(preds, Prediction{Name: "sgld_discrete", Why: err.Error()})
		} else {
			preds = append(preds, Prediction{Name: "sgld_discrete", Cov: &sg})
		}
	}
	if ps.LS != nil {
		exact := func(name string, f func(*mat.SymDense, mat.Matrix, float64, float64, float64, mat.Symmetric, *stationary.ExactSettings) error) {
			var full mat.SymDense
			if err := f(&full, ps.LS.X, ps.LS.Lambda, s.LR, s.Kappa, ps.LS.C, nil); err != nil {
				preds = append(preds, Prediction{Name: name, Why: err.Error()})
				return
			}
			preds = append(preds, Prediction{Name: name, Cov: project(&full, s.Basis)})
		}
		exact("linear_exact", stationary.ExactLeastSquares)
		if ps.SGLD {
			exact("sgld_exact", stationary.ExactLeastSquaresSGLD)
		}
	}
	return preds, warn, nil
}

// project returns VᵀAV.
func project(a mat.Symmetric, v *mat.Dense) *mat.SymDense {
	var t, p mat.Dense
	t.Mul(a, v)
	p.Mul(v.T(), &t)
	return symmetrize(&p)
}

// Unproject returns V S Vᵀ (d×d) for S in the basis V.
func Unproject(s mat.Symmetric, v *mat.Dense) *mat.SymDense {
	var t, p mat.Dense
	t.Mul(v, s)
	p.Mul(&t, v.T())
	return symmetrize(&p)
}

// symmetrize returns (P + Pᵀ)/2 of a square P, removing rounding asymmetry.
func symmetrize(p *mat.Dense) *mat.SymDense {
	n, _ := p.Dims()
	out := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			out.SetSym(i, j, 0.5*(p.At(i, j)+p.At(j, i)))
		}
	}
	return out
}
