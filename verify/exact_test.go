package verify

import (
	"context"
	"math"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/internal/synth"
	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/model"
	"github.com/sgdprior/sgdprior/train"
)

// TestExactFields checks the exact score fields verify evaluates at the samples against
// computations written here: on linear regression the posterior's field −N∇L is exactly
// the Gaussian field −N·H·x, and the note's field is −(2/η)VᵀC_B(θ)⁻¹∇L(θ) with C_B(θ)
// formed from a naive loop over per-example gradients and inverted by LU.
func TestExactFields(t *testing.T) {
	ds := synth.Linear(synth.LinearSettings{N: 80, Eigenvalues: []float64{2, 1, 0.5}, Hetero: 1, Seed: 4})
	m, err := model.New("linreg", 3, 0, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := model.Batch{X: ds.X, Y: ds.Y}
	obj := model.Objective{Model: m, WeightDecay: 0.05}
	theta := make([]float64, 4)
	if _, err := train.Minimize(context.Background(), obj, b, theta, train.Settings{}); err != nil {
		t.Fatal(err)
	}
	lr, kappa := 0.1, 0.2
	st, _, err := minimumAt(obj, b, theta, kappa, true, 0, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	preds := []Prediction{{Name: "seed"}, {Name: "posterior"}}
	ExactFields(preds, obj, b, theta, st.Basis, lr, kappa, linalg.InverseSettings{})
	x := []float64{0.05, -0.1, 0.02, 0.07}
	got := make([]float64, 4)
	// Posterior: −N·diag(h)·x in the eigenbasis.
	preds[1].Score(got, x)
	for j := range x {
		want := -80 * st.Curvatures[j] * x[j]
		if math.Abs(got[j]-want) > 1e-9*math.Abs(want) {
			t.Errorf("posterior field[%d] = %.12g, want %.12g", j, got[j], want)
		}
	}
	// The note's: brute force.
	th := append([]float64(nil), theta...)
	for i := range th {
		for j := range x {
			th[i] += st.Basis.At(i, j) * x[j]
		}
	}
	g := mat.NewDense(80, 4, nil)
	m.PerExampleGrads(g, th, b)
	mean := make([]float64, 4)
	for i := 0; i < 80; i++ {
		floats.AddScaled(mean, 1.0/80, g.RawRowView(i))
	}
	c := mat.NewDense(4, 4, nil)
	for i := 0; i < 80; i++ {
		for p := 0; p < 4; p++ {
			for q := 0; q < 4; q++ {
				c.Set(p, q, c.At(p, q)+kappa*(g.At(i, p)-mean[p])*(g.At(i, q)-mean[q])/80)
			}
		}
	}
	var ci mat.Dense
	if err := ci.Inverse(c); err != nil {
		t.Fatal(err)
	}
	grad := make([]float64, 4)
	obj.Loss(grad, th, b)
	var f, fb mat.VecDense
	f.MulVec(&ci, mat.NewVecDense(4, grad))
	f.ScaleVec(-2/lr, &f)
	fb.MulVec(st.Basis.T(), &f)
	preds[0].Score(got, x)
	for j := range got {
		if math.Abs(got[j]-fb.AtVec(j)) > 1e-8*floats.Norm(fb.RawVector().Data, 2) {
			t.Errorf("seed field[%d] = %.12g, want %.12g", j, got[j], fb.AtVec(j))
		}
	}
}
