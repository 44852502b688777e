package main

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/problem"
	"github.com/sgdprior/sgdprior/score"
	"github.com/sgdprior/sgdprior/stationary"
	"github.com/sgdprior/sgdprior/verify"
)

// minSetup is a verify.Setup with the warnings of building it.
type minSetup struct {
	*verify.Setup
	warnings []string
}

// centre subtracts each column's mean.
func centre(g *mat.Dense) {
	n, d := g.Dims()
	for j := 0; j < d; j++ {
		var mean float64
		for i := 0; i < n; i++ {
			mean += g.At(i, j)
		}
		mean /= float64(n)
		for i := 0; i < n; i++ {
			g.Set(i, j, g.At(i, j)-mean)
		}
	}
}

// minimumSetup builds the comparison basis at θ*: with full, H's positive-curvature
// eigenvectors from the dense Hessian (null directions removed); otherwise the top-k
// eigenvectors of H by Lanczos on Hessian–vector products. C_B = κ_B C is projected on the
// basis, with C from the same examples as H.
func minimumSetup(obj model.Objective, b model.Batch, theta []float64, lr, kappa float64, full bool, k int, seed uint64) (*minSetup, error) {
	n, d := b.Len(), len(theta)
	s := &verify.Setup{LR: lr, Kappa: kappa, N: n, Full: full}
	out := &minSetup{Setup: s}
	if full {
		h := score.DenseHessian(score.HessianOperator{Objective: obj, Batch: b, Theta: theta})
		c := score.GradCovariance(obj.Model, b, theta)
		c.ScaleSym(kappa, c)
		red, w, err := stationary.ReduceNull(h, c, 0)
		out.warnings = append(out.warnings, w...)
		if err != nil {
			return nil, err
		}
		if red.Null > 0 {
			out.warnings = append(out.warnings, fmt.Sprintf("%d null direction(s) (no curvature, no noise: exact symmetries) removed", red.Null))
		}
		s.Basis, s.Curvatures, s.H, s.CB = red.Basis, red.Curvatures, red.H, red.C
		s.Null, s.Flat, s.Negative = red.Null, red.Flat, red.Negative
		return out, nil
	}
	if k > d {
		k = d
	}
	vals := make([]float64, k)
	vecs := mat.NewDense(d, k, nil)
	if _, err := linalg.Lanczos(vals, vecs, score.HessianOperator{Objective: obj, Batch: b, Theta: theta}, rand.NewPCG(seed, 0x1a4c20), nil); err != nil {
		return nil, fmt.Errorf("top-%d Hessian eigenvectors: %v", k, err)
	}
	// Keep the positive-curvature ones.
	var keep []int
	for j, v := range vals {
		if v > 0 {
			keep = append(keep, j)
		} else {
			s.Negative++
		}
	}
	if len(keep) == 0 {
		return nil, fmt.Errorf("no direction of positive curvature among the top %d Hessian eigenvalues", k)
	}
	if s.Negative > 0 {
		out.warnings = append(out.warnings, fmt.Sprintf("%d of the top-%d Hessian eigenvalues are ≤ 0: not a minimum; those directions are dropped", s.Negative, k))
	}
	kk := len(keep)
	s.Basis = mat.NewDense(d, kk, nil)
	s.Curvatures = make([]float64, kk)
	s.H = mat.NewSymDense(kk, nil)
	for j, i := range keep {
		s.Basis.SetCol(j, mat.Col(nil, i, vecs))
		s.Curvatures[j] = vals[i]
		s.H.SetSym(j, j, vals[i])
	}
	// VᵀC_B V from the projected per-example gradients G V (n×k), via g_i·v products.
	gv := mat.NewDense(n, kk, nil)
	col := make([]float64, n)
	v := make([]float64, d)
	for j := 0; j < kk; j++ {
		mat.Col(v, j, s.Basis)
		obj.Model.GradDot(col, theta, b, v)
		gv.SetCol(j, col)
	}
	centre(gv)
	s.CB = mat.NewSymDense(kk, nil)
	s.CB.SymOuterK(kappa/float64(n), gv.T())
	return out, nil
}

// leastSquaresOf describes linreg at θ* for the exact least-squares prediction: the
// design matrix with its constant bias column and the targets, divided by σ, and
// C(θ*) computed from those (MATH.md §6, with ℓ = ½((x_iᵀθ − y_i)/σ)²).
func leastSquaresOf(pr *problem.Problem, theta []float64, lambda, sigma float64) *verify.LeastSquares {
	n, p := pr.Data.Len(), pr.Data.NumFeatures()
	x := mat.NewDense(n, p+1, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		for j := 0; j < p; j++ {
			x.Set(i, j, pr.Data.X.At(i, j)/sigma)
		}
		x.Set(i, p, 1/sigma)
		y[i] = pr.Data.Y[i] / sigma
	}
	c := mat.NewSymDense(p+1, nil)
	stationary.LeastSquaresNoise(c, x, y, theta)
	return &verify.LeastSquares{X: x, Lambda: lambda, C: c}
}

// exactFieldMaxDim bounds d for evaluating the exact score fields at the samples (each
// evaluation of the note's field forms and inverts C_B(θ)).
const exactFieldMaxDim = 100

// setExactFields gives the seed and posterior predictions their exact score fields
// (MATH.md §7: "s_pred the exact field, not its linearization") in basis coordinates
// x = Vᵀ(θ − θ*), evaluated at θ = θ* + Vx:
//   - seed: the note's stationary score 2D⁻¹μ = −(2/η) C_B(θ)⁻¹ ∇L(θ), with C_B(θ) recomputed
//     at θ and inverted with the command's damping or range settings (a point where it cannot
//     be inverted gives NaN, which makes the score error NaN);
//   - posterior: the score of exp(−N L), −N ∇L(θ).
//
// The other predictions are Gaussian, so their Gaussian fields are exact.
func setExactFields(preds []verify.Prediction, obj model.Objective, b model.Batch, theta []float64, v *mat.Dense, lr, kappa float64, inv linalg.Settings) {
	d, k := v.Dims()
	n := float64(b.Len())
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
		case "seed":
			preds[i].Score = func(dst, x []float64) {
				toTheta(x)
				obj.Loss(grad, th, b)
				c := score.GradCovariance(obj.Model, b, th)
				c.ScaleSym(kappa, c)
				ci, err := linalg.NewDenseInverse(c, &inv)
				if err == nil {
					err = ci.Solve(f, grad)
				}
				if err != nil {
					for j := range dst {
						dst[j] = math.NaN()
					}
					return
				}
				for i := range f {
					f[i] *= -2 / lr
				}
				fromTheta(dst)
			}
		case "posterior":
			preds[i].Score = func(dst, x []float64) {
				toTheta(x)
				obj.Loss(grad, th, b)
				for i := range f {
					f[i] = -n * grad[i]
				}
				fromTheta(dst)
			}
		}
	}
}
