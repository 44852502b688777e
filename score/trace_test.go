package score

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/model"
)

// TestCovTraceFactorised checks modelSource.covTrace, from the factorised gradient norms
// and Σ‖g_i − ḡ‖² = Σ‖g_i‖² − M‖ḡ‖², against the trace of the dense covariance of the
// materialised centred gradients (denseCov), on all examples and on a subset: 1e-12
// relative (round-off of sums of 300 terms; measured 0 and 6.3e-16). With all gradients equal (a
// constant input row and one label) the identity would cancel to round-off of Σ‖g_i‖²:
// the trace must be the sum of the materialised centred gradients instead (bitwise, and
// at the round-off of the mean, 1e-29 here, far below Σ‖g_i‖²).
func TestCovTraceFactorised(t *testing.T) {
	rnd := newRand(41)
	n, p := 300, 5
	b := classData(rnd, n, p, 3)
	m := mustModel(t, "mlp:6", p, 3, model.Options{})
	d := m.NumParams()
	theta := randTheta(rnd, d, 0.5)
	for _, subset := range []int{0, 120} {
		src := newModelSource(m, b, 1e-3, subset, 5)
		var c mat.SymDense
		src.denseCov(&c, theta)
		want := mat.Trace(&c)
		got := src.covTrace(theta)
		if e := math.Abs(got-want) / want; !(e <= 1e-12) {
			t.Errorf("subset %d: tr C = %v, dense %v (relative error %.2g)", subset, got, want, e)
		}
	}
	same := model.Batch{X: mat.NewDense(n, p, nil), Y: make([]float64, n)}
	for i := 0; i < n; i++ {
		for j := 0; j < p; j++ {
			same.X.Set(i, j, 0.3+0.1*float64(j))
		}
	}
	src := newModelSource(m, same, 0, 0, 5)
	var want, sq float64
	centredChunks(src.m, src.sub, theta, func(_ int, a *mat.Dense) {
		r, _ := a.Dims()
		for i := 0; i < r; i++ {
			row := a.RawRowView(i)
			want += floats.Dot(row, row)
		}
	})
	want *= src.scale
	norms := make([]float64, n)
	m.(*model.Network).PerExampleGradNorms(norms, theta, same)
	for _, v := range norms {
		sq += v * v
	}
	if got := src.covTrace(theta); got != want || !(got < 1e-12*sq) {
		t.Errorf("equal gradients: tr C = %v, want the centred sum %v (Σ‖g_i‖² = %v)", got, want, sq)
	}
}
