package score

import (
	"fmt"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"

	"github.com/sgdprior/sgdprior/linalg"
	"github.com/sgdprior/sgdprior/model"
)

// TestCovTangentsSource checks modelSource.covTangents, ∂_u(C x) from the model's exact
// tangent with the source's scale and centring, against the central difference of the
// covariance product the product rule used before (MulMulT of the factor at θ ± hu), on all
// examples and on a covariance subset (scale (N−1)/(N(M−1)), ḡ of the subset). h = 1e-5
// relative to ‖θ‖ bounds the difference's error by ≈ 1e-9 (truncation) plus round-off:
// 1e-6 relative (measured 1.9e-8 to 1.2e-7; dropping the centring term fails by 0.16).
func TestCovTangentsSource(t *testing.T) {
	rnd := newRand(31)
	n, p := 300, 5
	b := classData(rnd, n, p, 3)
	m := mustModel(t, "mlp:6", p, 3, model.Options{})
	d := m.NumParams()
	theta := randTheta(rnd, d, 0.5)
	us := [][]float64{randTheta(rnd, d, 1), randTheta(rnd, d, 1)}
	xs := [][]float64{randTheta(rnd, d, 1), randTheta(rnd, d, 1)}
	for _, subset := range []int{0, 120} {
		src := newModelSource(m, b, 1e-3, subset, 5)
		dst := make([][]float64, len(us)*len(xs))
		for q := range dst {
			dst[q] = make([]float64, d)
		}
		if !src.hasCovTangents() {
			t.Fatal("an mlp source has no exact tangent")
		}
		src.covTangents(dst, theta, us, xs)
		h := 1e-5 * floats.Norm(theta, 2)
		for k, u := range us {
			tp, tm := make([]float64, d), make([]float64, d)
			floats.AddScaledTo(tp, theta, h, u)
			floats.AddScaledTo(tm, theta, -h, u)
			fp, fm := src.factorOnce(tp), src.factorOnce(tm)
			for j, x := range xs {
				a, c := make([]float64, d), make([]float64, d)
				linalg.MulMulT(fp, a, make([]float64, fp.Cols()), x, 1)
				linalg.MulMulT(fm, c, make([]float64, fm.Cols()), x, 1)
				for i := range a {
					a[i] = (a[i] - c[i]) / (2 * h)
				}
				checkVec(t, fmt.Sprintf("∂_u(C x), subset %d", subset), dst[k*len(xs)+j], a, 1e-6)
			}
		}
	}
}

// TestAsymmetryExactTangent: the asymmetry estimate (probes, CG solver, with the
// divergence) from the exact tangent agrees with the one from central differences of C x
// (noExactTangent), whose step h = 1e-5·‖θ‖ leaves an error of order h² relative to the
// Jacobian products: 1e-5 relative, far above the measured 4.7e-10 but far below what a
// wrong right-hand side gives (κ_B's term scaled by 1.001 moves the estimate by 6e-4). The
// method line says which was used.
func TestAsymmetryExactTangent(t *testing.T) {
	rnd := newRand(8)
	n, p := 200, 6
	b := classData(rnd, n, p, 3)
	m := mustModel(t, "mlp:8", p, 3, model.Options{})
	theta := randTheta(rnd, m.NumParams(), 0.5)
	set := DefaultSettings()
	set.LR, set.Batch, set.Solver, set.TopK = 0.1, 16, SolverCG, 3
	set.Inverse.Damping, set.Divergence = 1e-4, true
	set.AsymmetryProbes, set.PreconditionerExamples = 6, 50
	exact, err := ComputeModel(ModelProblem{Model: m, Batch: b}, theta, &set)
	if err != nil {
		t.Fatal(err)
	}
	noExactTangent = true
	defer func() { noExactTangent = false }()
	fd, err := ComputeModel(ModelProblem{Model: m, Batch: b}, theta, &set)
	if err != nil {
		t.Fatal(err)
	}
	checkScalar(t, "asymmetry seed, exact against central differences", *exact.Diagnostics.AsymmetryNote, *fd.Diagnostics.AsymmetryNote, 1e-5)
	checkScalar(t, "asymmetry general, exact against central differences", *exact.Diagnostics.AsymmetryGeneral, *fd.Diagnostics.AsymmetryGeneral, 1e-5)
	for _, c := range []struct{ method, want string }{
		{exact.Diagnostics.AsymmetryMethod, "H u and ∂_u C exact (R-operator), ∂_u ∇·C by central differences with step"},
		{fd.Diagnostics.AsymmetryMethod, "central differences with step"},
	} {
		if !strings.Contains(c.method, c.want) {
			t.Errorf("method %q, want it to contain %q", c.method, c.want)
		}
	}
}
